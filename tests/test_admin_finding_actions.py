"""hub.admin.finding_actions: each action queues work for a job's own path (never an outside call from
the request), writes an OPERATOR event on the order, and the job then does it: proven against the
sandbox over a real socket (Order Cancel Download cancels at the WMS, Shipment Confirmation sends
only the tracking Order Manager lacks)."""

import datetime

import pytest
import responses
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import RequestFactory
from django.utils import timezone

from connectors.sandbox import clock
from connectors.sandbox.control import order_events
from connectors.sandbox.models import OmShipment, WmsOrder, WmsOrderStatus, WmsPackage
from hub.admin import finding_actions
from hub.admin.finding_actions import ACKNOWLEDGE, CANCEL_AT_WMS, RESEND_TRACKING, RUN_INVENTORY_SYNC
from hub.engine.runner import run_job
from hub.models import Finding, Job, OrderEvent, OrderRecord, SyncRun
from tests import factories
from tests.sandbox_helpers import accounts, sandbox_tenant, status

Status, Kind = OrderRecord.Status, Finding.Kind


def make_request(user):
    request = RequestFactory().post("/admin/")
    request.user = user
    request._messages = CookieStorage(request)
    return request


@pytest.fixture
def operator(db):
    return factories.UserFactory(username="alice", first_name="Alice", last_name="Ops", is_superuser=True)


def operator_events(order):
    return list(order.events.filter(kind=OrderEvent.Kind.OPERATOR).values_list("message", flat=True))


# -- without the sandbox: what each action writes, and what it refuses ---------------------------


@pytest.mark.django_db
@responses.activate  # any outside call from an action would fail here: there is none
def test_acknowledge_sets_who_and_when_and_tells_the_order(operator):
    order = factories.OrderRecordFactory(status=Status.AT_WMS, wms_order_id=77)
    finding = factories.FindingFactory(connection=order.connection, kind=Kind.UNKNOWN_AT_WMS, order=order)
    outcome = finding_actions.perform(ACKNOWLEDGE, [finding], make_request(operator))
    assert outcome.done == [finding] and outcome.refused == []
    finding.refresh_from_db()
    assert (
        finding.acknowledged_by == "alice (Alice Ops)" and finding.acknowledged_at is not None and not finding.is_open
    )
    [event] = operator_events(order)
    assert event.startswith("Acknowledged by alice (Alice Ops)") and "At the WMS with the hub's reference" in event

    again = finding_actions.perform(ACKNOWLEDGE, [finding], make_request(operator))
    assert again.done == [] and "acknowledged already by alice (Alice Ops)" in again.refused[0][1]


@pytest.mark.django_db
def test_a_resolved_finding_is_not_acted_on(operator):
    finding = factories.FindingFactory(resolved_at=timezone.now())
    outcome = finding_actions.perform(ACKNOWLEDGE, [finding], make_request(operator))
    assert outcome.done == [] and "resolved already" in outcome.refused[0][1]


@pytest.mark.django_db
def test_each_kind_is_offered_its_own_action_then_acknowledge():
    at_wms = factories.OrderRecordFactory(status=Status.AT_WMS, wms_order_id=5)
    shipped = factories.OrderRecordFactory(status=Status.CONFIRMED, tracking_numbers=["1Z1"])
    offered = {
        kind: [a.name for a in finding_actions.offered(factories.FindingFactory(kind=kind, order=order))]
        for kind, order in [
            (Kind.CANCELLED_OPEN, at_wms),
            (Kind.TRACKING_MISSING, shipped),
            (Kind.STOCK_DRIFT, None),
            (Kind.UNKNOWN_AT_WMS, None),
            (Kind.MISSED_ORDER, None),
        ]
    }
    assert offered == {
        Kind.CANCELLED_OPEN: ["cancel_at_wms", "acknowledge"],
        Kind.TRACKING_MISSING: ["resend_tracking", "acknowledge"],
        Kind.STOCK_DRIFT: ["run_inventory_sync", "acknowledge"],
        Kind.UNKNOWN_AT_WMS: ["acknowledge"],
        Kind.MISSED_ORDER: ["acknowledge"],
    }
    assert "check at the wms" in finding_actions.WHAT_TO_DO[Kind.UNKNOWN_AT_WMS].lower()


@pytest.mark.django_db
def test_an_action_of_another_kind_and_orders_in_the_wrong_state_are_refused(operator):
    shipped = factories.OrderRecordFactory(status=Status.SHIPPED, wms_order_id=6)
    cancelled_open = factories.FindingFactory(kind=Kind.CANCELLED_OPEN, order=shipped)
    no_tracking = factories.FindingFactory(
        kind=Kind.TRACKING_MISSING, order=factories.OrderRecordFactory(status=Status.SHIPPED)
    )
    request = make_request(operator)
    assert "only orders at the WMS" in finding_actions.perform(CANCEL_AT_WMS, [cancelled_open], request).refused[0][1]
    assert "no tracking number" in finding_actions.perform(RESEND_TRACKING, [no_tracking], request).refused[0][1]
    assert "does not apply" in finding_actions.perform(RESEND_TRACKING, [cancelled_open], request).refused[0][1]
    assert not OrderEvent.objects.filter(kind=OrderEvent.Kind.OPERATOR).exists()


