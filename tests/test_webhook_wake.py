"""Webhook events make Shipment Confirmation run soon through the lease: never twice, nothing lost."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone
from django_q.models import OrmQ

from hub.engine import dispatcher, leases
from hub.jobs import shipment_confirmation
from hub.models import Job, JobState, SyncRun, WebhookDelivery
from hub.webhooks import wake
from tests import webhook_signing as ws
from tests.factories import OrderManagerConnectionFactory, WebhookEndpointFactory
from tests.queued_tasks import run_queued

pytestmark = pytest.mark.django_db
JOB = Job.SHIPMENT_CONFIRMATION


@pytest.fixture
def conn():
    return OrderManagerConnectionFactory()


@pytest.fixture
def bodies(monkeypatch):
    """Shipment Confirmation's body replaced by a recorder (no outside calls); `during` runs inside it."""
    calls = {"runs": 0, "during": None}

    def sync(ctx):
        calls["runs"] += 1
        if calls["during"]:
            during, calls["during"] = calls["during"], None
            during()

    monkeypatch.setattr(shipment_confirmation, "sync", sync)
    return calls


def queued_funcs():
    return [row.func() for row in OrmQ.objects.order_by("pk")]


def test_accepted_order_confirm_makes_shipment_confirmation_run_through_the_lease(conn, bodies):
    endpoint = WebhookEndpointFactory(warehouse=conn.warehouse)
    assert ws.post(Client(), endpoint, ws.event_body("OrderConfirm")).status_code == 202
    assert run_queued() == [wake.RUN_QUEUED]  # the webhook task: it queued a run, it did not run one
    state = JobState.objects.get(connection=conn, job=JOB)
    assert state.lease_expires_at is not None and state.wake_requested_at is not None  # claimed, as the dispatcher does
    assert queued_funcs() == ["hub.tasks.run_job_task"]
    run_queued()
    run = SyncRun.objects.get()
    assert (run.job, run.trigger, run.status) == (JOB, SyncRun.Trigger.WEBHOOK, SyncRun.Status.SUCCEEDED)
    assert bodies["runs"] == 1
    state.refresh_from_db()
    assert state.wake_requested_at is None and state.lease_token == ""
    assert WebhookDelivery.objects.get().outcome == WebhookDelivery.Outcome.RUN_QUEUED
    assert not OrmQ.objects.exists()  # nothing more: no follow-up without an event during the run


def test_a_burst_of_100_events_queues_one_run(conn, bodies):
    outcomes = [wake.request_run(conn, JOB)[0] for _ in range(100)]
    assert outcomes.count(wake.RUN_QUEUED) == 1 and outcomes.count(wake.RUN_PENDING) == 99
    assert queued_funcs() == ["hub.tasks.run_job_task"]
    run_queued()
    assert bodies["runs"] == 1 and not OrmQ.objects.exists()  # the events came before the run started


def test_an_event_during_a_run_gets_exactly_one_follow_up(conn, bodies):
    wake.request_run(conn, JOB)
    bodies["during"] = lambda: [wake.request_run(conn, JOB) for _ in range(5)]  # lease held: all pending
    run_queued()
    assert bodies["runs"] == 1
    assert queued_funcs() == ["hub.tasks.run_job_task"]  # one follow-up, queued when the run ended
    run_queued()
    assert bodies["runs"] == 2 and not OrmQ.objects.exists()
    assert list(SyncRun.objects.values_list("trigger", flat=True)) == [SyncRun.Trigger.WEBHOOK] * 2


def test_a_running_scheduled_run_is_not_doubled(conn, bodies):
    assert leases.claim(conn, JOB, "dispatcher-token", ttl=leases.QUEUED_LEASE)  # the dispatcher's claim
    assert wake.request_run(conn, JOB)[0] == wake.RUN_PENDING
    assert not OrmQ.objects.exists()


def test_the_dispatcher_runs_a_pending_wake_whose_follow_up_was_lost(conn, bodies):
    later = timezone.now() + timezone.timedelta(minutes=15)
    JobState.objects.filter(connection=conn).update(next_due_at=later)  # nothing due by the schedule
    assert dispatcher.claim_due(timezone.now()) == []
    JobState.objects.filter(connection=conn, job=JOB).update(wake_requested_at=timezone.now())
    claims = dispatcher.claim_due(timezone.now())
    assert [(c, j) for c, j, _ in claims] == [(conn.pk, JOB.value)]


def test_out_of_order_and_duplicate_events_are_harmless(conn, bodies):
    endpoint = WebhookEndpointFactory(warehouse=conn.warehouse)
    client = Client()
    now = timezone.now()
    late = ws.event_body("OrderConfirm", event_id=5, at=now)
    early = ws.event_body("OrderConfirm", event_id=4, at=now - timezone.timedelta(minutes=10))
    assert [ws.post(client, endpoint, b).status_code for b in (late, early, late)] == [202, 202, 200]
    run_queued()  # both webhook tasks: one run queued, the other pending
    run_queued()
    assert bodies["runs"] == 1
    assert WebhookDelivery.objects.count() == 2


@pytest.mark.parametrize("change", ["archived", "inactive", "deactivated", "job_off"])
def test_events_for_a_connection_that_may_not_run_are_recorded_as_not_runnable(conn, bodies, change):
    tenant = conn.warehouse.tenant
    if change == "archived":
        tenant.archived_at = timezone.now()
        tenant.save()
    elif change == "inactive":
        tenant.active = False
        tenant.save()
    elif change == "deactivated":
        conn.activated_at = None
        conn.save()
    else:
        conn.shipment_confirmation_enabled = False
        conn.save()
    outcome, reason = wake.request_run(conn, JOB)
    assert outcome == wake.NOT_RUNNABLE and reason
    assert not OrmQ.objects.exists()


@pytest.mark.parametrize("event_type", ["OrderCancel", "InventorySummaryUpdate"])
def test_cancel_and_stock_events_are_recorded_without_a_run(conn, bodies, event_type):
    endpoint = WebhookEndpointFactory(warehouse=conn.warehouse)
    assert ws.post(Client(), endpoint, ws.event_body(event_type)).status_code == 202
    run_queued()
    assert WebhookDelivery.objects.get().outcome == WebhookDelivery.Outcome.NO_JOB
    assert not OrmQ.objects.exists() and bodies["runs"] == 0
