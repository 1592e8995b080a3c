"""Scale-out proof: two real `manage.py qcluster` processes share one PostgreSQL database and one
Redis broker, with 50 sandbox connections due at once, and every (connection, job) runs exactly
once per due time, no order reaches the WMS twice, no tracking number reaches Order Manager
twice, and nothing is lost.

Everything runs as it would in production, in subprocesses against a database of its own
(`hub_two_clusters_<pid>`, created, migrated and dropped here; pytest-django's test database is
not visible to other processes): a gunicorn web server serving the sandbox, two clusters of
`WORKERS_PER_CLUSTER` workers each, and short-lived driver processes that call the functions
`driver_*` below (set-up, dispatch, wait, report). The clusters get a queue name of their own on
the shared Redis (a generated settings module), so concurrent test runs never take each other's
tasks.

Round 1: every interval job of the 50 connections is due at T1; four dispatchers run at the same
instant (threads, one database connection each), and every task they enqueue is enqueued a
second time (a duplicate delivery, as a django-q2 `retry` or a broker redelivery would cause).
Round 2: the sandbox WMS ships every order, one more order arrives per tenant, every interval job
is due again at T2, and the "hub.dispatch" schedule fires in whichever cluster gets there first.

Skipped unless DATABASE_URL is PostgreSQL and Redis answers on HUB_TEST_REDIS_URL (`.ci/run` sets both).
"""

from __future__ import annotations

import datetime
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

# Starting, stopping and waiting for server processes, as the benchmarks do it.
from benchmarks.infra import start, stop, wait_for_http

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parent.parent
N_CONNECTIONS = 50
ORDERS_EACH = 3
SKUS_EACH = 4
WORKERS_PER_CLUSTER = 4
DISPATCH_THREADS = 4
INTERVAL_JOBS = ("orders", "cancellations", "shipments")
RUN_TIMEOUT = 75  # seconds to wait for a round's runs; the scheduler alone may take 30 s to fire
SLUG = "tc-{:02d}"
SETTINGS_MODULE = """\
from hub.settings import *  # noqa: F401,F403

# A queue of its own on the shared Redis: another test run's clusters never take these tasks.
Q_CLUSTER = {{**Q_CLUSTER, "name": {name!r}}}
"""


# ------------------------------------------------------------------ drivers (run in subprocesses)


def driver_build(n: int, orders: int, skus: int, base_url: str) -> dict:
    """Onboard `n` sandbox tenants with `orders` orders each; make all interval jobs due at one instant."""
    from django.core.management import call_command
    from django.utils import timezone

    from connectors.sandbox.control import seeding
    from hub.models import JobState
    from tests.sandbox_helpers import accounts

    for i in range(n):
        slug = SLUG.format(i)
        call_command("sandbox", "tenant", slug, "--base-url", base_url, stdout=io.StringIO())
        om, wms = accounts(slug)
        seeding.seed(om, wms, orders=orders, skus=skus, seed=i)
    due = timezone.now()
    pairs = JobState.objects.filter(job__in=INTERVAL_JOBS).update(next_due_at=due)
    return {"due_at": due.isoformat(), "pairs": pairs}


def driver_dispatch(threads: int) -> dict:
    """`threads` dispatchers at the same instant, then a second delivery of every task they enqueued."""
    import threading

    from django.db import connection

    from hub.engine import dispatcher

    barrier = threading.Barrier(threads)
    results: list = [None] * threads
    errors: list = []

    def work(k):
        try:
            barrier.wait()
            results[k] = dispatcher.dispatch()
        except Exception as exc:  # reported, and the test fails on it
            errors.append(repr(exc))
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    claims = [claim for result in results if result for claim in result]
    for connection_id, job, token in claims:
        dispatcher.enqueue(connection_id, job, token)
    return {
        "claims_per_dispatcher": [len(r) if r is not None else None for r in results],
        "claims": len(claims),
        "distinct_pairs": len({(c, j) for c, j, _ in claims}),
        "redelivered": len(claims),
        "errors": errors,
    }


