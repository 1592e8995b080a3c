"""hub.engine.leases: one conditional UPDATE claims (connection, job); tokens renew and release; expiry frees."""

import datetime
import threading
import time

import pytest
import time_machine
from django.utils import timezone

from hub.engine import leases
from hub.models import Job, JobState

pytestmark = pytest.mark.django_db

JOB = Job.SHIPMENT_CONFIRMATION


def test_claim_is_exclusive_until_released(connection):
    assert leases.claim(connection, JOB, "a")
    assert not leases.claim(connection, JOB, "b")
    assert leases.holds(connection, JOB, "a") and not leases.holds(connection, JOB, "b")
    assert not leases.release(connection, JOB, "b")  # only the holder releases
    assert leases.holds(connection, JOB, "a")
    assert leases.release(connection, JOB, "a")
    assert not leases.holds(connection, JOB, "a")
    assert leases.claim(connection, JOB, "b")


def test_leases_are_per_connection_and_job(connection):
    from tests.factories import OrderManagerConnectionFactory

    other = OrderManagerConnectionFactory()
    assert leases.claim(connection, JOB, "a")
    assert leases.claim(connection, Job.ORDER_DOWNLOAD, "b")
    assert leases.claim(other, JOB, "c")
    assert JobState.objects.filter(lease_token__in=["a", "b", "c"]).count() == 3


def test_an_expired_lease_can_be_taken_over(connection):
    assert leases.claim(connection, JOB, "dead-worker", ttl=datetime.timedelta(minutes=30))
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=31)):
        assert not leases.holds(connection, JOB, "dead-worker")
        assert leases.claim(connection, JOB, "new-worker")
        assert not leases.renew(connection, JOB, "dead-worker")  # the presumed-dead holder cannot come back
        assert leases.holds(connection, JOB, "new-worker")


def test_renew_extends_the_lease(connection):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert leases.claim(connection, JOB, "a", ttl=datetime.timedelta(minutes=10))
    with time_machine.travel(start + datetime.timedelta(minutes=9), tick=False):
        assert leases.renew(connection, JOB, "a", ttl=datetime.timedelta(minutes=10))
    with time_machine.travel(start + datetime.timedelta(minutes=15), tick=False):
        assert leases.holds(connection, JOB, "a")
        assert not leases.claim(connection, JOB, "b")


def test_claim_is_one_conditional_update(connection, django_assert_num_queries):
    leases.state_for(connection, JOB)
    # get_or_create's SELECT, then the single UPDATE ... WHERE lease is free.
    with django_assert_num_queries(2) as captured:
        assert leases.claim(connection, JOB, "a")
    update = captured.captured_queries[-1]["sql"]
    assert update.startswith("UPDATE") and "lease_expires_at" in update.split("WHERE", 1)[1]


def test_new_tokens_are_unique():
    assert len({leases.new_token() for _ in range(100)}) == 100


class Killed(BaseException):
    """Stands for SIGKILL: nothing in the hub catches it, and no `finally` releases the lease."""


def test_a_killed_run_frees_its_lease_within_two_minutes(connection, monkeypatch):
    # Issue 15, finding 5: a SIGKILLed `sync orders` held its lease for 30 minutes.
    from hub.engine import runner

    def die(ctx):
        raise Killed

    monkeypatch.setattr(runner, "body_of", lambda job: die)
    monkeypatch.setattr(leases, "release", lambda *args, **kwargs: True)  # killed: never released
    start = timezone.now()
    with pytest.raises(Killed):
        runner.run_job(connection, Job.ORDER_DOWNLOAD)
    state = JobState.objects.get(connection=connection, job=Job.ORDER_DOWNLOAD)
    assert state.lease_token and state.lease_expires_at <= start + datetime.timedelta(minutes=2, seconds=5)
    with pytest.raises(runner.JobAlreadyRunning):
        runner.run_job(connection, Job.ORDER_DOWNLOAD)  # a live-looking holder is respected...
    with time_machine.travel(start + datetime.timedelta(minutes=2, seconds=6)):
        assert leases.claim(connection, Job.ORDER_DOWNLOAD, "next-run")  # ...a dead one frees the pair


@pytest.mark.django_db(transaction=True)  # the heartbeat renews from its own thread and connection
def test_a_slow_live_run_is_renewed_and_never_overtaken(connection):
    ttl = datetime.timedelta(seconds=1)
    assert leases.claim(connection, JOB, "slow", ttl=ttl)
    with leases.Heartbeat(connection, JOB, "slow", ttl=ttl, every=0.2) as heartbeat:
        for _ in range(5):  # 2.5 s: longer than two leases
            time.sleep(0.5)
            assert not leases.claim(connection, JOB, "other")
        assert not heartbeat.lost.is_set() and heartbeat.beats >= 5
    time.sleep(1.2)  # stopped beating: the lease now runs out like a dead holder's
    assert leases.claim(connection, JOB, "other")


@pytest.mark.django_db(transaction=True)
def test_a_run_that_lost_its_lease_notices(connection):
    assert leases.claim(connection, JOB, "mine", ttl=datetime.timedelta(seconds=5))
    with leases.Heartbeat(connection, JOB, "mine", every=0.1) as heartbeat:
        JobState.objects.filter(connection=connection, job=JOB).update(lease_token="taken-over")
        assert heartbeat.lost.wait(3)
    assert JobState.objects.get(connection=connection, job=JOB).lease_token == "taken-over"


def test_a_lost_lease_stops_new_outside_work(connection):
    from types import SimpleNamespace

    from hub.engine.runner import RunContext

    heartbeat = SimpleNamespace(lost=threading.Event())
    ctx = RunContext(
        connection=connection,
        run=None,
        now=timezone.now(),
        window_from=None,
        window_to=timezone.now(),
        heartbeat=heartbeat,
    )
    assert not ctx.out_of_time()
    heartbeat.lost.set()
    assert ctx.out_of_time()
    ctx.note_budget_stop(3, "order(s) to send")
    assert "lost its lease" in ctx.errors[0]
