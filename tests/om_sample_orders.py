"""A good Order Manager order as `GET /v1.1/orders` returns it, and `variant` to spoil one field:
the sample the wire-model, mapping and rules tests share."""

import copy

ORDER = {
    "orderId": 4711,
    "orderNumber": "SO-000042",
    "orderStatus": "AWAITING_3PL_EXPORT",
    "modifiedDate": "2024-05-20T12:00:00Z",
    "salesChannel": {"salesChannelId": 1, "salesChannelName": "Shopify"},
    "shipMethod": {"shippingCarrier": "UPS"},
    "requestedShippingService": "UPS Ground",
    "shipName": "Ada Lovelace",
    "shipCompany": "",
    "shipAddress1": "12 Analytical Ave",
    "shipAddress2": None,
    "shipCity": "Springfield",
    "shipState": "IL",
    "shipZipCode": 62701,
    "shipCountry": "US",
    "shipPhone": "555-0100",
    "shipEmail": "ada@example.com",
    "notesFromBuyer": "Leave at the door",
    "orderItems": [
        {"listingSku": "shop-sku-1", "quantityOrdered": 2, "product": {"masterSku": "SKU-1"}},
        {"listingSku": "SKU-2", "quantityOrdered": 1.0, "product": {"masterSku": "SKU-2"}},
    ],
}


def variant(**changes):
    raw = copy.deepcopy(ORDER)
    for path, value in changes.items():
        target = raw
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        last = keys[-1]
        if value is KeyError:
            del target[last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return raw
