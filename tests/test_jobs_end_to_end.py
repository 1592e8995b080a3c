"""The four jobs against the sandbox over a real socket: orders reach the WMS exactly once,
cancellations are handled, tracking reaches Order Manager once per number, and inventory
follows the unlocked rule."""

import pytest

from hub.engine.runner import run_job
from hub.models import InventoryLine, Job, OrderRecord, SyncRun
from tests.sandbox_helpers import sandbox, sandbox_tenant, status

pytestmark = pytest.mark.django_db(transaction=True)


def test_orders_reach_the_wms_once_and_rerun_changes_nothing(live_server):
    connection = sandbox_tenant(live_server, "acme", orders=12, skus=6)
    run = run_job(connection, Job.ORDER_DOWNLOAD)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert (run.fetched, run.created) == (12, 12)
    st = status("acme")
    assert st["warehouse_manager"]["orders_total"] == 12
    assert st["warehouse_manager"]["duplicate_reference_nums"] == {}
    assert OrderRecord.objects.filter(status=OrderRecord.Status.AT_WMS).count() == 12
    assert st["order_manager"]["orders_by_status"].get("AWAITING_3PL_EXPORT", 0) == 0

    again = run_job(connection, Job.ORDER_DOWNLOAD)
    assert again.status == SyncRun.Status.SUCCEEDED
    assert (again.created, again.updated) == (0, 0)
    assert status("acme")["warehouse_manager"]["orders_total"] == 12


def test_cancel_ship_confirm_and_inventory(live_server):
    connection = sandbox_tenant(live_server, "beta", orders=10, skus=8)
    assert run_job(connection, Job.ORDER_DOWNLOAD).status == SyncRun.Status.SUCCEEDED
    sandbox("cancel", "--tenant", "beta", "--count", "2")
    cancel_run = run_job(connection, Job.CANCEL_DOWNLOAD)
    assert cancel_run.status == SyncRun.Status.SUCCEEDED, cancel_run.error
    assert OrderRecord.objects.filter(status=OrderRecord.Status.CANCELLED).count() == 2
    assert status("beta")["warehouse_manager"]["orders_by_status"].get("canceled") == 2

    sandbox("ship", "--tenant", "beta")
    ship_run = run_job(connection, Job.SHIPMENT_CONFIRMATION)
    assert ship_run.status == SyncRun.Status.SUCCEEDED, ship_run.error
    assert OrderRecord.objects.filter(status=OrderRecord.Status.CONFIRMED).count() == 8
    shipments = status("beta")["order_manager"]["shipments"]
    assert shipments["duplicates"] == 0
    assert shipments["count"] == sum(len(r.tracking_numbers) for r in OrderRecord.objects.filter(status="confirmed"))
    rerun = run_job(connection, Job.SHIPMENT_CONFIRMATION)
    assert status("beta")["order_manager"]["shipments"]["count"] == shipments["count"]
    assert rerun.updated == 0

    inv = run_job(connection, Job.INVENTORY_SYNC)
    assert inv.status == SyncRun.Status.SUCCEEDED, inv.error
    st = status("beta")
    for line in InventoryLine.objects.filter(run=inv):
        if line.result == InventoryLine.Result.UPDATED:
            om = st["order_manager"]["stock"][line.sku]
            assert om["on_hand"] == line.wms_available + om["locked"]
    results = set(InventoryLine.objects.filter(run=inv).values_list("result", flat=True))
    assert InventoryLine.Result.NO_STARTING_INVENTORY in results
    second = run_job(connection, Job.INVENTORY_SYNC)
    assert second.updated == 0
    assert not any(c["path"].endswith("/inventory/adjust") for c in second.calls)
