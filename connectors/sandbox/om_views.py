"""Sandbox Extensiv Order Manager API (formerly Skubana), served under /sandbox/order-manager/.

Wire behaviour follows the vendor's OpenAPI spec and `docs/wire-protocols.md`: an app install (OAuth2 authorization code:
`/oauth/authorize`, then `/oauth/token` with Basic app credentials; no password grant), bearer auth, bare JSON arrays paged with `page` (from 1) and `limit`, 422 on
a bad query parameter, 400 on a bad body, prefix search on `sku` and `orderNumber`, bulk writes
answering 200 with per-item `errors[]` (ERR053 unknown product, ERR097 no product stock, 1-based
`index`).
"""

import base64
import datetime
from urllib.parse import urlencode, urlsplit

from django.db import transaction
from django.db.models import F, Prefetch, Q, Sum
from django.db.models.functions import Substr, Upper
from django.db.models.lookups import In
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from . import clock, faults, om_render, query_parameters
from .api import BadRequest, fault_config, json_body, om_api, sandbox_endpoint
from .carriers import DELIVERY_STATUSES, SHIPPING_CARRIERS
from .models import (
    OmAccount,
    OmApp,
    OmAuthCode,
    OmOrder,
    OmOrderItem,
    OmProduct,
    OmShipment,
    OmStock,
    OmToken,
    OrderStatus,
    hash_secret,
    new_token,
)

MAX_LIMIT = 1000
SENDABLE = (OrderStatus.AWAITING_3PL_EXPORT, OrderStatus.AWAITING_DROPSHIP)
SEND_BATCH = 500


def om_query(spec_path: str):
    """Refuse query parameters the spec does not declare for this operation (422, the spec's answer)."""
    return query_parameters.refuse_unknown(
        lambda method: query_parameters.spec_query_parameters(method, spec_path),
        lambda names: _json(
            {
                "status": 422,
                "error": "Invalid parameter specified",
                "message": f"Unknown query parameter(s): {', '.join(names)}",
            },
            422,
        ),
    )


class InvalidParameter(Exception):
    """Answered 422 "Invalid parameter specified", as the spec says."""


def _json(data, status=200) -> JsonResponse:
    return JsonResponse(data, status=status, safe=False)


def _invalid_parameter(exc) -> JsonResponse:
    return _json({"status": 422, "error": "Invalid parameter specified", "message": str(exc)}, 422)


def _bad_request(exc) -> JsonResponse:
    return _json({"status": 400, "error": "Bad Request", "message": str(exc)}, 400)


# ------------------------------------------------------------------ query parameters


def _int(request, name, default=None, *, minimum=None, maximum=None):
    raw = request.GET.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidParameter(f"{name}: “{raw}” is not an integer") from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise InvalidParameter(f"{name}: {value} is out of range [{minimum}, {maximum}]")
    return value


def _ints(request, name) -> list[int]:
    values = []
    for raw in request.GET.getlist(name):
        for part in raw.split(","):
            if part.strip():
                try:
                    values.append(int(part))
                except ValueError:
                    raise InvalidParameter(f"{name}: “{part}” is not an integer") from None
    return values


def _strings(request, name) -> list[str]:
    return [v for raw in request.GET.getlist(name) for v in raw.split(",") if v.strip()]


def _date_range(request, base: str, field: str) -> Q:
    q = Q()
    for suffix, lookup in (("From", "gte"), ("To", "lte")):
        raw = request.GET.get(f"{base}{suffix}", "")
        if raw:
            try:
                q &= Q(**{f"{field}__{lookup}": clock.om_parse(raw)})
            except ValueError as exc:
                raise InvalidParameter(f"{base}{suffix}: {exc}") from None
    return q


def _page(request, default_limit: int) -> tuple[int, int]:
    page = _int(request, "page", 1, minimum=1)
    limit = _int(request, "limit", default_limit, minimum=1, maximum=MAX_LIMIT)
    return (page - 1) * limit, limit


