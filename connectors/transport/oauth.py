"""One OAuth2 bearer-token helper for every service the hub calls, built on authlib.

Contract:
- ``BearerToken(fetch)``: ``fetch()`` returns an authlib ``OAuth2Token`` (``access_token``, and
  ``expires_in`` in seconds when the service names one, else ``default_lifetime`` counts). The
  token is fetched when first needed and again once ``renew_at`` (80 %) of its lifetime has
  passed, so it never expires in the middle of a run; one fetch at a time, shared by every thread
  using the client. The lifetime runs on a monotonic clock: authlib's ``expires_at`` and
  ``is_expired`` are wall-clock whole seconds, and a wall-clock jump must neither expire nor
  extend a token;
- ``BearerToken.stored(access_token)``: a token obtained elsewhere (Order Manager's app install)
  that this helper cannot renew: it never expires here, and a 401 is final;
- ``send(call, rejected=...)`` calls ``call(headers)`` with ``Authorization: Bearer <token>`` (the
  RFC 6750 header, written by authlib). An ``AuthenticationError`` with status 401 drops the
  token and, when it can be renewed, calls once more with a fresh one; the call's last
  ``AuthenticationError`` is raised as ``rejected(exc)`` words it (None: as it came). Errors of
  ``fetch`` itself (a refused token request) propagate unchanged;
- ``basic_authorization(client_id, client_secret)``: ``Basic base64(client_id:client_secret)``,
  the client authentication both token endpoints take;
- ``authorization_code_grant(http, token_url, ...)``: the code exchange of RFC 6749 section 4.1.3
  as authlib's ``OAuth2Client`` builds it (a form body of ``grant_type``, ``redirect_uri``,
  ``code``; the client in Basic), sent through the hub's ``HttpClient`` as one POST that is not
  re-sent on a 5xx or a lost answer (a code is single-use); the ``Answer`` is the caller's to
  judge, since each service words its refusals itself.
"""

from __future__ import annotations

import base64
import math
import threading
import time
from collections.abc import Callable, Collection, Mapping
from typing import NoReturn, TypeVar

from authlib.oauth2 import OAuth2Client
from authlib.oauth2.rfc6749 import OAuth2Token
from authlib.oauth2.rfc6750 import add_bearer_token

from connectors.errors import AuthenticationError, ConnectorError, MalformedResponse
from connectors.shapes import finite_number
from connectors.transport.answer import Answer
from connectors.transport.client import HttpClient
from connectors.transport.json_body import parse_json

__all__ = ["BearerToken", "authorization_code_grant", "basic_authorization"]

T = TypeVar("T")

# The cache's clock (monotonic: see the module docstring). Tests move it.
_clock = time.monotonic

RENEW_AT = 0.8  # share of a token's lifetime after which it is renewed
DEFAULT_LIFETIME = 1800.0  # seconds, for a token answer without expires_in


def token_from_answer(response: Answer, *, service: str, path: str, default_lifetime: float) -> OAuth2Token:
    """The bearer token of a token endpoint's JSON answer: a non-blank `access_token` and a
    positive `expires_in` in seconds (a digit string is read as a number; absent or null is
    `default_lifetime`). Anything else is `MalformedResponse` naming the service and the field."""
    data = parse_json(response, service=service, method="POST", path=path)
    token = data.get("access_token") if isinstance(data, Mapping) else None
    if not isinstance(token, str) or not token.strip():
        raise MalformedResponse(
            f"{service}'s token answer has no access_token.", status=response.status_code, method="POST", path=path
        )
    expires_in = data.get("expires_in")
    if expires_in is None:
        expires_in = default_lifetime
    if isinstance(expires_in, str) and expires_in.strip().isdigit():
        expires_in = int(expires_in)
    if not finite_number(expires_in) or expires_in <= 0:
        raise MalformedResponse(
            f"{service}'s token answer has an invalid expires_in ({expires_in!r}).",
            status=response.status_code,
            method="POST",
            path=path,
        )
    return OAuth2Token(dict(data, access_token=token, expires_in=float(expires_in)))


def basic_authorization(client_id: str, client_secret: str) -> str:
    """``Basic base64(client_id:client_secret)``, UTF-8 (RFC 7617 section 2.1).

    authlib's own ``client_secret_basic`` encodes latin-1, which fails on other characters and
    differs from what the hub has always sent for any non-ASCII one; this is that method in UTF-8.
    """
    return "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")


def _client_secret_basic(client, method, uri, headers, body):
    """authlib client-auth method (``ClientAuth.prepare``'s signature) writing ``basic_authorization``."""
    headers["Authorization"] = basic_authorization(client.client_id, client.client_secret)
    return uri, headers, body


