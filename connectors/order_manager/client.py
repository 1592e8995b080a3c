"""Client for the Extensiv Order Manager (formerly Skubana) REST API.

Speaks the protocol of connectors/specs/order-manager-openapi.json (the vendor's spec) as set out,
call by call with its evidence, in docs/wire-protocols.md: versioned paths (/v1, /v1.1), ``Authorization:
Bearer``, ``page``/``limit`` paging of bare JSON arrays, 429 with ``x-skubana-quota-retryAfter``
(handled by ``connectors.transport``), bulk writes answering 200 with per-item ``errors[]``.

Contract:
- every call goes through ``HttpClient`` and raises only ``connectors.errors`` types;
- authentication is a static ``Authorization: Bearer`` app-install token (``connectors.order_manager.install``
  obtains it); a 401 is ``AuthenticationError`` asking for a reconnect (no re-authentication);
- answers are read through the wire models of ``connectors.order_manager.wire_orders`` (orders) and
  ``connectors.order_manager.wire_answers`` (the rest), with pydantic:
  a malformed answer is ``MalformedResponse`` naming the call and each bad field; string fields
  are passed through as Order Manager sent them;
- orders come out typed but never sink their page: each one is a ``ReceivedOrder``, holding
  either the validated ``OmOrder`` or the problem that makes it unusable (the job records it);
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
from connectors.order_manager.wire_answers import (
    InventoryAdjustItem,
    OmAdjustAnswer,
    OmBatchedOrder,
    OmFulfillmentAnswer,
    OmStockTotalRow,
    OmThrottleLimit,
    OmValidationDetail,
    OmWarehouse,
)
from connectors.order_manager.wire_orders import OmOrderState, ReceivedOrder
from connectors.transport import BearerToken, HttpClient, format_size
from connectors.wire import WireError, got, validate

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


def _stock_key(total: StockTotal) -> tuple:
    return (total.product_id, total.sku)


def format_datetime(value: datetime) -> str:
    """UTC ``yyyy-MM-ddTHH:mm:ssZ`` as Order Manager expects; naive datetimes are refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("Order Manager dates must be timezone-aware (got a naive datetime)")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class OrderManagerClient:
    """One Order Manager account, reached with the access token of an app install (static Bearer).

    The API has no password grant: its only security scheme is OAuth2 authorization code through
    an app install (the vendor spec's ``components.securitySchemes``; skuvault-integrations/skubanaAccess
    ``src/SkubanaAccess/Services/Authentication/AuthenticationService.cs``). The token is obtained once
    by ``connectors.order_manager.install`` and then sent as a static Bearer on every call, as
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

    # -- reading answers -----------------------------------------------------------------
    @staticmethod
    def _read(kind: Any, value: Any, method: str, path: str, *, root: str = "") -> Any:
        """``value`` (an answer of ``method path``) validated as ``kind`` (a wire model, or a
        list of them named ``root``); ``MalformedResponse`` names the call and each bad field."""
        try:
            return validate(kind, value, root=root)
        except WireError as exc:
            raise MalformedResponse(
                f"Order Manager's answer to {method} {path} is malformed: {exc}", method=method, path=path
            ) from None

    # -- warehouses ----------------------------------------------------------------------
    def list_warehouses(self) -> list[OmWarehouse]:
        """``GET /v1/warehouses``: every warehouse (not paginated), each with int ``warehouseId`` and ``name``."""
        path = "/v1/warehouses"
        return self._read(list[OmWarehouse], self._call("GET", path), "GET", path, root="warehouses")

    def resolve_warehouse(self, name: str) -> OmWarehouse:
        """The warehouse called ``name``: exact match first, then case-insensitive (ignoring
        surrounding spaces). ``WarehouseNotFound`` names the available warehouses otherwise."""
        warehouses = self.list_warehouses()
        names = [w.name for w in warehouses]
        exact = [w for w in warehouses if w.name == name]
        if len(exact) == 1:
            return exact[0]
        wanted = (name or "").strip().casefold()
        loose = exact if exact else [w for w in warehouses if w.name.strip().casefold() == wanted]
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
    ) -> Iterator[ReceivedOrder]:
        """Orders in ``statuses`` (``GET /v1.1/orders``), page 1 onwards until a short page.

        Each order is yielded once (de-duplicated on ``orderId``) as a ``ReceivedOrder``: an order
        that cannot be read is yielded with its problem, so it does not sink its page. Paging follows the server's
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
        pages = self._pages(
            path,
            params,
            limit,
            "orders",
            key=lambda order: order.order_id,
            read=self._received_orders,
            on_too_large=on_too_large,
        )
        for page in pages:
            for order in page:
                key = order.order_id
                if key is None or key not in seen:
                    if key is not None:
                        seen.add(key)
                    yield order

    def _received_orders(self, answer: Any) -> list[ReceivedOrder]:
        # Only the page is checked as a whole (a list): each order is read on its own.
        path = "/v1.1/orders"
        return [ReceivedOrder.of(raw) for raw in self._read(list[Any], answer, "GET", path, root="orders")]

    def get_orders(self, order_ids: Sequence[int]) -> list[OmOrderState]:
        """The current state of up to 1000 orders by id (``GET /v1.1/orders?orderId=..``), any status.

        Used to re-check orders right before acting on them: each one's id, number, status and
        tracking numbers, read leniently (``OmOrderState``: an unreadable field is unknown, an
        order without a readable id is left out); ids Order Manager does not know are simply
        absent. An answer over
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
        states = [OmOrderState.read(raw) for raw in self._read(list[Any], value, "GET", path, root="orders")]
        return [state for state in states if state.order_id is not None]

    # -- paging --------------------------------------------------------------------------
    def _pages(
        self,
        path: str,
        params: dict,
        limit: int,
        what: str,
        *,
        key: Callable[[Any], Any],
        read: Callable[[Any], list],
        on_too_large: Callable[[OversizeItem], None] | None = None,
    ) -> Iterator[list]:
        """Pages of a ``page``/``limit`` collection, with the two guards against endless paging.

        ``read`` turns one page's answer into its items (typed, checked by the wire models);
        ``key`` gives an item's identity, for the repeated-page guard.

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
                items = self._page(path, params, page_number, limit, read, oversize)
            except ResponseTooLarge as exc:
                start = (page_number - 1) * limit
                found = yield from self._window(
                    path, params, start, start + limit, limit, what, key, read, on_too_large, oversize, exc
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

    def _window(self, path, params, start, end, limit, what, key, read, on_too_large, oversize, exc):
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
                items = self._page(path, params, page_number, size, read, oversize)
            except ResponseTooLarge as smaller:
                low, high = max(start, first), min(end, first + size)
                count = yield from self._window(
                    path, params, low, high, size, what, key, read, on_too_large, oversize, smaller
                )
                found += count
                if count < high - low:
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

    def _page(self, path: str, params: dict, page_number: int, limit: int, read, oversize: list) -> list:
        """One page, read by ``read``; counts answers over the cap in a row and gives up past the bound."""
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
        return read(answer)

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

    def get_order(self, order_id: int) -> ReceivedOrder:
        """``GET /v1.1/orders/{orderId}``; ``NotFound`` when Order Manager has no such order.

        An order that is not usable is returned with its problem, as by ``iter_orders``; an
        answer that is not an order with a readable ``orderId`` at all is ``MalformedResponse``.
        """
        path = f"/v1.1/orders/{int(order_id)}"
        answer = self._call("GET", path)
        order = ReceivedOrder.of(answer)
        if order.order_id is None:
            value = answer.get("orderId") if isinstance(answer, dict) else answer
            what = "orderId" if isinstance(answer, dict) else "the order"
            expected = "a positive integer" if isinstance(answer, dict) else "an object"
            raise MalformedResponse(
                f"Order Manager's answer to GET {path} is malformed: {what}: expected {expected}, got {got(value)}",
                method="GET",
                path=path,
            )
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
            answer = self._read(OmFulfillmentAnswer, body, "POST", path)
            merged["errors"].extend(answer.errors)
            merged["results"].update(answer.results)
            merged["ordersRemaining"] = merged["ordersRemaining"] or answer.orders_remaining
            if answer.order_batch is not None:
                merged["orderBatches"].append(answer.order_batch)
            if answer.message:
                messages.append(answer.message)
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
        answer = self._call("PUT", path, json=body, idempotent=False)
        batched = self._read(list[OmBatchedOrder], answer, "PUT", path, root="batchedOrders")
        return [
            ShipmentResult(
                order_id=item.order.order_id,
                order_number=item.order.order_number,
                status=item.status,
                message=item.processing_message,
            )
            for item in batched
        ]

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
            pages = self._pages(path, params, limit, "stock totals", key=_stock_key, read=self._stock_totals)
            for page in pages:
                for total in page:
                    if wanted is not None and total.sku not in wanted:
                        continue
                    identity = (total.product_id, total.sku)
                    if identity not in seen:
                        seen.add(identity)
                        yield total

    def _stock_totals(self, answer: Any) -> list[StockTotal]:
        rows = self._read(list[OmStockTotalRow], answer, "GET", "/v1/productstocks/total", root="totals")
        return [
            StockTotal(
                sku=row.product.master_sku,
                product_id=row.product.product_id,
                on_hand=row.on_hand or 0,
                locked=row.locked or 0,
                allocated=row.allocated or 0,
                available=row.available or 0,
            )
            for row in rows
        ]

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
        for number, item in enumerate(items, start=1):
            try:
                validate(InventoryAdjustItem, item)
            except WireError as exc:
                raise ValueError(f"inventory adjust item {number} cannot be sent: {exc}") from None
        results: list[AdjustResult] = []
        for start in range(0, len(items), batch_size):
            results.extend(self._adjust_batch(list(items[start : start + batch_size])))
        return results

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
        answer = self._read(OmAdjustAnswer, body, "POST", path)
        per_item: dict[int, list[OmValidationDetail]] = {}
        unmatched: list[OmValidationDetail] = []
        for error in answer.errors:
            position = self._error_position(error, batch)
            (per_item.setdefault(position, []) if position is not None else unmatched).append(error)

        def sku_of(item: dict) -> str:
            return item.get("masterSku") or str(item.get("productId", ""))

        results = []
        for position, item in enumerate(batch):
            failures = [e for e in per_item.get(position, []) if e.is_failure]
            notes = [e.text for e in per_item.get(position, [])]
            if failures:
                code = failures[0].error_code or "ERROR"
                results.append(AdjustResult(sku_of(item), False, code, "; ".join(notes)))
            elif rejected:
                results.append(
                    AdjustResult(
                        sku_of(item),
                        False,
                        "BATCH_REJECTED",
                        answer.message or "Order Manager rejected the whole batch",
                    )
                )
            else:
                results.append(AdjustResult(sku_of(item), True, "", "; ".join(notes)))
        for error in unmatched:
            if error.is_failure:
                results.append(AdjustResult("", False, error.error_code or "ERROR", error.text))
        return results

    @staticmethod
    def _error_position(error: OmValidationDetail, batch: list[dict]) -> int | None:
        index = error.index
        if index is not None and 1 <= index <= len(batch):
            return index - 1  # Order Manager's index is 1-based
        identifier = error.target
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
    def throttle_limits(self) -> list[OmThrottleLimit]:
        """``GET /v1/throttlelimits``: ``[{requestMethod, requestPath, notes, throttleConfig{...}}]``
        (``order_manager_answers.throttle_rate`` reads the pace they allow)."""
        path = "/v1/throttlelimits"
        return self._read(list[OmThrottleLimit], self._call("GET", path), "GET", path, root="throttleLimits")
