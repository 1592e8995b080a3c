"""Sandbox Order Manager orders: `GET /v1.1/orders`, `GET /v1.1/orders/{orderId}` and
`POST /v1/orders/sendtofulfillment`.

Reads filter as the spec says (status, warehouse, sales channel, ids, products, an order-number
prefix, date ranges), ordered by orderId, paged; an unknown status or a malformed parameter is a
422, an order the account does not have a 404. Send-to-fulfillment moves at most `SEND_BATCH`
AWAITING_3PL_EXPORT / AWAITING_DROPSHIP orders to PENDING_FULFILLMENT in one numbered batch
(`next_batch_number`, shared with the shipment endpoint) and lists every named order it could not
send in `errors[]`.

Two discrepancy faults of the account (`connectors.sandbox.discrepancies`) act here: a list read
over a window (not naming orders by `orderId` or `orderNumber`) may leave orders out
(`drop_order_*`), and send-to-fulfillment may answer an order sent that keeps its status
(`export_mark_loss_rate`).
"""

from django.db import transaction
from django.db.models import F, Prefetch, Q
from django.views.decorators.http import require_http_methods

from connectors.order_manager.sandbox import render as om_render
from connectors.order_manager.sandbox.protocol import (
    InvalidParameter,
    invalid_parameter,
    json_response,
    om_query,
    prefix_match,
    query_date_range,
    query_int,
    query_ints,
    query_page,
    query_strings,
)
from connectors.sandbox import clock, discrepancies
from connectors.sandbox.api import fault_config, om_api
from connectors.sandbox.models import InjectedFault, OmAccount, OmOrder, OmOrderItem, OmShipment, OrderStatus

SENDABLE = (OrderStatus.AWAITING_3PL_EXPORT, OrderStatus.AWAITING_DROPSHIP)
SEND_BATCH = 500


def next_batch_number(account) -> int:
    """The account's next order batch number, counted in the database; call it inside the write's transaction."""
    OmAccount.objects.filter(pk=account.pk).update(last_batch_number=F("last_batch_number") + 1)
    return OmAccount.objects.values_list("last_batch_number", flat=True).get(pk=account.pk)


def _orders_queryset(account):
    return (
        OmOrder.objects.filter(account=account)
        .select_related("warehouse")
        .prefetch_related(
            Prefetch("items", queryset=OmOrderItem.objects.select_related("product").order_by("pk")),
            Prefetch("shipments", queryset=OmShipment.objects.order_by("pk")),
        )
    )


@om_api
@om_query("/v1.1/orders")
@require_http_methods(["GET"])
def orders(request, account):
    """`GET /v1.1/orders`: filters of the spec, ordered by orderId, bare array."""
    try:
        statuses = query_strings(request, "status")
        unknown = [s for s in statuses if s not in OrderStatus.values]
        if unknown:
            raise InvalidParameter(f"status: unknown value(s) {', '.join(unknown)}")
        q = Q()
        if statuses:
            q &= Q(status__in=statuses)
        warehouse_id = query_int(request, "warehouseId", 0)
        if warehouse_id:
            q &= Q(warehouse_id=warehouse_id)
        channel = query_int(request, "salesChannelId", 0)
        if channel:
            q &= Q(sales_channel_id=channel)
        ids = query_ints(request, "orderId")
        if ids:
            q &= Q(pk__in=ids)
        product_ids = query_ints(request, "productId")
        if product_ids:
            q &= Q(pk__in=OmOrderItem.objects.filter(product_id__in=product_ids).values("order_id"))
        numbers = query_strings(request, "orderNumber")
        if numbers:
            q &= prefix_match("order_number", numbers)
        for base, field in (
            ("modifiedDate", "modified_date"),
            ("createdDate", "created_date"),
            ("orderDate", "order_date"),
            ("shipDate", "ship_date"),
        ):
            q &= query_date_range(request, base, field)
        offset, limit = query_page(request, 100)
    except InvalidParameter as exc:
        return invalid_parameter(exc)
    queryset = _orders_queryset(account).filter(q).order_by("pk")
    if ids or numbers:  # orders asked for by name are never left out: the drop fault is a window's
        rows = queryset[offset : offset + limit]
    else:
        rows = discrepancies.window_rows(account, fault_config(account), queryset, offset, limit)
    return json_response([om_render.order(row) for row in rows])


