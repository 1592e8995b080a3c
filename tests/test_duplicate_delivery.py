"""Duplicate delivery on PostgreSQL (sequential duplicates are in test_tasks.py, two clusters in
test_two_clusters.py):

- the same task delivered twice at the same moment, from two threads with their own database
  connections: exactly one run, every order at the WMS once;
- a worker killed hard (SIGKILL) while a slow sandbox answer is in flight, in a real subprocess
  running `hub.tasks.run_job_task`: the lease expires, the dispatcher claims the job again (what a
  redelivery amounts to), the next run closes the abandoned one; after three such kills the
  runner's attempt guard (`claims_without_finish`) flags the job for attention and the dispatcher
  stops claiming it, ending the crash loop;
- `manage.py sync orders` killed hard mid-run frees the connection within its run lease (the
  heartbeat stops with the process), without waiting for the 30-minute queue lease.

Skipped on SQLite: real concurrency needs a server database (`.ci/run` runs it on PostgreSQL).
"""

import datetime
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import time_machine
from django.db import connection as db_connection
from django.db import connections
from django.utils import timezone

from connectors.sandbox.control import fault_setup
from hub import tasks
from hub.engine import dispatcher
from hub.models import Job, JobState, SyncRun
from tests.conftest import TEST_KEY
from tests.sandbox_helpers import accounts, sandbox_tenant, status

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parent.parent
JOB = Job.ORDER_DOWNLOAD


@pytest.fixture(autouse=True)
def _postgres_only():
    if db_connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... (.ci/run does)")


def claim(conn, now=None):
    now = now or timezone.now()
    JobState.objects.filter(connection=conn, job=JOB).update(next_due_at=now)
    claims = [c for c in dispatcher.claim_due(now) if c[0] == conn.pk and c[1] == JOB]
    return claims[0] if claims else None


def test_the_same_task_delivered_twice_at_the_same_moment_runs_once(live_server):
    conn = sandbox_tenant(live_server, "dd-twice", orders=4, skus=3)
    claimed = claim(conn)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def deliver():
        try:
            barrier.wait()
            results.append(tasks.run_job_task(*claimed))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(results) == 2 and results.count(None) == 1  # one delivery ran, the other stood down
    assert SyncRun.objects.filter(connection=conn, job=JOB).count() == 1
    wms = status("dd-twice")["warehouse_manager"]
    assert wms["orders_total"] == 4 and wms["duplicate_reference_nums"] == {}


