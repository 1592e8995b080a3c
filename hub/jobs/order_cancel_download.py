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
"""

from __future__ import annotations

from django.db import transaction

from connectors.errors import AuthenticationError, ConnectorError
from connectors.warehouse_manager.errors import OrderNotCancellable
from hub.engine.batching import chunked
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
    handled = 0
    for chunk_ids in chunked(ids, PAGE_SIZE):
        for record in list(OrderRecord.objects.filter(pk__in=chunk_ids).order_by("pk")):
            if ctx.out_of_time():
                ctx.note_budget_stop(len(ids) - handled, "cancellation(s) to send")
                ctx.run.save(update_fields=["fetched", "updated", "skipped", "failed"])
                return
            handle(ctx, record)
            handled += 1
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


def handle(ctx, record: OrderRecord) -> None:
    try:
        if record.status in (Status.SHIPPED, Status.CONFIRMED):
            return finish(ctx, record, Status.CANCEL_FAILED, Kind.CANCEL_TOO_LATE, TOO_LATE)
        if record.wms_order_id is None and record.attempts > 0:
            # An earlier send may have reached the WMS before the process died: look before deciding.
            # Only this order's: another sales channel's order may carry the same number.
            existing = find_ours_at_wms(ctx.warehouse, record)
            if existing is not None:
                record.wms_order_id = existing.order_id
                record.save(update_fields=["wms_order_id", "updated_at"])
        if record.wms_order_id is None:
            return cancel_unsent(ctx, record)
        outcome = ctx.warehouse.cancel_order(record.wms_order_id, CANCEL_REASON)
    except OrderNotCancellable as exc:
        return finish(ctx, record, Status.CANCEL_FAILED, Kind.CANCEL_TOO_LATE, f"{TOO_LATE} ({exc})")
    except AuthenticationError:
        raise
    except ConnectorError as exc:
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
    message = "Cancelled at the WMS." if outcome == "cancelled" else "The WMS had already cancelled it."
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
