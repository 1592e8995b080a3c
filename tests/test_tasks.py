"""hub.tasks: the dispatch tick, the run task (at most one run per claim) and the hub.dispatch Schedule."""

import datetime
import importlib
import io
import sys
import types

import pytest
from django.core.management import call_command
from django.db import connection as db_connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.operations import RunPython
from django.utils import timezone
from django_q.models import OrmQ, Schedule
from django_q.signing import SignedPackage

from hub import tasks
from hub.engine import dispatcher, leases, schedule
from hub.models import Job, JobState, SyncRun
from tenants.models import OrderManagerConnection
from tests import factories

pytestmark = pytest.mark.django_db


class FakeRunner:
    """Stands in for hub.engine.runner.run_job per its contract: runs under the caller's lease, sets the
    next due time from hub.engine.schedule, then releases the lease."""

    def __init__(self):
        self.calls = []
        self.during = None  # called while "running", to deliver a duplicate mid-run

    def __call__(self, connection, job, *, trigger, lease_token=None):
        assert leases.holds(connection, job, lease_token), "run_job called without the lease"
        self.calls.append((connection.pk, job, trigger, lease_token))
        if self.during:
            self.during()
        run = factories.SyncRunFactory(connection=connection, job=job, trigger=trigger)
        JobState.objects.filter(connection=connection, job=job).update(
            last_run=run, next_due_at=schedule.next_due(connection, job, run.started_at)
        )
        leases.release(connection, job, lease_token)
        return run


@pytest.fixture
def runner(monkeypatch):
    try:
        module = importlib.import_module("hub.engine.runner")
    except ImportError:  # the runner is written in parallel; its contract is all this module needs
        module = types.ModuleType("hub.engine.runner")
        module.JobAlreadyRunning = type("JobAlreadyRunning", (Exception,), {})
        monkeypatch.setitem(sys.modules, "hub.engine.runner", module)
    fake = FakeRunner()
    monkeypatch.setattr(module, "run_job", fake, raising=False)
    fake.module = module
    return fake


def claim(connection, job=Job.ORDER_DOWNLOAD):
    """Make (connection, job) the only due pair and dispatch it; returns the dispatcher's token."""
    now = timezone.now()
    JobState.objects.update(next_due_at=now + datetime.timedelta(hours=1))
    JobState.objects.filter(connection=connection, job=job).update(next_due_at=now - datetime.timedelta(minutes=1))
    [(connection_id, claimed_job, token)] = dispatcher.claim_due(now)
    assert (connection_id, claimed_job) == (connection.pk, job)
    return token


def lease(connection, job=Job.ORDER_DOWNLOAD):
    return JobState.objects.filter(connection=connection, job=job).values_list("lease_token", "lease_expires_at").get()


def test_runs_once_under_a_fresh_token_then_the_lease_is_free(connection, runner):
    token = claim(connection)
    run_id = tasks.run_job_task(connection.pk, Job.ORDER_DOWNLOAD, token)
    [(connection_id, job, trigger, run_token)] = runner.calls
    assert (connection_id, job, trigger) == (connection.pk, Job.ORDER_DOWNLOAD, SyncRun.Trigger.SCHEDULE)
    assert run_token != token
    assert SyncRun.objects.get(pk=run_id).connection == connection
    assert lease(connection) == ("", None)


def test_second_delivery_after_the_run_does_not_run(connection, runner):
    token = claim(connection)
    tasks.run_job_task(connection.pk, Job.ORDER_DOWNLOAD, token)
    assert tasks.run_job_task(connection.pk, Job.ORDER_DOWNLOAD, token) is None
    assert len(runner.calls) == 1


def test_duplicate_delivered_while_the_first_still_runs_does_not_run(connection, runner):
    token = claim(connection)
    inner = []
    runner.during = lambda: inner.append(tasks.run_job_task(connection.pk, Job.ORDER_DOWNLOAD, token))
    tasks.run_job_task(connection.pk, Job.ORDER_DOWNLOAD, token)
    assert inner == [None]
    assert len(runner.calls) == 1


def test_lease_reclaimed_by_another_token_is_left_alone(connection, runner):
    token = claim(connection)
    expiry = timezone.now() + datetime.timedelta(minutes=5)
    JobState.objects.filter(connection=connection, job=Job.ORDER_DOWNLOAD).update(
        lease_token="other", lease_expires_at=expiry
    )
    assert tasks.run_job_task(connection.pk, Job.ORDER_DOWNLOAD, token) is None
    assert runner.calls == []
    assert lease(connection) == ("other", expiry)


