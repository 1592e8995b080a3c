"""Recording what the WMS says of one of the hub's orders on its record: shipped (tracking numbers,
carrier mapped to Order Manager's enum, service, ship date) or cancelled at the WMS.

`apply_wms_state(ctx, record, wms_order, overrides)` is the one implementation: Shipment
Confirmation applies every WMS order it reads, and Reconciliation applies a shipped order that
Shipment Confirmation's reads never returned (so its tracking then goes the one sending path).
A closed order moves `at_wms` (or `confirmed`, when the WMS added a package) to `shipped`, where
Shipment Confirmation sends its unconfirmed numbers; each change is one SHIPPED_AT_WMS or
CANCELLED_AT_WMS step on the order's timeline.
"""

from __future__ import annotations

from django.db import transaction

from hub.mapping.carriers import om_carrier
from hub.models import OrderEvent, OrderRecord

Status = OrderRecord.Status
Kind = OrderEvent.Kind


def apply_wms_state(ctx, record: OrderRecord, wms_order, overrides: dict[str, str] | None = None) -> None:
    if wms_order.is_canceled and record.status == Status.AT_WMS:
        with transaction.atomic():
            record.status = Status.CANCELLED
            record.save(update_fields=["status", "updated_at"])
            ctx.event(record, Kind.CANCELLED_AT_WMS, f"WMS order {wms_order.order_id} was cancelled at the WMS.")
        ctx.run.updated += 1
        return
    if not wms_order.is_closed or record.status not in (
        Status.AT_WMS,
        Status.SHIPPED,
        Status.CONFIRMED,
        Status.CANCEL_FAILED,
    ):
        ctx.run.skipped += 1
        return
    known = list(record.tracking_numbers)
    new_numbers = [t for t in wms_order.tracking_numbers if t and t not in known]
    if record.status != Status.AT_WMS and not new_numbers:
        ctx.run.skipped += 1
        return
    carrier = om_carrier(wms_order.carrier, wms_order.scac, overrides=overrides)
    with transaction.atomic():
        record.tracking_numbers = known + new_numbers
        record.carrier = carrier
        record.service = (wms_order.service or "")[:200]
        record.ship_date = wms_order.ship_date or record.ship_date
        if record.status in (Status.AT_WMS, Status.CONFIRMED):
            record.status = Status.SHIPPED
        record.next_retry_at = None
        if not record.tracking_numbers:
            record.last_error = "Closed at the WMS without a tracking number; waiting for one."
        record.save(
            update_fields=[
                "tracking_numbers",
                "carrier",
                "service",
                "ship_date",
                "status",
                "next_retry_at",
                "last_error",
                "updated_at",
            ]
        )
        ctx.event(
            record,
            Kind.SHIPPED_AT_WMS,
            f"Shipped at the WMS: {', '.join(new_numbers) or 'no tracking number'} "
            f"({wms_order.carrier or 'carrier unknown'} -> {carrier}).",
            received={
                "orderId": wms_order.order_id,
                "trackingNumbers": wms_order.tracking_numbers,
                "carrier": wms_order.carrier,
                "scac": wms_order.scac,
                "service": wms_order.service,
            },
        )
    ctx.run.updated += 1
