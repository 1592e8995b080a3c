"""hub.mapping.rules: the in-memory rules of a connection (loading, aliases, filters, ship methods, inventory)."""

import pytest

from connectors.order_manager.wire_orders import OmOrder
from connectors.warehouse_manager.system import SYSTEM
from connectors.wms.base import Route
from hub.mapping.rules import Rules, unmapped_reason
from tenants.mappings import FilterLevel, FilterMode
from tests import factories
from tests.om_sample_orders import ORDER, variant


def order(lines, carrier="UPS", service="UPS Ground"):
    items = [{"product": {"masterSku": sku}, "quantityOrdered": qty} for sku, qty in lines]
    return OmOrder.read(
        variant(orderItems=items, shipMethod={"shippingCarrier": carrier}, requestedShippingService=service)
    )


@pytest.mark.django_db
def test_loading_a_connections_rules_takes_five_queries_and_ignores_other_connections(django_assert_num_queries):
    connection, other = factories.OrderManagerConnectionFactory(), factories.OrderManagerConnectionFactory()
    factories.ConnectionRulesFactory(
        connection=connection, inventory_buffer=3, reject_unmapped_ship_methods=True, item_filter_mode=FilterMode.BLOCK
    )
    factories.SkuAliasFactory(connection=connection, om_sku="A", wms_sku="W")
    factories.SkuAliasFactory(connection=other, om_sku="B", wms_sku="W")
    factories.ShipMethodMappingFactory(
        connection=connection, ship_method="UPS / UPS Ground", wms_carrier="UPS", wms_mode="Ground"
    )
    factories.ShipMethodMappingFactory(connection=connection, ship_method="DHL / Express", wms_carrier="", wms_mode="")
    factories.CarrierMappingFactory(connection=connection, wms_carrier="BOBF", om_carrier="ESTES_EXPRESS_LINES")
    factories.ItemFilterFactory(connection=connection, sku="GIFT*")
    factories.ItemFilterFactory(connection=connection, sku="SAMPLE")
    with django_assert_num_queries(5):
        rules = Rules.for_connection(connection)
    assert (rules.buffer, rules.reject_unmapped, rules.aliases) == (3, True, {"A": "W"})
    assert rules.routes == {"UPS / UPS GROUND": Route("UPS", "Ground")}
    assert rules.known_methods == {"UPS / UPS GROUND", "DHL / EXPRESS"}
    assert rules.carrier_overrides == {"BOBF": "ESTES_EXPRESS_LINES"}
    assert (rules.filter_exact, rules.filter_prefixes) == (frozenset({"SAMPLE"}), ("GIFT",))


@pytest.mark.django_db
def test_a_connection_without_rules_gets_the_defaults():
    rules = Rules.for_connection(factories.OrderManagerConnectionFactory())
    assert (rules.reject_unmapped, rules.filter_mode, rules.minimum, rules.buffer, rules.subtract_pending) == (
        False,
        FilterMode.OFF,
        0,
        0,
        True,
    )
    decision = rules.apply(OmOrder.read(ORDER), SYSTEM)
    assert decision.outcome == "send" and decision.unmapped


def test_aliases_both_ways():
    rules = Rules(aliases={"RED": "W1", "BLUE": "W1", "W1": "W1", "OLD": "W2", "W2": "W9"})
    assert rules.wms_sku("RED") == "W1" and rules.wms_sku("PLAIN") == "PLAIN"
    # Several Order Manager SKUs share W1; the identical SKU is kept when it maps to itself.
    assert rules.om_skus_for("W1", known_om_skus=set()) == ["BLUE", "RED", "W1"]
    # W2 is itself aliased away to W9: W2's stock goes to OLD only.
    assert rules.om_skus_for("W2", known_om_skus={"W2"}) == ["OLD"]
    assert rules.om_skus_for("W9", known_om_skus=set()) == ["W2"]
    # No alias to it: the identical SKU (reported as no starting inventory when unknown).
    assert rules.om_skus_for("PLAIN", known_om_skus=set()) == ["PLAIN"]
    aliased_only = Rules(aliases={"RED": "W5"})
    assert aliased_only.om_skus_for("W5", known_om_skus=set()) == ["RED"]
    assert aliased_only.om_skus_for("W5", known_om_skus={"W5"}) == ["RED", "W5"]