@pytest.mark.django_db
def test_a_job_that_moved_the_order_meanwhile_wins(operator):
    order = factories.OrderRecordFactory(status=Status.AT_WMS, wms_order_id=8)
    finding = factories.FindingFactory(kind=Kind.CANCELLED_OPEN, order=order)
    OrderRecord.objects.filter(pk=order.pk).update(status=Status.SHIPPED)  # Shipment Confirmation, meanwhile
    outcome = finding_actions.perform(CANCEL_AT_WMS, [finding], make_request(operator))
    assert outcome.done == [] and "Shipped" in outcome.refused[0][1]
    assert OrderRecord.objects.get(pk=order.pk).cancel_requested is False


@pytest.mark.django_db
def test_run_inventory_sync_needs_the_run_permission(connection):
    viewer = factories.tenant_staff(connection.warehouse.tenant)
    viewer.user_permissions.remove(*viewer.user_permissions.filter(codename="change_jobstate"))
    finding = factories.FindingFactory(connection=connection, kind=Kind.STOCK_DRIFT, subject="SKU-1")
    outcome = finding_actions.perform(RUN_INVENTORY_SYNC, [finding], make_request(viewer))
    assert outcome.done == [] and outcome.refused == [(finding, "you may not run jobs")]


# -- against the sandbox: the job's own path does the work --------------------------------------


@pytest.mark.django_db(transaction=True)
def test_cancel_at_the_wms_is_queued_and_the_next_order_cancel_download_cancels_it(live_server, operator):
    connection = sandbox_tenant(live_server, "fa-cancel", orders=2, skus=3)
    assert run_job(connection, Job.ORDER_DOWNLOAD).status == SyncRun.Status.SUCCEEDED
    record = OrderRecord.objects.get(connection=connection, order_number="SO-000001")
    finding = factories.FindingFactory(
        connection=connection, kind=Kind.CANCELLED_OPEN, subject=str(record.om_order_id), order=record
    )
    _, wms = accounts("fa-cancel")

    outcome = finding_actions.perform(CANCEL_AT_WMS, [finding], make_request(operator))
    assert outcome.done == [finding]
    record.refresh_from_db()
    assert record.cancel_requested and record.status == Status.AT_WMS
    assert WmsOrder.objects.get(account=wms, reference_num="SO-000001").status != WmsOrderStatus.CANCELED  # not yet
    assert "the next Order Cancel Download cancels WMS order" in operator_events(record)[0]

    run = run_job(connection, Job.CANCEL_DOWNLOAD)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    record.refresh_from_db()
    assert record.status == Status.CANCELLED
    assert WmsOrder.objects.get(account=wms, reference_num="SO-000001").status == WmsOrderStatus.CANCELED
    assert WmsOrder.objects.get(account=wms, reference_num="SO-000002").status != WmsOrderStatus.CANCELED


@pytest.mark.django_db(transaction=True)
def test_resend_tracking_sends_only_what_order_manager_lost_and_nothing_twice(live_server, operator):
    connection = sandbox_tenant(live_server, "fa-track", orders=1, skus=3)
    assert run_job(connection, Job.ORDER_DOWNLOAD).status == SyncRun.Status.SUCCEEDED
    om, wms = accounts("fa-track")
    order_events.ship(wms, seed=7)
    wms_order = WmsOrder.objects.get(account=wms, reference_num="SO-000001")
    later = clock.now() + datetime.timedelta(seconds=1)
    WmsPackage.objects.create(order=wms_order, tracking_number="1ZSECOND0000000002", create_date=later)
    WmsOrder.objects.filter(pk=wms_order.pk).update(last_modified_date=later, version=wms_order.version + 1)
    assert run_job(connection, Job.SHIPMENT_CONFIRMATION).status == SyncRun.Status.SUCCEEDED
    record = OrderRecord.objects.get(connection=connection, order_number="SO-000001")
    assert record.status == Status.CONFIRMED and len(record.tracking_numbers) == 2
    lost = record.tracking_numbers[0]
    OmShipment.objects.filter(order__account=om, tracking_number=lost).delete()  # Order Manager lost one
    finding = factories.FindingFactory(
        connection=connection,
        kind=Kind.TRACKING_MISSING,
        subject=str(record.om_order_id),
        order=record,
        om_value=f"tracking {record.tracking_numbers[1]}",
        hub_value=f"shipped with {', '.join(record.tracking_numbers)}",
    )

    outcome = finding_actions.perform(RESEND_TRACKING, [finding], make_request(operator))
    assert outcome.done == [finding]
    record.refresh_from_db()
    assert record.status == Status.SHIPPED and record.tracking_in_flight == record.tracking_numbers
    assert "Re-send tracking queued by alice (Alice Ops)" in operator_events(record)[0]
    assert status("fa-track")["order_manager"]["shipments"]["count"] == 1  # nothing sent from the request

    run = run_job(connection, Job.SHIPMENT_CONFIRMATION)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    sent = [c for c in run.calls if c["method"] == "PUT" and c["path"] == "/v1.1/shipment/external"]
    assert len(sent) == 1
    recorded = sorted(s["trackingNumber"] for s in status("fa-track")["order_manager"]["shipments"]["recorded"])
    assert recorded == sorted(record.tracking_numbers)
    assert status("fa-track")["order_manager"]["shipments"]["duplicates"] == 0
    record.refresh_from_db()
    assert record.status == Status.CONFIRMED and record.confirmed_tracking_numbers and record.tracking_in_flight == []
