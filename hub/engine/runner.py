"""Run one job for one connection: lease, audit row, the job's body, and the bookkeeping after.

`run_job(connection, job, trigger=..., lease_token=None) -> SyncRun` is the single entry point
used by the django-q2 task, the admin's "Run now" and `manage.py sync`. Contract:

- The (connection, job) lease is held for the whole run: taken here when no `lease_token` is
  given (raises `JobAlreadyRunning` when someone else holds it), or already held by the caller
  (the dispatcher claimed it). It is released at the end either way.
- A `SyncRun` row is written before the first outside call and finished after the last. A
  `running` row left by a worker that died is closed as `abandoned` by the next run.
- Job failures never raise: a `ConnectorError` or a bug ends the run as `failed` with the reason
  on the row; per-item failures make it `partial`. Only `JobAlreadyRunning` escapes.
- The watermark advances only when the run succeeded or was partial (per-item failures are kept
  on their `OrderRecord` with their own retry time, so nothing is lost by moving on).
- After the run (lease released) `hub.engine.signals.run_finished` is sent (the alerts listen and
  re-evaluate the connection; a failing receiver is logged, never raised). Log lines during the
  run carry tenant, connection, job and run (`hub.engine.logs`).
- After three claimed runs in a row that never finished (a worker killed mid-run, a crash loop),
  scheduled runs stop and the job is flagged for the operator's attention.
- A run has a time budget (`HUB_RUN_TIME_BUDGET_SECONDS`): a job's loops ask `ctx.out_of_time()`
  before each unit of outside work and leave the rest to the next run, so a large backlog is
  worked off over several runs instead of one run killed by the task timeout.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from connectors.errors import AuthenticationError, ConnectorError
from connectors.redaction import excerpt
from hub.engine import circuit, eligibility, leases, logs, schedule
from hub.engine.context import JobRefused, RunContext
from hub.engine.job_bodies import body_of
from hub.engine.signals import run_finished
from hub.models import Job, JobState, SyncRun

logger = logging.getLogger(__name__)

# Polls re-read this much before the watermark: clocks differ and records can commit late.
WATERMARK_OVERLAP = datetime.timedelta(seconds=settings.HUB_WATERMARK_OVERLAP_SECONDS)
MAX_UNFINISHED_CLAIMS = 3
LEASE_LOST = (
    "This run lost its lease (its renewals failed and another run took the job over): it stopped "
    "starting new work and left the watermark to that run."
)
__all__ = ["JobAlreadyRunning", "JobRefused", "RunContext", "run_job"]


class JobAlreadyRunning(Exception):
    """Another worker holds the lease of this (connection, job)."""


def run_job(connection, job: str, *, trigger: str = SyncRun.Trigger.COMMAND, lease_token: str | None = None) -> SyncRun:
    job = Job(job)
    if lease_token is None:
        lease_token = leases.new_token()
        if not leases.claim(connection, job, lease_token):
            raise JobAlreadyRunning(f"{job.label} is already running for {connection}.")
    elif not leases.renew(connection, job, lease_token, ttl=leases.RUN_LEASE):
        raise JobAlreadyRunning(f"The lease for {job.label} on {connection} is no longer held by this task.")
    # Every log line of the run, the connectors' included, carries these fields (hub.engine.logs).
    with logs.bound(tenant=connection.warehouse.tenant.slug, connection=connection.pk, job=job.value):
        try:
            # A short lease renewed while the run lives: a killed run frees the pair within RUN_LEASE.
            with leases.Heartbeat(connection, job, lease_token) as heartbeat:
                run = _run_claimed(connection, job, trigger, lease_token, heartbeat)
        finally:
            leases.release(connection, job, lease_token)
        _announce(connection, job, run)  # after the lease is released; never raises
    return run


def _announce(connection, job: Job, run: SyncRun) -> None:
    """Send `run_finished` (alerts listen); a receiver's failure is logged, never the run's."""
    for receiver, result in run_finished.send_robust(sender=job, connection=connection, run=run):
        if isinstance(result, Exception):
            logger.error("run_finished receiver %r failed: %r", receiver, result, exc_info=result)


def _run_claimed(connection, job: Job, trigger: str, lease_token: str, heartbeat=None) -> SyncRun:
    now = timezone.now()
    state = leases.state_for(connection, job)
    JobState.objects.filter(pk=state.pk).update(claims_without_finish=F("claims_without_finish") + 1)
    state.refresh_from_db()
    _close_abandoned(connection, job, now)

    run = SyncRun.objects.create(connection=connection, job=job, trigger=trigger, started_at=now)
    logs.bind(run=run.pk)
    reason = eligibility.blocked_reason(connection, job)
    if not reason and trigger == SyncRun.Trigger.SCHEDULE and state.claims_without_finish > MAX_UNFINISHED_CLAIMS:
        reason = (
            f"The last {state.claims_without_finish - 1} runs never finished (the worker died mid-run). "
            "Scheduled runs are paused: check the worker's logs, then clear the attention flag."
        )
        JobState.objects.filter(pk=state.pk).update(attention=reason)
    if reason:
        run.status, run.error, run.finished_at = SyncRun.Status.FAILED, reason, timezone.now()
        run.save()
        _finish_state(state, run, connection, job, None, now)
        return run

    window_from = None
    if state.watermark:
        window_from = state.watermark - WATERMARK_OVERLAP
    elif connection.start_from:
        window_from = connection.start_from
    ctx = RunContext(
        connection=connection,
        run=run,
        now=now,
        window_from=window_from,
        window_to=now,
        heartbeat=heartbeat,
    )
    run.window_from, run.window_to = window_from, now
    run.save(update_fields=["window_from", "window_to"])

    fatal, fatal_exc = "", None
    try:
        body_of(job)(ctx)
    except JobRefused as exc:
        fatal = str(exc)
    except ConnectorError as exc:
        fatal, fatal_exc = _describe(exc), exc
        ctx.log.warning("run failed: %s", fatal)
    except Exception as exc:  # a bug must end the run visibly, never kill the worker
        fatal = f"Internal error ({type(exc).__name__}): {excerpt(str(exc), 300)}"
        ctx.log.exception("run crashed")
    finally:
        ctx.close()

    run.finished_at = timezone.now()
    run.requests_made, run.rate_limited = ctx.recorder.requests, ctx.recorder.rate_limited
    run.calls = ctx.recorder.calls
    if fatal:
        run.status = SyncRun.Status.FAILED
    elif run.failed:
        run.status = SyncRun.Status.PARTIAL
    else:
        run.status = SyncRun.Status.SUCCEEDED
    if ctx.lease_lost() and not any("lost its lease" in e for e in ctx.errors):
        ctx.note_error(LEASE_LOST)
    error = "\n".join(filter(None, [fatal, *ctx.errors]))
    run.error = error[:10000]
    run.save()
    ctx.log.info("run finished: %s", run.summary().splitlines()[0])
    # A run that lost its lease may have been overtaken: its watermark must not overwrite the newer run's.
    watermark = None if ctx.lease_lost() else ctx.new_watermark
    failures = _finish_state(state, run, connection, job, watermark, now)
    circuit.record_outcome(connection, fatal_exc, failures, succeeded=not fatal)
    return run


def _describe(exc: ConnectorError) -> str:
    text = str(exc)
    if isinstance(exc, AuthenticationError):
        text += " — fix the credentials on the connection, then use “Test connection”."
    elif exc.transient:
        text += " — temporary; the next run retries."
    if exc.body_excerpt:
        text += f" (answer: {exc.body_excerpt})"
    return text


def _close_abandoned(connection, job: Job, now: datetime.datetime) -> None:
    SyncRun.objects.filter(connection=connection, job=job, status=SyncRun.Status.RUNNING).update(
        status=SyncRun.Status.ABANDONED,
        finished_at=now,
        error="The worker stopped before this run finished; closed by the next run.",
    )


def _finish_state(state: JobState, run: SyncRun, connection, job: Job, new_watermark, now) -> int:
    """Record the run on its JobState; returns the job's consecutive failures including this run."""
    ok = run.status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL)
    changes = {"last_run": run, "claims_without_finish": 0}
    if ok:
        changes["last_success_at"] = run.finished_at
        changes["consecutive_failures"] = 0
        if new_watermark is not None:
            changes["watermark"] = new_watermark
    else:
        changes["consecutive_failures"] = F("consecutive_failures") + 1
    changes["next_due_at"] = schedule.next_after_run(connection, job, state.next_due_at, now)
    JobState.objects.filter(pk=state.pk).update(**changes)
    return 0 if ok else state.consecutive_failures + 1
