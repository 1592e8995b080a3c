"""ShipHero as a `connectors.wms.base.WmsSystem`: its capabilities and its `order_create` body.

The body is ShipHero's `CreateOrderInput` (schema/shiphero.graphql; docs/wire-protocols.md
SH-4) minus what the client adds from its connection (`customer_account_id`, and the warehouse
each line item is locked to):

- `order_number` and `partner_order_id` are both the hub's reference (the Order Manager order
  number): `partner_order_id` is what `orders(partner_order_id:)` finds it by;
- the Order Manager order id, the second reference `hub.jobs.binding.is_ours` compares, goes in
  `tags` as `om-order-id:<id>` (`OM_ID_TAG`). `tags: [String]` is both written by
  `CreateOrderInput` and read back on `Order` (S1 of schema/SOURCE.md); ShipHero's order has no
  PO-number field, its `note_attributes` are write-only in the schema, and `packing_note` is
  printed for the packer;
- `shipping_address` (required by the schema) from the neutral `Address`: the name split into
  `first_name` / `last_name` at its first space; `country_code` / `state_code` also sent when
  the value is a two-letter code;
- `line_items`: `sku`, `quantity`, and the two fields the schema requires that the hub does not
  decide: `partner_line_item_id` (`<reference>-<n>`, unique within the order as the schema's
  description asks) and `price` (`"0.00"`: the hub sends no prices);
- `shipping_lines` from the `Route`: `carrier`, `method` (the route's mode), and the two
  required fields `title` (carrier and method) and `price` (`"0.00"`). ShipHero has no SCAC
  field, so a route's `scac` is not sent;
- `packing_note` carries the order's notes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from connectors.wms.base import Address, Capability, Line, Route, WmsSystem

__all__ = ["NO_PRICE", "OM_ID_TAG", "SYSTEM", "ShipHero", "om_order_id_in_tags"]

OM_ID_TAG = "om-order-id:"
NO_PRICE = "0.00"
_TWO_LETTERS = re.compile(r"[A-Za-z]{2}")


def om_order_id_in_tags(tags: Sequence[str]) -> str:
    """The Order Manager order id the hub tagged an order with, or "" (an order entered by hand)."""
    for tag in tags:
        if isinstance(tag, str) and tag.startswith(OM_ID_TAG):
            return tag[len(OM_ID_TAG) :].strip()
    return ""


def _address(ship_to: Address) -> dict[str, str]:
    first, _, last = ship_to.name.strip().partition(" ")
    fields = {
        "first_name": first,
        "last_name": last.strip(),
        "company": ship_to.company,
        "address1": ship_to.address1,
        "address2": ship_to.address2,
        "city": ship_to.city,
        "state": ship_to.state,
        "zip": ship_to.zip,
        "country": ship_to.country,
        "phone": ship_to.phone,
        "email": ship_to.email,
    }
    if _TWO_LETTERS.fullmatch(ship_to.country.strip()):
        fields["country_code"] = ship_to.country.strip().upper()
    if _TWO_LETTERS.fullmatch(ship_to.state.strip()):
        fields["state_code"] = ship_to.state.strip().upper()
    return {key: value for key, value in fields.items() if value}


class ShipHero(WmsSystem):
    key = "shiphero"
    label = "ShipHero"
    # order_create, order_cancel, orders/shipments with their labels, warehouse_products: SH-4..SH-8.
    capabilities = frozenset(
        {Capability.ORDER_SEND, Capability.CANCEL_ORDER, Capability.SHIPMENT_PICKUP, Capability.INVENTORY_PICKUP}
    )

    def order_body(
        self,
        *,
        reference: str,
        om_order_id: int,
        ship_to: Address,
        lines: Sequence[Line],
        route: Route | None,
        notes: str = "",
    ) -> dict:
        body: dict[str, Any] = {
            "order_number": reference,
            "partner_order_id": reference,
            "shipping_address": _address(ship_to),
            "tags": [f"{OM_ID_TAG}{om_order_id}"],
        }
        body = self.with_lines(body, lines)
        if route is not None and route.carrier:
            body = self.with_route(body, route)
        if notes:
            body["packing_note"] = notes
        return body

    def with_lines(self, body: Mapping[str, Any], lines: Sequence[Line]) -> dict:
        reference = str(body.get("partner_order_id") or body.get("order_number") or "line")
        items = [
            {
                "sku": line.sku,
                "partner_line_item_id": f"{reference}-{number}",
                "quantity": line.quantity,
                "price": NO_PRICE,
            }
            for number, line in enumerate(lines, start=1)
        ]
        return {**body, "line_items": items}

    def with_route(self, body: Mapping[str, Any], route: Route) -> dict:
        shipping = {"title": " ".join(part for part in (route.carrier, route.mode) if part), "price": NO_PRICE}
        shipping["carrier"] = route.carrier
        if route.mode:
            shipping["method"] = route.mode
        return {**body, "shipping_lines": shipping}


SYSTEM = ShipHero()