def driver_wait(since: str, expected: int, timeout: float) -> dict:
    """Wait until `expected` runs started at or after `since` have finished and no lease is held."""
    from django.utils import timezone

    from hub.models import JobState, SyncRun

    since_at = datetime.datetime.fromisoformat(since)
    started = time.monotonic()
    while True:
        finished = SyncRun.objects.filter(started_at__gte=since_at).exclude(status=SyncRun.Status.RUNNING).count()
        leased = JobState.objects.filter(lease_expires_at__gt=timezone.now()).count()
        if (finished >= expected and not leased) or time.monotonic() - started > timeout:
            return {"finished": finished, "leased": leased, "seconds": round(time.monotonic() - started, 1)}
        time.sleep(0.5)


def driver_round_two(n: int) -> dict:
    """The sandbox WMS ships everything, one more order per tenant, every interval job due again, the schedule fires."""
    from django.utils import timezone
    from django_q.models import Schedule

    from connectors.sandbox.control import order_events, seeding
    from hub.models import JobState
    from hub.tasks import DISPATCH_SCHEDULE_NAME
    from tests.sandbox_helpers import accounts

    shipped = 0
    for i in range(n):
        om, wms = accounts(SLUG.format(i))
        shipped += len(order_events.ship(wms, seed=i))
        seeding.seed(om, wms, orders=1, skus=0, seed=1000 + i)
    due = timezone.now()
    pairs = JobState.objects.filter(job__in=INTERVAL_JOBS).update(next_due_at=due)
    # Fire at the next scheduler pass of either cluster instead of waiting out the minute.
    Schedule.objects.filter(name=DISPATCH_SCHEDULE_NAME).update(next_run=due)
    return {"due_at": due.isoformat(), "pairs": pairs, "shipped": shipped}


def driver_report(n: int, first_due: str, second_due: str) -> dict:
    """What happened, from the hub's tables, django-q2's task results and the sandbox's side."""
    from django_q.models import Task

    from connectors.sandbox.control import status_report
    from hub.models import OrderRecord, SyncRun
    from tests.sandbox_helpers import accounts

    t1, t2 = datetime.datetime.fromisoformat(first_due), datetime.datetime.fromisoformat(second_due)
    runs = defaultdict(list)
    for run in SyncRun.objects.filter(job__in=INTERVAL_JOBS).order_by("started_at", "pk"):
        runs[(run.connection_id, run.job)].append(run)
    overlaps = sum(
        1
        for pair_runs in runs.values()
        for a, b in zip(pair_runs, pair_runs[1:])
        if a.finished_at is None or a.finished_at > b.started_at
    )
    per_due = Counter(
        (sum(1 for r in pair_runs if t1 <= r.started_at < t2), sum(1 for r in pair_runs if r.started_at >= t2))
        for pair_runs in runs.values()
    )
    job_tasks = Task.objects.filter(func="hub.tasks.run_job_task")
    ran = [t for t in job_tasks if t.success and t.result is not None]
    refused = [t for t in job_tasks if t.success and t.result is None]
    scheduled_claims = sum(
        t.result or 0 for t in Task.objects.filter(func="hub.tasks.dispatch_tick", started__gte=t2, success=True)
    )
    wms_duplicates, om_shipment_duplicates, wms_orders, om_shipments = {}, 0, 0, 0
    for i in range(n):
        om, wms = accounts(SLUG.format(i))
        st = status_report.status(om, wms)
        wms_duplicates.update(st["warehouse_manager"]["duplicate_reference_nums"])
        wms_orders += st["warehouse_manager"]["orders_total"]
        om_shipment_duplicates += st["order_manager"]["shipments"]["duplicates"]
        om_shipments += st["order_manager"]["shipments"]["count"]
    return {
        "pairs_with_runs": len(runs),
        "runs": sum(len(r) for r in runs.values()),
        "runs_per_due_time": {f"{a}+{b}": count for (a, b), count in per_due.items()},
        "overlapping_runs": overlaps,
        "run_statuses": dict(Counter(r.status for pair_runs in runs.values() for r in pair_runs)),
        "task_deliveries": job_tasks.count(),
        "tasks_that_ran_a_job": len(ran),
        "deliveries_refused": len(refused),
        "failed_tasks": Task.objects.filter(
            func__in=["hub.tasks.run_job_task", "hub.tasks.dispatch_tick"], success=False
        ).count(),
        "scheduled_dispatch_claims": scheduled_claims,
        "order_records": dict(Counter(OrderRecord.objects.values_list("status", flat=True))),
        "wms_orders": wms_orders,
        "wms_duplicate_reference_nums": wms_duplicates,
        "om_shipments": om_shipments,
        "om_shipment_duplicates": om_shipment_duplicates,
    }