def worker_env(**extra: str) -> dict:
    """The environment of a hub process on this test's database."""
    settings_dict = db_connection.settings_dict
    url = (
        f"postgres://{settings_dict['USER']}:{settings_dict['PASSWORD'] or ''}@{settings_dict['HOST']}:"
        f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )
    return {
        **os.environ,
        "DATABASE_URL": url,
        "HUB_ENCRYPTION_KEYS": TEST_KEY,
        "HUB_HTTP_READ_TIMEOUT": "60",
        "DJANGO_SETTINGS_MODULE": "hub.settings",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def start_worker(conn_id: int, job: str, token: str) -> subprocess.Popen:
    code = (
        "import django; django.setup(); from hub.tasks import run_job_task; "
        f"run_job_task({conn_id}, {job!r}, {token!r})"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, env=worker_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_worker_killed_mid_task_three_times_is_flagged_for_attention(live_server):
    conn = sandbox_tenant(live_server, "dd-kill", orders=2, skus=2)
    om, _ = accounts("dd-kill")
    # Every Order Manager API call answers after 2.5 s: the worker is always mid-call when killed.
    fault_setup.configure_faults(om_account=om, timeout_rate=1.0, timeout_seconds=2.5, seed=1)
    now = timezone.now()
    for kill in range(1, 4):
        claimed = claim(conn, now)
        assert claimed is not None, f"kill {kill}: the job was not claimable again"
        runs_before = SyncRun.objects.filter(connection=conn, job=JOB).count()
        worker = start_worker(*claimed)
        try:
            assert wait_for(
                lambda: (
                    SyncRun.objects.filter(connection=conn, job=JOB).count() == runs_before + 1
                    and SyncRun.objects.filter(connection=conn, job=JOB, status=SyncRun.Status.RUNNING).count() == 1
                )
            ), "the worker never started its run"
            time.sleep(0.5)  # inside the slow call now
            worker.send_signal(signal.SIGKILL)
            assert worker.wait(10) == -signal.SIGKILL
        finally:
            if worker.poll() is None:
                worker.kill()
        state = JobState.objects.get(connection=conn, job=JOB)
        assert state.claims_without_finish == kill
        assert state.lease_expires_at > timezone.now()  # the dead worker's lease still blocks...
        # Any moment before the dead worker's lease expires (not the previous claim's time: a worker
        # that boots in under a second would put its lease less than `now` ahead of the last one).
        assert claim(conn, state.lease_expires_at - datetime.timedelta(seconds=1)) is None
        now = state.lease_expires_at + datetime.timedelta(seconds=1)  # ...until it expires
    assert SyncRun.objects.filter(connection=conn, job=JOB, status=SyncRun.Status.ABANDONED).count() == 2

    fault_setup.configure_faults(om_account=om, clear=True)
    with time_machine.travel(now, tick=True):
        claimed = claim(conn, now)
        assert claimed is not None
        run = SyncRun.objects.get(pk=tasks.run_job_task(*claimed))
        assert run.status == SyncRun.Status.FAILED
        assert "The last 3 runs never finished" in run.error
        state = JobState.objects.get(connection=conn, job=JOB)
        assert "Scheduled runs are paused" in state.attention
        assert claim(conn, timezone.now() + datetime.timedelta(hours=2)) is None  # the crash loop is over
    assert SyncRun.objects.filter(connection=conn, job=JOB, status=SyncRun.Status.ABANDONED).count() == 3
    assert SyncRun.objects.filter(connection=conn, job=JOB, status=SyncRun.Status.RUNNING).count() == 0
    assert status("dd-kill")["warehouse_manager"]["orders_total"] == 0
    time.sleep(2.6)  # let the sandbox's last slow answers finish before the test database is dropped


def test_a_sync_command_killed_mid_run_frees_the_connection_within_its_run_lease(live_server):
    from hub.engine import runner

    conn = sandbox_tenant(live_server, "dd-sigkill", orders=2, skus=2)
    om, _ = accounts("dd-sigkill")
    fault_setup.configure_faults(om_account=om, timeout_rate=1.0, timeout_seconds=2.5, seed=1)
    lease_seconds = 4
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "sync", "orders", "--connection", str(conn.pk)],
        cwd=ROOT,
        env=worker_env(HUB_RUN_LEASE_SECONDS=str(lease_seconds), HUB_LEASE_HEARTBEAT_SECONDS="1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_for(
            lambda: SyncRun.objects.filter(connection=conn, job=JOB, status=SyncRun.Status.RUNNING).exists()
        ), "the command never started its run"
        time.sleep(lease_seconds * 1.5)  # a live run outlasts its lease: the heartbeat keeps it
        assert worker.poll() is None
        with pytest.raises(runner.JobAlreadyRunning):
            runner.run_job(conn, JOB)
        worker.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        assert worker.wait(10) == -signal.SIGKILL
    finally:
        if worker.poll() is None:
            worker.kill()
    fault_setup.configure_faults(om_account=om, clear=True)

    def runs_again():
        try:
            return runner.run_job(conn, JOB)
        except runner.JobAlreadyRunning:
            return None

    assert wait_for(runs_again, timeout=lease_seconds + 5), "the dead command's lease still blocks the job"
    freed_after = time.monotonic() - killed_at
    assert freed_after <= lease_seconds + 1.5  # within one run lease, not the 30-minute queue lease
    run = SyncRun.objects.filter(connection=conn, job=JOB).order_by("-pk").first()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert SyncRun.objects.filter(connection=conn, job=JOB, status=SyncRun.Status.ABANDONED).count() == 1
    time.sleep(2.6)  # let the sandbox's last slow answers finish before the test database is dropped
