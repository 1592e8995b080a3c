"""Typed errors raised by the connector clients.

Every failure of an outside call ends as one of these, so a job only has to ask one question:
``exc.transient`` (retry later, honouring ``exc.retry_after``) or not (a person or a data fix is
needed). ``str(exc)`` is a plain-words message that is safe to show in the admin; the server's
answer is kept in ``body_excerpt``, already redacted and capped, never the raw body.
"""

from __future__ import annotations

from typing import Any

from connectors.redaction import excerpt, redact, strip_query

__all__ = [
    "ConnectorError",
    "TransientError",
    "PermanentError",
    "NetworkError",
    "ServerError",
    "RateLimited",
    "AuthenticationError",
    "NotFound",
    "RequestRejected",
    "MalformedResponse",
    "ResponseTooLarge",
]


class ConnectorError(Exception):
    """Base class. ``transient`` says whether the same call is worth retrying later."""

    transient: bool = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body_excerpt: str = "",
        method: str | None = None,
        path: str | None = None,
        retry_after: float | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        # Redacted here, whoever builds the error: a body may echo a password or a token back.
        self.body_excerpt = excerpt(body_excerpt or "")
        self.method = method.upper() if method else None
        # Query strings can carry codes or filters that do not belong in an audit trail.
        self.path = strip_query(path) if path else None
        self.retry_after = retry_after
        # Parsed error bodies keep their structure (per-item errors) but lose secret values.
        self.details = redact(details, max_chars=200_000) if details is not None else None

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        # A task queue (django-q2) pickles failed results. Exceptions unpickle by calling
        # ``type(self)(*args)``, which fails for a subclass whose ``__init__`` needs more than the
        # message and would redact and cap again what is already redacted and capped. One
        # rebuild for every subclass, whatever attributes it adds (``existing``, ``available``, ...).
        return (_rebuild, (type(self), self.message, dict(self.__dict__)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r})"


def _rebuild(cls, message, attributes):
    """The pickled error as it was: its attributes set back as they were, no ``__init__`` run."""
    exc = cls.__new__(cls)
    Exception.__init__(exc, message)
    exc.__dict__.update(attributes)
    return exc


class TransientError(ConnectorError):
    """Worth retrying later: the other side was unreachable, overloaded or briefly broken."""

    transient = True


class PermanentError(ConnectorError):
    """Retrying the same call will fail the same way: credentials, data or configuration."""

    transient = False


class NetworkError(TransientError):
    """Connect or read timeout, connection refused or reset, DNS failure."""


class ServerError(TransientError):
    """A 5xx answer that persisted through the HTTP layer's own retries."""


class RateLimited(TransientError):
    """429 that persisted through the layer's own retries; ``retry_after`` is in seconds."""


class AuthenticationError(PermanentError):
    """401/403 after one re-authentication, or credentials rejected by the token endpoint."""


class NotFound(PermanentError):
    """404: the resource does not exist (or is not visible to these credentials)."""


class RequestRejected(PermanentError):
    """Any other 4xx (400, 409, 412, 422...). ``details`` is the parsed JSON body or None."""


class MalformedResponse(PermanentError):
    """Invalid JSON, HTML where JSON was expected, an empty body, or JSON of the wrong shape."""


class ResponseTooLarge(MalformedResponse):
    """The answer's body was larger than the client's cap (``HttpClient.max_response_bytes``) and
    was not read. A paged read can ask again for fewer items a page; anything else cannot."""
