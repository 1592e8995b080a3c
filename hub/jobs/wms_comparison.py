"""Reconciliation's comparisons of the WMS's side (points 5 and 6 of `hub.jobs.reconciliation`'s
contract): its orders of the window against the hub's records and Order Manager's tracking, and its
stock against Order Manager's on-hand by the unlocked rule.

Each check notes its findings (`hub.jobs.findings.note`) into `seen` and returns whether it checked
completely (False: a read failed, so the run resolves nothing of that kind). Heals go the one path
of each thing: a shipment through `hub.jobs.shipped_at_wms`, a lost answer through
`hub.jobs.binding.link`, a lost tracking write back to Shipment Confirmation's sending. Every write
is conditional on the record still being as read, since the other jobs run at the same time.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from connectors.errors import AuthenticationError, ConnectorError
from hub.engine.batching import chunked
from hub.jobs import binding
from hub.jobs.findings import note
from hub.jobs.shipped_at_wms import apply_wms_state
from hub.jobs.stock_targets import last_synced_lines, pending_by_wms_sku, unlocked_on_hand
from hub.mapping.rules import Rules, carrier_overrides
from hub.models import Finding, OrderEvent, OrderRecord

Kind = Finding.Kind
Status = OrderRecord.Status
ID_CHUNK = 500
# get_orders takes up to 1000 ids, but they travel in the query string: 1000 ten-digit ids make a
# 19 KB request line, past common server limits (gunicorn 4 KB, Tomcat 8 KB: HTTP 414, seen in
# benchmarks/bench_reconciliation.py). 200 keeps the line under 4 KB, as Order Download's
# sendtofulfillment batches (EXPORT_BATCH).
OM_IDS_PER_READ = 200
AT_WMS = [Status.AT_WMS, Status.SHIPPED, Status.CONFIRMED]


def read_wms_window(ctx, page_size: int) -> tuple[list, bool]:
    """The WMS orders modified since the window's start that are settled (older than the expected
    delay); False when the read stopped (a failed call, the time budget) before its end."""
    orders = []
    try:
        for wms_order in ctx.warehouse.iter_orders_modified_since(ctx.window_from, page_size=page_size):
            ctx.run.fetched += 1
            if wms_order.last_modified is None or wms_order.last_modified <= ctx.window_to:
                orders.append(wms_order)
            if ctx.out_of_time():
                ctx.note_error("Stopped reading the WMS's orders at the time budget: its kinds resolve nothing.")
                return orders, False
    except AuthenticationError:
        raise
    except ConnectorError as exc:
        ctx.note_error(f"Could not read the WMS's orders of the window: {exc}")
        return orders, False
    return orders, True


def om_states(ctx, order_ids) -> dict | None:
    """Order Manager's current state of `order_ids` by id (`get_orders`), None when it could not be read."""
    states = {}
    try:
        for chunk in chunked(sorted(set(order_ids)), OM_IDS_PER_READ):
            states.update({state.order_id: state for state in ctx.order_manager.get_orders(chunk)})
    except AuthenticationError:
        raise
    except ConnectorError as exc:
        ctx.note_error(f"Could not read {len(set(order_ids))} order(s) in Order Manager: {exc}")
        return None
    return states


# The order as downloaded and as sent: the largest columns, never compared here (a 14-day window
# is 10,000s of records; reading them was most of the job's own time in benchmarks/).
BODIES = ("source", "wms_payload", "lines")


def bound_records(connection, wms_order_ids) -> dict[int, OrderRecord]:
    """The connection's records bound to `wms_order_ids`, by WMS order id, without their bodies."""
    found = {}
    for chunk in chunked(sorted(set(wms_order_ids)), ID_CHUNK):
        records = OrderRecord.objects.filter(connection=connection, wms_order_id__in=chunk).defer(*BODIES)
        found.update({r.wms_order_id: r for r in records})
    return found


def bound_ids(connection, wms_order_ids) -> set[int]:
    """Which of `wms_order_ids` a record of the connection is bound to (ids only)."""
    found = set()
    for chunk in chunked(sorted(set(wms_order_ids)), ID_CHUNK):
        found.update(
            OrderRecord.objects.filter(connection=connection, wms_order_id__in=chunk).values_list(
                "wms_order_id", flat=True
            )
        )
    return found


