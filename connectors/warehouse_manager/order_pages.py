"""Paging the modified-orders poll of Warehouse Manager: the rules, not the calls.

Contract (docs/wire-protocols.md WMS-4):
- ``iter_modified_orders(fetch_page, page_size)`` yields the orders of page 1 onwards while
  ``totalResults`` or ``_links.next`` says there is more, stopping at the first empty page;
- an order seen twice with the same ``lastModifiedDate`` (pages shifting under concurrent
  edits) is yielded once;
- a page repeating the one before, or orders on pages past ``totalResults``, raise
  ``MalformedResponse`` instead of paging forever.

``fetch_page(pgnum)`` is the caller's call of one page, returning ``(total, orders read and
scope-checked, has a next link)``; this module makes no call itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import datetime

from connectors.errors import MalformedResponse
from connectors.warehouse_manager.answers import repeated_page
from connectors.warehouse_manager.wire import WmsOrder

__all__ = ["iter_modified_orders"]

PATH = "/orders"


def iter_modified_orders(
    fetch_page: Callable[[int], tuple[int, list[WmsOrder], bool]], page_size: int
) -> Iterator[WmsOrder]:
    """Every order of the poll once per (``orderId``, ``lastModifiedDate``), in the server's order."""
    seen: set[tuple[int, datetime | None]] = set()
    previous_ids: list[int] | None = None
    max_total = 0
    pgnum = 1
    while True:
        total, orders, has_next = fetch_page(pgnum)
        max_total = max(max_total, total)
        ids = [o.order_id for o in orders]
        if ids and ids == previous_ids:
            raise repeated_page("orders", pgnum, PATH)
        if orders and pgnum > math.ceil(max_total / page_size) + 1:
            raise MalformedResponse(
                f"Warehouse Manager keeps returning orders on page {pgnum}, past its "
                f"totalResults ({max_total}); stopping.",
                method="GET",
                path=PATH,
            )
        for order in orders:
            key = (order.order_id, order.last_modified)
            if key not in seen:
                seen.add(key)
                yield order
        if not orders or not (has_next or pgnum * page_size < total):
            return
        previous_ids = ids
        pgnum += 1
