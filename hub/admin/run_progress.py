"""Where a Run now stands: `progress(state, after) -> dict`, what the progress page shows and its JSON
status endpoint returns (`hub.admin.run_now_views`).

The run followed is the first SyncRun of the (connection, job) with an id greater than `after`
(`hub.admin.actions.Requested`): created under the lease Run now claimed, so no other run of the
pair can come before it. Its states, in order:

- ``queued``: no such run yet and the lease is held (the task waits for a worker, or a worker is
  taking it over); `hint` says what to check if that lasts;
- ``running``: the run's row says running and its lease is alive; the counts are those the job has
  saved so far (each job saves them as it goes);
- ``finished``: the run ended (succeeded, partial, failed, abandoned), with its outcome;
- ``stopped``: the row still says running but nobody holds the lease any more (the worker died;
  the next run closes it as abandoned);
- ``not_run``: no run and the lease is free: the queued task was dropped (the job could no longer
  run when a worker took it, with today's reason) or the queue lost it.

The last three are final (`done`), and the client stops asking. Every field is plain text or a
URL; times are in the tenant's zone, with the zone named.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from hub import durations
from hub.admin.base import redacted_line
from hub.admin.page import local
from hub.engine import eligibility
from hub.models import JobState, SyncRun

COUNT_FIELDS = ("fetched", "created", "updated", "skipped", "failed")
ERROR_CHARS = 300
QUEUED_HINT = (
    "A worker normally starts it within seconds. If it stays queued, check that the worker cluster "
    "(manage.py qcluster) is running: /healthz reports it."
)
LEVELS = {
    SyncRun.Status.SUCCEEDED: "ok",
    SyncRun.Status.PARTIAL: "warn",
    SyncRun.Status.FAILED: "bad",
    SyncRun.Status.ABANDONED: "bad",
}


def followed_run(state: JobState, after: int) -> SyncRun | None:
    """The run Run now started: the pair's first run with an id above `after` (ids only grow)."""
    return (
        SyncRun.objects.filter(connection_id=state.connection_id, job=state.job, pk__gt=after)
        .defer("calls")
        .order_by("pk")
        .first()
    )


def counts_text(run: SyncRun) -> str:
    return ", ".join(f"{name} {getattr(run, name)}" for name in COUNT_FIELDS)


def _lease_alive(state: JobState, now) -> bool:
    return bool(state.lease_expires_at and state.lease_expires_at >= now)


def _run_fields(run: SyncRun, zone) -> dict:
    return {
        "id": run.pk,
        "url": reverse("admin:hub_syncrun_change", args=[run.pk]),
        "status": run.status,
        "status_label": run.get_status_display(),
        "trigger": run.get_trigger_display(),
        "started": local(run.started_at, zone),
        "finished": local(run.finished_at, zone),
        "counts": {name: getattr(run, name) for name in COUNT_FIELDS},
        "counts_text": counts_text(run),
        "error": redacted_line(run.error, ERROR_CHARS),
    }


def progress(state: JobState, after: int) -> dict:
    """Where the run of `state` requested after run id `after` stands (see the module docstring).

    `state` is re-read here (its lease changes while the run goes on); its connection, warehouse and
    tenant are expected selected with it.
    """
    now = timezone.now()
    state.refresh_from_db(fields=["lease_token", "lease_expires_at", "attention"])
    connection = state.connection
    zone = connection.warehouse.tenant.zone
    label = state.get_job_display()
    run = followed_run(state, after)
    answer = {"job": state.job, "job_label": label, "done": False, "level": "", "hint": "", "run": None}

    if run is None:
        if _lease_alive(state, now):
            return {**answer, "state": "queued", "text": f"{label}: queued, waiting for a worker.", "hint": QUEUED_HINT}
        reason = eligibility.blocked_reason(connection, state.job) or state.attention
        why = f" It may not run now: {redacted_line(reason, ERROR_CHARS)}" if reason else " The queue lost it."
        return {
            **answer,
            "state": "not_run",
            "done": True,
            "level": "bad",
            "text": f"{label} did not start: a worker dropped the queued run.{why}",
        }

    fields = _run_fields(run, zone)
    if run.status == SyncRun.Status.RUNNING:
        if _lease_alive(state, now):
            elapsed = durations.precise(now - run.started_at)
            return {
                **answer,
                "state": "running",
                "run": fields,
                "text": f"{label} run #{run.pk}: running for {elapsed}; so far {fields['counts_text']}.",
            }
        return {
            **answer,
            "state": "stopped",
            "done": True,
            "level": "bad",
            "run": fields,
            "text": f"{label} run #{run.pk} stopped: its worker went away before it finished "
            "(the next run closes it as abandoned).",
        }
    took = durations.precise(run.duration) if run.duration is not None else "?"
    return {
        **answer,
        "state": "finished",
        "done": True,
        "level": LEVELS.get(run.status, ""),
        "run": fields,
        "text": f"{label} run #{run.pk} finished: {run.get_status_display()} in {took}; {fields['counts_text']}.",
    }
