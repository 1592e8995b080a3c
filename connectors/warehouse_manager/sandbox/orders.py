"""Sandbox Warehouse Manager orders: `GET /orders`, `POST /orders` and `GET /orders/{id}`.

The collection is filtered with the RQL properties real clients send (anything else is a 400
"Properties not supported"), sorted by the `SORTS` keys, paged (`ORDERS_PAGE`) and negotiated
(HAL or plain). A create answers 201 with the order, its ETag and Location, or the service's
400 (a body `wms_order_body.parse_order` refuses, a `referenceNum` the customer already has on an
order that is not canceled: `Duplicate`). A single order answers with its ETag, 404 when the
credential has no such order.
"""

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.views.decorators.http import require_http_methods

from connectors.sandbox import clock
from connectors.sandbox.api import BadRequest, json_body, wms_api
from connectors.sandbox.models import WmsAccount, WmsOrder, WmsOrderItem, WmsOrderStatus, WmsPackage
from connectors.warehouse_manager.sandbox import render as wms_render
from connectors.warehouse_manager.sandbox import rql as wms_rql
from connectors.warehouse_manager.sandbox.order_body import parse_order
from connectors.warehouse_manager.sandbox.protocol import (
    HAL,
    PAGED,
    hal_requested,
    json_response,
    model_error,
    order_not_found,
    page_links,
    paging,
    query_error,
    resource,
    rql_error,
    wms_query,
)

ORDERS_PAGE = (100, 1000)  # default, maximum pgsiz


def _bool(text: str) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise ValueError("expected true or false")
    return lowered == "true"


def _order_fields(account: WmsAccount) -> dict[str, wms_rql.Field]:
    """The RQL properties `GET /orders` accepts: only those a real client is seen to send.

    Evidence: airbytehq/airbyte airbyte-integrations/connectors/source-tplcentral/source_tplcentral/streams.py
    (class Orders: `ReadOnly.CustomerIdentifier.Id`, `ReadOnly.FacilityIdentifier.Id`,
    `ReadOnly.LastModifiedDate=ge=`); singer-io/tap-3plcentral tap_3plcentral/sync.py
    (`ReadOnly.lastModifiedDate`); Drewcrandall/ExtensivSharp Endpoints/Orders/GET_OrderByReferenceNumber.cs
    (`referenceNum==`); `readonly.creationdate` and `readonly.isclosed` are the examples of the
    vendor's Rels/rql page (quoted by Njdonatelli/Extensiv-MCP-Server docs/research/api_reference_notes.md).
    Names compare without case (same page). Anything else, including the un-prefixed
    `customerIdentifier.id` no client uses on orders, is a 400 "Properties not supported" (stricter).
    """

    def local_time(text):
        return clock.wms_parse(text, account.facility_time_zone)

    return {
        "referencenum": wms_rql.Field("reference_num", wildcard=True),
        "readonly.customeridentifier.id": wms_rql.Field("customer_id", int),
        "readonly.facilityidentifier.id": wms_rql.Field("facility_id", int),
        "readonly.lastmodifieddate": wms_rql.Field("last_modified_date", local_time),
        "readonly.creationdate": wms_rql.Field("creation_date", local_time),
        "readonly.isclosed": wms_rql.Field("status", lambda text: 1 if _bool(text) else 0),
    }


def orders_queryset(account, detail: set[str]):
    queryset = WmsOrder.objects.filter(account=account)
    if "orderitems" in detail:
        queryset = queryset.prefetch_related(Prefetch("items", queryset=WmsOrderItem.objects.order_by("pk")))
    if "packages" in detail:
        queryset = queryset.prefetch_related(Prefetch("packages", queryset=WmsPackage.objects.order_by("pk")))
    return queryset


SORTS = {
    "readonly.lastmodifieddate": "last_modified_date",
    "readonly.orderid": "pk",
    "referencenum": "reference_num",
    "readonly.creationdate": "creation_date",
}


