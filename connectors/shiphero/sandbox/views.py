"""The two endpoints of the sandbox ShipHero API, under /sandbox/shiphero/ (the real service:
https://public-api.shiphero.com/auth/refresh and /graphql).

- `POST auth/refresh` ``{"refresh_token": ...}`` -> 200 ``{access_token, expires_in, scope,
  token_type: "Bearer"}``, the access token living the account's `token_lifetime_seconds` (28 days
  by default, as documented). An unknown refresh token -> 403 ``{"error": "invalid_grant",
  "error_description": "Unknown or invalid refresh token."}``, a body without one -> 400
  ``invalid_request``: Auth0's answers (ShipHero's tokens are issued by shiphero.auth0.com;
  unverified for ShipHero's own front: EVIDENCE.md). The `token` answer time always applies, the
  faults only with `apply_to_token_endpoint`.
- `POST graphql` with ``Authorization: Bearer <access token>``: `execute.run`, through the account's
  faults and the answer time of the document's group. No token, an unknown one or an expired one
  -> 401 ``{"errors": [{"message": ..., "code": 401}]}`` (the sandbox's shape, unverified): a client
  must take a 401 as "refresh the token", never as a GraphQL answer.
"""

from __future__ import annotations

import datetime

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from connectors.sandbox import clock, faults
from connectors.sandbox.api import BadRequest, bearer_token, fault_config, json_body, sandbox_endpoint
from connectors.sandbox.credentials import hash_secret, new_token
from connectors.sandbox.models import ShipHeroAccount, ShipHeroToken

from . import execute

SCOPE = "openid profile offline_access"


def _json(data, status=200) -> JsonResponse:
    return JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


@sandbox_endpoint
@require_http_methods(["POST"])
def auth_refresh(request):
    try:
        body = json_body(request)
    except BadRequest as exc:
        return _json({"error": "invalid_request", "error_description": str(exc)}, 400)
    refresh = body.get("refresh_token") if isinstance(body, dict) else None
    if not isinstance(refresh, str) or not refresh:
        return _json(
            {"error": "invalid_request", "error_description": "Missing required parameter: refresh_token"}, 400
        )
    account = ShipHeroAccount.objects.select_related("faults").filter(refresh_digest=hash_secret(refresh)).first()
    if account is None:
        return _json({"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."}, 403)

    def issue():
        value = new_token()
        lifetime = account.token_lifetime_seconds
        ShipHeroToken.objects.create(
            account=account, digest=hash_secret(value), expires_at=clock.now() + datetime.timedelta(seconds=lifetime)
        )
        return _json({"access_token": value, "expires_in": lifetime, "scope": SCOPE, "token_type": "Bearer"})

    config = fault_config(account)
    inject = config is not None and config.apply_to_token_endpoint
    return faults.apply(faults.SHIPHERO, account.pk, config, issue, group="token", inject=inject)


def unauthorized(message: str) -> JsonResponse:
    response = _json({"errors": [{"message": message, "code": 401}]}, 401)
    response["WWW-Authenticate"] = "Bearer"
    return response


@sandbox_endpoint
@require_http_methods(["POST"])
def graphql(request):
    token = bearer_token(request)
    if not token:
        return unauthorized("Authorization header with a Bearer token is required")
    row = ShipHeroToken.objects.select_related("account__faults").filter(digest=hash_secret(token)).first()
    if row is None:
        return unauthorized("Invalid token")
    if row.expires_at <= clock.now():
        return unauthorized("Token expired; get a new one with your refresh token")
    account = row.account
    try:
        body = json_body(request)
    except BadRequest as exc:
        return _json({"errors": [{"message": str(exc)}]}, 400)

    def answer():
        status, data = execute.run(account, body)
        return _json(data, status)

    return faults.apply(faults.SHIPHERO, account.pk, fault_config(account), answer, group=execute.endpoint_group(body))
