"""Sandbox Warehouse Manager inventory: `GET /inventory/stocksummaries` and
`GET /customers/{id}/items`.

Stock summaries: every row the credential sees (a row names no customer), `{totalResults,
summaries}` (not HAL `_embedded`), `SUMMARIES_PAGE`. The item master: the customer's items, paged
(`ITEMS_PAGE`), negotiated; a customer the credential does not see is a 404. Neither accepts any
RQL property (400 "Properties not supported", stricter than the real service).
"""

from django.views.decorators.http import require_http_methods

from connectors.sandbox.api import BadRequest, wms_api
from connectors.sandbox.models import WmsItem, WmsStock
from connectors.warehouse_manager.sandbox import render as wms_render
from connectors.warehouse_manager.sandbox import rql as wms_rql
from connectors.warehouse_manager.sandbox.protocol import (
    HAL,
    PAGED,
    hal_requested,
    json_response,
    page_links,
    paging,
    query_error,
    rql_error,
    wms_query,
)

SUMMARIES_PAGE = (100, 500)

ITEMS_PAGE = (10, 100)  # default, maximum pgsiz (vendor rel page, quoted by Njdonatelli/Extensiv-MCP-Server)


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
        size, number = paging(request, *SUMMARIES_PAGE)
        q = wms_rql.parse(request.GET.get("rql", ""), _summary_fields())
    except wms_rql.RqlError as exc:
        return rql_error(exc)
    except BadRequest as exc:
        return query_error(str(exc), parameter="pgsiz")
    queryset = WmsStock.objects.filter(account=account).filter(q)
    total = queryset.count()
    rows = queryset.select_related("item").order_by("pk")[(number - 1) * size : number * size]
    summaries = [wms_render.stock_summary(row) for row in rows]
    if hal_requested(request):  # not _embedded even in HAL (ExtensivSharp Models/Inventory/StockSummaryList.cs)
        return json_response({"totalResults": total, "summaries": summaries}, content_type=HAL)
    return json_response({"TotalResults": total, "Summaries": wms_render.pascal(summaries)})


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
        return json_response(
            wms_render.error("ResourceNotFoundException", "NotFound", f"Customer {customer_id} was not found"), 404
        )
    try:
        size, number = paging(request, *ITEMS_PAGE)
        q = wms_rql.parse(request.GET.get("rql", ""), {})
    except wms_rql.RqlError as exc:
        return rql_error(exc)
    except BadRequest as exc:
        return query_error(str(exc), parameter="pgsiz")
    queryset = items.filter(q)
    total = queryset.count()
    rows = queryset.order_by("pk")[(number - 1) * size : number * size]
    hal = hal_requested(request)
    body = wms_render.collection(
        hal,
        total=total,
        rel=wms_render.CUSTOMER_ITEM_REL,
        items=[wms_render.item(row, customer_id) for row in rows],
        links=page_links(f"/customers/{customer_id}/items", request, size, number, total),
    )
    return json_response(body, content_type=HAL if hal else "application/json")
