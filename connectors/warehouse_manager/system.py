"""3PL Warehouse Manager as a `connectors.wms.base.WmsSystem`: its capabilities and its order body.

The body is `POST /orders` minus the customer and facility identifiers, which the client adds
(docs/wire-protocols.md, WMS-3): `referenceNum` is the hub's reference (the Order Manager order
number), `poNum` the Order Manager order id (how `hub.jobs.binding.is_ours` tells our order from
another channel's with the same number), `shipTo` the address without blank fields,
`orderItems` as `{"itemIdentifier": {"sku"}, "qty"}`, `routingInfo` as `{"carrier", "mode",
"scacCode"}` and `notes`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.wms.base import Address, Capability, Line, Route, WmsSystem

# Address -> shipTo key.
SHIP_TO_KEYS = {
    "name": "name",
    "company": "companyName",
    "address1": "address1",
    "address2": "address2",
    "city": "city",
    "state": "state",
    "zip": "zip",
    "country": "country",
    "phone": "phoneNumber",
    "email": "emailAddress",
}


class ThreePLWarehouseManager(WmsSystem):
    key = "3pl_warehouse_manager"
    label = "3PL Warehouse Manager"
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
        body = {
            "referenceNum": reference,
            "poNum": str(om_order_id),
            "shipTo": {key: getattr(ship_to, field) for field, key in SHIP_TO_KEYS.items() if getattr(ship_to, field)},
        }
        body = self.with_lines(body, lines)
        if route is not None and route.carrier:
            body = self.with_route(body, route)
        if notes:
            body["notes"] = notes
        return body

    def with_lines(self, body: Mapping[str, Any], lines: Sequence[Line]) -> dict:
        return {**body, "orderItems": [{"itemIdentifier": {"sku": line.sku}, "qty": line.quantity} for line in lines]}

    def with_route(self, body: Mapping[str, Any], route: Route) -> dict:
        info = {"carrier": route.carrier}
        if route.mode:
            info["mode"] = route.mode
        if route.scac:
            info["scacCode"] = route.scac
        return {**body, "routingInfo": info}


SYSTEM = ThreePLWarehouseManager()
