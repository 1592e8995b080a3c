"""Warehouse Manager's access token: the client-credentials request and its answer, read strictly.

Contract (docs/wire-protocols.md WMS-1):
- ``user_login_for(login_kind, user_login)`` checks how the token body names the user
  (``LOGIN_KINDS``) and gives the value to send; a wrong kind or a non-numeric id is ``ValueError``;
- ``request_token`` sends ``POST /AuthServer/api/Token`` with ``Authorization: Basic`` and returns
  an authlib ``OAuth2Token`` for ``connectors.transport.BearerToken`` to cache. A refusal
  (401/403/4xx) is ``AuthenticationError`` asking to check the credential; an answer without an
  ``access_token`` or with an unusable ``expires_in`` is ``MalformedResponse``; no ``expires_in``
  means ``DEFAULT_TOKEN_LIFETIME``.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Token

from connectors.errors import AuthenticationError, NotFound, RequestRejected
from connectors.transport import HttpClient, basic_authorization
from connectors.transport.oauth import token_from_answer

__all__ = [
    "DEFAULT_TOKEN_LIFETIME",
    "LOGIN_KINDS",
    "TOKEN_LIFETIME_SHARE",
    "TOKEN_PATH",
    "request_token",
    "user_login_for",
]

TOKEN_PATH = "/AuthServer/api/Token"
LOGIN_KINDS = ("user_login", "user_login_id")  # token-body field naming the user (docs/wire-protocols.md WMS-1)

# Refresh at ~80% of the token's life (the notes' advice) so a token never expires mid-run.
TOKEN_LIFETIME_SHARE = 0.8
# Help center: tokens live 30-60 min; used when the token answer has no expires_in.
DEFAULT_TOKEN_LIFETIME = 1800.0


def user_login_for(login_kind: str, user_login: str) -> str:
    """The user value the token body sends under ``login_kind`` (a numeric id is sent stripped)."""
    if login_kind not in LOGIN_KINDS:
        raise ValueError(f"login_kind must be one of {', '.join(LOGIN_KINDS)}")
    if login_kind == "user_login_id" and not str(user_login).strip().isdigit():
        raise ValueError("with login_kind user_login_id the user login must be a number (digits only)")
    return str(user_login).strip() if login_kind == "user_login_id" else user_login


def request_token(
    http: HttpClient,
    *,
    client_id: str,
    client_secret: str,
    login_kind: str,
    user_login: str,
    tpl_key: str = "",
) -> OAuth2Token:
    """``POST /AuthServer/api/Token``: a new bearer token.

    The body names the user by ``login_kind``: ``user_login`` (login name;
    Drewcrandall/ExtensivSharp Services/AuthenticationService.cs) or ``user_login_id``
    (numeric, sent as text like singer-io/tap-3plcentral tap_3plcentral/client.py and
    GT-Logistics/extensiv-client src/Authentication/AccessTokenAuthentication.php ``'1'``);
    airbytehq/airbyte source-tplcentral source.py sends whichever is configured. Only one of
    the two is sent. ``tpl_key`` is sent in braces, as those clients do.
    """
    body: dict[str, Any] = {"grant_type": "client_credentials", login_kind: user_login}
    if tpl_key:
        tpl = tpl_key.strip()
        body["tpl"] = tpl if tpl.startswith("{") else "{" + tpl + "}"
    try:
        response = http.request(
            "POST",
            TOKEN_PATH,
            json=body,
            headers={"Authorization": basic_authorization(client_id, client_secret), "Accept": "application/json"},
            ok_statuses=(200,),
        )
    except (AuthenticationError, RequestRejected, NotFound) as exc:
        raise AuthenticationError(
            "Warehouse Manager refused the client id / client secret"
            + (f" / {login_kind}" if user_login else "")
            + f" (HTTP {exc.status}); check the credential in the warehouse settings.",
            status=exc.status,
            body_excerpt=exc.body_excerpt,
            method="POST",
            path=TOKEN_PATH,
        ) from exc
    return token_from_answer(
        response, service="Warehouse Manager", path=TOKEN_PATH, default_lifetime=DEFAULT_TOKEN_LIFETIME
    )
