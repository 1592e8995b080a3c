"""Make a connection's job run soon because an event says there is work, through the same lease.

`request_run(connection, job) -> (outcome, detail)`:
1. the job must be allowed to run on schedule (`eligibility.blocked_reason`, the circuit closed,
   no operator attention), else nothing is queued (NOT_RUNNABLE, with the reason);
2. `JobState.wake_requested_at` is set to now: "an event asked for a run after this moment";
3. the (connection, job) lease is claimed as the dispatcher and Run now claim it
   (`leases.claim`, queued length) and `run_job_task` is queued with the token (RUN_QUEUED). When
   the lease is held, a run is queued or running already and nothing more is queued (RUN_PENDING).

Why this loses nothing and doubles nothing:
- a run clears the wake requests made before it started (`clear_before`, called by
  `run_job_task` once it holds its run lease), because that run reads the WMS after them;
- a wake request made while a run is going survives it: when the run ends (`run_finished`) the
  receiver `follow_up` claims and queues ONE more run, and the dispatcher also treats a pending
  wake as due (a lost follow-up task is only delayed to the next tick);
- so a burst of events before a run starts gives one run, a burst during a run one follow-up.
Duplicates and out-of-order events only set the same flag again.
"""

from __future__ import annotations

import logging

from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from hub.engine import circuit, eligibility, leases
from hub.models import JobState, SyncRun

logger = logging.getLogger(__name__)

RUN_JOB_TASK = "hub.tasks.run_job_task"
RUN_QUEUED, RUN_PENDING, NOT_RUNNABLE = "run_queued", "run_pending", "not_runnable"


def not_runnable_reason(connection, job: str, state: JobState) -> str:
    reason = eligibility.blocked_reason(connection, job)
    if not reason and circuit.is_open(connection):
        reason = "The connection is paused after repeated failures (circuit open)."
    if not reason and state.attention:
        reason = "The job needs the operator's attention."
    return reason


def enqueue_if_free(connection, job: str) -> bool:
    """Claim the lease (queued length) and queue one run; False when the lease is held."""
    token = leases.new_token()
    if not leases.claim(connection, job, token, ttl=leases.QUEUED_LEASE):
        return False
    try:
        async_task(RUN_JOB_TASK, connection.pk, job, token, SyncRun.Trigger.WEBHOOK.value, group=f"hub.{job}")
    except Exception:
        leases.release(connection, job, token)
        raise
    return True


def request_run(connection, job: str) -> tuple[str, str]:
    state = leases.state_for(connection, job)
    reason = not_runnable_reason(connection, job, state)
    if reason:
        return NOT_RUNNABLE, reason
    now = timezone.now()
    JobState.objects.filter(Q(wake_requested_at__isnull=True) | Q(wake_requested_at__lt=now), pk=state.pk).update(
        wake_requested_at=now
    )
    if enqueue_if_free(connection, job):
        return RUN_QUEUED, ""
    return RUN_PENDING, "a run is queued or running; a follow-up runs after it if this event came during it"


def clear_before(connection_id: int, job: str, started_at) -> None:
    """A run that started at `started_at` covers every wake request made before it."""
    JobState.objects.filter(connection_id=connection_id, job=job, wake_requested_at__lte=started_at).update(
        wake_requested_at=None
    )


def follow_up(sender, connection, run, **kwargs) -> None:
    """`run_finished` receiver: an event arrived during the run that just ended: queue one more run."""
    state = JobState.objects.filter(connection=connection, job=run.job, wake_requested_at__isnull=False).first()
    if state is None or not_runnable_reason(connection, run.job, state):
        return
    if enqueue_if_free(connection, run.job):
        logger.info("%s for connection %s: follow-up run queued for a webhook event", run.job, connection.pk)
