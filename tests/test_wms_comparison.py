"""Reconciliation's WMS-side kinds against the sandbox over a real socket (pytest-django live_server):
each discrepancy is produced in the sandbox, found by the job, healed or surfaced, and resolved on
the next run once it is mended."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from connectors.sandbox.control import fault_setup, order_events
from connectors.sandbox.models import (
    InjectedFault,
    OmOrder,
    OmShipment,
    OmStock,
    OrderStatus,
    WmsOrder,
    WmsPackage,
)
from hub.engine.runner import run_job
from hub.models import Finding, Job, OrderEvent, OrderRecord, SyncRun
from tests.sandbox_helpers import accounts, sandbox, sandbox_tenant

pytestmark = pytest.mark.django_db(transaction=True)

SLUG = "acme"
Kind = Finding.Kind
Status = OrderRecord.Status


def run(connection, job) -> SyncRun:
    done = run_job(connection, job)
    assert done.status == SyncRun.Status.SUCCEEDED, done.error
    return done


@pytest.fixture
def at_wms(live_server):
    """A sandbox tenant whose 3 orders Order Download sent to the WMS."""
    connection = sandbox_tenant(live_server, SLUG, orders=3, skus=4)
    run(connection, Job.ORDER_DOWNLOAD)
    assert OrderRecord.objects.filter(connection=connection, status=Status.AT_WMS).count() == 3
    return connection


def later(hours: int):
    return time_machine.travel(timezone.now() + datetime.timedelta(hours=hours))


def findings(connection, kind) -> list[Finding]:
    return list(Finding.objects.filter(connection=connection, kind=kind).order_by("pk"))


def with_faults(job, connection, **faults) -> dict:
    """One run of `job` with the sandbox's Order Manager discrepancy faults on, then off again;
    the subjects the sandbox injected, by fault kind."""
    om, _ = accounts(SLUG)
    fault_setup.configure_faults(om_account=om, **faults)
    try:
        run(connection, job)
        return {kind: fault_setup.injected_subjects(om, kind) for kind in InjectedFault.Kind}
    finally:
        fault_setup.configure_faults(om_account=om, clear=True)


def test_a_lost_tracking_write_is_found_unconfirmed_sent_again_and_resolved(at_wms):
    _, wms = accounts(SLUG)
    order_events.ship(wms, 1)
    # Order Manager answers the tracking write "shipped" and stores nothing.
    injected = with_faults(Job.SHIPMENT_CONFIRMATION, at_wms, tracking_drop_rate=1.0)
    record = OrderRecord.objects.get(connection=at_wms, status=Status.CONFIRMED)
    assert injected[InjectedFault.Kind.TRACKING_DROPPED] == [str(record.om_order_id)]
    assert not OmShipment.objects.filter(order_id=record.om_order_id).exists()
    with later(1):
        first = run(at_wms, Job.RECONCILIATION)
        (finding,) = findings(at_wms, Kind.TRACKING_MISSING)
        assert finding.subject == str(record.om_order_id) and finding.healed_at and finding.last_run == first
        assert record.tracking_numbers[0] in finding.hub_value and "no tracking" in finding.om_value
        record.refresh_from_db()
        assert record.status == Status.SHIPPED and record.confirmed_tracking_numbers == []
        assert OrderEvent.Kind.RECONCILED in record.events.values_list("kind", flat=True)

        sent = run(at_wms, Job.SHIPMENT_CONFIRMATION)
        assert [c for c in sent.calls if c["method"] == "PUT"], sent.calls
        assert OmShipment.objects.filter(order_id=record.om_order_id).count() == 1
    with later(2):
        run(at_wms, Job.RECONCILIATION)
    finding.refresh_from_db()
    assert finding.resolved_at is not None
    assert not Finding.objects.filter(connection=at_wms, resolved_at__isnull=True).exists()


def test_a_confirmed_order_cancelled_in_order_manager_keeps_no_tracking_finding_open(at_wms):
    _, wms = accounts(SLUG)
    order_events.ship(wms, 2)
    with_faults(Job.SHIPMENT_CONFIRMATION, at_wms, tracking_drop_rate=1.0)
    lost, cancelled = OrderRecord.objects.filter(connection=at_wms, status=Status.CONFIRMED).order_by("pk")
    OmOrder.objects.filter(pk=cancelled.om_order_id).update(status=OrderStatus.CANCELLED)
    with later(1):
        run(at_wms, Job.RECONCILIATION)
        assert [f.subject for f in findings(at_wms, Kind.TRACKING_MISSING)] == [str(lost.om_order_id)]
        run(at_wms, Job.SHIPMENT_CONFIRMATION)  # sends the lost one again
    with later(2):
        run(at_wms, Job.RECONCILIATION)
    # The cancelled order is no reason to leave the kind unresolved.
    assert all(f.resolved_at is not None for f in findings(at_wms, Kind.TRACKING_MISSING))


def test_a_shipment_shipment_confirmation_never_read_is_recorded_and_its_tracking_sent(at_wms):
    _, wms = accounts(SLUG)
    (shipped,) = order_events.ship(wms, 1)
    # Its last change lies before Shipment Confirmation's watermark: its reads never return it.
    WmsOrder.objects.filter(pk=shipped["orderId"]).update(
        last_modified_date=timezone.now() - datetime.timedelta(days=2)
    )
    run(at_wms, Job.SHIPMENT_CONFIRMATION)
    record = OrderRecord.objects.get(connection=at_wms, wms_order_id=shipped["orderId"])
    assert record.status == Status.AT_WMS
    with later(1):
        run(at_wms, Job.RECONCILIATION)
        (finding,) = findings(at_wms, Kind.TRACKING_MISSING)
        assert finding.healed_at and shipped["trackingNumber"] in finding.hub_value
        record.refresh_from_db()
        assert record.status == Status.SHIPPED and record.tracking_numbers == [shipped["trackingNumber"]]
        run(at_wms, Job.SHIPMENT_CONFIRMATION)
        record.refresh_from_db()
        assert record.status == Status.CONFIRMED
        assert OmShipment.objects.filter(
            order_id=record.om_order_id, tracking_number=shipped["trackingNumber"]
        ).exists()
    with later(2):
        run(at_wms, Job.RECONCILIATION)
    assert findings(at_wms, Kind.TRACKING_MISSING)[0].resolved_at is not None


def test_an_extra_package_order_manager_refused_is_surfaced_not_sent_again(at_wms):
    _, wms = accounts(SLUG)
    order_events.ship(wms, 1)
    run(at_wms, Job.SHIPMENT_CONFIRMATION)
    record = OrderRecord.objects.get(connection=at_wms, status=Status.CONFIRMED)
    # A second package at the WMS whose number Order Manager refused (the order already shipped
    # there with the first): Shipment Confirmation recorded that answer as final.
    first_package = WmsPackage.objects.get(order_id=record.wms_order_id)
    WmsPackage.objects.create(
        order_id=record.wms_order_id, tracking_number="EXTRA-PKG", create_date=first_package.create_date
    )
    OrderRecord.objects.filter(pk=record.pk).update(
        tracking_numbers=[*record.tracking_numbers, "EXTRA-PKG"],
        confirmed_tracking_numbers=[*record.confirmed_tracking_numbers, "EXTRA-PKG"],
    )
    with later(1):
        run(at_wms, Job.RECONCILIATION)
    (finding,) = findings(at_wms, Kind.TRACKING_MISSING)
    assert finding.healed_at is None and finding.hub_value == "confirmed EXTRA-PKG"
    assert record.tracking_numbers[0] in finding.om_value
    record.refresh_from_db()
    assert record.status == Status.CONFIRMED  # never a re-send loop


def copy_at_wms(wms_order_id: int, *, reference: str, po_num: str) -> int:
    """A second WMS order entered at the WMS by someone else, carrying `reference` and `po_num`."""
    order = WmsOrder.objects.get(pk=wms_order_id)
    order.pk, order.reference_num, order.po_num = None, reference, po_num
    order.last_modified_date = timezone.now()
    order.save()
    return order.pk


def test_an_order_at_the_wms_with_our_references_and_no_hub_record_is_surfaced(at_wms):
    om, wms = accounts(SLUG)
    before = set(OmOrder.objects.filter(account=om).values_list("pk", flat=True))
    sandbox("seed", "--tenant", SLUG, "--orders", "1", "--skus", "4", "--seed", "9")
    (elsewhere,) = OmOrder.objects.filter(account=om).exclude(pk__in=before)
    # Sent to the WMS by another channel, so it left the pickup status without the hub.
    OmOrder.objects.filter(pk=elsewhere.pk).update(status=OrderStatus.PENDING_FULFILLMENT)
    stray = order_events.unknown_at_wms(wms, elsewhere)["orderId"]
    # And one with a PO number that is no Order Manager order of this account: not the hub's business.
    template = OrderRecord.objects.filter(connection=at_wms).order_by("pk").first().wms_order_id
    copy_at_wms(template, reference="CUSTOMER-PO", po_num="99999999")
    with later(1):
        run(at_wms, Job.RECONCILIATION)
    (finding,) = findings(at_wms, Kind.UNKNOWN_AT_WMS)
    assert finding.subject == str(elsewhere.pk) and finding.order is None and finding.healed_at is None
    assert finding.hub_value == f"WMS order {stray}, no hub record"


def test_a_second_wms_order_of_a_hub_order_is_surfaced_beside_the_one_the_hub_holds(at_wms):
    first, second = OrderRecord.objects.filter(connection=at_wms).order_by("pk")[:2]
    # Someone cancelled the hub's WMS order of `second` and entered it again by hand.
    WmsOrder.objects.filter(pk=second.wms_order_id).update(status=2)
    duplicate = copy_at_wms(first.wms_order_id, reference=second.order_number, po_num=str(second.om_order_id))
    with later(1):
        run(at_wms, Job.RECONCILIATION)
    (finding,) = findings(at_wms, Kind.UNKNOWN_AT_WMS)
    assert (finding.subject, finding.order_id, finding.healed_at) == (str(second.om_order_id), second.pk, None)
    assert f"WMS order {duplicate} not bound; hub's order at the WMS is {second.wms_order_id}" == finding.hub_value
    second.refresh_from_db()
    assert second.wms_order_id != duplicate


def test_a_lost_answer_is_linked_so_the_order_is_never_sent_again(at_wms):
    record = OrderRecord.objects.filter(connection=at_wms).order_by("pk").first()
    wms_order_id = record.wms_order_id
    # The WMS created it, the answer never came back: the record is unsent with one attempt.
    OrderRecord.objects.filter(pk=record.pk).update(
        wms_order_id=None, status=Status.ERROR, next_retry_at=timezone.now() + datetime.timedelta(days=1)
    )
    with later(1):
        run(at_wms, Job.RECONCILIATION)
        (finding,) = findings(at_wms, Kind.UNKNOWN_AT_WMS)
        assert finding.healed_at and finding.subject == str(record.om_order_id)
        record.refresh_from_db()
        assert (record.status, record.wms_order_id) == (Status.AT_WMS, wms_order_id)
        assert OrderEvent.Kind.LINKED_AT_WMS in record.events.values_list("kind", flat=True)
        resent = run(at_wms, Job.ORDER_DOWNLOAD)
        assert not [c for c in resent.calls if c["method"] == "POST" and c["path"] == "/orders"]
    with later(2):
        run(at_wms, Job.RECONCILIATION)
    finding.refresh_from_db()
    assert finding.resolved_at is not None


def test_stock_that_drifted_after_inventory_sync_is_surfaced_then_resolved_by_the_next_sync(at_wms):
    # Order Manager stores each written quantity 3 units off.
    injected = with_faults(Job.INVENTORY_SYNC, at_wms, stock_drift_rate=1.0, stock_drift_units=3)
    drifted = injected[InjectedFault.Kind.STOCK_DRIFTED]
    assert drifted
    with later(1):
        run(at_wms, Job.RECONCILIATION)
        found = findings(at_wms, Kind.STOCK_DRIFT)
        assert sorted(f.subject for f in found) == sorted(drifted)
        assert all(f.healed_at is None for f in found)  # the operator's action: Run Inventory Sync now
        stock = OmStock.objects.get(product__account=accounts(SLUG)[0], product__master_sku=found[0].subject)
        assert found[0].om_value == f"on hand {stock.on_hand} (locked {stock.locked})"
        run(at_wms, Job.INVENTORY_SYNC)
        run(at_wms, Job.RECONCILIATION)
    assert all(f.resolved_at is not None for f in Finding.objects.filter(kind=Kind.STOCK_DRIFT))


def test_stock_within_the_tolerance_is_no_finding(at_wms, settings):
    settings.HUB_RECONCILIATION_STOCK_TOLERANCE = 3
    assert with_faults(Job.INVENTORY_SYNC, at_wms, stock_drift_rate=1.0, stock_drift_units=3)[
        InjectedFault.Kind.STOCK_DRIFTED
    ]
    with later(1):
        run(at_wms, Job.RECONCILIATION)
    assert not findings(at_wms, Kind.STOCK_DRIFT)


def test_a_failed_wms_read_resolves_nothing_of_the_wms_kinds(at_wms, monkeypatch):
    from connectors.errors import TransientError
    from connectors.warehouse_manager.client import WarehouseManagerClient

    _, wms = accounts(SLUG)
    order_events.ship(wms, 1)
    with_faults(Job.SHIPMENT_CONFIRMATION, at_wms, tracking_drop_rate=1.0)
    with later(1):
        run(at_wms, Job.RECONCILIATION)
    (finding,) = findings(at_wms, Kind.TRACKING_MISSING)

    def down(self, since, *, page_size=100):
        raise TransientError("WMS down")
        yield  # pragma: no cover

    monkeypatch.setattr(WarehouseManagerClient, "iter_orders_modified_since", down)
    with later(2):
        done = run(at_wms, Job.RECONCILIATION)
    assert "WMS down" in done.error
    finding.refresh_from_db()
    assert finding.resolved_at is None
