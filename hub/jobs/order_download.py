"""Order Download: new orders in the pickup status (Order Manager) -> OrderRecords -> the WMS.

Contract of `sync(ctx)`, run by `hub.engine.runner.run_job(connection, Job.ORDER_DOWNLOAD)`:
1. Download orders in the connection's pickup status for its warehouse id, modified since the
   watermark minus the overlap window; insert an `OrderRecord` per new Order Manager order id (the
   unique key makes a repeat a skip, never a duplicate). A bad order with a readable id is kept as
   `error` with the reason (quarantined) and read again when it comes back changed, to be sent
   once valid; the rest of the page goes on. A page over the answer size cap is read in smaller
   pages; an order over the cap alone is named by its position in the run's errors and the
   watermark is kept, so it is read once trimmed.
2. Send every `new` order, and every `error` order whose transient failure is due for a retry,
   to the WMS. Right before sending, Order Manager is asked again (one call per 100 orders), so a
   cancel that arrived after the download wins (an order whose earlier attempt may have reached
   the WMS is left to Order Cancel Download, which looks it up there). The attempt is recorded
   before the outside call; any later attempt first looks the order up at the WMS by
   `referenceNum` and links it instead of sending it again, and a "Duplicate" answer links the
   existing WMS order. Up to the warehouse's "calls at once" (`Warehouse.send_concurrency`, capped
   by HUB_WMS_CONCURRENCY_CAP) sends are in flight together; claims and outcomes are written in
   the run's own thread (`hub.engine.concurrent_calls`), so these rules read as if sequential.
3. Orders now at the WMS are marked exported in Order Manager (`sendtofulfillment`), the
   documented way out of AWAITING_3PL_EXPORT, so they are not picked up again.
A permanent rejection (WMS 400, bad data) holds the order as `error` for the operator; transient
failures retry with backoff for 15 days, then the order is flagged as given up.

The connection's mappings and rules (`hub.mapping.rules`, loaded once per run) shape each order at
download: SKU aliases, the item filter (a filtered line is not sent; an order with nothing left,
or under an order-level filter, becomes `skipped`), the ship-method mapping (routingInfo). Ship
methods without a mapping are collected for the operator; with "reject unmapped" on, such an
order is held as `error` ("unmapped ship method X") and released by the first run that finds the
method mapped. SKU aliases are applied again right before sending, so an alias added after a WMS
rejection ("Item SKU X does not exist") is used by the resend.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from connectors.errors import AuthenticationError, ConnectorError, MalformedResponse, PermanentError
from connectors.warehouse_manager.errors import DuplicateOrder
from connectors.wms.base import Line, WmsSystem
from hub.engine.batching import chunked
from hub.engine.concurrent_calls import Window, overlap, width_for
from hub.engine.context import RunContext
from hub.jobs import binding, intake
from hub.jobs.order_manager_reads import note_unread, resolve_warehouse_id, window_pages
from hub.mapping.rules import Rules
from hub.models import Job, OrderEvent, OrderRecord

JOB = Job.ORDER_DOWNLOAD
PAGE_SIZE = 100
# sendtofulfillment takes at most 500 orders a call, but its ids travel in the query string: 500
# ten-digit ids make a 10 KB request line, past common server limits (gunicorn 4 KB, Tomcat 8 KB:
# HTTP 414). 200 keeps the line under 4 KB.
EXPORT_BATCH = 200
GIVE_UP_AFTER = datetime.timedelta(days=15)
MAX_BACKOFF = datetime.timedelta(hours=1)
# After this many transient failures in a row the WMS is presumed down: stop hammering it.
MAX_CONSECUTIVE_TRANSIENT = 3
EXPORTABLE_STATUSES = {"AWAITING_3PL_EXPORT", "AWAITING_DROPSHIP"}
Status = OrderRecord.Status
Kind = OrderEvent.Kind


def sync(ctx: RunContext) -> None:
    warehouse_id = resolve_warehouse_id(ctx)
    if download(ctx, warehouse_id):
        ctx.new_watermark = ctx.window_to
    intake.release_held(ctx)
    send_due_orders(ctx)
    if ctx.connection.pickup_status in EXPORTABLE_STATUSES and warehouse_id is not None:
        mark_exported(ctx, warehouse_id)


# --- 1. download -----------------------------------------------------------------------------


def download(ctx, warehouse_id) -> bool:
    """Store the window's orders; False when an order too large to read was left out of it."""
    unread = []
    for page in window_pages(ctx, [ctx.connection.pickup_status], warehouse_id, unread, PAGE_SIZE):
        # A page's records and their "downloaded" events are stored together or not at all, so a
        # crash mid-page never leaves an order without the first step of its timeline.
        with transaction.atomic():
            intake.store_page(ctx, page)
    note_unread(ctx, unread)
    ctx.run.save(update_fields=["fetched", "created", "skipped", "failed"])
    intake.collect_unmapped(ctx)
    return not unread


