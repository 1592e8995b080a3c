"""What every endpoint of the sandbox Order Manager API shares: its answers, its refusals, its
query parameters.

The sandbox Extensiv Order Manager API (formerly Skubana) is served under /sandbox/order-manager/,
one module per endpoint group (`om_oauth`, `om_account`, `om_orders`, `om_shipments`,
`om_inventory`; routes in `urls.py`). Its wire behaviour follows the vendor's OpenAPI spec and
`docs/wire-protocols.md`: an app install (OAuth2 authorization code), bearer auth (`api.om_api`),
bare JSON arrays paged with `page` (from 1) and `limit` (at most `MAX_LIMIT`), 422 "Invalid
parameter specified" on a bad or undeclared query parameter, 400 on a bad body, prefix search on
`sku` and `orderNumber`, bulk writes answering 200 with per-item `errors[]`.

This module holds the parts of that dialect the endpoints share, so each refuses exactly as the
others do: `om_query(spec_path)` refuses query parameters the spec does not declare (422);
`query_int`, `query_ints`, `query_strings`, `query_date_range` and `query_page` read query
parameters, raising `InvalidParameter` (answered 422 by `invalid_parameter`); `prefix_match` is the
real service's prefix search; `json_response` and `bad_request` are the JSON and 400 answers.
"""

from django.db.models import Q
from django.db.models.functions import Substr, Upper
from django.db.models.lookups import In
from django.http import JsonResponse

from connectors.sandbox import clock, query_parameters

MAX_LIMIT = 1000


def om_query(spec_path: str):
    """Refuse query parameters the spec does not declare for this operation (422, the spec's answer)."""
    return query_parameters.refuse_unknown(
        lambda method: query_parameters.spec_query_parameters(method, spec_path),
        lambda names: json_response(
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


def json_response(data, status=200) -> JsonResponse:
    return JsonResponse(data, status=status, safe=False)


def invalid_parameter(exc) -> JsonResponse:
    return json_response({"status": 422, "error": "Invalid parameter specified", "message": str(exc)}, 422)


def bad_request(exc) -> JsonResponse:
    return json_response({"status": 400, "error": "Bad Request", "message": str(exc)}, 400)


# ------------------------------------------------------------------ query parameters


def query_int(request, name, default=None, *, minimum=None, maximum=None):
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


def query_ints(request, name) -> list[int]:
    values = []
    for raw in request.GET.getlist(name):
        for part in raw.split(","):
            if part.strip():
                try:
                    values.append(int(part))
                except ValueError:
                    raise InvalidParameter(f"{name}: “{part}” is not an integer") from None
    return values


def query_strings(request, name) -> list[str]:
    return [v for raw in request.GET.getlist(name) for v in raw.split(",") if v.strip()]


def query_date_range(request, base: str, field: str) -> Q:
    q = Q()
    for suffix, lookup in (("From", "gte"), ("To", "lte")):
        raw = request.GET.get(f"{base}{suffix}", "")
        if raw:
            try:
                q &= Q(**{f"{field}__{lookup}": clock.om_parse(raw)})
            except ValueError as exc:
                raise InvalidParameter(f"{base}{suffix}: {exc}") from None
    return q


def query_page(request, default_limit: int) -> tuple[int, int]:
    page = query_int(request, "page", 1, minimum=1)
    limit = query_int(request, "limit", default_limit, minimum=1, maximum=MAX_LIMIT)
    return (page - 1) * limit, limit


def prefix_match(field: str, prefixes: list[str]) -> Q:
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
