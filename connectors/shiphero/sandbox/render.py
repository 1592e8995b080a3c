"""Sandbox rows as ShipHero's GraphQL objects: dicts graphql-core resolves field by field.

graphql-core's default resolver reads a dict key per field and calls it when it is callable (with
the field's arguments), so connections and lazily loaded relations are functions here: a document
pays (in database reads) only for what it selects. A key left out answers null, as the real API
does for a field it has no value for (every object field is nullable in its schema).

`connection(queryset, render, first, after, ...)` pages a queryset the relay way (graphene's
``arrayconnection`` cursors, `pageInfo`); `when(dt)` writes a timestamp (ISO 8601 in UTC with its
offset, whole seconds; the real format is not documented: EVIDENCE.md).
"""

from __future__ import annotations

import datetime

from connectors.sandbox.models import (
    ShipHeroCustomerAccount,
    ShipHeroLineItem,
    ShipHeroOrder,
    ShipHeroShipment,
    ShipHeroShipmentLineItem,
    ShipHeroShippingLabel,
    ShipHeroWarehouse,
    ShipHeroWarehouseProduct,
)

from . import ids
from .errors import INVALID, ShipHeroError


def when(value: datetime.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(datetime.UTC).replace(microsecond=0).isoformat()


def connection(rows, render, *, first=None, after=None, last=None, before=None, sort=None, default=100) -> dict:
    """One page of `rows` (a queryset, ordered) as a relay connection."""
    if sort is not None:
        raise ShipHeroError("The sandbox does not sort connections: leave out sort (results come oldest first)")
    if last is not None or before is not None:
        raise ShipHeroError("The sandbox pages forward only: use first and after")
    if first is not None and first < 0:
        raise ShipHeroError("first must not be negative")
    start = 0
    if after is not None:
        position = ids.offset(after)
        if position is None:
            raise ShipHeroError(f"“{after}” is not a cursor of this connection", INVALID)
        start = position + 1
    size = default if first is None else first
    window = list(rows[start : start + size + 1])
    page, more = window[:size], len(window) > size
    edges = [{"node": render(row), "cursor": ids.cursor(start + i)} for i, row in enumerate(page)]
    return {
        "edges": edges,
        "pageInfo": {
            "hasNextPage": more,
            "hasPreviousPage": start > 0,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def paged(rows, render):
    """A connection field: called by graphql-core with the field's paging arguments."""
    return lambda info, **args: connection(rows, render, **args)


def warehouse(row: ShipHeroWarehouse) -> dict:
    return {
        "id": ids.global_id("Warehouse", row.pk),
        "legacy_id": row.pk,
        "account_id": ids.global_id("Account", row.account_id),
        "identifier": row.identifier,
        "company_name": row.account.account_name if row.account_id else None,
        "dynamic_slotting": False,
    }


def customer_account(row: ShipHeroCustomerAccount) -> dict:
    return {
        "id": customer_account_id(row),
        "legacy_id": row.pk,
        "username": row.name,
        "status": "active",
        "is_3pl": False,
        "is_multi_warehouse": False,
    }


def customer_account_id(row: ShipHeroCustomerAccount) -> str:
    """A customer account is an account of its own on ShipHero (`Account` ids)."""
    return ids.global_id("Account", 1_000_000 + row.pk)


def customer_pk(value) -> int | None:
    number = ids.legacy_id("Account", value)
    return None if number is None or number <= 1_000_000 else number - 1_000_000


def line_item(row: ShipHeroLineItem) -> dict:
    return {
        "id": ids.global_id("LineItem", row.pk),
        "legacy_id": row.pk,
        "sku": row.sku,
        "partner_line_item_id": row.partner_line_item_id,
        "quantity": row.quantity,
        "price": row.price,
        "product_name": row.product_name,
        "fulfillment_status": row.fulfillment_status,
        "quantity_pending_fulfillment": row.quantity - row.quantity_shipped
        if row.fulfillment_status != "canceled"
        else 0,
        "quantity_shipped": row.quantity_shipped,
        "created_at": when(row.created_at),
        "updated_at": when(row.updated_at),
        "order_id": ids.global_id("Order", row.order_id),
    }


def shipping_label(row: ShipHeroShippingLabel) -> dict:
    shipment = row.shipment
    order = shipment.order
    return {
        "id": ids.global_id("ShippingLabel", row.pk),
        "legacy_id": row.pk,
        "account_id": customer_account_id(order.customer_account),
        "shipment_id": ids.global_id("Shipment", shipment.pk),
        "order_id": ids.global_id("Order", order.pk),
        "status": row.status,
        "tracking_number": row.tracking_number,
        "tracking_url": row.tracking_url,
        "order_number": order.order_number,
        "order_account_id": customer_account_id(order.customer_account),
        "carrier": row.carrier,
        "shipping_name": row.shipping_name,
        "shipping_method": row.shipping_method,
        "cost": row.cost,
        "package_number": row.package_number,
        "warehouse": shipment.warehouse.identifier,
        "warehouse_id": ids.global_id("Warehouse", shipment.warehouse_id),
        "created_date": when(row.created_date),
        "delivered": False,
        "picked_up": False,
        "refunded": False,
        "needs_refund": False,
        "source": "api",
        "order": lambda info: order_(order),
        "shipment_line_items": paged(row.line_items.order_by("pk"), shipment_line_item),
    }


def shipment_line_item(row: ShipHeroShipmentLineItem) -> dict:
    return {
        "id": ids.global_id("ShipmentLineItem", row.pk),
        "legacy_id": row.pk,
        "line_item_id": ids.global_id("LineItem", row.line_item_id),
        "shipment_id": ids.global_id("Shipment", row.shipment_id),
        "shipping_label_id": ids.global_id("ShippingLabel", row.shipping_label_id),
        "quantity": row.quantity,
        "line_item": lambda info: line_item(row.line_item),
    }


def shipment(row: ShipHeroShipment) -> dict:
    labels = list(row.shipping_labels.select_related("shipment__order__customer_account", "shipment__warehouse"))
    return {
        "id": ids.global_id("Shipment", row.pk),
        "legacy_id": row.pk,
        "order_id": ids.global_id("Order", row.order_id),
        "warehouse_id": ids.global_id("Warehouse", row.warehouse_id),
        "address": _address(row.order.shipping_address),
        "picked_up": False,
        "needs_refund": False,
        "refunded": False,
        "delivered": False,
        "dropshipment": False,
        "shipped_off_shiphero": row.shipped_off_shiphero,
        "completed": True,
        "created_date": when(row.created_date),
        "line_items": paged(row.line_items.select_related("line_item").order_by("pk"), shipment_line_item),
        "shipping_labels": lambda info: [shipping_label(label) for label in labels],
        "warehouse": lambda info: warehouse(row.warehouse),
        "order": lambda info: order_(row.order),
        "total_packages": len(labels),
    }


def _address(value: dict) -> dict:
    name = " ".join(p for p in (value.get("first_name"), value.get("last_name")) if p)
    return {k: value.get(k) for k in ("address1", "address2", "city", "state", "country", "zip", "phone")} | {
        "name": name or value.get("company")
    }


def order_(row: ShipHeroOrder) -> dict:
    shipping_lines = row.shipping_lines or {}
    return {
        "id": ids.global_id("Order", row.pk),
        "legacy_id": row.pk,
        "order_number": row.order_number,
        "partner_order_id": row.partner_order_id,
        "shop_name": row.shop_name,
        "fulfillment_status": row.fulfillment_status,
        "order_date": when(row.order_date),
        "updated_at": when(row.updated_at),
        "account_id": customer_account_id(row.customer_account),
        "email": row.email,
        "required_ship_date": when(row.required_ship_date),
        "shipping_lines": {k: shipping_lines.get(k) for k in ("title", "carrier", "method", "price")},
        "shipping_address": dict(row.shipping_address or {}),
        "tags": list(row.tags or []),
        "holds": {
            "fraud_hold": False,
            "address_hold": False,
            "shipping_method_hold": False,
            "operator_hold": False,
            "payment_hold": False,
            "client_hold": False,
        },
        "line_items": paged(row.line_items.order_by("pk"), line_item),
        "shipments": lambda info: [
            shipment(s) for s in row.shipments.select_related("order", "warehouse").order_by("pk")
        ],
        "source": "api",
    }


def warehouse_product(row: ShipHeroWarehouseProduct) -> dict:
    return {
        "id": ids.global_id("WarehouseProduct", row.pk),
        "legacy_id": row.pk,
        "account_id": customer_account_id(row.product.customer_account),
        "sku": row.product.sku,
        "warehouse_id": ids.global_id("Warehouse", row.warehouse_id),
        "warehouse_identifier": row.warehouse.identifier,
        "on_hand": row.on_hand,
        "allocated": row.allocated,
        "available": row.available,
        "backorder": row.backorder,
        "reserve_inventory": row.reserve_inventory,
        "non_sellable_quantity": row.non_sellable_quantity,
        "active": row.active,
        "custom": False,
        "sell_ahead": 0,
        "created_at": when(row.created_at),
        "updated_at": when(row.updated_at),
        "warehouse": lambda info: warehouse(row.warehouse),
    }
