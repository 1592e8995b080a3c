"""Sandbox Order Manager inventory: `GET /v1/productstocks/total`, `GET /v1/inventory` and
`POST /v1.1/inventory/adjust`.

Reads filter by warehouse, SKU prefix and product, paged. An adjustment sets absolute on-hand
(and locked, when given) of existing product stocks only: a malformed body is a 400 for the whole
request; an unknown product (ERR053) or a product without stock in that warehouse (ERR097) is an
entry of `errors[]` in a 200 answer, with its 1-based index. It never creates a product stock.

The account's `stock_drift_rate` (`connectors.sandbox.discrepancies`, one draw per stock it would
set) stores such an on-hand off by `stock_drift_units` (never below 0) while the answer shows the
quantity asked: stock that drifted from what the hub wrote.
"""

from django.db.models import Q, Sum
from django.views.decorators.http import require_http_methods

from connectors.order_manager.sandbox import render as om_render
from connectors.order_manager.sandbox.protocol import (
    InvalidParameter,
    bad_request,
    invalid_parameter,
    json_response,
    om_query,
    prefix_match,
    query_int,
    query_ints,
    query_page,
    query_strings,
)
from connectors.sandbox import discrepancies
from connectors.sandbox.api import BadRequest, fault_config, json_body, om_api
from connectors.sandbox.models import InjectedFault, OmProduct, OmStock


def _stock_filter(request, account) -> Q:
    """The filters both stock endpoints share: warehouseId, sku (a prefix search, like the real
    API) and productId. Raises InvalidParameter."""
    q = Q(product__account=account)
    warehouse_id = query_int(request, "warehouseId", 0)
    if warehouse_id:
        q &= Q(warehouse_id=warehouse_id)
    skus = query_strings(request, "sku")
    if skus:
        q &= prefix_match("product__master_sku", skus)
    product_ids = query_ints(request, "productId")
    if product_ids:
        q &= Q(product_id__in=product_ids)
    return q


@om_api
@om_query("/v1/productstocks/total")
@require_http_methods(["GET"])
def product_stock_totals(request, account):
    """`GET /v1/productstocks/total`: per product with stock (in `warehouseId` if given); sku prefix."""
    try:
        offset, limit = query_page(request, 20)
        q = _stock_filter(request, account)
    except InvalidParameter as exc:
        return invalid_parameter(exc)
    totals = list(
        OmStock.objects.filter(q)
        .values("product_id")
        .annotate(on_hand=Sum("on_hand"), locked=Sum("locked"), allocated=Sum("allocated"))
        .order_by("product_id")[offset : offset + limit]
    )
    products = OmProduct.objects.in_bulk([t["product_id"] for t in totals])
    return json_response(
        [om_render.stock_totals(products[t["product_id"]], t["on_hand"], t["locked"], t["allocated"]) for t in totals]
    )


@om_api
@om_query("/v1/inventory")
@require_http_methods(["GET"])
def inventory(request, account):
    """`GET /v1/inventory`: product stocks per location; sku prefix."""
    try:
        offset, limit = query_page(request, 20)
        q = _stock_filter(request, account)
        location = request.GET.get("stockLocationName", "")
        if location:
            q &= Q(location=location)
    except InvalidParameter as exc:
        return invalid_parameter(exc)
    rows = OmStock.objects.filter(q).select_related("product").order_by("pk")[offset : offset + limit]
    return json_response([om_render.product_stock(row) for row in rows])


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
        return bad_request(exc)
    skus = {item["masterSku"] for item in items if item.get("masterSku")}
    ids = {item["productId"] for item in items if isinstance(item.get("productId"), int)}
    products = list(OmProduct.objects.filter(Q(account=account) & (Q(master_sku__in=skus) | Q(pk__in=ids))))
    by_sku = {p.master_sku: p for p in products}
    by_id = {p.pk: p for p in products}
    stocks = {
        (s.product_id, s.warehouse_id): s
        for s in OmStock.objects.filter(product__in=products, warehouse__account=account)
    }
    errors, results, changed, drifted = [], [], {}, []
    config = fault_config(account)
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
        if discrepancies.hits(account, config, "stock_drift_rate", 1)[0]:
            stock.on_hand = max(0, item["onHandQuantity"] + config.stock_drift_units)
            drifted.append((product.master_sku, f"asked on-hand {item['onHandQuantity']}, stored {stock.on_hand}"))
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
                "onHandQuantity": item["onHandQuantity"],  # what was asked, drifted or not
                "lockedQuantity": stock.locked,
            }
        )
    if changed:
        OmStock.objects.bulk_update(list(changed.values()), ["on_hand", "locked"])
    if drifted:
        discrepancies.record(config, InjectedFault.Kind.STOCK_DRIFTED, drifted)
    message = "Inventory adjusted" if not errors else f"{len(results)} adjusted, {len(errors)} failed"
    return json_response({"message": message, "results": results, "errors": errors})
