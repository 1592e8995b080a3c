"""Wire models of Order Manager's orders (connectors/specs/order-manager-openapi.json), read with
pydantic (``connectors.wire``), so a malformed answer names the field and what came instead.

Orders:
- ``OmOrder``: an order with every field the hub uses (lines, ship method, ship-to address,
  channel, notes), validated as the hub needs it: text without NUL bytes and within the lengths
  the hub stores and the WMS accepts (SQLite would store what PostgreSQL refuses), quantities
  positive whole numbers within ``MAX_QUANTITY``, at most ``MAX_LINES`` lines, no key repeated
  in the JSON text (flagged by ``connectors.transport.parse_json``: JSON readers disagree on which
  copy wins). ``OmOrder.read(raw)`` raises ``InvalidOrder`` listing each bad field, e.g.
  ``orderItems[0].quantityOrdered (SKU-1): expected a positive integer, got -2.``
- ``OmOrderState``: what the hub reads of any order, readable or not (id, number, status, the
  tracking numbers of its shipments), read leniently: a field that is not what it should be
  reads as unknown, so one garbled order never stops the hub acting on the others.
- ``ReceivedOrder``: one order as the client hands it over: its JSON as received (the hub keeps
  it on the order's record), its state, and either the ``OmOrder`` or the ``problem`` that makes
  it unusable. One bad order is one ``ReceivedOrder`` with a problem, never an exception.

The client's other answers (warehouses, stock, shipments, limits) are read by
``connectors.order_manager.wire_answers``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainValidator, model_validator

from connectors.shapes import finite_number, is_int
from connectors.transport import duplicate_keys_in
from connectors.wire import (
    PositiveInt,
    TextOrEmpty,
    WireError,
    WireModel,
    fail,
    object_or_none,
    problem,
    validate,
)

__all__ = [
    "MAX_QUANTITY",
    "MAX_LINES",
    "InvalidOrder",
    "OmOrder",
    "OmOrderItem",
    "OmOrderState",
    "ReceivedOrder",
    "parse_datetime",
    "order_id_of",
]

# Bounds of a usable order. They are the hub's and the WMS's, not Order Manager's: the lengths of
# what the hub stores (OrderRecord columns) and the WMS accepts, and quantities past which an
# order is a typo rather than a shipment. Checked here so one validation names every bad field.
MAX_QUANTITY = 100_000
MAX_LINES = 1_000
MAX_ORDER_NUMBER = 200
MAX_TEXT = 200

CANCELLED = "CANCELLED"  # the orderStatus of a cancelled order (the spec's enum)


class InvalidOrder(ValueError):
    """The order cannot be sent as it is; the message names each field to fix in Order Manager."""


def parse_datetime(value: Any) -> datetime.datetime | None:
    """An ISO-8601 timestamp as an aware UTC datetime; naive values are read as UTC (Order Manager
    sends UTC). Anything unreadable is None: a date is never a reason to hold an order."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed.astimezone(datetime.UTC)


def order_id_of(raw: Any) -> int | None:
    """The order's id when it is a positive integer, else None."""
    value = raw.get("orderId") if isinstance(raw, dict) else None
    return value if is_int(value) and value > 0 else None


# -- the fields of an order ---------------------------------------------------------------------


