"""hub.mapping.order_mapping: validate an Order Manager order and build the WMS order from it."""

import copy
import datetime

import pytest

from hub.mapping.order_mapping import (
    MAX_LINES,
    MAX_QUANTITY,
    InvalidOrder,
    order_id_of,
    parse_datetime,
    parse_order,
    wms_order,
)

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


def test_parses_a_good_order():
    order = parse_order(ORDER)
    assert (order.order_id, order.order_number, order.status) == (4711, "SO-000042", "AWAITING_3PL_EXPORT")
    assert order.modified == datetime.datetime(2024, 5, 20, 12, tzinfo=datetime.UTC)
    assert order.sales_channel == "Shopify"
    assert order.ship_method == "UPS UPS Ground" and order.carrier == "UPS" and order.service == "UPS Ground"
    assert order.ship_to["zip"] == "62701"  # a numeric ZIP is read as text
    assert order.ship_to["address2"] == ""
    assert [(line.sku, line.quantity, line.listing_sku) for line in order.lines] == [
        ("SKU-1", 2, "shop-sku-1"),
        ("SKU-2", 1, "SKU-2"),
    ]
    assert order.ship_to_summary == "Ada Lovelace, 12 Analytical Ave, Springfield, IL, 62701, US"
    assert order.notes == "Leave at the door"


def test_wms_order_sends_master_skus_by_reference_number():
    body = wms_order(parse_order(ORDER))
    assert body == {
        "referenceNum": "SO-000042",
        "poNum": "4711",
        "shipTo": {
            "name": "Ada Lovelace",
            "address1": "12 Analytical Ave",
            "city": "Springfield",
            "state": "IL",
            "zip": "62701",
            "country": "US",
            "phoneNumber": "555-0100",
            "emailAddress": "ada@example.com",
        },
        "orderItems": [
            {"itemIdentifier": {"sku": "SKU-1"}, "qty": 2},
            {"itemIdentifier": {"sku": "SKU-2"}, "qty": 1},
        ],
        "routingInfo": {"carrier": "UPS", "mode": "UPS Ground"},
        "notes": "Leave at the door",
    }


def test_wms_order_without_carrier_or_notes_leaves_them_out():
    body = wms_order(parse_order(variant(shipMethod=None, requestedShippingService=None, notesFromBuyer=None)))
    assert "routingInfo" not in body and "notes" not in body


@pytest.mark.parametrize(
    "changes, reason",
    [
        (dict(orderItems__0__product__masterSku=KeyError), "item 1 product.masterSku is missing."),
        (dict(orderItems__1__product=None), "item 2 product.masterSku is missing."),
        (dict(orderItems__0__product__masterSku="   "), "item 1 product.masterSku is missing."),
        (dict(orderItems__0__quantityOrdered=0), "item 1 (SKU-1) quantityOrdered must be positive (got 0)."),
        (dict(orderItems__0__quantityOrdered=-3), "must be positive (got -3)."),
        (dict(orderItems__0__quantityOrdered=MAX_QUANTITY + 1), f"is implausibly large ({MAX_QUANTITY + 1})."),
        (dict(orderItems__0__quantityOrdered=1.5), "is not a whole number (1.5)."),
        (dict(orderItems__0__quantityOrdered=float("nan")), "is not a whole number"),
        (dict(orderItems__0__quantityOrdered=True), "quantityOrdered is not a number."),
        (dict(orderItems__0__quantityOrdered="2"), "quantityOrdered is not a number."),
        (dict(orderItems__0__quantityOrdered=KeyError), "quantityOrdered is not a number."),
        (dict(shipName="Ada\x00Lovelace"), "shipName contains a NUL byte."),
        (dict(orderNumber="SO\x00-1"), "orderNumber contains a NUL byte."),
        (dict(orderNumber="X" * 201), "orderNumber is longer than 200 characters."),
        (dict(orderNumber=""), "orderNumber is missing."),
        (dict(shipAddress1=None), "shipAddress1 is missing."),
        (dict(shipCity=KeyError), "shipCity is missing."),
        (dict(shipCountry="  "), "shipCountry is missing."),
        (dict(shipName=["Ada"]), "shipName is not text (list)."),
        (dict(shipState="S" * 51), "shipState is longer than 50 characters."),
        (dict(orderItems__1="SKU-2"), "item 2 is not a JSON object."),
        (dict(orderItems=[]), "the order has no items."),
        (dict(orderItems=KeyError), "the order has no items."),
        (dict(orderItems={"0": {}}), "the order has no items."),
        (dict(orderId=KeyError), "orderId is missing or not a positive integer."),
        (dict(orderId="4711"), "orderId is missing or not a positive integer."),
    ],
)
def test_bad_orders_raise_with_a_plain_reason(changes, reason):
    with pytest.raises(InvalidOrder) as caught:
        parse_order(variant(**changes))
    assert reason in str(caught.value)


def test_too_many_lines():
    items = [{"quantityOrdered": 1, "product": {"masterSku": f"SKU-{n}"}} for n in range(MAX_LINES + 1)]
    with pytest.raises(InvalidOrder, match="more than 1000 items"):
        parse_order(variant(orderItems=items))


def test_not_an_object():
    with pytest.raises(InvalidOrder, match="not a JSON object"):
        parse_order(["orderId", 1])


def test_quantity_bounds_are_inclusive():
    order = parse_order(variant(orderItems__0__quantityOrdered=MAX_QUANTITY, orderItems__1__quantityOrdered=1))
    assert [line.quantity for line in order.lines] == [MAX_QUANTITY, 1]


def test_text_is_trimmed():
    assert parse_order(variant(orderNumber="  SO-1  ")).order_number == "SO-1"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ({"orderId": 5}, 5),
        ({"orderId": 0}, None),
        ({"orderId": -1}, None),
        ({"orderId": True}, None),
        ({"orderId": "5"}, None),
        ({"orderId": 5.0}, None),
        ({}, None),
        ("5", None),
        (None, None),
    ],
)
def test_order_id_of(raw, expected):
    assert order_id_of(raw) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-05-20T12:00:00Z", datetime.datetime(2024, 5, 20, 12, tzinfo=datetime.UTC)),
        ("2024-05-20T12:00:00", datetime.datetime(2024, 5, 20, 12, tzinfo=datetime.UTC)),
        ("2024-05-20T14:00:00+02:00", datetime.datetime(2024, 5, 20, 12, tzinfo=datetime.UTC)),
        ("yesterday", None),
        ("", None),
        (None, None),
        (1716206400, None),
    ],
)
def test_parse_datetime(text, expected):
    assert parse_datetime(text) == expected
