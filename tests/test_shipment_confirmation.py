"""Shipment Confirmation against the sandbox over a real socket (pytest-django live_server)."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from connectors.order_manager.client import OrderManagerClient
from connectors.sandbox import clock
from connectors.sandbox.control import order_events
from connectors.sandbox.models import OmOrder, OrderStatus, WmsOrder, WmsPackage
from hub.engine.runner import run_job
from hub.models import Job, OrderEvent, OrderRecord, SyncRun
from tests.sandbox_helpers import accounts, sandbox_tenant, status

pytestmark = pytest.mark.django_db(transaction=True)

Status, Kind = OrderRecord.Status, OrderEvent.Kind
SLUG = "ships"
SHIPMENT_PATH = "/v1.1/shipment/external"


@pytest.fixture
def connection(live_server):
    """A sandbox tenant whose 3 orders are at the WMS and shipped there (one package each)."""
    connection = sandbox_tenant(live_server, SLUG, orders=3, skus=4)
    assert run_job(connection, Job.ORDER_DOWNLOAD).status == SyncRun.Status.SUCCEEDED
    _, wms = accounts(SLUG)
    order_events.ship(wms, seed=7)
    return connection


def wms_order(number: str) -> WmsOrder:
    _, wms = accounts(SLUG)
    return WmsOrder.objects.get(account=wms, reference_num=number)


def route(number: str, carrier: str, scac: str) -> None:
    order = wms_order(number)
    order.routing_info = {**order.routing_info, "carrier": carrier, "scacCode": scac}
    order.save(update_fields=["routing_info"])


def add_package(number: str, tracking: str) -> None:
    order = wms_order(number)
    now = clock.now() + datetime.timedelta(seconds=1)
    WmsPackage.objects.create(order=order, tracking_number=tracking, create_date=now)
    WmsOrder.objects.filter(pk=order.pk).update(last_modified_date=now, version=order.version + 1)


def shipments() -> dict:
    return status(SLUG)["order_manager"]["shipments"]


def recorded() -> list[tuple[str, str, str]]:
    return sorted((s["orderNumber"], s["trackingNumber"], s["carrier"]) for s in shipments()["recorded"])


def puts(run) -> list:
    return [c for c in run.calls if c["method"] == "PUT" and c["path"] == SHIPMENT_PATH]


def test_every_package_is_confirmed_once_with_the_mapped_carrier(connection):
    route("SO-000001", "UPS", "UPGN")
    route("SO-000002", "FedEx", "FDEG")
    route("SO-000003", "Bob's Freight", "BOBF")
    add_package("SO-000001", "1ZEXTRA00000000002")
    add_package("SO-000001", "1ZEXTRA00000000003")
    first_tracking = {
        n: wms_order(n).packages.order_by("pk").first().tracking_number for n in ("SO-000001", "SO-000002", "SO-000003")
    }

    run = run_job(connection, Job.SHIPMENT_CONFIRMATION)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert (run.fetched, run.failed) == (3, 0)
    assert recorded() == sorted(
        [
            ("SO-000001", first_tracking["SO-000001"], "UPS"),
            ("SO-000001", "1ZEXTRA00000000002", "UPS"),
            ("SO-000001", "1ZEXTRA00000000003", "UPS"),
            ("SO-000002", first_tracking["SO-000002"], "FEDEX"),
            ("SO-000003", first_tracking["SO-000003"], "OTHER_CARRIER"),
        ]
    )
    assert shipments()["duplicates"] == 0
    assert len(puts(run)) == 1  # one batch for all five
    for record in OrderRecord.objects.all():
        assert record.status == Status.CONFIRMED
        assert record.confirmed_tracking_numbers == record.tracking_numbers and record.tracking_in_flight == []
        assert record.ship_date is not None
        assert list(record.events.values_list("kind", flat=True))[-2:] == [Kind.SHIPPED_AT_WMS, Kind.TRACKING_SENT]
    assert OrderRecord.objects.get(order_number="SO-000003").carrier == "OTHER_CARRIER"
    assert status(SLUG)["order_manager"]["orders_by_status"] == {"SHIPPED": 3}

    rerun = run_job(connection, Job.SHIPMENT_CONFIRMATION)
    assert rerun.status == SyncRun.Status.SUCCEEDED
    assert (rerun.updated, puts(rerun)) == (0, [])
    assert shipments()["count"] == 5

    # A package added later: only its number is sent, the confirmed ones never again.
    add_package("SO-000002", "FEDEXLATE0001")
    late = run_job(connection, Job.SHIPMENT_CONFIRMATION)
    assert late.status == SyncRun.Status.SUCCEEDED, late.error
    assert len(puts(late)) == 1
    assert shipments()["count"] == 6 and shipments()["duplicates"] == 0
    record = OrderRecord.objects.get(order_number="SO-000002")
    assert record.status == Status.CONFIRMED and record.confirmed_tracking_numbers[-1] == "FEDEXLATE0001"


def test_a_crash_after_order_manager_accepted_does_not_send_twice(connection, monkeypatch):
    real_send = OrderManagerClient.create_external_shipments

    def accepted_then_crash(self, *args, **kwargs):
        real_send(self, *args, **kwargs)
        raise RuntimeError("killed before the hub recorded the answer")

    monkeypatch.setattr(OrderManagerClient, "create_external_shipments", accepted_then_crash)
    crashed = run_job(connection, Job.SHIPMENT_CONFIRMATION)
    assert crashed.status == SyncRun.Status.FAILED and crashed.error.startswith("Internal error (RuntimeError)")
    assert shipments()["count"] == 3
    left = OrderRecord.objects.filter(status=Status.SHIPPED)
    assert left.count() == 3 and all(r.tracking_in_flight == r.tracking_numbers for r in left)

    monkeypatch.setattr(OrderManagerClient, "create_external_shipments", real_send)
    again = run_job(connection, Job.SHIPMENT_CONFIRMATION)
    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    assert puts(again) == []  # Order Manager was read instead
    # ...in one call for the page of in-flight orders, not one call per order.
    reads = [c["path"] for c in again.calls if c["method"] == "GET" and "/v1.1/orders" in c["path"]]
    assert reads == ["/v1.1/orders"], again.calls
    assert shipments()["count"] == 3 and shipments()["duplicates"] == 0
    for record in OrderRecord.objects.all():
        assert record.status == Status.CONFIRMED and record.tracking_in_flight == []
        assert "already had" in record.events.filter(kind=Kind.TRACKING_SENT).last().message


def test_unreadable_shipments_in_order_manager_leave_the_numbers_in_flight_unsent(connection, monkeypatch):
    """Numbers left in flight by a crash are checked in Order Manager before any resend; when its
    `shipments` cannot be read (a number where a list belongs) the tracking is unknown, not absent:
    nothing is sent, and the run says so. (The hub's own reading raised TypeError: the run failed.)"""
    real_send = OrderManagerClient.create_external_shipments

    def accepted_then_crash(self, *args, **kwargs):
        real_send(self, *args, **kwargs)
        raise RuntimeError("killed before the hub recorded the answer")

    monkeypatch.setattr(OrderManagerClient, "create_external_shipments", accepted_then_crash)
    run_job(connection, Job.SHIPMENT_CONFIRMATION)
    monkeypatch.setattr(OrderManagerClient, "create_external_shipments", real_send)

    real_call = OrderManagerClient._call

    def garbled(self, method, path, **kwargs):
        answer = real_call(self, method, path, **kwargs)
        if method == "GET" and path == "/v1.1/orders" and "orderId" in kwargs.get("params", {}):
            for order in answer:
                order["shipments"] = 5
        return answer

    monkeypatch.setattr(OrderManagerClient, "_call", garbled)
    checked = run_job(connection, Job.SHIPMENT_CONFIRMATION)
    monkeypatch.setattr(OrderManagerClient, "_call", real_call)
    assert checked.status == SyncRun.Status.PARTIAL, checked.error
    assert puts(checked) == [] and shipments()["count"] == 3
    assert checked.failed == 3 and "shipments of this order cannot be read" in checked.error
    assert all(r.tracking_in_flight == r.tracking_numbers for r in OrderRecord.objects.filter(status=Status.SHIPPED))

    again = run_job(connection, Job.SHIPMENT_CONFIRMATION)  # readable again: confirmed without sending twice
    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    assert puts(again) == [] and shipments()["duplicates"] == 0
    assert set(OrderRecord.objects.values_list("status", flat=True)) == {Status.CONFIRMED}


def test_a_failed_batched_order_is_rejected_and_retried_later(connection):
    om, _ = accounts(SLUG)
    OmOrder.objects.filter(account=om, order_number="SO-000002").update(status=OrderStatus.CANCELLED)
    start = timezone.now()
    run = run_job(connection, Job.SHIPMENT_CONFIRMATION)
    assert run.status == SyncRun.Status.PARTIAL and run.failed == 1
    record = OrderRecord.objects.get(order_number="SO-000002")
    assert record.status == Status.SHIPPED and record.confirmed_tracking_numbers == []
    assert "FAILED" in record.last_error and "CANCELLED" in record.last_error
    assert record.next_retry_at > start
    rejected = record.events.get(kind=Kind.TRACKING_REJECTED)
    assert rejected.sent[0]["trackingNumber"] == record.tracking_numbers[0]
    assert OrderRecord.objects.filter(status=Status.CONFIRMED).count() == 2

    too_soon = run_job(connection, Job.SHIPMENT_CONFIRMATION)
    assert puts(too_soon) == []

    OmOrder.objects.filter(account=om, order_number="SO-000002").update(status=OrderStatus.PENDING_FULFILLMENT)
    with time_machine.travel(record.next_retry_at + datetime.timedelta(seconds=1)):
        later = run_job(connection, Job.SHIPMENT_CONFIRMATION)
    assert later.status == SyncRun.Status.SUCCEEDED, later.error
    record.refresh_from_db()
    assert record.status == Status.CONFIRMED and record.last_error == ""
    assert shipments()["count"] == 3 and shipments()["duplicates"] == 0


def test_an_order_cancelled_at_the_wms_is_recorded(live_server):
    connection = sandbox_tenant(live_server, SLUG, orders=2, skus=2)
    run_job(connection, Job.ORDER_DOWNLOAD)
    order = wms_order("SO-000001")
    WmsOrder.objects.filter(pk=order.pk).update(status=2, last_modified_date=clock.now())
    run = run_job(connection, Job.SHIPMENT_CONFIRMATION)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert OrderRecord.objects.get(order_number="SO-000001").status == Status.CANCELLED
    assert OrderRecord.objects.get(order_number="SO-000002").status == Status.AT_WMS
    assert puts(run) == []


def test_an_order_linked_after_the_wms_shipped_it_is_still_confirmed(live_server, monkeypatch):
    """The WMS had the order (an earlier send whose answer was lost) and shipped it before the hub
    linked it: its last change is older than the watermark, so it is read by id after the link."""
    connection = sandbox_tenant(live_server, "late-link", orders=1, skus=2)
    from connectors.errors import NetworkError
    from connectors.warehouse_manager.client import WarehouseManagerClient

    real_create = WarehouseManagerClient.create_order

    def accepted_but_answer_lost(self, payload):
        real_create(self, payload)
        raise NetworkError("read timed out")

    monkeypatch.setattr(WarehouseManagerClient, "create_order", accepted_but_answer_lost)
    assert run_job(connection, Job.ORDER_DOWNLOAD).status == SyncRun.Status.PARTIAL
    monkeypatch.setattr(WarehouseManagerClient, "create_order", real_create)
    record = OrderRecord.objects.get(connection=connection)
    assert record.status == Status.ERROR and record.wms_order_id is None

    _, wms = accounts("late-link")
    order_events.ship(wms, seed=3)  # shipped at the WMS while the hub still thinks it failed
    start = timezone.now()
    with time_machine.travel(start + datetime.timedelta(hours=1), tick=True):
        # Not ours yet: skipped; the watermark moves an hour past the shipment.
        assert run_job(connection, Job.SHIPMENT_CONFIRMATION).status == SyncRun.Status.SUCCEEDED
    with time_machine.travel(start + datetime.timedelta(hours=2), tick=True):
        assert run_job(connection, Job.ORDER_DOWNLOAD).status == SyncRun.Status.SUCCEEDED  # looked up and linked
        record.refresh_from_db()
        assert record.status == Status.AT_WMS
        run = run_job(connection, Job.SHIPMENT_CONFIRMATION)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    record.refresh_from_db()
    assert record.status == Status.CONFIRMED and record.tracking_numbers
    assert status("late-link")["order_manager"]["shipments"]["count"] == len(record.tracking_numbers)


def test_shipments_left_at_the_time_budget_are_confirmed_by_the_next_run(connection, settings):
    settings.HUB_RUN_TIME_BUDGET = 0
    first = run_job(connection, Job.SHIPMENT_CONFIRMATION)
    assert first.status == SyncRun.Status.SUCCEEDED, first.error
    assert puts(first) == [] and "3 shipped order(s) to confirm" in first.error
    assert OrderRecord.objects.filter(status=OrderRecord.Status.SHIPPED).count() == 3

    settings.HUB_RUN_TIME_BUDGET = 420
    second = run_job(connection, Job.SHIPMENT_CONFIRMATION)
    assert second.status == SyncRun.Status.SUCCEEDED and second.error == ""
    assert OrderRecord.objects.filter(status=OrderRecord.Status.CONFIRMED).count() == 3
    assert shipments()["duplicates"] == 0 and shipments()["count"] == 3


def test_a_refused_additional_package_on_a_shipped_order_is_not_retried_forever(connection, monkeypatch):
    """Order Manager may answer FAILED for a second shipment on an order it already has SHIPPED:
    the number is recorded as refused, the order completes, and later runs send nothing."""
    assert run_job(connection, Job.SHIPMENT_CONFIRMATION).status == SyncRun.Status.SUCCEEDED
    add_package("SO-000002", "FEDEXLATE0002")
    real = OrderManagerClient.create_external_shipments

    def refuse_late(self, shipments, **kwargs):
        from connectors.order_manager.client import ShipmentResult

        assert [s["trackingNumber"] for s in shipments] == ["FEDEXLATE0002"]
        return [
            ShipmentResult(
                order_id=shipments[0]["orderId"],
                order_number="SO-000002",
                status="FAILED",
                message="Order is already SHIPPED",
            )
        ]

    monkeypatch.setattr(OrderManagerClient, "create_external_shipments", refuse_late)
    late = run_job(connection, Job.SHIPMENT_CONFIRMATION)
    record = OrderRecord.objects.get(order_number="SO-000002")
    assert record.status == Status.CONFIRMED and "not retried" in record.last_error
    assert late.failed == 0
    monkeypatch.setattr(OrderManagerClient, "create_external_shipments", real)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=1)):
        again = run_job(connection, Job.SHIPMENT_CONFIRMATION)
    assert puts(again) == [], "a refused additional package is never sent again"


