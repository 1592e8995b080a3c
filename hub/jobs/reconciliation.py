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
5. Every discrepancy is a `hub.models.Finding` (unique per connection, kind and subject: a repeat
   updates it); open findings of a kind this run checked and no longer saw are resolved. A run that
   could not read the whole window (time budget, an order too large to read) resolves nothing.
The job never moves the watermark (its window is fixed to the last `WINDOW`, not the watermark).
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from hub.engine.batching import chunked
from hub.engine.context import RunContext
from hub.jobs import intake
from hub.jobs.order_manager_reads import note_unread, resolve_warehouse_id, window_pages
from hub.models import Finding, Job, OrderEvent, OrderRecord

JOB = Job.RECONCILIATION
WINDOW = datetime.timedelta(days=14)
PAGE_SIZE = 100
# Order Download polls every few minutes (at most a day apart, by its interval's bound); an order
# modified more recently than this (or two of its intervals) may simply not have been read yet, so it is not a finding.
EXPECTED_DELAY = datetime.timedelta(minutes=30)
Kind = Finding.Kind
ID_CHUNK = 500
CANCELLED = "CANCELLED"
AT_WMS = [OrderRecord.Status.AT_WMS, OrderRecord.Status.SHIPPED, OrderRecord.Status.CONFIRMED]


def sync(ctx: RunContext) -> None:
    warehouse_id = resolve_warehouse_id(ctx)
    status = ctx.connection.pickup_status
    delay = max(EXPECTED_DELAY, 2 * datetime.timedelta(minutes=ctx.connection.order_download_interval))
    ctx.window_from, ctx.window_to = ctx.now - WINDOW, ctx.now - delay
    ctx.run.window_from, ctx.run.window_to = ctx.window_from, ctx.window_to
    ctx.run.save(update_fields=["window_from", "window_to"])
    in_pickup, complete = read_pickup(ctx, status, warehouse_id)
    seen = {Kind.MISSED_ORDER: set(), Kind.EXPORT_MARK_LOST: set(), Kind.CANCELLED_OPEN: set()}
    heal_missed(ctx, in_pickup, status, seen[Kind.MISSED_ORDER])
    # Only Order Download sets om_exported_at, and only where marking applies (an exportable pickup
    # status, a warehouse id): elsewhere this finds nothing.
    heal_lost_marks(ctx, in_pickup, status, seen[Kind.EXPORT_MARK_LOST])
    cancelled, cancelled_complete = read_pickup(ctx, CANCELLED, warehouse_id)
    surface_cancelled_open(ctx, cancelled, seen[Kind.CANCELLED_OPEN])
    complete = complete and cancelled_complete
    if complete:
        resolve_unseen(ctx, seen)
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


def note(ctx, kind: str, subject, record, *, om_value: str, hub_value: str, heal: str) -> Finding:
    """Record one sighting: a new finding, or the open (or resolved, now reopened) one updated."""
    now = timezone.now()
    finding, created = Finding.objects.get_or_create(
        connection=ctx.connection,
        kind=kind,
        subject=str(subject),
        defaults={"first_seen_at": now, "last_seen_at": now},
    )
    finding.order = record
    finding.om_value, finding.hub_value = om_value[:500], hub_value[:500]
    finding.last_seen_at, finding.resolved_at, finding.last_run = now, None, ctx.run
    if heal:
        finding.healed_at, finding.heal = now, heal[:500]
    finding.save()
    ctx.run.updated += 1
    return finding


def resolve_unseen(ctx, seen: dict[str, set]) -> None:
    """Open findings of the kinds this run checked that it did not see again are resolved."""
    now = timezone.now()
    for kind, subjects in seen.items():
        Finding.objects.filter(connection=ctx.connection, kind=kind, resolved_at__isnull=True).exclude(
            subject__in=subjects
        ).update(resolved_at=now)
