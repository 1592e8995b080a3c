"""What every endpoint of the sandbox 3PL Warehouse Manager API shares: its answers, its refusals,
its paging.

The sandbox Extensiv 3PL Warehouse Manager REST API is served under /sandbox/warehouse-manager/,
one module per endpoint group (`wms_token`, `wms_orders`, `wms_canceler`, `wms_inventory`; routes
in `urls.py`). It follows the WMS part of `docs/wire-protocols.md`: client-credentials token at
`AuthServer/api/Token` (Basic client_id:secret), collections paged with `pgsiz`/`pgnum` and
filtered with `rql`, negotiated (HAL camelCase only for `Accept: application/hal+json`, plain
PascalCase JSON otherwise: WMS-2), ETag on single-order answers, `If-Match` on the canceler (428
without, 412 when stale), .NET-style error bodies (`$type`, `ErrorCode`, `Hint`, `Message`),
timestamps in the facility's time zone without an offset.

This module holds the parts of that dialect the endpoints share, so each refuses exactly as the
others do: `wms_query(**allowed_by_method)` refuses query parameters no real client sends (400
QueryParameterException); `paging` reads `pgsiz`/`pgnum` (raising `api.BadRequest`) and
`page_links` writes a collection's links; `resource` negotiates one resource (`hal_requested`);
`model_error`, `query_error`, `rql_error` and `order_not_found` are the service's error answers.
"""

from django.http import JsonResponse

from connectors.sandbox import query_parameters
from connectors.sandbox.api import BadRequest
from connectors.warehouse_manager.sandbox import render as wms_render
from connectors.warehouse_manager.sandbox import rql as wms_rql

HAL = "application/hal+json; charset=utf-8"


def json_response(data, status=200, content_type="application/json") -> JsonResponse:
    return JsonResponse(
        data, status=status, safe=False, content_type=content_type, json_dumps_params={"ensure_ascii": False}
    )


def hal_requested(request) -> bool:
    return wms_render.wants_hal(request.headers.get("Accept", ""))


def resource(request, data: dict, status: int = 200) -> JsonResponse:
    """One resource, negotiated: HAL camelCase for `Accept: application/hal+json`, else plain PascalCase."""
    if hal_requested(request):
        return json_response(data, status, content_type=HAL)
    return json_response(wms_render.pascal(data), status)


def model_error(code: str, message: str, *, hint: str = "", properties=None) -> JsonResponse:
    return json_response(
        wms_render.error("ModelValidationException", code, message, hint=hint, properties=properties), 400
    )


def query_error(message: str, *, parameter: str = "rql", unsupported: str = "") -> JsonResponse:
    """400 QueryParameterException, as Rels/exceptions shows it (Njdonatelli/Extensiv-MCP-Server
    docs/research/api_reference_notes.md): `"Parameters":["rql"]`, `"ErrorCode":"NotParsable"`,
    `"Hint":"Properties not supported: gorp"`; the refused property is also listed in `Properties`."""
    return json_response(
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
        lambda names: query_error(f"Unknown query parameter(s): {', '.join(names)}", parameter=names[0]),
    )


PAGED = ("pgsiz", "pgnum", "rql", "sort")


def rql_error(exc: wms_rql.RqlError) -> JsonResponse:
    return query_error(str(exc), unsupported=exc.unsupported)


def order_not_found(order_id) -> JsonResponse:
    return json_response(
        wms_render.error("ResourceNotFoundException", "NotFound", f"Order {order_id} was not found"), 404
    )


def paging(request, default: int, maximum: int) -> tuple[int, int]:
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


def page_links(path: str, request, size: int, number: int, total: int) -> dict:
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
