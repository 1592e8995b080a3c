"""Give a tenant a warehouse on the sandbox ShipHero and connect it to Order Manager: the ShipHero
twin of `tenants.sandbox_onboarding.set_up` (which connects a tenant to the sandbox 3PL Warehouse
Manager), used by the demo for its tenant on ShipHero.

`set_up(tenant, base_url, ...)` creates or updates, in one transaction:

- an Order Manager sandbox account of its own (`om_username`, warehouse `OM_WAREHOUSE_NAME`), so
  a tenant may run a 3PL Warehouse Manager warehouse and a ShipHero one side by side;
- a sandbox ShipHero account (`connectors.shiphero.sandbox.control.ensure_account`, keyed
  `shiphero_key(slug)`, a fresh refresh token each time) as a 3PL account with the tenant as its
  customer account and one warehouse; seeded once, when asked, with the same catalogue and orders
  as the 3PL sandbox (`connectors.sandbox.control.seeding.seed_with_wms`), the stock in ShipHero;
- the tenant's warehouse `WAREHOUSE_NAME` on ShipHero (refresh token, customer account id and
  warehouse id as the sandbox names them) and its Order Manager connection, connected by the
  app install (`sandbox_onboarding.install_app`).

Idempotent: the warehouse `WAREHOUSE_NAME` and its connection are updated in place. Only
`activate=True` activates the connection (the scripted path).

`every_connection()` finds the connections on the sandbox ShipHero again with their two accounts
(the Order Manager one by its access token, the ShipHero one by its refresh token, as
`tenants.sandbox_accounts` finds the 3PL ones), for `manage.py sandbox_live`.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from connectors.sandbox.control import account_setup, seeding
from connectors.sandbox.credentials import hash_secret
from connectors.sandbox.models import OmAccount, OmProduct, ShipHeroAccount
from connectors.shiphero.sandbox import control as shiphero_control

from . import om_connect, sandbox_accounts, sandbox_onboarding
from .models import OrderManagerConnection, Tenant, Warehouse
from .models.warehouse import SHIPHERO

OM_WAREHOUSE_NAME = "Sandbox ShipHero"
WAREHOUSE_NAME = "Sandbox ShipHero"
SHIPHERO_WAREHOUSE = "Sandbox Warehouse"
SHIPHERO_PATH = "/sandbox/shiphero"


def om_username(slug: str) -> str:
    return f"{slug}-shiphero@sandbox"


def shiphero_key(slug: str) -> str:
    return f"{slug}@shiphero.sandbox"


@dataclass(frozen=True)
class ShipHeroSandboxSetup:
    """What `set_up` did; the password and tokens are the fresh ones, in clear."""

    tenant: Tenant
    warehouse: Warehouse
    connection: OrderManagerConnection
    created: bool
    om: OmAccount
    om_password: str
    account: ShipHeroAccount
    refresh_token: str
    seeded: dict | None


@dataclass(frozen=True)
class ShipHeroSandboxAccounts:
    connection: OrderManagerConnection
    om: OmAccount
    account: ShipHeroAccount


def every_connection(*, active_only: bool = True) -> list[ShipHeroSandboxAccounts]:
    """The connections of tenant warehouses on the sandbox ShipHero whose two tokens the sandbox issued."""
    connections = OrderManagerConnection.objects.filter(
        warehouse__wms_system=SHIPHERO,
        warehouse__wms_base_url__contains=SHIPHERO_PATH,
        base_url__contains=sandbox_accounts.OM_PATH,
    ).select_related("warehouse__tenant")
    if active_only:
        connections = connections.filter(warehouse__tenant__active=True, warehouse__tenant__archived_at__isnull=True)
    found = []
    for connection in connections.order_by("warehouse__tenant__slug", "pk"):
        warehouse = connection.warehouse
        if not (
            sandbox_accounts.points_at(connection.base_url, sandbox_accounts.OM_PATH)
            and sandbox_accounts.points_at(warehouse.wms_base_url, SHIPHERO_PATH)
        ):
            continue
        token, refresh = str(connection.access_token or ""), str(warehouse.shiphero_refresh_token or "")
        om = OmAccount.objects.filter(tokens__digest=hash_secret(token)).first() if token else None
        account = ShipHeroAccount.objects.filter(refresh_digest=hash_secret(refresh)).first() if refresh else None
        if om is not None and account is not None:
            found.append(ShipHeroSandboxAccounts(connection, om, account))
    return found


def stock_in_shiphero(account: ShipHeroAccount):
    """`seeding.seed_with_wms`'s WMS side for a sandbox ShipHero account: on-hand 0-200 per SKU."""

    def stock(rng: random.Random, sku_names: list[str]) -> None:
        shiphero_control.seed_products(account, {sku: rng.randint(0, 200) for sku in sku_names})

    return stock


