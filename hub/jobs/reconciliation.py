"""Reconciliation: compare Order Manager with the hub's records over a window; record and heal the gaps.

Contract of `sync(ctx)`, run by `hub.engine.runner.run_job(connection, Job.RECONCILIATION)` (daily
at a local time, `hub.engine.schedule`, or by Run now):
1. Read the orders in the connection's pickup status for its warehouse modified in the last
   `WINDOW` up to `EXPECTED_DELAY` ago (orders newer than that are Order Download's to read first),
   with the same paged, paced read Order Download uses (`window_pages`, `PAGE_SIZE` a page).
2. Each such order with no `OrderRecord` is a **missed order** (a watermark or window skipped it):
   it is stored through the normal download path (`hub.jobs.intake.store_page`), so the next Order
   Download sends it; there is no second send path.
3. Each order the hub has at the WMS and marked exported that Order Manager still shows in the
   pickup status is an **export mark lost**: its mark is cleared, so the next Order Download's
   `mark_exported` (the one sendtofulfillment path) marks it again. (No job imports another:
   tests/test_architecture.py.)
4. Each order Order Manager shows CANCELLED in the window that the hub has at the WMS without a
   cancel recorded is **cancelled, open at the WMS** (Order Cancel Download missed it): surfaced
   for the operator, not healed (a cancel at the WMS is not a safe automatic step).
5. The WMS's orders modified in the window are read once (`iter_orders_modified_since`, where the
   system supports Shipment Confirmation's pickup):
   - a hub order closed there with packages whose tracking numbers Order Manager lacks is
     **tracking missing**. Where Shipment Confirmation never recorded the shipment, it is recorded
     now (`hub.jobs.shipped_at_wms`, the one path) and the next Shipment Confirmation sends it;
     where the hub holds the numbers as confirmed and Order Manager (read by `get_orders`) has none
     of them (a tracking write lost), they are unconfirmed and sent again by the same job. Where
     Order Manager has some of the order's numbers but not all (an extra package it refused), it is
     surfaced only: Shipment Confirmation already treats that answer as final.
   - a WMS order carrying the hub's references (reference = an Order Manager order number, PO
     number = that order's id) that no hub record is bound to is **unknown at the WMS**. Where the
     hub's record of that order was sent without an answer (a lost answer: attempts, no WMS id) it
     is linked (`hub.jobs.binding.link`, conditional on the record still being unsent), so it is
     never sent again; otherwise (another WMS order already bound, or no record at all: created by
     someone else, checked against Order Manager's order) it is surfaced.
6. Where Inventory Sync may run, each SKU whose Order Manager on-hand differs from what the
   unlocked rule gives now (`hub.jobs.stock_targets`) by more than
   `HUB_RECONCILIATION_STOCK_TOLERANCE` units, while its WMS quantity is the one its last successful
   Inventory Sync saw (so the difference is not stock that moved since), is **stock drift**:
   surfaced (the operator's action is Run Inventory Sync now).
7. Every discrepancy is a `hub.models.Finding` (unique per connection, kind and subject: a repeat
   updates it; `hub.jobs.findings`); open findings of a kind this run checked completely and no
   longer saw are resolved. A kind whose reads did not complete (time budget, an order too large
   to read, a failed call) resolves nothing this run; the others still do.
An order modified more recently than the expected delay is left to the job that reads it first.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from hub.engine import eligibility
from hub.engine.batching import chunked
from hub.engine.context import RunContext
from hub.jobs import intake
from hub.jobs.findings import note, resolve_unseen
from hub.jobs.order_manager_reads import note_unread, resolve_warehouse_id, window_pages
from hub.jobs.wms_comparison import check_unknown_at_wms, heal_missing_tracking, read_wms_window, surface_stock_drift
from hub.models import Finding, Job, OrderEvent, OrderRecord

JOB = Job.RECONCILIATION
WINDOW = datetime.timedelta(days=14)
PAGE_SIZE = 100
# Order Download and Shipment Confirmation poll every few minutes (at most a day apart, by their
# intervals' bound); what changed more recently than this (or two of the slower one's intervals)
# may simply not have been read yet, so it is not a finding.
EXPECTED_DELAY = datetime.timedelta(minutes=30)
Kind = Finding.Kind
Status = OrderRecord.Status
ID_CHUNK = 500
CANCELLED = "CANCELLED"
AT_WMS = [Status.AT_WMS, Status.SHIPPED, Status.CONFIRMED]


def sync(ctx: RunContext) -> None:
    warehouse_id = resolve_warehouse_id(ctx)
    status = ctx.connection.pickup_status
    connection = ctx.connection
    slowest = max(connection.order_download_interval, connection.shipment_confirmation_interval)
    delay = max(EXPECTED_DELAY, 2 * datetime.timedelta(minutes=slowest))
    ctx.window_from, ctx.window_to = ctx.now - WINDOW, ctx.now - delay
    ctx.run.window_from, ctx.run.window_to = ctx.window_from, ctx.window_to
    ctx.run.save(update_fields=["window_from", "window_to"])
    checked: dict[str, set] = {}  # kind -> subjects seen, for each kind checked completely

    # Order Manager's side: the pickup status and the cancelled orders of the window.
    in_pickup, complete = read_pickup(ctx, status, warehouse_id)
    seen_missed, seen_marks = set(), set()
    heal_missed(ctx, in_pickup, status, seen_missed)
    # Only Order Download sets om_exported_at, and only where marking applies (an exportable pickup
    # status, a warehouse id): elsewhere this finds nothing.
    heal_lost_marks(ctx, in_pickup, status, seen_marks)
    if complete:
        checked[Kind.MISSED_ORDER], checked[Kind.EXPORT_MARK_LOST] = seen_missed, seen_marks
    cancelled, cancelled_complete = read_pickup(ctx, CANCELLED, warehouse_id)
    seen_cancelled = set()
    surface_cancelled_open(ctx, cancelled, seen_cancelled)
    if cancelled_complete:
        checked[Kind.CANCELLED_OPEN] = seen_cancelled

    # The WMS's side: its orders of the window, then its stock.
    if eligibility.supports(ctx.connection, Job.SHIPMENT_CONFIRMATION) and not ctx.out_of_time():
        wms_orders, wms_complete = read_wms_window(ctx, PAGE_SIZE)
        seen_tracking, seen_unknown = set(), set()
        tracking_complete = heal_missing_tracking(ctx, wms_orders, seen_tracking)
        unknown_complete = check_unknown_at_wms(ctx, wms_orders, seen_unknown)
        if wms_complete and tracking_complete:
            checked[Kind.TRACKING_MISSING] = seen_tracking
        if wms_complete and unknown_complete:
            checked[Kind.UNKNOWN_AT_WMS] = seen_unknown
    if (
        ctx.connection.inventory_sync_enabled
        and not eligibility.requirement_reason(ctx.connection, Job.INVENTORY_SYNC)
        and not ctx.out_of_time()
    ):
        seen_stock = set()
        if surface_stock_drift(ctx, warehouse_id, seen_stock):
            checked[Kind.STOCK_DRIFT] = seen_stock
    resolve_unseen(ctx, checked)
    ctx.run.save(update_fields=["fetched", "created", "updated", "skipped", "failed"])


def read_pickup(ctx, status: str, warehouse_id) -> tuple[dict, bool]:
    """{order id: ReceivedOrder} of the window's orders in the pickup status; False when not all were read."""
    unread, found = [], {}
    for page in window_pages(ctx, [status], warehouse_id, unread, PAGE_SIZE):
        found.update({received.order_id: received for received in page if received.order_id is not None})
        if ctx.out_of_time():
            ctx.note_error("Stopped reading the window at the time budget: nothing was resolved this run.")
            return found, False
    note_unread(ctx, unread)
    return found, not unread


