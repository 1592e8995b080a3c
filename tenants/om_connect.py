"""Connect to Order Manager: the hub's side of the app install (connectors.order_manager.install).

``start`` (admin URL, POST from the connection's change page) creates a single-use
``OmInstallState`` bound to the connection and the operator, valid for
``HUB_OM_INSTALL_STATE_SECONDS``, and sends the browser to Order Manager's install page.
``callback`` (``HUB_OM_REDIRECT_URL``, login required) consumes the state with one conditional
UPDATE, checks it belongs to the signed-in operator and that they may still change the
connection (tenant scoping), exchanges the code, stores the token encrypted with who, when and
which account (``cid``), and clears the circuit. A replayed, expired or foreign state, a used code,
a wrong app secret: each is refused with a message and nothing is stored.

dropstream/omniauth-skubana ``lib/omniauth/strategies/skubana.rb`` sets ``provider_ignores_state``,
which suggests Order Manager may not echo ``state`` back (unverified). A callback without ``state``
is refused all the same, naming the missing parameter: binding it to whatever install this browser
has pending would let a forged callback carrying someone else's ``code`` connect this connection to
their account (the login CSRF that ``state`` exists to stop). If the real service drops ``state``,
this refusal says so on the first install and pasting the access token still works.
"""

from __future__ import annotations

import datetime
import logging
import secrets

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from connectors.errors import ConnectorError
from connectors.order_manager import install as om_install

from . import crypto
from .clients import http_options
from .models import OmInstallState, OrderManagerConnection, TokenSource

logger = logging.getLogger(__name__)
DEFAULT_AUTH_BASE = "https://app.skubana.com"


def app_credentials() -> tuple[str, str]:
    """The hub's app key and (decrypted) secret; ("", "") parts when not configured."""
    secret = settings.HUB_OM_APP_SECRET or ""
    # "fernet:<token>" (as stored fields are written) or a bare Fernet token: encrypted with
    # HUB_ENCRYPTION_KEYS; anything else is the plain secret.
    if secret.startswith("fernet:"):
        secret = crypto.decrypt(secret.removeprefix("fernet:"))
    elif secret.startswith("gAAAA"):
        secret = crypto.decrypt(secret)
    return settings.HUB_OM_APP_KEY or "", secret


def authorize_endpoint(connection: OrderManagerConnection) -> str:
    base = (connection.auth_base_url or DEFAULT_AUTH_BASE).rstrip("/")
    return settings.HUB_OM_AUTHORIZE_URL if base == DEFAULT_AUTH_BASE else f"{base}/oauth/authorize"


def token_endpoint(connection: OrderManagerConnection) -> str:
    return f"{(connection.auth_base_url or DEFAULT_AUTH_BASE).rstrip('/')}/oauth/token"


def change_url(connection) -> str:
    return reverse("admin:tenants_ordermanagerconnection_change", args=[connection.pk])


def begin(request, connection: OrderManagerConnection) -> str:
    """A fresh state for ``request.user`` and ``connection``; returns the install URL."""
    nonce = secrets.token_urlsafe(32)
    OmInstallState.objects.create(
        nonce=nonce,
        connection=connection,
        user=request.user,
        expires_at=timezone.now() + datetime.timedelta(seconds=settings.HUB_OM_INSTALL_STATE_SECONDS),
    )
    key, _ = app_credentials()
    return om_install.authorize_url(
        authorize_endpoint(connection), app_key=key, redirect_uri=settings.HUB_OM_REDIRECT_URL, state=nonce
    )


def store_grant(
    connection: OrderManagerConnection,
    grant: om_install.TokenGrant,
    *,
    user,
    account: str,
    source: str = TokenSource.APP_INSTALL,
) -> None:
    """Save a new token with who/when/which account, and let scheduled runs resume."""
    connection.access_token = grant.access_token
    connection.token_source = source
    connection.connected_by = user
    connection.connected_at = timezone.now()
    connection.connected_account = (grant.account or account)[:200]
    connection.save(update_fields=["access_token", "token_source", "connected_by", "connected_at", "connected_account"])
    connection.clear_circuit()


