"""Sandbox Order Manager app install and token: `/oauth/authorize` and `POST /oauth/token`.

The only way to a token is the real service's: an app install (OAuth2 authorization code), the
install page signing in with the account's username and password, then the code exchanged at the
token endpoint with the app's credentials as Basic. A password grant, any other grant, client
credentials in the body, an unknown app, an unregistered redirect URI, a wrong, used or expired
(`CODE_LIFETIME`) code, or a redirect URI that differs from the install's, is refused, with the
Spring Security OAuth2 error bodies the real service answers. The account's fault configuration
applies to the token endpoint when it asks for it; its ``token`` answer time
(`connectors.sandbox.latency`) always does.
"""

import base64
import datetime
from urllib.parse import urlencode, urlsplit

from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from connectors.order_manager.sandbox.protocol import json_response
from connectors.sandbox import clock, faults
from connectors.sandbox.api import fault_config, sandbox_endpoint
from connectors.sandbox.credentials import hash_secret, new_token
from connectors.sandbox.models import OmAccount, OmApp, OmAuthCode, OmToken

CODE_LIFETIME = datetime.timedelta(minutes=5)  # stricter than most OAuth servers (Spring's default is 5 min too)


def _oauth_error(error: str, description: str, status: int) -> JsonResponse:
    """Spring Security OAuth2's error body; 401s carry its WWW-Authenticate header."""
    response = json_response({"error": error, "error_description": description}, status)
    if status == 401:
        response["WWW-Authenticate"] = f'Basic realm="oauth2/client", error="{error}"'
    return response


def _app_from_basic(request) -> tuple[OmApp | None, JsonResponse | None]:
    """The app named by ``Authorization: Basic base64(appKey:appSecret)``, or the 401 to answer."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None, _oauth_error("unauthorized", "Full authentication is required to access this resource", 401)
    try:
        key, sep, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None, _oauth_error("invalid_client", "Bad credentials", 401)
    app = OmApp.objects.filter(app_key=key).first() if sep else None
    if app is None or not app.check_secret(secret):
        return None, _oauth_error("invalid_client", "Bad credentials", 401)
    return app, None


@sandbox_endpoint
@require_http_methods(["GET", "POST"])
def authorize(request):
    """`/oauth/authorize`: the install page. A sandbox user signs in with the account's username and
    password and approves; the browser goes to the registered redirect URI with ``code``, ``cid``
    (the account's company id) and ``state``. An unknown app or an unregistered redirect URI gets an
    error page, never a redirect (RFC 6749 section 4.1.2.1)."""
    params = request.GET
    app = OmApp.objects.filter(app_key=params.get("client_id", "")).first()
    redirect_uri = params.get("redirect_uri", "")
    context = {"app": app, "scope": params.get("scope", ""), "username": "", "error": "", "fatal": ""}
    if app is None:
        context["fatal"] = "Unknown app (client_id)."
    elif not redirect_uri or redirect_uri not in app.redirect_uris:
        context["fatal"] = "The redirect_uri is not one the app registered."
    elif params.get("response_type") != "code":
        context["fatal"] = "Unsupported response_type (only 'code')."
    if context["fatal"]:
        return render(request, "sandbox/om_authorize.html", context, status=400)
    if request.method == "POST":
        username = request.POST.get("username", "")
        account = OmAccount.objects.filter(username=username).first()
        if account is None or not account.check_password(request.POST.get("password", "")):
            context.update(username=username, error="Bad credentials: wrong username or password.")
            return render(request, "sandbox/om_authorize.html", context, status=200)
        code = new_token()
        OmAuthCode.objects.create(
            app=app,
            account=account,
            digest=hash_secret(code),
            redirect_uri=redirect_uri,
            scope=params.get("scope", ""),
            expires_at=clock.now() + CODE_LIFETIME,
        )
        query = {"code": code, "cid": account.company_id}
        if "state" in params:
            query["state"] = params["state"]
        separator = "&" if urlsplit(redirect_uri).query else "?"
        return HttpResponseRedirect(f"{redirect_uri}{separator}{urlencode(query)}")
    return render(request, "sandbox/om_authorize.html", context)


@sandbox_endpoint
@require_http_methods(["POST"])
def token(request):
    """`POST /oauth/token`: ``authorization_code`` only, app credentials as Basic, a one-time code.

    Parameters are read from the form body or the query string (the OAuth2 gem behind
    omniauth-skubana posts a body; skubanaAccess sends query parameters; Spring's token endpoint
    reads both). Client credentials in the body are not accepted: both real clients send Basic.
    A password grant, or any other grant, gets Spring's ``unsupported_grant_type``.
    """
    params = request.POST if request.POST else request.GET
    app, refusal = _app_from_basic(request)
    if refusal is not None:
        return refusal
    grant_type = params.get("grant_type", "")
    if grant_type != "authorization_code":
        return _oauth_error("unsupported_grant_type", f"Unsupported grant type: {grant_type}", 400)
    code, redirect_uri = params.get("code", ""), params.get("redirect_uri", "")
    if not code:
        return _oauth_error("invalid_request", "An authorization code must be supplied.", 400)
    row = OmAuthCode.objects.select_related("account__faults").filter(digest=hash_secret(code), app=app).first()
    if row is None:
        return _oauth_error("invalid_grant", f"Invalid authorization code: {code[:6]}…", 400)
    if redirect_uri != row.redirect_uri:
        return _oauth_error("invalid_grant", "Redirect URI mismatch.", 400)
    account = row.account

    def issue():
        now = clock.now()
        # One conditional UPDATE consumes the code: of two concurrent exchanges only one wins.
        if not OmAuthCode.objects.filter(pk=row.pk, used_at__isnull=True, expires_at__gt=now).update(used_at=now):
            return _oauth_error("invalid_grant", f"Invalid authorization code: {code[:6]}…", 400)
        value = new_token()
        OmToken.objects.create(account=account, app=app, digest=hash_secret(value))
        return json_response({"access_token": value, "token_type": "bearer", "scope": row.scope.replace("+", " ")})

    config = fault_config(account)
    inject = config is not None and config.apply_to_token_endpoint
    return faults.apply(faults.OM, account.pk, config, issue, group="token", inject=inject)
