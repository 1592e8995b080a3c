"""Give a tenant accounts in the built-in sandbox and connect it to them: the one set-up behind
`manage.py sandbox tenant` (the scripted path) and the admin's "Create sandbox accounts".

`set_up(tenant, base_url, ...)` creates or updates, in one transaction:

- an Order Manager sandbox account (its user, with a fresh password, and its warehouse
  `OM_WAREHOUSE_NAME`) and a WMS sandbox credential (a fresh secret) for one customer in facility
  `FACILITY_ID`; seeded once, when asked, with products, starting inventory, WMS stock and orders
  waiting for pickup (`connectors.sandbox.control.seeding`);
- the tenant's warehouse `WMS_CONNECTION_NAME` and its Order Manager connection, pointed at the
  sandbox served at `base_url` (the address the hub is served on), the Order Manager side
  connected by the app install as an operator's would be (`install_app`).

Idempotent: the accounts and the connection the tenant already has (`tenants.sandbox_accounts`)
are updated in place, never duplicated; new accounts are named after the slug (`om_username`,
`wms_client_id`), with the tenant's id added when another tenant already uses those names.
Only `activate=True` (the scripted path) activates the connection; otherwise a new connection
stays not activated until an operator has tested it and read the pre-flight report, and an
existing one keeps its state. `plan` tells beforehand what `set_up` would do.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connectors.order_manager import install as om_install
from connectors.order_manager.sandbox import oauth as om_oauth
from connectors.sandbox.control import account_setup, seeding
from connectors.sandbox.models import OmAccount, OmOrder, OmProduct, OmWarehouse, WmsAccount

from . import om_connect, sandbox_accounts
from .models import OrderManagerConnection, Tenant, Warehouse

OM_WAREHOUSE_NAME = "Sandbox 3PL"
WMS_CONNECTION_NAME = "Sandbox WMS"
FACILITY_ID = 1
# What "Create sandbox accounts" seeds a new Order Manager account with (the demo's numbers).
SEED_ORDERS = 15
SEED_SKUS = 30


class SandboxSetupError(ValueError):
    """The sandbox set-up cannot be done (no app credentials, the sandbox refused the install)."""


def om_username(slug: str) -> str:
    return f"{slug}@sandbox"


def wms_client_id(slug: str) -> str:
    return f"sandbox-{slug}"


def wms_user_login(slug: str) -> str:
    return f"{slug}-integration"


def sandbox_base(base_url: str) -> str:
    """The hub's address without a trailing slash (the sandbox is served under it)."""
    return base_url.rstrip("/")


@dataclass(frozen=True)
class Plan:
    """What `set_up` will create (False / None) or update for a tenant."""

    base_url: str
    om_username: str
    om_exists: bool
    wms_client_id: str
    wms_exists: bool
    warehouse: Warehouse | None
    connection: OrderManagerConnection | None
    om_orders: int
    om_products: int

    @property
    def om_base_url(self) -> str:
        return f"{self.base_url}{sandbox_accounts.OM_PATH}"

    @property
    def wms_base_url(self) -> str:
        return f"{self.base_url}{sandbox_accounts.WMS_PATH}"

    @property
    def seeds(self) -> bool:
        """Whether `set_up` seeds the account (only one that has no products yet)."""
        return self.om_products == 0


@dataclass(frozen=True)
class SandboxSetup:
    """What `set_up` did; passwords, secrets and the token are the fresh ones, in clear."""

    tenant: Tenant
    warehouse: Warehouse
    connection: OrderManagerConnection
    created: bool
    om: OmAccount
    om_password: str
    om_warehouse: OmWarehouse
    wms: WmsAccount
    wms_secret: str
    access_token: str
    seeded: dict | None


def _target(tenant: Tenant) -> tuple[str, str, str, Warehouse | None]:
    """(Order Manager username, WMS client id, WMS user login, warehouse) set-up works on: the
    tenant's own sandbox accounts, else free names after its slug."""
    existing = sandbox_accounts.of_tenant(tenant)
    if existing is not None:
        wms = existing.wms
        return existing.om.username, wms.client_id, wms.user_login, existing.connection.warehouse
    for name in (tenant.slug, f"{tenant.slug}-{tenant.pk}"):
        om = OmAccount.objects.filter(username=om_username(name)).first()
        wms = WmsAccount.objects.filter(client_id=wms_client_id(name)).first()
        if not sandbox_accounts.owners(om, wms) - {tenant.pk}:
            warehouse = (
                Warehouse.objects.filter(tenant=tenant, client_id=wms_client_id(name)).first()
                or Warehouse.objects.filter(tenant=tenant, name=WMS_CONNECTION_NAME).first()
            )
            return om_username(name), wms_client_id(name), wms_user_login(name), warehouse
    raise SandboxSetupError(f"The sandbox accounts named after “{tenant.slug}” belong to other tenants.")


def plan(tenant: Tenant, base_url: str) -> Plan:
    """What `set_up(tenant, base_url)` would create or update (nothing is written)."""
    username, client_id, _, warehouse = _target(tenant)
    om = OmAccount.objects.filter(username=username).first()
    return Plan(
        base_url=sandbox_base(base_url),
        om_username=username,
        om_exists=om is not None,
        wms_client_id=client_id,
        wms_exists=WmsAccount.objects.filter(client_id=client_id).exists(),
        warehouse=warehouse,
        connection=OrderManagerConnection.objects.filter(warehouse=warehouse).first() if warehouse else None,
        om_orders=OmOrder.objects.filter(account=om).count() if om else 0,
        om_products=OmProduct.objects.filter(account=om).count() if om else 0,
    )