# ------------------------------------------------------------------ the test's own plumbing


def _requirements() -> tuple[str, str]:
    database_url = os.environ.get("DATABASE_URL", "")
    # Not REDIS_URL: that would switch the test process itself to the Redis broker, and the rest of
    # the suite counts on the embedded ORM broker. Only the clusters started here use Redis.
    redis_url = os.environ.get("HUB_TEST_REDIS_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://", "pgsql://")):
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... (.ci/run does)")
    if not redis_url:
        pytest.skip("needs Redis: set HUB_TEST_REDIS_URL=redis://127.0.0.1:6379/15 (.ci/run does)")
    import redis

    try:
        redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis answers on HUB_TEST_REDIS_URL ({exc})")
    return database_url, redis_url


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin_sql(database_url: str, sql: str) -> None:
    """CREATE/DROP DATABASE through the server DATABASE_URL names (they cannot run in a transaction)."""
    import psycopg

    parts = urlsplit(database_url)
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname=parts.path.lstrip("/") or "postgres",
        autocommit=True,
        connect_timeout=5,
    ) as conn:
        conn.execute(sql)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _drive(env: dict, action: str, **kwargs) -> dict:
    code = (
        "import json, sys, django; django.setup(); "
        f"from tests.test_two_clusters import {action} as f; "
        "print('RESULT ' + json.dumps(f(**json.loads(sys.argv[1])), default=str))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(kwargs)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
    )
    results = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not results:
        raise AssertionError(f"{action} failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return json.loads(results[-1][len("RESULT ") :])


def _manage(env: dict, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"


def _processed(log: Path) -> int:
    return log.read_text(errors="replace").count("Processed 'hub.tasks.run_job_task'")


# ------------------------------------------------------------------ the test


def test_two_clusters_run_every_job_once_per_due_time_and_send_no_order_twice(capsys):
    database_url, redis_url = _requirements()
    from cryptography.fernet import Fernet

    name = f"hub_two_clusters_{os.getpid()}"
    queue = f"hub-two-clusters-{os.getpid()}"
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    workdir = Path(tempfile.mkdtemp(prefix="two-clusters-"))
    (workdir / "two_clusters_settings.py").write_text(SETTINGS_MODULE.format(name=queue))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "two_clusters_settings",
        "PYTHONPATH": os.pathsep.join([str(workdir), str(ROOT)]),
        "DATABASE_URL": _with_database(database_url, name),
        "REDIS_URL": redis_url,
        "DJANGO_DEBUG": "true",
        "HUB_SANDBOX_ENABLED": "true",
        "HUB_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "HUB_WORKERS": str(WORKERS_PER_CLUSTER),
        "HUB_BASE_URL": base_url,
        "HUB_LOG_FORMAT": "plain",
        "PYTHONUNBUFFERED": "1",
    }
    processes: list[subprocess.Popen] = []
    logs = {key: workdir / f"{key}.log" for key in ("web", "cluster-a", "cluster-b")}
    _admin_sql(database_url, f'DROP DATABASE IF EXISTS "{name}"')
    _admin_sql(database_url, f'CREATE DATABASE "{name}"')
    began = time.monotonic()
    try:
        _manage(env, "migrate", "--no-input")
        built = _drive(env, "driver_build", n=N_CONNECTIONS, orders=ORDERS_EACH, skus=SKUS_EACH, base_url=base_url)
        pairs = N_CONNECTIONS * len(INTERVAL_JOBS)
        assert built["pairs"] == pairs

        web = start(
            env,
            logs["web"],
            sys.executable,
            "-m",
            "gunicorn",
            "hub.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "3",
            "--threads",
            "4",
            "--timeout",
            "60",
        )
        processes.append(web)
        for key in ("cluster-a", "cluster-b"):
            processes.append(start(env, logs[key], sys.executable, "manage.py", "qcluster"))
        wait_for_http(f"{base_url}/admin/login/", web, logs["web"])

        # Round 1: four dispatchers at once, and every task delivered twice.
        first = _drive(env, "driver_dispatch", threads=DISPATCH_THREADS)
        assert first["errors"] == []
        assert first["claims"] == first["distinct_pairs"] == pairs, first
        waited = _drive(env, "driver_wait", since=built["due_at"], expected=pairs, timeout=RUN_TIMEOUT)
        assert waited == {**waited, "finished": pairs, "leased": 0}, waited

        # Round 2: everything ships, one order more per tenant, all due again; the schedule dispatches.
        second = _drive(env, "driver_round_two", n=N_CONNECTIONS)
        assert second["shipped"] == N_CONNECTIONS * ORDERS_EACH
        waited_again = _drive(env, "driver_wait", since=second["due_at"], expected=pairs, timeout=RUN_TIMEOUT)
        assert waited_again == {**waited_again, "finished": pairs, "leased": 0}, waited_again

        report = _drive(env, "driver_report", n=N_CONNECTIONS, first_due=built["due_at"], second_due=second["due_at"])
        alive = {key: p.poll() is None for key, p in zip(("web", "cluster-a", "cluster-b"), processes)}
    finally:
        for process in processes:
            stop(process)
        _admin_sql(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        import redis

        client = redis.from_url(redis_url)
        client.delete(f"django_q:{queue}:q", f"django_q:{queue}:cluster")
    per_cluster = {key: _processed(logs[key]) for key in ("cluster-a", "cluster-b")}
    figures = {
        "connections": N_CONNECTIONS,
        "due pairs per round": pairs,
        "round 1 claims per dispatcher": first["claims_per_dispatcher"],
        "round 2 claims by the schedule": report["scheduled_dispatch_claims"],
        "task deliveries": report["task_deliveries"],
        "tasks that ran a job": report["tasks_that_ran_a_job"],
        "duplicate deliveries refused": report["deliveries_refused"],
        "job tasks processed per cluster": per_cluster,
        "runs": report["runs"],
        "runs per (connection, job) in round 1+2": report["runs_per_due_time"],
        "overlapping runs": report["overlapping_runs"],
        "orders at the WMS": report["wms_orders"],
        "duplicates found": len(report["wms_duplicate_reference_nums"]),
        "tracking numbers recorded in Order Manager": report["om_shipments"],
        "duplicate tracking numbers": report["om_shipment_duplicates"],
        "order records": report["order_records"],
        "seconds": round(time.monotonic() - began, 1),
    }
    with capsys.disabled():
        print("\ntwo clusters:", json.dumps(figures, indent=1))

    assert alive == {"web": True, "cluster-a": True, "cluster-b": True}, "a process died during the test"
    # Every (connection, job) ran exactly once per due time, never two at once.
    assert report["pairs_with_runs"] == pairs
    assert report["runs_per_due_time"] == {"1+1": pairs}
    assert report["overlapping_runs"] == 0
    assert report["run_statuses"] == {"succeeded": 2 * pairs}, report["run_statuses"]
    # As many runs as claims; every claim's second delivery refused.
    assert report["scheduled_dispatch_claims"] == pairs
    assert report["runs"] == first["claims"] + report["scheduled_dispatch_claims"] == report["tasks_that_ran_a_job"]
    assert report["deliveries_refused"] == first["redelivered"]
    assert report["failed_tasks"] == 0
    assert sum(per_cluster.values()) == report["task_deliveries"]
    assert all(per_cluster.values()), f"both clusters should have taken tasks: {per_cluster}"
    # No order sent twice, no tracking number confirmed twice, nothing lost.
    assert report["wms_duplicate_reference_nums"] == {}
    assert report["wms_orders"] == N_CONNECTIONS * (ORDERS_EACH + 1)
    assert report["om_shipment_duplicates"] == 0
    assert report["om_shipments"] == N_CONNECTIONS * ORDERS_EACH
    assert report["order_records"] == {"confirmed": N_CONNECTIONS * ORDERS_EACH, "at_wms": N_CONNECTIONS}
