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
- After the run (lease released) the connection's alerts are re-evaluated (`hub.ops.alerts.after_run`,
  which never raises); log lines during the run carry tenant, connection, job and run (`hub.engine.logs`).
- After three claimed runs in a row that never finished (a worker killed mid-run, a crash loop),
  scheduled runs stop and the job is flagged for the operator's attention.
- A run has a time budget (`HUB_RUN_TIME_BUDGET_SECONDS`): a job's loops ask `ctx.out_of_time()`
  before each unit of outside work and leave the rest to the next run, so a large backlog is
  worked off over several runs instead of one run killed by the task timeout.
"""

from __future__ import annotations

import datetime
import importlib
import logging
import time
from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from connectors.errors import AuthenticationError, ConnectorError
from connectors.redaction import excerpt, redact
from hub.engine import circuit, leases, logs, schedule
from hub.models import Job, JobState, OrderEvent, OrderRecord, SyncRun
from hub.ops import alerts
from tenants import clients

logger = logging.getLogger(__name__)

JOB_MODULES = {
    Job.ORDER_DOWNLOAD: "hub.jobs.order_download",
    Job.CANCEL_DOWNLOAD: "hub.jobs.order_cancel_download",
    Job.SHIPMENT_CONFIRMATION: "hub.jobs.shipment_confirmation",
    Job.INVENTORY_SYNC: "hub.jobs.inventory_sync",
}

ENABLED_FLAG = {
    Job.ORDER_DOWNLOAD: "order_download_enabled",
    Job.CANCEL_DOWNLOAD: "cancel_download_enabled",
    Job.SHIPMENT_CONFIRMATION: "shipment_confirmation_enabled",
    Job.INVENTORY_SYNC: "inventory_sync_enabled",
}

# Polls re-read this much before the watermark: clocks differ and records can commit late.
WATERMARK_OVERLAP = datetime.timedelta(seconds=settings.HUB_WATERMARK_OVERLAP_SECONDS)
MAX_UNFINISHED_CLAIMS = 3
LEASE_LOST = (
    "This run lost its lease (its renewals failed and another run took the job over): it stopped "
    "starting new work and left the watermark to that run."
)


class JobAlreadyRunning(Exception):
    """Another worker holds the lease of this (connection, job)."""


class JobRefused(Exception):
    """Raised by a job's body when the connection's settings do not allow it to run; the message says why."""


@dataclass
class RunContext:
    """What a job's body gets: the connection, its run row, clients and helpers to write the audit."""

    connection: object
    run: SyncRun
    state: JobState
    lease_token: str
    now: datetime.datetime
    window_from: datetime.datetime | None
    window_to: datetime.datetime
    recorder: clients.CallRecorder = field(default_factory=clients.CallRecorder)
    new_watermark: datetime.datetime | None = None
    errors: list[str] = field(default_factory=list)
    # time.monotonic(), not the wall clock: unaffected by clock changes (or tests moving time).
    deadline: float = field(default_factory=lambda: time.monotonic() + settings.HUB_RUN_TIME_BUDGET)
    # The lease renewer (hub.engine.leases.Heartbeat); its `lost` flag ends the run like the time budget.
    heartbeat: object = None

    @cached_property
    def order_manager(self):
        client = clients.order_manager(self.connection, self.recorder)
        # Paced from the published throttle limits: under a quota, waiting beats a 429.
        clients.apply_throttle_limits(client)
        return client

    @cached_property
    def warehouse_manager(self):
        return clients.warehouse_manager(self.connection, self.recorder)

    @property
    def log(self) -> logging.LoggerAdapter:
        return logging.LoggerAdapter(
            logger,
            {
                "tenant": self.connection.warehouse.tenant.slug,
                "connection": self.connection.pk,
                "job": self.run.job,
                "run": self.run.pk,
            },
        )

    def event(self, order: OrderRecord, kind: str, message: str = "", *, sent=None, received=None) -> OrderEvent:
        """Append one step to an order's timeline (payloads redacted and capped)."""
        return OrderEvent.objects.create(
            order=order,
            run=self.run,
            kind=kind,
            message=message[:4000],
            sent=redact(sent) if sent is not None else None,
            received=redact(received) if received is not None else None,
        )

    def close(self) -> None:
        """Close the clients this run opened (their pooled connections), if any."""
        for name in ("order_manager", "warehouse_manager"):
            close = getattr(self.__dict__.get(name), "close", None)
            if close is not None:
                close()

    def out_of_time(self) -> bool:
        """Whether the run must start no new outside work: its time budget is used up, or it lost its
        lease (another run took the pair over), and leaves the rest to the next run."""
        if self.lease_lost():
            return True
        return time.monotonic() >= self.deadline

    def lease_lost(self) -> bool:
        return self.heartbeat is not None and self.heartbeat.lost.is_set()

    def note_budget_stop(self, left: int, what: str) -> None:
        """Record on the run that it stopped at its time budget with `left` `what` still to do."""
        if self.lease_lost():
            self.note_error(
                f"Stopped with {left} {what} still to do: this run lost its lease (its renewals failed "
                "and another run took over); that run continues."
            )
            return
        self.note_error(
            f"Stopped after {settings.HUB_RUN_TIME_BUDGET} s (the run's time budget) with {left} {what} "
            "still to do; the next run continues."
        )

    def note_error(self, text: str) -> None:
        """Keep a run-level problem for the run's error summary (first 20 kept)."""
        if len(self.errors) < 20:
            self.errors.append(excerpt(text, 500))


def job_module(job: str):
    return importlib.import_module(JOB_MODULES[Job(job)])


def blocked_reason(connection, job: str) -> str:
    """Why this job cannot run for this connection, or "" when it can."""
    if not connection.warehouse.tenant.active:
        return f"Tenant “{connection.warehouse.tenant}” is inactive."
    if not getattr(connection, ENABLED_FLAG[Job(job)]):
        return f"{Job(job).label} is turned off for this connection."
    return job_module(job).blocked_reason(connection)


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
        alerts.after_run(connection)  # after the lease is released; never raises
    return run


def _run_claimed(connection, job: Job, trigger: str, lease_token: str, heartbeat=None) -> SyncRun:
    now = timezone.now()
    state = leases.state_for(connection, job)
    JobState.objects.filter(pk=state.pk).update(claims_without_finish=F("claims_without_finish") + 1)
    state.refresh_from_db()
    _close_abandoned(connection, job, now)

    run = SyncRun.objects.create(connection=connection, job=job, trigger=trigger, started_at=now)
    logs.bind(run=run.pk)
    reason = blocked_reason(connection, job)
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
        state=state,
        lease_token=lease_token,
        now=now,
        window_from=window_from,
        window_to=now,
        heartbeat=heartbeat,
    )
    run.window_from, run.window_to = window_from, now
    run.save(update_fields=["window_from", "window_to"])

    fatal, fatal_exc = "", None
    try:
        job_module(job).sync(ctx)
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
