"""Inventory Sync against the sandbox over a real socket (pytest-django live_server)."""

import pytest

from connectors.order_manager.client import OrderManagerClient
from connectors.sandbox.models import OmProduct, OmStock, WmsStock
from hub.engine.runner import run_job
from hub.jobs import inventory_sync
from hub.models import InventoryLine, Job, SyncRun
from tests import factories
from tests.sandbox_helpers import accounts, sandbox_tenant, status

Result = InventoryLine.Result
ADJUST_PATH = "/v1.1/inventory/adjust"
SLUG = "stock"

live = pytest.mark.django_db(transaction=True)


def adjust_calls(run) -> list:
    return [c for c in run.calls if c["method"] == "POST" and c["path"] == ADJUST_PATH]


def set_stock(
    sku: str, *, wms_available: int | None = None, om_on_hand: int | None = None, om_locked: int | None = None
):
    om, wms = accounts(SLUG)
    if wms_available is not None:
        WmsStock.objects.filter(account=wms, item__sku=sku).update(available=wms_available)
    changes = {k: v for k, v in (("on_hand", om_on_hand), ("locked", om_locked)) if v is not None}
    if changes:
        assert OmStock.objects.filter(product__account=om, product__master_sku=sku).update(**changes) == 1


def lines(run) -> dict[str, InventoryLine]:
    return {line.sku: line for line in InventoryLine.objects.filter(run=run)}


@live
def test_unlocked_rule_no_starting_inventory_and_a_second_run_writes_nothing(live_server):
    connection = sandbox_tenant(live_server, SLUG, skus=12)
    set_stock("SKU-1", wms_available=10, om_on_hand=3, om_locked=10)  # 10 locked + 10 at the warehouse
    set_stock("SKU-10", wms_available=7, om_on_hand=0, om_locked=0)  # "SKU-1" is a prefix of it
    before = status(SLUG)["order_manager"]

    run = run_job(connection, Job.INVENTORY_SYNC)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    after = status(SLUG)["order_manager"]
    assert after["stock"]["SKU-1"] == {"on_hand": 20, "locked": 10, "warehouse": "Sandbox 3PL"}
    assert after["stock"]["SKU-10"]["on_hand"] == 7

    seen = lines(run)
    assert len(seen) == run.fetched == 12  # one line per WMS SKU
    assert (seen["SKU-1"].om_locked, seen["SKU-1"].on_hand_written, seen["SKU-1"].result) == (10, 20, Result.UPDATED)
    wms = status(SLUG)["warehouse_manager"]["stock_available"]
    for sku, line in seen.items():
        if line.result == Result.UPDATED:
            assert after["stock"][sku]["on_hand"] == wms[sku] + after["stock"][sku]["locked"], sku
            assert after["stock"][sku]["locked"] == before["stock"][sku]["locked"]  # locked left as it is

    missing = {sku for sku, line in seen.items() if line.result == Result.NO_STARTING_INVENTORY}
    assert missing == {"SKU-3"} == set(before["skus_without_starting_inventory"]) & set(seen)
    assert "assign starting inventory" in seen["SKU-3"].message and seen["SKU-3"].on_hand_written is None
    assert "SKU-3" not in after["stock"]  # reported, never created
    assert "SKU-3" in after["skus_without_starting_inventory"]
    assert after["stock"]["OMONLY-1"] == before["stock"]["OMONLY-1"]  # not at the WMS: not touched
    assert run.updated == sum(1 for line in seen.values() if line.result == Result.UPDATED)

    second = run_job(connection, Job.INVENTORY_SYNC)
    assert second.status == SyncRun.Status.SUCCEEDED
    assert second.updated == 0 and adjust_calls(second) == []
    assert {line.result for line in lines(second).values()} == {Result.UNCHANGED, Result.NO_STARTING_INVENTORY}


@live
def test_only_changed_skus_are_written_at_most_200_per_call(live_server, monkeypatch):
    connection = sandbox_tenant(live_server, SLUG, skus=250)
    om, wms = accounts(SLUG)
    available = dict(WmsStock.objects.filter(account=wms).values_list("item__sku", "available"))
    unchanged = set()
    for stock in OmStock.objects.filter(product__account=om).select_related("product"):
        sku = stock.product.master_sku
        if sku not in available:
            continue
        right = available[sku] + stock.locked
        if len(unchanged) < 10:  # these already show the right number
            stock.on_hand = right
            unchanged.add(sku)
        else:
            stock.on_hand = right + 1
        stock.save(update_fields=["on_hand"])
    with_stock = {s for s in available if OmStock.objects.filter(product__account=om, product__master_sku=s).exists()}
    changed = with_stock - unchanged
    assert len(changed) > 200

    sent_batches = []
    real_adjust = OrderManagerClient.adjust_inventory

    def spy(self, items, **kwargs):
        sent_batches.append([item["masterSku"] for item in items])
        return real_adjust(self, items, **kwargs)

    monkeypatch.setattr(OrderManagerClient, "adjust_inventory", spy)
    run = run_job(connection, Job.INVENTORY_SYNC)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert [len(batch) for batch in sent_batches] == [200, len(changed) - 200]
    assert set().union(*sent_batches) == changed  # never an unchanged SKU
    assert len(adjust_calls(run)) == 2
    assert run.updated == len(changed)
    assert {sku for sku, line in lines(run).items() if line.result == Result.UNCHANGED} == unchanged

    sent_batches.clear()
    second = run_job(connection, Job.INVENTORY_SYNC)
    assert sent_batches == [] and adjust_calls(second) == [] and second.updated == 0


