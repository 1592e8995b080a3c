"""Client for the Extensiv Order Manager (formerly Skubana) REST API.

Speaks the protocol of connectors/specs/order-manager-openapi.json (the vendor's spec) as set out,
call by call with its evidence, in docs/wire-protocols.md: versioned paths (/v1, /v1.1), ``Authorization:
Bearer``, ``page``/``limit`` paging of bare JSON arrays, 429 with ``x-skubana-quota-retryAfter``
(handled by ``connectors.transport``), bulk writes answering 200 with per-item ``errors[]``.

Contract:
- every call goes through ``HttpClient`` and raises only ``connectors.errors`` types;
- authentication is a static ``Authorization: Bearer`` app-install token (``connectors.om_install``
  obtains it); a 401 is ``AuthenticationError`` asking for a reconnect (no re-authentication);
- response shapes are checked (lists, dicts, int ids and quantities) and anything else is
  ``MalformedResponse``; string fields are passed through as Order Manager sent them;
- the client builds no Django objects and imports no app of ours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connectors.errors import (
    AuthenticationError,
    MalformedResponse,
    PermanentError,
    RequestRejected,
    ResponseTooLarge,
)
from connectors.shapes import is_int
from connectors.transport import BearerToken, HttpClient, format_size

__all__ = [
    "OrderManagerClient",
    "WarehouseNotFound",
    "StockTotal",
    "AdjustResult",
    "ShipmentResult",
    "OversizeItem",
    "format_datetime",
]

SERVICE = "Order Manager"
MAX_ADJUST_BATCH = 200  # documented maximum of POST /v1.1/inventory/adjust per call
MAX_SEND_TO_FULFILLMENT = 500  # documented maximum of POST /v1/orders/sendtofulfillment per call
SKUS_PER_QUERY = 100  # keeps the query string of /v1/productstocks/total well under URL limits
# A paged read gives up after this many answers over the size cap in a row (none that fitted in
# between): a server answering over the cap whatever is asked is broken, and each such answer may
# cost up to the cap in traffic. Real oversize items cost about log2(limit) such answers each.
MAX_OVERSIZE_IN_A_ROW = 32
# The smallest page size sent when the hub chooses it (get_orders); see get_orders.
MIN_LIMIT = 10


class WarehouseNotFound(PermanentError):
    """The configured warehouse name matches no Order Manager warehouse (or several)."""

    def __init__(self, message: str, *, available: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.available = list(available or [])


@dataclass
class StockTotal:
    """One product's stock totals in one warehouse (``GET /v1/productstocks/total``)."""

    sku: str
    product_id: int | None
    on_hand: int
    locked: int
    allocated: int
    available: int


@dataclass
class AdjustResult:
    """Outcome of one inventory adjust item; ``error_code`` is "" when ok (else ERR097, ERR053...)."""

    sku: str
    ok: bool
    error_code: str
    message: str


@dataclass
class ShipmentResult:
    """One ``batchedOrder`` of ``PUT /v1.1/shipment/external``; ``status`` PENDING/SHIPPED/FAILED/CANCELLED."""

    order_id: int | None
    order_number: str
    status: str
    message: str


@dataclass(frozen=True)
class OversizeItem:
    """One item of a paged read that alone makes an answer larger than the size cap: it was not read.

    ``position`` counts from 1 in the order Order Manager lists the read's items (``filters``, the
    read's query without ``page``/``limit``). Its id is not known: the API has no way to list ids
    without the items' bodies (``GET /v1.1/orders`` has no field selection in the vendor's spec).
    """

    what: str
    path: str
    position: int
    filters: str
    message: str


def format_datetime(value: datetime) -> str:
    """UTC ``yyyy-MM-ddTHH:mm:ssZ`` as Order Manager expects; naive datetimes are refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("Order Manager dates must be timezone-aware (got a naive datetime)")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _order_key(order: Any) -> int | None:
    """An order's id when it is readable, for de-duplication and the repeated-page guard."""
    value = order.get("orderId") if isinstance(order, dict) else None
    return value if is_int(value) else None


