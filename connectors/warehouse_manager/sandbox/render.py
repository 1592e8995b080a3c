"""JSON shapes of the sandbox 3PL Warehouse Manager (camelCase, HAL, timestamps without offset).

Field names follow the WMS samples in tap-3plcentral and ExtensivSharp's models (see
`docs/wire-protocols.md`). `detail` works like the real `detail=`
parameter: order items are only embedded with `OrderItems` or `All`, packages only with `Packages`
or `All`, so a client that forgets to ask for them does not see them here either.
"""

import base64
import struct
from typing import Any

from connectors.sandbox import clock
from connectors.sandbox.models import WmsAccount, WmsItem, WmsOrder, WmsOrderStatus, WmsStock

ORDER_REL = "http://api.3plCentral.com/rels/orders/order"
ITEM_REL = "http://api.3plCentral.com/rels/orders/item"
CUSTOMER_ITEM_REL = "http://api.3plCentral.com/rels/customers/item"  # ExtensivSharp Models/Items/EmbeddedItems.cs
REST_API_SOURCE = 7  # warehouseTransactionSourceType of orders created through the REST API


HAL_MEDIA_TYPE = "application/hal+json"


def wants_hal(accept: str) -> bool:
    """Whether an `Accept` header asks for HAL. Only an explicit `application/hal+json` does:
    Drewcrandall/ExtensivSharp sets it on every endpoint and reads HAL (Models/Order/Orders.cs),
    while airbytehq/airbyte source-tplcentral streams.py and singer-io/tap-3plcentral sync.py send
    no HAL Accept and read PascalCase `ResourceList`/`TotalResults`/`Summaries`."""
    for part in (accept or "").split(","):
        media, _, params = part.strip().partition(";")
        if media.strip().lower() == HAL_MEDIA_TYPE and "q=0" not in params.replace(" ", "").split(";"):
            return True
    return False


def pascal(data: Any) -> Any:
    """A HAL camelCase body in the plain-JSON PascalCase form (`readOnly.orderId` ->
    `ReadOnly.OrderId`); `_links` are dropped and an order's embedded items become `OrderItems`
    (the plain form's name for them is unverified; the hub does not read order items back)."""
    if isinstance(data, list):
        return [pascal(value) for value in data]
    if not isinstance(data, dict):
        return data
    result = {}
    for key, value in data.items():
        if key == "_links":
            continue
        if key == "_embedded" and isinstance(value, dict):
            for rel, items in value.items():
                name = {ITEM_REL: "OrderItems"}.get(rel, "ResourceList")
                result[name] = pascal(items)
            continue
        result[key[:1].upper() + key[1:]] = pascal(value)
    return result


def collection(hal: bool, *, total: int, rel: str, items: list[dict], links: dict | None = None) -> dict:
    """A collection in the negotiated form: HAL `{totalResults, _links, _embedded{rel: [...]}}` or
    plain `{TotalResults, ResourceList: [...]}` with PascalCase items."""
    if hal:
        body = {"totalResults": total}
        if links is not None:
            body["_links"] = links
        body["_embedded"] = {rel: items}
        return body
    return {"TotalResults": total, "ResourceList": pascal(items)}


def etag(order: WmsOrder) -> str:
    """A quoted opaque tag that changes with every change of the order (like SQL rowversion)."""
    return '"' + base64.b64encode(struct.pack(">QI", order.pk, order.version)).decode() + '"'


def details(raw: str) -> set[str]:
    """`detail=OrderItems,Packages` -> {"orderitems", "packages"}; `All` means everything."""
    parts = {part.strip().lower() for part in (raw or "").split(",") if part.strip()}
    if "all" in parts:
        parts |= {"orderitems", "packages", "savedelements"}
    return parts