def install_app(connection: OrderManagerConnection, account: OmAccount, *, redirect_uri: str):
    """The app install without a browser: register the hub's app with the sandbox, let the sandbox's
    install step approve it for ``account`` (as its user would on the install page), and exchange
    the code at the sandbox's token endpoint by the same rules as over HTTP (Basic app credentials,
    one-time code, same redirect URI). Returns ``(TokenGrant, cid)``.

    The exchange runs in-process (a command runs with no server up, and a request must not call
    its own server); the live-server tests drive the same flow over a real socket through
    ``tenants.om_connect``."""
    # Imported here: the admin loads this module, and nothing else of it needs django.test.
    from django.test import RequestFactory

    key, secret = om_connect.app_credentials()
    if not (key and secret):
        raise SandboxSetupError("HUB_OM_APP_KEY and HUB_OM_APP_SECRET are not set (DEBUG gives development defaults).")
    app = account_setup.ensure_om_app(
        key, secret, redirect_uris=[redirect_uri, settings.HUB_OM_REDIRECT_URL], name="Order Manager hub"
    )
    code, cid = account_setup.install_code(app, account, redirect_uri, scope=" ".join(om_install.DEFAULT_SCOPES))
    request = RequestFactory().post(
        "/sandbox/order-manager/oauth/token",
        {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode(),
    )
    response = om_oauth.token(request)
    body = json.loads(response.content)
    if response.status_code != 200:
        raise SandboxSetupError(f"The sandbox refused the app install: {body}")
    return om_install.TokenGrant(body["access_token"], body["token_type"], body.get("scope", "")), cid


def set_up(
    tenant: Tenant,
    base_url: str,
    *,
    activate: bool,
    user=None,
    seed_orders: int = 0,
    seed_skus: int = 0,
) -> SandboxSetup:
    """Create or update `tenant`'s sandbox accounts and its connection to them (module docstring).

    `base_url` is where the hub, and so the sandbox, is served. `user` is recorded as who connected
    the Order Manager side. `seed_orders`/`seed_skus` seed an Order Manager account that has no
    products yet (a later call keeps the data). Raises SandboxSetupError."""
    base = sandbox_base(base_url)
    password, secret = secrets.token_urlsafe(18), secrets.token_urlsafe(24)
    with transaction.atomic():
        username, client_id, user_login, warehouse = _target(tenant)
        om = account_setup.ensure_om_account(username, password, warehouse_name=OM_WAREHOUSE_NAME)
        om_wh = account_setup.om_warehouse(om, OM_WAREHOUSE_NAME)
        existing_wms = WmsAccount.objects.filter(client_id=client_id).first()
        customer_id = existing_wms.customer_id if existing_wms else 100 + tenant.pk
        wms = account_setup.ensure_wms_account(
            client_id,
            secret,
            customer_id=customer_id,
            facility_id=FACILITY_ID,
            user_login=user_login,
            customer_name=tenant.name,
            facility_name="Sandbox Facility",
            facility_time_zone=tenant.time_zone,
        )
        warehouse = warehouse or Warehouse(tenant=tenant, name=WMS_CONNECTION_NAME)
        warehouse.wms_base_url = f"{base}{sandbox_accounts.WMS_PATH}"
        warehouse.client_id = client_id
        warehouse.client_secret = secret
        warehouse.user_login = user_login
        warehouse.customer_id = customer_id
        warehouse.facility_id = FACILITY_ID
        warehouse.facility_time_zone = tenant.time_zone
        warehouse.save()
        connection = OrderManagerConnection.objects.filter(warehouse=warehouse).first()
        created = connection is None
        connection = connection or OrderManagerConnection(warehouse=warehouse)
        connection.base_url = connection.auth_base_url = f"{base}{sandbox_accounts.OM_PATH}"
        connection.warehouse_name = OM_WAREHOUSE_NAME
        connection.om_warehouse_id = om_wh.pk
        connection.om_warehouse_type = om_wh.type
        if activate and not connection.is_activated:
            # The scripted path for trying the hub activates at once; an operator in the admin
            # activates after Test connection and the pre-flight report.
            connection.activated_at, connection.activated_by = timezone.now(), user
        connection.save()
        grant, cid = install_app(connection, om, redirect_uri=f"{base}/om/connect/callback")
        om_connect.store_grant(connection, grant, user=user, account=f"cid {cid}")
        seeded = None
        if (seed_orders or seed_skus) and not OmProduct.objects.filter(account=om).exists():
            seeded = seeding.seed(om, wms, orders=seed_orders, skus=seed_skus, warehouse=om_wh)
    return SandboxSetup(
        tenant=tenant,
        warehouse=warehouse,
        connection=connection,
        created=created,
        om=om,
        om_password=password,
        om_warehouse=om_wh,
        wms=wms,
        wms_secret=secret,
        access_token=grant.access_token,
        seeded=seeded,
    )