def _prefix(field: str, prefixes: list[str]) -> Q:
    """Rows whose `field` starts with any of `prefixes`, ignoring case.

    The real service appends a wildcard: "SKU-1" also matches "SKU-10". Case is ignored so the
    answer is the same on SQLite (whose LIKE ignores case) and PostgreSQL. Written as
    `UPPER(SUBSTR(field, 1, n)) IN (...)`, one test per distinct prefix length, rather than one
    LIKE per prefix: a 200-SKU lookup over 50,000 products stays in milliseconds.
    """
    by_length: dict[int, set[str]] = {}
    for prefix in prefixes:
        by_length.setdefault(len(prefix), set()).add(prefix.upper())
    q = Q()
    for length, values in sorted(by_length.items()):
        q |= Q(In(Upper(Substr(field, 1, length)), sorted(values)))
    return q


# ------------------------------------------------------------------ app install and token

CODE_LIFETIME = datetime.timedelta(minutes=5)  # stricter than most OAuth servers (Spring's default is 5 min too)


def _oauth_error(error: str, description: str, status: int) -> JsonResponse:
    """Spring Security OAuth2's error body; 401s carry its WWW-Authenticate header."""
    response = _json({"error": error, "error_description": description}, status)
    if status == 401:
        response["WWW-Authenticate"] = f'Basic realm="oauth2/client", error="{error}"'
    return response


