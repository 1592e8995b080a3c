"""Read an Order Manager order (as downloaded) and build the 3PL Warehouse Manager order from it.

`parse_order(raw) -> ParsedOrder` validates every field the hub uses and raises `InvalidOrder`
with a plain reason otherwise (missing or wrong-typed fields, zero/negative/absurd quantities,
NUL bytes, over-long strings: SQLite would store what PostgreSQL rejects; keys repeated in the
JSON text, flagged by `connectors.http.parse_json`). `order_id_of(raw)`
gets the id alone, so a bad order with a readable id can still be recorded and quarantined.
`wms_order(parsed)` is the `POST /orders` body minus the customer and facility identifiers, which
the WMS client adds. Items are sent by Order Manager `product.masterSku` (the catalogue SKU; the
channel's `listingSku` may differ per channel).
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field

from connectors.transport import duplicate_keys_in

MAX_QUANTITY = 100_000
MAX_LINES = 1_000

# Max lengths of what the hub stores (OrderRecord columns) and the WMS accepts.
MAX_ORDER_NUMBER = 200
MAX_TEXT = 200


class InvalidOrder(ValueError):
    """The order cannot be sent as it is; the message says what to fix in Order Manager."""


@dataclass
class OrderLine:
    sku: str
    quantity: int
    listing_sku: str = ""


@dataclass
class ParsedOrder:
    order_id: int
    order_number: str
    status: str
    modified: datetime.datetime | None
    sales_channel: str
    ship_to: dict
    ship_method: str
    carrier: str
    service: str = ""
    lines: list[OrderLine] = field(default_factory=list)
    notes: str = ""

    @property
    def ship_to_summary(self) -> str:
        parts = [self.ship_to.get(k, "") for k in ("name", "address1", "city", "state", "zip", "country")]
        return ", ".join(p for p in parts if p)[:500]


def order_id_of(raw) -> int | None:
    """The order's id when it is a positive integer, else None."""
    if isinstance(raw, dict):
        value = raw.get("orderId")
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def _text(value, what: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            value = str(value)
        else:
            raise InvalidOrder(f"{what} is not text ({type(value).__name__}).")
    if "\x00" in value:
        raise InvalidOrder(f"{what} contains a NUL byte.")
    value = value.strip()
    if required and not value:
        raise InvalidOrder(f"{what} is missing.")
    if len(value) > limit:
        raise InvalidOrder(f"{what} is longer than {limit} characters.")
    return value


def _quantity(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidOrder(f"{what} is not a number.")
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise InvalidOrder(f"{what} is not a whole number ({value}).")
        value = int(value)
    if value <= 0:
        raise InvalidOrder(f"{what} must be positive (got {value}).")
    if value > MAX_QUANTITY:
        raise InvalidOrder(f"{what} is implausibly large ({value}).")
    return value


def parse_datetime(value) -> datetime.datetime | None:
    """An ISO-8601 timestamp as an aware UTC datetime; naive values are read as UTC (Order Manager sends UTC)."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed.astimezone(datetime.UTC)


def parse_order(raw) -> ParsedOrder:
    if not isinstance(raw, dict):
        raise InvalidOrder("the order is not a JSON object.")
    order_id = order_id_of(raw)
    if order_id is None:
        raise InvalidOrder("orderId is missing or not a positive integer.")
    repeated = duplicate_keys_in(raw)
    if repeated:
        # JSON parsers disagree on which copy wins; guessing could ship the wrong item or address.
        raise InvalidOrder(f"Order Manager's answer repeats the key(s) {', '.join(repeated[:5])} in this order.")
    number = _text(raw.get("orderNumber"), "orderNumber", required=True, limit=MAX_ORDER_NUMBER)
    channel = raw.get("salesChannel") if isinstance(raw.get("salesChannel"), dict) else {}
    ship_method = raw.get("shipMethod") if isinstance(raw.get("shipMethod"), dict) else {}
    carrier = _text(ship_method.get("shippingCarrier"), "shipMethod.shippingCarrier")
    requested = _text(raw.get("requestedShippingService"), "requestedShippingService")
    ship_to = {
        "name": _text(raw.get("shipName"), "shipName", required=True),
        "companyName": _text(raw.get("shipCompany"), "shipCompany"),
        "address1": _text(raw.get("shipAddress1"), "shipAddress1", required=True),
        "address2": _text(raw.get("shipAddress2"), "shipAddress2"),
        "city": _text(raw.get("shipCity"), "shipCity", required=True),
        "state": _text(raw.get("shipState"), "shipState", limit=50),
        "zip": _text(raw.get("shipZipCode"), "shipZipCode", limit=30),
        "country": _text(raw.get("shipCountry"), "shipCountry", required=True, limit=50),
        "phoneNumber": _text(raw.get("shipPhone"), "shipPhone", limit=50),
        "emailAddress": _text(raw.get("shipEmail"), "shipEmail"),
    }
    items = raw.get("orderItems")
    if not isinstance(items, list) or not items:
        raise InvalidOrder("the order has no items.")
    if len(items) > MAX_LINES:
        raise InvalidOrder(f"the order has more than {MAX_LINES} items.")
    lines: list[OrderLine] = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise InvalidOrder(f"item {index} is not a JSON object.")
        product = item.get("product") if isinstance(item.get("product"), dict) else {}
        sku = _text(product.get("masterSku"), f"item {index} product.masterSku", required=True)
        lines.append(
            OrderLine(
                sku=sku,
                quantity=_quantity(item.get("quantityOrdered"), f"item {index} ({sku}) quantityOrdered"),
                listing_sku=_text(item.get("listingSku"), f"item {index} listingSku"),
            )
        )
    return ParsedOrder(
        order_id=order_id,
        order_number=number,
        status=_text(raw.get("orderStatus"), "orderStatus", limit=40),
        modified=parse_datetime(raw.get("modifiedDate")),
        sales_channel=_text(channel.get("salesChannelName") or channel.get("name"), "salesChannel name"),
        ship_to=ship_to,
        ship_method=" ".join(p for p in (carrier, requested) if p)[:200],
        carrier=carrier,
        service=requested,
        lines=lines,
        notes=_text(raw.get("notesFromBuyer"), "notesFromBuyer", limit=1000),
    )


def wms_order(order: ParsedOrder) -> dict:
    """The 3PL Warehouse Manager `POST /orders` body (customer and facility added by the client)."""
    body = {
        "referenceNum": order.order_number,
        "poNum": str(order.order_id),
        "shipTo": {k: v for k, v in order.ship_to.items() if v},
        "orderItems": [{"itemIdentifier": {"sku": line.sku}, "qty": line.quantity} for line in order.lines],
    }
    if order.carrier:
        body["routingInfo"] = {"carrier": order.carrier, **({"mode": order.service} if order.service else {})}
    if order.notes:
        body["notes"] = order.notes
    return body
