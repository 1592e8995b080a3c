"""Reading a customer's stock in one facility from Warehouse Manager: the pages and the rules.

Contract (docs/wire-protocols.md WMS-7, WMS-8):
- ``read_customer_items(get_json, customer_id)`` collects a customer's item master, ``itemId ->
  sku``, over every page of ``GET /customers/{id}/items``;
- ``read_stock(get_json, own_items, ...)`` sums ``available`` per SKU over every page of
  ``GET /inventory/stocksummaries`` into a ``StockReport``: only rows of this facility whose
  item is one of the customer's count (a summary row names no customer, and other customers'
  items often share SKU names); a SKU with an unusable quantity is set aside in ``invalid``
  instead of stopping the run; totals are rounded down to whole units;
- refused with ``MalformedResponse`` (never read as zero stock): a malformed page or row, a row
  whose SKU contradicts the customer's item of the same id, an empty item master while the
  facility has stock rows, and a page repeating the one before.

``get_json(path, action=..., params=...)`` is the client's authenticated GET, returning
``(parsed body, answer)``; this module sends nothing itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from connectors.errors import MalformedResponse
from connectors.redaction import excerpt
from connectors.warehouse_manager.answers import read_items, read_page, repeated_page
from connectors.warehouse_manager.wire import WmsItem, WmsStockRow
from connectors.wms.orders import StockReport  # shared by every WMS

__all__ = [
    "CUSTOMER_ITEM_REL",
    "ITEMS_PAGE_SIZE",
    "STOCK_PAGE_SIZE",
    "STOCK_PATH",
    "StockReport",
    "read_customer_items",
    "read_stock",
]

STOCK_PATH = "/inventory/stocksummaries"
STOCK_PAGE_SIZE = 500  # the documented maximum for /inventory/stocksummaries
ITEMS_PAGE_SIZE = 100  # the documented maximum for /customers/{id}/items (default 10)
CUSTOMER_ITEM_REL = "http://api.3plCentral.com/rels/customers/item"

GetJson = Callable[..., tuple[Any, Any]]


def read_customer_items(get_json: GetJson, customer_id: int) -> dict[int, str]:
    """``itemId -> sku`` over every page (``ITEMS_PAGE_SIZE`` items each) of the customer's items."""
    path = f"/customers/{customer_id}/items"
    call = f"GET {path}"
    found: dict[int, str] = {}
    previous: list[int] | None = None
    pgnum = 1
    while True:
        body, _ = get_json(
            path, action=f"list the items of customer {customer_id}", params={"pgsiz": ITEMS_PAGE_SIZE, "pgnum": pgnum}
        )
        total, raw_items, _ = read_page(body, CUSTOMER_ITEM_REL, call)
        items = read_items(WmsItem, raw_items, call, "GET", path, root="items")
        ids = []
        for item in items:
            found[item.item_id] = item.sku
            ids.append(item.item_id)
        if ids and ids == previous:
            raise repeated_page("items", pgnum, path)
        if not items or not (pgnum * ITEMS_PAGE_SIZE < total):
            break
        previous = ids
        pgnum += 1
    return found


def read_stock(
    get_json: GetJson,
    own_items: Mapping[int, str],
    *,
    customer_id: int,
    facility_id: int,
) -> StockReport:
    """The stock of ``customer_id`` (whose items are ``own_items``) in ``facility_id``, over every
    page (``STOCK_PAGE_SIZE`` rows each) of the stock summaries."""
    tally = _Tally(own_items, facility_id)
    previous: list[tuple] | None = None
    pgnum = 1
    while True:
        total, rows = _stock_page(get_json, pgnum)
        signature = [tally.add(row) for row in rows]
        if signature and signature == previous:
            raise repeated_page("stock rows", pgnum, STOCK_PATH)
        if not own_items and tally.skipped:
            # Every row would read as "not ours" and the tenant's stock as zero: refuse instead.
            raise MalformedResponse(
                f"Warehouse Manager lists no items for customer {customer_id} but has "
                f"stock rows in facility {facility_id}; refusing to read the stock as "
                "zero (check the customer id).",
                method="GET",
                path=f"/customers/{customer_id}/items",
            )
        if not rows or pgnum * STOCK_PAGE_SIZE >= total:
            break
        previous = signature
        pgnum += 1
    return tally.report()


def _stock_page(get_json: GetJson, pgnum: int) -> tuple[int, list[WmsStockRow]]:
    """Page ``pgnum`` of the stock summaries: (total, its rows validated)."""
    call = f"GET {STOCK_PATH}"
    body, _ = get_json(STOCK_PATH, action="read stock summaries", params={"pgsiz": STOCK_PAGE_SIZE, "pgnum": pgnum})
    total, raw_rows, _ = read_page(body, "", call, hal_key="summaries", plain_key="Summaries")
    root = "summaries" if isinstance(body, Mapping) and "Summaries" not in body else "Summaries"
    return total, read_items(WmsStockRow, raw_rows, call, "GET", STOCK_PATH, root=root)


class _Tally:
    """The running totals of one stock read: ``totals`` per SKU, ``invalid`` SKUs, and
    ``skipped``, the rows of this facility that are not the customer's."""

    def __init__(self, own_items: Mapping[int, str], facility_id: int) -> None:
        self.own_items = own_items
        self.facility_id = facility_id
        self.totals: dict[str, float] = {}
        self.invalid: dict[str, str] = {}
        self.skipped = 0

    def add(self, row: WmsStockRow) -> tuple:
        """Count one row when it is this facility's and one of the customer's items; returns the
        row's signature (for the repeated-page guard)."""
        sku, item_id, facility = row.sku, row.item_id, row.facility_id
        ours = self.own_items.get(item_id) == sku
        counted = ours and facility == self.facility_id
        if item_id in self.own_items and not ours:
            raise MalformedResponse(
                f"Warehouse Manager's stock row for item {item_id} says SKU {sku}, but the "
                f"customer's item {item_id} is {self.own_items[item_id]}.",
                method="GET",
                path=STOCK_PATH,
            )
        # Rows of other facilities are neither counted nor another customer's stock here.
        self.skipped += not (counted or facility != self.facility_id)
        available = row.usable_available
        if available is None:
            if counted:
                self.invalid.setdefault(
                    sku,
                    f"Warehouse Manager sent an invalid available quantity for SKU {sku} "
                    f"({excerpt(repr(row.available), 40)}).",
                )
            return (sku, item_id, row.qualifier, facility, repr(row.available))
        if counted:
            self.totals[sku] = self.totals.get(sku, 0) + available
        return (sku, item_id, row.qualifier, facility, available)

    def report(self) -> StockReport:
        return StockReport(
            {sku: math.floor(qty) for sku, qty in self.totals.items() if sku not in self.invalid},
            self.invalid,
            other_customer_rows=self.skipped,
        )
