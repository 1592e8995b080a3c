"""View plumbing shared by both sandbox APIs: on/off switch, CSRF, bearer auth, faults, JSON bodies.

`om_api` and `wms_api` wrap a view `view(request, account, *args)`: they answer 404 when
`settings.SANDBOX_ENABLED` is off, 401 (in each service's dialect) without a valid bearer token, and
run the call through the account's fault configuration (`faults.apply`), with the answer time of
the request's endpoint group (`latency.request_group`). Token endpoints use `sandbox_endpoint`
only, and go through `faults.apply` themselves: always for the ``token`` group's answer time, with
the faults when the account asks for it.
"""

import functools
import json

from django.conf import settings
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from connectors.sandbox import clock, faults, latency
from connectors.sandbox.credentials import hash_secret
from connectors.sandbox.models import FaultConfig, OmToken, WmsToken


class BadRequest(Exception):
    """A request the service refuses as a whole; the view turns it into its own error body."""


def sandbox_endpoint(view):
    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not settings.SANDBOX_ENABLED:
            raise Http404("The sandbox is disabled.")
        return view(request, *args, **kwargs)

    return wrapper


def bearer_token(request) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def json_body(request):
    """The parsed JSON body; BadRequest when it is not JSON."""
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}") from None


def fault_config(account) -> FaultConfig | None:
    try:
        return account.faults
    except FaultConfig.DoesNotExist:
        return None


def om_unauthorized(error: str, description: str) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=401)
    response["WWW-Authenticate"] = f'Bearer realm="oauth", error="{error}", error_description="{description}"'
    return response


def om_api(view):
    """Order Manager: `Authorization: Bearer` (an app-install or static token), Spring-OAuth style 401s."""

    @sandbox_endpoint
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        token = bearer_token(request)
        if not token:
            return om_unauthorized("unauthorized", "Full authentication is required to access this resource")
        row = OmToken.objects.select_related("account__faults").filter(digest=hash_secret(token)).first()
        if row is None:
            return om_unauthorized("invalid_token", "Invalid access token")
        account = row.account
        return faults.apply(
            faults.OM,
            account.pk,
            fault_config(account),
            lambda: view(request, account, *args, **kwargs),
            group=latency.request_group(faults.OM, request),
        )

    return wrapper


def wms_unauthorized() -> JsonResponse:
    # ASP.NET Web API's own wording for a rejected bearer token.
    response = JsonResponse({"Message": "Authorization has been denied for this request."}, status=401)
    response["WWW-Authenticate"] = "Bearer"
    return response


def wms_api(view):
    """3PL Warehouse Manager: bearer token from the client-credentials grant, expiring after an hour."""

    @sandbox_endpoint
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        token = bearer_token(request)
        if not token:
            return wms_unauthorized()
        row = WmsToken.objects.select_related("account__faults").filter(digest=hash_secret(token)).first()
        if row is None or row.expires_at <= clock.now():
            return wms_unauthorized()
        account = row.account
        return faults.apply(
            faults.WMS,
            account.pk,
            fault_config(account),
            lambda: view(request, account, *args, **kwargs),
            group=latency.request_group(faults.WMS, request),
        )

    return wrapper
