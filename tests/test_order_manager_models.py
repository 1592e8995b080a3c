"""connectors.order_manager.wire_orders: Order Manager's answers read with pydantic, each malformed
field named with what came instead (no network here; the client over the wire is in
test_order_manager.py and test_clients_against_sandbox.py)."""

import copy
import datetime

import pytest

from connectors.order_manager.wire_orders import (
    MAX_LINES,
    MAX_QUANTITY,
    InvalidOrder,
    OmOrder,
    OmOrderState,
    ReceivedOrder,
    order_id_of,
    parse_datetime,
)
from connectors.transport import JsonObject
from tests.om_sample_orders import ORDER, variant

# -- OmOrder ----------------------------------------------------------------------------------


def test_reads_a_good_order():
    order = OmOrder.read(ORDER)
    assert (order.order_id, order.order_number, order.status) == (4711, "SO-000042", "AWAITING_3PL_EXPORT")
    assert order.modified == datetime.datetime(2024, 5, 20, 12, tzinfo=datetime.UTC)
    assert order.sales_channel_name == "Shopify"
    assert order.carrier == "UPS" and order.service == "UPS Ground"
    assert order.ship_zip_code == "62701"  # a numeric ZIP is read as text
    assert order.ship_address2 == ""
    assert [(item.sku, item.quantity, item.listing_sku) for item in order.items] == [
        ("SKU-1", 2, "shop-sku-1"),
        ("SKU-2", 1, "SKU-2"),
    ]
    assert order.notes_from_buyer == "Leave at the door"


def test_blocks_that_are_not_objects_read_as_absent():
    order = OmOrder.read(variant(shipMethod="UPS", salesChannel=["Shopify"]))
    assert order.carrier == "" and order.sales_channel_name == ""
    assert OmOrder.read(variant(salesChannel={"name": "Legacy"})).sales_channel_name == "Legacy"


@pytest.mark.parametrize(
    "changes, reason",
    [
        # missing fields
        (dict(orderItems__0__product__masterSku=KeyError), "orderItems[0].product.masterSku: missing."),
        (dict(orderItems__1__product=None), "orderItems[1].product.masterSku: missing."),
        (dict(orderItems__0__product__masterSku="   "), "orderItems[0].product.masterSku: missing."),
        (dict(orderItems__0__quantityOrdered=KeyError), "orderItems[0].quantityOrdered (SKU-1): missing."),
        (dict(orderNumber=""), "orderNumber: missing."),
        (dict(shipCity=KeyError), "shipCity: missing."),
        (dict(shipCountry="  "), "shipCountry: missing."),
        (dict(orderItems=KeyError), "orderItems: missing."),
        (dict(orderId=KeyError), "orderId: missing."),
        # nulls
        (dict(shipAddress1=None), "shipAddress1: missing."),
        (
            dict(orderItems__0__quantityOrdered=None),
            "orderItems[0].quantityOrdered (SKU-1): expected a number, got null.",
        ),
        (dict(orderItems=None), "orderItems: expected a list of items, got null."),
        (dict(orderId=None), "orderId: expected a positive integer, got null."),
        # wrong types
        (dict(shipName=["Ada"]), "shipName: expected text, got a list."),
        (dict(shipCountry={"code": "US"}), "shipCountry: expected text, got an object."),
        (dict(shipPhone=True), "shipPhone: expected text, got true."),
        (
            dict(orderItems__0__quantityOrdered=True),
            "orderItems[0].quantityOrdered (SKU-1): expected a number, got true.",
        ),
        (
            dict(orderItems__0__quantityOrdered="2"),
            "orderItems[0].quantityOrdered (SKU-1): expected a number, got text '2'.",
        ),
        (dict(orderItems__1="SKU-2"), "orderItems[1]: expected an object, got text 'SKU-2'."),
        (dict(orderItems={"0": {}}), "orderItems: expected a list of items, got an object."),
        (dict(orderId="4711"), "orderId: expected a positive integer, got text '4711'."),
        (dict(orderId=4711.0), "orderId: expected a positive integer, got 4711.0."),
        # zero, negative, fractional, not finite
        (
            dict(orderItems__0__quantityOrdered=0),
            "orderItems[0].quantityOrdered (SKU-1): expected a positive integer, got 0.",
        ),
        (
            dict(orderItems__0__quantityOrdered=-3),
            "orderItems[0].quantityOrdered (SKU-1): expected a positive integer, got -3.",
        ),
        (
            dict(orderItems__0__quantityOrdered=1.5),
            "orderItems[0].quantityOrdered (SKU-1): expected an integer, got 1.5.",
        ),
        (dict(orderItems__0__quantityOrdered=float("nan")), "expected an integer, got nan."),
        (dict(orderItems__0__quantityOrdered=float("-inf")), "expected an integer, got -inf."),
        (dict(orderId=-1), "orderId: expected a positive integer, got -1."),
        (dict(orderItems=[]), "orderItems: expected at least one item, got an empty list."),
        # huge values
        (
            dict(orderItems__0__quantityOrdered=MAX_QUANTITY + 1),
            f"expected at most {MAX_QUANTITY}, got {MAX_QUANTITY + 1}.",
        ),
        (dict(orderItems__0__quantityOrdered=10**60), f"expected at most {MAX_QUANTITY}, got a number of 61 digits."),
        (dict(orderNumber="X" * 201), "orderNumber: longer than 200 characters (got 201)."),
        (dict(shipState="S" * 51), "shipState: longer than 50 characters (got 51)."),
        (dict(notesFromBuyer="n" * 1001), "notesFromBuyer: longer than 1000 characters (got 1001)."),
        # bytes PostgreSQL refuses
        (dict(shipName="Ada\x00Lovelace"), "shipName: contains a NUL byte."),
        (dict(orderNumber="SO\x00-1"), "orderNumber: contains a NUL byte."),
    ],
)
def test_bad_orders_name_the_field_and_what_came(changes, reason):
    with pytest.raises(InvalidOrder) as caught:
        OmOrder.read(variant(**changes))
    assert reason in str(caught.value)
    assert str(caught.value).endswith(".")