def _order_text(value: Any, *, limit: int, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        if finite_number(value):
            value = str(value)  # a numeric ZIP code or phone number is read as text
        else:
            raise fail("text_type", "text", value)
    if "\x00" in value:
        raise problem("nul", "contains a NUL byte")
    value = value.strip()
    if required and not value:
        raise problem("missing", "missing")
    if len(value) > limit:
        raise problem("too_long", f"longer than {limit} characters (got {len(value)})")
    return value


def order_text(limit: int = MAX_TEXT, *, required: bool = False) -> Any:
    """Text of an order: numbers read as text, trimmed, no NUL byte, at most ``limit`` characters."""
    return Annotated[str, PlainValidator(lambda value: _order_text(value, limit=limit, required=required))]


def _quantity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail("number_type", "a number", value)
    if isinstance(value, float):
        if not finite_number(value) or value != int(value):
            raise fail("int_type", "an integer", value)
        value = int(value)
    if value <= 0:
        raise fail("positive_int", "a positive integer", value)
    if value > MAX_QUANTITY:
        raise fail("too_large", f"at most {MAX_QUANTITY}", value)
    return value


OrderText = order_text()
RequiredText = order_text(required=True)
OrderNumberText = order_text(MAX_ORDER_NUMBER, required=True)
StatusText = order_text(40)
ShortText = order_text(50)
RequiredShortText = order_text(50, required=True)
ZipText = order_text(30)
NotesText = order_text(1000)
Quantity = Annotated[int, PlainValidator(_quantity)]
"""A line quantity: a positive whole number (``2.0`` is 2) up to ``MAX_QUANTITY``."""


def _items(value: Any) -> Any:
    if not isinstance(value, list):
        raise fail("list_type", "a list of items", value)
    if not value:
        raise fail("no_items", "at least one item", value)
    if len(value) > MAX_LINES:
        raise problem("too_many", f"expected at most {MAX_LINES} items, got {len(value)}")
    return value


def _lenient_datetime(value: Any) -> datetime.datetime | None:
    return parse_datetime(value)


def _lenient_positive_int(value: Any) -> int | None:
    return value if is_int(value) and value > 0 else None


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(item for item in value if isinstance(item, str)) if isinstance(value, list) else ()


def _shipment_groups(value: Any) -> list | None:
    # None (absent) is no shipment yet; anything but a list is unreadable, which is not the same.
    if value is None:
        return []
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else None


class OmProduct(WireModel):
    """``productInfo``: the catalogue product of an order line."""

    master_sku: RequiredText = Field(alias="masterSku")


class OmOrderItem(WireModel):
    """One line of an order (``orderItem``). Items are sent by ``product.masterSku``, the
    catalogue SKU; the channel's ``listingSku`` may differ per channel."""

    # A product that is not an object reads as an empty one: the error then names its masterSku.
    product: Annotated[OmProduct, BeforeValidator(lambda v: v if isinstance(v, dict) else {})] = Field(
        default_factory=dict, validate_default=True
    )
    quantity: Quantity = Field(alias="quantityOrdered")
    listing_sku: OrderText = Field("", alias="listingSku")

    @property
    def sku(self) -> str:
        return self.product.master_sku


class OmShipMethod(WireModel):
    shipping_carrier: OrderText = Field("", alias="shippingCarrier")


class OmSalesChannel(WireModel):
    name: OrderText = Field("", alias="salesChannelName")

    @model_validator(mode="before")
    @classmethod
    def _either_name(cls, data: Any) -> Any:
        # The spec names it salesChannelName; older answers (and the stubs of the docs) say name.
        if isinstance(data, dict):
            return {"salesChannelName": data.get("salesChannelName") or data.get("name")}
        return data


class OmOrder(WireModel):
    """An order the hub can use (see the module docstring). Blocks that are not objects
    (``shipMethod``, ``salesChannel``) read as absent, as Order Manager omits unset fields."""

    order_id: PositiveInt = Field(alias="orderId")
    order_number: OrderNumberText = Field(alias="orderNumber")
    status: StatusText = Field("", alias="orderStatus")
    modified: Annotated[datetime.datetime | None, PlainValidator(_lenient_datetime)] = Field(None, alias="modifiedDate")
    sales_channel: Annotated[OmSalesChannel | None, BeforeValidator(object_or_none)] = Field(None, alias="salesChannel")
    ship_method: Annotated[OmShipMethod | None, BeforeValidator(object_or_none)] = Field(None, alias="shipMethod")
    requested_shipping_service: OrderText = Field("", alias="requestedShippingService")
    ship_name: RequiredText = Field(alias="shipName")
    ship_company: OrderText = Field("", alias="shipCompany")
    ship_address1: RequiredText = Field(alias="shipAddress1")
    ship_address2: OrderText = Field("", alias="shipAddress2")
    ship_city: RequiredText = Field(alias="shipCity")
    ship_state: ShortText = Field("", alias="shipState")
    ship_zip_code: ZipText = Field("", alias="shipZipCode")
    ship_country: RequiredShortText = Field(alias="shipCountry")
    ship_phone: ShortText = Field("", alias="shipPhone")
    ship_email: OrderText = Field("", alias="shipEmail")
    items: Annotated[list[OmOrderItem], BeforeValidator(_items)] = Field(alias="orderItems")
    notes_from_buyer: NotesText = Field("", alias="notesFromBuyer")

    @model_validator(mode="before")
    @classmethod
    def _no_repeated_keys(cls, data: Any) -> Any:
        repeated = duplicate_keys_in(data) if isinstance(data, dict) else []
        if repeated:
            # Which copy was meant cannot be told; guessing could ship the wrong item or address.
            raise problem(
                "repeated_keys", f"Order Manager's answer repeats the key(s) {', '.join(repeated[:5])} in this order"
            )
        return data

    @classmethod
    def read(cls, raw: Any) -> OmOrder:
        """``raw`` (one order of an answer) as an ``OmOrder``, or ``InvalidOrder`` naming each bad field."""
        try:
            return validate(cls, raw, note=lambda loc: _item_note(raw, loc))
        except WireError as exc:
            raise InvalidOrder(f"{exc}.") from None

    @property
    def carrier(self) -> str:
        return self.ship_method.shipping_carrier if self.ship_method else ""

    @property
    def service(self) -> str:
        return self.requested_shipping_service

    @property
    def sales_channel_name(self) -> str:
        return self.sales_channel.name if self.sales_channel else ""


def _item_note(raw: Any, loc: tuple) -> str:
    """`` (SKU-1)`` after the path of a field of a line whose SKU is readable: the operator looks
    the line up by SKU in Order Manager, not by its position."""
    if len(loc) < 3 or loc[0] != "orderItems" or not isinstance(loc[1], int) or loc[2] == "product":
        return ""
    try:
        sku = raw["orderItems"][loc[1]]["product"]["masterSku"]
    except (KeyError, IndexError, TypeError):
        return ""
    return f" ({sku.strip()})" if isinstance(sku, str) and sku.strip() and "\x00" not in sku else ""


class OmShipment(WireModel):
    """``shipment``: the last shipment of an order."""

    tracking_number: TextOrEmpty = Field("", alias="trackingNumber")


class OmShipmentGroup(WireModel):
    """One entry of an order's ``shipments``: the tracking numbers of a group of packages."""

    tracking_numbers: Annotated[tuple[str, ...], PlainValidator(_strings)] = Field((), alias="trackingNumbers")


class OmOrderState(WireModel):
    """What the hub reads of any order (see the module docstring); unreadable fields are unknown."""

    order_id: Annotated[int | None, PlainValidator(_lenient_positive_int)] = Field(None, alias="orderId")
    order_number: TextOrEmpty = Field("", alias="orderNumber")
    status: TextOrEmpty = Field("", alias="orderStatus")
    shipment: Annotated[OmShipment | None, BeforeValidator(object_or_none)] = None
    # None when Order Manager sent something other than a list: its tracking numbers are unknown.
    shipments: Annotated[list[OmShipmentGroup] | None, BeforeValidator(_shipment_groups)] = Field(default_factory=list)

    @classmethod
    def read(cls, raw: Any) -> OmOrderState:
        """Never raises: an answer that is not an order at all reads as an order nothing is known of."""
        return cls.model_validate(raw) if isinstance(raw, dict) else cls()

    @property
    def is_cancelled(self) -> bool:
        return self.status == CANCELLED

    @property
    def tracking_numbers(self) -> frozenset[str] | None:
        """Every tracking number Order Manager holds for the order (its shipment and shipment
        groups); None when its ``shipments`` cannot be read, so they are unknown, not none."""
        if self.shipments is None:
            return None
        found = {number for group in self.shipments for number in group.tracking_numbers}
        if self.shipment is not None and self.shipment.tracking_number:
            found.add(self.shipment.tracking_number)
        return frozenset(found)


@dataclass(frozen=True)
class ReceivedOrder:
    """One order as received (see the module docstring): ``order`` when usable, else ``problem``."""

    raw: Any
    state: OmOrderState
    order: OmOrder | None
    problem: str = ""

    @classmethod
    def of(cls, raw: Any) -> ReceivedOrder:
        try:
            return cls(raw, OmOrderState.read(raw), OmOrder.read(raw))
        except InvalidOrder as exc:
            return cls(raw, OmOrderState.read(raw), None, str(exc))

    @property
    def order_id(self) -> int | None:
        """The id when readable, even if the order is not: a bad order can still be recorded."""
        return self.state.order_id

    @property
    def status(self) -> str:
        return self.state.status