def heal_missing_tracking(ctx, wms_orders: list, seen: set) -> bool:
    """Tracking missing (point 5 of the contract); False when Order Manager could not be asked."""
    shipped = [o for o in wms_orders if o.is_closed and not o.is_canceled and any(o.tracking_numbers)]
    records = bound_records(ctx.connection, [o.order_id for o in shipped])
    overrides = carrier_overrides(ctx.connection)
    confirmed = []
    for wms_order in shipped:
        record = records.get(wms_order.order_id)
        if record is None or record.status not in AT_WMS or record.tracking_in_flight or record.tracking_given_up:
            continue  # not ours, or Shipment Confirmation is on it (in flight, given up: its alert)
        numbers = [t for t in wms_order.tracking_numbers if t]
        if record.status == Status.AT_WMS or any(t not in record.tracking_numbers for t in numbers):
            heal = "Recorded the WMS shipment; the next Shipment Confirmation sends its tracking."
            apply_wms_state(ctx, record, wms_order, overrides)
            ctx.event(record, OrderEvent.Kind.RECONCILED, f"Shipment Confirmation never read this shipment. {heal}")
            note(
                ctx,
                Kind.TRACKING_MISSING,
                record.om_order_id,
                record,
                om_value="no tracking sent",
                hub_value=f"shipped at the WMS as {wms_order.order_id}: {', '.join(numbers)}",
                heal=heal,
            )
            seen.add(str(record.om_order_id))
        elif record.status == Status.CONFIRMED:
            confirmed.append((record, numbers))
    if not confirmed:
        return True
    states = om_states(ctx, [record.om_order_id for record, _ in confirmed])
    if states is None:
        return False
    complete = True
    for record, numbers in confirmed:
        state = states.get(record.om_order_id)
        present = state.tracking_numbers if state is not None else None
        if state is None or state.is_cancelled:
            continue  # gone from Order Manager or cancelled there: no tracking is owed to it
        if present is None:
            complete = False  # its shipments could not be read: unknown, not absent
            continue
        missing = [t for t in numbers if t not in present]
        if not missing:
            continue
        heal = ""
        if not present & set(numbers):
            heal = "Unconfirmed: the next Shipment Confirmation sends it again."
            unconfirm(ctx, record, missing, heal)
        note(
            ctx,
            Kind.TRACKING_MISSING,
            record.om_order_id,
            record,
            om_value=f"has {', '.join(sorted(present)) or 'no tracking'}",
            hub_value=f"confirmed {', '.join(missing)}",
            heal=heal,
        )
        seen.add(str(record.om_order_id))
    return complete


def unconfirm(ctx, record: OrderRecord, missing: list[str], heal: str) -> None:
    """Order Manager has none of the numbers the hub holds as accepted (a tracking write lost):
    they go back to Shipment Confirmation's sending, unless it changed the record meanwhile."""
    with transaction.atomic():
        fresh = (
            OrderRecord.objects.select_for_update()
            .filter(pk=record.pk, status=Status.CONFIRMED, tracking_in_flight=[])
            .first()
        )
        if fresh is None:
            return
        fresh.confirmed_tracking_numbers = [t for t in fresh.confirmed_tracking_numbers if t not in missing]
        fresh.status, fresh.next_retry_at = Status.SHIPPED, None
        fresh.save(update_fields=["confirmed_tracking_numbers", "status", "next_retry_at", "updated_at"])
        ctx.event(fresh, OrderEvent.Kind.RECONCILED, f"Order Manager lacks tracking {', '.join(missing)}. {heal}")


