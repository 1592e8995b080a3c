"""Wire models of 3PL Warehouse Manager's records, read with pydantic (``connectors.wire``), so a
malformed answer names the field and what came instead (docs/wire-protocols.md WMS-3 to WMS-8).

- ``WmsOrderBody`` is an order (``readOnly`` block, ``referenceNum``, ``poNum``, ``routingInfo``),
  HAL camelCase or plain PascalCase; ``to_order`` builds the hub's ``WmsOrder``. Its
  ``readOnly.status`` must be one of 0 (Open), 1 (Closed), 2 (Canceled): an unknown status could
  mean shipped or canceled in a way the hub cannot tell, so it is refused rather than guessed.
- ``WmsItem`` (``GET /customers/{id}/items``) and ``WmsStockRow`` (``/inventory/stocksummaries``).
- Timestamps are read in the facility's time zone, given as the ``context={"tz": ZoneInfo}`` of
  the validation (``connectors.warehouse_manager.timestamps``), and come out as aware UTC datetimes.

The pages these records come in are read by ``connectors.warehouse_manager.wire_pages``; scope
checks (whose order or stock row it is) are the client's, which knows the connection.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainValidator, ValidationInfo, model_validator

from connectors.shapes import finite_number, is_int
from connectors.warehouse_manager.timestamps import wms_timestamp
from connectors.warehouse_manager.wire_pages import camel_keys
from connectors.wire import (
    LooseText,
    NonBlankText,
    TextOrEmpty,
    WireError,
    WireInt,
    WireModel,
    fail,
    falsy_as,
    got,
    object_or_none,
)
from connectors.wms.orders import KNOWN_STATUSES, STATUS_CANCELED, STATUS_CLOSED, STATUS_OPEN, WmsOrder

__all__ = [
    "STATUS_OPEN",
    "STATUS_CLOSED",
    "STATUS_CANCELED",
    "KNOWN_STATUSES",
    "WmsOrder",
    "WmsOrderBody",
    "WmsItem",
    "WmsStockRow",
    "order_id_in",
]

# WarehouseTransactionApiStatus (Rels/orders/order, quoted by Njdonatelli/Extensiv-MCP-Server research notes)
# is 0 Open, 1 Closed, 2 Canceled: the same three as the neutral statuses of connectors.wms.orders.


def _timestamp(value: Any, info: ValidationInfo) -> datetime | None:
    try:
        return wms_timestamp(value, (info.context or {}).get("tz", UTC))
    except ValueError:
        raise fail("timestamp", "a timestamp", value) from None


Timestamp = Annotated[datetime | None, PlainValidator(_timestamp)]


def _status(value: Any) -> int:
    if not is_int(value) or value not in KNOWN_STATUSES:
        raise fail("status", "0 (Open), 1 (Closed) or 2 (Canceled)", value)
    return value


def _stripped_text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _po_num(value: Any) -> str:
    # The hub's own orders carry the Order Manager id here; anything else is "none".
    return str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""


def _reference(value: Any) -> str:
    if not value:
        return ""
    if not isinstance(value, str):
        raise fail("text_type", "text", value)
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise fail("bool_type", "true or false", value)
    return value


StrippedText = Annotated[str, PlainValidator(_stripped_text)]


class WmsIdentifier(WireModel):
    """``customerIdentifier`` / ``facilityIdentifier``: whose order it is."""

    id: WireInt | None = None


class WmsPackage(WireModel):
    tracking_number: TextOrEmpty = Field("", alias="trackingNumber")


class WmsRoutingInfo(WireModel):
    carrier: StrippedText = ""
    mode: StrippedText = ""
    scac_code: StrippedText = Field("", alias="scacCode")
    tracking_number: StrippedText = Field("", alias="trackingNumber")


class WmsOrderReadOnly(WireModel):
    """An order's ``readOnly`` block. ``processDate`` is kept as sent and read only when needed
    (``WmsOrderBody.to_order``): open orders may carry a placeholder there."""

    order_id: WireInt = Field(alias="orderId")
    status: Annotated[int, PlainValidator(_status)] = STATUS_OPEN
    # Absent: read from the status. Null is refused, as any other non-boolean (the validator sees it).
    is_closed: Annotated[bool | None, PlainValidator(_boolean)] = Field(None, alias="isClosed")
    customer_identifier: Annotated[WmsIdentifier | None, BeforeValidator(object_or_none)] = Field(
        None, alias="customerIdentifier"
    )
    facility_identifier: Annotated[WmsIdentifier | None, BeforeValidator(object_or_none)] = Field(
        None, alias="facilityIdentifier"
    )
    packages: Annotated[list[WmsPackage], falsy_as(list)] = Field(default_factory=list)
    last_modified_date: Timestamp = Field(None, alias="lastModifiedDate")
    ship_date: Timestamp = Field(None, alias="shipDate")
    process_date: Any = Field(None, alias="processDate")


class WmsOrderBody(WireModel):
    """An order as the WMS sends it, HAL camelCase or plain PascalCase (``ReadOnly``)."""

    read_only: WmsOrderReadOnly = Field(alias="readOnly")
    reference_num: Annotated[str, PlainValidator(_reference)] = Field("", alias="referenceNum")
    po_num: Annotated[str, PlainValidator(_po_num)] = Field("", alias="poNum")
    routing_info: Annotated[WmsRoutingInfo, falsy_as(dict)] = Field(
        default_factory=dict, alias="routingInfo", validate_default=True
    )

    @model_validator(mode="before")
    @classmethod
    def _plain_json(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "readOnly" not in data and "ReadOnly" in data:
            return camel_keys(data)
        return data

    def to_order(self, *, etag: str | None, tz: tzinfo) -> WmsOrder:
        """The hub's ``WmsOrder``: tracking numbers from the packages (else ``routingInfo``), and
        for a closed order without ``shipDate`` its ``processDate`` (when the order was confirmed:
        the nearest WMS timestamp; issue 14, processDate in singer-io/tap-3plcentral
        samples/orders.json and Drewcrandall/ExtensivSharp Models/Order/OrderReadOnly.cs)."""
        read_only = self.read_only
        is_closed = read_only.is_closed if read_only.is_closed is not None else read_only.status == STATUS_CLOSED
        tracking: list[str] = []
        for package in read_only.packages:
            number = package.tracking_number.strip()
            if number and number not in tracking:
                tracking.append(number)
        if not tracking and self.routing_info.tracking_number:
            tracking.append(self.routing_info.tracking_number)
        ship_date = read_only.ship_date
        if ship_date is None and (is_closed or read_only.status == STATUS_CLOSED):
            try:
                ship_date = wms_timestamp(read_only.process_date, tz)
            except ValueError:
                raise WireError(
                    [f"readOnly.processDate: expected a timestamp, got {got(read_only.process_date)}"]
                ) from None
        return WmsOrder(
            order_id=read_only.order_id,
            reference_num=self.reference_num,
            status=read_only.status,
            is_closed=is_closed,
            etag=etag,
            last_modified=read_only.last_modified_date,
            ship_date=ship_date,
            tracking_numbers=tracking,
            carrier=self.routing_info.carrier,
            service=self.routing_info.mode,
            scac=self.routing_info.scac_code,
            po_num=self.po_num,
        )


def order_id_in(data: Any) -> int | None:
    """The ``readOnly.orderId`` of an order's JSON (either representation) when it is an
    integer, to name an order that cannot be read."""
    read_only = camel_keys(data).get("readOnly") if isinstance(data, Mapping) else None
    order_id = read_only.get("orderId") if isinstance(read_only, Mapping) else None
    return order_id if is_int(order_id) else None


class WmsItem(WireModel):
    """One of a customer's items (``GET /customers/{id}/items``): ``itemId`` (or ``readOnly.itemId``) and ``sku``."""

    item_id: WireInt = Field(alias="itemId")
    sku: NonBlankText

    @model_validator(mode="before")
    @classmethod
    def _read_only_id(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and data.get("itemId") is None and isinstance(data.get("readOnly"), Mapping):
            return {**data, "itemId": data["readOnly"].get("itemId")}
        return data


class WmsItemIdentifier(WireModel):
    sku: NonBlankText
    id: WireInt


class WmsStockRow(WireModel):
    """One stock summary row: which item (``itemIdentifier``: the SKU and the item id that says
    whose it is) in which facility (``facilityId`` or ``facilityIdentifier.id``). ``available``
    is kept as sent: the client sets a SKU whose quantity is unusable aside instead of failing."""

    item_identifier: WmsItemIdentifier = Field(alias="itemIdentifier")
    facility_id: WireInt = Field(alias="facilityId")
    qualifier: LooseText = ""
    available: Any = None

    @model_validator(mode="before")
    @classmethod
    def _facility(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and data.get("facilityId") is None:
            ident = data.get("facilityIdentifier")
            if isinstance(ident, Mapping):
                return {**data, "facilityId": ident.get("id")}
        return data

    @property
    def sku(self) -> str:
        return self.item_identifier.sku

    @property
    def usable_available(self) -> float | None:
        """``available`` when it is a number of 0 or more, else None (unusable)."""
        return self.available if finite_number(self.available) and self.available >= 0 else None

    @property
    def item_id(self) -> int:
        return self.item_identifier.id
