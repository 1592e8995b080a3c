"""Order Manager's stock: the stock-total queries the client sends and the per-item answers it reads.

Contract (docs/wire-protocols.md OM-11, OM-12):
- ``stock_queries`` splits a SKU list into queries of at most ``SKUS_PER_QUERY`` SKUs (keeping
  the query string of ``GET /v1/productstocks/total`` well under URL limits) and gives the exact
  SKUs wanted: the API's ``sku`` filter is a prefix search ("AB" also returns "ABC");
- ``stock_totals`` turns validated ``ProductStockTotalsDto`` rows into ``StockTotal``s (absent
  quantities are 0); ``stock_key`` is a total's identity (product id, SKU);
- ``check_adjust_items`` refuses, before anything is sent, an adjust item that is not a
  ``PostInventoryAdjustDto`` (``ValueError`` naming the item and the field);
- ``adjust_results`` reads one batch's answer into one ``AdjustResult`` per item, in order:
  per-item ``errors[]`` matched by 1-based ``index``, else by ``identifier`` (``masterSku`` /
  ``productId``); a failing detail marks its item failed with its code; in a batch rejected as
  a whole (a 400 that lists per-item errors) the other items are ``BATCH_REJECTED``; failing
  errors that name no item are appended with ``sku=""``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from connectors.order_manager.wire_answers import (
    InventoryAdjustItem,
    OmAdjustAnswer,
    OmStockTotalRow,
    OmValidationDetail,
)
from connectors.wire import WireError, validate

__all__ = [
    "MAX_ADJUST_BATCH",
    "SKUS_PER_QUERY",
    "AdjustResult",
    "StockTotal",
    "adjust_results",
    "check_adjust_items",
    "stock_key",
    "stock_queries",
    "stock_totals",
]

MAX_ADJUST_BATCH = 200  # documented maximum of POST /v1.1/inventory/adjust per call
SKUS_PER_QUERY = 100  # keeps the query string of /v1/productstocks/total well under URL limits


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


def stock_key(total: StockTotal) -> tuple:
    return (total.product_id, total.sku)


def stock_queries(base: dict[str, Any], skus: Sequence[str] | None) -> tuple[list[dict[str, Any]], set[str] | None]:
    """(the queries to send, each ``base`` plus its SKUs; the SKUs wanted exactly, None for all)."""
    if skus is None:
        return [base], None
    wanted = {sku for sku in skus if sku}
    unique = sorted(wanted)
    return [{**base, "sku": unique[i : i + SKUS_PER_QUERY]} for i in range(0, len(unique), SKUS_PER_QUERY)], wanted


def stock_totals(rows: list[OmStockTotalRow]) -> list[StockTotal]:
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


def check_adjust_items(items: Sequence[dict]) -> None:
    """``ValueError`` for the first item that is not a ``PostInventoryAdjustDto``."""
    for number, item in enumerate(items, start=1):
        try:
            validate(InventoryAdjustItem, item)
        except WireError as exc:
            raise ValueError(f"inventory adjust item {number} cannot be sent: {exc}") from None


def adjust_results(answer: OmAdjustAnswer, batch: list[dict], *, rejected: bool) -> list[AdjustResult]:
    """One result per item of ``batch`` (see the module docstring), then the unplaced failures."""
    per_item: dict[int, list[OmValidationDetail]] = {}
    unmatched: list[OmValidationDetail] = []
    for error in answer.errors:
        position = _error_position(error, batch)
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
        if (sku and item.get("masterSku") == sku) or (product_id is not None and item.get("productId") == product_id):
            return position
    return None