def records_of(connection, order_ids) -> list[OrderRecord]:
    """The connection's records of `order_ids`, read in chunks (a 14-day window can hold 10,000s of ids)."""
    found = []
    for chunk in chunked(list(order_ids), ID_CHUNK):
        found += OrderRecord.objects.filter(connection=connection, om_order_id__in=chunk).only(
            "pk", "om_order_id", "om_exported_at", "wms_order_id", "status", "cancel_requested", "connection"
        )
    return sorted(found, key=lambda r: r.pk)


def heal_missed(ctx, in_pickup: dict, status: str, seen: set) -> None:
    known = {r.om_order_id for r in records_of(ctx.connection, in_pickup)}
    missed = [received for order_id, received in in_pickup.items() if order_id not in known]
    if not missed:
        return
    with transaction.atomic():
        intake.store_page(ctx, missed)
    stored = {
        r.om_order_id: r
        for r in OrderRecord.objects.filter(connection=ctx.connection, om_order_id__in=[m.order_id for m in missed])
    }
    for received in missed:
        record = stored.get(received.order_id)
        heal = "Read again through the download path; the next Order Download sends it." if record else ""
        if record is not None:
            ctx.event(record, OrderEvent.Kind.RECONCILED, f"Reconciliation found it missed in {status}: {heal}")
        note(ctx, Kind.MISSED_ORDER, received.order_id, record, om_value=status, hub_value="no record", heal=heal)
        seen.add(str(received.order_id))


def heal_lost_marks(ctx, in_pickup: dict, status: str, seen: set) -> None:
    lost = [
        r
        for r in records_of(ctx.connection, in_pickup)
        if r.om_exported_at is not None and r.wms_order_id is not None and r.status in AT_WMS
    ]
    if not lost:
        return
    heal = "Export mark cleared: the next Order Download marks it exported again (sendtofulfillment)."
    with transaction.atomic():
        OrderRecord.objects.filter(pk__in=[r.pk for r in lost]).update(om_exported_at=None, updated_at=timezone.now())
        for record in lost:
            ctx.event(
                record, OrderEvent.Kind.RECONCILED, f"Still in {status} in Order Manager although at the WMS. {heal}"
            )
            note(
                ctx,
                Kind.EXPORT_MARK_LOST,
                record.om_order_id,
                record,
                om_value=status,
                hub_value=f"at the WMS as {record.wms_order_id}",
                heal=heal,
            )
            seen.add(str(record.om_order_id))


def surface_cancelled_open(ctx, cancelled: dict, seen: set) -> None:
    for record in records_of(ctx.connection, cancelled):
        if record.status != OrderRecord.Status.AT_WMS or record.cancel_requested:
            continue
        note(
            ctx,
            Kind.CANCELLED_OPEN,
            record.om_order_id,
            record,
            om_value=CANCELLED,
            hub_value=f"open at the WMS as {record.wms_order_id}",
            heal="",
        )
        seen.add(str(record.om_order_id))