def orderable_in_shiphero(account: ShipHeroAccount):
    def orderable() -> list[str]:
        customer = shiphero_control.customer(account)
        return list(customer.products.order_by("pk").values_list("sku", flat=True))

    return orderable


def seed(om: OmAccount, account: ShipHeroAccount, *, orders: int, skus: int, seed: int | None = None, warehouse=None):
    """The 3PL sandbox's seed (same catalogue, same kinds of SKU, same orders) with the stock in ShipHero."""
    return seeding.seed_with_wms(
        om,
        stock_wms=stock_in_shiphero(account),
        orderable=orderable_in_shiphero(account),
        orders=orders,
        skus=skus,
        seed=seed,
        warehouse=warehouse,
    )


def set_up(
    tenant: Tenant,
    base_url: str,
    *,
    activate: bool,
    user=None,
    seed_orders: int = 0,
    seed_skus: int = 0,
    seed_value: int | None = None,
) -> ShipHeroSandboxSetup:
    """Create or update `tenant`'s ShipHero sandbox accounts and its connection to them (module docstring)."""
    base = sandbox_onboarding.sandbox_base(base_url)
    password, refresh_token = secrets.token_urlsafe(18), secrets.token_urlsafe(32)
    with transaction.atomic():
        om = account_setup.ensure_om_account(om_username(tenant.slug), password, warehouse_name=OM_WAREHOUSE_NAME)
        om_wh = account_setup.om_warehouse(om, OM_WAREHOUSE_NAME)
        account = shiphero_control.ensure_account(
            shiphero_key(tenant.slug),
            refresh_token,
            customer_account_name=tenant.name,
            warehouse_identifier=SHIPHERO_WAREHOUSE,
            is_3pl=True,
            account_name=f"{tenant.name} 3PL (sandbox)",
        )
        warehouse = Warehouse.objects.filter(tenant=tenant, name=WAREHOUSE_NAME).first() or Warehouse(
            tenant=tenant, name=WAREHOUSE_NAME, wms_system=SHIPHERO
        )
        if warehouse.wms_system != SHIPHERO:
            raise sandbox_onboarding.SandboxSetupError(
                f"The tenant's warehouse “{WAREHOUSE_NAME}” runs another system; rename it first."
            )
        warehouse.wms_base_url = f"{base}{SHIPHERO_PATH}"
        warehouse.shiphero_refresh_token = refresh_token
        warehouse.shiphero_customer_account_id = shiphero_control.customer_account_id(account, tenant.name)
        warehouse.shiphero_warehouse_id = shiphero_control.warehouse_id(account, SHIPHERO_WAREHOUSE)
        warehouse.save()
        connection = OrderManagerConnection.objects.filter(warehouse=warehouse).first()
        created = connection is None
        connection = connection or OrderManagerConnection(warehouse=warehouse)
        connection.base_url = connection.auth_base_url = f"{base}{sandbox_accounts.OM_PATH}"
        connection.warehouse_name = OM_WAREHOUSE_NAME
        connection.om_warehouse_id, connection.om_warehouse_type = om_wh.pk, om_wh.type
        if activate and not connection.is_activated:
            connection.activated_at, connection.activated_by = timezone.now(), user
        connection.save()
        grant, cid = sandbox_onboarding.install_app(connection, om, redirect_uri=f"{base}/om/connect/callback")
        om_connect.store_grant(connection, grant, user=user, account=f"cid {cid}")
        seeded = None
        if (seed_orders or seed_skus) and not OmProduct.objects.filter(account=om).exists():
            seeded = seed(om, account, orders=seed_orders, skus=seed_skus, seed=seed_value, warehouse=om_wh)
    return ShipHeroSandboxSetup(
        tenant=tenant,
        warehouse=warehouse,
        connection=connection,
        created=created,
        om=om,
        om_password=password,
        account=account,
        refresh_token=refresh_token,
        seeded=seeded,
    )
