"""Django-side set-up shared by the benchmarks: sandbox tenants, seeding, fault config, profiling.

`onboard(slug, base_url, orders, skus, seed, system=...)` sets a tenant up on the sandbox of one
warehouse system and returns the credentials the wire scripts use:
- `"3pl_warehouse_manager"` (the default): `manage.py sandbox tenant` and `sandbox seed` (the same
  code paths as the demo and the tests), the credentials JSON the command prints;
- `"shiphero"`: `tenants.sandbox_shiphero.set_up` (what the demo's tenant on ShipHero runs), seeded
  with the same catalogue and orders, the stock in ShipHero; `{"system", "order_manager",
  "shiphero"}` with the refresh token and the ids the hub's warehouse holds.
`set_shiphero_credits(slug, per_second, credits_max)` sets the sandbox ShipHero account's bucket.
"""

from __future__ import annotations

import io
import json
import time
from contextlib import contextmanager
from pathlib import Path

from django.core.management import call_command

RESULTS = Path(__file__).resolve().parent / "results"


THREEPL, SHIPHERO = "3pl_warehouse_manager", "shiphero"


def onboard(slug: str, base_url: str, *, orders: int = 0, skus: int = 0, seed: int = 1, system: str = THREEPL) -> dict:
    if system == SHIPHERO:
        return _onboard_shiphero(slug, base_url, orders=orders, skus=skus, seed=seed)
    if system != THREEPL:
        raise ValueError(f"no sandbox onboarding for the warehouse system {system!r}")
    out = io.StringIO()
    call_command("sandbox", "tenant", slug, "--base-url", base_url, stdout=out)
    creds = json.loads(out.getvalue())
    started = time.monotonic()
    if orders or skus:
        call_command(
            "sandbox",
            "seed",
            "--tenant",
            slug,
            "--orders",
            str(orders),
            "--skus",
            str(skus),
            "--seed",
            str(seed),
            stdout=io.StringIO(),
        )
    creds["seed_seconds"] = time.monotonic() - started
    return creds


def _onboard_shiphero(slug: str, base_url: str, *, orders: int, skus: int, seed: int) -> dict:
    from tenants import sandbox_shiphero
    from tenants.models import Tenant

    started = time.monotonic()
    tenant, _ = Tenant.objects.get_or_create(slug=slug, defaults={"name": slug.replace("-", " ").title()})
    done = sandbox_shiphero.set_up(tenant, base_url, activate=True, seed_orders=orders, seed_skus=skus, seed_value=seed)
    connection, warehouse = done.connection, done.warehouse
    return {
        "system": SHIPHERO,
        "tenant": {"id": tenant.pk, "slug": tenant.slug},
        "order_manager": {
            "connection_id": connection.pk,
            "base_url": connection.base_url,
            "access_token": str(connection.access_token),
            "warehouse_id": connection.om_warehouse_id,
        },
        "shiphero": {
            "base_url": warehouse.wms_base_url,
            "refresh_token": done.refresh_token,
            "customer_account_id": warehouse.shiphero_customer_account_id,
            "warehouse_id": warehouse.shiphero_warehouse_id,
        },
        "seed_seconds": time.monotonic() - started,
    }


def set_shiphero_credits(slug: str, per_second: float, credits_max: int | None = None) -> dict:
    """The sandbox ShipHero account's bucket (`control.configure_credits`: it starts full)."""
    from connectors.sandbox.models import ShipHeroAccount
    from connectors.shiphero.sandbox import control
    from tenants import sandbox_shiphero

    account = ShipHeroAccount.objects.get(key=sandbox_shiphero.shiphero_key(slug))
    control.configure_credits(account, credits_max=credits_max, credits_per_second=per_second)
    return {"credits_max": account.credits_max, "credits_per_second": account.credits_per_second}


def connection_of(slug: str):
    from tenants.models import OrderManagerConnection

    return OrderManagerConnection.objects.select_related("warehouse__tenant").get(warehouse__tenant__slug=slug)


def accounts(slug: str):
    """The tenant's sandbox (Order Manager account, WMS account)."""
    from tenants import sandbox_accounts

    found = sandbox_accounts.for_slug(slug)
    return found.om, found.wms


def set_om_quota(slug: str, per_second: float | None) -> None:
    from connectors.sandbox.control import fault_setup

    om, _ = accounts(slug)
    fault_setup.configure_faults(om_account=om, quota_per_second=per_second or 0)


@contextmanager
def profiled(name: str | None):
    """pyinstrument around the block when `name` is given; the text report goes to results/profile-<name>.txt."""
    if not name:
        yield
        return
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.002)
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        RESULTS.mkdir(exist_ok=True)
        text = profiler.output_text(unicode=True, color=False, show_all=False)
        # pyinstrument prints where profiling started as an absolute path: keep results machine-neutral.
        text = text.replace(f"{RESULTS.parent.parent}/", "")
        (RESULTS / f"profile-{name}.txt").write_text(text)


def settle() -> dict:
    """Fresh planner statistics and no dead rows before a timed run, so that whichever of the hub
    and the wire script runs second does not pay for the first one's writes (bulk-updated stock
    rows, thousands of new orders) or profit from autovacuum having caught up meanwhile."""
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {"seconds": time.monotonic() - started}


def wms_orders(slug: str, system: str = THREEPL) -> int:
    """How many orders the tenant's sandbox WMS account holds (counted at the WMS, not the hub)."""
    if system == SHIPHERO:
        from connectors.sandbox.models import ShipHeroOrder
        from tenants import sandbox_shiphero

        return ShipHeroOrder.objects.filter(account__key=sandbox_shiphero.shiphero_key(slug)).count()
    from connectors.sandbox.models import WmsOrder

    _, wms = accounts(slug)
    return WmsOrder.objects.filter(account=wms).count()


@contextmanager
def shiphero_operations():
    """Counts the hub's ShipHero operations by name and the credits each answer said it cost
    (`CreditBucket.settle` sees every answered operation's `complexity`); yields the dict."""
    from connectors.shiphero.credits import CreditBucket

    counted: dict = {"by_operation": {}, "credits_by_operation": {}, "credits": 0}
    original = CreditBucket.settle

    def settle(self, operation, reserved, complexity):
        counted["by_operation"][operation] = counted["by_operation"].get(operation, 0) + 1
        cost = complexity if isinstance(complexity, int) else 0
        counted["credits_by_operation"][operation] = counted["credits_by_operation"].get(operation, 0) + cost
        counted["credits"] += cost
        return original(self, operation, reserved, complexity)

    CreditBucket.settle = settle
    try:
        yield counted
    finally:
        CreditBucket.settle = original


def set_wms_rate(slug: str, per_second: float) -> None:
    """The tenant's `Warehouse.wms_requests_per_second` (the hub's own limiter per WMS login, 10/s by
    default): set out of the way when it is not what is measured."""
    from tenants.models import Warehouse

    Warehouse.objects.filter(tenant__slug=slug).update(wms_requests_per_second=per_second)