# --- 2. send ---------------------------------------------------------------------------------


def due_for_sending(connection, now) -> QuerySet:
    retry_due = Q(status=Status.ERROR, error_permanent=False, given_up=False, next_retry_at__lte=now)
    return OrderRecord.objects.filter(Q(status=Status.NEW) | retry_due, connection=connection, cancel_requested=False)


def send_due_orders(ctx) -> None:
    """Send the due orders, up to the warehouse's "calls at once" in flight (`hub.engine.concurrent_calls`).

    Claims, look-ups' outcomes and answers are written in the run's own thread; only the WMS calls
    overlap. The order of starts is the order of the records, so the oldest order goes first."""
    ids = list(due_for_sending(ctx.connection, ctx.now).order_by("pk").values_list("pk", flat=True))
    if not ids:
        return
    sending = Sending(ctx)
    overlap(
        sending.records(ids),
        start=sending.claim,
        call=sending.call,
        finish=sending.finish,
        width=sending.window.width,
        stop=sending.should_stop,
        window=sending.window,
    )
    if sending.halted:
        ctx.note_error(
            f"Stopped sending after {MAX_CONSECUTIVE_TRANSIENT} temporary failures in a row; "
            "the remaining orders are sent on the next run."
        )
    elif ctx.out_of_time():
        left = due_for_sending(ctx.connection, ctx.now).count()
        if left:
            ctx.note_budget_stop(left, "order(s) to send")
    ctx.run.save(update_fields=["created", "updated", "skipped", "failed"])


@dataclass
class SendTicket:
    """One claimed order on its way to the WMS: what `Sending.call` needs, read before the call."""

    record: OrderRecord
    payload: dict
    note: str  # the timeline's sentence about an earlier attempt without an outcome ("" if none)


@dataclass
class WmsAnswer:
    """What the WMS calls of one send gave (no database work was done to get it)."""

    order: Any  # the WMS order: created, or found by a look-up
    found_before_sending: bool = False
    duplicate: DuplicateOrder | None = None  # the "Duplicate" refusal the order was found after