def test_every_bad_field_is_named_at_once():
    with pytest.raises(InvalidOrder) as caught:
        OmOrder.read(variant(orderNumber=None, shipCity="\x00", orderItems__1__quantityOrdered=-2))
    assert str(caught.value) == (
        "orderNumber: missing; shipCity: contains a NUL byte; "
        "orderItems[1].quantityOrdered (SKU-2): expected a positive integer, got -2."
    )


def test_a_long_list_of_problems_is_cut_and_counted():
    items = [{"quantityOrdered": -n, "product": {"masterSku": f"S{n}"}} for n in range(1, 9)]
    with pytest.raises(
        InvalidOrder, match=r"orderItems\[4\]\.quantityOrdered \(S5\): expected .* got -5 \(and 3 more\)\.$"
    ):
        OmOrder.read(variant(orderItems=items))


def test_too_many_lines():
    items = [{"quantityOrdered": 1, "product": {"masterSku": f"SKU-{n}"}} for n in range(MAX_LINES + 1)]
    with pytest.raises(InvalidOrder, match=f"orderItems: expected at most {MAX_LINES} items, got {MAX_LINES + 1}"):
        OmOrder.read(variant(orderItems=items))


def test_quantity_bounds_are_inclusive():
    order = OmOrder.read(variant(orderItems__0__quantityOrdered=MAX_QUANTITY, orderItems__1__quantityOrdered=1))
    assert [item.quantity for item in order.items] == [MAX_QUANTITY, 1]


def test_text_is_trimmed():
    assert OmOrder.read(variant(orderNumber="  SO-1  ")).order_number == "SO-1"


def test_not_an_object():
    with pytest.raises(InvalidOrder, match=r"^expected an object, got a list\.$"):
        OmOrder.read(["orderId", 1])


def test_a_repeated_key_refuses_the_order():
    flagged = JsonObject(copy.deepcopy(ORDER))
    flagged.duplicate_keys = ("shipName", "orderItems.0.quantityOrdered")
    with pytest.raises(
        InvalidOrder, match=r"repeats the key\(s\) shipName, orderItems.0.quantityOrdered in this order"
    ):
        OmOrder.read(flagged)


# -- OmOrderState and ReceivedOrder ------------------------------------------------------------


def test_received_order_keeps_the_raw_order_and_its_problem():
    bad = variant(orderItems__0__quantityOrdered=-2)
    received = ReceivedOrder.of(bad)
    assert received.raw is bad and received.order is None
    assert received.order_id == 4711 and received.status == "AWAITING_3PL_EXPORT"
    assert received.problem == "orderItems[0].quantityOrdered (SKU-1): expected a positive integer, got -2."
    good = ReceivedOrder.of(ORDER)
    assert good.problem == "" and good.order == OmOrder.read(ORDER)


@pytest.mark.parametrize(
    "raw", [None, "an order", 7, [ORDER], {"orderId": True, "orderNumber": 5, "orderStatus": ["X"]}]
)
def test_state_of_an_unreadable_order_is_unknown_never_an_error(raw):
    state = OmOrderState.read(raw)
    assert (state.order_id, state.order_number, state.status, state.tracking_numbers) == (None, "", "", frozenset())
    assert not state.is_cancelled
    assert ReceivedOrder.of(raw).problem


def test_tracking_numbers_come_from_the_shipment_and_the_shipment_groups():
    state = OmOrderState.read(
        {
            "orderId": 5,
            "orderStatus": "SHIPPED",
            "shipment": {"trackingNumber": "1Z-LAST"},
            "shipments": [{"trackingNumbers": ["1Z-A", "1Z-B", 7, None]}, "garbage", {"trackingNumbers": "1Z-C"}],
        }
    )
    # The hub's own reading added "1", "Z", "-", "C" for the text "1Z-C": a text is not a list here.
    assert state.tracking_numbers == {"1Z-LAST", "1Z-A", "1Z-B"}


@pytest.mark.parametrize("shipments", [5, "1Z", {"trackingNumbers": ["1Z"]}, True])
def test_shipments_that_are_not_a_list_make_the_tracking_unknown(shipments):
    # The hub's own reading (hub.jobs.shipment_confirmation.tracking_in_order) raised TypeError on
    # a number here, failing the whole Shipment Confirmation run, and read a text or an object as
    # "no tracking", so numbers in flight would have been sent again.
    state = OmOrderState.read({"orderId": 5, "shipments": shipments, "shipment": {"trackingNumber": "1Z"}})
    assert state.tracking_numbers is None


def test_no_shipments_yet_is_no_tracking():
    assert OmOrderState.read({"orderId": 5, "shipments": None, "shipment": "1Z"}).tracking_numbers == frozenset()
    assert OmOrderState.read({"orderId": 5}).tracking_numbers == frozenset()


def test_cancelled_is_the_spec_status():
    assert OmOrderState.read({"orderId": 1, "orderStatus": "CANCELLED"}).is_cancelled
    assert not OmOrderState.read({"orderId": 1, "orderStatus": "cancelled"}).is_cancelled


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
    assert OmOrderState.read(raw).order_id == expected


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
