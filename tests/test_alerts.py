"""hub.ops.alerts: every cause opens one alert, is sent once, digested, and clears when its cause is gone."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from connectors.errors import AuthenticationError
from hub.engine import runner
from hub.models import Alert, Finding, InventoryLine, Job, JobState, OrderRecord, SyncRun
from hub.ops.alerts import lifecycle, sending
from tenants import clients
from tenants.models import AlertFrequency
from tests import factories

pytestmark = pytest.mark.django_db

Cause = Alert.Cause
NOW = datetime.datetime(2026, 3, 10, 15, 30, tzinfo=datetime.UTC)  # 11:30 in New York (EDT)


def open_alerts(connection=None, cause=None):
    qs = Alert.objects.filter(cleared_at__isnull=True)
    if connection is not None:
        qs = qs.filter(connection=connection)
    if cause is not None:
        qs = qs.filter(cause=cause)
    return list(qs)


def fresh_jobs(connection, at):
    """Every job of `connection` just succeeded at `at` and is next due shortly after."""
    JobState.objects.filter(connection=connection).update(
        last_success_at=at - datetime.timedelta(minutes=1), next_due_at=at + datetime.timedelta(minutes=4)
    )


@pytest.fixture
def conn(db):
    """A connection whose jobs all just succeeded (nothing stale), with one alert contact."""
    connection = factories.OrderManagerConnectionFactory(warehouse__tenant__name="Acme Fulfilment")
    connection.created_at = NOW - datetime.timedelta(days=30)
    connection.save(update_fields=["created_at"])
    fresh_jobs(connection, NOW)
    factories.AlertContactFactory(tenant=connection.warehouse.tenant, email="ops@acme.example")
    return connection


def error_order(connection, **fields):
    values = {
        "status": OrderRecord.Status.ERROR,
        "last_error": "WMS rejected: unknown SKU 'X-1'",
        "error_permanent": True,
    }
    values.update(fields)
    return factories.OrderRecordFactory(connection=connection, **values)


# -- each cause ---------------------------------------------------------------------------------------


def test_permanent_order_error_opens_one_alert_with_reason_and_link_then_clears(conn):
    order = error_order(conn)
    changes = lifecycle.evaluate(conn, NOW)
    assert changes.opened == [(conn.pk, Cause.ORDER_ERROR, str(order.pk))]
    [alert] = open_alerts(conn)
    assert "unknown SKU 'X-1'" in alert.message and order.order_number in alert.message
    assert alert.link == reverse("admin:hub_orderrecord_change", args=[order.pk])

    assert lifecycle.evaluate(conn, NOW + datetime.timedelta(minutes=5)).opened == []
    assert Alert.objects.count() == 1
    alert.refresh_from_db()
    assert alert.last_seen_at == NOW + datetime.timedelta(minutes=5) and alert.opened_at == NOW

    OrderRecord.objects.filter(pk=order.pk).update(status=OrderRecord.Status.AT_WMS)
    changes = lifecycle.evaluate(conn, NOW + datetime.timedelta(minutes=10))
    assert changes.cleared == [(conn.pk, Cause.ORDER_ERROR, str(order.pk))]
    alert.refresh_from_db()
    assert alert.cleared_at == NOW + datetime.timedelta(minutes=10)


def test_transient_order_error_alerts_only_after_the_grace_period(conn):
    young = error_order(conn, error_permanent=False, first_attempt_at=NOW - datetime.timedelta(minutes=20), attempts=2)
    old = error_order(conn, error_permanent=False, first_attempt_at=NOW - datetime.timedelta(hours=2), attempts=9)
    given_up = error_order(
        conn, error_permanent=False, given_up=True, first_attempt_at=NOW - datetime.timedelta(minutes=1)
    )
    lifecycle.evaluate(conn, NOW)
    keys = {a.key for a in open_alerts(conn, Cause.ORDER_ERROR)}
    assert keys == {str(old.pk), str(given_up.pk)}
    assert str(young.pk) not in keys
    assert "9 attempt(s)" in Alert.objects.get(key=str(old.pk)).message


def test_tracking_given_up_opens_one_alert_per_connection_while_such_orders_exist(conn):
    def given_up(**fields):
        values = {"status": OrderRecord.Status.SHIPPED, "tracking_numbers": ["1Z1"], "tracking_given_up": True}
        return factories.OrderRecordFactory(connection=conn, **{**values, **fields})

    first = given_up(last_error="Tracking not accepted by Order Manager: 1Z1: FAILED order is CANCELLED")
    given_up(status=OrderRecord.Status.SHIPPED, tracking_given_up=False)  # still retried: no alert
    changes = lifecycle.evaluate(conn, NOW)
    assert changes.opened == [(conn.pk, Cause.TRACKING_GIVEN_UP, "")]
    [alert] = open_alerts(conn)
    assert first.order_number in alert.message and "order is CANCELLED" in alert.message
    assert "?" in alert.link and "tracking_given_up__exact=1" in alert.link

    second = given_up()
    changes = lifecycle.evaluate(conn, NOW + datetime.timedelta(minutes=5))
    assert changes.opened == [] and len(open_alerts(conn)) == 1  # once per connection, not per order
    assert second.order_number in Alert.objects.get(pk=alert.pk).message

    OrderRecord.objects.filter(pk__in=[first.pk, second.pk]).update(tracking_given_up=False)
    changes = lifecycle.evaluate(conn, NOW + datetime.timedelta(minutes=10))
    assert changes.cleared == [(conn.pk, Cause.TRACKING_GIVEN_UP, "")]


def test_reconciliation_findings_open_one_alert_per_kind_until_resolved(conn):
    missed = factories.FindingFactory(connection=conn, kind="missed_order", healed_at=NOW)
    factories.FindingFactory(connection=conn, kind="missed_order")
    factories.FindingFactory(connection=conn, kind="export_mark_lost")
    factories.FindingFactory(connection=conn, kind="export_mark_lost", resolved_at=NOW)  # resolved: no alert
    changes = lifecycle.evaluate(conn, NOW)
    assert sorted(changes.opened) == [
        (conn.pk, Cause.RECONCILIATION, "export_mark_lost"),
        (conn.pk, Cause.RECONCILIATION, "missed_order"),
    ]
    alert = Alert.objects.get(cause=Cause.RECONCILIATION, key="missed_order")
    assert "2 × Missed order" in alert.message and missed.subject in alert.message and "1 healed" in alert.message
    assert "kind=missed_order" in alert.link and "state=open" in alert.link

    factories.FindingFactory(connection=conn, kind="missed_order")
    assert lifecycle.evaluate(conn, NOW + datetime.timedelta(minutes=5)).opened == []  # once per kind

    Finding.objects.filter(kind="missed_order").update(resolved_at=NOW)
    changes = lifecycle.evaluate(conn, NOW + datetime.timedelta(minutes=10))
    assert changes.cleared == [(conn.pk, Cause.RECONCILIATION, "missed_order")]


def test_acknowledged_findings_are_not_open_and_acknowledging_a_kind_clears_its_alert(conn):
    factories.FindingFactory(connection=conn, kind="stock_drift", acknowledged_at=NOW, acknowledged_by="alice")
    cancelled = factories.FindingFactory(connection=conn, kind="cancelled_open")
    other = factories.FindingFactory(connection=conn, kind="cancelled_open", acknowledged_at=NOW)
    changes = lifecycle.evaluate(conn, NOW)
    assert changes.opened == [(conn.pk, Cause.RECONCILIATION, "cancelled_open")]  # none for stock drift
    alert = Alert.objects.get(cause=Cause.RECONCILIATION, key="cancelled_open")
    assert "1 × Cancelled" in alert.message and cancelled.subject in alert.message
    assert other.subject not in alert.message

    Finding.objects.filter(pk=cancelled.pk).update(acknowledged_at=NOW, acknowledged_by="alice")
    changes = lifecycle.evaluate(conn, NOW + datetime.timedelta(minutes=5))
    assert changes.cleared == [(conn.pk, Cause.RECONCILIATION, "cancelled_open")]


def test_cancel_too_late_until_marked_handled(conn):
    order = factories.OrderRecordFactory(connection=conn, status=OrderRecord.Status.CANCEL_FAILED)
    lifecycle.evaluate(conn, NOW)
    [alert] = open_alerts(conn)
    assert (alert.cause, alert.key) == (Cause.CANCEL_TOO_LATE, str(order.pk))
    assert "too late" in alert.message
    OrderRecord.objects.filter(pk=order.pk).update(cancel_handled=True)
    lifecycle.evaluate(conn, NOW)
    assert open_alerts(conn) == []


def test_rejected_credentials_alert_until_the_circuit_is_reset(conn):
    conn.credentials_rejected_at = NOW
    conn.pause_reason = "Credentials rejected: 401. Fix them on the connection."
    conn.save(update_fields=["credentials_rejected_at", "pause_reason"])
    lifecycle.evaluate(conn, NOW)
    [alert] = open_alerts(conn)
    assert alert.cause == Cause.AUTH_FAILED and "Credentials rejected" in alert.message
    assert alert.link == reverse("admin:tenants_ordermanagerconnection_change", args=[conn.pk])
    conn.clear_circuit()
    lifecycle.evaluate(conn, NOW)
    assert open_alerts(conn) == []


def test_paused_connection_alert_clears_when_the_cool_off_ends(conn):
    conn.paused_until = NOW + datetime.timedelta(minutes=20)
    conn.pause_reason = "3 failed runs in a row (503)"
    conn.save(update_fields=["paused_until", "pause_reason"])
    lifecycle.evaluate(conn, NOW)
    assert [a.cause for a in open_alerts(conn)] == [Cause.CONNECTION_PAUSED]
    lifecycle.evaluate_all(NOW + datetime.timedelta(minutes=21))
    assert open_alerts(conn, Cause.CONNECTION_PAUSED) == []


def inventory_run(connection, at, skus_without_stock=(), status=SyncRun.Status.SUCCEEDED):
    run = factories.SyncRunFactory(
        connection=connection, job=Job.INVENTORY_SYNC, status=status, started_at=at, finished_at=at
    )
    for sku in skus_without_stock:
        factories.InventoryLineFactory(
            run=run, sku=sku, result=InventoryLine.Result.NO_STARTING_INVENTORY, on_hand_written=None
        )
    factories.InventoryLineFactory(run=run, sku="FINE-1")
    return run


def test_skus_without_starting_inventory_make_one_alert_from_the_last_completed_run(conn):
    inventory_run(conn, NOW - datetime.timedelta(days=2), ["OLD-1"])
    run = inventory_run(conn, NOW - datetime.timedelta(hours=1), ["B-2", "A-1"])
    lifecycle.evaluate(conn, NOW)
    [alert] = open_alerts(conn)
    assert alert.cause == Cause.NO_STARTING_INVENTORY and alert.key == ""
    assert "skipped 2 SKU(s)" in alert.message and "A-1, B-2" in alert.message and "OLD-1" not in alert.message
    assert f"run__id__exact={run.pk}" in alert.link

    # A failed run writes no lines: it neither clears nor changes the alert.
    factories.SyncRunFactory(connection=conn, job=Job.INVENTORY_SYNC, status=SyncRun.Status.FAILED, started_at=NOW)
    lifecycle.evaluate(conn, NOW)
    assert len(open_alerts(conn)) == 1
    inventory_run(conn, NOW + datetime.timedelta(minutes=1))
    lifecycle.evaluate(conn, NOW + datetime.timedelta(minutes=2))
    assert open_alerts(conn) == []


def test_stale_job_alerts_when_failing_or_overdue_but_not_when_idle_or_disabled(conn):
    long_ago = NOW - datetime.timedelta(minutes=16)  # more than three 5-minute intervals
    failed = factories.SyncRunFactory(connection=conn, job=Job.ORDER_DOWNLOAD, status=SyncRun.Status.FAILED)
    JobState.objects.filter(connection=conn, job=Job.ORDER_DOWNLOAD).update(last_success_at=long_ago, last_run=failed)
    # Cancel Download: last run fine, but overdue by more than an interval (no cluster running).
    JobState.objects.filter(connection=conn, job=Job.CANCEL_DOWNLOAD).update(
        last_success_at=long_ago, next_due_at=NOW - datetime.timedelta(minutes=11)
    )
    # Shipment Confirmation: turned on again after a long pause, due now: idle, not stale.
    ok = factories.SyncRunFactory(connection=conn, job=Job.SHIPMENT_CONFIRMATION)
    JobState.objects.filter(connection=conn, job=Job.SHIPMENT_CONFIRMATION).update(
        last_success_at=NOW - datetime.timedelta(days=3), last_run=ok, next_due_at=NOW
    )
    lifecycle.evaluate(conn, NOW)
    stale = {a.key: a for a in open_alerts(conn, Cause.JOB_STALE)}
    assert set(stale) == {Job.ORDER_DOWNLOAD, Job.CANCEL_DOWNLOAD}
    assert (
        "Order Download has not succeeded for more than 3 of its intervals (5 min each)"
        in stale[Job.ORDER_DOWNLOAD].message
    )

    conn.cancel_download_enabled = False
    conn.save()
    JobState.objects.filter(connection=conn, job=Job.ORDER_DOWNLOAD).update(last_success_at=NOW)
    lifecycle.evaluate(conn, NOW)
    assert open_alerts(conn, Cause.JOB_STALE) == []


def test_inventory_is_stale_after_three_days_at_once_a_day(conn):
    JobState.objects.filter(connection=conn, job=Job.INVENTORY_SYNC).update(
        last_success_at=NOW - datetime.timedelta(days=2, hours=23), next_due_at=NOW - datetime.timedelta(days=2)
    )
    lifecycle.evaluate(conn, NOW)
    assert open_alerts(conn, Cause.JOB_STALE) == []
    lifecycle.evaluate(conn, NOW + datetime.timedelta(hours=2))
    [alert] = [a for a in open_alerts(conn, Cause.JOB_STALE) if a.key == Job.INVENTORY_SYNC]
    assert alert.key == Job.INVENTORY_SYNC and "(1 day(s) each)" in alert.message


def test_inactive_tenants_are_not_monitored(conn):
    error_order(conn)
    lifecycle.evaluate(conn, NOW)
    tenant = conn.warehouse.tenant
    tenant.active = False
    tenant.save()
    lifecycle.evaluate_all(NOW)
    assert open_alerts() == []


def test_archived_tenants_raise_no_alerts_and_hear_nothing(conn):
    error_order(conn)
    lifecycle.evaluate(conn, NOW)
    assert len(open_alerts(conn)) == 1
    tenant = conn.warehouse.tenant
    tenant.archived_at = NOW
    tenant.save(update_fields=["archived_at"])
    later = NOW + datetime.timedelta(minutes=5)
    lifecycle.evaluate_all(later)
    assert open_alerts() == []  # the open one cleared, none opened
    error_order(conn, order_number="SO-LATER")
    lifecycle.evaluate(conn, later)
    assert open_alerts() == []
    assert sending.send_due(later) == 0 and mail.outbox == []


def test_evaluate_all_costs_the_same_queries_for_many_connections(conn, django_assert_max_num_queries):
    for _ in range(6):
        other = factories.OrderManagerConnectionFactory()
        error_order(other)
        factories.OrderRecordFactory(connection=other, status=OrderRecord.Status.CANCEL_FAILED)
        inventory_run(other, NOW - datetime.timedelta(hours=1), ["Z-9"])
    with django_assert_max_num_queries(10):
        changes = lifecycle.evaluate_all(NOW)
    assert len(changes.opened) >= 18
    with django_assert_max_num_queries(10):
        assert lifecycle.evaluate_all(NOW).opened == []


# -- notification -------------------------------------------------------------------------------------


def test_immediate_tenant_gets_one_email_per_new_alert_batch_and_one_when_cleared(conn, settings):
    settings.HUB_BASE_URL = "https://hub.example.com"
    order = error_order(conn)
    lifecycle.evaluate(conn, NOW)
    assert sending.send_due(NOW) == 1
    [message] = mail.outbox
    assert message.to == ["ops@acme.example"]
    assert message.subject == "[Order Manager hub] Acme Fulfilment: 1 new alert(s)"
    assert f"https://hub.example.com/admin/hub/orderrecord/{order.pk}/change/" in message.body
    assert "unknown SKU 'X-1'" in message.body and "11:30 EDT" in message.body

    lifecycle.evaluate(conn, NOW + datetime.timedelta(minutes=5))
    assert sending.send_due(NOW + datetime.timedelta(minutes=5)) == 0
    assert len(mail.outbox) == 1

    OrderRecord.objects.filter(pk=order.pk).update(status=OrderRecord.Status.AT_WMS)
    lifecycle.evaluate(conn, NOW + datetime.timedelta(minutes=10))
    assert sending.send_due(NOW + datetime.timedelta(minutes=10)) == 1
    assert "1 cleared" in mail.outbox[1].subject and "CLEARED" in mail.outbox[1].body
    assert sending.send_due(NOW + datetime.timedelta(minutes=15)) == 0


def test_hourly_digest_lists_the_hours_alerts_once_at_the_top_of_the_hour(conn):
    tenant = conn.warehouse.tenant
    tenant.alert_frequency = AlertFrequency.HOURLY
    tenant.save()
    first = error_order(conn)
    lifecycle.evaluate(conn, NOW)  # 11:30 local
    second = factories.OrderRecordFactory(connection=conn, status=OrderRecord.Status.CANCEL_FAILED)
    fresh_jobs(conn, NOW + datetime.timedelta(minutes=10))
    lifecycle.evaluate(conn, NOW + datetime.timedelta(minutes=10))
    # A problem that came and went within the hour is told once, as both.
    OrderRecord.objects.filter(pk=first.pk).update(status=OrderRecord.Status.AT_WMS)
    fresh_jobs(conn, NOW + datetime.timedelta(minutes=20))
    lifecycle.evaluate(conn, NOW + datetime.timedelta(minutes=20))
    assert sending.send_due(NOW + datetime.timedelta(minutes=25)) == 0  # 11:55: the hour is not over

    assert sending.send_due(NOW + datetime.timedelta(minutes=31)) == 1  # 12:01
    [digest] = mail.outbox
    assert digest.subject == "[Order Manager hub] Acme Fulfilment: hourly digest — 2 new"
    assert second.order_number in digest.body and first.order_number in digest.body
    assert "the cause is already gone" in digest.body
    assert sending.send_due(NOW + datetime.timedelta(minutes=36)) == 0
    assert not Alert.objects.filter(sending._pending_q()).exists()


def test_daily_digest_goes_at_eight_in_the_tenants_morning(conn):
    tenant = conn.warehouse.tenant
    tenant.alert_frequency = AlertFrequency.DAILY
    tenant.save()
    error_order(conn)
    lifecycle.evaluate(conn, NOW)  # 11:30 EDT
    assert sending.send_due(NOW + datetime.timedelta(hours=20)) == 0  # 07:30 EDT next day
    assert sending.send_due(NOW + datetime.timedelta(hours=20, minutes=35)) == 1  # 08:05
    assert "daily digest — 1 new" in mail.outbox[0].subject
    assert sending.digest_boundary(tenant, NOW) == datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC)


def test_tenant_without_active_contacts_gets_nothing_and_nothing_piles_up(conn):
    conn.warehouse.tenant.alert_contacts.update(active=False)
    error_order(conn)
    lifecycle.evaluate(conn, NOW)
    assert sending.send_due(NOW) == 0
    assert mail.outbox == []
    alert = Alert.objects.get()
    assert alert.notified_at == NOW and alert.told == Alert.Told.NO_CONTACTS


def test_the_alert_list_says_nobody_was_told_when_there_were_no_contacts(conn, superuser, admin_client_for):
    """Issue 17: an alert was shown as notified when the tenant had no contacts and no mail went out."""
    conn.warehouse.tenant.alert_contacts.update(active=False)
    error_order(conn)
    lifecycle.evaluate(conn, NOW)
    sending.send_due(NOW)
    html = admin_client_for(superuser).get(reverse("admin:hub_alert_changelist")).content.decode()
    assert "not sent: the tenant has no active alert contact" in html


def test_an_emailed_alert_says_so(conn):
    error_order(conn)
    lifecycle.evaluate(conn, NOW)
    assert sending.send_due(NOW) == 1
    assert Alert.objects.get().told == Alert.Told.EMAILED


def test_a_failed_send_is_retried_by_the_next_call(conn, monkeypatch):
    error_order(conn)
    lifecycle.evaluate(conn, NOW)
    calls = []

    def broken(self, fail_silently=False):
        calls.append(self.subject)
        raise ConnectionRefusedError("SMTP server down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", broken)
    assert sending.send_due(NOW) == 0
    assert calls and Alert.objects.get().notified_at is None
    monkeypatch.undo()
    assert sending.send_due(NOW + datetime.timedelta(minutes=5)) == 1
    assert len(mail.outbox) == 1


def test_only_the_first_of_two_senders_sends(conn):
    error_order(conn)
    lifecycle.evaluate(conn, NOW)
    pending = list(Alert.objects.all())
    assert sending._claim(pending, [], NOW)[0] == pending
    assert sending._claim(pending, [], NOW + datetime.timedelta(seconds=1)) == ([], [])


# -- the runner's call -----------------------------------------------------------------------------


class RejectingOrderManager:
    def iter_orders(self, **kwargs):
        raise AuthenticationError("Order Manager refused the username and password", status=401)


def test_a_run_that_hits_rejected_credentials_alerts_the_contacts_at_once(conn, monkeypatch):
    fresh_jobs(conn, timezone.now())  # the runner works in real time
    monkeypatch.setattr(clients, "order_manager", lambda connection, recorder=None: RejectingOrderManager())
    run = runner.run_job(conn, Job.ORDER_DOWNLOAD)
    assert run.status == SyncRun.Status.FAILED
    assert [a.cause for a in open_alerts(conn)] == [Cause.AUTH_FAILED]
    [message] = mail.outbox
    assert "Credentials rejected" in message.body

    runner.run_job(conn, Job.ORDER_DOWNLOAD)  # still rejected: no second e-mail
    assert len(mail.outbox) == 1


def test_an_alerting_failure_never_fails_the_run(conn, monkeypatch, caplog):
    fresh_jobs(conn, timezone.now())
    monkeypatch.setattr(clients, "order_manager", lambda connection, recorder=None: RejectingOrderManager())

    def broken(*args, **kwargs):
        raise RuntimeError("alert table gone")

    monkeypatch.setattr(lifecycle, "evaluate", broken)
    run = runner.run_job(conn, Job.ORDER_DOWNLOAD)
    assert run.status == SyncRun.Status.FAILED and run.finished_at is not None
    assert "alert evaluation after the run failed" in caplog.text
    assert JobState.objects.get(connection=conn, job=Job.ORDER_DOWNLOAD).lease_token == ""  # released


# -- admin ------------------------------------------------------------------------------------------


def test_admin_lists_open_alerts_with_filters(conn, superuser, admin_client_for):
    error_order(conn)
    lifecycle.evaluate(conn, NOW)
    cleared = factories.AlertFactory(connection=conn, cleared_at=NOW, message="an old pause")
    client = admin_client_for(superuser)
    response = client.get(reverse("admin:hub_alert_changelist"), {"status": "open"})
    assert response.status_code == 200
    listed = list(response.context["cl"].result_list)
    assert [a.cause for a in listed] == [Cause.ORDER_ERROR]
    assert cleared not in listed
    response = client.get(reverse("admin:hub_alert_changelist"), {"cause": Cause.CONNECTION_PAUSED})
    assert list(response.context["cl"].result_list) == [cleared]
    assert client.get(reverse("admin:hub_alert_add")).status_code == 403


def test_admin_list_masks_a_secret_in_an_alert_message(conn, superuser, admin_client_for):
    # A message is built from outside text (a pause reason, an error), not all of it redacted on the way in.
    factories.AlertFactory(
        connection=conn,
        message='Scheduled runs are paused: login refused for password=hunter2 ({"access_token": "tok-123"})',
    )
    html = admin_client_for(superuser).get(reverse("admin:hub_alert_changelist")).content.decode()
    assert "login refused for password=***" in html
    assert "hunter2" not in html and "tok-123" not in html
