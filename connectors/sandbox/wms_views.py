"""Sandbox Extensiv 3PL Warehouse Manager REST API, served under /sandbox/warehouse-manager/.

Follows the WMS part of `docs/wire-protocols.md`: client-credentials token at
`AuthServer/api/Token` (Basic client_id:secret), collections paged with `pgsiz`/`pgnum` and
filtered with `rql`, negotiated (HAL camelCase only for `Accept: application/hal+json`, plain
PascalCase JSON otherwise: WMS-2), ETag on single-order answers, `If-Match` on the canceler (428 without, 412 when
stale), .NET-style error bodies (`$type`, `ErrorCode`, `Hint`, `Message`), timestamps in the
facility's time zone without an offset.
"""

import base64
import binascii
import datetime
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import F, Prefetch
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_http_methods

from . import clock, faults, query_parameters, wms_render, wms_rql
from .api import BadRequest, fault_config, json_body, sandbox_endpoint, wms_api
from .models import (
    WmsAccount,
    WmsItem,
    WmsOrder,
    WmsOrderItem,
    WmsOrderStatus,
    WmsPackage,
    WmsStock,
    WmsToken,
    hash_secret,
    new_token,
)

TOKEN_LIFETIME = 3600
ORDERS_PAGE = (100, 1000)  # default, maximum pgsiz
SUMMARIES_PAGE = (100, 500)


HAL = "application/hal+json; charset=utf-8"


def _json(data, status=200, content_type="application/json") -> JsonResponse:
    return JsonResponse(
        data, status=status, safe=False, content_type=content_type, json_dumps_params={"ensure_ascii": False}
    )


def _hal(request) -> bool:
    return wms_render.wants_hal(request.headers.get("Accept", ""))


def _resource(request, data: dict, status: int = 200) -> JsonResponse:
    """One resource, negotiated: HAL camelCase for `Accept: application/hal+json`, else plain PascalCase."""
    if _hal(request):
        return _json(data, status, content_type=HAL)
    return _json(wms_render.pascal(data), status)


def _model_error(code: str, message: str, *, hint: str = "", properties=None) -> JsonResponse:
    return _json(wms_render.error("ModelValidationException", code, message, hint=hint, properties=properties), 400)


def _query_error(message: str, *, parameter: str = "rql", unsupported: str = "") -> JsonResponse:
    """400 QueryParameterException, as Rels/exceptions shows it (Njdonatelli/Extensiv-MCP-Server
    docs/research/api_reference_notes.md): `"Parameters":["rql"]`, `"ErrorCode":"NotParsable"`,
    `"Hint":"Properties not supported: gorp"`; the refused property is also listed in `Properties`."""
    return _json(
        wms_render.error(
            "QueryParameterException",
            "NotParsable",
            message,
            hint=message,
            parameters=[parameter],
            properties={unsupported: None} if unsupported else None,
        ),
        400,
    )


def wms_query(**allowed_by_method: tuple[str, ...]):
    """Refuse query parameters no client of the real API sends to this endpoint and method (400
    QueryParameterException naming them); methods not listed are not checked (405 comes first)."""
    return query_parameters.refuse_unknown(
        lambda method: allowed_by_method.get(method),
        lambda names: _query_error(f"Unknown query parameter(s): {', '.join(names)}", parameter=names[0]),
    )


PAGED = ("pgsiz", "pgnum", "rql", "sort")


def _rql_error(exc: wms_rql.RqlError) -> JsonResponse:
    return _query_error(str(exc), unsupported=exc.unsupported)


def _bool(text: str) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise ValueError("expected true or false")
    return lowered == "true"


# ------------------------------------------------------------------ token