class Sending:
    """The send step of one run: claim (run's thread), WMS calls (worker thread), outcome (run's thread).

    `halted` turns True after MAX_CONSECUTIVE_TRANSIENT temporary failures in a row (in the order the
    answers arrive): the WMS is presumed down, no new order is started, the ones in flight finish."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        # Opened here, in the run's thread: the client reads the warehouse's credentials from the
        # database once, and every call in flight shares it (and its cached token).
        self.wms = ctx.warehouse
        self.transient_in_a_row = 0
        self.halted = False
        # One call in flight at first, up to the warehouse's "calls at once" after successes.
        self.window = Window(width_for(ctx.connection.warehouse))

    def should_stop(self) -> bool:
        return self.halted or self.ctx.out_of_time()

    def records(self, ids: list[int]):
        """The due records, a page at a time, each page checked against Order Manager right before."""
        for chunk_ids in chunked(ids, PAGE_SIZE):
            if self.should_stop():
                return
            yield from drop_cancelled(self.ctx, list(OrderRecord.objects.filter(pk__in=chunk_ids).order_by("pk")))

    def claim(self, record: OrderRecord) -> SendTicket | None:
        """Count the attempt before the call, or settle the order without one (None)."""
        ctx = self.ctx
        if not record.wms_payload:
            # Invalid when downloaded (e.g. re-queued by an operator): nothing to send until it is
            # fixed in Order Manager, which re-reads it. Held again instead of failing the run.
            OrderRecord.objects.filter(pk=record.pk).update(
                error_permanent=True, next_retry_at=None, updated_at=timezone.now()
            )
            ctx.note_error(f"Order {record.order_number} cannot be sent: {record.last_error}")
            ctx.run.failed += 1
            self.transient_in_a_row = 0
            return None
        now = timezone.now()
        # Log before the outside call: if the process dies after the WMS accepted the order, the
        # attempt count tells the next run to look the order up instead of sending it again.
        # The claim is conditional: a cancel recorded since the order was read wins, even one
        # written by the Cancel Download job running at the same moment.
        claimed = OrderRecord.objects.filter(
            pk=record.pk, cancel_requested=False, status__in=[Status.NEW, Status.ERROR]
        ).update(attempts=F("attempts") + 1, first_attempt_at=Coalesce("first_attempt_at", Value(now)), updated_at=now)
        if not claimed:
            ctx.run.skipped += 1
            self.transient_in_a_row = 0
            return None
        # Only the lease holder counts attempts, so the row now holds exactly these values (no re-read).
        record.attempts += 1
        record.first_attempt_at = record.first_attempt_at or now
        payload = current_payload(record, ctx.rules, ctx.wms_system)
        return SendTicket(record, payload, binding.unrecorded_attempt_note(record))

    def call(self, ticket: SendTicket) -> WmsAnswer:
        """The WMS calls of one send, no database work: a look-up first when an earlier attempt may
        have reached the WMS, the create, and on a "Duplicate" refusal the order it names."""
        wms, record = self.wms, ticket.record
        if record.attempts > 1:
            existing = binding.find_ours_at_wms(wms, record)
            if existing is not None:
                return WmsAnswer(existing, found_before_sending=True)
        try:
            return WmsAnswer(wms.create_order(ticket.payload))
        except DuplicateOrder as exc:
            existing = exc.existing or wms.find_order_by_reference(record.order_number)
            if existing is None:
                raise
            return WmsAnswer(existing, duplicate=exc)

    def finish(self, ticket: SendTicket, future) -> None:
        """Record the send's outcome on the order and the run."""
        try:
            answer = future.result()
        except AuthenticationError:
            raise  # the whole connection is affected: fail the run
        except ConnectorError as exc:
            outcome = fail(self.ctx, ticket.record, exc, ticket.payload)
        else:
            outcome = self.record_answer(ticket, answer)
        if outcome == "transient":
            self.transient_in_a_row += 1
            self.window.failed()
        else:
            self.transient_in_a_row = 0
            self.window.succeeded()
        if self.transient_in_a_row >= MAX_CONSECUTIVE_TRANSIENT:
            self.halted = True

    def record_answer(self, ticket: SendTicket, answer: WmsAnswer) -> str:
        ctx, record, payload = self.ctx, ticket.record, ticket.payload
        existing = answer.order
        if answer.found_before_sending:
            binding.link(
                ctx,
                record,
                existing,
                f"Found at the WMS after an earlier attempt: linked, not sent again.{ticket.note}",
            )
            return "sent"
        if answer.duplicate is not None:
            if not binding.is_ours(record, existing):
                return fail(
                    ctx,
                    record,
                    DuplicateOrder(
                        f"The WMS already has another order with reference number {record.order_number} (WMS order "
                        f"{existing.order_id}, PO {existing.po_num}), not this Order Manager order "
                        f"({record.om_order_id}): order numbers can repeat across sales channels. Not linked and "
                        "not sent; give one of them another reference number at the WMS, then resend this order.",
                        existing=existing,
                    ),
                    payload,
                )
            binding.link(ctx, record, existing, "The WMS already had this reference number: linked to its order.")
            return "sent"
        with transaction.atomic():
            binding.mark_at_wms(record, existing.order_id)
            ctx.event(
                record,
                Kind.SENT_TO_WMS,
                f"WMS order {existing.order_id}.{ticket.note}",
                sent=payload,
                received={"orderId": existing.order_id, "referenceNum": existing.reference_num},
            )
        ctx.run.updated += 1
        return "sent"


def drop_cancelled(ctx, records: list[OrderRecord]) -> list[OrderRecord]:
    """Ask Order Manager right before sending: an order cancelled since its download is never sent."""
    fresh = {state.order_id: state for state in ctx.order_manager.get_orders([r.om_order_id for r in records])}
    keep = []
    for record in records:
        state = fresh.get(record.om_order_id)
        cancelled = state is not None and state.is_cancelled
        if cancelled and record.wms_order_id is None and record.attempts == 0:
            with transaction.atomic():
                record.status = Status.CANCELLED
                record.cancel_requested = record.cancel_handled = True
                record.save(update_fields=["status", "cancel_requested", "cancel_handled", "updated_at"])
                ctx.event(
                    record, Kind.CANCELLED_IN_OM, "Cancelled in Order Manager before it was sent: not sent to the WMS."
                )
            ctx.run.updated += 1
        elif cancelled:
            # An earlier attempt may have reached the WMS: never re-send; Order Cancel Download
            # looks the order up there and cancels it (or closes it here when it is not there).
            with transaction.atomic():
                record.cancel_requested = True
                record.save(update_fields=["cancel_requested", "updated_at"])
                ctx.event(
                    record,
                    Kind.CANCELLED_IN_OM,
                    "Cancelled in Order Manager before the retry: not sent again; the cancel is handled next.",
                )
            ctx.run.skipped += 1
        else:
            keep.append(record)
    return keep


