"""hub.engine.runner: lease, audit row, failures that never raise, watermark, refusals, crash-loop guard.

The job bodies are the real ones; the outside world is a fake Order Manager client handed to the
RunContext through `tenants.clients.order_manager` (no socket needed to test the bookkeeping).
"""

import datetime
import time

import pytest
from django.utils import timezone

from connectors.errors import AuthenticationError, ServerError
from connectors.order_manager.wire_orders import ReceivedOrder
from hub.engine import leases, runner
from hub.engine.runner import run_job
from hub.jobs import order_download
from hub.models import Job, JobState, SyncRun
from tenants import clients
from tests import factories

pytestmark = pytest.mark.django_db

JOB = Job.ORDER_DOWNLOAD


class FakeOrderManager:
    """Order Manager as seen by Order Download when there is nothing to send: one orders query."""

    def __init__(self, orders=(), *, raises=None, on_call=None):
        self.orders, self.raises, self.on_call = list(orders), raises, on_call
        self.queries = []

    def iter_orders(self, **kwargs):
        self.queries.append(kwargs)
        if self.on_call:
            self.on_call()
        if self.raises:
            raise self.raises
        yield from (ReceivedOrder.of(raw) for raw in self.orders)

    def close(self):  # the runner closes the clients it opened; not an outside call
        pass

    def __getattr__(self, name):  # any other outside call is a test failure
        raise AssertionError(f"unexpected Order Manager call: {name}")


@pytest.fixture
def fake_om(monkeypatch):
    """Install a FakeOrderManager (replace `.current` to change it); counts client constructions."""

    class Holder:
        current = FakeOrderManager()
        built = 0

    def build(connection, recorder=None):
        Holder.built += 1
        return Holder.current

    monkeypatch.setattr(clients, "order_manager", build)
    return Holder


def state_of(connection, job=JOB) -> JobState:
    return JobState.objects.get(connection=connection, job=job)


def test_run_row_is_written_before_the_first_outside_call(connection, fake_om):
    seen = []

    def check():
        seen.append(list(SyncRun.objects.filter(connection=connection, job=JOB).values_list("status", "finished_at")))

    fake_om.current = FakeOrderManager(on_call=check)
    run = runner.run_job(connection, JOB)
    assert seen == [[(SyncRun.Status.RUNNING, None)]]
    assert run.status == SyncRun.Status.SUCCEEDED and run.finished_at is not None


def test_abandoned_running_rows_are_closed_by_the_next_run(connection, fake_om):
    stale = factories.SyncRunFactory(connection=connection, job=JOB, status=SyncRun.Status.RUNNING, finished_at=None)
    other_job = factories.SyncRunFactory(
        connection=connection, job=Job.SHIPMENT_CONFIRMATION, status=SyncRun.Status.RUNNING, finished_at=None
    )
    run = runner.run_job(connection, JOB)
    stale.refresh_from_db()
    other_job.refresh_from_db()
    assert stale.status == SyncRun.Status.ABANDONED
    assert stale.finished_at is not None and "worker stopped" in stale.error
    assert other_job.status == SyncRun.Status.RUNNING  # another job's run is not this run's business
    assert run.status == SyncRun.Status.SUCCEEDED


def test_job_already_running_when_the_lease_is_held(connection, fake_om):
    assert leases.claim(connection, JOB, "someone-else")
    with pytest.raises(runner.JobAlreadyRunning):
        runner.run_job(connection, JOB)
    assert not SyncRun.objects.exists()
    assert fake_om.built == 0
    assert leases.holds(connection, JOB, "someone-else")  # the refused caller did not release it

    with pytest.raises(runner.JobAlreadyRunning):
        runner.run_job(connection, JOB, lease_token="not-the-holder")


def test_a_claimed_lease_is_used_and_released(connection, fake_om):
    assert leases.claim(connection, JOB, "dispatcher-token")
    run = runner.run_job(connection, JOB, trigger=SyncRun.Trigger.SCHEDULE, lease_token="dispatcher-token")
    assert run.status == SyncRun.Status.SUCCEEDED and run.trigger == SyncRun.Trigger.SCHEDULE
    assert state_of(connection).lease_token == "" and state_of(connection).lease_expires_at is None


@pytest.mark.parametrize(
    "error, expected",
    [
        (
            ServerError("Order Manager answered 503 Service Unavailable", status=503, body_excerpt="upstream down"),
            "Order Manager answered 503 Service Unavailable — temporary; the next run retries. (answer: upstream down)",
        ),
        (
            AuthenticationError("Order Manager refused the username and password", status=401),
            "Order Manager refused the username and password — fix the credentials on the connection",
        ),
    ],
)
def test_connector_errors_fail_the_run_with_a_plain_reason(connection, fake_om, error, expected):
    fake_om.current = FakeOrderManager(raises=error)
    run = runner.run_job(connection, JOB)  # never raises
    assert run.status == SyncRun.Status.FAILED
    assert run.error.startswith(expected)
    assert "Internal error" not in run.error
    assert leases.claim(connection, JOB, "next")  # released even though the job failed


