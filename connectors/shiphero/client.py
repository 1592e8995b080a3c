"""Client for ShipHero's public GraphQL API, scoped to one warehouse (and, for a 3PL, one customer).

Contract (wire details and their evidence, call by call: docs/wire-protocols.md, ShipHero):

- ``ShipHeroClient`` implements ``connectors.wms.base.WarehouseClient`` with the same neutral
  answers as the 3PL client (``connectors.wms.orders.WmsOrder`` / ``StockReport``), each call
  one static, schema-validated document (``operations``) sent by ``calls.GraphQLSession``
  (credits, shared token, errors);
- orders are known to the hub by ShipHero's integer ``legacy_id`` (``WmsOrder.order_id``); the
  UUID ``id`` the API takes is looked up with the ``uuid`` query and remembered;
- ``create_order`` adds the connection's scope to the body (``customer_account_id`` when set;
  every line item locked to ``warehouse_id``), and a refusal saying the reference is taken is
  ``DuplicateOrder`` with the existing order looked up (``find_order_by_reference``); it is
  not idempotent: the jobs look the order up before sending;
- ``iter_orders_modified_since`` pages ``orders(updated_from:)`` by cursor, with every shipment
  and label; ``stock_report`` pages ``warehouse_products(warehouse_id:)``;
- a malformed answer is ``MalformedResponse`` naming the call and the field; every failure is
  one of ``connectors.errors``' types (plus ``DuplicateOrder`` and ``OrderNotCancellable``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.errors import ConnectorError, MalformedResponse, NotFound, TransientError
from connectors.shapes import is_int
from connectors.shiphero import operations as ops
from connectors.shiphero import token as sh_token
from connectors.shiphero.calls import GRAPHQL_PATH, GraphQLSession
from connectors.shiphero.credits import bucket_for
from connectors.shiphero.errors import DuplicateOrder, OrderNotCancellable, cancel_refusal, error_for, is_duplicate
from connectors.shiphero.system import SYSTEM
from connectors.shiphero.wire import LegacyId, OrderConnection, ProductConnection, ShOrder, read
from connectors.transport import HttpClient
from connectors.wms.base import WarehouseClient
from connectors.wms.orders import StockReport, WmsOrder

__all__ = ["MAX_PAGE_SIZE", "ORDERS_PAGE_SIZE", "STOCK_PAGE_SIZE", "ShipHeroClient"]

MAX_PAGE_SIZE = 100  # the largest `first` a caller may ask of an orders page
# ShipHero charges a query by what it asks for, `first` times its selections, not by what comes
# back (credits.py). An order with its shipments and labels costs about 31 credits, so a page of
# 100 costs about 3,100 of the 4,004 bucket refilled at 60 a second: two such pages in a row wait
# about 40 s. Pages of 25 cost about 780 (13 s of refill) and are what the client asks for,
# whatever larger page a job asks: the job pages on by cursor either way.
ORDERS_PAGE_SIZE = 25
STOCK_PAGE_SIZE = 100  # about 1,300 credits: a stock row is cheap
# Orders read when looking one up by partner_order_id (re-created ones included); each costs
# about 27 credits asked, so a look-up before every re-send stays cheap.
REFERENCE_MATCHES = 5


class ShipHeroClient(WarehouseClient):
    """One ShipHero account's calls for one warehouse. Thread-safe."""

    system = SYSTEM

    def __init__(
        self,
        base_url: str,
        *,
        refresh_token: str,
        warehouse_id: str,
        customer_account_id: str = "",
        timeout=(5, 30),
        on_call=None,
        block_private_addresses: bool = True,
        limiter=None,
        pool_maxsize: int = 10,
        max_retries: int | None = None,
    ) -> None:
        if not isinstance(warehouse_id, str) or not warehouse_id.strip():
            raise ValueError("warehouse_id must be the ShipHero warehouse's id (Warehouse.id)")
        self.base_url = base_url.rstrip("/")
        self.warehouse_id = warehouse_id.strip()
        self.customer_account_id = (customer_account_id or "").strip()
        options: dict[str, Any] = {"max_retries": max_retries} if max_retries is not None else {}
        self.http = HttpClient(
            self.base_url,
            timeout=timeout,
            on_call=on_call,
            service="ShipHero",
            block_private_addresses=block_private_addresses,
            limiter=limiter,
            pool_maxsize=pool_maxsize,
            **options,
        )
        key = sh_token.cache_key(self.base_url, refresh_token)
        self.session = GraphQLSession(self.http, key=key, refresh_token=refresh_token, bucket=bucket_for(key))
        self._uuids: dict[int, str] = {}
        self._uuids_lock = threading.Lock()

    def __repr__(self) -> str:  # never the refresh token
        return f"ShipHeroClient({self.base_url!r}, warehouse_id={self.warehouse_id!r})"

    @property
    def credits(self):
        """The account's credit bucket (`connectors.shiphero.credits`), shared by its clients."""
        return self.session.bucket

    def close(self) -> None:
        self.http.close()

    # -- helpers -------------------------------------------------------------------------------
    def _scope(self, **variables: Any) -> dict[str, Any]:
        """Variables without empty values, plus the 3PL's customer when there is one."""
        if self.customer_account_id:
            variables["customer_account_id"] = self.customer_account_id
        return {name: value for name, value in variables.items() if value not in (None, "")}

    def _remember(self, order: ShOrder) -> ShOrder:
        with self._uuids_lock:
            self._uuids[order.legacy_id] = order.id
        return order

    def _order(self, data: Any, call: str, root: str) -> ShOrder:
        return self._remember(read(ShOrder, data, call=call, root=root))

    # -- authentication ------------------------------------------------------------------------
    def authenticate(self) -> None:
        """Mint a fresh token from the refresh token, then read the account's credits
        (`user_quota`) to pace by its own numbers. A refused refresh token is
        `AuthenticationError`."""
        self.session.renew_token()
        self.session.calibrate()

    # -- orders --------------------------------------------------------------------------------
    def create_order(self, body: Mapping[str, Any]) -> WmsOrder:
        reference = body.get("partner_order_id")
        if not isinstance(reference, str) or not reference.strip():
            raise ValueError("the order needs a partner_order_id (our order number): it is how the hub finds it again")
        data = dict(body)
        if self.customer_account_id:
            data["customer_account_id"] = self.customer_account_id
        data["line_items"] = [{**item, "warehouse_id": self.warehouse_id} for item in body.get("line_items") or []]
        action = f"create order {reference}"
        root, problems = self.session.execute(ops.CREATE_ORDER, {"data": data}, action=action, with_problems=True)
        if problems:
            if is_duplicate(problems):
                self._raise_duplicate(reference, problems)
            raise error_for(problems, action=action, path=GRAPHQL_PATH)
        order = self._order(root.get("order"), "order_create", "data.order_create.order")
        return order.to_order()

    def _raise_duplicate(self, reference: str, problems) -> None:
        note = ""
        try:
            existing = self.find_order_by_reference(reference)
        except TransientError:
            raise  # the next attempt sees the duplicate again and looks again
        except ConnectorError as exc:
            existing, note = None, f" Looking up the existing order failed: {exc}"
        found = f" as order {existing.order_id}" if existing else " (not found by partner_order_id)"
        raise DuplicateOrder(
            f"ShipHero already has an order with partner_order_id {reference}{found}.{note}",
            existing=existing,
            status=200,
            method="POST",
            path=GRAPHQL_PATH,
            details=[p.__dict__ for p in problems],
        )

    def find_order_by_reference(self, reference: str) -> WmsOrder | None:
        """The order whose ``partner_order_id`` is ``reference``; of several (a canceled one and a
        re-created one), the newest one not canceled."""
        if not reference:
            raise ValueError("reference must not be empty (it would match orders without one)")
        variables = self._scope(partner_order_id=reference, first=REFERENCE_MATCHES)
        root = self.session.execute(ops.ORDERS_BY_REFERENCE, variables, action=f"look up order {reference}")
        page = read(OrderConnection, root.get("data"), call="orders (by partner_order_id)", root="data.orders.data")
        matches = [
            self._remember(edge.node).to_order() for edge in page.edges if edge.node.partner_order_id == reference
        ]
        if not matches:
            return None
        return max(matches, key=lambda order: (not order.is_canceled, order.order_id))

    def _uuid_of(self, order_id: int) -> str:
        with self._uuids_lock:
            known = self._uuids.get(order_id)
        if known:
            return known
        root = self.session.execute(
            ops.LEGACY_ORDER_ID, {"legacy_id": order_id}, action=f"look up the id of order {order_id}"
        )
        if root.get("data") is None:
            raise NotFound(f"ShipHero has no order {order_id}.", method="POST", path=GRAPHQL_PATH)
        found = read(LegacyId, root.get("data"), call="uuid", root="data.uuid.data")
        with self._uuids_lock:
            self._uuids[order_id] = found.id
        return found.id

    def _read_order(self, order_id: int) -> ShOrder:
        if not is_int(order_id) or order_id <= 0:
            raise ValueError("order_id must be ShipHero's legacy_id (a positive integer)")
        root = self.session.execute(ops.ORDER, {"id": self._uuid_of(order_id)}, action=f"read order {order_id}")
        if root.get("data") is None:
            raise NotFound(f"ShipHero has no order {order_id}.", method="POST", path=GRAPHQL_PATH)
        order = self._order(root.get("data"), "order", "data.order.data")
        if order.legacy_id != order_id:
            raise MalformedResponse(
                f"ShipHero answered order {order_id} with order {order.legacy_id}.", method="POST", path=GRAPHQL_PATH
            )
        return order

    def get_order(self, order_id: int) -> WmsOrder:
        return self._read_order(order_id).to_order()

    def cancel_order(self, order_id: int, reason: str) -> str:
        """Cancel an open order: ``"cancelled"`` or ``"already_cancelled"``. A fulfilled order, or
        ShipHero refusing (e.g. labels already bought: the hub never forces), is
        ``OrderNotCancellable``."""
        current = self._read_order(order_id).to_order()
        if current.is_canceled:
            return "already_cancelled"
        if current.is_closed:
            raise OrderNotCancellable(
                f"ShipHero order {order_id} is already fulfilled (shipped); it can no longer be canceled.",
                reason="fulfilled/shipped",
                method="POST",
                path=GRAPHQL_PATH,
            )
        data = self._scope(order_id=self._uuid_of(order_id), reason=(reason or "").strip() or None)
        action = f"cancel order {order_id}"
        root, problems = self.session.execute(ops.CANCEL_ORDER, {"data": data}, action=action, with_problems=True)
        if problems:
            error = error_for(problems, action=action, path=GRAPHQL_PATH)
            raise (
                error
                if isinstance(error, (TransientError, NotFound))
                else cancel_refusal(problems, order_id=order_id, path=GRAPHQL_PATH)
            )
        after = self._order(root.get("order"), "order_cancel", "data.order_cancel.order").to_order()
        if not after.is_canceled:
            raise OrderNotCancellable(
                f"ShipHero answered the cancel of order {order_id} but the order is still open.",
                reason="still open after the cancel",
                method="POST",
                path=GRAPHQL_PATH,
            )
        return "cancelled"

    def iter_orders_modified_since(self, since: datetime, *, page_size: int = MAX_PAGE_SIZE) -> Iterator[WmsOrder]:
        """Orders updated at or after ``since`` (aware), each with every shipment and label, paged
        by cursor. An order seen twice unchanged (pages shifting) is yielded once; a page that
        says there is more without a new cursor raises ``MalformedResponse`` instead of looping."""
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        if since.tzinfo is None:
            raise ValueError("since must be an aware datetime")
        # Whole seconds, rounded down, in UTC without an offset (docs/wire-protocols.md SH-6).
        updated_from = since.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat()
        return self._orders_pages(updated_from, min(page_size, ORDERS_PAGE_SIZE))

    def _orders_pages(self, updated_from: str, page_size: int) -> Iterator[WmsOrder]:
        after: str | None = None
        seen: set[tuple[int, datetime | None]] = set()
        cursors: set[str] = set()
        while True:
            variables = self._scope(updated_from=updated_from, first=page_size, after=after)
            root = self.session.execute(ops.ORDERS_UPDATED_SINCE, variables, action="list updated orders")
            page = read(OrderConnection, root.get("data"), call="orders (updated since)", root="data.orders.data")
            for edge in page.edges:
                order = self._remember(edge.node)
                if (order.legacy_id, order.updated_at) not in seen:
                    seen.add((order.legacy_id, order.updated_at))
                    yield order.to_order()
            after = _next_cursor(page.page_info, cursors, "orders (updated since)")
            if after is None:
                return

    # -- stock ---------------------------------------------------------------------------------
    def stock_report(self) -> StockReport:
        """Whole units ``available`` per SKU in this warehouse (every page). A SKU whose
        ``available`` is not a whole number of 0 or more is set aside in ``invalid``; rows of
        another warehouse are counted in ``other_customer_rows``, never summed. When every row
        names another warehouse the configured id is wrong (a legacy id instead of the UUID,
        say): ``MalformedResponse``, never an empty stock."""
        available: dict[str, int] = {}
        invalid: dict[str, str] = {}
        rows = other = 0
        after: str | None = None
        cursors: set[str] = set()
        while True:
            variables = self._scope(warehouse_id=self.warehouse_id, first=STOCK_PAGE_SIZE, after=after)
            root = self.session.execute(ops.WAREHOUSE_STOCK, variables, action="read the warehouse's stock")
            page = read(
                ProductConnection, root.get("data"), call="warehouse_products", root="data.warehouse_products.data"
            )
            for edge in page.edges:
                row = edge.node
                rows += 1
                if row.warehouse_id and row.warehouse_id != self.warehouse_id:
                    other += 1
                    continue
                quantity = row.available
                if not is_int(quantity) or quantity < 0:
                    invalid[row.sku] = (
                        f"ShipHero's available quantity for {row.sku} is not a whole number of 0 or more ({quantity!r})."
                    )
                    continue
                available[row.sku] = available.get(row.sku, 0) + quantity
            after = _next_cursor(page.page_info, cursors, "warehouse_products")
            if after is None:
                break
        if rows and other == rows:
            raise MalformedResponse(
                f"Every warehouse product ShipHero sent names another warehouse than {self.warehouse_id!r}; "
                "check the warehouse id (ShipHero's Warehouse.id, not its legacy number).",
                method="POST",
                path=GRAPHQL_PATH,
            )
        for sku in invalid:
            available.pop(sku, None)
        return StockReport(available=available, invalid=invalid, other_customer_rows=other)


def _next_cursor(page_info, cursors: set[str], call: str) -> str | None:
    """The cursor of the next page, or None at the end; a repeated or missing one is refused."""
    if page_info is None or not page_info.has_next_page:
        return None
    cursor = page_info.end_cursor
    if not cursor or cursor in cursors:
        raise MalformedResponse(
            f"ShipHero's {call} page says there is more but gives {'no' if not cursor else 'a repeated'} cursor.",
            method="POST",
            path=GRAPHQL_PATH,
        )
    cursors.add(cursor)
    return cursor
