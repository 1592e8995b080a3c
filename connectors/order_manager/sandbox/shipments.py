"""Sandbox Order Manager shipments: `PUT /v1.1/shipment/external`.

A body that is not a valid `externalShipment` (no `shipments` array, a shipment without tracking
number, an unknown carrier or delivery status, a bad ship date) is refused whole with a 400, as
bean validation does. Otherwise each shipment is answered in request order: recorded and its
order marked SHIPPED, or FAILED with a `processingMessage` (unknown order, cancelled order).

The account's `tracking_drop_rate` (`connectors.sandbox.discrepancies`, one draw per shipment that
would be recorded) answers a shipment SHIPPED / "Shipment recorded" and stores nothing: no
shipment row, the order keeps its status (a tracking write lost on the way).
"""

from django.db import transaction
from django.views.decorators.http import require_http_methods

from connectors.om_enums import DELIVERY_STATUSES, SHIPPING_CARRIERS
from connectors.order_manager.sandbox import render as om_render
from connectors.order_manager.sandbox.orders import next_batch_number
from connectors.order_manager.sandbox.protocol import bad_request, json_response, om_query
from connectors.sandbox import clock, discrepancies
from connectors.sandbox.api import BadRequest, fault_config, json_body, om_api
from connectors.sandbox.models import InjectedFault, OmOrder, OmShipment, OrderStatus


def _identifier(row: OmOrder) -> dict:
    return {"orderId": row.pk, "orderNumber": row.order_number, "salesChannelId": row.sales_channel_id}


def _parse_shipments(body) -> list[dict]:
    """Validate an `externalShipment` body as bean validation would: 400 for the whole request."""
    if not isinstance(body, dict) or not isinstance(body.get("shipments"), list):
        raise BadRequest("Body must be an externalShipment object with a `shipments` array")
    parsed = []
    for position, item in enumerate(body["shipments"], start=1):
        if not isinstance(item, dict):
            raise BadRequest(f"shipments[{position}] must be an object")
        tracking = item.get("trackingNumber")
        if not isinstance(tracking, str) or not tracking.strip():
            raise BadRequest(f"shipments[{position}].trackingNumber is required")
        method = item.get("shipMethod")
        carrier = method.get("shippingCarrier") if isinstance(method, dict) else None
        if carrier not in SHIPPING_CARRIERS:
            raise BadRequest(f"shipments[{position}].shipMethod.shippingCarrier “{carrier}” is not a known carrier")
        status = item.get("deliveryStatus")
        if status is not None and status not in DELIVERY_STATUSES:
            raise BadRequest(f"shipments[{position}].deliveryStatus “{status}” is not valid")
        ship_date = clock.now()
        if item.get("shipDate"):
            try:
                ship_date = clock.om_parse(str(item["shipDate"]))
            except ValueError as exc:
                raise BadRequest(f"shipments[{position}].shipDate: {exc}") from None
        service = method.get("shippingServiceId")
        parsed.append(
            {
                "orderId": item.get("orderId"),
                "orderNumber": item.get("orderNumber"),
                "salesChannelId": item.get("salesChannelId"),
                "tracking": tracking.strip(),
                "carrier": carrier,
                "service": service if isinstance(service, int) else None,
                "ship_date": ship_date,
            }
        )
    return parsed


@om_api
@om_query("/v1.1/shipment/external")
@require_http_methods(["PUT"])
def external_shipment(request, account):
    """`PUT /v1.1/shipment/external`: records each shipment and marks its order SHIPPED.

    Answers an array of `batchedOrder`, one per shipment in request order: SHIPPED with the recorded
    `shipment`, or FAILED with a `processingMessage` (unknown order, cancelled order). A tracking
    number sent twice is recorded twice, so duplicate confirmations stay visible.
    """
    try:
        shipments = _parse_shipments(json_body(request))
    except BadRequest as exc:
        return bad_request(exc)
    by_id = OmOrder.objects.filter(
        account=account, pk__in=[s["orderId"] for s in shipments if isinstance(s["orderId"], int)]
    )
    numbers = [s["orderNumber"] for s in shipments if s["orderId"] is None and s["orderNumber"]]
    orders_by_id = {row.pk: row for row in by_id.select_related("warehouse")}
    orders_by_number = {
        (row.order_number, row.sales_channel_id): row
        for row in OmOrder.objects.filter(account=account, order_number__in=numbers).select_related("warehouse")
    }
    now = clock.now()
    answers, dropped = [], []
    config = fault_config(account)
    with transaction.atomic():
        batch_number = next_batch_number(account)
        for item in shipments:
            if item["orderId"] is not None:
                row = orders_by_id.get(item["orderId"])
                wanted = f"orderId {item['orderId']}"
            elif item["orderNumber"] and item["salesChannelId"] is not None:
                row = orders_by_number.get((item["orderNumber"], item["salesChannelId"]))
                wanted = f"orderNumber {item['orderNumber']} (sales channel {item['salesChannelId']})"
            else:
                row, wanted = None, None
            given = {k: item[k] for k in ("orderId", "orderNumber", "salesChannelId") if item[k] is not None}
            if row is None:
                message = f"Order not found: {wanted}" if wanted else "Give orderId, or orderNumber with salesChannelId"
                answers.append(
                    {"order": given, "orderBatchNumber": batch_number, "status": "FAILED", "processingMessage": message}
                )
                continue
            if row.status == OrderStatus.CANCELLED:
                answers.append(
                    {
                        "order": _identifier(row),
                        "orderBatchNumber": batch_number,
                        "status": "FAILED",
                        "processingMessage": f"Order {row.order_number} is CANCELLED and cannot be shipped",
                    }
                )
                continue
            record = OmShipment(
                order=row,
                tracking_number=item["tracking"],
                shipping_carrier=item["carrier"],
                shipping_service_id=item["service"],
                ship_date=item["ship_date"],
                created=now,
                batch_number=batch_number,
            )
            if discrepancies.hits(account, config, "tracking_drop_rate", 1)[0]:
                dropped.append(
                    (row.pk, f"{row.order_number}: tracking {item['tracking']} answered recorded, not stored")
                )
            else:
                record.save()
                row.status, row.ship_date, row.modified_date = OrderStatus.SHIPPED, item["ship_date"], now
                row.save(update_fields=["status", "ship_date", "modified_date"])
            answers.append(
                {
                    "order": _identifier(row),
                    "orderBatchNumber": batch_number,
                    "status": "SHIPPED",
                    "processingMessage": "Shipment recorded",
                    "shipment": om_render.shipment(record, row),
                }
            )
        discrepancies.record(config, InjectedFault.Kind.TRACKING_DROPPED, dropped)
    return json_response(answers)
