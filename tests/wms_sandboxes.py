"""One sandbox tenant per warehouse system, behind one interface, so the job tests run for every
system the hub delivers to (parametrised over `SYSTEMS`, not copied).

`tenant(live_server, slug, system, orders=, skus=, seed=)` onboards a tenant against the live
sandbox on `system` (the 3PL Warehouse Manager sandbox through `manage.py sandbox tenant`, the
ShipHero sandbox through `tenants.sandbox_shiphero.set_up`), seeded with the same catalogue and
orders, and returns a `SandboxTenant`: its connection and accounts, and what a test asks of the
warehouse side in the system's own terms: ship orders, cancel in Order Manager, the orders at the
WMS per hub reference (duplicates are any reference held more than once) and by status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.sandbox.control import fault_setup, order_events, status_report
from connectors.sandbox.models import ShipHeroOrder, ShipHeroWarehouseProduct
from connectors.shiphero.client import ShipHeroClient
from connectors.shiphero.sandbox import control as shiphero_control
from connectors.warehouse_manager.client import WarehouseManagerClient
from tenants import sandbox_shiphero
from tenants.models import OrderManagerConnection, Tenant
from tests.sandbox_helpers import accounts, sandbox_tenant

THREEPL = "3pl_warehouse_manager"
SHIPHERO = "shiphero"
SYSTEMS = [THREEPL, SHIPHERO]
CREDITS_PER_SECOND = 100_000.0


@dataclass
class SandboxTenant:
    system: str
    slug: str
    connection: OrderManagerConnection
    om: Any
    wms: Any  # WmsAccount or ShipHeroAccount

    def ship(self, count: int | None = None, *, seed: int | None = None) -> list[dict]:
        """Ship up to `count` open orders at the WMS (all when None), oldest first: one tracked
        package each; [{"reference", "tracking_numbers"}]."""
        if self.system == SHIPHERO:
            shipped = shiphero_control.ship(self.wms, count, seed=seed)
            return [{"reference": s["partner_order_id"], "tracking_numbers": s["tracking_numbers"]} for s in shipped]
        shipped = order_events.ship(self.wms, count, seed=seed)
        return [{"reference": s["referenceNum"], "tracking_numbers": [s["trackingNumber"]]} for s in shipped]

    def cancel_in_order_manager(self, count: int) -> list[dict]:
        """Cancel `count` Order Manager orders, those open at the WMS first where the system says."""
        return order_events.cancel(self.om, count, wms_account=self.wms if self.system == THREEPL else None)

    def order_manager(self) -> dict:
        return status_report.order_manager_status(self.om)

    def orders_per_reference(self) -> dict[str, int]:
        """Orders at the WMS per hub reference (Order Manager order number), whatever their status."""
        if self.system == SHIPHERO:
            counts: dict[str, int] = {}
            for reference in ShipHeroOrder.objects.filter(account=self.wms).values_list("partner_order_id", flat=True):
                counts[reference] = counts.get(reference, 0) + 1
            return counts
        return status_report.warehouse_manager_status(self.wms)["orders_per_reference_num"]

    def duplicates(self) -> dict[str, int]:
        return {reference: n for reference, n in self.orders_per_reference().items() if n > 1}

    def orders_at_wms_by_status(self) -> dict[str, int]:
        """Orders at the WMS by status, in neutral words: open, shipped, canceled."""
        if self.system == SHIPHERO:
            words = {"pending": "open", "fulfilled": "shipped", "canceled": "canceled"}
            raw = shiphero_control.status(self.wms)["orders"]
            return {words.get(status, status): n for status, n in raw.items()}
        raw = status_report.warehouse_manager_status(self.wms)["orders_by_status"]
        return {{"closed": "shipped"}.get(status, status): n for status, n in raw.items()}


def tenant(live_server, slug: str, system: str, *, orders: int = 0, skus: int = 0, seed: int = 1) -> SandboxTenant:
    """A tenant onboarded and activated against the live sandbox on `system`, optionally seeded."""
    if system == SHIPHERO:
        owner, _ = Tenant.objects.get_or_create(slug=slug, defaults={"name": slug.title()})
        made = sandbox_shiphero.set_up(
            owner, live_server.url, activate=True, seed_orders=orders, seed_skus=skus, seed_value=seed
        )
        # Every call still pays its credits, at a refill the job tests do not queue on (the throttle
        # itself is tested in tests/test_shiphero_credits.py and test_shiphero_sandbox_credits.py):
        # at the documented 60 a second, each stock page of 100 waits ~20 s for the bucket.
        shiphero_control.configure_credits(made.account, credits_per_second=CREDITS_PER_SECOND)
        connection = OrderManagerConnection.objects.select_related("warehouse__tenant").get(pk=made.connection.pk)
        return SandboxTenant(system, slug, connection, made.om, made.account)
    connection = sandbox_tenant(live_server, slug, orders=orders, skus=skus, seed=seed)
    om, wms = accounts(slug)
    return SandboxTenant(system, slug, connection, om, wms)


# ------------------------------------------------------------------ for the fault matrix (tests/test_fault_matrix.py)
# The seam where each system's create call can be faulted with `responses` (everything else passed
# through), the words the hub uses for that call, and the WMS-side stock both systems can spoil.

WMS_CREATE_PATH = {THREEPL: "/sandbox/warehouse-manager/orders", SHIPHERO: "/sandbox/shiphero/graphql"}
WMS_CREATE_CALL = {THREEPL: "POST /orders", SHIPHERO: "POST /graphql"}
UNUSABLE_STOCK_WORDS = {
    THREEPL: "invalid available quantity for SKU {sku} ({value:.1f})",
    SHIPHERO: "available quantity for {sku} is not a whole number of 0 or more ({value})",
}


def wms_create_match(live_server, system: str) -> dict:
    """Keyword arguments of `responses.add` (or `add_callback`) matching only the WMS's create call:
    POST /orders, or the GraphQL POST whose operationName is CreateOrder."""
    if system == SHIPHERO:
        return wms_operation_match(live_server, "CreateOrder")
    return {"method": "POST", "url": f"{live_server.url}{WMS_CREATE_PATH[system]}"}


def forward(live_server, request) -> tuple[int, dict, bytes]:
    """Send a `responses`-intercepted request on to the live sandbox over urllib (which `responses`
    does not intercept): the sandbox really does the work; (status, headers, body) of its answer."""
    import urllib.error
    import urllib.request

    headers = {k: v for k, v in request.headers.items() if k.lower() not in ("content-length", "host")}
    outgoing = urllib.request.Request(request.url, data=request.body, headers=headers, method=request.method)
    try:
        with urllib.request.urlopen(outgoing, timeout=30) as answer:
            return answer.status, {"Content-Type": answer.headers.get("Content-Type", "")}, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, {"Content-Type": error.headers.get("Content-Type", "")}, error.read()


def set_wms_available(t: SandboxTenant, sku: str, value: int) -> None:
    """Make the WMS report `value` (e.g. negative) as the available quantity of `sku`."""
    if t.system == SHIPHERO:
        from connectors.sandbox.models import ShipHeroWarehouseProduct

        rows = ShipHeroWarehouseProduct.objects.filter(warehouse__account=t.wms, product__sku=sku)
    else:
        from connectors.sandbox.models import WmsStock

        rows = WmsStock.objects.filter(account=t.wms, item__sku=sku)
    assert rows.update(available=value) >= 1, sku


def wms_stock_match(live_server, system: str) -> dict:
    """Keyword arguments of `responses.add` matching only the WMS's stock read (every page)."""
    if system == SHIPHERO:
        return wms_operation_match(live_server, "WarehouseStock")
    return {"method": "GET", "url": f"{live_server.url}/sandbox/warehouse-manager/inventory/stocksummaries"}