def test_a_bug_fails_the_run_as_internal_error(connection, fake_om):
    fake_om.current = FakeOrderManager(raises=KeyError("orderItems"))
    run = runner.run_job(connection, JOB)
    assert run.status == SyncRun.Status.FAILED
    assert run.error.startswith("Internal error (KeyError): ")
    assert state_of(connection).consecutive_failures == 1


def test_item_failures_make_the_run_partial_and_still_advance_the_watermark(connection, fake_om):
    fake_om.current = FakeOrderManager(orders=[{"orderNumber": "no id"}])
    run = runner.run_job(connection, JOB)
    assert run.status == SyncRun.Status.PARTIAL
    assert (run.fetched, run.failed) == (1, 1)
    assert "without a valid orderId" in run.error
    assert state_of(connection).watermark == run.window_to


def test_watermark_advances_only_on_success_and_the_next_run_reads_from_it_minus_overlap(connection, fake_om):
    first = runner.run_job(connection, JOB)
    assert first.status == SyncRun.Status.SUCCEEDED
    assert fake_om.current.queries[0]["modified_from"] is None  # no watermark, no start_from: everything
    assert state_of(connection).watermark == first.window_to == first.started_at

    failing = FakeOrderManager(raises=ServerError("down"))
    fake_om.current = failing
    failed = runner.run_job(connection, JOB)
    assert failed.status == SyncRun.Status.FAILED
    assert failing.queries[0]["modified_from"] == first.window_to - runner.WATERMARK_OVERLAP
    assert state_of(connection).watermark == first.window_to  # a failed run does not move it

    fake_om.current = FakeOrderManager()
    third = runner.run_job(connection, JOB)
    assert fake_om.current.queries[0]["modified_from"] == first.window_to - runner.WATERMARK_OVERLAP
    assert fake_om.current.queries[0]["modified_to"] == third.window_to
    assert third.window_from == first.window_to - runner.WATERMARK_OVERLAP
    assert state_of(connection).watermark == third.window_to


def test_first_run_reads_from_the_connections_start_date(fake_om):
    start = timezone.now() - datetime.timedelta(days=3)
    connection = factories.OrderManagerConnectionFactory(start_from=start)
    runner.run_job(connection, JOB)
    assert fake_om.current.queries[0]["modified_from"] == start


def _blocked_cases():
    return {
        "disabled": (dict(order_download_enabled=False), JOB, "Order Download is turned off for this connection."),
        "inactive tenant": (dict(warehouse__tenant__active=False), JOB, "is inactive."),
        "no warehouse name": (
            dict(warehouse_name="  "),
            Job.INVENTORY_SYNC,
            "Inventory Sync needs the Order Manager warehouse name",
        ),
    }


@pytest.mark.parametrize("case", list(_blocked_cases()))
def test_refused_runs_fail_with_the_reason_and_call_nothing(fake_om, case):
    fields, job, reason = _blocked_cases()[case]
    connection = factories.OrderManagerConnectionFactory(**fields)
    run = runner.run_job(connection, job)
    assert run.status == SyncRun.Status.FAILED
    assert reason in run.error
    assert fake_om.built == 0 and run.requests_made == 0
    assert state_of(connection, job).next_due_at is None  # not schedulable: nothing is due


def test_next_due_at_is_set_after_a_run(connection, fake_om):
    due = state_of(connection).next_due_at  # a new connection is due at once
    run = runner.run_job(connection, JOB)
    state = state_of(connection)
    # Counted from the due time the run served (keeps the cadence), not from the run's start.
    assert due <= run.started_at
    assert state.next_due_at == due + datetime.timedelta(minutes=connection.order_download_interval)
    assert state.last_run_id == run.pk and state.last_success_at == run.finished_at
    assert state.claims_without_finish == 0


