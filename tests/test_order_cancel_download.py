"""Order Cancel Download against the sandbox over a real socket (pytest-django live_server)."""

import pytest

from connectors.errors import ServerError
from connectors.sandbox import clock
from connectors.sandbox.control import order_events, seeding
from connectors.sandbox.models import OmOrder, OmOrderItem, OmProduct, OrderStatus, WmsOrder, WmsOrderStatus
from connectors.warehouse_manager.client import WarehouseManagerClient
from hub.engine import runner
from hub.engine.runner import run_job
from hub.jobs import order_cancel_download, order_download
from hub.models import Job, OrderEvent, OrderRecord, SyncRun
from tenants import clients
from tests.sandbox_helpers import accounts, sandbox_tenant, status

pytestmark = pytest.mark.django_db(transaction=True)

Status, Kind = OrderRecord.Status, OrderEvent.Kind
SLUG = "cancels"


@pytest.fixture
def connection(live_server):
    """A sandbox tenant whose 3 orders are at the WMS."""
    connection = sandbox_tenant(live_server, SLUG, orders=3, skus=4)
    assert run_job(connection, Job.ORDER_DOWNLOAD).status == SyncRun.Status.SUCCEEDED
    return connection


def cancel_in_om(*numbers: str) -> None:
    om, _ = accounts(SLUG)
    assert OmOrder.objects.filter(account=om, order_number__in=numbers).update(
        status=OrderStatus.CANCELLED, modified_date=clock.now()
    ) == len(numbers)


def wms_status(number: str) -> int:
    _, wms = accounts(SLUG)
    return WmsOrder.objects.get(account=wms, reference_num=number).status


def wms_writes(run) -> list:
    """Writes to the WMS (and to Order Manager: there are none besides sign-in tokens)."""
    return [c for c in run.calls if c["method"] != "GET" and not c["path"].lower().endswith("/token")]


def kinds(number: str) -> list:
    return list(OrderEvent.objects.filter(order__order_number=number).values_list("kind", flat=True))


def test_new_orders_are_never_sent_at_wms_ones_are_cancelled_and_others_skipped(connection, monkeypatch):
    # Three more orders downloaded but not sent yet (a run that stopped after the download).
    om, wms = accounts(SLUG)
    seeding.seed(om, wms, orders=3, skus=0)
    monkeypatch.setattr(order_download, "send_due_orders", lambda ctx: None)
    run_job(connection, Job.ORDER_DOWNLOAD)
    monkeypatch.undo()
    assert OrderRecord.objects.filter(status=Status.NEW).count() == 3
    # And two orders the hub never downloaded.
    seeding.seed(om, wms, orders=2, skus=0, status=OrderStatus.AWAITING_SHIPMENT)

    cancel_in_om("SO-000001", "SO-000002", "SO-000004", "SO-000005", "SO-000007", "SO-000008")
    run = run_job(connection, Job.CANCEL_DOWNLOAD)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert (run.fetched, run.updated, run.skipped, run.failed) == (6, 4, 2, 0)

    for number in ("SO-000001", "SO-000002"):  # were at the WMS: cancelled there
        record = OrderRecord.objects.get(order_number=number)
        assert (record.status, record.cancel_requested, record.cancel_handled) == (Status.CANCELLED, True, True)
        assert wms_status(number) == WmsOrderStatus.CANCELED
        assert kinds(number)[-2:] == [Kind.CANCELLED_IN_OM, Kind.CANCEL_SENT]
    for number in ("SO-000004", "SO-000005"):  # never sent: cancelled here, no WMS call
        assert OrderRecord.objects.get(order_number=number).status == Status.CANCELLED
        assert kinds(number)[-2:] == [Kind.CANCELLED_IN_OM, Kind.CANCELLED_IN_OM]
    assert not OrderRecord.objects.filter(order_number__in=["SO-000007", "SO-000008"]).exists()
    assert len(wms_writes(run)) == 2  # two cancelers, nothing else written

    sent = run_job(connection, Job.ORDER_DOWNLOAD)
    assert sent.status == SyncRun.Status.SUCCEEDED, sent.error
    at_wms = set(status(SLUG)["warehouse_manager"]["orders_per_reference_num"])
    assert at_wms == {"SO-000001", "SO-000002", "SO-000003", "SO-000006"}  # cancelled new ones never went
    assert status(SLUG)["warehouse_manager"]["orders_by_status"] == {"canceled": 2, "open": 2}

    rerun = run_job(connection, Job.CANCEL_DOWNLOAD)  # nothing new: nothing written anywhere
    assert rerun.updated == 0 and wms_writes(rerun) == []


def test_a_cancel_after_the_wms_shipped_is_too_late(connection):
    _, wms = accounts(SLUG)
    order_events.ship(wms, seed=1)
    cancel_in_om("SO-000002")
    run = run_job(connection, Job.CANCEL_DOWNLOAD)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    record = OrderRecord.objects.get(order_number="SO-000002")
    assert record.status == Status.CANCEL_FAILED and not record.cancel_handled
    assert record.last_error.startswith("Cancel too late: already shipped.")
    assert kinds("SO-000002")[-1] == Kind.CANCEL_TOO_LATE
    assert wms_status("SO-000002") == WmsOrderStatus.CLOSED
    assert wms_writes(run) == []

    rerun = run_job(connection, Job.CANCEL_DOWNLOAD)
    assert rerun.updated == 0 and not any(c["path"].startswith("/orders") for c in rerun.calls)


def test_a_shipped_order_cancelled_later_is_too_late_without_asking_the_wms(connection):
    OrderRecord.objects.filter(order_number="SO-000003").update(status=Status.SHIPPED)
    cancel_in_om("SO-000003")
    run = run_job(connection, Job.CANCEL_DOWNLOAD)
    assert OrderRecord.objects.get(order_number="SO-000003").status == Status.CANCEL_FAILED
    assert not any(c["path"].startswith("/orders") for c in run.calls)


