"""Wire models of ShipHero's GraphQL answers, read with pydantic (`connectors.wire`), so a
malformed answer names the field and what came instead; and the neutral shapes they become
(`connectors.wms.orders`: the same `WmsOrder` and `StockReport` the 3PL client returns).

- `ShOrder` is the `OrderFields` selection of `connectors.shiphero.operations`; `to_order()`
  builds the hub's `WmsOrder`:
  - `order_id` is ShipHero's `legacy_id` (an integer, which `OrderRecord.wms_order_id` keeps;
    the UUID `id` is looked up again from it with the `uuid` query when needed);
  - `reference_num` is `partner_order_id` (the hub's reference), else `order_number`;
  - `status` from `fulfillment_status` (`STATUS_WORDS`): "fulfilled" is closed (shipped),
    "canceled"/"cancelled" canceled, anything else open. The field is free text in the schema
    (stores set their own statuses), so an unknown word is read as open: the hub then neither
    confirms a shipment nor marks a cancel on a guess;
  - `tracking_numbers`: every shipping label of every shipment (one label per package), in
    order, without repeats, except labels marked `refunded` (a voided label shipped nothing);
  - `carrier` / `service` from the newest label (its `carrier`, `shipping_method`), else from
    the order's `shipping_lines`; `scac` is "" (ShipHero has none); `ship_date` the newest
    shipment's `created_date`; `last_modified` the order's `updated_at`; `etag` None;
  - `po_num` the Order Manager id the hub tagged it with (`system.om_order_id_in_tags`);
- `ShWarehouseProduct` is one `warehouse_products` node; its quantities are kept as sent and
  judged by the client's stock report (a bad one sets that SKU aside, never stops the run);
- `ISODateTime` values are read as ISO 8601; one without an offset is taken as UTC (unverified:
  the evidence shows no offset either way); all come out aware UTC.
- `read(kind, value, call=..., root=...)` validates and turns a `WireError` into
  `MalformedResponse` naming the call and the field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainValidator

from connectors.errors import MalformedResponse
from connectors.shiphero.system import om_order_id_in_tags
from connectors.wire import NonBlankText, OptionalText, PositiveInt, WireBool, WireError, WireInt, WireModel, fail
from connectors.wire import validate as wire_validate
from connectors.wms.orders import STATUS_CANCELED, STATUS_CLOSED, STATUS_OPEN, WmsOrder

__all__ = [
    "STATUS_WORDS",
    "LegacyId",
    "OrderConnection",
    "ProductConnection",
    "ShOrder",
    "ShWarehouseProduct",
    "UserQuota",
    "iso_timestamp",
    "read",
]

STATUS_WORDS = {"fulfilled": STATUS_CLOSED, "canceled": STATUS_CANCELED, "cancelled": STATUS_CANCELED}


def iso_timestamp(value: Any) -> datetime | None:
    """An `ISODateTime` as an aware UTC datetime (no offset: UTC); None for null or empty."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(value)
    moment = datetime.fromisoformat(value.strip())
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _timestamp(value: Any) -> datetime | None:
    try:
        return iso_timestamp(value)
    except ValueError:
        raise fail("timestamp", "an ISO 8601 timestamp", value) from None


def _optional_bool(value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise fail("bool_type", "true, false or null", value)
    return value


def _none_as_list(value: Any) -> Any:
    return [] if value is None else value


Timestamp = Annotated[datetime | None, PlainValidator(_timestamp)]
OptionalBool = Annotated[bool | None, PlainValidator(_optional_bool)]
ListOrNull = BeforeValidator(_none_as_list)


class ShLabel(WireModel):
    id: OptionalText = ""
    tracking_number: OptionalText = ""
    carrier: OptionalText = ""
    shipping_method: OptionalText = ""
    shipping_name: OptionalText = ""
    status: OptionalText = ""
    refunded: OptionalBool = None
    created_date: Timestamp = None


class ShShipment(WireModel):
    id: OptionalText = ""
    legacy_id: WireInt | None = None
    warehouse_id: OptionalText = ""
    created_date: Timestamp = None
    shipping_labels: Annotated[list[ShLabel], ListOrNull] = Field(default_factory=list)


class ShShippingLines(WireModel):
    carrier: OptionalText = ""
    method: OptionalText = ""


class ShOrder(WireModel):
    id: NonBlankText
    legacy_id: PositiveInt
    order_number: OptionalText = ""
    partner_order_id: OptionalText = ""
    fulfillment_status: OptionalText = ""
    order_date: Timestamp = None
    updated_at: Timestamp = None
    tags: Annotated[list[OptionalText], ListOrNull] = Field(default_factory=list)
    shipping_lines: ShShippingLines | None = None
    shipments: Annotated[list[ShShipment], ListOrNull] = Field(default_factory=list)

    @property
    def status(self) -> int:
        return STATUS_WORDS.get(self.fulfillment_status.strip().lower(), STATUS_OPEN)

    def to_order(self) -> WmsOrder:
        """The hub's `WmsOrder` (see the module docstring)."""
        tracking: list[str] = []
        newest_label: ShLabel | None = None
        ship_date: datetime | None = None
        for shipment in self.shipments:
            if shipment.created_date is not None and (ship_date is None or shipment.created_date > ship_date):
                ship_date = shipment.created_date
            for label in shipment.shipping_labels:
                if label.refunded:
                    continue
                number = label.tracking_number.strip()
                if number and number not in tracking:
                    tracking.append(number)
                newest_label = label  # shipments and labels come oldest first (unverified): keep the last
        lines = self.shipping_lines or ShShippingLines()
        carrier = (newest_label.carrier if newest_label else "").strip() or lines.carrier.strip()
        service = (newest_label.shipping_method if newest_label else "").strip() or lines.method.strip()
        status = self.status
        return WmsOrder(
            order_id=self.legacy_id,
            reference_num=self.partner_order_id or self.order_number,
            status=status,
            is_closed=status == STATUS_CLOSED,
            etag=None,
            last_modified=self.updated_at,
            ship_date=ship_date,
            tracking_numbers=tracking,
            carrier=carrier,
            service=service,
            scac="",
            po_num=om_order_id_in_tags(self.tags),
        )


class PageInfo(WireModel):
    has_next_page: WireBool = Field(alias="hasNextPage")
    end_cursor: OptionalText = Field("", alias="endCursor")


class OrderEdge(WireModel):
    cursor: OptionalText = ""
    node: ShOrder


class OrderConnection(WireModel):
    page_info: PageInfo | None = Field(None, alias="pageInfo")
    edges: list[OrderEdge]


class ShWarehouseProduct(WireModel):
    id: OptionalText = ""
    sku: NonBlankText
    warehouse_id: OptionalText = ""
    on_hand: Any = None
    available: Any = None
    allocated: Any = None
    backorder: Any = None
    active: OptionalBool = None


class ProductEdge(WireModel):
    node: ShWarehouseProduct


class ProductConnection(WireModel):
    page_info: PageInfo = Field(alias="pageInfo")
    edges: list[ProductEdge]


class LegacyId(WireModel):
    id: NonBlankText
    legacy_id: WireInt | None = None


class UserQuota(WireModel):
    credits_remaining: WireInt | None = None
    max_available: WireInt | None = None
    increment_rate: WireInt | None = None


def read(kind: Any, value: Any, *, call: str, root: str) -> Any:
    """`value` read as `kind`, or `MalformedResponse` naming `call` and each bad field."""
    try:
        return wire_validate(kind, value, root=root)
    except WireError as exc:
        raise MalformedResponse(
            f"ShipHero sent an answer to {call} that cannot be read: {exc}", path="/graphql"
        ) from None