def _basic_credentials(request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = base64.b64decode(value.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (client_id, secret) if sep else None


def _login_refusal(account: WmsAccount, body: dict) -> JsonResponse | None:
    """The account is keyed by one of `user_login` / `user_login_id` (docs/wire-protocols.md WMS-1);
    the other field, both at once, or a value that is not the account's user are refused.

    The real service's refusal body is not documented: the OAuth-style `invalid_grant` here is
    the sandbox's choice (unverified); what matters is that the token call fails.
    """
    kind = account.login_kind
    other = "user_login_id" if kind == "user_login" else "user_login"
    if body.get(other) not in (None, ""):
        return _json(
            {"error": "invalid_grant", "error_description": f"This client is not set up for {other}; send {kind}"}, 400
        )
    value = body.get(kind)
    if value in (None, ""):
        return _json({"error": "invalid_request", "error_description": f"{kind} is required"}, 400)
    if str(value).strip() != account.user_login:
        return _json({"error": "invalid_grant", "error_description": f"Unknown {kind} for this client"}, 400)
    return None


@sandbox_endpoint
@require_http_methods(["POST"])
def token(request):
    """`POST /AuthServer/api/Token`: Basic client_id:secret, JSON grant_type client_credentials."""
    credentials = _basic_credentials(request)
    account = None
    if credentials:
        account = WmsAccount.objects.select_related("faults").filter(client_id=credentials[0]).first()
    if account is None or not account.check_secret(credentials[1]):
        return _json({"error": "invalid_client"}, 401)
    try:
        body = json_body(request)
    except BadRequest:
        return _json({"error": "invalid_request", "error_description": "The body must be JSON"}, 400)
    if not isinstance(body, dict) or body.get("grant_type") != "client_credentials":
        return _json({"error": "unsupported_grant_type"}, 400)
    refused = _login_refusal(account, body)
    if refused is not None:
        return refused

    def issue():
        value = new_token()
        WmsToken.objects.create(
            account=account,
            digest=hash_secret(value),
            expires_at=clock.now() + datetime.timedelta(seconds=TOKEN_LIFETIME),
        )
        return _json(
            {
                "access_token": value,
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME,
                "refresh_token": None,
                "scope": None,
            }
        )

    config = fault_config(account)
    if config is not None and config.apply_to_token_endpoint:
        return faults.apply(faults.WMS, account.pk, config, issue)
    return issue()


# ------------------------------------------------------------------ orders


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


def _paging(request, default: int, maximum: int) -> tuple[int, int]:
    try:
        size = int(request.GET.get("pgsiz") or default)
        number = int(request.GET.get("pgnum") or 1)
    except ValueError:
        raise BadRequest("pgsiz and pgnum must be integers") from None
    if not 1 <= size <= maximum:
        raise BadRequest(f"pgsiz must be between 1 and {maximum}")
    if number < 1:
        raise BadRequest("pgnum must be 1 or more")
    return size, number


def _orders_queryset(account, detail: set[str]):
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


def _links(path: str, request, size: int, number: int, total: int) -> dict:
    params = request.GET.copy()
    params["pgsiz"] = str(size)

    def href(page):
        params["pgnum"] = str(page)
        return {"href": f"{path}?{params.urlencode()}"}

    links = {"self": href(number)}
    if number * size < total:
        links["next"] = href(number + 1)
    if number > 1:
        links["prev"] = href(number - 1)
    return links


def _list_orders(request, account):
    detail = wms_render.details(request.GET.get("detail", ""))
    try:
        size, number = _paging(request, *ORDERS_PAGE)
        q = wms_rql.parse(request.GET.get("rql", ""), _order_fields(account))
    except wms_rql.RqlError as exc:
        return _rql_error(exc)
    except BadRequest as exc:
        return _query_error(str(exc), parameter="pgsiz")
    order_by = []
    for key in [part.strip() for part in request.GET.get("sort", "").split(",") if part.strip()]:
        descending = key.startswith("-")
        field = SORTS.get(key.lstrip("+-").lower())
        if field is None:
            return _query_error(f"Cannot sort by “{key}”", parameter="sort")
        order_by.append(("-" if descending else "") + field)
    queryset = _orders_queryset(account, detail).filter(q)
    total = queryset.count()
    rows = queryset.order_by(*order_by, "pk")[(number - 1) * size : number * size]
    hal = _hal(request)
    body = wms_render.collection(
        hal,
        total=total,
        rel=wms_render.ORDER_REL,
        items=[wms_render.order(row, account, detail) for row in rows],
        links=_links("/orders", request, size, number, total),
    )
    return _json(body, content_type=HAL if hal else "application/json")


def _parse_order(body, account: WmsAccount) -> tuple[dict, list[tuple[WmsItem, Decimal, str]]]:
    """Validate a create-order body; raises BadRequest with (code, message, property) in args."""
    if not isinstance(body, dict):
        raise BadRequest("Required", "The body must be an order object", "order")
    customer = body.get("customerIdentifier") or {}
    facility = body.get("facilityIdentifier") or {}
    if not isinstance(customer, dict) or not (customer.get("id") or customer.get("name") or customer.get("externalId")):
        raise BadRequest("Required", "customerIdentifier is required", "customerIdentifier")
    if customer.get("id") not in (None, account.customer_id) or (
        customer.get("id") is None and customer.get("name") not in (None, account.customer_name)
    ):
        raise BadRequest(
            "DoesNotExist", f"Customer {customer} does not exist or is not accessible", "customerIdentifier"
        )
    if not isinstance(facility, dict) or not (facility.get("id") or facility.get("name")):
        raise BadRequest("Required", "facilityIdentifier is required", "facilityIdentifier")
    if facility.get("id") not in (None, account.facility_id) or (
        facility.get("id") is None and facility.get("name") != account.facility_name
    ):
        raise BadRequest("DoesNotExist", f"Facility {facility} does not exist for this customer", "facilityIdentifier")
    reference = body.get("referenceNum")
    if not isinstance(reference, str) or not reference.strip():
        raise BadRequest("Required", "referenceNum is required", "referenceNum")
    if len(reference) > 100:
        raise BadRequest("ValueNotSupported", "referenceNum is longer than 100 characters", "referenceNum")
    lines = body.get("orderItems")
    if not isinstance(lines, list) or not lines:
        raise BadRequest("Required", "orderItems must hold at least one item", "orderItems")
    wanted = []
    for position, line in enumerate(lines):
        ident = line.get("itemIdentifier") if isinstance(line, dict) else None
        if not isinstance(ident, dict) or not (ident.get("sku") or ident.get("id")):
            raise BadRequest(
                "Required", f"orderItems[{position}].itemIdentifier (sku or id) is required", "itemIdentifier"
            )
        try:
            qty = Decimal(str(line.get("qty")))
        except InvalidOperation:
            qty = Decimal(0)
        if not qty.is_finite() or qty <= 0:
            raise BadRequest("Required", f"orderItems[{position}].qty must be a positive number", "qty")
        wanted.append((ident, qty, str(line.get("qualifier") or "")))
    ids = {ident["id"] for ident, _, _ in wanted if ident.get("id")}
    skus = {ident["sku"] for ident, _, _ in wanted if not ident.get("id")}
    own = WmsItem.objects.filter(account=account, customer_id=None)  # the order's customer's item master
    items = list(own.filter(sku__in=skus)) + list(own.filter(pk__in=ids))
    by_sku = {item.sku: item for item in items}
    by_id = {item.pk: item for item in items}
    resolved = []
    for ident, qty, qualifier in wanted:
        item = by_id.get(ident["id"]) if ident.get("id") else by_sku.get(ident["sku"])
        if item is None:
            shown = ident.get("sku") or f"id {ident.get('id')}"
            raise BadRequest(
                "DoesNotExist",
                f"Item SKU “{shown}” does not exist for customer {account.customer_id}; create it in the item master first",
                "itemIdentifier",
            )
        resolved.append((item, qty, qualifier))
    return body, resolved


def _create_order(request, account):
    try:
        body, lines = _parse_order(json_body(request), account)
    except BadRequest as exc:
        if len(exc.args) == 3:
            code, message, prop = exc.args
            return _model_error(code, message, properties={prop: None})
        return _model_error("Required", str(exc))
    reference = body["referenceNum"].strip()
    now = clock.now()
    duplicate_message = f"An order with referenceNum “{reference}” already exists for customer {account.customer_id}"
    if (
        WmsOrder.objects.filter(account=account, customer_id=account.customer_id, reference_num=reference)
        .exclude(status=WmsOrderStatus.CANCELED)
        .exists()
    ):
        return _model_error("Duplicate", duplicate_message, hint="ReferenceNum must be unique per customer")
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
        return _model_error("Duplicate", duplicate_message, hint="ReferenceNum must be unique per customer")
    detail = {"orderitems", "packages", "savedelements"}
    order = _orders_queryset(account, detail).get(pk=order.pk)
    response = _resource(request, wms_render.order(order, account, detail), 201)
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


def _not_found(order_id) -> JsonResponse:
    return _json(wms_render.error("ResourceNotFoundException", "NotFound", f"Order {order_id} was not found"), 404)


@wms_api
@wms_query(GET=("detail", "itemdetail"))
@require_http_methods(["GET"])
def order_detail(request, account, order_id):
    """`GET /orders/{id}` with its ETag."""
    detail = wms_render.details(request.GET.get("detail", ""))
    order = _orders_queryset(account, detail).filter(pk=order_id).first()
    if order is None:
        return _not_found(order_id)
    response = _resource(request, wms_render.order(order, account, detail))
    response["ETag"] = wms_render.etag(order)
    return response


@wms_api
@wms_query(POST=())
@require_http_methods(["POST"])
def canceler(request, account, order_id):
    """`POST /orders/{id}/canceler`: If-Match required (428), must be current (412), open only (403)."""
    order = WmsOrder.objects.filter(account=account, pk=order_id).first()
    if order is None:
        return _not_found(order_id)
    if_match = request.headers.get("If-Match", "").strip()
    if not if_match:
        return _json(
            wms_render.error(
                "PreconditionRequiredException",
                "PreconditionRequired",
                "The If-Match header with the order's ETag is required",
            ),
            428,
        )
    if if_match.removeprefix("W/") != wms_render.etag(order):
        return _json(
            wms_render.error(
                "PreconditionFailedException",
                "PreconditionFailed",
                "The order changed since it was read; GET it again for a fresh ETag",
            ),
            412,
        )
    if order.status != WmsOrderStatus.OPEN:
        code = "OrderConfirmed" if order.status == WmsOrderStatus.CLOSED else "OrderCanceled"
        return _json(
            wms_render.error(
                "OperationException",
                code,
                f"Order {order.pk} is {order.get_status_display().lower()} and cannot be canceled",
            ),
            403,
        )
    try:
        body = json_body(request)
    except BadRequest as exc:
        return _model_error("Required", str(exc))
    reason = body.get("reason") if isinstance(body, dict) else None
    if not isinstance(reason, str) or not reason.strip():
        return _model_error("Required", "reason is required", properties={"reason": None})
    updated = WmsOrder.objects.filter(pk=order.pk, version=order.version, status=WmsOrderStatus.OPEN).update(
        status=WmsOrderStatus.CANCELED,
        version=F("version") + 1,
        last_modified_date=clock.now(),
        cancel_reason=reason.strip(),
    )
    if not updated:
        # Changed between our read and our write: the same answer a stale If-Match gets.
        return _json(
            wms_render.error(
                "PreconditionFailedException",
                "PreconditionFailed",
                "The order changed since it was read; GET it again for a fresh ETag",
            ),
            412,
        )
    order.refresh_from_db()
    response = HttpResponse(status=204)
    response["ETag"] = wms_render.etag(order)
    return response


# ------------------------------------------------------------------ inventory


def _summary_fields() -> dict[str, wms_rql.Field]:
    """RQL properties on `/inventory/stocksummaries`: none. No citable client sends any there
    (airbytehq/airbyte source-tplcentral streams.py class StockSummaries and
    singer-io/tap-3plcentral sync.py send no rql; `customeridentifier.id` was only inferred, by
    Njdonatelli/Extensiv-MCP-Server's notes, and a summary row has no customer field), so every
    property is refused with the real 400 (stricter than the real service)."""
    return {}


@wms_api
@wms_query(GET=("pgsiz", "pgnum", "rql"))
@require_http_methods(["GET"])
def stock_summaries(request, account):
    """`GET /inventory/stocksummaries`: `{totalResults, summaries}` (not HAL), pgsiz at most 500.

    Every row the credential sees, including other customers' items in the same facility (a row
    names no customer), as in a 3PL's shared facility."""
    try:
        size, number = _paging(request, *SUMMARIES_PAGE)
        q = wms_rql.parse(request.GET.get("rql", ""), _summary_fields())
    except wms_rql.RqlError as exc:
        return _rql_error(exc)
    except BadRequest as exc:
        return _query_error(str(exc), parameter="pgsiz")
    queryset = WmsStock.objects.filter(account=account).filter(q)
    total = queryset.count()
    rows = queryset.select_related("item").order_by("pk")[(number - 1) * size : number * size]
    summaries = [wms_render.stock_summary(row) for row in rows]
    if _hal(request):  # not _embedded even in HAL (ExtensivSharp Models/Inventory/StockSummaryList.cs)
        return _json({"totalResults": total, "summaries": summaries}, content_type=HAL)
    return _json({"TotalResults": total, "Summaries": wms_render.pascal(summaries)})


ITEMS_PAGE = (10, 100)  # default, maximum pgsiz (vendor rel page, quoted by Njdonatelli/Extensiv-MCP-Server)


@wms_api
@wms_query(GET=PAGED)
@require_http_methods(["GET"])
def customer_items(request, account, customer_id):
    """`GET /customers/{id}/items`: the customer's item master, paged (`pgsiz` 1..100, default 10).

    Evidence: Drewcrandall/ExtensivSharp Endpoints/Items/GET_Items.cs and Models/Items/EmbeddedItems.cs
    (rel `http://api.3plCentral.com/rels/customers/item`); airbytehq/airbyte source-tplcentral
    streams.py class Items (`ResourceList`, page size 100). No RQL property is supported (the hub
    sends none). A customer the credential does not see is a 404.
    """
    own = customer_id == account.customer_id
    items = WmsItem.objects.filter(account=account, customer_id=None if own else customer_id)
    if not own and not items.exists():
        return _json(
            wms_render.error("ResourceNotFoundException", "NotFound", f"Customer {customer_id} was not found"), 404
        )
    try:
        size, number = _paging(request, *ITEMS_PAGE)
        q = wms_rql.parse(request.GET.get("rql", ""), {})
    except wms_rql.RqlError as exc:
        return _rql_error(exc)
    except BadRequest as exc:
        return _query_error(str(exc), parameter="pgsiz")
    queryset = items.filter(q)
    total = queryset.count()
    rows = queryset.order_by("pk")[(number - 1) * size : number * size]
    hal = _hal(request)
    body = wms_render.collection(
        hal,
        total=total,
        rel=wms_render.CUSTOMER_ITEM_REL,
        items=[wms_render.item(row, customer_id) for row in rows],
        links=_links(f"/customers/{customer_id}/items", request, size, number, total),
    )
    return _json(body, content_type=HAL if hal else "application/json")