@om_api
@om_query("/v1.1/orders/{orderId}")
@require_http_methods(["GET"])
def order_detail(request, account, order_id):
    """`GET /v1.1/orders/{orderId}`; 404 when the account has no such order."""
    row = _orders_queryset(account).filter(pk=order_id).first()
    if row is None:
        return json_response({"status": 404, "error": "Not Found", "message": f"Order {order_id} not found"}, 404)
    return json_response(om_render.order(row))


@om_api
@om_query("/v1/orders/sendtofulfillment")
@require_http_methods(["POST"])
def send_to_fulfillment(request, account):
    """`POST /v1/orders/sendtofulfillment`: AWAITING_3PL_EXPORT/AWAITING_DROPSHIP -> PENDING_FULFILLMENT.

    At most 500 orders a call; `ordersRemaining` says when more are eligible. Orders named by id or
    number that do not exist or are not in a sendable status come back in `errors[]`.
    """
    try:
        ids = query_ints(request, "orderId")
        numbers = query_strings(request, "orderNumber")
        channel = query_int(request, "salesChannelId", 0)
        warehouse_id = query_int(request, "warehouseId", 0)
    except InvalidParameter as exc:
        return invalid_parameter(exc)
    if not (ids or numbers or warehouse_id):
        return invalid_parameter("Give orderId, orderNumber (with salesChannelId) or warehouseId")
    selected = OmOrder.objects.filter(account=account)
    named = Q()
    if ids:
        named |= Q(pk__in=ids)
    if numbers:
        named |= Q(order_number__in=numbers, **({"sales_channel_id": channel} if channel else {}))
    if ids or numbers:
        selected = selected.filter(named)
    if warehouse_id:
        selected = selected.filter(warehouse_id=warehouse_id)

    found = list(selected.order_by("pk").values("pk", "order_number", "status", "sales_channel_id"))
    by_id = {row["pk"]: row for row in found}
    by_number = {row["order_number"]: row for row in found}
    errors = []
    requested = [("orderId", value, by_id.get(value)) for value in ids]
    requested += [("orderNumber", value, by_number.get(value)) for value in numbers]
    for index, (field, value, row) in enumerate(requested, start=1):
        if row is None:
            errors.append(
                om_render.validation_detail(
                    index, "NOT_FOUND", f"Order {value} not found", field=field, identifier={field: value}
                )
            )
        elif row["status"] not in SENDABLE:
            errors.append(
                om_render.validation_detail(
                    index,
                    "INVALID_ORDER_STATUS",
                    f"Order {row['order_number']} is {row['status']}; only AWAITING_3PL_EXPORT or AWAITING_DROPSHIP orders can be sent",
                    field="orderStatus",
                    identifier={"orderId": row["pk"]},
                )
            )
    eligible = [row for row in found if row["status"] in SENDABLE]
    batch, remaining = eligible[:SEND_BATCH], len(eligible) > SEND_BATCH
    now = clock.now()
    config = fault_config(account)
    hit = discrepancies.hits(account, config, "export_mark_loss_rate", len(batch))
    lost = [row for row, lose in zip(batch, hit, strict=True) if lose]
    kept = {row["pk"] for row in lost}
    with transaction.atomic():
        batch_number = next_batch_number(account)
        OmOrder.objects.filter(
            pk__in=[row["pk"] for row in batch if row["pk"] not in kept], status__in=SENDABLE
        ).update(status=OrderStatus.PENDING_FULFILLMENT, modified_date=now, sent_to_fulfillment=True)
        discrepancies.record(
            config,
            InjectedFault.Kind.EXPORT_MARK_LOST,
            ((row["pk"], f"{row['order_number']} answered sent, kept {row['status']}") for row in lost),
        )
    batched = [
        {
            "order": {
                "orderId": row["pk"],
                "orderNumber": row["order_number"],
                "salesChannelId": row["sales_channel_id"],
            },
            "orderBatchNumber": batch_number,
            "status": "PENDING",
        }
        for row in batch
    ]
    return json_response(
        {
            "message": f"{len(batch)} order(s) sent to fulfillment",
            "errors": errors,
            "ordersRemaining": remaining,
            "results": {str(row["pk"]): OrderStatus.PENDING_FULFILLMENT for row in batch},
            "orderBatch": {
                "batchNumber": batch_number,
                "created": clock.om_format(now),
                "processedCount": len(batch),
                "failedCount": len(errors),
                "orders": batched,
            },
        }
    )
