"""The four jobs against the sandbox over a real socket, for every warehouse system the hub delivers
to (`tests.wms_sandboxes.SYSTEMS`): orders reach the WMS exactly once, cancellations are handled,
tracking reaches Order Manager once per number, and inventory follows the unlocked rule; and a
tenant on each system in the same hub, side by side."""

import pytest

from hub.engine.runner import run_job
from hub.models import InventoryLine, Job, OrderRecord, SyncRun
from tests import wms_sandboxes

pytestmark = pytest.mark.django_db(transaction=True)


def succeeded(connection, job) -> SyncRun:
    run = run_job(connection, job)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error or [
        (r.order_number, r.last_error) for r in OrderRecord.objects.filter(connection=connection).exclude(last_error="")
    ]
    return run


@pytest.mark.parametrize("system", wms_sandboxes.SYSTEMS)
def test_orders_reach_the_wms_once_and_rerun_changes_nothing(live_server, system):
    acme = wms_sandboxes.tenant(live_server, "acme", system, orders=12, skus=6)
    run = succeeded(acme.connection, Job.ORDER_DOWNLOAD)
    assert (run.fetched, run.created) == (12, 12)
    assert len(acme.orders_per_reference()) == 12 and acme.duplicates() == {}
    assert OrderRecord.objects.filter(status=OrderRecord.Status.AT_WMS).count() == 12
    assert acme.order_manager()["orders_by_status"].get("AWAITING_3PL_EXPORT", 0) == 0

    again = succeeded(acme.connection, Job.ORDER_DOWNLOAD)
    assert (again.created, again.updated) == (0, 0)
    assert sum(acme.orders_per_reference().values()) == 12


def cancel_ship_confirm_and_inventory(beta: wms_sandboxes.SandboxTenant, orders: int) -> None:
    connection = beta.connection
    records = OrderRecord.objects.filter(connection=connection)
    succeeded(connection, Job.ORDER_DOWNLOAD)
    beta.cancel_in_order_manager(2)
    succeeded(connection, Job.CANCEL_DOWNLOAD)
    assert records.filter(status=OrderRecord.Status.CANCELLED).count() == 2
    assert beta.orders_at_wms_by_status().get("canceled") == 2

    beta.ship()
    succeeded(connection, Job.SHIPMENT_CONFIRMATION)
    assert records.filter(status=OrderRecord.Status.CONFIRMED).count() == orders - 2
    shipments = beta.order_manager()["shipments"]
    assert shipments["duplicates"] == 0
    assert shipments["count"] == sum(len(r.tracking_numbers) for r in records.filter(status="confirmed"))
    rerun = succeeded(connection, Job.SHIPMENT_CONFIRMATION)
    assert beta.order_manager()["shipments"]["count"] == shipments["count"]
    assert rerun.updated == 0

    inv = succeeded(connection, Job.INVENTORY_SYNC)
    stock = beta.order_manager()["stock"]
    lines = InventoryLine.objects.filter(run=inv)
    assert lines.filter(result=InventoryLine.Result.UPDATED).exists()
    for line in lines.filter(result=InventoryLine.Result.UPDATED):
        assert stock[line.sku]["on_hand"] == line.wms_available + stock[line.sku]["locked"]
    assert lines.filter(result=InventoryLine.Result.NO_STARTING_INVENTORY).exists()
    second = succeeded(connection, Job.INVENTORY_SYNC)
    assert second.updated == 0
    assert not any(c["path"].endswith("/inventory/adjust") for c in second.calls)


@pytest.mark.parametrize("system", wms_sandboxes.SYSTEMS)
def test_cancel_ship_confirm_and_inventory(live_server, system):
    cancel_ship_confirm_and_inventory(wms_sandboxes.tenant(live_server, "beta", system, orders=10, skus=8), 10)


def test_a_tenant_on_each_system_in_the_same_hub_runs_the_four_jobs_side_by_side(live_server):
    on_3pl = wms_sandboxes.tenant(live_server, "gamma", wms_sandboxes.THREEPL, orders=6, skus=5, seed=3)
    on_shiphero = wms_sandboxes.tenant(live_server, "delta", wms_sandboxes.SHIPHERO, orders=7, skus=5, seed=4)
    for sandboxed, orders in ((on_3pl, 6), (on_shiphero, 7)):
        cancel_ship_confirm_and_inventory(sandboxed, orders)
    # Each tenant's orders went to its own system only, once.
    for sandboxed in (on_3pl, on_shiphero):
        numbers = set(
            OrderRecord.objects.filter(connection=sandboxed.connection).values_list("order_number", flat=True)
        )
        assert set(sandboxed.orders_per_reference()) == numbers and sandboxed.duplicates() == {}
    # And Reconciliation finds both systems in agreement with Order Manager.
    for sandboxed in (on_3pl, on_shiphero):
        run = succeeded(sandboxed.connection, Job.RECONCILIATION)
        assert not run.error