def order(row: WmsOrder, account: WmsAccount, detail: set[str]) -> dict:
    """One order. Needs `items` and `packages` prefetched when `detail` asks for them."""
    zone = account.facility_time_zone
    read_only = {
        "orderId": row.pk,
        "asnCandidate": 0,
        "routeCandidate": 0,
        "fullyAllocated": row.status != WmsOrderStatus.CANCELED,
        "isClosed": row.status == WmsOrderStatus.CLOSED,
        "status": row.status,
        "creationDate": clock.wms_format(row.creation_date, zone),
        "lastModifiedDate": clock.wms_format(row.last_modified_date, zone),
        "customerIdentifier": {"id": row.customer_id, "name": account.customer_name, "externalId": ""},
        "facilityIdentifier": {"id": row.facility_id, "name": account.facility_name},
        "warehouseTransactionSourceType": REST_API_SOURCE,
    }
    if row.process_date:
        read_only["processDate"] = clock.wms_format(row.process_date, zone)
        read_only["pickDoneDate"] = read_only["packDoneDate"] = read_only["processDate"]
    if row.status == WmsOrderStatus.CLOSED and row.process_date:
        # Ship-and-close stamps the ship date; the hub confirms it to Order Manager as the shipDate.
        read_only["shipDate"] = read_only["processDate"]
    if "packages" in detail:
        read_only["packages"] = [
            {
                "packageId": package.pk,
                "packageTypeId": 0,
                "weight": package.weight,
                "trackingNumber": package.tracking_number,
                "createDate": clock.wms_format(package.create_date, zone),
                "packageContents": [
                    {"packageId": package.pk, "orderItemId": content["orderItemId"], "qty": content["qty"]}
                    for content in package.contents
                ],
            }
            for package in row.packages.all()
        ]
    data = {
        "readOnly": read_only,
        "referenceNum": row.reference_num,
        "poNum": row.po_num,
        "notes": row.notes,
        "shippingNotes": row.shipping_notes,
        "billingCode": row.billing_code,
        "routingInfo": row.routing_info,
        "shipTo": row.ship_to,
        "_links": {"self": {"href": f"/orders/{row.pk}"}},
    }
    if "savedelements" in detail:
        data["savedElements"] = row.saved_elements
    if "orderitems" in detail:
        data["_embedded"] = {
            ITEM_REL: [
                {
                    "readOnly": {"orderItemId": item.pk, "fullyAllocated": row.status != WmsOrderStatus.CANCELED},
                    "itemIdentifier": {"sku": item.sku, "id": item.item_id},
                    "qualifier": item.qualifier,
                    "qty": float(item.qty),
                }
                for item in row.items.all()
            ]
        }
    return data


def item(row: WmsItem, customer_id: int) -> dict:
    """One item of `/customers/{id}/items`: `itemId`, `sku`, `readOnly{customerIdentifier, deactivated}`
    (fields as Njdonatelli/Extensiv-MCP-Server's notes quote the rel page)."""
    return {
        "itemId": row.pk,
        "sku": row.sku,
        "description": row.description,
        "readOnly": {"itemId": row.pk, "customerIdentifier": {"id": customer_id}, "deactivated": False},
        "_links": {"self": {"href": f"/customers/{customer_id}/items/{row.pk}"}},
    }


def stock_summary(row: WmsStock) -> dict:
    """One `summaries[]` row (item x qualifier x facility). Needs `item` selected."""
    return {
        "itemIdentifier": {"sku": row.item.sku, "id": row.item_id},
        "qualifier": row.qualifier,
        "facilityId": row.facility_id,
        "totalReceived": float(row.total_received),
        "onHand": float(row.on_hand),
        "allocated": float(row.allocated),
        "available": float(row.available),
        "onHold": float(row.on_hold),
    }


def error(
    type_name: str,
    code: str,
    message: str,
    *,
    hint: str = "",
    properties: dict | None = None,
    parameters: list[str] | None = None,
) -> dict:
    """A .NET-style exception body: `$type`, `ErrorCode`, `Hint`, `Message` (+ `Properties`, `Parameters`).

    `properties` ({name: value}) is rendered as the documented list `[{"Name": ..., "Value": ...}]`
    (Njdonatelli/Extensiv-MCP-Server docs/research/api_reference_notes.md quoting Rels/exceptions:
    `ModelValidationException {ModelType, Properties:[{Name,Value}], ErrorCode, Hint}`;
    `QueryParameterException` carries `"Parameters":["rql"]`).
    """
    body = {
        "$type": f"WMS.V2.Generic.Models.Exceptions.{type_name}, WMS.V2.Generic.Models",
        "ErrorCode": code,
        "Hint": hint or None,
        "Message": message,
    }
    if parameters:
        body["Parameters"] = list(parameters)
    if properties:
        body["Properties"] = [{"Name": name, "Value": value} for name, value in properties.items()]
    return body
