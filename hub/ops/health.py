"""`/healthz` for load balancers and uptime checks: is this hub able to do its work?

Three checks, each a cheap query (no login, no tenant data in the answer):
- `database`: a `SELECT 1` on the default database.
- `cluster`: a django-q2 cluster is running its scheduler. The cluster's scheduler moves the
  "hub.dispatch" Schedule's `next_run` one minute ahead each time it fires it; with no cluster
  running, `next_run` falls behind. Fails when the schedule is missing or `next_run` lags more
  than `STALE_AFTER` behind now. (django-q2's own `Stat.get_all()` reads the cluster stats from
  the Django cache, which the web process and the workers do not share with the default
  per-process cache, and it reads nothing at all from the ORM broker: it is not used.)
- `dispatcher`: the dispatcher's last completed tick (the "dispatch" `Heartbeat` row, written by
  `hub.tasks.dispatch_tick` after each successful dispatch) is at most `STALE_AFTER` old. This
  proves the whole chain: the schedule fired, the broker delivered, a worker ran the tick and
  the tick's claiming UPDATE worked. A running scheduler whose workers are stuck or whose ticks
  fail shows here, not in `cluster`.

200 `{"status": "ok", "checks": {...}}` when every required check passes, else 503 with
`"status": "fail"` and `"failing": [names]` (with the database down, the other two are not run:
`"ok": null`). `cluster` and `dispatcher` are required only when
`settings.HUB_HEALTH_REQUIRE_CLUSTER` (default: on in production, off in DEBUG, where the web
server often runs without `qcluster`); when not required they are still reported.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from hub import durations
from hub.models import Heartbeat

logger = logging.getLogger(__name__)

STALE_AFTER = datetime.timedelta(minutes=3)
DISPATCH_HEARTBEAT = "dispatch"


def record_heartbeat(name: str, now: datetime.datetime | None = None) -> None:
    """Record that the periodic work `name` just completed (one UPDATE; an INSERT the first time)."""
    now = now or timezone.now()
    if not Heartbeat.objects.filter(name=name).update(at=now):
        Heartbeat.objects.bulk_create([Heartbeat(name=name, at=now)], ignore_conflicts=True)
        Heartbeat.objects.filter(name=name, at__lt=now).update(at=now)  # a concurrent first INSERT won


def check_database(now: datetime.datetime) -> tuple[bool, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return True, "reachable"


def check_cluster(now: datetime.datetime) -> tuple[bool, str]:
    from django_q.models import Schedule

    from hub.tasks import DISPATCH_SCHEDULE_NAME

    next_run = (
        Schedule.objects.filter(name=DISPATCH_SCHEDULE_NAME)
        .order_by("next_run")
        .values_list("next_run", flat=True)
        .first()
    )
    if next_run is None:
        return False, f"the {DISPATCH_SCHEDULE_NAME!r} schedule is missing: run manage.py setup_schedules"
    lag = now - next_run
    if lag > STALE_AFTER:
        return False, (
            f"no django-q2 cluster is running the scheduler: {DISPATCH_SCHEDULE_NAME!r} was due "
            f"{durations.compact_fine(lag)} ago (start manage.py qcluster)"
        )
    return True, "scheduler running"


def check_dispatcher(now: datetime.datetime) -> tuple[bool, str]:
    at = Heartbeat.objects.filter(name=DISPATCH_HEARTBEAT).values_list("at", flat=True).first()
    if at is None:
        return False, "the dispatcher has never completed a tick"
    age = now - at
    if age > STALE_AFTER:
        return False, f"the dispatcher's last completed tick was {durations.compact_fine(age)} ago"
    return True, f"last tick {durations.compact_fine(age)} ago"


# name -> check; looked up at call time so a test can replace one.
CHECKS = {"database": check_database, "cluster": check_cluster, "dispatcher": check_dispatcher}


def run_checks(now: datetime.datetime | None = None) -> dict:
    """{"status", "checks": {name: {"ok", "detail", "required"}}, "failing": [...]} (see the module docstring)."""
    now = now or timezone.now()
    require_cluster = settings.HUB_HEALTH_REQUIRE_CLUSTER
    checks, failing = {}, []
    database_ok = True
    for name, check in CHECKS.items():
        required = name == "database" or require_cluster
        if name != "database" and not database_ok:
            # Both read the database: the one failing part to name is the database.
            checks[name] = {"ok": None, "detail": "not checked: the database is unreachable", "required": required}
            continue
        try:
            ok, detail = check(now)
        except Exception as exc:  # a health check answers; it never raises
            # The exception text may name hosts or users: logged, not shown to anonymous callers.
            logger.warning("health check %s failed", name, exc_info=True)
            ok, detail = False, f"failed ({type(exc).__name__}); see the hub's logs"
        if name == "database":
            database_ok = ok
        checks[name] = {"ok": ok, "detail": detail, "required": required}
        if required and not ok:
            failing.append(name)
    return {"status": "fail" if failing else "ok", "checks": checks, "failing": failing}


@never_cache
@require_GET
def healthz(request):
    report = run_checks()
    return JsonResponse(report, status=503 if report["failing"] else 200)
