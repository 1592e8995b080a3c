"""Client for the Extensiv Order Manager (formerly Skubana) REST API.

Speaks the protocol of connectors/specs/order-manager-openapi.json (the vendor's spec) as set out,
call by call with its evidence, in docs/wire-protocols.md: versioned paths (/v1, /v1.1), ``Authorization:
Bearer``, ``page``/``limit`` paging of bare JSON arrays, 429 with ``x-skubana-quota-retryAfter``
(handled by ``connectors.transport``), bulk writes answering 200 with per-item ``errors[]``.

Contract:
- ``OrderManagerClient`` holds the calls (orders, shipments, stock, warehouses, throttle limits);
  the rules they follow are its neighbours': paged reads past the size cap (``paging``), stock
  queries and per-item adjust answers (``inventory``), errors in plain words (``errors``);
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

from connectors.errors import AuthenticationError, RequestRejected
from connectors.order_manager.errors import WarehouseNotFound, read_answer, rejected_token, unreadable_order
from connectors.order_manager.inventory import (
    MAX_ADJUST_BATCH,
    AdjustResult,
    StockTotal,
    adjust_results,
    check_adjust_items,
    stock_key,
    stock_queries,
    stock_totals,
)
from connectors.order_manager.paging import OversizeItem, PagedRead, halve_on_oversize
from connectors.order_manager.wire_answers import (
    OmAdjustAnswer,
    OmBatchedOrder,
    OmFulfillmentAnswer,
    OmStockTotalRow,
    OmThrottleLimit,
    OmWarehouse,
)
from connectors.order_manager.wire_orders import OmOrderState, ReceivedOrder
from connectors.transport import BearerToken, HttpClient

__all__ = ["OrderManagerClient", "ShipmentResult", "format_datetime"]

SERVICE = "Order Manager"
MAX_SEND_TO_FULFILLMENT = 500  # documented maximum of POST /v1/orders/sendtofulfillment per call
# The smallest page size sent when the hub chooses it (get_orders); see get_orders.
MIN_LIMIT = 10


@dataclass
class ShipmentResult:
    """One ``batchedOrder`` of ``PUT /v1.1/shipment/external``; ``status`` PENDING/SHIPPED/FAILED/CANCELLED."""

    order_id: int | None
    order_number: str
    status: str
    message: str


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

        # A stored token: BearerToken sends it as is and never retries a 401 (nothing could renew it).
        return self._auth.send(
            lambda authorization: self.http.json(method, path, headers=authorization, **kwargs),
            rejected=lambda exc: rejected_token(exc, method, path),
        )

    def _paged_read(self, path: str, params: dict, what: str, **kwargs: Any) -> PagedRead:
        """A ``PagedRead`` of ``GET path`` through this client's calls (``paging``)."""
        cap = getattr(self.http, "max_response_bytes", None)
        return PagedRead(self._call, path, params, what, max_pages=self.max_pages, cap=cap, **kwargs)

    # -- warehouses ----------------------------------------------------------------------
    def list_warehouses(self) -> list[OmWarehouse]:
        """``GET /v1/warehouses``: every warehouse (not paginated), each with int ``warehouseId`` and ``name``."""
        path = "/v1/warehouses"
        return read_answer(list[OmWarehouse], self._call("GET", path), "GET", path, root="warehouses")

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

        A page larger than the size cap is read again in smaller pages (``paging.PagedRead``); an order
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
        pages = self._paged_read(
            path,
            params,
            "orders",
            key=lambda order: order.order_id,
            read=self._received_orders,
            on_too_large=on_too_large,
        )
        for page in pages.pages(limit):
            for order in page:
                key = order.order_id
                if key is None or key not in seen:
                    if key is not None:
                        seen.add(key)
                    yield order

    def _received_orders(self, answer: Any) -> list[ReceivedOrder]:
        # Only the page is checked as a whole (a list): each order is read on its own.
        path = "/v1.1/orders"
        return [ReceivedOrder.of(raw) for raw in read_answer(list[Any], answer, "GET", path, root="orders")]

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

        def fetch(some: list[int]) -> list[OmOrderState]:
            # MindCloud's reference documents `limit` as 10-1000 (unverified; the spec states no range).
            value = self._call("GET", path, params={"orderId": some, "page": 1, "limit": max(MIN_LIMIT, len(some))})
            states = [OmOrderState.read(raw) for raw in read_answer(list[Any], value, "GET", path, root="orders")]
            return [state for state in states if state.order_id is not None]

        return halve_on_oversize(fetch, ids, path)

    def get_order(self, order_id: int) -> ReceivedOrder:
        """``GET /v1.1/orders/{orderId}``; ``NotFound`` when Order Manager has no such order.

        An order that is not usable is returned with its problem, as by ``iter_orders``; an
        answer that is not an order with a readable ``orderId`` at all is ``MalformedResponse``.
        """
        path = f"/v1.1/orders/{int(order_id)}"
        answer = self._call("GET", path)
        order = ReceivedOrder.of(answer)
        if order.order_id is None:
            raise unreadable_order(answer, path)
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
            answer = read_answer(OmFulfillmentAnswer, body, "POST", path)
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
        batched = read_answer(list[OmBatchedOrder], answer, "PUT", path, root="batchedOrders")
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
        queries, wanted = stock_queries({"warehouseId": int(warehouse_id), "limit": limit}, skus)
        seen: set[tuple] = set()
        for params in queries:
            pages = self._paged_read(path, params, "stock totals", key=stock_key, read=self._stock_totals)
            for page in pages.pages(limit):
                for total in page:
                    if wanted is not None and total.sku not in wanted:
                        continue
                    identity = (total.product_id, total.sku)
                    if identity not in seen:
                        seen.add(identity)
                        yield total

    @staticmethod
    def _stock_totals(answer: Any) -> list[StockTotal]:
        return stock_totals(read_answer(list[OmStockTotalRow], answer, "GET", "/v1/productstocks/total", root="totals"))

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
        check_adjust_items(items)
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
        return adjust_results(read_answer(OmAdjustAnswer, body, "POST", path), batch, rejected=rejected)

    # -- limits --------------------------------------------------------------------------
    def throttle_limits(self) -> list[OmThrottleLimit]:
        """``GET /v1/throttlelimits``: ``[{requestMethod, requestPath, notes, throttleConfig{...}}]``
        (``wire_answers.throttle_rate`` reads the pace they allow)."""
        path = "/v1/throttlelimits"
        return read_answer(list[OmThrottleLimit], self._call("GET", path), "GET", path, root="throttleLimits")
