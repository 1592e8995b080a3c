"""Error mapping: every transport failure and unwanted status becomes one ``connectors.errors`` type.

Contract:
- ``transport_error(exc, ...)`` maps a ``requests`` exception (no answer, or none that could be
  read): a host refused by the private-address guard and an invalid request are
  ``PermanentError``; an undecodable body is ``MalformedResponse``; retries used up on 5xx is
  ``ServerError``; timeouts, refused or reset connections and DNS failures are ``NetworkError``;
- ``status_error(answer, ...)`` maps an answer whose status the caller did not accept: 401/403
  ``AuthenticationError`` (the caller decides whether to re-authenticate), 404 ``NotFound``, 429
  ``RateLimited`` with ``retry_after``, 5xx ``ServerError`` (``retry_after`` when the server
  named one), other 4xx ``RequestRejected`` with the parsed body in ``details``, anything else
  ``MalformedResponse``;
- messages are plain words naming the service, the method and the path (no host for statuses,
  never a query string), with the server's own message when its body has one; bodies reach the
  errors only through ``connectors.errors`` (redacted, capped).
"""

from __future__ import annotations

import json as jsonlib
from typing import Any
from urllib.parse import urlsplit

import requests
from requests_hardened.ip_filter import InvalidIPAddress
from urllib3.exceptions import ReadTimeoutError

from connectors.errors import (
    AuthenticationError,
    ConnectorError,
    MalformedResponse,
    NetworkError,
    NotFound,
    PermanentError,
    RateLimited,
    RequestRejected,
    ServerError,
)
from connectors.redaction import excerpt
from connectors.transport.records import causes, describe_transport_error
from connectors.transport.retry import DEFAULT_429_WAIT, retry_after_from_headers

__all__ = ["sentence_start", "server_message", "status_error", "transport_error"]


def sentence_start(service: str) -> str:
    """``Order Manager``, ``The server``: the service's name at the start of a sentence."""
    return service[:1].upper() + service[1:]


def server_message(details: Any) -> str:
    """A short human message from an error body such as ``{"message": "..."}``, if any."""
    if isinstance(details, dict):
        for key in ("message", "error_description", "error", "Message", "ErrorMessage", "detail"):
            value = details.get(key)
            if isinstance(value, str) and value.strip():
                return excerpt(value.strip(), 200)
    return ""


def transport_error(
    exc: requests.RequestException, *, service: str, method: str, path: str, url: str, timeout: tuple[float, float]
) -> ConnectorError:
    """The typed error for ``exc``, raised by ``method url`` (``path``: its host-less, query-less path)."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    where = f"{host}:{parts.port}" if parts.port else host
    common = {"method": method, "path": path}
    service_ = sentence_start(service)
    if any(isinstance(c, InvalidIPAddress) for c in causes(exc)):
        return PermanentError(
            f"Refused to connect to {service} at {host}: it resolves to a private, loopback or "
            "link-local address (allowed only for the sandbox)",
            **common,
        )
    if isinstance(
        exc,
        (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
            requests.exceptions.InvalidHeader,
        ),
    ):
        return PermanentError(f"Invalid request to {service}: {type(exc).__name__}", **common)
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return MalformedResponse(f"{service_} sent a body that could not be decoded for {method} {path}", **common)
    if isinstance(exc, requests.exceptions.RetryError):
        return ServerError(f"{service_} kept failing on {method} {path}", **common)
    # A GET whose read timeouts used up its retries arrives as ConnectionError(MaxRetryError(ReadTimeoutError)).
    if isinstance(exc, requests.exceptions.ReadTimeout) or any(isinstance(c, ReadTimeoutError) for c in causes(exc)):
        return NetworkError(f"{service_} at {where} did not answer {method} {path} within {timeout[1]:g} s", **common)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return NetworkError(f"Timed out connecting to {service} at {where} ({timeout[0]:g} s)", **common)
    reason = describe_transport_error(exc)
    return NetworkError(f"Could not reach {service} at {where} for {method} {path}: {reason}", **common)


def status_error(answer, *, service: str, method: str, path: str, attempts: int) -> ConnectorError:
    """The typed error for an ``Answer`` whose status was not accepted, after ``attempts`` attempts."""
    status = answer.status_code
    try:
        details = jsonlib.loads(answer.content) if answer.content else None
    except ValueError:
        details = None
    server_says = server_message(details)
    suffix = f": {server_says}" if server_says else ""
    common = {"status": status, "method": method, "path": path, "body_excerpt": answer.text or ""}
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    service_ = sentence_start(service)
    if status in (401, 403):
        return AuthenticationError(
            f"{service_} refused the credentials for {method} {path} (HTTP {status}){suffix}", **common
        )
    if status == 404:
        return NotFound(f"{service_} has nothing at {method} {path} (HTTP 404){suffix}", **common)
    if status == 429:
        wait = retry_after_from_headers(answer.headers)
        wait_text = f"; it asks to wait {wait:g} s" if wait is not None else ""
        return RateLimited(
            f"{service_} is rate limiting {method} {path} (HTTP 429){tries}{wait_text}",
            retry_after=wait if wait is not None else DEFAULT_429_WAIT,
            **common,
        )
    if status >= 500:
        return ServerError(
            f"{service_} failed on {method} {path} with HTTP {status}{tries}{suffix}",
            retry_after=retry_after_from_headers(answer.headers),
            **common,
        )
    if 400 <= status < 500:
        return RequestRejected(
            f"{service_} rejected {method} {path} (HTTP {status}){suffix}", details=details, **common
        )
    return MalformedResponse(f"{service_} answered {method} {path} with unexpected HTTP {status}", **common)
