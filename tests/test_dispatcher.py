"""hub.engine.dispatcher: one UPDATE claims every due pair, one SELECT reads them, one task per claim."""

import datetime

import pytest
from django.utils import timezone
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from hub.engine import dispatcher, leases
from hub.models import Job, JobState
from tenants.models import OrderManagerConnection, Tenant
from tests import factories

pytestmark = pytest.mark.django_db

PAST = datetime.timedelta(minutes=1)


@pytest.fixture
def enqueued(monkeypatch):
    """Record async_task calls instead of going to the broker (its own cost is tested separately)."""
    calls = []
    monkeypatch.setattr(dispatcher, "async_task", lambda func, *args, **kwargs: calls.append((func, args, kwargs)))
    return calls


def make_due(count, now):
    """`count` due (connection, job) pairs over ceil(count / 4) connections; every other pair not yet due."""
    connections = [factories.OrderManagerConnectionFactory() for _ in range(-(-count // 4))]
    states = JobState.objects.filter(connection__in=connections)
    states.update(next_due_at=now + datetime.timedelta(hours=1))
    due_ids = list(states.order_by("pk").values_list("pk", flat=True)[:count])
    JobState.objects.filter(pk__in=due_ids).update(next_due_at=now - PAST)
    return connections


def only_due(connection, job, now):
    JobState.objects.exclude(connection=connection, job=job).update(next_due_at=now + datetime.timedelta(hours=1))
    JobState.objects.filter(connection=connection, job=job).update(next_due_at=now - PAST)


@pytest.mark.parametrize("count", [1, 10, 200])
def test_constant_queries_per_tick(count, enqueued, django_assert_max_num_queries):
    now = timezone.now()
    make_due(count, now)
    with django_assert_max_num_queries(2):  # the claiming UPDATE and the SELECT of the claimed rows
        claims = dispatcher.dispatch(now)
    assert len(claims) == len(enqueued) == count
    assert JobState.objects.filter(lease_expires_at=now + leases.QUEUED_LEASE).count() == count


def test_nothing_due_is_one_query(enqueued, django_assert_num_queries):
    now = timezone.now()
    make_due(0, now)
    factories.OrderManagerConnectionFactory()
    JobState.objects.update(next_due_at=now + PAST)
    with django_assert_num_queries(1):
        assert dispatcher.dispatch(now) == []


def test_claims_have_their_own_tokens_and_hold_the_lease(enqueued):
    now = timezone.now()
    connections = make_due(8, now)
    claims = dispatcher.dispatch(now)
    tokens = [token for _, _, token in claims]
    assert len(set(tokens)) == 8
    assert len({token.split("-")[0] for token in tokens}) == 1  # one random prefix per tick
    by_id = {c.pk: c for c in connections}
    for connection_id, job, token in claims:
        assert leases.holds(by_id[connection_id], job, token)
        assert JobState.objects.filter(lease_token=token).count() == 1


def test_tasks_carry_ids_and_token_only(enqueued):
    now = timezone.now()
    connection = factories.OrderManagerConnectionFactory(access_token="hunter2-secret")
    only_due(connection, Job.SHIPMENT_CONFIRMATION, now)
    [(connection_id, job, token)] = dispatcher.dispatch(now)
    [(func, args, kwargs)] = enqueued
    assert func == "hub.tasks.run_job_task"
    assert args == (connection.pk, Job.SHIPMENT_CONFIRMATION, token)
    assert "hunter2" not in repr((args, kwargs))
    assert kwargs["group"] == "hub.shipments"
    assert str(connection.pk) in kwargs["task_name"]


def test_a_second_tick_claims_nothing_until_the_lease_expires(enqueued):
    now = timezone.now()
    make_due(4, now)
    first = {token for *_, token in dispatcher.dispatch(now)}
    assert len(first) == 4
    assert dispatcher.dispatch(now + datetime.timedelta(minutes=1)) == []
    # The holder died: after the lease expired the still-due pairs are claimed again, with new tokens.
    later = now + leases.QUEUED_LEASE + datetime.timedelta(seconds=1)
    again = dispatcher.dispatch(later)
    assert len(again) == 4
    assert not {token for *_, token in again} & first


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(
            lambda c, now: JobState.objects.filter(connection=c).update(next_due_at=now + PAST), id="not-yet-due"
        ),
        pytest.param(lambda c, now: JobState.objects.filter(connection=c).update(next_due_at=None), id="never-due"),
        pytest.param(
            lambda c, now: JobState.objects.filter(connection=c).update(
                lease_token="other", lease_expires_at=now + PAST
            ),
            id="leased",
        ),
        pytest.param(
            lambda c, now: JobState.objects.filter(connection=c).update(attention="crash loop"), id="attention"
        ),
        # Bypassing the signals on purpose: stale due times never outrun the switches.
        pytest.param(lambda c, now: Tenant.objects.filter(pk=c.tenant.pk).update(active=False), id="tenant-inactive"),
        pytest.param(
            lambda c, now: Tenant.objects.filter(pk=c.tenant.pk).update(archived_at=now), id="tenant-archived"
        ),
        pytest.param(
            lambda c, now: OrderManagerConnection.objects.filter(pk=c.pk).update(
                order_download_enabled=False,
                cancel_download_enabled=False,
                shipment_confirmation_enabled=False,
                inventory_sync_enabled=False,
            ),
            id="all-disabled",
        ),
    ],
)
def test_pairs_that_must_not_run_are_not_claimed(spoil, enqueued):
    now = timezone.now()
    spoiled = factories.OrderManagerConnectionFactory()
    healthy = factories.OrderManagerConnectionFactory()
    JobState.objects.update(next_due_at=now - PAST)
    spoil(spoiled, now)
    claims = dispatcher.dispatch(now)
    assert {connection_id for connection_id, _, _ in claims} == {healthy.pk}
    assert len(claims) == len(Job)


def test_each_job_switch_is_honoured_separately(enqueued):
    now = timezone.now()
    connection = factories.OrderManagerConnectionFactory()
    OrderManagerConnection.objects.filter(pk=connection.pk).update(cancel_download_enabled=False)
    JobState.objects.update(next_due_at=now - PAST)
    jobs = {job for _, job, _ in dispatcher.dispatch(now)}
    assert jobs == {Job.ORDER_DOWNLOAD, Job.SHIPMENT_CONFIRMATION, Job.INVENTORY_SYNC, Job.RECONCILIATION}


def test_inventory_without_warehouse_name_is_not_claimed(enqueued):
    now = timezone.now()
    connection = factories.OrderManagerConnectionFactory()
    OrderManagerConnection.objects.filter(pk=connection.pk).update(warehouse_name="")
    JobState.objects.update(next_due_at=now - PAST)
    jobs = {job for _, job, _ in dispatcher.dispatch(now)}
    assert Job.INVENTORY_SYNC not in jobs and len(jobs) == len(Job) - 1


def test_expired_lease_is_claimable(enqueued):
    now = timezone.now()
    connection = factories.OrderManagerConnectionFactory()
    only_due(connection, Job.ORDER_DOWNLOAD, now)
    JobState.objects.filter(connection=connection, job=Job.ORDER_DOWNLOAD).update(
        lease_token="dead-worker", lease_expires_at=now - PAST
    )
    [(_, job, token)] = dispatcher.dispatch(now)
    assert job == Job.ORDER_DOWNLOAD and token != "dead-worker"


def test_failed_enqueue_releases_the_lease(monkeypatch):
    now = timezone.now()
    connection = factories.OrderManagerConnectionFactory()
    only_due(connection, Job.ORDER_DOWNLOAD, now)

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(dispatcher, "async_task", broker_down)
    assert dispatcher.dispatch(now) == []
    state = JobState.objects.get(connection=connection, job=Job.ORDER_DOWNLOAD)
    assert (state.lease_token, state.lease_expires_at) == ("", None)
    assert state.next_due_at <= now  # still due: the next tick tries again


def test_orm_broker_gets_one_row_per_claim(django_assert_num_queries):
    """The broker's cost, counted apart from the claim: the ORM broker INSERTs one row per task."""
    now = timezone.now()
    make_due(10, now)
    OrmQ.objects.all().delete()
    with django_assert_num_queries(2 + 10):
        claims = dispatcher.dispatch(now)
    rows = list(OrmQ.objects.all())
    assert len(rows) == 10
    payloads = [SignedPackage.loads(row.payload) for row in rows]
    assert {p["args"] for p in payloads} == set(claims)
    assert {p["func"] for p in payloads} == {"hub.tasks.run_job_task"}
    assert all(p["ack_failure"] for p in payloads)  # from Q_CLUSTER["ack_failures"]


def test_a_job_falling_due_just_after_a_tick_is_claimed_by_it_not_a_minute_later(enqueued):
    """Issue 17: interval jobs skipped a minute now and then (a due time just after the tick)."""
    from hub.engine.schedule import DISPATCH_LOOKAHEAD, next_after_run

    now = timezone.now()
    connection = factories.OrderManagerConnectionFactory()
    only_due(connection, Job.ORDER_DOWNLOAD, now)
    due = now + datetime.timedelta(seconds=10)
    state = JobState.objects.get(connection=connection, job=Job.ORDER_DOWNLOAD)
    JobState.objects.filter(pk=state.pk).update(next_due_at=due)
    assert [(c, j) for c, j, _ in dispatcher.claim_due(now)] == [(connection.pk, Job.ORDER_DOWNLOAD)]
    # Its next due time counts from the due time, so the chain does not slide towards the tick.
    interval = datetime.timedelta(minutes=connection.order_download_interval)
    assert next_after_run(connection, Job.ORDER_DOWNLOAD, due, now) == due + interval
    far = now + DISPATCH_LOOKAHEAD + datetime.timedelta(seconds=1)
    JobState.objects.filter(pk=state.pk).update(next_due_at=far, lease_token="", lease_expires_at=None)
    assert dispatcher.claim_due(now) == []
