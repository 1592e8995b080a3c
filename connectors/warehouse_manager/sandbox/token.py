"""Sandbox Warehouse Manager token: `POST /AuthServer/api/Token`.

Client credentials only, as the real service: the client's id and secret as Basic, a JSON body
with `grant_type` `client_credentials` and the account's user in the one login field it is set up
for (`user_login` or `user_login_id`, docs/wire-protocols.md WMS-1). Anything else is refused
(401 `invalid_client`, 400 `invalid_request` / `unsupported_grant_type` / `invalid_grant`). A token
lives `TOKEN_LIFETIME` seconds. The account's fault configuration applies to the token endpoint
when it asks for it; its ``token`` answer time (`connectors.sandbox.latency`) always does.
"""

import base64
import binascii
import datetime

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from connectors.sandbox import clock, faults
from connectors.sandbox.api import BadRequest, fault_config, json_body, sandbox_endpoint
from connectors.sandbox.credentials import hash_secret, new_token
from connectors.sandbox.models import WmsAccount, WmsToken
from connectors.warehouse_manager.sandbox.protocol import json_response

TOKEN_LIFETIME = 3600


def _basic_credentials(request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = base64.b64decode(value.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (client_id, secret) if sep else None


def _login_refusal(account: WmsAccount, body: dict) -> JsonResponse | None:
    """The account is keyed by one of `user_login` / `user_login_id` (docs/wire-protocols.md WMS-1);
    the other field, both at once, or a value that is not the account's user are refused.

    The real service's refusal body is not documented: the OAuth-style `invalid_grant` here is
    the sandbox's choice (unverified); what matters is that the token call fails.
    """
    kind = account.login_kind
    other = "user_login_id" if kind == "user_login" else "user_login"
    if body.get(other) not in (None, ""):
        return json_response(
            {"error": "invalid_grant", "error_description": f"This client is not set up for {other}; send {kind}"}, 400
        )
    value = body.get(kind)
    if value in (None, ""):
        return json_response({"error": "invalid_request", "error_description": f"{kind} is required"}, 400)
    if str(value).strip() != account.user_login:
        return json_response({"error": "invalid_grant", "error_description": f"Unknown {kind} for this client"}, 400)
    return None


@sandbox_endpoint
@require_http_methods(["POST"])
def token(request):
    """`POST /AuthServer/api/Token`: Basic client_id:secret, JSON grant_type client_credentials."""
    credentials = _basic_credentials(request)
    account = None
    if credentials:
        account = WmsAccount.objects.select_related("faults").filter(client_id=credentials[0]).first()
    if account is None or not account.check_secret(credentials[1]):
        return json_response({"error": "invalid_client"}, 401)
    try:
        body = json_body(request)
    except BadRequest:
        return json_response({"error": "invalid_request", "error_description": "The body must be JSON"}, 400)
    if not isinstance(body, dict) or body.get("grant_type") != "client_credentials":
        return json_response({"error": "unsupported_grant_type"}, 400)
    refused = _login_refusal(account, body)
    if refused is not None:
        return refused

    def issue():
        value = new_token()
        WmsToken.objects.create(
            account=account,
            digest=hash_secret(value),
            expires_at=clock.now() + datetime.timedelta(seconds=TOKEN_LIFETIME),
        )
        return json_response(
            {
                "access_token": value,
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME,
                "refresh_token": None,
                "scope": None,
            }
        )

    config = fault_config(account)
    inject = config is not None and config.apply_to_token_endpoint
    return faults.apply(faults.WMS, account.pk, config, issue, group="token", inject=inject)
