"""Order Cancel Download: orders cancelled in Order Manager after the hub downloaded them.

Contract of `sync(ctx)`, run by `hub.engine.runner.run_job(connection, Job.CANCEL_DOWNLOAD)`:
- Reads orders with status CANCELLED for the connection's warehouse, modified since the watermark
  minus the overlap window; orders the hub never downloaded are skipped. An order too large to
  read even alone is named in the run's errors and the watermark is kept (as Order Download does).
- `new` (or `error`, never accepted by the WMS) orders become `cancelled` and are never sent. An
  order whose earlier send attempt may have reached the WMS is looked up there first.
- `at_wms` orders are cancelled at the WMS (fresh ETag, If-Match). If the WMS has already shipped
  the order, it becomes `cancel_failed` ("cancel too late: already shipped") for the operator.
- `shipped`/`confirmed` orders become `cancel_failed` as well: the goods have left.
- A cancel that fails temporarily stays requested and is retried from the hub's own table on
  the next run, whatever the watermark.
- Up to the warehouse's "calls at once" WMS cancels (and look-ups) are in flight together; every
  database write stays in the run's own thread (`hub.engine.concurrent_calls`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from connectors.errors import AuthenticationError, ConnectorError
from connectors.warehouse_manager.errors import OrderNotCancellable
from hub.engine.batching import chunked
from hub.engine.concurrent_calls import Window, overlap, width_for
from hub.engine.context import RunContext
from hub.jobs.binding import find_ours_at_wms
from hub.jobs.order_manager_reads import note_unread, resolve_warehouse_id, window_pages
from hub.models import Job, OrderEvent, OrderRecord

JOB = Job.CANCEL_DOWNLOAD
PAGE_SIZE = 100
CANCEL_REASON = "Cancelled in Extensiv Order Manager"
Status = OrderRecord.Status
Kind = OrderEvent.Kind
TOO_LATE = "Cancel too late: already shipped."


def sync(ctx: RunContext) -> None:
    warehouse_id = resolve_warehouse_id(ctx)
    unread = []
    for page in window_pages(ctx, ["CANCELLED"], warehouse_id, unread, PAGE_SIZE):
        mark_requested(ctx, page)
    note_unread(ctx, unread)
    if not unread:  # a cancellation not read keeps the window open until it is
        ctx.new_watermark = ctx.window_to
    pending = OrderRecord.objects.filter(
        connection=ctx.connection,
        cancel_requested=True,
        cancel_handled=False,
        status__in=[Status.NEW, Status.ERROR, Status.AT_WMS, Status.SHIPPED, Status.CONFIRMED],
    ).order_by("pk")
    # Ids first (no read cursor open while writing); the rest waits for the next run once the
    # time budget is used: pending cancels are read from the hub's tables, not the watermark.
    ids = list(pending.values_list("pk", flat=True))
    if not ids:
        ctx.run.save(update_fields=["fetched", "updated", "skipped", "failed"])
        return
    cancelling = Cancelling(ctx)
    overlap(
        cancelling.records(ids),
        start=cancelling.start,
        call=cancelling.call,
        finish=cancelling.finish,
        width=cancelling.window.width,
        stop=ctx.out_of_time,
        window=cancelling.window,
    )
    if ctx.out_of_time() and cancelling.handled < len(ids):
        ctx.note_budget_stop(len(ids) - cancelling.handled, "cancellation(s) to send")
    ctx.run.save(update_fields=["fetched", "updated", "skipped", "failed"])


def mark_requested(ctx, page: list) -> None:
    ids = [received.order_id for received in page if received.order_id is not None]
    ours = {r.om_order_id: r for r in OrderRecord.objects.filter(connection=ctx.connection, om_order_id__in=ids)}
    ctx.run.skipped += len(page) - len(ours)
    for record in ours.values():
        if record.cancel_requested or record.status in (Status.CANCELLED, Status.CANCEL_FAILED):
            continue
        with transaction.atomic():
            record.cancel_requested = True
            record.save(update_fields=["cancel_requested", "updated_at"])
            ctx.event(record, Kind.CANCELLED_IN_OM, "Cancelled in Order Manager.")


@dataclass
class WmsCancel:
    """What the WMS calls of one cancel gave (no database work was done to get them)."""

    found_id: int | None = None  # the WMS order found by a look-up (an earlier send without an answer)
    outcome: str = ""  # the client's "cancelled" / "already cancelled"; "" when not at the WMS
    error: ConnectorError | None = None


class Cancelling:
    """The cancels of one run: settled here when the WMS is not involved, else up to the warehouse's
    "calls at once" WMS calls in flight (`hub.engine.concurrent_calls`), outcomes written here."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.wms = ctx.warehouse  # opened in the run's thread, shared by the calls in flight
        self.handled = 0
        # One call in flight at first, more after answers, fewer after failures (as Order Download).
        self.window = Window(width_for(ctx.connection.warehouse))

    def records(self, ids: list[int]):
        for chunk_ids in chunked(ids, PAGE_SIZE):
            yield from list(OrderRecord.objects.filter(pk__in=chunk_ids).order_by("pk"))

    def start(self, record: OrderRecord) -> OrderRecord | None:
        """Settle what needs no WMS call; the record itself when the WMS must be asked."""
        self.handled += 1
        if record.status in (Status.SHIPPED, Status.CONFIRMED):
            finish(self.ctx, record, Status.CANCEL_FAILED, Kind.CANCEL_TOO_LATE, TOO_LATE)
            return None
        if record.wms_order_id is None and record.attempts == 0:
            cancel_unsent(self.ctx, record)
            return None
        return record

    def call(self, record: OrderRecord) -> WmsCancel:
        """The WMS calls of one cancel. An order with a send attempt but no WMS order id is looked
        up first: an earlier send may have reached the WMS before the process died (only this
        order's: another sales channel's order may carry the same number)."""
        result = WmsCancel()
        try:
            wms_order_id = record.wms_order_id
            if wms_order_id is None:
                existing = find_ours_at_wms(self.wms, record)
                if existing is None:
                    return result
                wms_order_id = result.found_id = existing.order_id
            result.outcome = self.wms.cancel_order(wms_order_id, CANCEL_REASON)
        except ConnectorError as exc:
            result.error = exc
        return result

    def finish(self, record: OrderRecord, future) -> None:
        ctx, result = self.ctx, future.result()
        if result.error is not None and result.error.transient:
            self.window.failed()
        else:
            self.window.succeeded()
        if result.found_id is not None:
            record.wms_order_id = result.found_id
            record.save(update_fields=["wms_order_id", "updated_at"])
        exc = result.error
        if isinstance(exc, OrderNotCancellable):
            return finish(ctx, record, Status.CANCEL_FAILED, Kind.CANCEL_TOO_LATE, f"{TOO_LATE} ({exc})")
        if isinstance(exc, AuthenticationError):
            raise exc
        if exc is not None:
            ctx.run.failed += 1
            with transaction.atomic():
                record.last_error = f"Cancel at the WMS failed: {exc}"[:4000]
                record.save(update_fields=["last_error", "updated_at"])
                ctx.event(
                    record,
                    Kind.CANCEL_FAILED,
                    f"{record.last_error} " + ("Retried on the next run." if exc.transient else ""),
                )
            return None
        if record.wms_order_id is None:
            return cancel_unsent(ctx, record)
        message = "Cancelled at the WMS." if result.outcome == "cancelled" else "The WMS had already cancelled it."
        return finish(ctx, record, Status.CANCELLED, Kind.CANCEL_SENT, f"{message} WMS order {record.wms_order_id}.")


def finish(ctx, record: OrderRecord, status: str, kind: str, message: str) -> None:
    with transaction.atomic():
        record.status = status
        record.cancel_handled = status == Status.CANCELLED
        record.next_retry_at = None
        if status == Status.CANCEL_FAILED:
            record.last_error = message
        record.save(update_fields=["status", "cancel_handled", "next_retry_at", "last_error", "updated_at"])
        ctx.event(record, kind, message)
    ctx.run.updated += 1


def cancel_unsent(ctx, record: OrderRecord) -> None:
    """Never at the WMS: cancelled here. Conditional, in case Order Download is sending it right now."""
    with transaction.atomic():
        done = OrderRecord.objects.filter(
            pk=record.pk, wms_order_id__isnull=True, status__in=[Status.NEW, Status.ERROR]
        ).update(status=Status.CANCELLED, cancel_handled=True, next_retry_at=None)
        if done:
            ctx.event(record, Kind.CANCELLED_IN_OM, "Not sent to the WMS: cancelled before sending.")
    if done:
        ctx.run.updated += 1
