"""JSON shapes of the sandbox Order Manager, field for field from the vendor's OpenAPI schemas.

Keys whose value would be null are left out: the spec's schemas are not nullable, and the real
service omits unset fields. Every function takes rows loaded with the related rows it needs
(`select_related` / `prefetch_related`), so rendering a page issues no query per row.
"""

from decimal import Decimal

from connectors.sandbox import clock
from connectors.sandbox.models import OmOrder, OmProduct, OmShipment, OmStock, OmWarehouse, OrderStatus

CURRENCY = "USD"


def _compact(data: dict) -> dict:
    return {key: value for key, value in data.items() if value is not None and value != ""}


def money(amount: Decimal | int | float) -> dict:
    return {"amount": float(amount), "currency": CURRENCY}


def warehouse(row: OmWarehouse) -> dict:
    """`warehouse` schema."""
    return {
        "warehouseId": row.pk,
        "name": row.name,
        "active": row.active,
        "type": row.type,
        "address": {
            "address1": "1 Sandbox Way",
            "city": "Springfield",
            "state": "IL",
            "zipCode": "62701",
            "country": "USA",
        },
        "timeZone": "UTC",
    }


def product_info(row: OmProduct) -> dict:
    """`productInfo` schema."""
    return _compact({"productId": row.pk, "masterSku": row.master_sku, "name": row.name, "productType": "CORE_PRODUCT"})


def shipment(row: OmShipment, order: OmOrder) -> dict:
    """`shipment` schema."""
    return _compact(
        {
            "shipmentId": row.pk,
            "orderId": order.pk,
            "orderNumber": order.order_number,
            "warehouseId": order.warehouse_id,
            "trackingNumber": row.tracking_number,
            "shipMethod": _compact(
                {"shippingCarrier": row.shipping_carrier, "shippingServiceId": row.shipping_service_id}
            ),
            "shipDate": clock.om_format(row.ship_date),
            "created": clock.om_format(row.created),
            "batchNumber": row.batch_number,
            "external": True,
            "type": "FULFILLMENT",
            "deliveryStatus": "IN_TRANSIT",
        }
    )


def order(row: OmOrder) -> dict:
    """`order` schema. Needs `warehouse` selected and `items__product`, `shipments` prefetched."""
    items = list(row.items.all())
    shipments = list(row.shipments.all())
    item_total = sum((item.unit_price * item.quantity for item in items), Decimal(0))
    data = {
        "orderId": row.pk,
        "orderNumber": row.order_number,
        "orderStatus": row.status,
        "unresolvedStatus": "RESOLVED",
        "orderType": "STANDARD",
        "external": False,
        "orderDate": clock.om_format(row.order_date),
        "createdDate": clock.om_format(row.created_date),
        "modifiedDate": clock.om_format(row.modified_date),
        "shipDate": clock.om_format(row.ship_date),
        "salesChannel": {
            "salesChannelId": row.sales_channel_id,
            "salesChannelName": row.sales_channel_name,
            "active": True,
        },
        "fulfillmentSource": {"warehouseId": row.warehouse.pk, "name": row.warehouse.name} if row.warehouse else None,
        "shipName": row.ship_name,
        "shipCompany": row.ship_company,
        "shipAddress1": row.ship_address1,
        "shipAddress2": row.ship_address2,
        "shipCity": row.ship_city,
        "shipState": row.ship_state,
        "shipZipCode": row.ship_zip,
        "shipCountry": row.ship_country,
        "shipPhone": row.ship_phone,
        "shipEmail": row.ship_email,
        "addressType": "RESIDENTIAL",
        "shipMethod": {"shippingCarrier": row.shipping_carrier} if row.shipping_carrier else None,
        "requestedShippingService": row.requested_shipping_service,
        "currency": CURRENCY,
        "orderItemTotal": money(item_total),
        "orderTotal": money(item_total),
        "orderItems": [
            {
                "orderItemId": item.pk,
                "listingSku": item.listing_sku,
                "listingName": item.product.name or item.listing_sku,
                "quantityOrdered": item.quantity,
                "unitPrice": money(item.unit_price),
                "fulfilled": row.status == OrderStatus.SHIPPED,
                "product": product_info(item.product),
            }
            for item in items
        ],
        "cancelReason": (
            _compact({"type": row.cancel_reason_type, "details": row.cancel_reason_details})
            if row.status == OrderStatus.CANCELLED and row.cancel_reason_type
            else None
        ),
        "shipment": shipment(shipments[-1], row) if shipments else None,
        "shipments": (
            [
                {
                    "trackingNumbers": [s.tracking_number for s in shipments],
                    "items": [{"listingSku": item.listing_sku, "quantity": item.quantity} for item in items],
                }
            ]
            if shipments
            else None
        ),
    }
    return _compact(data)


def stock_totals(product: OmProduct, on_hand: int, locked: int, allocated: int) -> dict:
    """`ProductStockTotalsDto`."""
    return {
        "product": product_info(product),
        "onHandQuantity": on_hand,
        "lockedQuantity": locked,
        "allocatedQuantity": allocated,
        "availableQuantity": max(on_hand - locked - allocated, 0),
        "inTransitQuantity": 0,
    }


def product_stock(row: OmStock) -> dict:
    """`productStock` (one GLOBAL location per warehouse, so the warehouse totals are the row's)."""
    return {
        "productStockId": row.pk,
        "product": product_info(row.product),
        "quantity": row.on_hand,
        "quantityLocked": row.locked,
        "allocatedQuantity": row.allocated,
        "availableQuantity": row.available,
        "minStock": 0,
        "pickable": True,
        "receivable": True,
        "active": True,
        "drawRank": 1,
        "stockLocation": {"location": row.location, "stockLocationId": row.pk, "warehouseId": row.warehouse_id},
        "warehouseStockTotals": {
            "onHandQuantity": row.on_hand,
            "availableQuantity": row.available,
            "allocatedQuantity": row.allocated,
            "lockedQuantity": row.locked,
            "inTransitQuantity": 0,
            "minInventoryLevel": 0,
        },
    }


def validation_detail(index: int, code: str, message: str, *, field: str = "", identifier=None) -> dict:
    """`ValidationDetailDto`; `index` is 1-based like the real service's."""
    return _compact(
        {
            "index": index,
            "errorCode": code,
            "message": message,
            "fieldName": field,
            "severity": "CRITICAL",
            "identifier": identifier,
        }
    )
