"""What the outside world does to sandbox orders: the warehouse ships them, customers cancel them.

- `ship`: close open WMS orders with one package each, a tracking number and carrier routing, as
  the warehouse does when it ships (what Shipment Confirmation then picks up), and queue an
  OrderConfirm webhook event per order for the account's subscription (`webhook_outbox`).
- `cancel`: cancel Order Manager orders, preferring those already at the WMS (what Order Cancel
  Download then picks up).
- `unknown_at_wms`: an order at the WMS carrying the hub's reference (the Order Manager order
  number as `referenceNum`) and the hub's `poNum` (the Order Manager order id) that the hub never
  sent: someone keyed it in by hand, or a create whose answer was lost (what Reconciliation's
  "unknown at the WMS" finds). Not a fault rate: a control step.

Both return what they did, in JSON-ready form, so a caller can check the hub's work against it.
"""

from __future__ import annotations

import random
import string

from django.db import transaction

from .. import clock, webhook_outbox
from ..models import (
    OmAccount,
    OmOrder,
    OrderStatus,
    WmsAccount,
    WmsItem,
    WmsOrder,
    WmsOrderItem,
    WmsOrderStatus,
    WmsPackage,
)
from . import BATCH

# (WMS carrier name, mode, SCAC, tracking number maker)
CARRIERS = (
    ("UPS", "Ground", "UPGN", lambda rng: "1Z" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=16))),
    ("FedEx", "FedEx Ground", "FDEG", lambda rng: "".join(rng.choices(string.digits, k=12))),
    ("USPS", "Priority Mail", "USPS", lambda rng: "9400" + "".join(rng.choices(string.digits, k=18))),
)


def ship(wms_account: WmsAccount, count: int | None = None, *, seed: int | None = None) -> list[dict]:
    """Close up to `count` open WMS orders (all when None), oldest first, with one tracked package each."""
    rng = random.Random(seed)
    open_orders = WmsOrder.objects.filter(account=wms_account, status=WmsOrderStatus.OPEN).order_by("pk")
    if count is not None:
        open_orders = open_orders[:count]
    now = clock.now()
    shipped = []
    with transaction.atomic():
        orders = list(open_orders.prefetch_related("items"))
        packages = []
        for order in orders:
            carrier, mode, scac, make_tracking = rng.choice(CARRIERS)
            tracking = make_tracking(rng)
            order.status = WmsOrderStatus.CLOSED
            order.version += 1
            order.last_modified_date = order.process_date = now
            order.routing_info = {
                **(order.routing_info or {}),
                "carrier": carrier,
                "mode": mode,
                "scacCode": scac,
                "trackingNumber": tracking,
            }
            packages.append(
                WmsPackage(
                    order=order,
                    tracking_number=tracking,
                    create_date=now,
                    contents=[{"orderItemId": item.pk, "qty": float(item.qty)} for item in order.items.all()],
                )
            )
            shipped.append(
                {
                    "orderId": order.pk,
                    "referenceNum": order.reference_num,
                    "carrier": carrier,
                    "mode": mode,
                    "scacCode": scac,
                    "trackingNumber": tracking,
                }
            )
        WmsOrder.objects.bulk_update(
            orders, ["status", "version", "last_modified_date", "process_date", "routing_info"], batch_size=BATCH
        )
        WmsPackage.objects.bulk_create(packages, batch_size=BATCH)
        # The WMS tells its webhook subscriber each order closed, in the same transaction (outbox).
        for order in orders:
            webhook_outbox.record(wms_account, "OrderConfirm", order_id=order.pk, tags="Shipped")
    return shipped


def cancel(
    om_account: OmAccount,
    count: int,
    *,
    wms_account: WmsAccount | None = None,
    reason_type: str = "BUYER_CANCELLED",
    details: str = "Cancelled by the customer (sandbox)",
) -> list[dict]:
    """Cancel `count` Order Manager orders that are neither shipped nor cancelled.

    Preference: orders open at the WMS (`wms_account` given), then orders sent to fulfillment,
    then the rest; oldest first within each group.
    """
    candidates = list(
        OmOrder.objects.filter(account=om_account)
        .exclude(status__in=[OrderStatus.SHIPPED, OrderStatus.CANCELLED])
        .order_by("pk")
        .values("pk", "order_number", "sent_to_fulfillment")
    )
    at_wms = set()
    if wms_account is not None:
        at_wms = set(
            WmsOrder.objects.filter(
                account=wms_account,
                status=WmsOrderStatus.OPEN,
                reference_num__in=[c["order_number"] for c in candidates],
            ).values_list("reference_num", flat=True)
        )
    candidates.sort(key=lambda c: (c["order_number"] not in at_wms, not c["sent_to_fulfillment"], c["pk"]))
    chosen = candidates[:count]
    OmOrder.objects.filter(pk__in=[c["pk"] for c in chosen]).update(
        status=OrderStatus.CANCELLED,
        modified_date=clock.now(),
        cancel_reason_type=reason_type,
        cancel_reason_details=details,
    )
    return [
        {"orderId": c["pk"], "orderNumber": c["order_number"], "at_wms": c["order_number"] in at_wms} for c in chosen
    ]


def unknown_at_wms(wms_account: WmsAccount, om_order: OmOrder) -> dict:
    """Create, at the WMS, the order the hub would send for `om_order` (referenceNum its number, poNum
    its id, its lines by SKU), as if the hub had sent it; the hub has no record of it.

    ValueError when the WMS already has a live order with that referenceNum, or when a line's SKU
    is not in the WMS item master (the WMS never creates items from an order).
    """
    lines = list(om_order.items.select_related("product").order_by("pk"))
    items = {
        item.sku: item
        for item in WmsItem.objects.filter(
            account=wms_account, customer_id=None, sku__in=[line.product.master_sku for line in lines]
        )
    }
    missing = sorted({line.product.master_sku for line in lines} - set(items))
    if missing:
        raise ValueError(f"SKU(s) not in the WMS item master: {', '.join(missing)}")
    live = WmsOrder.objects.filter(account=wms_account, customer_id=wms_account.customer_id)
    if live.filter(reference_num=om_order.order_number).exclude(status=WmsOrderStatus.CANCELED).exists():
        raise ValueError(f"The WMS already has a live order with referenceNum {om_order.order_number}")
    now = clock.now()
    with transaction.atomic():
        order = WmsOrder.objects.create(
            account=wms_account,
            reference_num=om_order.order_number,
            po_num=str(om_order.pk),
            customer_id=wms_account.customer_id,
            facility_id=wms_account.facility_id,
            creation_date=now,
            last_modified_date=now,
            ship_to={"name": om_order.ship_name, "address1": om_order.ship_address1, "city": om_order.ship_city},
            notes="Entered outside the hub (sandbox: unknown at the WMS)",
        )
        WmsOrderItem.objects.bulk_create(
            [
                WmsOrderItem(
                    order=order, item=items[line.product.master_sku], sku=line.product.master_sku, qty=line.quantity
                )
                for line in lines
            ]
        )
    return {"orderId": order.pk, "referenceNum": order.reference_num, "poNum": order.po_num}
