"""Order Manager app install: the OAuth2 authorization-code flow that yields an access token.

Order Manager's only security scheme is OAuth2 authorization code (the vendor spec,
``components.securitySchemes.OAuth2.flows.authorizationCode``: ``https://app.skubana.com/oauth/authorize``
and ``https://app.skubana.com/oauth/token``). There is no password grant. The hub is an Order
Manager *app* with an app key and an app secret:

1. ``authorize_url`` sends the operator's browser to
   ``{auth_base}/oauth/authorize?client_id={appKey}&scope=...&redirect_uri=...&response_type=code&state=...``
   (skuvault-integrations/skubanaAccess ``src/SkubanaAccess/Services/Authentication/AuthenticationService.cs``,
   ``GetAppInstallationUrl``; scopes lower-cased and joined with ``+``). The tenant signs in there
   with the Order Manager username and password and approves; Order Manager redirects back with
   ``code``, ``cid`` and our ``state``.
2. ``exchange_code`` trades the one-time ``code`` for a token:
   ``POST {auth_base}/oauth/token`` with ``grant_type=authorization_code``, ``code`` and
   ``redirect_uri`` and ``Authorization: Basic base64(appKey:appSecret)``
   (skubanaAccess ``src/SkubanaAccess/Models/Commands/GetAccessTokenCommand.cs`` and
   ``src/SkubanaAccess/Services/ServiceBase.cs`` (``ServiceBaseWithBasicAuth``); dropstream/omniauth-skubana
   ``lib/omniauth/strategies/skubana.rb`` sets the same Basic header). skubanaAccess puts the three
   parameters in the query string; omniauth-skubana goes through the OAuth2 gem, which posts them
   as an ``application/x-www-form-urlencoded`` body (RFC 6749 section 4.1.3). The hub sends the body
   form: it is the RFC's, one of the two real clients uses it, and it keeps the one-time code out of
   URLs and access logs.
3. The answer holds ``access_token``, ``token_type`` and ``scope`` (skubanaAccess
   ``src/SkubanaAccess/Models/Response/GetAccessTokenResponse.cs``). No source models a refresh token
   or an expiry, so the token is treated as long-lived (unverified): a later 401 asks for a reconnect.

Errors: ``invalid_grant`` (a used or expired code) and ``invalid_client``/401 (a wrong app secret)
each raise ``InstallError`` with a message an operator can act on; anything else too, naming the
status and the OAuth error. The exchange is authlib's authorization-code grant
(``connectors.transport.oauth.authorization_code_grant``) sent through
``connectors.transport.HttpClient`` (timeouts, redaction, hardened transport). This module imports
no app of ours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from connectors.errors import ConnectorError, PermanentError
from connectors.transport import HttpClient, authorization_code_grant, parse_json

__all__ = ["InstallError", "TokenGrant", "authorize_url", "exchange_code", "DEFAULT_SCOPES"]

SERVICE = "Order Manager"
# What the hub's jobs call: orders (read, send to fulfillment), shipments, inventory, products.
DEFAULT_SCOPES = (
    "read_orders",
    "write_orders",
    "read_shipments",
    "write_shipments",
    "read_inventory",
    "write_inventory",
    "read_products",
)


class InstallError(PermanentError):
    """The code exchange was refused; ``oauth_error`` is the OAuth ``error`` field ("" if none)."""

    def __init__(self, message: str, *, oauth_error: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.oauth_error = oauth_error


@dataclass(frozen=True)
class TokenGrant:
    """A token answer: ``access_token``, ``token_type`` (bearer), ``scope`` ("" when absent)."""

    access_token: str
    token_type: str
    scope: str
    account: str = ""  # an account name, if the answer tells one (unverified: no source shows one)


def authorize_url(
    authorize_endpoint: str, *, app_key: str, redirect_uri: str, state: str, scopes: Sequence[str] = DEFAULT_SCOPES
) -> str:
    """The install URL the operator's browser is sent to (see the module docstring, step 1)."""
    if not app_key:
        raise ValueError("The Order Manager app key is not configured (HUB_OM_APP_KEY)")
    query = urlencode(
        {
            "client_id": app_key,
            "scope": " ".join(s.lower() for s in scopes),
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "state": state,
        }
    )  # urlencode writes the spaces as "+", the separator skubanaAccess uses
    separator = "&" if urlsplit(authorize_endpoint).query else "?"
    return f"{authorize_endpoint}{separator}{query}"


def exchange_code(
    token_endpoint: str,
    *,
    app_key: str,
    app_secret: str,
    code: str,
    redirect_uri: str,
    http: HttpClient | None = None,
    **http_options: Any,
) -> TokenGrant:
    """Exchange a one-time install ``code`` for a ``TokenGrant`` (module docstring, steps 2-3).

    Never retried: a code can be used once, so a lost answer needs a new install.
    """
    if not (app_key and app_secret):
        raise InstallError("The Order Manager app key or secret is not configured (HUB_OM_APP_KEY, HUB_OM_APP_SECRET)")
    if not code:
        raise InstallError("Order Manager redirected back without a code: the install was not approved")
    path = urlsplit(token_endpoint).path
    client = http if http is not None else HttpClient(token_endpoint, service=SERVICE, max_retries=0, **http_options)
    try:
        response = authorization_code_grant(
            client,
            token_endpoint,
            client_id=app_key,
            client_secret=app_secret,
            code=code,
            redirect_uri=redirect_uri,
            ok_statuses=(200, 400, 401),
        )
        body = parse_json(response, service=SERVICE, method="POST", path=path)
    finally:
        if http is None:
            client.close()
    if response.status_code != 200:
        raise _refusal(response.status_code, body, path)
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token.strip():
        raise InstallError(
            f"Order Manager answered POST {path} without an access_token "
            f"(got {type(body).__name__} with keys {sorted(body)[:8] if isinstance(body, dict) else '-'})",
            method="POST",
            path=path,
        )
    token_type = body.get("token_type")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise InstallError(
            f"Order Manager answered POST {path} with token_type {token_type!r:.30}, not bearer",
            method="POST",
            path=path,
        )
    scope = body.get("scope")
    account = body.get("account") or body.get("username") or ""
    return TokenGrant(
        access_token=token,
        token_type=token_type,
        scope=scope if isinstance(scope, str) else "",
        account=account if isinstance(account, str) else "",
    )


def _refusal(status: int, body: Any, path: str) -> ConnectorError:
    error = str(body.get("error", "")) if isinstance(body, dict) else ""
    description = str(body.get("error_description", "")) if isinstance(body, dict) else ""
    detail = f"{error}: {description}".strip(": ")[:200]
    if error == "invalid_grant":
        message = (
            "Order Manager refused the install code (invalid_grant): it was already used or has expired. "
            "Start Connect to Order Manager again for a new code."
        )
    elif error == "invalid_client" or status == 401:
        message = (
            "Order Manager refused the hub's app credentials (HTTP 401): check HUB_OM_APP_KEY and "
            f"HUB_OM_APP_SECRET ({detail or 'no detail'})."
        )
    else:
        message = f"Order Manager refused the code exchange (HTTP {status}, {detail or 'no OAuth error'})."
    return InstallError(message, oauth_error=error, status=status, method="POST", path=path)