def _app_from_basic(request) -> tuple[OmApp | None, JsonResponse | None]:
    """The app named by ``Authorization: Basic base64(appKey:appSecret)``, or the 401 to answer."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None, _oauth_error("unauthorized", "Full authentication is required to access this resource", 401)
    try:
        key, sep, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None, _oauth_error("invalid_client", "Bad credentials", 401)
    app = OmApp.objects.filter(app_key=key).first() if sep else None
    if app is None or not app.check_secret(secret):
        return None, _oauth_error("invalid_client", "Bad credentials", 401)
    return app, None


@sandbox_endpoint
@require_http_methods(["GET", "POST"])
def authorize(request):
    """`/oauth/authorize`: the install page. A sandbox user signs in with the account's username and
    password and approves; the browser goes to the registered redirect URI with ``code``, ``cid``
    (the account's company id) and ``state``. An unknown app or an unregistered redirect URI gets an
    error page, never a redirect (RFC 6749 section 4.1.2.1)."""
    params = request.GET
    app = OmApp.objects.filter(app_key=params.get("client_id", "")).first()
    redirect_uri = params.get("redirect_uri", "")
    context = {"app": app, "scope": params.get("scope", ""), "username": "", "error": "", "fatal": ""}
    if app is None:
        context["fatal"] = "Unknown app (client_id)."
    elif not redirect_uri or redirect_uri not in app.redirect_uris:
        context["fatal"] = "The redirect_uri is not one the app registered."
    elif params.get("response_type") != "code":
        context["fatal"] = "Unsupported response_type (only 'code')."
    if context["fatal"]:
        return render(request, "sandbox/om_authorize.html", context, status=400)
    if request.method == "POST":
        username = request.POST.get("username", "")
        account = OmAccount.objects.filter(username=username).first()
        if account is None or not account.check_password(request.POST.get("password", "")):
            context.update(username=username, error="Bad credentials: wrong username or password.")
            return render(request, "sandbox/om_authorize.html", context, status=200)
        code = new_token()
        OmAuthCode.objects.create(
            app=app,
            account=account,
            digest=hash_secret(code),
            redirect_uri=redirect_uri,
            scope=params.get("scope", ""),
            expires_at=clock.now() + CODE_LIFETIME,
        )
        query = {"code": code, "cid": account.company_id}
        if "state" in params:
            query["state"] = params["state"]
        separator = "&" if urlsplit(redirect_uri).query else "?"
        return HttpResponseRedirect(f"{redirect_uri}{separator}{urlencode(query)}")
    return render(request, "sandbox/om_authorize.html", context)


@sandbox_endpoint
@require_http_methods(["POST"])
def token(request):
    """`POST /oauth/token`: ``authorization_code`` only, app credentials as Basic, a one-time code.

    Parameters are read from the form body or the query string (the OAuth2 gem behind
    omniauth-skubana posts a body; skubanaAccess sends query parameters; Spring's token endpoint
    reads both). Client credentials in the body are not accepted: both real clients send Basic.
    A password grant, or any other grant, gets Spring's ``unsupported_grant_type``.
    """
    params = request.POST if request.POST else request.GET
    app, refusal = _app_from_basic(request)
    if refusal is not None:
        return refusal
    grant_type = params.get("grant_type", "")
    if grant_type != "authorization_code":
        return _oauth_error("unsupported_grant_type", f"Unsupported grant type: {grant_type}", 400)
    code, redirect_uri = params.get("code", ""), params.get("redirect_uri", "")
    if not code:
        return _oauth_error("invalid_request", "An authorization code must be supplied.", 400)
    row = OmAuthCode.objects.select_related("account__faults").filter(digest=hash_secret(code), app=app).first()
    if row is None:
        return _oauth_error("invalid_grant", f"Invalid authorization code: {code[:6]}…", 400)
    if redirect_uri != row.redirect_uri:
        return _oauth_error("invalid_grant", "Redirect URI mismatch.", 400)
    account = row.account

    def issue():
        now = clock.now()
        # One conditional UPDATE consumes the code: of two concurrent exchanges only one wins.
        if not OmAuthCode.objects.filter(pk=row.pk, used_at__isnull=True, expires_at__gt=now).update(used_at=now):
            return _oauth_error("invalid_grant", f"Invalid authorization code: {code[:6]}…", 400)
        value = new_token()
        OmToken.objects.create(account=account, app=app, digest=hash_secret(value))
        return _json({"access_token": value, "token_type": "bearer", "scope": row.scope.replace("+", " ")})

    config = fault_config(account)
    if config is not None and config.apply_to_token_endpoint:
        return faults.apply(faults.OM, account.pk, config, issue)
    return issue()


# ------------------------------------------------------------------ reads


@om_api
@om_query("/v1/warehouses")
@require_http_methods(["GET"])
def warehouses(request, account):
    """`GET /v1/warehouses`: a bare array, not paged."""
    return _json([om_render.warehouse(w) for w in account.warehouses.order_by("pk")])


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
        statuses = _strings(request, "status")
        unknown = [s for s in statuses if s not in OrderStatus.values]
        if unknown:
            raise InvalidParameter(f"status: unknown value(s) {', '.join(unknown)}")
        q = Q()
        if statuses:
            q &= Q(status__in=statuses)
        warehouse_id = _int(request, "warehouseId", 0)
        if warehouse_id:
            q &= Q(warehouse_id=warehouse_id)
        channel = _int(request, "salesChannelId", 0)
        if channel:
            q &= Q(sales_channel_id=channel)
        ids = _ints(request, "orderId")
        if ids:
            q &= Q(pk__in=ids)
        product_ids = _ints(request, "productId")
        if product_ids:
            q &= Q(pk__in=OmOrderItem.objects.filter(product_id__in=product_ids).values("order_id"))
        numbers = _strings(request, "orderNumber")
        if numbers:
            q &= _prefix("order_number", numbers)
        for base, field in (
            ("modifiedDate", "modified_date"),
            ("createdDate", "created_date"),
            ("orderDate", "order_date"),
            ("shipDate", "ship_date"),
        ):
            q &= _date_range(request, base, field)
        offset, limit = _page(request, 100)
    except InvalidParameter as exc:
        return _invalid_parameter(exc)
    rows = _orders_queryset(account).filter(q).order_by("pk")[offset : offset + limit]
    return _json([om_render.order(row) for row in rows])


@om_api
@om_query("/v1.1/orders/{orderId}")
@require_http_methods(["GET"])
def order_detail(request, account, order_id):
    """`GET /v1.1/orders/{orderId}`; 404 when the account has no such order."""
    row = _orders_queryset(account).filter(pk=order_id).first()
    if row is None:
        return _json({"status": 404, "error": "Not Found", "message": f"Order {order_id} not found"}, 404)
    return _json(om_render.order(row))


def _stock_filter(request, account) -> Q:
    """The filters both stock endpoints share: warehouseId, sku (a prefix search, like the real
    API) and productId. Raises InvalidParameter."""
    q = Q(product__account=account)
    warehouse_id = _int(request, "warehouseId", 0)
    if warehouse_id:
        q &= Q(warehouse_id=warehouse_id)
    skus = _strings(request, "sku")
    if skus:
        q &= _prefix("product__master_sku", skus)
    product_ids = _ints(request, "productId")
    if product_ids:
        q &= Q(product_id__in=product_ids)
    return q


@om_api
@om_query("/v1/productstocks/total")
@require_http_methods(["GET"])
def product_stock_totals(request, account):
    """`GET /v1/productstocks/total`: per product with stock (in `warehouseId` if given); sku prefix."""
    try:
        offset, limit = _page(request, 20)
        q = _stock_filter(request, account)
    except InvalidParameter as exc:
        return _invalid_parameter(exc)
    totals = list(
        OmStock.objects.filter(q)
        .values("product_id")
        .annotate(on_hand=Sum("on_hand"), locked=Sum("locked"), allocated=Sum("allocated"))
        .order_by("product_id")[offset : offset + limit]
    )
    products = OmProduct.objects.in_bulk([t["product_id"] for t in totals])
    return _json(
        [om_render.stock_totals(products[t["product_id"]], t["on_hand"], t["locked"], t["allocated"]) for t in totals]
    )


@om_api
@om_query("/v1/inventory")
@require_http_methods(["GET"])
def inventory(request, account):
    """`GET /v1/inventory`: product stocks per location; sku prefix."""
    try:
        offset, limit = _page(request, 20)
        q = _stock_filter(request, account)
        location = request.GET.get("stockLocationName", "")
        if location:
            q &= Q(location=location)
    except InvalidParameter as exc:
        return _invalid_parameter(exc)
    rows = OmStock.objects.filter(q).select_related("product").order_by("pk")[offset : offset + limit]
    return _json([om_render.product_stock(row) for row in rows])


@om_api
@om_query("/v1/throttlelimits")
@require_http_methods(["GET"])
def throttle_limits(request, account):
    """`GET /v1/throttlelimits`: what the sandbox enforces (the account's quota, else a generous one)."""
    config = fault_config(account)
    rate = int(config.quota_per_second) if config is not None and config.quota_per_second else 100
    rate = max(rate, 1)
    limit = {
        "appId": 1,
        "companyId": account.company_id,
        "quotaMaxRequest": rate,
        "quotaMaxRequestHourly": rate * 3600,
        "quotaRestoreRate": rate,
    }
    paths = [
        ("GET", "/v1/warehouses"),
        ("GET", "/v1.1/orders"),
        ("POST", "/v1/orders/sendtofulfillment"),
        ("PUT", "/v1.1/shipment/external"),
        ("GET", "/v1/productstocks/total"),
        ("GET", "/v1/inventory"),
        ("POST", "/v1.1/inventory/adjust"),
    ]
    return _json(
        [
            {
                "requestMethod": method,
                "requestPath": path,
                "notes": "Shared per-account bucket (sandbox)",
                "throttleConfig": limit,
            }
            for method, path in paths
        ]
    )


# ------------------------------------------------------------------ writes


def _next_batch_number(account) -> int:
    OmAccount.objects.filter(pk=account.pk).update(last_batch_number=F("last_batch_number") + 1)
    return OmAccount.objects.values_list("last_batch_number", flat=True).get(pk=account.pk)


def _identifier(row: OmOrder) -> dict:
    return {"orderId": row.pk, "orderNumber": row.order_number, "salesChannelId": row.sales_channel_id}


@om_api
@om_query("/v1/orders/sendtofulfillment")
@require_http_methods(["POST"])
def send_to_fulfillment(request, account):
    """`POST /v1/orders/sendtofulfillment`: AWAITING_3PL_EXPORT/AWAITING_DROPSHIP -> PENDING_FULFILLMENT.

    At most 500 orders a call; `ordersRemaining` says when more are eligible. Orders named by id or
    number that do not exist or are not in a sendable status come back in `errors[]`.
    """
    try:
        ids = _ints(request, "orderId")
        numbers = _strings(request, "orderNumber")
        channel = _int(request, "salesChannelId", 0)
        warehouse_id = _int(request, "warehouseId", 0)
    except InvalidParameter as exc:
        return _invalid_parameter(exc)
    if not (ids or numbers or warehouse_id):
        return _invalid_parameter("Give orderId, orderNumber (with salesChannelId) or warehouseId")
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
    with transaction.atomic():
        batch_number = _next_batch_number(account)
        OmOrder.objects.filter(pk__in=[row["pk"] for row in batch], status__in=SENDABLE).update(
            status=OrderStatus.PENDING_FULFILLMENT, modified_date=now, sent_to_fulfillment=True
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
    return _json(
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
        return _bad_request(exc)
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
    answers = []
    with transaction.atomic():
        batch_number = _next_batch_number(account)
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
            record = OmShipment.objects.create(
                order=row,
                tracking_number=item["tracking"],
                shipping_carrier=item["carrier"],
                shipping_service_id=item["service"],
                ship_date=item["ship_date"],
                created=now,
                batch_number=batch_number,
            )
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
    return _json(answers)


def _parse_adjustments(body) -> list[dict]:
    if not isinstance(body, list):
        raise BadRequest("Body must be an array of PostInventoryAdjustDto")
    for position, item in enumerate(body, start=1):
        if not isinstance(item, dict):
            raise BadRequest(f"[{position}] must be an object")
        for field in ("warehouseId", "onHandQuantity"):
            if not isinstance(item.get(field), int) or isinstance(item.get(field), bool):
                raise BadRequest(f"[{position}].{field} is required and must be an integer")
        if item["onHandQuantity"] < 0:
            raise BadRequest(f"[{position}].onHandQuantity must not be negative")
        locked = item.get("lockedQuantity")
        if locked is not None and (not isinstance(locked, int) or locked < 0):
            raise BadRequest(f"[{position}].lockedQuantity must be a non-negative integer")
        if not item.get("masterSku") and not isinstance(item.get("productId"), int):
            raise BadRequest(f"[{position}]: masterSku or productId is required")
    return body


@om_api
@om_query("/v1.1/inventory/adjust")
@require_http_methods(["POST"])
def inventory_adjust(request, account):
    """`POST /v1.1/inventory/adjust`: sets absolute on-hand (and locked, when given) per product stock.

    Never creates a product stock: a product without stock in that warehouse is ERR097, an unknown
    product ERR053, each in `errors[]` of a 200 `BulkMultipleEntityApiResponse` with a 1-based index.
    """
    try:
        items = _parse_adjustments(json_body(request))
    except BadRequest as exc:
        return _bad_request(exc)
    skus = {item["masterSku"] for item in items if item.get("masterSku")}
    ids = {item["productId"] for item in items if isinstance(item.get("productId"), int)}
    products = list(OmProduct.objects.filter(Q(account=account) & (Q(master_sku__in=skus) | Q(pk__in=ids))))
    by_sku = {p.master_sku: p for p in products}
    by_id = {p.pk: p for p in products}
    stocks = {
        (s.product_id, s.warehouse_id): s
        for s in OmStock.objects.filter(product__in=products, warehouse__account=account)
    }
    errors, results, changed = [], [], {}
    for index, item in enumerate(items, start=1):
        product = (
            by_id.get(item["productId"]) if isinstance(item.get("productId"), int) else by_sku.get(item["masterSku"])
        )
        ident = {k: item[k] for k in ("masterSku", "productId", "warehouseId") if item.get(k) is not None}
        if product is None:
            errors.append(
                om_render.validation_detail(
                    index, "ERR053", "Product does not exist", field="masterSku", identifier=ident
                )
            )
            continue
        stock = stocks.get((product.pk, item["warehouseId"]))
        if stock is None:
            errors.append(
                om_render.validation_detail(
                    index,
                    "ERR097",
                    f"Product stock not found for {product.master_sku} in warehouse {item['warehouseId']}",
                    field="warehouseId",
                    identifier=ident,
                )
            )
            continue
        stock.on_hand = item["onHandQuantity"]
        if item.get("lockedQuantity") is not None:
            stock.locked = item["lockedQuantity"]
        changed[stock.pk] = stock
        results.append(
            {
                "index": index,
                "productStockId": stock.pk,
                "productId": product.pk,
                "masterSku": product.master_sku,
                "warehouseId": stock.warehouse_id,
                "onHandQuantity": stock.on_hand,
                "lockedQuantity": stock.locked,
            }
        )
    if changed:
        OmStock.objects.bulk_update(list(changed.values()), ["on_hand", "locked"])
    message = "Inventory adjusted" if not errors else f"{len(results)} adjusted, {len(errors)} failed"
    return _json({"message": message, "results": results, "errors": errors})