# -- rejected tracking: its own counter, its own backoff, a bounded time ---------------------------


def reject_in_order_manager(number: str) -> None:
    """Order Manager answers FAILED for the order's tracking while the order stays cancelled there."""
    om, _ = accounts(SLUG)
    OmOrder.objects.filter(account=om, order_number=number).update(status=OrderStatus.CANCELLED)


def accept_in_order_manager(number: str) -> None:
    om, _ = accounts(SLUG)
    OmOrder.objects.filter(account=om, order_number=number).update(status=OrderStatus.PENDING_FULFILLMENT)


def run_when_due(connection, record: OrderRecord) -> SyncRun:
    """A Shipment Confirmation run just after `record`'s next retry time."""
    with time_machine.travel(record.next_retry_at + datetime.timedelta(seconds=1)):
        run = run_job(connection, Job.SHIPMENT_CONFIRMATION)
    record.refresh_from_db()
    return run


def test_a_rejected_tracking_counts_its_own_tries_and_backs_off_from_five_minutes(connection):
    """`attempts` counts WMS sends (Order Download, cancel and re-processing read it); a tracking
    rejection must not change it, and its backoff starts at the first step (5 min), doubling."""
    reject_in_order_manager("SO-000002")
    sent_to_wms = OrderRecord.objects.get(order_number="SO-000002").attempts
    assert sent_to_wms == 1

    start = timezone.now()
    assert run_job(connection, Job.SHIPMENT_CONFIRMATION).status == SyncRun.Status.PARTIAL
    record = OrderRecord.objects.get(order_number="SO-000002")
    assert record.attempts == sent_to_wms
    assert record.tracking_attempts == 1
    first_delay = record.next_retry_at - start
    assert datetime.timedelta(minutes=5) <= first_delay < datetime.timedelta(minutes=6), first_delay

    retried_at = record.next_retry_at
    assert run_when_due(connection, record).status == SyncRun.Status.PARTIAL
    assert (record.attempts, record.tracking_attempts) == (sent_to_wms, 2)
    second_delay = record.next_retry_at - retried_at
    assert datetime.timedelta(minutes=10) <= second_delay < datetime.timedelta(minutes=11), second_delay

    accept_in_order_manager("SO-000002")
    assert run_when_due(connection, record).status == SyncRun.Status.SUCCEEDED
    assert record.status == Status.CONFIRMED and record.attempts == sent_to_wms
    assert record.tracking_attempts == 0  # a later package's rejection starts from the first step again


