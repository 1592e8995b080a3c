"""An Order Manager order in the neutral terms every warehouse system takes (`connectors.wms.base`),
on top of what the Order Manager client has already read and validated
(`connectors.order_manager.wire_orders.OmOrder`).

- `address_of(order)`: where it goes, as an `Address`;
- `default_route(order)`: Order Manager's own carrier and service as a `Route` (None without a
  carrier); a ship-method mapping (`hub.mapping.rules`) replaces it;
- `ship_to_summary(order)`: one line of the address for the order's record.
The body itself is the warehouse system's (`WmsSystem.order_body`). Items are sent by Order
Manager `product.masterSku` (the catalogue SKU), and the Order Manager order id travels as the
system's second reference, so an order found at the WMS by reference number can be told apart
from another channel's order with the same number.
"""

from __future__ import annotations

from connectors.order_manager.wire_orders import OmOrder
from connectors.wms.base import Address, Route


def address_of(order: OmOrder) -> Address:
    return Address(
        name=order.ship_name,
        company=order.ship_company,
        address1=order.ship_address1,
        address2=order.ship_address2,
        city=order.ship_city,
        state=order.ship_state,
        zip=order.ship_zip_code,
        country=order.ship_country,
        phone=order.ship_phone,
        email=order.ship_email,
    )


def default_route(order: OmOrder) -> Route | None:
    return Route(order.carrier, order.service) if order.carrier else None


def ship_to_summary(order: OmOrder) -> str:
    """One line of the address for the order's record (name, street, city, state, ZIP, country)."""
    parts = (order.ship_name, order.ship_address1, order.ship_city, order.ship_state, order.ship_zip_code)
    return ", ".join(p for p in (*parts, order.ship_country) if p)[:500]