class OrderManagerClient:
    """One Order Manager account, reached with the access token of an app install (static Bearer).

    The API has no password grant: its only security scheme is OAuth2 authorization code through
    an app install (the vendor spec's ``components.securitySchemes``; skuvault-integrations/skubanaAccess
    ``src/SkubanaAccess/Services/Authentication/AuthenticationService.cs``). The token is obtained once
    by ``connectors.om_install`` and then sent as a static Bearer on every call, as
    dturton/skubana-node ``src/index.ts`` does. No source documents a refresh token or an expiry, so a
    401 means the install was revoked or the token is wrong: it raises ``AuthenticationError`` asking
    for a reconnect, never a silent re-authentication.
    """

    def __init__(
        self,
        base_url: str,
        *,
        access_token: str = "",
        http: HttpClient | None = None,
        max_pages: int = 1000,
        **http_options: Any,
    ) -> None:
        self.http = http if http is not None else HttpClient(base_url, service=SERVICE, **http_options)
        self._auth = BearerToken.stored(access_token)
        self.max_pages = max_pages

    def __repr__(self) -> str:  # never shows credentials
        return f"OrderManagerClient({self.http.base_url!r})"

    def close(self) -> None:
        self.http.close()

    # -- authentication ------------------------------------------------------------------
    def authenticate(self) -> None:
        """Check that an access token is configured (the token itself is checked by the first call)."""
        if not self._auth.configured:
            raise AuthenticationError(
                "No Order Manager access token is configured: connect the connection to Order Manager "
                "(app install) or paste the token of an app installed by hand"
            )

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call as JSON with the static Bearer token; a 401 asks for a reconnect."""
        self.authenticate()

        def rejected(exc: AuthenticationError) -> AuthenticationError | None:
            if exc.status != 401:
                return None  # 403: a missing scope; reconnecting with the same scopes would not help
            return AuthenticationError(
                f"Order Manager rejected the access token for {method} {path} (HTTP 401): the app install "
                "was revoked or the token is wrong; reconnect the connection to Order Manager",
                status=exc.status,
                body_excerpt=exc.body_excerpt,
                method=method,
                path=path,
            )

        # A stored token: BearerToken sends it as is and never retries a 401 (nothing could renew it).
        return self._auth.send(
            lambda authorization: self.http.json(method, path, headers=authorization, **kwargs), rejected=rejected
        )

    # -- shape checks --------------------------------------------------------------------
    @staticmethod
    def _list_of_dicts(value: Any, what: str, method: str, path: str) -> list[dict]:
        if not isinstance(value, list):
            raise MalformedResponse(
                f"Order Manager answered {method} {path} with {type(value).__name__} where a list of {what} was expected",
                method=method,
                path=path,
            )
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise MalformedResponse(
                    f"Order Manager answered {method} {path} with a {type(item).__name__} at position {index} "
                    f"where {what} was expected",
                    method=method,
                    path=path,
                )
        return value

    @staticmethod
    def _require_int(item: dict, key: str, what: str, method: str, path: str, *, optional: bool = False) -> int | None:
        value = item.get(key)
        if value is None and optional:
            return None
        if not is_int(value):
            raise MalformedResponse(
                f"Order Manager answered {method} {path} with {what} whose {key} is {value!r:.40}, not an integer",
                method=method,
                path=path,
            )
        return value

    @staticmethod
    def _require_str(item: dict, key: str, what: str, method: str, path: str, *, optional: bool = False) -> str:
        value = item.get(key)
        if value is None and optional:
            return ""
        if not isinstance(value, str):
            raise MalformedResponse(
                f"Order Manager answered {method} {path} with {what} whose {key} is {value!r:.40}, not a string",
                method=method,
                path=path,
            )
        return value

    # -- warehouses ----------------------------------------------------------------------
    def list_warehouses(self) -> list[dict]:
        """``GET /v1/warehouses``: every warehouse (not paginated), each with int ``warehouseId`` and ``name``."""
        path = "/v1/warehouses"
        warehouses = self._list_of_dicts(self._call("GET", path), "warehouses", "GET", path)
        for warehouse in warehouses:
            self._require_int(warehouse, "warehouseId", "a warehouse", "GET", path)
            self._require_str(warehouse, "name", "a warehouse", "GET", path)
        return warehouses

    def resolve_warehouse(self, name: str) -> dict:
        """The warehouse called ``name``: exact match first, then case-insensitive (ignoring
        surrounding spaces). ``WarehouseNotFound`` names the available warehouses otherwise."""
        warehouses = self.list_warehouses()
        names = [w["name"] for w in warehouses]
        exact = [w for w in warehouses if w["name"] == name]
        if len(exact) == 1:
            return exact[0]
        wanted = (name or "").strip().casefold()
        loose = exact if exact else [w for w in warehouses if w["name"].strip().casefold() == wanted]
        if len(loose) == 1:
            return loose[0]
        listing = ", ".join(f'"{n}"' for n in names) or "none"
        if len(loose) > 1:
            raise WarehouseNotFound(
                f'Several Order Manager warehouses are named "{name}"; rename one so the name is unique. '
                f"Available: {listing}",
                available=names,
            )
        raise WarehouseNotFound(f'Order Manager has no warehouse named "{name}". Available: {listing}', available=names)

    # -- orders --------------------------------------------------------------------------
    def iter_orders(
        self,
        *,
        statuses: Sequence[str],
        warehouse_id: int | None = None,
        modified_from: datetime | None = None,
        modified_to: datetime | None = None,
        limit: int = 100,
        on_too_large: Callable[[OversizeItem], None] | None = None,
    ) -> Iterator[dict]:
        """Orders in ``statuses`` (``GET /v1.1/orders``), page 1 onwards until a short page.

        Each order is yielded once (de-duplicated on ``orderId``). Paging follows the server's
        current state, so a caller that changes order statuses (send to fulfillment) should
        collect the pages first. A page repeating the previous one, or more than ``max_pages``
        pages, raises ``MalformedResponse`` rather than looping forever.

        A page larger than the size cap is read again in smaller pages (see ``_pages``); an order
        too large alone is passed to ``on_too_large`` and skipped, or, without one, raises
        ``ResponseTooLarge`` naming its position.
        """
        if isinstance(statuses, str) or not statuses:
            raise ValueError("statuses must be a non-empty sequence of Order Manager order statuses")
        if not 1 <= limit <= 1000:
            raise ValueError("limit must be between 1 and 1000")
        params: dict[str, Any] = {"status": list(statuses), "limit": limit}
        if warehouse_id is not None:
            params["warehouseId"] = int(warehouse_id)
        if modified_from is not None:
            params["modifiedDateFrom"] = format_datetime(modified_from)
        if modified_to is not None:
            params["modifiedDateTo"] = format_datetime(modified_to)
        path = "/v1.1/orders"
        seen: set = set()
        # Orders are not shape-checked one by one here: a single bad order must not sink its page.
        # The caller validates each one and quarantines what it cannot read.
        pages = self._pages(path, params, limit, "orders", key=_order_key, check=None, on_too_large=on_too_large)
        for page in pages:
            for order in page:
                key = _order_key(order)
                if key is None or key not in seen:
                    if key is not None:
                        seen.add(key)
                    yield order

    def get_orders(self, order_ids: Sequence[int]) -> list:
        """The current state of up to 1000 orders by id (``GET /v1.1/orders?orderId=..``), any status.

        Used to re-check orders right before acting on them. Items are passed through unchecked,
        like ``iter_orders``; ids Order Manager does not know are simply absent. An answer over
        the size cap is asked again in two halves of the ids, down to one id; one order over the
        cap alone raises ``ResponseTooLarge`` naming it.
        """
        ids = [int(i) for i in order_ids]
        if not ids:
            return []
        if len(ids) > 1000:
            raise ValueError("get_orders takes at most 1000 ids")
        path = "/v1.1/orders"
        try:
            # MindCloud's reference documents `limit` as 10-1000 (unverified; the spec states no range).
            value = self._call("GET", path, params={"orderId": ids, "page": 1, "limit": max(MIN_LIMIT, len(ids))})
        except ResponseTooLarge as exc:
            if len(ids) == 1:
                raise ResponseTooLarge(
                    f"{exc} Order {ids[0]} alone is over the cap; split or trim it in Order Manager",
                    status=exc.status,
                    method="GET",
                    path=path,
                ) from exc
            half = len(ids) // 2
            return self.get_orders(ids[:half]) + self.get_orders(ids[half:])
        if not isinstance(value, list):
            raise MalformedResponse(
                f"Order Manager answered GET {path} with {type(value).__name__} where a list of orders was expected",
                method="GET",
                path=path,
            )
        return value

    # -- paging --------------------------------------------------------------------------
    def _pages(
        self,
        path: str,
        params: dict,
        limit: int,
        what: str,
        *,
        key,
        check,
        on_too_large: Callable[[OversizeItem], None] | None = None,
    ) -> Iterator[list[dict]]:
        """Pages of a ``page``/``limit`` collection, with the two guards against endless paging.

        An answer over the HTTP layer's size cap (``ResponseTooLarge``) does not stop the read:
        page ``p`` at limit ``L`` holds items ``(p-1)L .. pL-1``, so that window is read again in
        pages of ``L // 2`` (keeping only the items inside it), halving again where still too
        large, down to one item a page. One item over the cap alone is passed to
        ``on_too_large`` as an ``OversizeItem`` and the read goes on after it; without a
        callback it raises ``ResponseTooLarge`` naming its position. After
        ``MAX_OVERSIZE_IN_A_ROW`` answers over the cap in a row the read gives up.

        Unverified: MindCloud's docs give ``limit`` a minimum of 10 for Order Manager lists; the
        vendor's spec states none. Below 10 a refusal would surface as ``RequestRejected`` naming
        the call (never a silent skip); the sandbox accepts any limit from 1.
        """
        oversize = [0]  # answers over the cap in a row, shared by every level of the read
        previous: list | None = None
        page_number = 1
        while True:
            if page_number > self.max_pages:
                raise MalformedResponse(
                    f"Order Manager kept returning full pages of {what} from GET {path} beyond page {self.max_pages}; "
                    "stopped to avoid an endless loop",
                    method="GET",
                    path=path,
                )
            try:
                items = self._page(path, params, page_number, limit, what, check, oversize)
            except ResponseTooLarge as exc:
                start = (page_number - 1) * limit
                found = yield from self._window(
                    path, params, start, start + limit, limit, what, key, check, on_too_large, oversize, exc
                )
                if found < limit:
                    return
                previous = None
                page_number += 1
                continue
            keys = [key(item) for item in items]
            if items and keys == previous:
                raise self._repeated(what, path, page_number)
            if items:
                yield items
            if len(items) < limit:
                return
            previous = keys
            page_number += 1

    def _window(self, path, params, start, end, limit, what, key, check, on_too_large, oversize, exc):
        """Items ``start .. end-1`` (0-based positions), whose page at ``limit`` was over the cap,
        read in pages of half that limit; returns how many of those positions exist (read or
        reported as oversize), fewer than ``end - start`` when the collection ends inside."""
        if limit == 1:
            item = self._oversize_item(path, params, start + 1, what)
            if on_too_large is None:
                raise ResponseTooLarge(item.message, status=exc.status, method="GET", path=path) from exc
            on_too_large(item)
            return 1
        size = limit // 2
        found = 0
        previous: list | None = None
        page_number = start // size + 1
        while (page_number - 1) * size < end:
            first = (page_number - 1) * size
            try:
                items = self._page(path, params, page_number, size, what, check, oversize)
            except ResponseTooLarge as smaller:
                low, high = max(start, first), min(end, first + size)
                got = yield from self._window(
                    path, params, low, high, size, what, key, check, on_too_large, oversize, smaller
                )
                found += got
                if got < high - low:
                    return found
                previous = None
                page_number += 1
                continue
            keys = [key(item) for item in items]
            if items and keys == previous:
                raise self._repeated(what, path, page_number)
            previous = keys
            inside = items[max(0, start - first) : end - first]
            if inside:
                yield inside
            found += len(inside)
            if len(items) < size:
                return found
            page_number += 1
        return found

    def _page(self, path: str, params: dict, page_number: int, limit: int, what: str, check, oversize: list) -> list:
        """One page, shape-checked; counts answers over the cap in a row and gives up past the bound."""
        try:
            answer = self._call("GET", path, params={**params, "limit": limit, "page": page_number})
        except ResponseTooLarge as exc:
            oversize[0] += 1
            if oversize[0] >= MAX_OVERSIZE_IN_A_ROW:
                raise MalformedResponse(
                    f"{exc}: over the size cap {oversize[0]} times in a row, down to one item a page; "
                    "Order Manager seems to answer too much whatever is asked, so the read stopped",
                    status=exc.status,
                    method="GET",
                    path=path,
                ) from exc
            raise
        oversize[0] = 0
        if check is None:
            if not isinstance(answer, list):
                raise MalformedResponse(
                    f"Order Manager answered GET {path} with {type(answer).__name__} where a list of {what} was expected",
                    method="GET",
                    path=path,
                )
            return answer
        items = self._list_of_dicts(answer, what, "GET", path)
        for item in items:
            check(item)
        return items

    @staticmethod
    def _repeated(what: str, path: str, page_number: int) -> MalformedResponse:
        return MalformedResponse(
            f"Order Manager returned the same {what} for page {page_number} as for page {page_number - 1} "
            f"of GET {path}; it seems to ignore the page parameter",
            method="GET",
            path=path,
        )

    def _oversize_item(self, path: str, params: dict, position: int, what: str) -> OversizeItem:
        filters = ", ".join(
            f"{name}={','.join(map(str, value)) if isinstance(value, list) else value}"
            for name, value in params.items()
            if name not in ("page", "limit")
        )
        cap = getattr(self.http, "max_response_bytes", None)
        message = (
            f"Order Manager sent an answer larger than {format_size(cap) if cap else 'the size cap'} for one of its {what} "
            f"alone: item {position} of GET {path} ({filters}); not read, so its id is unknown."
        )
        return OversizeItem(what=what, path=path, position=position, filters=filters, message=message)

    def get_order(self, order_id: int) -> dict:
        """``GET /v1.1/orders/{orderId}``; ``NotFound`` when Order Manager has no such order."""
        path = f"/v1.1/orders/{int(order_id)}"
        order = self._call("GET", path)
        if not isinstance(order, dict):
            raise MalformedResponse(
                f"Order Manager answered GET {path} with {type(order).__name__}, not an order", method="GET", path=path
            )
        self._require_int(order, "orderId", "an order", "GET", path)
        return order

    def send_to_fulfillment(self, order_ids: Sequence[int], warehouse_id: int) -> dict:
        """``POST /v1/orders/sendtofulfillment?orderId=..&warehouseId=..``: the documented way to
        mark orders exported (they leave AWAITING_3PL_EXPORT).

        At most 500 orders per call, so larger lists are sent in chunks and the answers merged:
        ``{"message": str, "errors": [ValidationDetailDto...], "results": {...},
        "ordersRemaining": bool, "orderBatches": [orderBatch...]}``. Per-order problems are in
        ``errors``; the call itself only raises for transport/HTTP failures. Not retried on 5xx.
        """
        ids = [int(order_id) for order_id in order_ids]
        merged: dict[str, Any] = {
            "message": "",
            "errors": [],
            "results": {},
            "ordersRemaining": False,
            "orderBatches": [],
        }
        path = "/v1/orders/sendtofulfillment"
        messages: list[str] = []
        for start in range(0, len(ids), MAX_SEND_TO_FULFILLMENT):
            chunk = ids[start : start + MAX_SEND_TO_FULFILLMENT]
            body = self._call("POST", path, params={"orderId": chunk, "warehouseId": int(warehouse_id)})
            if not isinstance(body, dict):
                raise MalformedResponse(
                    f"Order Manager answered POST {path} with {type(body).__name__}, not an object",
                    method="POST",
                    path=path,
                )
            errors = body.get("errors") or []
            self._list_of_dicts(errors, "validation errors", "POST", path)
            results = body.get("results") or {}
            if not isinstance(results, dict):
                raise MalformedResponse(
                    f"Order Manager answered POST {path} with results that are not an object", method="POST", path=path
                )
            remaining = body.get("ordersRemaining", False)
            if not isinstance(remaining, bool):
                raise MalformedResponse(
                    f"Order Manager answered POST {path} with a non-boolean ordersRemaining", method="POST", path=path
                )
            merged["errors"].extend(errors)
            merged["results"].update(results)
            merged["ordersRemaining"] = merged["ordersRemaining"] or remaining
            if body.get("orderBatch") is not None:
                merged["orderBatches"].append(body["orderBatch"])
            if isinstance(body.get("message"), str) and body["message"]:
                messages.append(body["message"])
        merged["message"] = "; ".join(messages)
        return merged

    # -- shipments -----------------------------------------------------------------------
    def create_external_shipments(
        self, shipments: list[dict], *, notify_customer: bool = False, update_channel: bool = True
    ) -> list[ShipmentResult]:
        """``PUT /v1.1/shipment/external``: one result per returned ``batchedOrder``.

        A per-order ``FAILED`` is returned, never raised. The PUT creates shipments, so it is
        not retried on 5xx or read timeouts: the caller checks the order before sending again.
        """
        if not isinstance(shipments, list) or not all(isinstance(s, dict) for s in shipments):
            raise ValueError("shipments must be a list of createExternalShipment dicts")
        if not shipments:
            return []
        path = "/v1.1/shipment/external"
        body = {"notifyCustomer": bool(notify_customer), "updateChannel": bool(update_channel), "shipments": shipments}
        answer = self._list_of_dicts(
            self._call("PUT", path, json=body, idempotent=False), "batched orders", "PUT", path
        )
        results = []
        for batched in answer:
            status = self._require_str(batched, "status", "a batched order", "PUT", path)
            order = batched.get("order") or {}
            if not isinstance(order, dict):
                raise MalformedResponse(
                    f"Order Manager answered PUT {path} with a batched order whose order is not an object",
                    method="PUT",
                    path=path,
                )
            results.append(
                ShipmentResult(
                    order_id=self._require_int(order, "orderId", "a batched order", "PUT", path, optional=True),
                    order_number=self._require_str(order, "orderNumber", "a batched order", "PUT", path, optional=True),
                    status=status,
                    message=self._require_str(
                        batched, "processingMessage", "a batched order", "PUT", path, optional=True
                    ),
                )
            )
        return results

    # -- inventory -----------------------------------------------------------------------
    def iter_stock_totals(
        self, warehouse_id: int, *, skus: Sequence[str] | None = None, limit: int = 200
    ) -> Iterator[StockTotal]:
        """Per-product totals in one warehouse (``GET /v1/productstocks/total``).

        With ``skus``, only products whose ``masterSku`` equals one of them exactly are yielded:
        the API's ``sku`` filter is a prefix search ("AB" also returns "ABC").
        """
        if not 1 <= limit <= 1000:
            raise ValueError("limit must be between 1 and 1000")
        path = "/v1/productstocks/total"
        base = {"warehouseId": int(warehouse_id), "limit": limit}
        if skus is None:
            queries = [base]
            wanted = None
        else:
            wanted = {sku for sku in skus if sku}
            unique = sorted(wanted)
            queries = [{**base, "sku": unique[i : i + SKUS_PER_QUERY]} for i in range(0, len(unique), SKUS_PER_QUERY)]
        seen: set[tuple] = set()
        for params in queries:
            for page in self._pages(path, params, limit, "stock totals", key=self._stock_key, check=self._check_stock):
                for row in page:
                    total = self._stock_total(row)
                    if wanted is not None and total.sku not in wanted:
                        continue
                    identity = (total.product_id, total.sku)
                    if identity not in seen:
                        seen.add(identity)
                        yield total

    @staticmethod
    def _stock_key(row: dict) -> tuple:
        product = row["product"]
        return (product.get("productId"), product.get("masterSku"))

    def _check_stock(self, row: dict) -> None:
        path = "/v1/productstocks/total"
        product = row.get("product")
        if not isinstance(product, dict):
            raise MalformedResponse(
                f"Order Manager answered GET {path} with a stock total without a product", method="GET", path=path
            )
        self._require_str(product, "masterSku", "a stock total's product", "GET", path)
        self._require_int(product, "productId", "a stock total's product", "GET", path, optional=True)
        for key in ("onHandQuantity", "lockedQuantity", "allocatedQuantity", "availableQuantity"):
            self._require_int(row, key, "a stock total", "GET", path, optional=True)

    @staticmethod
    def _stock_total(row: dict) -> StockTotal:
        product = row["product"]
        return StockTotal(
            sku=product["masterSku"],
            product_id=product.get("productId"),
            on_hand=row.get("onHandQuantity") or 0,
            locked=row.get("lockedQuantity") or 0,
            allocated=row.get("allocatedQuantity") or 0,
            available=row.get("availableQuantity") or 0,
        )

    def adjust_inventory(self, items: Sequence[dict], *, batch_size: int = MAX_ADJUST_BATCH) -> list[AdjustResult]:
        """Set absolute quantities (``POST /v1.1/inventory/adjust``), ``batch_size`` (<= 200) per call.

        ``items`` are ``PostInventoryAdjustDto`` dicts: ``warehouseId``, ``masterSku``,
        ``onHandQuantity`` and optionally ``stockLocationName``. One result per item, in order:
        per-item ``errors[]`` of the 200 answer (matched by 1-based ``index``, else by
        ``identifier``) become ``ok=False`` with their code (ERR097: no product stock, ERR053: no
        product). A 400 that lists per-item errors is reported the same way, the other items of
        that batch as ``BATCH_REJECTED``. Errors that name no item are appended with ``sku=""``.
        An absolute set is safe to repeat, so 5xx answers are retried.
        """
        if not 1 <= batch_size <= MAX_ADJUST_BATCH:
            raise ValueError(f"batch_size must be between 1 and {MAX_ADJUST_BATCH}")
        for item in items:
            self._check_adjust_item(item)
        results: list[AdjustResult] = []
        for start in range(0, len(items), batch_size):
            results.extend(self._adjust_batch(list(items[start : start + batch_size])))
        return results

    @staticmethod
    def _check_adjust_item(item: dict) -> None:
        if not isinstance(item, dict):
            raise ValueError("each inventory adjust item must be a dict")
        if not is_int(item.get("warehouseId")) or not is_int(item.get("onHandQuantity")):
            raise ValueError("inventory adjust items need integer warehouseId and onHandQuantity")
        if not (isinstance(item.get("masterSku"), str) and item["masterSku"]) and not is_int(item.get("productId")):
            raise ValueError("inventory adjust items need a masterSku (or productId)")

    def _adjust_batch(self, batch: list[dict]) -> list[AdjustResult]:
        path = "/v1.1/inventory/adjust"
        rejected = False
        try:
            body = self._call("POST", path, json=batch, ok_statuses=(200, 201), idempotent=True)
        except RequestRejected as exc:
            # A 400 can still say which items were wrong; anything else is for the caller.
            if exc.status != 400 or not isinstance(exc.details, dict) or not exc.details.get("errors"):
                raise
            body, rejected = exc.details, True
        if not isinstance(body, dict):
            raise MalformedResponse(
                f"Order Manager answered POST {path} with {type(body).__name__}, not an object",
                method="POST",
                path=path,
            )
        errors = self._list_of_dicts(body.get("errors") or [], "validation errors", "POST", path)
        per_item: dict[int, list[dict]] = {}
        unmatched: list[dict] = []
        for error in errors:
            position = self._error_position(error, batch)
            (per_item.setdefault(position, []) if position is not None else unmatched).append(error)

        def sku_of(item: dict) -> str:
            return item.get("masterSku") or str(item.get("productId", ""))

        results = []
        for position, item in enumerate(batch):
            failures = [e for e in per_item.get(position, []) if self._is_failure(e)]
            notes = [self._error_text(e) for e in per_item.get(position, [])]
            if failures:
                code = str(failures[0].get("errorCode") or "ERROR")
                results.append(AdjustResult(sku_of(item), False, code, "; ".join(notes)))
            elif rejected:
                results.append(
                    AdjustResult(
                        sku_of(item),
                        False,
                        "BATCH_REJECTED",
                        str(body.get("message") or "Order Manager rejected the whole batch"),
                    )
                )
            else:
                results.append(AdjustResult(sku_of(item), True, "", "; ".join(notes)))
        for error in unmatched:
            if self._is_failure(error):
                results.append(AdjustResult("", False, str(error.get("errorCode") or "ERROR"), self._error_text(error)))
        return results

    @staticmethod
    def _is_failure(error: dict) -> bool:
        # INFO and WARNING details accompany items that were applied.
        return str(error.get("severity") or "CRITICAL").upper() not in ("INFO", "WARNING")

    @staticmethod
    def _error_text(error: dict) -> str:
        code = error.get("errorCode")
        message = error.get("message") or ""
        return f"{code}: {message}" if code and message else str(code or message or "error")

    @staticmethod
    def _error_position(error: dict, batch: list[dict]) -> int | None:
        index = error.get("index")
        if is_int(index) and 1 <= index <= len(batch):
            return index - 1  # Order Manager's index is 1-based
        identifier = error.get("identifier") if error.get("identifier") is not None else error.get("userIdentifier")
        if isinstance(identifier, dict):
            sku = identifier.get("masterSku") or identifier.get("sku")
            product_id = identifier.get("productId")
        else:
            sku, product_id = (identifier if isinstance(identifier, str) else None), None
        for position, item in enumerate(batch):
            if (sku and item.get("masterSku") == sku) or (
                product_id is not None and item.get("productId") == product_id
            ):
                return position
        return None

    # -- limits --------------------------------------------------------------------------
    def throttle_limits(self) -> list[dict]:
        """``GET /v1/throttlelimits``: ``[{requestMethod, requestPath, notes, throttleConfig{...}}]``."""
        path = "/v1/throttlelimits"
        limits = self._list_of_dicts(self._call("GET", path), "throttle limits", "GET", path)
        for limit in limits:
            config = limit.get("throttleConfig")
            if config is None:
                continue
            if not isinstance(config, dict):
                raise MalformedResponse(
                    f"Order Manager answered GET {path} with a throttleConfig that is not an object",
                    method="GET",
                    path=path,
                )
            for key in ("quotaMaxRequest", "quotaMaxRequestHourly", "quotaRestoreRate"):
                self._require_int(config, key, "a throttle limit", "GET", path, optional=True)
        return limits
