"""connectors.shiphero.system: the order_create body from the neutral lines, address and route,
checked against the vendored schema's CreateOrderInput (so a body ShipHero would refuse fails here)."""

from graphql import parse

from connectors.shiphero import operations
from connectors.shiphero import schema as sh_schema
from connectors.shiphero.system import OM_ID_TAG, SYSTEM, om_order_id_in_tags
from connectors.wms.base import Address, Capability, Line, Route
from connectors.wms.systems import SYSTEMS, system_of

ADDRESS = Address(
    name="Ada King Lovelace",
    company="Analytical",
    address1="1 Engine St",
    city="London",
    state="CA",
    zip="90001",
    country="US",
    phone="555",
    email="ada@example.com",
)


def body(**kw):
    options = dict(
        reference="OM-1001", om_order_id=77, ship_to=ADDRESS, lines=[Line("SKU-1", 2), Line("SKU-2", 1)], route=None
    )
    options.update(kw)
    return SYSTEM.order_body(**options)


def schema_accepts(data) -> list:
    """The body as the `data` variable of the real CreateOrder mutation, coerced by graphql-core."""
    from graphql.execution.values import get_variable_values

    definition = operations.CREATE_ORDER.document.definitions[0]
    result = get_variable_values(sh_schema.schema(), definition.variable_definitions, {"data": data})
    return result if isinstance(result, list) else []


def test_registered_with_all_four_capabilities():
    assert system_of("shiphero") is SYSTEM and SYSTEMS["shiphero"].label == "ShipHero"
    assert SYSTEM.capabilities == frozenset(Capability)


def test_reference_is_order_number_and_partner_order_id_and_the_om_id_is_a_tag():
    sent = body()
    assert sent["order_number"] == sent["partner_order_id"] == "OM-1001"
    assert sent["tags"] == [f"{OM_ID_TAG}77"]
    assert om_order_id_in_tags(sent["tags"]) == "77"
    assert om_order_id_in_tags(["vip", "other"]) == ""


def test_address_and_lines_follow_the_schema():
    sent = body(notes="Fragile")
    assert sent["shipping_address"] == {
        "first_name": "Ada",
        "last_name": "King Lovelace",
        "company": "Analytical",
        "address1": "1 Engine St",
        "city": "London",
        "state": "CA",
        "state_code": "CA",
        "zip": "90001",
        "country": "US",
        "country_code": "US",
        "phone": "555",
        "email": "ada@example.com",
    }
    assert sent["line_items"] == [
        {"sku": "SKU-1", "partner_line_item_id": "OM-1001-1", "quantity": 2, "price": "0.00"},
        {"sku": "SKU-2", "partner_line_item_id": "OM-1001-2", "quantity": 1, "price": "0.00"},
    ]
    assert sent["packing_note"] == "Fragile"
    assert "shipping_lines" not in sent
    assert schema_accepts(sent) == []


def test_route_becomes_shipping_lines_and_replacing_lines_keeps_the_rest():
    sent = body(route=Route("UPS", "Ground", "UPSN"))
    assert sent["shipping_lines"] == {"title": "UPS Ground", "price": "0.00", "carrier": "UPS", "method": "Ground"}
    rerouted = SYSTEM.with_route(sent, Route("FedEx"))
    assert rerouted["shipping_lines"] == {"title": "FedEx", "price": "0.00", "carrier": "FedEx"}
    relined = SYSTEM.with_lines(rerouted, [Line("SKU-9", 4)])
    assert relined["line_items"] == [
        {"sku": "SKU-9", "partner_line_item_id": "OM-1001-1", "quantity": 4, "price": "0.00"}
    ]
    assert relined["shipping_lines"] == rerouted["shipping_lines"] and relined["tags"] == sent["tags"]
    assert schema_accepts(relined) == []


def test_a_body_missing_what_the_schema_requires_is_refused_by_the_schema():
    sent = body()
    del sent["shipping_address"]
    assert schema_accepts(sent), "shipping_address is CreateOrderAddressInput! in the real schema"
    sent = body()
    del sent["line_items"][0]["price"]
    assert schema_accepts(sent)
    assert parse("query { __typename }")  # the helper itself works on a trivial document
