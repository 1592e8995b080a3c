"""The once-a-minute dispatcher: claim every due (connection, job) and enqueue one task per claim.

A tick costs a constant number of queries whatever the number of connections or due pairs:
1. ONE conditional UPDATE takes the lease of every JobState that is due (`next_due_at` no later
   than `now + hub.engine.schedule.DISPATCH_LOOKAHEAD`, so a due time just after a tick is not
   left a whole minute) or has a pending webhook wake request (`JobState.wake_requested_at`),
   free (`hub.engine.leases.free_q`), not waiting for the operator (`attention == ""`), and allowed
   to run on schedule (`hub.engine.eligibility.schedulable_q`: the one rule of "may this job run",
   with the circuit breaker's). The relations are filtered by
   subqueries inside the UPDATE's WHERE, so the check and the claim are one atomic statement:
   two dispatchers (two clusters, or a schedule fired twice) can never claim the same row.
2. ONE SELECT reads back the rows this tick claimed.
3. One django-q2 task per claim, with ids and the lease token only (task arguments are pickled
   and shown in the admin: never secrets). With the ORM broker each enqueue is one INSERT into
   the broker's queue table; that cost belongs to the broker, not to the claim.

Tokens: each claimed row gets its own token, `<tick prefix>-<JobState id>`, computed by the
database inside the same UPDATE (the prefix is fresh and random per tick). A token therefore
names exactly one claim anywhere in the table, which keeps `leases.holds/renew/release` and any
log or audit line that quotes a token unambiguous, at no extra query.

Expired leases are simply claimable again; the runner closes the dead holder's run as abandoned.
A task that is lost in the broker leaves its lease to expire and the pair due, so it is only delayed.
"""

from __future__ import annotations

import datetime
import logging

from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django_q.tasks import async_task

from hub.engine import leases
from hub.engine.eligibility import schedulable_q
from hub.engine.schedule import DISPATCH_LOOKAHEAD
from hub.models import JobState

logger = logging.getLogger(__name__)

TASK_FUNC = "hub.tasks.run_job_task"


def claim_due(now: datetime.datetime, *, ttl: datetime.timedelta = leases.QUEUED_LEASE) -> list[tuple[int, str, str]]:
    """Claim every due pair (one UPDATE, one SELECT); returns [(connection id, job, lease token)]."""
    prefix = leases.new_token()
    # Due by the schedule, or woken by a WMS webhook event whose run was not queued (hub.webhooks.wake).
    due = Q(next_due_at__lte=now + DISPATCH_LOOKAHEAD) | Q(wake_requested_at__isnull=False)
    claimed = JobState.objects.filter(leases.free_q(now), schedulable_q(now), due, attention="").update(
        lease_token=Concat(Value(prefix + "-"), Cast(F("pk"), output_field=CharField()), output_field=CharField()),
        lease_expires_at=now + ttl,
    )
    if not claimed:
        return []
    return list(
        JobState.objects.filter(lease_token__startswith=prefix + "-")
        .order_by("next_due_at", "pk")
        .values_list("connection_id", "job", "lease_token")
    )


def enqueue(connection_id: int, job: str, token: str) -> None:
    async_task(
        TASK_FUNC,
        connection_id,
        job,
        token,
        task_name=f"{job} · connection {connection_id}",
        group=f"hub.{job}",
    )


def dispatch(now: datetime.datetime | None = None) -> list[tuple[int, str, str]]:
    """Claim and enqueue everything due at `now` (default: the current time); returns the claims enqueued.

    A claim whose enqueue fails (broker down) has its lease released at once so the next tick
    retries it, instead of waiting for the lease to expire.
    """
    now = now or timezone.now()
    enqueued = []
    for connection_id, job, token in claim_due(now):
        try:
            enqueue(connection_id, job, token)
        except Exception:
            logger.exception("could not enqueue %s for connection %s; lease released", job, connection_id)
            leases.release(connection_id, job, token)
            continue
        enqueued.append((connection_id, job, token))
    if enqueued:
        logger.info("dispatched %d job(s)", len(enqueued))
    return enqueued