@live
def test_err097_and_err053_are_recorded_per_sku(live_server, monkeypatch):
    """Stock removed in Order Manager between the read and the write: its answers land on the lines."""
    connection = sandbox_tenant(live_server, SLUG, skus=5)
    for sku in ("SKU-1", "SKU-2", "SKU-4"):
        set_stock(sku, wms_available=5, om_on_hand=1, om_locked=0)
    om, _ = accounts(SLUG)
    real_totals = OrderManagerClient.iter_stock_totals

    def then_removed(self, *args, **kwargs):
        yield from real_totals(self, *args, **kwargs)
        OmStock.objects.filter(product__account=om, product__master_sku="SKU-2").delete()  # -> ERR097
        OmProduct.objects.filter(account=om, master_sku="SKU-4").delete()  # -> ERR053

    monkeypatch.setattr(OrderManagerClient, "iter_stock_totals", then_removed)
    run = run_job(connection, Job.INVENTORY_SYNC)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    seen = lines(run)
    assert (seen["SKU-1"].result, seen["SKU-1"].on_hand_written) == (Result.UPDATED, 5)
    assert seen["SKU-2"].result == Result.NO_STARTING_INVENTORY and seen["SKU-2"].message.startswith("ERR097: ")
    assert seen["SKU-4"].result == Result.UNKNOWN_PRODUCT and seen["SKU-4"].message.startswith("ERR053: ")
    assert seen["SKU-2"].on_hand_written is seen["SKU-4"].on_hand_written is None
    assert run.failed == 0
    assert not OmStock.objects.filter(product__account=om, product__master_sku="SKU-2").exists()  # not created


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields, reason",
    [
        (dict(warehouse_name=""), "Inventory Sync needs the Order Manager warehouse name"),
        (dict(om_warehouse_type="DIRECT_FULFILLMENT"), "is of type DIRECT_FULFILLMENT"),
    ],
)
def test_refused_without_a_usable_warehouse(fields, reason):
    connection = factories.OrderManagerConnectionFactory(**fields)
    run = run_job(connection, Job.INVENTORY_SYNC)
    assert run.status == SyncRun.Status.FAILED and run.job == Job.INVENTORY_SYNC
    assert reason in run.error
    assert run.requests_made == 0 and not InventoryLine.objects.exists()


@live
def test_implausible_stock_is_held_with_a_reason_and_an_alert_while_the_rest_is_written(live_server):
    # Issue 15, finding 3: a WMS available of 10^15 became Order Manager's on-hand. (The sandbox's
    # stock column is 32-bit on PostgreSQL, so 2,000,000 stands for it: above the 1,000,000 bound.)
    from hub.models import Alert
    from hub.ops.alerts import lifecycle

    connection = sandbox_tenant(live_server, SLUG, skus=12)
    set_stock("SKU-1", wms_available=50, om_on_hand=0, om_locked=0)
    set_stock("SKU-2", wms_available=40, om_on_hand=0, om_locked=0)
    first = run_job(connection, Job.INVENTORY_SYNC)
    assert first.status == SyncRun.Status.SUCCEEDED, first.error
    assert status(SLUG)["order_manager"]["stock"]["SKU-1"]["on_hand"] == 50

    set_stock("SKU-1", wms_available=2_000_000)  # above the bound
    set_stock("SKU-2", wms_available=40_000)  # 1000x and +39,960 since the last sync: a jump
    set_stock("SKU-4", wms_available=77)  # an ordinary change, written
    run = run_job(connection, Job.INVENTORY_SYNC)
    stock = status(SLUG)["order_manager"]["stock"]
    assert stock["SKU-1"]["on_hand"] == 50 and stock["SKU-2"]["on_hand"] == 40  # not written
    assert stock["SKU-4"]["on_hand"] == 77 + stock["SKU-4"]["locked"]
    seen = lines(run)
    assert seen["SKU-1"].result == Result.HELD and seen["SKU-1"].on_hand_written is None
    assert "2,000,000" in seen["SKU-1"].message and "HUB_INVENTORY_MAX_QUANTITY" in seen["SKU-1"].message
    assert seen["SKU-2"].result == Result.HELD and "jump from 40" in seen["SKU-2"].message
    assert seen["SKU-4"].result == Result.UPDATED
    assert run.status == SyncRun.Status.PARTIAL and run.failed == 2

    lifecycle.evaluate(connection)
    alert = Alert.objects.get(connection=connection, cause=Alert.Cause.STOCK_HELD, cleared_at__isnull=True)
    assert "SKU-1, SKU-2" in alert.message
    lifecycle.evaluate(connection)
    assert Alert.objects.filter(connection=connection, cause=Alert.Cause.STOCK_HELD).count() == 1  # opens once

    set_stock("SKU-1", wms_available=60)
    set_stock("SKU-2", wms_available=45)
    fixed = run_job(connection, Job.INVENTORY_SYNC)
    assert fixed.status == SyncRun.Status.SUCCEEDED, fixed.error
    lifecycle.evaluate(connection)
    assert not Alert.objects.filter(
        connection=connection, cause=Alert.Cause.STOCK_HELD, cleared_at__isnull=True
    ).exists()


def test_implausible_bounds_follow_the_settings(settings):
    settings.HUB_INVENTORY_MAX_QUANTITY = 1000
    assert inventory_sync.implausible(1000, None) == ""
    assert "above the sane bound of 1,000" in inventory_sync.implausible(1001, None)
    settings.HUB_INVENTORY_MAX_QUANTITY = 10**9
    assert inventory_sync.implausible(10_000, 0) == ""  # +10,000 is not more than +10,000
    assert "jump from 0" in inventory_sync.implausible(10_001, 0)
    assert inventory_sync.implausible(5_000_000, 100_000) == ""  # 50x: a big restock, not a glitch
    assert inventory_sync.implausible(100, None) == ""  # never synced: only the bound applies
