"""hub.ops.retention and `manage.py prune`: old successful runs go, with their events and lines; what matters stays."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from hub import tasks
from hub.models import Alert, InventoryLine, Job, JobState, OrderEvent, OrderRecord, SyncRun
from hub.ops import retention
from tests import factories

pytestmark = pytest.mark.django_db

OLD = datetime.timedelta(days=100)


@pytest.fixture
def conn(db):
    return factories.OrderManagerConnectionFactory()


def run(conn, status=SyncRun.Status.SUCCEEDED, age=OLD, job=Job.ORDER_DOWNLOAD):
    started = timezone.now() - age
    return factories.SyncRunFactory(connection=conn, status=status, job=job, started_at=started, finished_at=started)


def order_with_event(conn, the_run, status, **fields):
    order = factories.OrderRecordFactory(connection=conn, status=status, **fields)
    factories.OrderEventFactory(order=order, run=the_run, at=the_run.started_at)
    return order


def exists(obj) -> bool:
    return type(obj).objects.filter(pk=obj.pk).exists()


def test_old_successful_runs_go_with_their_events_and_lines_but_never_the_orders(conn):
    gone = run(conn)
    confirmed = order_with_event(conn, gone, OrderRecord.Status.CONFIRMED)
    cancelled = order_with_event(conn, gone, OrderRecord.Status.CANCELLED)
    handled = order_with_event(conn, gone, OrderRecord.Status.CANCEL_FAILED, cancel_handled=True)
    inventory = run(conn, job=Job.INVENTORY_SYNC)
    factories.InventoryLineFactory(run=inventory)
    factories.InventoryLineFactory(run=inventory)

    counts = retention.prune(days=90)
    assert counts == {"runs": 2, "events": 3, "inventory_lines": 2, "alerts": 0, "webhook_deliveries": 0, "findings": 0}
    assert not exists(gone) and not exists(inventory)
    assert not OrderEvent.objects.exists() and not InventoryLine.objects.exists()
    assert all(exists(order) for order in (confirmed, cancelled, handled))


def test_what_must_be_kept_is_kept(conn):
    # Runs that wrote events of orders still in flight keep those events (the whole timeline).
    in_flight = {}
    for status in (
        OrderRecord.Status.NEW,
        OrderRecord.Status.AT_WMS,
        OrderRecord.Status.SHIPPED,
        OrderRecord.Status.ERROR,
        OrderRecord.Status.CANCEL_FAILED,
    ):
        the_run = run(conn)
        in_flight[status] = (the_run, order_with_event(conn, the_run, status))
    failed, partial, abandoned = (
        run(conn, s) for s in (SyncRun.Status.FAILED, SyncRun.Status.PARTIAL, SyncRun.Status.ABANDONED)
    )
    recent = run(conn, age=datetime.timedelta(days=89))
    last = run(conn, job=Job.SHIPMENT_CONFIRMATION)
    JobState.objects.filter(connection=conn, job=Job.SHIPMENT_CONFIRMATION).update(last_run=last)
    operator_event = factories.OrderEventFactory(
        order=factories.OrderRecordFactory(connection=conn, status=OrderRecord.Status.CONFIRMED),
        run=None,
        kind=OrderEvent.Kind.OPERATOR,
        at=timezone.now() - OLD,
    )

    assert retention.prune(days=90)["runs"] == 0
    for the_run, order in in_flight.values():
        assert exists(the_run) and order.events.count() == 1
    assert all(exists(r) for r in (failed, partial, abandoned, recent, last))
    assert exists(operator_event)


def test_a_run_with_events_of_finished_and_unfinished_orders_is_kept_whole(conn):
    mixed = run(conn)
    order_with_event(conn, mixed, OrderRecord.Status.CONFIRMED)
    order_with_event(conn, mixed, OrderRecord.Status.AT_WMS)
    assert retention.prune(days=90)["runs"] == 0
    assert OrderEvent.objects.filter(run=mixed).count() == 2


def test_cleared_alerts_go_after_the_retention_open_ones_never(conn):
    now = timezone.now()
    old_cleared = factories.AlertFactory(connection=conn, cleared_at=now - OLD, opened_at=now - OLD)
    recent_cleared = factories.AlertFactory(connection=conn, cleared_at=now - datetime.timedelta(days=5))
    old_open = factories.AlertFactory(connection=conn, opened_at=now - OLD, cause=Alert.Cause.AUTH_FAILED)
    assert retention.prune(days=90)["alerts"] == 1
    assert not exists(old_cleared) and exists(recent_cleared) and exists(old_open)


def test_old_webhook_deliveries_and_resolved_findings_go_open_findings_never(conn):
    now = timezone.now()
    endpoint = factories.WebhookEndpointFactory(warehouse=conn.warehouse)
    old_delivery = factories.WebhookDeliveryFactory(endpoint=endpoint, received_at=now - OLD)
    new_delivery = factories.WebhookDeliveryFactory(endpoint=endpoint, received_at=now - datetime.timedelta(days=5))
    old_resolved = factories.FindingFactory(connection=conn, first_seen_at=now - OLD, resolved_at=now - OLD)
    old_open = factories.FindingFactory(connection=conn, first_seen_at=now - OLD)
    recent_resolved = factories.FindingFactory(connection=conn, resolved_at=now - datetime.timedelta(days=5))
    counts = retention.prune(days=90, batch_size=1)
    assert (counts["webhook_deliveries"], counts["findings"]) == (1, 1)
    assert not exists(old_delivery) and exists(new_delivery)
    assert not exists(old_resolved) and exists(old_open) and exists(recent_resolved)


def test_batches_delete_everything_due(conn):
    runs = [run(conn) for _ in range(5)]
    for the_run in runs:
        factories.InventoryLineFactory(run=the_run)
    assert retention.prune(days=90, batch_size=2) == {
        "runs": 5,
        "events": 0,
        "inventory_lines": 5,
        "alerts": 0,
        "webhook_deliveries": 0,
        "findings": 0,
    }
    assert not SyncRun.objects.exists()


def test_dry_run_counts_and_deletes_nothing(conn):
    the_run = run(conn)
    order_with_event(conn, the_run, OrderRecord.Status.CONFIRMED)
    factories.AlertFactory(connection=conn, cleared_at=timezone.now() - OLD)
    out = io.StringIO()
    call_command("prune", "--days", "30", "--dry-run", stdout=out)
    assert out.getvalue().strip() == (
        "Would delete 1 sync run(s), 1 order event(s), 0 inventory line(s), 1 cleared alert(s), "
        "0 webhook delivery(ies) and 0 resolved finding(s) older than 30 day(s)."
    )
    assert exists(the_run) and Alert.objects.count() == 1
    call_command("prune", "--days", "30", stdout=out)
    assert "Deleted 1 sync run(s)" in out.getvalue()
    assert not exists(the_run)


def test_the_daily_task_uses_the_configured_retention(conn, settings):
    the_run = run(conn, age=datetime.timedelta(days=20))
    settings.HUB_RETENTION_DAYS = 30
    assert tasks.prune_tick()["runs"] == 0
    settings.HUB_RETENTION_DAYS = 10
    assert tasks.prune_tick()["runs"] == 1
    assert not exists(the_run)


def test_nonsense_retention_is_refused():
    with pytest.raises(CommandError):
        call_command("prune", "--days", "0", stdout=io.StringIO())
