"""What an operator may do about a Reconciliation finding (hub.models.Finding) the job cannot heal.

Every action only queues work for a job's normal path; none calls Order Manager or the WMS from the
admin request. Each is refused, with the reason, where it does not apply (`refusal`), re-checks
the rows under a lock before writing (a job that moved the order meanwhile wins), and writes an
`OrderEvent` of kind OPERATOR naming the user on the finding's order, where it has one, so the
order's timeline shows it. The admin (hub.admin.findings) adds a LogEntry per finding: who, when.

- `ACKNOWLEDGE` (every kind): `acknowledged_at`/`_by` set. An acknowledged finding stays listed
  and in the report, but is no longer open for the alert (hub.ops.alerts) or `hub_open_findings`
  (/metrics); its alert clears at the next evaluation (`hub.tasks.alerts_tick`, every 5 minutes,
  or the connection's next run). The acknowledgement is of the current sighting: if the finding
  is resolved and seen again later, the reopening clears it (`Finding.save`), so the operator is
  asked again.
- `CANCEL_AT_WMS` (cancelled_open): the order's `cancel_requested` is set, the very flag Order
  Cancel Download sets when it reads the cancellation: its next run cancels the order at the WMS
  (fresh ETag; "cancel too late" if the WMS shipped it meanwhile).
- `RESEND_TRACKING` (tracking_missing): the order is `shipped` again with every tracking number
  marked in flight and none confirmed, the state a crash mid-send leaves: the next Shipment
  Confirmation reads the order in Order Manager first, confirms the numbers it has without
  sending them and sends only the missing ones (so nothing is sent twice); backoff and give-up
  restart as after "Retry tracking".
- `RUN_INVENTORY_SYNC` (stock_drift): Run now of Inventory Sync for the finding's connection
  (`hub.admin.actions.run_now`: eligibility, attention and the lease as every Run now), once per
  connection however many findings are selected; it rewrites on hand by the unlocked rule. Needs
  the "change job state" permission, as every Run now button.
- unknown_at_wms: acknowledge only, after checking at the WMS (`WHAT_TO_DO`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from hub.admin import actions as admin_actions
from hub.admin.run_now import RUN_PERMISSION
from hub.models import Finding, Job, OrderEvent, OrderRecord
from hub.operators import operator_name

Kind = Finding.Kind
Status = OrderRecord.Status
TRACKING_STATUSES = (Status.SHIPPED, Status.CONFIRMED)

# What the operator should do about each kind, beside the finding in the report and on its page.
WHAT_TO_DO = {
    Kind.MISSED_ORDER: "Healed automatically: read again through the download path, the next Order Download "
    "sends it. Acknowledge only if it must not reach the WMS (then cancel it in Order Manager).",
    Kind.EXPORT_MARK_LOST: "Healed automatically: the next Order Download marks it exported again.",
    Kind.CANCELLED_OPEN: "“Cancel at the WMS” queues the cancel for the next Order Cancel Download (refused "
    "as too late if the WMS shipped it). Acknowledge instead if you dealt with it at the WMS by hand.",
    Kind.TRACKING_MISSING: "“Re-send tracking” queues it for the next Shipment Confirmation, which checks what "
    "Order Manager has first and sends only the missing numbers.",
    Kind.UNKNOWN_AT_WMS: "Check at the WMS who created this order: by hand, another integration, or a duplicate "
    "left by a lost answer (compare with the Order Manager order of that reference). Cancel a duplicate at the "
    "WMS, then acknowledge.",
    Kind.STOCK_DRIFT: "“Run Inventory Sync now” rewrites on hand from the WMS (available + locked). Acknowledge "
    "if the difference is expected (stock counted in Order Manager on purpose).",
}


@dataclass(frozen=True)
class FindingAction:
    """One operator action on findings: `kinds` it applies to and the `label` of its button."""

    name: str
    label: str
    kinds: frozenset[str]
    refusal: Callable[[Finding], str | None]


@dataclass
class Outcome:
    """What `perform` did: the findings acted on and, for the others, why not."""

    done: list[Finding] = field(default_factory=list)
    refused: list[tuple[Finding, str]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)  # one per finding done, for the admin's LogEntry


def _refuse_resolved(finding: Finding) -> str | None:
    if finding.resolved_at is not None:
        return "resolved already: the last complete run no longer saw it"
    return None


def _refuse_acknowledge(finding: Finding) -> str | None:
    if finding.acknowledged_at is not None:
        return f"acknowledged already by {finding.acknowledged_by or 'someone'}"
    return _refuse_resolved(finding)


def _refuse_cancel(finding: Finding) -> str | None:
    if finding.order is None:
        return "the hub has no record of this order"
    if finding.order.cancel_requested:
        return "its cancel is queued already: the next Order Cancel Download sends it"
    if finding.order.status != Status.AT_WMS:
        return f"the order is “{finding.order.get_status_display()}”, only orders at the WMS are cancelled there"
    return _refuse_resolved(finding)


def _refuse_resend_tracking(finding: Finding) -> str | None:
    order = finding.order
    if order is None:
        return "the hub has no record of this order"
    if order.status not in TRACKING_STATUSES:
        return f"the order is “{order.get_status_display()}”, only shipped orders have tracking to send"
    if not order.tracking_numbers:
        return "the hub has no tracking number of this order yet: the next Shipment Confirmation reads it"
    if order.tracking_in_flight:
        return "a send is in flight: the next Shipment Confirmation checks Order Manager and completes it"
    return _refuse_resolved(finding)


def _refuse_inventory(finding: Finding) -> str | None:
    return _refuse_resolved(finding)


ACKNOWLEDGE = FindingAction("acknowledge", "Acknowledge", frozenset(Kind.values), _refuse_acknowledge)
CANCEL_AT_WMS = FindingAction("cancel_at_wms", "Cancel at the WMS", frozenset({Kind.CANCELLED_OPEN}), _refuse_cancel)
RESEND_TRACKING = FindingAction(
    "resend_tracking", "Re-send tracking", frozenset({Kind.TRACKING_MISSING}), _refuse_resend_tracking
)
RUN_INVENTORY_SYNC = FindingAction(
    "run_inventory_sync", "Run Inventory Sync now", frozenset({Kind.STOCK_DRIFT}), _refuse_inventory
)
FINDING_ACTIONS: dict[str, FindingAction] = {
    action.name: action for action in (CANCEL_AT_WMS, RESEND_TRACKING, RUN_INVENTORY_SYNC, ACKNOWLEDGE)
}


def refusal(action: FindingAction, finding: Finding) -> str | None:
    """Why `action` does not apply to `finding`, or None when it does."""
    if finding.kind not in action.kinds:
        return f"“{action.label}” does not apply to “{finding.get_kind_display()}”"
    return action.refusal(finding)


def offered(finding: Finding) -> list[FindingAction]:
    """The actions that apply to `finding` now, its own action first, "Acknowledge" last."""
    return [action for action in FINDING_ACTIONS.values() if refusal(action, finding) is None]


def _event(order: OrderRecord | None, text: str) -> None:
    if order is not None:
        OrderEvent.objects.create(order=order, run=None, kind=OrderEvent.Kind.OPERATOR, message=text[:4000])


def _what(finding: Finding) -> str:
    return f"Reconciliation's finding “{finding.get_kind_display()}” (Order Manager: {finding.om_value or '—'}; hub / WMS: {finding.hub_value or '—'})"


def _locked(finding: Finding) -> Finding:
    """The finding and its order read again under a row lock (inside the caller's transaction)."""
    locked = Finding.objects.select_for_update().get(pk=finding.pk)
    if locked.order_id is not None:
        locked.order = OrderRecord.objects.select_for_update().get(pk=locked.order_id)
    return locked


def _acknowledge(finding: Finding, who: str, request) -> str:
    now = timezone.now()
    finding.acknowledged_at, finding.acknowledged_by = now, who[:150]
    finding.save(update_fields=["acknowledged_at", "acknowledged_by"])
    text = f"Acknowledged by {who}: {_what(finding)}; no longer alerted while it stays as it is."
    _event(finding.order, text)
    return text


def _cancel_at_wms(finding: Finding, who: str, request) -> str:
    order = finding.order
    order.cancel_requested = True
    order.save(update_fields=["cancel_requested", "updated_at"])
    text = (
        f"Cancel at the WMS queued by {who} ({_what(finding)}): the next Order Cancel Download cancels "
        f"WMS order {order.wms_order_id}."
    )
    _event(order, text)
    return text


def _resend_tracking(finding: Finding, who: str, request) -> str:
    order = finding.order
    order.status = Status.SHIPPED
    order.tracking_in_flight = list(order.tracking_numbers)
    order.confirmed_tracking_numbers = []
    order.next_retry_at = timezone.now()
    order.tracking_given_up, order.tracking_attempts, order.tracking_failing_since = False, 0, None
    order.save(
        update_fields=[
            "status",
            "tracking_in_flight",
            "confirmed_tracking_numbers",
            "next_retry_at",
            "tracking_given_up",
            "tracking_attempts",
            "tracking_failing_since",
            "updated_at",
        ]
    )
    text = (
        f"Re-send tracking queued by {who} ({_what(finding)}): the next Shipment Confirmation reads the order in "
        f"Order Manager, confirms the numbers it has and sends the others of {', '.join(order.tracking_numbers)}."
    )
    _event(order, text)
    return text


APPLY = {ACKNOWLEDGE.name: _acknowledge, CANCEL_AT_WMS.name: _cancel_at_wms, RESEND_TRACKING.name: _resend_tracking}


def perform(action: FindingAction, findings: Iterable[Finding], request) -> Outcome:
    """Apply `action` to each finding on its own (one refusal never blocks the others)."""
    if action is RUN_INVENTORY_SYNC:
        return _run_inventory_sync(findings, request)
    outcome, who = Outcome(), operator_name(request.user)
    for finding in findings:
        reason = refusal(action, finding)
        if reason is None:
            with transaction.atomic():
                locked = _locked(finding)
                reason = refusal(action, locked)
                if reason is None:
                    outcome.messages.append(APPLY[action.name](locked, who, request))
                    outcome.done.append(locked)
        if reason is not None:
            outcome.refused.append((finding, reason))
    return outcome


def _run_inventory_sync(findings: Iterable[Finding], request) -> Outcome:
    """One Run now of Inventory Sync per connection of the findings (it reports to the user itself)."""
    outcome, by_connection = Outcome(), {}
    may_run = request.user.has_perm(RUN_PERMISSION)  # as the Run now buttons: "change job state"
    for finding in findings:
        reason = refusal(RUN_INVENTORY_SYNC, finding) or (None if may_run else "you may not run jobs")
        if reason:
            outcome.refused.append((finding, reason))
        else:
            by_connection.setdefault(finding.connection_id, []).append(finding)
    for listed in by_connection.values():
        connection = listed[0].connection
        requested = admin_actions.run_now(request, connection, Job.INVENTORY_SYNC)
        if requested.outcome in (admin_actions.RunNow.QUEUED, admin_actions.RunNow.ALREADY_RUNNING):
            for finding in listed:
                outcome.done.append(finding)
                outcome.messages.append(f"Inventory Sync run now for {connection} ({requested.outcome}).")
        else:
            outcome.refused += [(finding, f"Inventory Sync {requested.outcome}") for finding in listed]
    return outcome