def current_payload(record: OrderRecord, rules: Rules, system: WmsSystem) -> dict:
    """The body to send: the stored one, with its items re-aliased when the aliases changed since download."""
    lines = [line for line in record.lines or [] if isinstance(line, dict) and "sku" in line]
    if not lines or not any(
        rules.wms_sku(ln["sku"]) != ln.get("wms_sku", ln["sku"]) for ln in lines if not ln.get("filtered")
    ):
        return record.wms_payload
    new_lines = []
    for line in lines:
        line = {k: v for k, v in line.items() if k != "wms_sku"}
        if rules.wms_sku(line["sku"]) != line["sku"]:
            line["wms_sku"] = rules.wms_sku(line["sku"])
        new_lines.append(line)
    items = [Line(ln.get("wms_sku", ln["sku"]), ln["quantity"]) for ln in new_lines if not ln.get("filtered")]
    record.wms_payload, record.lines = system.with_lines(record.wms_payload, items), new_lines
    record.save(update_fields=["wms_payload", "lines", "updated_at"])
    return record.wms_payload


def fail(ctx, record: OrderRecord, exc: ConnectorError, payload) -> str:
    now = timezone.now()
    # A garbled answer to the create may follow a success: the outcome is unknown, so the order is
    # retried (the retry looks it up first) instead of held as rejected while it sits at the WMS.
    permanent = isinstance(exc, PermanentError) and not isinstance(exc, MalformedResponse)
    reason = str(exc) + (f" (WMS answer: {exc.body_excerpt})" if exc.body_excerpt else "")
    with transaction.atomic():
        record.status = Status.ERROR
        record.last_error = reason[:4000]
        record.error_permanent = permanent
        if permanent:
            record.next_retry_at = None
            ctx.event(record, Kind.WMS_REJECTED, reason, sent=payload)
        elif now - record.first_attempt_at >= GIVE_UP_AFTER:
            record.given_up, record.next_retry_at = True, None
            ctx.event(record, Kind.GAVE_UP, f"Temporary failures for {GIVE_UP_AFTER.days} days; last: {reason}")
        else:
            delay = min(MAX_BACKOFF, datetime.timedelta(minutes=2 ** min(record.attempts - 1, 10)))
            if exc.retry_after:
                delay = max(delay, datetime.timedelta(seconds=exc.retry_after))
            record.next_retry_at = now + delay
            ctx.event(
                record,
                Kind.SEND_FAILED,
                f"{reason} Next try after {record.next_retry_at:%Y-%m-%d %H:%M} UTC.",
                sent=payload,
            )
        record.save(
            update_fields=["status", "last_error", "error_permanent", "next_retry_at", "given_up", "updated_at"]
        )
    ctx.run.failed += 1
    return "permanent" if permanent else "transient"


# --- 3. mark exported ------------------------------------------------------------------------


def mark_exported(ctx, warehouse_id: int) -> None:
    # Read in full before writing: on SQLite a connection whose read cursor is still open cannot
    # start writing once another process (Order Manager's side, another job) has committed since:
    # "database is locked" at once, whatever the busy timeout. Two ids per order fit in memory.
    pending = list(
        OrderRecord.objects.filter(
            connection=ctx.connection,
            wms_order_id__isnull=False,
            om_exported_at__isnull=True,
            status__in=[Status.AT_WMS, Status.SHIPPED, Status.CONFIRMED],
        )
        .order_by("pk")
        .values_list("pk", "om_order_id")
    )
    for batch in chunked(pending, EXPORT_BATCH):
        try:
            ctx.order_manager.send_to_fulfillment([om_order_id for _, om_order_id in batch], warehouse_id)
        except AuthenticationError:
            raise
        except ConnectorError as exc:
            ctx.run.failed += len(batch)
            ctx.note_error(f"Marking {len(batch)} orders exported in Order Manager failed (retried next run): {exc}")
            continue
        now = timezone.now()
        with transaction.atomic():
            OrderRecord.objects.filter(pk__in=[pk for pk, _ in batch]).update(om_exported_at=now, updated_at=now)
            OrderEvent.objects.bulk_create(
                [
                    OrderEvent(
                        order_id=pk,
                        run=ctx.run,
                        kind=Kind.EXPORTED,
                        message="Moved out of the pickup status (sendtofulfillment).",
                    )
                    for pk, _ in batch
                ]
            )
    ctx.run.save(update_fields=["failed"])
