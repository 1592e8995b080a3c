"""What an operator may do to the audit trail from the admin, and nothing else.

The admin is read-only; these operations are the only way an operator changes hub state:

- order operations (`RESEND`, `RETRY_TRACKING`, `MARK_CANCEL_HANDLED`): each applies to orders in
  one status only, changes the order with one conditional UPDATE (so a job that moved the order
  meanwhile wins and the operation is refused, never half-applied) and appends an `OrderEvent` of
  kind OPERATOR naming the user. `perform(operation, orders, user)` applies one to many orders.
- `run_now(request, connection, job) -> Requested`: refuses a job that may not run (the engine's
  eligibility rule, with its reason) or needs attention, else claims the (connection, job) lease and
  queues the run on django-q2; tells the operator "queued" or "already running", and returns where
  the run can be followed (`hub.admin.run_progress`).
- `clear_attention(states)`: lets a job flagged for the operator run again.

Nothing here checks Django permissions (the admin does); `run_now` does check the tenant, since
other admin modules call it with a connection they looked up themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django_q.tasks import async_task

from hub.admin.base import redacted_line
from hub.engine import eligibility, leases
from hub.models import Job, JobState, OrderEvent, OrderRecord, SyncRun
from hub.operators import operator_name
from tenants.admin_times import format_moment
from tenants.scoping import tenant_ids_for

logger = logging.getLogger(__name__)

RUN_JOB_TASK = "hub.tasks.run_job_task"
ERROR_EXCERPT_CHARS = 200


def unconfirmed_tracking(order: OrderRecord) -> list[str]:
    """Tracking numbers recorded at the WMS that Order Manager has not confirmed yet."""
    confirmed = set(order.confirmed_tracking_numbers or [])
    return [number for number in (order.tracking_numbers or []) if number not in confirmed]


# -- order operations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderOperation:
    """One operator action on orders.

    `refusal(order)` says why the operation does not apply (None when it does). `changes(order)`
    are the field values written; `guard` the conditions (beyond the pk) the row must still meet
    at UPDATE time; `describe(order)` ends the OPERATOR event's message.
    """

    name: str
    label: str
    refusal: Callable[[OrderRecord], str | None]
    guard: dict
    changes: Callable[[OrderRecord], dict]
    describe: Callable[[OrderRecord], str]

    def applies_to(self, order: OrderRecord) -> bool:
        return self.refusal(order) is None


def _refuse_resend(order: OrderRecord) -> str | None:
    if order.status != OrderRecord.Status.ERROR:
        return f"status is “{order.get_status_display()}”, only orders in error are re-sent"
    return None


def _refuse_retry_tracking(order: OrderRecord) -> str | None:
    if order.status != OrderRecord.Status.SHIPPED:
        return f"status is “{order.get_status_display()}”, only shipped orders have tracking to retry"
    if not unconfirmed_tracking(order):
        return "no unconfirmed tracking number"
    return None


def _refuse_cancel_handled(order: OrderRecord) -> str | None:
    if order.status != OrderRecord.Status.CANCEL_FAILED:
        return f"status is “{order.get_status_display()}”, only “Cancel too late” orders need this"
    if order.cancel_handled:
        return "already marked handled"
    return None


def _resend_changes(order: OrderRecord) -> dict:
    # error_permanent / given_up stop automatic retries; the operator asking is what lifts them.
    # The 15-day give-up window restarts (first_attempt_at), or one more transient failure of a
    # given-up order would give up again at once. `attempts` stays: above 1 it makes Order
    # Download look the order up at the WMS before sending, which keeps the resend idempotent.
    return {"error_permanent": False, "given_up": False, "first_attempt_at": None, "next_retry_at": timezone.now()}


RESEND = OrderOperation(
    name="resend",
    label="Resend to WMS",
    refusal=_refuse_resend,
    guard={"status": OrderRecord.Status.ERROR},
    changes=_resend_changes,
    describe=lambda order: (
        f"error cleared (was: {redacted_line(order.last_error, ERROR_EXCERPT_CHARS) or 'no message'}), retry window restarted; "
        "the next Order Download sends it to the WMS."
    ),
)


def _retry_tracking_changes(order: OrderRecord) -> dict:
    # Like a resend: the operator asking lifts the give-up, and the retry count and give-up window
    # restart, or the next rejection of a given-up order would give up again at once.
    return {
        "next_retry_at": timezone.now(),
        "tracking_given_up": False,
        "tracking_attempts": 0,
        "tracking_failing_since": None,
    }


RETRY_TRACKING = OrderOperation(
    name="retry_tracking",
    label="Retry tracking",
    refusal=_refuse_retry_tracking,
    guard={"status": OrderRecord.Status.SHIPPED},
    changes=_retry_tracking_changes,
    describe=lambda order: (
        ("automatic retries resume (they had been given up); " if order.tracking_given_up else "")
        + f"the next Shipment Confirmation sends tracking {', '.join(unconfirmed_tracking(order))} to Order Manager."
    ),
)

MARK_CANCEL_HANDLED = OrderOperation(
    name="mark_cancel_handled",
    label="Mark cancel handled",
    refusal=_refuse_cancel_handled,
    guard={"status": OrderRecord.Status.CANCEL_FAILED, "cancel_handled": False},
    changes=lambda order: {"cancel_handled": True},
    describe=lambda order: "the late cancellation was dealt with outside the hub.",
)

ORDER_OPERATIONS: dict[str, OrderOperation] = {op.name: op for op in (RESEND, RETRY_TRACKING, MARK_CANCEL_HANDLED)}


@dataclass
class Outcome:
    """What `perform` did: the orders changed and, for the others, why not."""

    done: list[OrderRecord] = field(default_factory=list)
    refused: list[tuple[OrderRecord, str]] = field(default_factory=list)


def apply(operation: OrderOperation, order: OrderRecord, user) -> str | None:
    """Apply `operation` to one order; returns the refusal reason, or None when it was applied.

    The UPDATE re-checks the guard, so an order a job changed since `order` was read is refused.
    """
    reason = operation.refusal(order)
    if reason:
        return reason
    now = timezone.now()
    changes = operation.changes(order)
    with transaction.atomic():
        updated = OrderRecord.objects.filter(pk=order.pk, **operation.guard).update(**changes, updated_at=now)
        if updated != 1:
            return "changed by a job meanwhile; reload and try again"
        OrderEvent.objects.create(
            order=order,
            kind=OrderEvent.Kind.OPERATOR,
            at=now,
            message=f"{operation.label} by {operator_name(user)}: {operation.describe(order)}",
        )
    for name, value in changes.items():
        setattr(order, name, value)
    order.updated_at = now
    return None


def perform(operation: OrderOperation, orders: Iterable[OrderRecord], user) -> Outcome:
    """Apply `operation` to each order on its own (one refusal never blocks the others)."""
    outcome = Outcome()
    for order in orders:
        reason = apply(operation, order, user)
        if reason:
            outcome.refused.append((order, reason))
        else:
            outcome.done.append(order)
    return outcome


# -- jobs -----------------------------------------------------------------------------------------


class RunNow:
    """What `run_now` reports."""

    QUEUED = "queued"
    ALREADY_RUNNING = "already running"
    NEEDS_ATTENTION = "needs attention"
    NOT_ALLOWED = "not allowed"
    NOT_QUEUED = "not queued"


@dataclass(frozen=True)
class Requested:
    """The outcome of one Run now (one of `RunNow`'s values) and, when there is a run to follow (queued
    or already running), `after`: the run to follow is the (connection, job)'s first SyncRun with a
    greater id (`hub.admin.run_progress`); None when nothing runs."""

    outcome: str
    after: int | None = None


def _check_tenant(request, connection) -> None:
    ids = tenant_ids_for(request.user)
    if ids is not None and connection.warehouse.tenant_id not in ids:
        raise PermissionDenied("You can only run your own tenant's jobs.")


def last_run_id() -> int:
    """The greatest SyncRun id now (0 when none): read once the lease is ours, every later run of the
    pair, and only those, has a greater id (ids only grow, and a run is created under the lease)."""
    return SyncRun.objects.aggregate(last=Max("pk"))["last"] or 0


def _running_after(connection, job: str) -> int:
    """`after` for a run already under way: just before it, or (still queued) the runs from now on."""
    running = (
        SyncRun.objects.filter(connection=connection, job=job, status=SyncRun.Status.RUNNING)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return running - 1 if running else last_run_id()


def run_now(request, connection, job: str) -> Requested:
    """Queue one run of `job` for `connection` now, unless it may not run or is already running.

    A job the engine's rule refuses (`hub.engine.eligibility.blocked_reason`: tenant inactive,
    connection not activated, job turned off, ...) is refused here with that reason, not queued
    to be dropped by the worker. A job flagged for the operator (`JobState.attention`) is not
    queued: "Clear attention" first. Otherwise the lease is claimed first
    (`hub.engine.leases.claim`), so a run already in progress, scheduled or manual, is never
    doubled; the task receives the token and runs under that lease. If queueing fails the lease is
    released at once rather than left to expire. The outcome is shown to the user as a message and
    returned. Raises PermissionDenied when the user is not staff of the connection's tenant.
    """
    _check_tenant(request, connection)
    label = f"{Job(job).label} for {connection}"
    reason = eligibility.blocked_reason(connection, job)
    if reason:
        messages.error(request, f"{label}: not run. {reason}")
        return Requested(RunNow.NOT_ALLOWED)
    state = leases.state_for(connection, job)
    if state.attention:
        messages.warning(
            request,
            f"{label}: needs attention ({redacted_line(state.attention, ERROR_EXCERPT_CHARS)}). Clear attention first.",
        )
        return Requested(RunNow.NEEDS_ATTENTION)
    token = leases.new_token()
    # A queued claim: the task may wait in a busy broker before a worker trades it for a run lease.
    if not leases.claim(connection, job, token, ttl=leases.QUEUED_LEASE):
        state.refresh_from_db(fields=["lease_expires_at"])
        until = format_moment(state.lease_expires_at, connection.warehouse.tenant.zone) or "?"
        messages.warning(request, f"{label}: already running (lease held until {until}).")
        return Requested(RunNow.ALREADY_RUNNING, _running_after(connection, job))
    # Before the enqueue: a synchronous broker (tests, Q_CLUSTER sync) runs the task inside it.
    after = last_run_id()
    try:
        # Ids only: django-q2 pickles task arguments and shows them in its admin.
        async_task(RUN_JOB_TASK, connection.pk, job, token, SyncRun.Trigger.MANUAL.value)
    except Exception as exc:
        leases.release(connection, job, token)
        logger.exception("Run now of %s could not be queued", label)
        messages.error(
            request,
            f"{label}: could not be queued ({type(exc).__name__}: {redacted_line(str(exc), ERROR_EXCERPT_CHARS)}).",
        )
        return Requested(RunNow.NOT_QUEUED)
    messages.success(request, f"{label}: queued.")
    return Requested(RunNow.QUEUED, after)


def clear_attention(states: Iterable[JobState]) -> list[JobState]:
    """Clear the attention flag of `states` (so the dispatcher runs them again); returns those cleared.

    The crash counter goes back to zero too, or the next claim would flag the job again at once.
    """
    cleared = []
    for state in states:
        if not state.attention:
            continue
        updated = (
            JobState.objects.filter(pk=state.pk).exclude(attention="").update(attention="", claims_without_finish=0)
        )
        if updated:
            state.attention, state.claims_without_finish = "", 0
            cleared.append(state)
    return cleared
