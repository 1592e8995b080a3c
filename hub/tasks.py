"""django-q2 entry points, and the Schedules that drive them.

- `dispatch_tick()`: what the "hub.dispatch" Schedule runs every minute (`hub.engine.dispatcher.dispatch`).
- `run_job_task(connection_id, job, lease_token)`: one claimed run, enqueued by the dispatcher.
  django-q2 may deliver a task twice (a `retry` that elapsed, a broker redelivery). The task
  first trades the dispatcher's token for a fresh one in ONE conditional UPDATE that matches
  only while the dispatcher's token still holds an unexpired lease. Exactly one delivery can win
  that trade; any other (the lease was released, re-claimed, expired, or the first delivery is
  still running under the traded token) returns without running. A plain `leases.holds` check
  would leave a window between the check and the run in which two deliveries both pass.
- `install_dispatch_schedule()`: creates or updates the "hub.dispatch" Schedule by name (the data
  migration 0002 holds a frozen copy of the same values).
- `alerts_tick()` ("hub.alerts", every 5 minutes) re-evaluates every connection's alerts (a job
  gone stale, a cool-off that ended) and sends the digests that are due; `prune_tick()`
  ("hub.prune", daily) applies the retention rules. `install_schedules()` installs all three
  (`manage.py setup_schedules` calls it).
"""

from __future__ import annotations

import logging

from django.utils import timezone

from hub.engine import leases
from hub.models import JobState, SyncRun

logger = logging.getLogger(__name__)

DISPATCH_SCHEDULE_NAME = "hub.dispatch"
DISPATCH_SCHEDULE = {
    "func": "hub.tasks.dispatch_tick",
    "schedule_type": "I",  # django_q.models.Schedule.MINUTES
    "minutes": 1,
    "repeats": -1,
    "args": None,
    "kwargs": None,
    "hook": None,
    "cluster": None,  # any cluster: two dispatchers in one minute are harmless (leases)
}


# The other periodic work, installed the same idempotent way (frozen copies in migration 0004).
OPS_SCHEDULES = {
    "hub.alerts": {**DISPATCH_SCHEDULE, "func": "hub.tasks.alerts_tick", "minutes": 5},
    "hub.prune": {**DISPATCH_SCHEDULE, "func": "hub.tasks.prune_tick", "schedule_type": "D", "minutes": None},
}


def dispatch_tick() -> int:
    """Claim and enqueue every due (connection, job); returns how many were enqueued.

    A completed tick is recorded as the "dispatch" heartbeat that /healthz reads (hub.ops.health)."""
    from hub.engine.dispatcher import dispatch
    from hub.ops.health import record_heartbeat

    enqueued = len(dispatch())
    record_heartbeat("dispatch")
    return enqueued


def alerts_tick() -> dict:
    """Re-evaluate every connection's alerts, then send what is due (immediate and digests)."""
    from hub.ops.alerts import lifecycle, sending

    changes = lifecycle.evaluate_all()
    sent = sending.send_due()
    return {"opened": len(changes.opened), "cleared": len(changes.cleared), "emails": sent}


def prune_tick() -> dict:
    """Apply the retention rules (hub.ops.retention) with HUB_RETENTION_DAYS."""
    from hub.ops import retention

    return retention.prune()


def take_over(connection_id: int, job: str, token: str) -> str | None:
    """Trade the dispatcher's `token` for a fresh run token with a full lease; None when `token` no longer holds it."""
    now = timezone.now()
    run_token = leases.new_token()
    traded = JobState.objects.filter(
        connection_id=connection_id, job=job, lease_token=token, lease_expires_at__gte=now
    ).update(lease_token=run_token, lease_expires_at=now + leases.RUN_LEASE)
    return run_token if traded == 1 else None


def run_job_task(connection_id: int, job: str, lease_token: str, trigger: str = SyncRun.Trigger.SCHEDULE) -> int | None:
    """Run one claimed (connection, job) under its lease; returns the SyncRun id, or None when not run.

    `trigger` says who asked: the dispatcher (schedule), an operator's Run now (manual) or a WMS
    webhook event (hub.webhooks.wake)."""
    from hub.engine import eligibility
    from tenants.models import OrderManagerConnection

    started_at = timezone.now()
    run_token = take_over(connection_id, job, lease_token)
    if run_token is None:
        logger.info("%s for connection %s: lease no longer held by this task; not run", job, connection_id)
        return None
    from hub.webhooks import wake

    # This run reads the WMS after now: it covers every webhook event that asked for a run before.
    wake.clear_before(connection_id, job, started_at)
    connection = OrderManagerConnection.objects.select_related("warehouse__tenant").filter(pk=connection_id).first()
    if connection is None or not eligibility.is_schedulable(connection, job):
        # Disabled, tenant deactivated or connection deleted while the task waited in the queue.
        leases.release(connection_id, job, run_token)
        logger.info("%s for connection %s: no longer scheduled; not run", job, connection_id)
        return None
    from hub.engine import runner

    try:
        run = runner.run_job(connection, job, trigger=trigger, lease_token=run_token)
    except runner.JobAlreadyRunning:
        # The lease expired and was taken between the trade and the start: the other holder runs it.
        logger.info("%s for connection %s: lease lost before the run started; not run", job, connection_id)
        return None
    return run.pk


def install_dispatch_schedule(schedule_model=None):
    """Create or update the one "hub.dispatch" Schedule (idempotent; removes duplicates by name)."""
    return _install(DISPATCH_SCHEDULE_NAME, DISPATCH_SCHEDULE, schedule_model)


def install_schedules(schedule_model=None) -> list:
    """Create or update every Schedule of the hub: "hub.dispatch", "hub.alerts", "hub.prune"."""
    return [install_dispatch_schedule(schedule_model)] + [
        _install(name, values, schedule_model) for name, values in OPS_SCHEDULES.items()
    ]


def _install(name: str, values: dict, schedule_model=None):
    if schedule_model is None:
        from django_q.models import Schedule as schedule_model
    existing = list(schedule_model.objects.filter(name=name).order_by("pk"))
    if existing:
        kept = existing[0]
        schedule_model.objects.filter(pk__in=[s.pk for s in existing[1:]]).delete()
        for field, value in values.items():
            setattr(kept, field, value)
        kept.save()
        return kept
    return schedule_model.objects.create(name=name, **values)