@pytest.mark.parametrize(
    "mode, sku, filtered",
    [
        (FilterMode.OFF, "GIFT-1", False),
        (FilterMode.BLOCK, "GIFT-1", True),
        (FilterMode.BLOCK, "SAMPLE", True),
        (FilterMode.BLOCK, "SAMPLE-2", False),
        (FilterMode.BLOCK, "XGIFT", False),
        (FilterMode.ALLOW, "GIFT-1", False),
        (FilterMode.ALLOW, "SAMPLE", False),
        (FilterMode.ALLOW, "OTHER", True),
    ],
)
def test_item_filter_exact_and_prefix(mode, sku, filtered):
    rules = Rules(filter_mode=mode, filter_exact=frozenset({"SAMPLE"}), filter_prefixes=("GIFT",))
    assert rules.is_filtered(sku) is filtered


def test_apply_aliases_filters_and_routes():
    rules = Rules(
        aliases={"RED": "W1"},
        filter_mode=FilterMode.BLOCK,
        filter_prefixes=("GIFT",),
        routes={"UPS / UPS GROUND": Route("UPS", "Ground", "UPGN")},
    )
    decision = rules.apply(order([("RED", 2), ("GIFT-CARD", 1), ("PLAIN", 1)]), SYSTEM)
    assert decision.outcome == "send" and decision.filtered == ["GIFT-CARD"]
    assert decision.payload["orderItems"] == [
        {"itemIdentifier": {"sku": "W1"}, "qty": 2},
        {"itemIdentifier": {"sku": "PLAIN"}, "qty": 1},
    ]
    assert decision.payload["routingInfo"] == {"carrier": "UPS", "mode": "Ground", "scacCode": "UPGN"}
    assert decision.lines == [
        {"sku": "RED", "quantity": 2, "wms_sku": "W1"},
        {"sku": "GIFT-CARD", "quantity": 1, "filtered": True},
        {"sku": "PLAIN", "quantity": 1},
    ]
    assert (decision.ship_method, decision.unmapped) == ("UPS / UPS Ground", False)

    assert rules.apply(order([("GIFT-A", 1)]), SYSTEM).outcome == "skip"
    rules.filter_level = FilterLevel.ORDER
    skipped = rules.apply(order([("PLAIN", 1), ("GIFT-A", 1)]), SYSTEM)
    assert skipped.outcome == "skip" and "order-level item filter matches GIFT-A" in skipped.reason


def test_unmapped_methods_are_flagged_held_only_when_rejecting_and_a_blank_method_is_never_held():
    keep = Rules().apply(order([("A", 1)], "FedEx", "Home"), SYSTEM)
    assert (keep.outcome, keep.unmapped, keep.payload["routingInfo"]) == (
        "send",
        True,
        {"carrier": "FedEx", "mode": "Home"},
    )
    held = Rules(reject_unmapped=True).apply(order([("A", 1)], "FedEx", "Home"), SYSTEM)
    assert held.outcome == "hold" and held.reason == unmapped_reason("FedEx / Home")
    blank = Rules(reject_unmapped=True).apply(order([("A", 1)], "", ""), SYSTEM)
    assert (blank.outcome, blank.unmapped, "routingInfo" in blank.payload) == ("send", False, False)


@pytest.mark.parametrize(
    "available, pending, buffer, minimum, subtract, expected",
    [
        (10, 0, 0, 0, True, 10),
        (10, 3, 2, 0, True, 5),
        (10, 3, 2, 0, False, 8),
        (4, 0, 10, 0, True, 0),  # floor 0
        (10, 3, 2, 6, True, 0),  # 5 is below the minimum 6
        (10, 3, 2, 5, True, 5),  # at the minimum: published
    ],
)
def test_inventory_rules(available, pending, buffer, minimum, subtract, expected):
    quantity, why = Rules(buffer=buffer, minimum=minimum, subtract_pending=subtract).available_to_publish(
        available, pending
    )
    assert quantity == expected
    if expected == 0 and minimum:
        assert f"below the minimum level {minimum}" in why