class BearerToken:
    """One service's bearer token (see the module docstring). Thread-safe; never shows the token."""

    def __init__(
        self,
        fetch: Callable[[], OAuth2Token] | None = None,
        *,
        token: OAuth2Token | None = None,
        renew_at: float = RENEW_AT,
        default_lifetime: float = DEFAULT_LIFETIME,
    ) -> None:
        if fetch is None and token is None:
            raise ValueError("a BearerToken needs a way to fetch a token or a stored one")
        self._fetch = fetch
        self._renew_at = renew_at
        self._default_lifetime = default_lifetime
        self._lock = threading.Lock()
        self._token: OAuth2Token | None = None
        self._renew_after = 0.0  # _clock() deadline
        if token is not None:
            self._keep(token, lifetime=math.inf if fetch is None else None)

    @classmethod
    def stored(cls, access_token: str) -> BearerToken:
        """A token obtained elsewhere (empty: none is configured); never renewed, a 401 is final."""
        return cls(token=OAuth2Token({"access_token": access_token or "", "token_type": "bearer"}))

    def __repr__(self) -> str:
        return f"BearerToken(renewable={self.renewable}, cached={self._token is not None})"

    @property
    def renewable(self) -> bool:
        """Whether a new token can be fetched (so a 401 is worth one more try)."""
        return self._fetch is not None

    @property
    def configured(self) -> bool:
        """False for a stored token that is empty: no call can be authorized."""
        return self.renewable or bool(self._token and self._token.get("access_token"))

    # -- the token -----------------------------------------------------------------------
    def renew(self) -> OAuth2Token:
        """Fetch a new token now and keep it."""
        if self._fetch is None:
            raise AuthenticationError("The access token cannot be renewed: it was obtained outside the hub")
        with self._lock:
            return self._renew()

    def current(self) -> OAuth2Token:
        """The cached token, fetched first when there is none or it is due for renewal."""
        with self._lock:
            if self._token is not None and _clock() < self._renew_after:
                return self._token
            if self._fetch is None:
                raise AuthenticationError("No access token is configured")
            return self._renew()

    def drop(self, token: OAuth2Token) -> None:
        """Forget ``token`` (refused by the service), unless another thread has renewed it already."""
        if self._fetch is None:
            return  # nothing could replace it
        with self._lock:
            if self._token is not None and self._token.get("access_token") == token.get("access_token"):
                self._token = None

    def _renew(self) -> OAuth2Token:
        assert self._fetch is not None
        token = self._fetch()
        self._keep(token)
        return token

    def _keep(self, token: OAuth2Token, *, lifetime: float | None = None) -> None:
        if lifetime is None:
            expires_in = token.get("expires_in")
            lifetime = float(expires_in) if expires_in is not None else self._default_lifetime
        self._token = token
        self._renew_after = _clock() + lifetime * self._renew_at

    # -- authorized calls ----------------------------------------------------------------
    @staticmethod
    def headers_for(token: OAuth2Token) -> dict[str, str]:
        """``{"Authorization": "Bearer <access_token>"}`` for ``token``."""
        _, headers, _ = add_bearer_token(token["access_token"], "", {}, "", placement="header")
        return headers

    def send(
        self,
        call: Callable[[dict[str, str]], T],
        *,
        rejected: Callable[[AuthenticationError], ConnectorError | None] | None = None,
    ) -> T:
        """``call(headers)`` with the bearer token; one retry with a fresh token after a 401."""
        token = self.current()
        try:
            return call(self.headers_for(token))
        except AuthenticationError as exc:
            if exc.status != 401 or not self.renewable:
                _give_up(exc, rejected)
            self.drop(token)  # revoked or expired early: fetch a new one and try once more
        token = self.current()
        try:
            return call(self.headers_for(token))
        except AuthenticationError as exc:
            _give_up(exc, rejected)


def _give_up(exc: AuthenticationError, rejected) -> NoReturn:
    """Raise the call's last AuthenticationError, in the caller's words when ``rejected`` has some."""
    replacement = rejected(exc) if rejected is not None else None
    if replacement is None:
        raise exc
    raise replacement from exc


class _HttpClientSession:
    """The one session method authlib's ``OAuth2Client`` uses for a token request, over ``HttpClient``."""

    def __init__(self, http: HttpClient, ok_statuses: Collection[int]) -> None:
        self.http = http
        self.ok_statuses = ok_statuses

    def post(self, url, data=None, headers=None, auth=None, **_session_kwargs) -> Answer:
        headers = dict(headers or {})
        if auth is not None:  # authlib's ClientAuth: writes the client authentication into the headers
            url, headers, _ = auth.prepare("POST", url, headers, "")
        return self.http.request(
            "POST", url, data=data, headers=headers, ok_statuses=self.ok_statuses, idempotent=False
        )


class _CodeExchange(OAuth2Client):
    """authlib's OAuth2 client, handing the token endpoint's answer back unparsed."""

    def parse_response_token(self, resp):
        return resp


def authorization_code_grant(
    http: HttpClient,
    token_url: str,
    *,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
    ok_statuses: Collection[int] = (200,),
) -> Answer:
    """Exchange an authorization ``code`` at ``token_url`` (see the module docstring)."""
    client = _CodeExchange(
        _HttpClientSession(http, ok_statuses),
        client_id=client_id,
        client_secret=client_secret,
        token_endpoint_auth_method="client_secret_basic",
    )
    client.register_client_auth_method(("client_secret_basic", _client_secret_basic))
    return client.fetch_token(
        token_url,
        grant_type="authorization_code",
        code=code,
        redirect_uri=redirect_uri,
        headers={"Accept": "application/json"},
    )
