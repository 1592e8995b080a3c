"""Build the 3PL Warehouse Manager order from an Order Manager order: the hub's mapping, on top of
what the Order Manager client has already read and validated (`connectors.order_manager.wire_orders.OmOrder`).

`wms_order(order)` is the `POST /orders` body minus the customer and facility identifiers, which
the WMS client adds; the connection's rules (`hub.mapping.rules`) then alias and filter its items
and route it. Items are sent by Order Manager `product.masterSku` (the catalogue SKU), and the
Order Manager order id travels as `poNum`, so an order found at the WMS by reference number can
be told apart from another channel's order with the same number.
"""

from __future__ import annotations

from connectors.order_manager.wire_orders import OmOrder


def ship_to(order: OmOrder) -> dict:
    """The WMS `shipTo` of the order, with every field (blank ones as "")."""
    return {
        "name": order.ship_name,
        "companyName": order.ship_company,
        "address1": order.ship_address1,
        "address2": order.ship_address2,
        "city": order.ship_city,
        "state": order.ship_state,
        "zip": order.ship_zip_code,
        "country": order.ship_country,
        "phoneNumber": order.ship_phone,
        "emailAddress": order.ship_email,
    }


def ship_to_summary(order: OmOrder) -> str:
    """One line of the address for the order's record (name, street, city, state, ZIP, country)."""
    parts = (order.ship_name, order.ship_address1, order.ship_city, order.ship_state, order.ship_zip_code)
    return ", ".join(p for p in (*parts, order.ship_country) if p)[:500]


def wms_order(order: OmOrder) -> dict:
    """The 3PL Warehouse Manager `POST /orders` body (customer and facility added by the client)."""
    body = {
        "referenceNum": order.order_number,
        "poNum": str(order.order_id),
        "shipTo": {k: v for k, v in ship_to(order).items() if v},
        "orderItems": [{"itemIdentifier": {"sku": item.sku}, "qty": item.quantity} for item in order.items],
    }
    if order.carrier:
        body["routingInfo"] = {"carrier": order.carrier, **({"mode": order.service} if order.service else {})}
    if order.notes_from_buyer:
        body["notes"] = order.notes_from_buyer
    return body
