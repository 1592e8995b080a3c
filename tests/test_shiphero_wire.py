"""connectors.shiphero.wire: ShipHero's order and stock nodes read strictly into the neutral shapes."""

from datetime import UTC, datetime

import pytest

from connectors.errors import MalformedResponse
from connectors.shiphero import wire
from connectors.wms.orders import STATUS_CANCELED, STATUS_CLOSED, STATUS_OPEN
from tests.shiphero_answers import label, order_node, shipment


def read_order(node):
    return wire.read(wire.ShOrder, node, call="order", root="data.order.data").to_order()


def test_a_fulfilled_order_with_every_package_and_tracking_number():
    node = order_node(
        status="fulfilled",
        shipments=[
            shipment([label("1ZA"), label("1ZB")], created="2026-12-01T10:00:00", legacy_id=1),
            shipment(
                [label("1ZB"), label("9400", carrier="usps", method="priority")],
                created="2026-12-02T08:30:00+00:00",
                legacy_id=2,
            ),
        ],
    )
    order = read_order(node)
    assert (order.order_id, order.reference_num, order.status, order.is_closed) == (
        5001,
        "OM-1001",
        STATUS_CLOSED,
        True,
    )
    assert order.tracking_numbers == ["1ZA", "1ZB", "9400"]
    assert (order.carrier, order.service, order.scac) == ("usps", "priority", "")
    assert order.ship_date == datetime(2026, 12, 2, 8, 30, tzinfo=UTC)
    assert order.last_modified == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert order.po_num == "77" and order.etag is None


def test_refunded_labels_are_not_tracking_numbers():
    order = read_order(
        order_node(status="fulfilled", shipments=[shipment([label("VOID", refunded=True), label("REAL")])])
    )
    assert order.tracking_numbers == ["REAL"]


@pytest.mark.parametrize(
    "word, status",
    [
        ("fulfilled", STATUS_CLOSED),
        ("canceled", STATUS_CANCELED),
        ("Cancelled", STATUS_CANCELED),
        ("pending", STATUS_OPEN),
        ("on_hold", STATUS_OPEN),
        ("", STATUS_OPEN),
    ],
)
def test_statuses(word, status):
    order = read_order(order_node(status=word))
    assert order.status == status and order.is_canceled is (status == STATUS_CANCELED)


def test_no_labels_falls_back_to_the_shipping_lines_and_no_tag_is_no_po_num():
    order = read_order(order_node(tags=None) | {"tags": None, "shipments": None})
    assert (order.carrier, order.service, order.tracking_numbers, order.po_num, order.ship_date) == (
        "UPS",
        "Ground",
        [],
        "",
        None,
    )


@pytest.mark.parametrize(
    "change, words",
    [
        ({"legacy_id": "5001"}, "data.order.data.legacy_id: expected a positive integer, got text '5001'"),
        ({"id": ""}, "data.order.data.id: expected non-blank text"),
        ({"updated_at": "yesterday"}, "data.order.data.updated_at: expected an ISO 8601 timestamp"),
        ({"shipments": [{"shipping_labels": [{"refunded": "no"}]}]}, "shipments[0].shipping_labels[0].refunded"),
    ],
)
def test_malformed_orders_name_the_field(change, words):
    with pytest.raises(MalformedResponse, match=words.replace("[", r"\[").replace("]", r"\]")):
        read_order(order_node() | change)


def test_a_null_node_in_a_page_is_refused_by_its_path():
    page = {"pageInfo": {"hasNextPage": False}, "edges": [{"node": order_node()}, {"node": None}]}
    with pytest.raises(MalformedResponse, match=r"data.orders.data.edges\[1\].node"):
        wire.read(wire.OrderConnection, page, call="orders", root="data.orders.data")


def test_warehouse_products_keep_quantities_as_sent():
    page = {
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "edges": [{"node": {"sku": "A", "warehouse_id": "W", "available": "7", "on_hand": 9}}],
    }
    read = wire.read(wire.ProductConnection, page, call="warehouse_products", root="d")
    assert read.edges[0].node.available == "7"
    with pytest.raises(MalformedResponse, match=r"d.edges\[0\].node.sku"):
        wire.read(
            wire.ProductConnection,
            {"pageInfo": {"hasNextPage": False}, "edges": [{"node": {"sku": ""}}]},
            call="w",
            root="d",
        )


def test_iso_timestamps():
    assert wire.iso_timestamp("2026-12-01T10:00:00") == datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert wire.iso_timestamp("2026-12-01T10:00:00-05:00") == datetime(2026, 12, 1, 15, tzinfo=UTC)
    assert wire.iso_timestamp(None) is None
    with pytest.raises(ValueError):
        wire.iso_timestamp(12)