def test_a_temporary_cancel_failure_is_retried_on_the_next_run(connection, monkeypatch):
    real_cancel = WarehouseManagerClient.cancel_order

    def down(self, order_id, reason):
        raise ServerError("Warehouse Manager answered 503", status=503)

    monkeypatch.setattr(WarehouseManagerClient, "cancel_order", down)
    cancel_in_om("SO-000001")
    first = run_job(connection, Job.CANCEL_DOWNLOAD)
    assert first.status == SyncRun.Status.PARTIAL and first.failed == 1
    record = OrderRecord.objects.get(order_number="SO-000001")
    assert (record.status, record.cancel_requested, record.cancel_handled) == (Status.AT_WMS, True, False)
    assert "Cancel at the WMS failed" in record.last_error
    event = OrderEvent.objects.filter(order=record).last()
    assert event.kind == Kind.CANCEL_FAILED and "Retried on the next run." in event.message
    assert wms_status("SO-000001") == WmsOrderStatus.OPEN

    monkeypatch.setattr(WarehouseManagerClient, "cancel_order", real_cancel)
    # The retry comes from the hub's own table: Order Manager is not asked about it again.
    monkeypatch.setattr(order_cancel_download, "mark_requested", lambda ctx, page: None)
    second = run_job(connection, Job.CANCEL_DOWNLOAD)
    assert second.status == SyncRun.Status.SUCCEEDED, second.error
    record.refresh_from_db()
    assert (record.status, record.cancel_handled) == (Status.CANCELLED, True)
    assert wms_status("SO-000001") == WmsOrderStatus.CANCELED


def test_cancels_left_at_the_time_budget_are_sent_by_the_next_run(connection, monkeypatch):
    cancel_in_om("SO-000001", "SO-000002", "SO-000003")
    monkeypatch.setattr(runner.RunContext, "out_of_time", lambda ctx: ctx.run.updated >= 1)
    first = run_job(connection, Job.CANCEL_DOWNLOAD)
    assert first.status == SyncRun.Status.SUCCEEDED, first.error
    assert "2 cancellation(s) to send" in first.error
    assert OrderRecord.objects.filter(status=Status.CANCELLED).count() == 1

    monkeypatch.setattr(runner.RunContext, "out_of_time", lambda ctx: False)
    second = run_job(connection, Job.CANCEL_DOWNLOAD)
    assert second.status == SyncRun.Status.SUCCEEDED and second.error == ""
    assert OrderRecord.objects.filter(status=Status.CANCELLED).count() == 3
    assert {wms_status(n) for n in ("SO-000001", "SO-000002", "SO-000003")} == {WmsOrderStatus.CANCELED}


def test_a_cancel_never_touches_another_channels_order_with_the_same_number(connection, monkeypatch):
    """An order whose send may have reached the WMS is looked up by reference number before the
    cancel; a WMS order with that number but another Order Manager order id (poNum) is not it."""
    om, wms = accounts(SLUG)
    seeding.seed(om, wms, orders=1, skus=0)
    monkeypatch.setattr(order_download, "send_due_orders", lambda ctx: None)  # downloaded, not sent
    run_job(connection, Job.ORDER_DOWNLOAD)
    monkeypatch.undo()
    record = OrderRecord.objects.get(order_number="SO-000004")
    OrderRecord.objects.filter(pk=record.pk).update(attempts=1)  # a send whose outcome is unknown
    now = clock.now()
    other = WmsOrder.objects.create(
        account=wms,
        reference_num="SO-000004",
        po_num="987654",
        customer_id=wms.customer_id,
        facility_id=wms.facility_id,
        creation_date=now,
        last_modified_date=now,
    )
    cancel_in_om("SO-000004")
    run = run_job(connection, Job.CANCEL_DOWNLOAD)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    record.refresh_from_db()
    assert (record.status, record.wms_order_id) == (Status.CANCELLED, None)
    other.refresh_from_db()
    assert other.status != WmsOrderStatus.CANCELED
    assert wms_writes(run) == []


def test_a_cancelled_order_too_large_to_read_is_named_and_keeps_the_window_while_the_others_go_on(
    connection, monkeypatch
):
    """Issue 15: an answer over the size cap is read in smaller pages; one order over it alone is
    reported by its position, and the watermark stays before it (its id cannot be learned)."""
    om, _ = accounts(SLUG)
    first = OmOrder.objects.get(account=om, order_number="SO-000001")
    product = OmProduct.objects.filter(account=om).first()
    OmOrderItem.objects.bulk_create(
        [OmOrderItem(order=first, product=product, listing_sku=product.master_sku, quantity=1) for _ in range(400)]
    )  # ~100 KB: over the lowered cap alone
    real = clients.order_manager
    monkeypatch.setattr(
        clients,
        "order_manager",
        lambda connection, recorder=None, **kw: real(connection, recorder, **{"max_response_bytes": 32 * 1024, **kw}),
    )
    cancel_in_om("SO-000001", "SO-000002", "SO-000003")
    run = run_job(connection, Job.CANCEL_DOWNLOAD)
    assert run.status == SyncRun.Status.PARTIAL, run.error
    assert "item 1 of GET /v1.1/orders (status=CANCELLED" in run.error, run.error
    assert "Split or trim that order in Order Manager" in run.error
    assert {r.order_number: r.status for r in OrderRecord.objects.all()} == {
        "SO-000001": Status.AT_WMS,
        "SO-000002": Status.CANCELLED,
        "SO-000003": Status.CANCELLED,
    }
    state = connection.job_states.get(job=order_cancel_download.JOB)
    assert state.watermark is None