def check_unknown_at_wms(ctx, wms_orders: list, seen: set) -> bool:
    """Unknown at the WMS (point 5 of the contract); False when Order Manager could not be asked."""
    bound = bound_ids(ctx.connection, [o.order_id for o in wms_orders])
    candidates = [o for o in wms_orders if o.order_id not in bound and o.po_num.isdigit()]
    if not candidates:
        return True
    by_om_id: dict[int, OrderRecord] = {}
    for chunk in chunked(sorted({int(o.po_num) for o in candidates}), ID_CHUNK):
        by_om_id.update(
            {
                r.om_order_id: r
                for r in OrderRecord.objects.filter(connection=ctx.connection, om_order_id__in=chunk).defer(*BODIES)
            }
        )
    unrecorded = []
    for wms_order in candidates:
        record = by_om_id.get(int(wms_order.po_num))
        if record is None:
            unrecorded.append(wms_order)
        elif record.order_number == wms_order.reference_num:
            surface_or_link(ctx, record, wms_order, seen)
    if not unrecorded:
        return True
    states = om_states(ctx, [int(o.po_num) for o in unrecorded])
    if states is None:
        return False
    for wms_order in unrecorded:
        state = states.get(int(wms_order.po_num))
        if state is None or state.order_number != wms_order.reference_num:
            continue  # not an Order Manager order of this account: someone else's PO number
        note(
            ctx,
            Kind.UNKNOWN_AT_WMS,
            wms_order.po_num,
            None,
            om_value=f"order {state.order_number} ({state.status or 'status unknown'})",
            hub_value=f"WMS order {wms_order.order_id}, no hub record",
            heal="",
        )
        seen.add(wms_order.po_num)
    return True


def surface_or_link(ctx, record: OrderRecord, wms_order, seen: set) -> None:
    heal = ""
    if record.wms_order_id is None:
        with transaction.atomic():
            fresh = (
                OrderRecord.objects.select_for_update()
                .filter(pk=record.pk, wms_order_id__isnull=True, status__in=[Status.NEW, Status.ERROR], attempts__gt=0)
                .first()
            )
            if fresh is not None:
                heal = "Linked: it was sent and its answer lost, so it is never sent again."
                binding.link(ctx, fresh, wms_order, "Reconciliation found it at the WMS (an earlier answer was lost):")
    hub_value = f"hub's order at the WMS is {record.wms_order_id}" if record.wms_order_id else f"hub: {record.status}"
    note(
        ctx,
        Kind.UNKNOWN_AT_WMS,
        record.om_order_id,
        record,
        om_value=f"order {record.order_number}",
        hub_value=f"WMS order {wms_order.order_id} not bound; {hub_value}",
        heal=heal,
    )
    seen.add(str(record.om_order_id))


# --- stock ----------------------------------------------------------------------------------


def surface_stock_drift(ctx, warehouse_id: int, seen: set) -> bool:
    """Stock drift (point 6 of the contract); False when either side's stock could not be read."""
    try:
        report = ctx.warehouse.stock_report()
        stock = {s.sku: s for s in ctx.order_manager.iter_stock_totals(warehouse_id)}
    except AuthenticationError:
        raise
    except ConnectorError as exc:
        ctx.note_error(f"Could not compare stock: {exc}")
        return False
    ctx.run.fetched += len(report.available)
    rules = Rules.for_connection(ctx.connection)
    pending = pending_by_wms_sku(ctx.connection, rules) if rules.subtract_pending else {}
    last = last_synced_lines(ctx.connection)
    tolerance = settings.HUB_RECONCILIATION_STOCK_TOLERANCE
    for wms_sku, quantity in sorted(report.available.items()):
        quantity = max(0, int(quantity))
        publish, _ = rules.available_to_publish(quantity, pending.get(wms_sku, 0))
        for sku in rules.om_skus_for(wms_sku, stock):
            om, line = stock.get(sku), last.get(sku)
            if om is None or line is None or rules.is_filtered(sku) or line.wms_available != quantity:
                continue  # no stock record, never synced, filtered, or moved since: Inventory Sync's
            target = unlocked_on_hand(publish, om.locked)
            if abs(om.on_hand - target) <= tolerance:
                continue
            note(
                ctx,
                Kind.STOCK_DRIFT,
                sku,
                None,
                om_value=f"on hand {om.on_hand} (locked {om.locked})",
                hub_value=(
                    f"{target} by the unlocked rule (WMS available {quantity}, pending {pending.get(wms_sku, 0)}, "
                    f"buffer {rules.buffer}); last synced {line.run.started_at:%Y-%m-%d %H:%M} UTC"
                ),
                heal="",
            )
            seen.add(sku)
    return True