def exchange(connection: OrderManagerConnection, code: str) -> om_install.TokenGrant:
    key, secret = app_credentials()
    return om_install.exchange_code(
        token_endpoint(connection),
        app_key=key,
        app_secret=secret,
        code=code,
        redirect_uri=settings.HUB_OM_REDIRECT_URL,
        **http_options(None),
    )


def _consume(request, nonce: str) -> OmInstallState | None:
    now = timezone.now()
    with transaction.atomic():
        taken = OmInstallState.objects.filter(
            nonce=nonce, used_at__isnull=True, expires_at__gt=now, user=request.user
        ).update(used_at=now)
        return (
            OmInstallState.objects.select_related("connection__warehouse__tenant").get(nonce=nonce) if taken else None
        )


@require_GET
@login_required
def callback(request):
    """Order Manager redirects here with ``code``, ``cid`` and ``state`` after the install."""
    nonce = request.GET.get("state", "")
    admin_index = reverse("admin:index")
    if not nonce:
        messages.error(
            request,
            "Connect to Order Manager refused: Order Manager's answer carried no state parameter, so "
            "the hub cannot tell that this install was started here. Start again from the connection "
            "page, or paste an access token from an app installed by hand.",
        )
        return HttpResponseRedirect(admin_index)
    row = OmInstallState.objects.filter(nonce=nonce).select_related("connection").first()
    if row is None:
        messages.error(
            request,
            "Connect to Order Manager refused: the install link is unknown. Start again from the connection page.",
        )
        return HttpResponseRedirect(admin_index)
    target = change_url(row.connection)
    if row.user_id != request.user.pk:
        messages.error(request, "Connect to Order Manager refused: this install was started by another operator.")
        return HttpResponseRedirect(admin_index)
    state = _consume(request, nonce)
    if state is None:
        reason = "was already used" if row.used_at else "has expired"
        messages.error(request, f"Connect to Order Manager refused: the install link {reason}. Start again.")
        return HttpResponseRedirect(target)
    model_admin = admin.site.get_model_admin(OrderManagerConnection)
    connection = model_admin.get_queryset(request).filter(pk=state.connection_id).first()
    if connection is None or not model_admin.has_change_permission(request, connection):
        messages.error(request, "Connect to Order Manager refused: you may not change this connection.")
        return HttpResponseRedirect(admin_index)
    if request.GET.get("error"):
        messages.error(request, f"Order Manager did not install the app: {request.GET.get('error')[:100]}.")
        return HttpResponseRedirect(target)
    try:
        grant = exchange(connection, request.GET.get("code", ""))
    except ConnectorError as exc:
        messages.error(request, f"Connect to Order Manager failed: {exc.message}")
        return HttpResponseRedirect(target)
    cid = request.GET.get("cid", "")
    store_grant(connection, grant, user=request.user, account=f"cid {cid}" if cid else "")
    logger.info("order manager connected", extra={"connection": connection.pk, "account": connection.connected_account})
    messages.success(
        request, f"{connection}: connected to Order Manager ({connection.connected_account or 'no account named'})."
    )
    return HttpResponseRedirect(target)


def start_view(model_admin, request, object_id):
    """POST from the change page: check permission, then off to Order Manager's install page."""

    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    connection = model_admin.get_object(request, object_id)
    if connection is None:
        raise Http404("No such connection.")
    if not model_admin.has_change_permission(request, connection):
        raise PermissionDenied
    if not app_credentials()[0]:
        messages.error(request, "Connect to Order Manager needs the hub's app key (HUB_OM_APP_KEY).")
        return HttpResponseRedirect(change_url(connection))
    return HttpResponseRedirect(begin(request, connection))