def test_expired_lease_does_not_run(connection, runner):
    token = claim(connection)
    JobState.objects.filter(connection=connection, job=Job.ORDER_DOWNLOAD).update(
        lease_expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert tasks.run_job_task(connection.pk, Job.ORDER_DOWNLOAD, token) is None
    assert runner.calls == []


def test_disabled_while_queued_does_not_run_and_frees_the_lease(connection, runner):
    token = claim(connection)
    OrderManagerConnection.objects.filter(pk=connection.pk).update(order_download_enabled=False)
    assert tasks.run_job_task(connection.pk, Job.ORDER_DOWNLOAD, token) is None
    assert runner.calls == []
    assert lease(connection) == ("", None)


def test_deleted_connection_does_not_run(connection, runner):
    token = claim(connection)
    connection_id = connection.pk
    connection.delete()
    assert tasks.run_job_task(connection_id, Job.ORDER_DOWNLOAD, token) is None
    assert runner.calls == []


def test_runner_refusing_the_lease_is_not_an_error(connection, runner, monkeypatch):
    token = claim(connection)

    def refuse(*args, **kwargs):
        raise runner.module.JobAlreadyRunning("lost")

    monkeypatch.setattr(runner.module, "run_job", refuse)
    assert tasks.run_job_task(connection.pk, Job.ORDER_DOWNLOAD, token) is None


def test_tick_enqueues_through_the_orm_broker_and_each_task_runs_once(runner):
    connections = [factories.OrderManagerConnectionFactory() for _ in range(3)]
    JobState.objects.update(next_due_at=timezone.now() - datetime.timedelta(minutes=1))
    OrmQ.objects.all().delete()
    assert tasks.dispatch_tick() == 3 * len(Job)
    payloads = [SignedPackage.loads(row.payload) for row in OrmQ.objects.all()]
    assert len(payloads) == 3 * len(Job)
    for payload in payloads + payloads:  # every task delivered twice
        tasks.run_job_task(*payload["args"], **payload["kwargs"])
    ran = sorted((connection_id, job) for connection_id, job, _, _ in runner.calls)
    assert ran == sorted((c.pk, job) for c in connections for job in Job)
    assert not JobState.objects.exclude(lease_token="").exists()
    assert tasks.dispatch_tick() == 0  # every pair ran and is due again only later


# --- the hub.dispatch Schedule ------------------------------------------------------------------


def dispatch_schedules():
    return list(
        Schedule.objects.filter(name=tasks.DISPATCH_SCHEDULE_NAME).values("func", "schedule_type", "minutes", "repeats")
    )


EXPECTED = [{"func": "hub.tasks.dispatch_tick", "schedule_type": Schedule.MINUTES, "minutes": 1, "repeats": -1}]


def run_data_migration(app_label: str, name: str) -> None:
    """Run the RunPython operations of migration `app_label.name` again, on its own historical models.

    The rows a data migration created are in the test database only until a transactional test
    flushes it (pytest-django runs those after the others, but this suite's slow-first ordering,
    xdist or a random order may put one earlier), so a test about them recreates them itself:
    on an empty table, exactly as `migrate` did on a fresh database.
    """
    executor = MigrationExecutor(db_connection)
    migration = executor.loader.get_migration(app_label, name)
    state = executor.loader.project_state((app_label, name), at_end=False)
    operations = [op for op in migration.operations if isinstance(op, RunPython)]
    assert operations, f"{app_label}.{name} has no data migration to run"
    # A schema editor cannot open inside the test's transaction on SQLite; these functions use only
    # its `connection` (for the database alias), so that is all the stand-in carries.
    editor = types.SimpleNamespace(connection=db_connection)
    for operation in operations:
        operation.code(state.apps, editor)


@pytest.fixture
def migrated_schedules():
    """The django-q2 Schedule table as the hub's data migrations leave it on a fresh database."""
    Schedule.objects.all().delete()
    run_data_migration("hub", "0002_schedules")
    run_data_migration("hub", "0004_ops_schedules")


def test_the_migration_created_the_schedule(migrated_schedules):
    assert dispatch_schedules() == EXPECTED


def test_setup_schedules_twice_leaves_one_schedule():
    Schedule.objects.all().delete()
    call_command("setup_schedules", stdout=io.StringIO())
    call_command("setup_schedules", stdout=io.StringIO())
    assert dispatch_schedules() == EXPECTED


def test_install_repairs_an_edited_schedule_and_drops_duplicates(migrated_schedules):
    Schedule.objects.filter(name=tasks.DISPATCH_SCHEDULE_NAME).update(minutes=30, repeats=0)
    Schedule.objects.create(
        name=tasks.DISPATCH_SCHEDULE_NAME, func="hub.tasks.dispatch_tick", schedule_type=Schedule.HOURLY
    )
    other = Schedule.objects.create(name="someone else's", func="math.floor", args="1.5")
    tasks.install_dispatch_schedule()
    assert dispatch_schedules() == EXPECTED
    assert Schedule.objects.filter(pk=other.pk).exists()


# -- the operations schedules (issue 8): hub.ops.alerts and hub.prune ------------------------------------

OPS_EXPECTED = {
    "hub.alerts": {"func": "hub.tasks.alerts_tick", "schedule_type": Schedule.MINUTES, "minutes": 5, "repeats": -1},
    "hub.prune": {"func": "hub.tasks.prune_tick", "schedule_type": Schedule.DAILY, "minutes": None, "repeats": -1},
}


def ops_schedules():
    return {
        s["name"]: {k: s[k] for k in ("func", "schedule_type", "minutes", "repeats")}
        for s in Schedule.objects.filter(name__in=list(OPS_EXPECTED)).values()
    }


def test_the_migration_created_the_ops_schedules(migrated_schedules):
    assert ops_schedules() == OPS_EXPECTED
    assert Schedule.objects.count() == 3


def test_setup_schedules_installs_all_three_once():
    Schedule.objects.all().delete()
    out = io.StringIO()
    call_command("setup_schedules", stdout=out)
    call_command("setup_schedules", stdout=out)
    assert dispatch_schedules() == EXPECTED
    assert ops_schedules() == OPS_EXPECTED
    assert Schedule.objects.count() == 3
    assert "'hub.prune' (hub.tasks.prune_tick) runs daily." in out.getvalue()


def test_alerts_tick_evaluates_every_connection_and_sends():
    connection = factories.OrderManagerConnectionFactory()
    factories.AlertContactFactory(tenant=connection.warehouse.tenant)
    connection.credentials_rejected_at = timezone.now()
    connection.save(update_fields=["credentials_rejected_at"])
    from django.core import mail

    assert tasks.alerts_tick() == {"opened": 1, "cleared": 0, "emails": 1}
    assert len(mail.outbox) == 1
    assert tasks.alerts_tick() == {"opened": 0, "cleared": 0, "emails": 0}
