"""hub.admin.actions: the operator's order operations, Run now and Clear attention."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import OrmQ

from hub.admin import actions as admin_actions
from hub.admin.actions import MARK_CANCEL_HANDLED, RESEND, RETRY_TRACKING, Requested, RunNow
from hub.engine import leases
from hub.models import Job, JobState, OrderEvent, OrderRecord, SyncRun
from tenants.models import OrderManagerConnection
from tests import factories

Status = OrderRecord.Status


@pytest.fixture
def operator(db):
    return factories.UserFactory(username="alice", first_name="Alice", last_name="Ops", is_superuser=True)


@pytest.fixture
def orm_broker(monkeypatch):
    """Queue django-q2 tasks in the test database (the ORM broker), whatever the settings say."""
    monkeypatch.setattr(Conf, "ORM", "default")
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "BROKER_CLASS", None)
    monkeypatch.setattr(Conf, "IRON_MQ", None)
    monkeypatch.setattr(Conf, "SQS", None)


class UnreachableBroker(ORM):
    """A broker whose queue is down."""

    def enqueue(self, task):
        raise ConnectionError("broker unreachable")


def job_state(connection, job, **fields) -> JobState:
    """The (connection, job) state with `fields` set (it may exist already: connections get theirs on creation)."""
    state = leases.state_for(connection, job)
    JobState.objects.filter(pk=state.pk).update(**fields)
    state.refresh_from_db()
    return state


def make_request(user):
    request = RequestFactory().post("/admin/")
    request.user = user
    request._messages = CookieStorage(request)
    return request


def texts(request):
    return [str(m) for m in get_messages(request)]


def operator_events(order):
    return list(order.events.filter(kind=OrderEvent.Kind.OPERATOR))


# -- Resend to WMS ---------------------------------------------------------------------------------


def test_resend_clears_the_error_and_makes_the_order_due(operator):
    order = factories.OrderRecordFactory(
        status=Status.ERROR,
        error_permanent=True,
        given_up=True,
        last_error="WMS 400: unknown SKU",
        next_retry_at=timezone.now() + datetime.timedelta(days=3),
        attempts=4,
        first_attempt_at=timezone.now() - datetime.timedelta(days=16),
    )
    before = timezone.now()

    outcome = admin_actions.perform(RESEND, [order], operator)

    assert outcome.done == [order] and outcome.refused == []
    order.refresh_from_db()
    assert order.status == Status.ERROR  # the next Order Download sends it; nothing is sent here
    # attempts stays above 1 so the resend looks the order up at the WMS first (idempotent).
    assert (order.error_permanent, order.given_up, order.attempts, order.first_attempt_at) == (False, False, 4, None)
    assert before <= order.next_retry_at <= timezone.now()
    [event] = operator_events(order)
    assert event.message.startswith("Resend to WMS by alice (Alice Ops):")
    assert "WMS 400: unknown SKU" in event.message


@pytest.mark.parametrize("status", [s for s in Status if s != Status.ERROR])
def test_resend_refuses_other_statuses(operator, status):
    order = factories.OrderRecordFactory(status=status, wms_order_id=55)

    outcome = admin_actions.perform(RESEND, [order], operator)

    assert outcome.done == []
    [(refused, reason)] = outcome.refused
    assert refused == order and "only orders in error" in reason
    order.refresh_from_db()
    assert order.next_retry_at is None
    assert operator_events(order) == []


def test_an_order_a_job_changed_meanwhile_is_refused_not_half_applied(operator):
    order = factories.OrderRecordFactory(status=Status.ERROR, error_permanent=True)
    stale = OrderRecord.objects.get(pk=order.pk)
    OrderRecord.objects.filter(pk=order.pk).update(status=Status.AT_WMS, wms_order_id=9)

    reason = admin_actions.apply(RESEND, stale, operator)

    assert "changed by a job meanwhile" in reason
    order.refresh_from_db()
    assert (order.status, order.error_permanent, order.next_retry_at) == (Status.AT_WMS, True, None)
    assert operator_events(order) == []


def test_one_refusal_does_not_block_the_others(operator):
    bad = factories.OrderRecordFactory(status=Status.CONFIRMED)
    good = factories.OrderRecordFactory(status=Status.ERROR)

    outcome = admin_actions.perform(RESEND, [bad, good], operator)

    assert outcome.done == [good]
    assert [o for o, _ in outcome.refused] == [bad]


# -- Retry tracking ------------------------------------------------------------------------------


def test_retry_tracking_makes_a_shipped_order_with_unconfirmed_tracking_due(operator):
    order = factories.OrderRecordFactory(
        status=Status.SHIPPED,
        tracking_numbers=["1Z1", "1Z2"],
        confirmed_tracking_numbers=["1Z1"],
        next_retry_at=timezone.now() + datetime.timedelta(hours=2),
    )

    outcome = admin_actions.perform(RETRY_TRACKING, [order], operator)

    assert outcome.done == [order]
    order.refresh_from_db()
    assert order.next_retry_at is not None and order.next_retry_at <= timezone.now()
    [event] = operator_events(order)
    assert "Retry tracking by alice" in event.message and "1Z2" in event.message and "1Z1," not in event.message


def test_retry_tracking_brings_a_given_up_order_back_with_a_fresh_window(operator):
    order = factories.OrderRecordFactory(
        status=Status.SHIPPED,
        tracking_numbers=["1Z1"],
        tracking_given_up=True,
        tracking_attempts=14,
        tracking_failing_since=timezone.now() - datetime.timedelta(hours=80),
    )

    assert admin_actions.perform(RETRY_TRACKING, [order], operator).done == [order]

    order.refresh_from_db()
    assert order.tracking_given_up is False and order.next_retry_at <= timezone.now()
    # The next rejection waits the first backoff step and gets the whole give-up window again.
    assert (order.tracking_attempts, order.tracking_failing_since) == (0, None)
    [event] = operator_events(order)
    assert "automatic retries resume" in event.message and "1Z1" in event.message


@pytest.mark.parametrize(
    "status, tracking, confirmed, reason",
    [
        (Status.SHIPPED, ["1Z1"], ["1Z1"], "no unconfirmed tracking"),
        (Status.SHIPPED, [], [], "no unconfirmed tracking"),
        (Status.CONFIRMED, ["1Z1"], ["1Z1"], "only shipped orders"),
        (Status.AT_WMS, ["1Z1"], [], "only shipped orders"),
    ],
)
def test_retry_tracking_refuses(operator, status, tracking, confirmed, reason):
    order = factories.OrderRecordFactory(status=status, tracking_numbers=tracking, confirmed_tracking_numbers=confirmed)

    outcome = admin_actions.perform(RETRY_TRACKING, [order], operator)

    assert outcome.done == [] and reason in outcome.refused[0][1]
    order.refresh_from_db()
    assert order.next_retry_at is None and operator_events(order) == []


# -- Mark cancel handled -------------------------------------------------------------------------


def test_mark_cancel_handled(operator):
    order = factories.OrderRecordFactory(status=Status.CANCEL_FAILED, cancel_requested=True)

    assert admin_actions.perform(MARK_CANCEL_HANDLED, [order], operator).done == [order]

    order.refresh_from_db()
    assert order.cancel_handled is True and order.status == Status.CANCEL_FAILED
    [event] = operator_events(order)
    assert event.message.startswith("Mark cancel handled by alice")
    # A second time is refused: nothing left to handle, no second event.
    again = admin_actions.perform(MARK_CANCEL_HANDLED, [order], operator)
    assert again.done == [] and "already marked handled" in again.refused[0][1]
    assert len(operator_events(order)) == 1


@pytest.mark.parametrize("status", [Status.CANCELLED, Status.SHIPPED, Status.ERROR])
def test_mark_cancel_handled_refuses_other_statuses(operator, status):
    order = factories.OrderRecordFactory(status=status)

    outcome = admin_actions.perform(MARK_CANCEL_HANDLED, [order], operator)

    assert outcome.done == [] and "Cancel too late" in outcome.refused[0][1]
    order.refresh_from_db()
    assert order.cancel_handled is False


# -- Run now ---------------------------------------------------------------------------------------


def test_run_now_claims_the_lease_and_queues_the_task(orm_broker, operator, connection):
    request = make_request(operator)

    assert admin_actions.run_now(request, connection, Job.SHIPMENT_CONFIRMATION).outcome == RunNow.QUEUED

    state = JobState.objects.get(connection=connection, job=Job.SHIPMENT_CONFIRMATION)
    assert state.lease_token and state.lease_expires_at > timezone.now()
    [queued] = OrmQ.objects.all()
    task = queued.task
    assert task["func"] == "hub.tasks.run_job_task"
    assert task["args"] == (connection.pk, "shipments", state.lease_token, "manual")
    assert texts(request) == [f"Shipment Confirmation for {connection}: queued."]


def test_run_now_twice_says_already_running_and_queues_once(orm_broker, operator, connection):
    first, second = make_request(operator), make_request(operator)

    admin_actions.run_now(first, connection, Job.ORDER_DOWNLOAD)
    result = admin_actions.run_now(second, connection, Job.ORDER_DOWNLOAD)

    assert result.outcome == RunNow.ALREADY_RUNNING
    assert OrmQ.objects.count() == 1
    [message] = texts(second)
    assert "already running (lease held until" in message


def test_run_now_follows_the_runs_created_after_it(orm_broker, operator, connection):
    earlier = factories.SyncRunFactory(connection=connection, job=Job.ORDER_DOWNLOAD)

    requested = admin_actions.run_now(make_request(operator), connection, Job.ORDER_DOWNLOAD)

    assert requested == Requested(RunNow.QUEUED, earlier.pk)


def test_run_now_while_running_follows_the_run_under_way(orm_broker, operator, connection):
    factories.SyncRunFactory(connection=connection, job=Job.ORDER_DOWNLOAD)
    running = factories.SyncRunFactory(connection=connection, job=Job.ORDER_DOWNLOAD, status=SyncRun.Status.RUNNING)
    leases.claim(connection, Job.ORDER_DOWNLOAD, "the-running-one")

    requested = admin_actions.run_now(make_request(operator), connection, Job.ORDER_DOWNLOAD)

    assert requested == Requested(RunNow.ALREADY_RUNNING, running.pk - 1)


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"activated_at": None}, "not activated"),
        ({"order_download_enabled": False}, "Order Download is turned off for this connection."),
    ],
)
def test_run_now_refuses_a_job_that_may_not_run_with_the_reason(orm_broker, operator, connection, change, reason):
    OrderManagerConnection.objects.filter(pk=connection.pk).update(**change)
    connection.refresh_from_db()
    request = make_request(operator)

    assert admin_actions.run_now(request, connection, Job.ORDER_DOWNLOAD) == Requested(RunNow.NOT_ALLOWED)

    assert OrmQ.objects.count() == 0
    assert JobState.objects.get(connection=connection, job=Job.ORDER_DOWNLOAD).lease_token == ""
    [message] = texts(request)
    assert message.startswith(f"Order Download for {connection}: not run.") and reason in message


def test_run_now_refuses_a_job_of_an_inactive_tenant(orm_broker, operator, connection):
    tenant = connection.warehouse.tenant
    tenant.active = False
    tenant.save()
    connection.refresh_from_db()
    request = make_request(operator)

    assert admin_actions.run_now(request, connection, Job.INVENTORY_SYNC).outcome == RunNow.NOT_ALLOWED
    assert OrmQ.objects.count() == 0 and "is inactive" in texts(request)[0]


def test_run_now_after_the_lease_expired_queues_again(orm_broker, operator, connection):
    leases.claim(connection, Job.INVENTORY_SYNC, "dead-worker", ttl=datetime.timedelta(seconds=-1))

    assert admin_actions.run_now(make_request(operator), connection, Job.INVENTORY_SYNC).outcome == RunNow.QUEUED
    assert OrmQ.objects.count() == 1


def test_run_now_refuses_a_job_that_needs_attention(orm_broker, operator, connection):
    job_state(connection, Job.ORDER_DOWNLOAD, attention="Crashed 3 times in a row")
    request = make_request(operator)

    assert admin_actions.run_now(request, connection, Job.ORDER_DOWNLOAD).outcome == RunNow.NEEDS_ATTENTION

    assert OrmQ.objects.count() == 0
    assert JobState.objects.get(connection=connection, job=Job.ORDER_DOWNLOAD).lease_token == ""
    assert "Clear attention first" in texts(request)[0]


def test_run_now_releases_the_lease_when_the_queue_is_down(orm_broker, monkeypatch, operator, connection):
    monkeypatch.setattr(Conf, "BROKER_CLASS", f"{__name__}.UnreachableBroker")
    request = make_request(operator)

    assert admin_actions.run_now(request, connection, Job.ORDER_DOWNLOAD).outcome == RunNow.NOT_QUEUED

    state = JobState.objects.get(connection=connection, job=Job.ORDER_DOWNLOAD)
    assert state.lease_token == "" and state.lease_expires_at is None
    assert "could not be queued (ConnectionError: broker unreachable)" in texts(request)[0]


def test_run_now_refuses_another_tenants_connection(orm_broker, connection):
    staff = factories.tenant_staff(factories.TenantFactory(), username="bob")

    with pytest.raises(PermissionDenied):
        admin_actions.run_now(make_request(staff), connection, Job.ORDER_DOWNLOAD)

    assert OrmQ.objects.count() == 0
    assert not JobState.objects.filter(connection=connection).exclude(lease_token="").exists()


def test_run_now_for_own_tenant_staff(orm_broker, connection):
    staff = factories.tenant_staff(connection.warehouse.tenant, username="carol")

    assert admin_actions.run_now(make_request(staff), connection, Job.ORDER_DOWNLOAD).outcome == RunNow.QUEUED


# -- Clear attention -------------------------------------------------------------------------------


def test_clear_attention(connection):
    flagged = job_state(
        connection, Job.ORDER_DOWNLOAD, attention="Crashed", claims_without_finish=3, consecutive_failures=2
    )
    fine = job_state(connection, Job.INVENTORY_SYNC)

    cleared = admin_actions.clear_attention([flagged, fine])

    assert cleared == [flagged]
    flagged.refresh_from_db()
    assert (flagged.attention, flagged.claims_without_finish, flagged.consecutive_failures) == ("", 0, 2)