def wms_operation_match(live_server, operation_name: str) -> dict:
    """Keyword arguments of `responses.add` matching one ShipHero GraphQL operation by name."""
    from responses import matchers

    return {
        "method": "POST",
        "url": f"{live_server.url}{WMS_CREATE_PATH[SHIPHERO]}",
        "match": [matchers.json_params_matcher({"operationName": operation_name}, strict_match=False)],
    }


# -- For the soak (tests/test_soak.py) and the crash points (tests/test_crash_points.py) ----------
def configure_wms_faults(sandboxed: SandboxTenant, **values) -> None:
    """Set fault fields (`fault_setup.FAULT_FIELDS`: rates, latency, seed, ...) on the tenant's WMS
    account, whichever system it is on (`clear=True` first resets every field)."""
    side = "shiphero_account" if sandboxed.system == SHIPHERO else "wms_account"
    fault_setup.configure_faults(**{side: sandboxed.wms}, **values)


def clear_wms_faults(sandboxed: SandboxTenant) -> None:
    configure_wms_faults(sandboxed, clear=True)


def count_wms_creates(monkeypatch, system: str) -> list[str]:
    """Every order create the hub sends to `system`'s WMS from now on (at the adapter seam, from any
    thread), by reference, in order: a reference twice is an order sent twice."""
    client = ShipHeroClient if system == SHIPHERO else WarehouseManagerClient
    real = client.create_order
    sent: list[str] = []

    def counting(self, body, *args, **kwargs):
        sent.append(str(body.get("partner_order_id") or body.get("referenceNum") or ""))
        return real(self, body, *args, **kwargs)

    monkeypatch.setattr(client, "create_order", counting)
    return sent


def stock_available(sandboxed: SandboxTenant) -> dict[str, int]:
    """Available units per SKU at the WMS (summed over its warehouses); the fault matrix and the crash points."""
    if sandboxed.system == SHIPHERO:
        available: dict[str, int] = {}
        rows = ShipHeroWarehouseProduct.objects.filter(warehouse__account=sandboxed.wms)
        for sku, units in rows.values_list("product__sku", "available"):
            available[sku] = available.get(sku, 0) + units
        return available
    return status_report.warehouse_manager_status(sandboxed.wms)["stock_available"]
