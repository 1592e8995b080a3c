"""Reading Warehouse Manager's answers into typed values, or ``MalformedResponse`` naming the call.

Contract (docs/wire-protocols.md WMS-2, WMS-4, WMS-5):
- ``read_page`` reads one collection page in either representation
  (``connectors.warehouse_manager.wire_pages``); ``read_items`` validates its items as a list
  of one wire model; ``read_order`` reads one order strictly (``WmsOrderBody``);
- every error names the call (e.g. ``GET /orders (modified since)``) and each bad field;
- scope guard: ``read_order`` refuses an order that is not of the connection's customer and
  facility (``check_scope``), so an RQL filter the server ignored or misread can never pull
  another tenant's orders into this one;
- ``repeated_page`` is the error of the guard against a server repeating a page for ever.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from connectors.errors import MalformedResponse
from connectors.warehouse_manager.wire import WmsOrder, WmsOrderBody, order_id_in
from connectors.warehouse_manager.wire_pages import Page, read_collection
from connectors.wire import WireError, validate

__all__ = ["check_scope", "read_items", "read_order", "read_page", "repeated_page"]


def read_page(body: Any, rel: str, call: str, *, hal_key: str = "_embedded", plain_key: str = "ResourceList") -> Page:
    """(total, items, has a ``_links.next``) of a collection in either representation.

    HAL (asked for with ``Accept: application/hal+json``): ``totalResults`` and
    ``_embedded[rel]`` (Drewcrandall/ExtensivSharp Models/Order/Orders.cs, EmbeddedOrders.cs),
    or a plain list under ``hal_key`` (stock summaries: ``summaries``). Plain JSON (what the API
    answers without that Accept): ``TotalResults`` and ``ResourceList`` / ``Summaries``
    (airbytehq/airbyte source-tplcentral streams.py; singer-io/tap-3plcentral sync.py), its
    PascalCase items turned into the HAL camelCase the models read. An answer with neither
    form's total and collection key is ``MalformedResponse`` naming ``call`` and the field:
    a missing key never reads as an empty page (``wire_pages.read_collection``).
    """
    try:
        return read_collection(body, rel=rel, hal_key=hal_key, plain_key=plain_key)
    except WireError as exc:
        raise MalformedResponse(f"Warehouse Manager's {call} answer is malformed: {exc}.") from None


def read_items(kind: Any, items: list, call: str, method: str, path: str, *, root: str) -> list:
    """The items of a collection page validated as ``list[kind]``, or ``MalformedResponse``."""
    try:
        return validate(list[kind], items, root=root)
    except WireError as exc:
        raise MalformedResponse(
            f"Warehouse Manager's {call} answer is malformed: {exc}.", method=method, path=path
        ) from None


def read_order(
    data: Any, *, tz: tzinfo, customer_id: int, facility_id: int, etag: str | None = None, call: str = "order"
) -> WmsOrder:
    """One order read strictly (``WmsOrderBody``, either representation, timestamps in ``tz``)
    and checked to be of ``customer_id`` and ``facility_id``; ``call`` names the call in errors."""
    try:
        body = validate(WmsOrderBody, data, context={"tz": tz})
        order = body.to_order(etag=etag, tz=tz)
    except WireError as exc:
        order_id = order_id_in(data)
        which = f" order {order_id}" if order_id is not None else " an order"
        raise MalformedResponse(f"Warehouse Manager's {call} answer has{which} it cannot read: {exc}.") from None
    check_scope(body, call, customer_id=customer_id, facility_id=facility_id)
    return order


def check_scope(order: WmsOrderBody, call: str, *, customer_id: int, facility_id: int) -> None:
    """Fail loudly when an order is not of this customer and facility.

    Guards the RQL scope (docs/wire-protocols.md WMS-4): a filter the server ignored or
    misread must never pull another tenant's orders into this one.
    """
    read_only = order.read_only
    for block, ident, wanted in (
        ("customerIdentifier", read_only.customer_identifier, customer_id),
        ("facilityIdentifier", read_only.facility_identifier, facility_id),
    ):
        got = ident.id if ident is not None else None
        if got != wanted:
            raise MalformedResponse(
                f"Warehouse Manager's {call} answer has order {read_only.order_id} with readOnly.{block}.id "
                f"{got!r}, not this connection's {wanted}; refusing to use it."
            )


def repeated_page(what: str, pgnum: int, path: str) -> MalformedResponse:
    """The error for page ``pgnum`` of ``GET path`` listing the same ``what`` as the page before."""
    return MalformedResponse(
        f"Warehouse Manager returned the same {what} for page {pgnum} as for "
        f"page {pgnum - 1}; stopping instead of paging forever.",
        method="GET",
        path=path,
    )