def test_crash_loop_guard_pauses_scheduled_runs_after_three_unfinished_claims(connection, fake_om):
    def killed():
        raise SystemExit("worker killed")  # not an Exception: escapes like a dying worker

    fake_om.current = FakeOrderManager(on_call=killed)
    for _ in range(3):
        with pytest.raises(SystemExit):
            runner.run_job(connection, JOB, trigger=SyncRun.Trigger.SCHEDULE)
    assert state_of(connection).claims_without_finish == 3
    assert SyncRun.objects.filter(status=SyncRun.Status.ABANDONED).count() == 2
    assert SyncRun.objects.filter(status=SyncRun.Status.RUNNING).count() == 1

    fake_om.current = FakeOrderManager()
    refused = runner.run_job(connection, JOB, trigger=SyncRun.Trigger.SCHEDULE)
    assert refused.status == SyncRun.Status.FAILED
    assert "The last 3 runs never finished" in refused.error
    assert fake_om.current.queries == []  # refused before any outside call
    assert "Scheduled runs are paused" in state_of(connection).attention
    assert SyncRun.objects.filter(status=SyncRun.Status.RUNNING).count() == 0  # the last one closed as abandoned

    # An operator's run is not refused: it is how the operator checks the fix.
    manual = runner.run_job(connection, JOB, trigger=SyncRun.Trigger.MANUAL)
    assert manual.status == SyncRun.Status.SUCCEEDED


def test_order_download_run_is_the_runner(connection, fake_om):
    run = run_job(connection, Job.ORDER_DOWNLOAD, trigger=SyncRun.Trigger.MANUAL)
    assert (run.job, run.trigger, run.status) == (JOB, SyncRun.Trigger.MANUAL, SyncRun.Status.SUCCEEDED)


def short_leases(monkeypatch):
    """A 1-second run lease renewed every 0.25 s, so the tests see several lease lengths go by."""
    monkeypatch.setattr(leases, "RUN_LEASE", datetime.timedelta(seconds=1))
    monkeypatch.setattr(leases, "HEARTBEAT_EVERY", 0.25)


@pytest.mark.django_db(transaction=True)
def test_a_slow_live_run_keeps_its_lease_past_the_lease_length(connection, fake_om, monkeypatch):
    short_leases(monkeypatch)
    intruder = []

    def slow_call():
        time.sleep(2.5)  # one outside call lasting two and a half lease lengths
        intruder.append(leases.claim(connection, JOB, "intruder"))

    fake_om.current = FakeOrderManager(on_call=slow_call)
    run = runner.run_job(connection, JOB)
    assert intruder == [False]  # never overtaken while alive
    assert run.status == SyncRun.Status.SUCCEEDED and runner.LEASE_LOST not in run.error
    assert state_of(connection).watermark == run.window_to
    assert state_of(connection).lease_token == ""  # released at the end


@pytest.mark.django_db(transaction=True)
def test_a_run_that_lost_its_lease_stops_and_leaves_the_watermark(connection, fake_om, monkeypatch):
    short_leases(monkeypatch)
    seen = {}

    def taken_over():
        # The lease expired and another worker claimed the job while this call was in flight.
        JobState.objects.filter(connection=connection, job=JOB).update(lease_token="other-worker")
        time.sleep(0.8)  # the next beats find no lease to renew

    fake_om.current = FakeOrderManager(on_call=taken_over)
    original_sync = order_download.sync

    def sync_and_look(ctx):
        original_sync(ctx)
        seen["out_of_time"] = ctx.out_of_time()

    monkeypatch.setattr(order_download, "sync", sync_and_look)
    run = runner.run_job(connection, JOB)
    assert seen["out_of_time"] is True  # no new outside work after the loss
    assert runner.LEASE_LOST in run.error
    state = state_of(connection)
    assert state.watermark is None  # the run that now holds the job owns the watermark
    assert state.lease_token == "other-worker"  # and its lease is not released by the loser


def test_every_run_sends_run_finished_after_its_lease_is_released(connection, fake_om):
    from hub.engine.signals import run_finished

    seen = []

    def listen(sender, connection, run, **kwargs):
        seen.append((sender, connection.pk, run.status, state_of(connection).lease_token))

    run_finished.connect(listen, dispatch_uid="test-listen")
    try:
        run = runner.run_job(connection, JOB)
    finally:
        run_finished.disconnect(dispatch_uid="test-listen")
    assert seen == [(JOB, connection.pk, run.status, "")]


def test_a_failing_run_finished_receiver_is_logged_and_the_run_stands(connection, fake_om, caplog):
    from hub.engine.signals import run_finished

    def explode(sender, **kwargs):
        raise RuntimeError("receiver broke")

    run_finished.connect(explode, dispatch_uid="test-explode")
    try:
        run = runner.run_job(connection, JOB)
    finally:
        run_finished.disconnect(dispatch_uid="test-explode")
    assert run.status == SyncRun.Status.SUCCEEDED
    assert "receiver broke" in caplog.text


def test_the_alerts_listen_to_run_finished(connection, fake_om, monkeypatch):
    from hub.ops.alerts import lifecycle

    evaluated = []
    monkeypatch.setattr(lifecycle, "evaluate", lambda conn: evaluated.append(conn.pk))
    runner.run_job(connection, JOB)
    assert evaluated == [connection.pk]