def test_tracking_rejected_for_the_give_up_time_stops_alerts_once_and_retry_tracking_brings_it_back(
    connection, settings
):
    from hub.admin.actions import RETRY_TRACKING, apply
    from hub.models import Alert
    from hub.ops.alerts import lifecycle
    from tests import factories

    settings.HUB_TRACKING_GIVE_UP_HOURS = 1  # 5 + 10 + 20 + 40 min of rejections: gives up on the 5th
    reject_in_order_manager("SO-000002")
    first = run_job(connection, Job.SHIPMENT_CONFIRMATION)
    assert first.status == SyncRun.Status.PARTIAL
    record = OrderRecord.objects.get(order_number="SO-000002")
    for _ in range(8):
        if record.tracking_given_up:
            break
        run = run_when_due(connection, record)
        assert run.status == SyncRun.Status.PARTIAL
    assert record.tracking_given_up, "still retried after the give-up time"
    assert record.status == Status.SHIPPED and record.next_retry_at is None
    assert record.tracking_attempts == 5
    gave_up = record.events.get(kind=Kind.GAVE_UP)
    assert "1 h" in gave_up.message and "Retry tracking" in gave_up.message
    assert "CANCELLED" in gave_up.message  # the last reason

    # No more sends, and runs are healthy again: the alert is what tells the operator.
    with time_machine.travel(timezone.now() + datetime.timedelta(days=3)):
        later = run_job(connection, Job.SHIPMENT_CONFIRMATION)
        lifecycle.evaluate(connection)
        lifecycle.evaluate(connection)
    assert later.status == SyncRun.Status.SUCCEEDED and puts(later) == []
    [alert] = Alert.objects.filter(connection=connection, cause=Alert.Cause.TRACKING_GIVEN_UP)
    assert alert.is_open and alert.key == ""
    assert "SO-000002" in alert.message and "Retry tracking" in alert.message

    # The operator fixes the order in Order Manager and retries: sent on the next run, confirmed.
    accept_in_order_manager("SO-000002")
    assert apply(RETRY_TRACKING, record, factories.UserFactory(username="ops")) is None
    record.refresh_from_db()
    assert not record.tracking_given_up and record.tracking_attempts == 0
    retried = run_job(connection, Job.SHIPMENT_CONFIRMATION)
    assert retried.status == SyncRun.Status.SUCCEEDED, retried.error
    record.refresh_from_db()
    assert record.status == Status.CONFIRMED
    lifecycle.evaluate(connection)
    alert.refresh_from_db()
    assert not alert.is_open
    assert Alert.objects.filter(cause=Alert.Cause.TRACKING_GIVEN_UP).count() == 1
