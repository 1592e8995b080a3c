"""Reconciliation against the sandbox over a real socket (pytest-django live_server): each
discrepancy is produced in the sandbox, found by the job, healed, and resolved on the next run."""

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from connectors.sandbox.models import OmOrder, OrderStatus
from hub.engine.runner import run_job
from hub.models import Finding, Job, OrderEvent, OrderRecord, SyncRun
from tests.sandbox_helpers import accounts, sandbox_tenant

pytestmark = pytest.mark.django_db(transaction=True)

SLUG = "acme"
Kind = Finding.Kind


@pytest.fixture
def downloaded(live_server):
    """A sandbox tenant whose 4 orders Order Download sent to the WMS and marked exported."""
    connection = sandbox_tenant(live_server, SLUG, orders=4, skus=5)
    run = run_job(connection, Job.ORDER_DOWNLOAD)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert OrderRecord.objects.filter(connection=connection, om_exported_at__isnull=False).count() == 4
    return connection


def sandbox_orders(connection):
    om, _ = accounts(SLUG)
    return OmOrder.objects.filter(account=om)


def hide_a_new_order_behind_the_watermark(connection) -> int:
    """A new order in the pickup status whose modified date lies before Order Download's window."""
    before = set(sandbox_orders(connection).values_list("pk", flat=True))
    call_command(
        "sandbox", "seed", "--tenant", SLUG, "--orders", "1", "--skus", "5", "--seed", "7", stdout=io.StringIO()
    )
    (new,) = set(sandbox_orders(connection).values_list("pk", flat=True)) - before
    sandbox_orders(connection).filter(pk=new).update(modified_date=timezone.now() - datetime.timedelta(days=2))
    return new


def lose_an_export_mark(connection) -> int:
    """An order the hub sent and marked exported that Order Manager shows in the pickup status again."""
    record = OrderRecord.objects.filter(connection=connection).order_by("pk").first()
    sandbox_orders(connection).filter(pk=record.om_order_id).update(
        status=OrderStatus.AWAITING_3PL_EXPORT, sent_to_fulfillment=False
    )
    return record.om_order_id


def reconcile(connection) -> SyncRun:
    run = run_job(connection, Job.RECONCILIATION)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


def test_a_missed_order_and_a_lost_export_mark_are_found_healed_and_resolved(downloaded):
    missed = hide_a_new_order_behind_the_watermark(downloaded)
    lost = lose_an_export_mark(downloaded)
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=1)):
        # Order Download alone never sees either: the missed order is older than its window, the
        # lost mark is on an order it already marked.
        assert run_job(downloaded, Job.ORDER_DOWNLOAD).created == 0
        assert not OrderRecord.objects.filter(om_order_id=missed).exists()

        first = reconcile(downloaded)
        findings = {(f.kind, f.subject): f for f in Finding.objects.filter(connection=downloaded)}
        assert set(findings) == {(Kind.MISSED_ORDER, str(missed)), (Kind.EXPORT_MARK_LOST, str(lost))}
        assert all(f.healed_at and f.resolved_at is None and f.last_run == first for f in findings.values())
        # Healed through the one path of each: the missed order is stored as new by the download
        # path, the lost mark is cleared for Order Download's mark_exported.
        record = OrderRecord.objects.get(connection=downloaded, om_order_id=missed)
        assert record.status == OrderRecord.Status.NEW
        assert OrderEvent.Kind.RECONCILED in record.events.values_list("kind", flat=True)
        marked = OrderRecord.objects.get(om_order_id=lost)
        assert marked.om_exported_at is None
        assert OrderEvent.Kind.RECONCILED in marked.events.values_list("kind", flat=True)

        # The next Order Download sends the missed order and marks both exported.
        sent = run_job(downloaded, Job.ORDER_DOWNLOAD)
        assert sent.status == SyncRun.Status.SUCCEEDED, sent.error
        assert len([c for c in sent.calls if c["method"] == "POST" and c["path"] == "/orders"]) == 1
        record.refresh_from_db()
        assert record.status == OrderRecord.Status.AT_WMS and record.om_exported_at is not None
        assert sandbox_orders(downloaded).get(pk=lost).status == OrderStatus.PENDING_FULFILLMENT
        assert marked.events.filter(kind=OrderEvent.Kind.EXPORTED).count() == 2

    # A repeat sighting updates the row, never adds one: the mark is lost again (after the heal's
    # own modification has aged past the expected delay).
    lose_an_export_mark(downloaded)
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=3)):
        again = reconcile(downloaded)
        assert Finding.objects.filter(connection=downloaded).count() == 2
        assert Finding.objects.get(kind=Kind.EXPORT_MARK_LOST).last_run == again
        assert Finding.objects.get(kind=Kind.EXPORT_MARK_LOST).resolved_at is None
        assert Finding.objects.get(kind=Kind.MISSED_ORDER).resolved_at is not None
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=5)):
        reconcile(downloaded)
        assert not Finding.objects.filter(connection=downloaded, resolved_at__isnull=True).exists()


def test_a_clean_connection_has_no_findings_and_never_writes(downloaded):
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=1)):
        run = reconcile(downloaded)
    # What was compared: no order in the pickup status, the WMS's 4 orders of the window, its 5 SKUs.
    assert run.fetched == 4 + 5
    assert not Finding.objects.exists()
    assert [c for c in run.calls if c["method"] != "GET" and not c["path"].lower().endswith("/token")] == []


def test_orders_newer_than_the_expected_delay_are_left_to_order_download(downloaded):
    sandbox_orders(downloaded).filter(pk=hide_a_new_order_behind_the_watermark(downloaded)).update(
        modified_date=timezone.now()
    )
    reconcile(downloaded)
    assert not Finding.objects.exists()


def test_a_cancel_order_cancel_download_missed_is_surfaced_then_resolved_once_it_is_handled(downloaded):
    record = OrderRecord.objects.filter(connection=downloaded).order_by("pk").last()
    sandbox_orders(downloaded).filter(pk=record.om_order_id).update(status=OrderStatus.CANCELLED)
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=1)):
        reconcile(downloaded)
        finding = Finding.objects.get(connection=downloaded)
        assert (finding.kind, finding.subject, finding.order_id) == (
            Kind.CANCELLED_OPEN,
            str(record.om_order_id),
            record.pk,
        )
        assert finding.healed_at is None and finding.heal == ""  # surfaced for the operator, not healed
        record.refresh_from_db()
        assert record.status == OrderRecord.Status.AT_WMS and not record.cancel_requested

        handled = run_job(downloaded, Job.CANCEL_DOWNLOAD)
        assert handled.status == SyncRun.Status.SUCCEEDED, handled.error
        reconcile(downloaded)
        finding.refresh_from_db()
        assert finding.resolved_at is not None
