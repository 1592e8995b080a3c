"""hub.mapping.order_mapping: build the WMS order from an Order Manager order (as the client read it).

The validation of the order itself is the client's: tests/test_order_manager_models.py.
"""

from connectors.order_manager.wire_orders import OmOrder
from connectors.warehouse_manager.system import SYSTEM
from connectors.wms.base import Route
from hub.mapping.order_mapping import address_of, default_route, ship_to_summary
from hub.mapping.rules import Rules
from tests.om_sample_orders import ORDER, variant


def test_ship_to_of_a_good_order():
    order = OmOrder.read(ORDER)
    assert address_of(order).zip == "62701"  # a numeric ZIP is read as text
    assert address_of(order).address2 == ""
    assert default_route(order) == Route("UPS", "UPS Ground")
    assert ship_to_summary(order) == "Ada Lovelace, 12 Analytical Ave, Springfield, IL, 62701, US"


def test_the_3pl_body_of_an_order_sends_master_skus_by_reference_number():
    """The whole path from an Order Manager order to the 3PL Warehouse Manager body, identity rules."""
    body = Rules().apply(OmOrder.read(ORDER), SYSTEM).payload
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


def test_the_3pl_body_without_carrier_or_notes_leaves_them_out():
    order = OmOrder.read(variant(shipMethod=None, requestedShippingService=None, notesFromBuyer=None))
    assert default_route(order) is None
    body = Rules().apply(order, SYSTEM).payload
    assert "routingInfo" not in body and "notes" not in body