def _list_orders(request, account):
    detail = wms_render.details(request.GET.get("detail", ""))
    try:
        size, number = paging(request, *ORDERS_PAGE)
        q = wms_rql.parse(request.GET.get("rql", ""), _order_fields(account))
    except wms_rql.RqlError as exc:
        return rql_error(exc)
    except BadRequest as exc:
        return query_error(str(exc), parameter="pgsiz")
    order_by = []
    for key in [part.strip() for part in request.GET.get("sort", "").split(",") if part.strip()]:
        descending = key.startswith("-")
        field = SORTS.get(key.lstrip("+-").lower())
        if field is None:
            return query_error(f"Cannot sort by “{key}”", parameter="sort")
        order_by.append(("-" if descending else "") + field)
    queryset = orders_queryset(account, detail).filter(q)
    total = queryset.count()
    rows = queryset.order_by(*order_by, "pk")[(number - 1) * size : number * size]
    hal = hal_requested(request)
    body = wms_render.collection(
        hal,
        total=total,
        rel=wms_render.ORDER_REL,
        items=[wms_render.order(row, account, detail) for row in rows],
        links=page_links("/orders", request, size, number, total),
    )
    return json_response(body, content_type=HAL if hal else "application/json")


def _create_order(request, account):
    try:
        body, lines = parse_order(json_body(request), account)
    except BadRequest as exc:
        if len(exc.args) == 3:
            code, message, prop = exc.args
            return model_error(code, message, properties={prop: None})
        return model_error("Required", str(exc))
    reference = body["referenceNum"].strip()
    now = clock.now()
    duplicate_message = f"An order with referenceNum “{reference}” already exists for customer {account.customer_id}"
    if (
        WmsOrder.objects.filter(account=account, customer_id=account.customer_id, reference_num=reference)
        .exclude(status=WmsOrderStatus.CANCELED)
        .exists()
    ):
        return model_error("Duplicate", duplicate_message, hint="ReferenceNum must be unique per customer")
    try:
        with transaction.atomic():
            order = WmsOrder.objects.create(
                account=account,
                reference_num=reference,
                customer_id=account.customer_id,
                facility_id=account.facility_id,
                creation_date=now,
                last_modified_date=now,
                po_num=str(body.get("poNum") or ""),
                notes=str(body.get("notes") or ""),
                shipping_notes=str(body.get("shippingNotes") or ""),
                billing_code=str(body.get("billingCode") or ""),
                routing_info=body.get("routingInfo") if isinstance(body.get("routingInfo"), dict) else {},
                ship_to=body.get("shipTo") if isinstance(body.get("shipTo"), dict) else {},
                saved_elements=body.get("savedElements") if isinstance(body.get("savedElements"), list) else [],
            )
            WmsOrderItem.objects.bulk_create(
                [
                    WmsOrderItem(order=order, item=item, sku=item.sku, qty=qty, qualifier=qualifier)
                    for item, qty, qualifier in lines
                ]
            )
    except IntegrityError:
        # Lost a race with a concurrent create of the same referenceNum: the constraint decided.
        return model_error("Duplicate", duplicate_message, hint="ReferenceNum must be unique per customer")
    detail = {"orderitems", "packages", "savedelements"}
    order = orders_queryset(account, detail).get(pk=order.pk)
    response = resource(request, wms_render.order(order, account, detail), 201)
    response["ETag"] = wms_render.etag(order)
    response["Location"] = f"/orders/{order.pk}"
    return response


@wms_api
@wms_query(GET=PAGED + ("detail", "itemdetail"), POST=())
@require_http_methods(["GET", "POST"])
def orders(request, account):
    """`GET /orders` (HAL collection) and `POST /orders` (201 + ETag)."""
    if request.method == "POST":
        return _create_order(request, account)
    return _list_orders(request, account)


@wms_api
@wms_query(GET=("detail", "itemdetail"))
@require_http_methods(["GET"])
def order_detail(request, account, order_id):
    """`GET /orders/{id}` with its ETag."""
    detail = wms_render.details(request.GET.get("detail", ""))
    order = orders_queryset(account, detail).filter(pk=order_id).first()
    if order is None:
        return order_not_found(order_id)
    response = resource(request, wms_render.order(order, account, detail))
    response["ETag"] = wms_render.etag(order)
    return response
