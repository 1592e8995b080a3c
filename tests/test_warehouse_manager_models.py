"""connectors.warehouse_manager.wire, wire_pages and timestamps: 3PL Warehouse Manager's answers read
with pydantic, each malformed field named with what came instead (no network here; the client over
the wire is in test_warehouse_manager.py and test_clients_against_sandbox.py)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from connectors.warehouse_manager.timestamps import wms_timestamp
from connectors.warehouse_manager.wire import WmsItem, WmsOrder, WmsOrderBody, WmsStockRow, order_id_in
from connectors.warehouse_manager.wire_pages import camel_keys, read_collection
from connectors.wire import WireError, validate

ORDER_REL = "http://api.3plCentral.com/rels/orders/order"
CHICAGO = ZoneInfo("America/Chicago")

ORDER = {
    "readOnly": {
        "orderId": 1002,
        "status": 1,
        "isClosed": True,
        "lastModifiedDate": "2026-09-09T22:00:10",
        "shipDate": None,
        "processDate": "2026-09-09T17:00:00.1234567",
        "packages": [{"trackingNumber": " 1ZA "}, {"trackingNumber": "1ZA"}, {"trackingNumber": None}, {}],
        "customerIdentifier": {"id": 143, "name": "Acme"},
        "facilityIdentifier": {"id": 10},
    },
    "referenceNum": "OM-1002",
    "poNum": 4711,
    "routingInfo": {"carrier": " UPS ", "mode": "Ground", "scacCode": "UPSN", "trackingNumber": "1ZROUTE"},
}


def order(**read_only) -> dict:
    body = copy.deepcopy(ORDER)
    body["readOnly"].update(read_only)
    return body


def read(body, tz=UTC) -> WmsOrder:
    return validate(WmsOrderBody, body, context={"tz": tz}).to_order(etag='"e1"', tz=tz)


def problems(kind, value, **kwargs) -> list[str]:
    with pytest.raises(WireError) as caught:
        validate(kind, value, **kwargs)
    return caught.value.problems


# -- orders ------------------------------------------------------------------------------------


def test_a_closed_order_without_ship_date_ships_at_its_process_date_in_the_facility_time_zone():
    got = read(ORDER, CHICAGO)
    assert got == WmsOrder(
        order_id=1002,
        reference_num="OM-1002",
        status=1,
        is_closed=True,
        etag='"e1"',
        last_modified=datetime(2026, 9, 10, 3, 0, 10, tzinfo=UTC),
        ship_date=datetime(2026, 9, 9, 22, 0, 0, 123456, tzinfo=UTC),
        tracking_numbers=["1ZA"],  # packages first, trimmed, once each
        carrier="UPS",
        service="Ground",
        scac="UPSN",
        po_num="4711",
    )


def test_routing_tracking_is_the_fallback_and_missing_blocks_are_defaults():
    got = read(order(packages=None, status=0, isClosed=False))
    assert got.tracking_numbers == ["1ZROUTE"] and got.ship_date is None
    bare = read({"readOnly": {"orderId": 7}})
    assert (bare.status, bare.is_closed, bare.reference_num, bare.po_num, bare.carrier) == (0, False, "", "", "")
    assert read({"readOnly": {"orderId": 7, "status": 1}}).is_closed  # no isClosed: read from the status


def test_an_open_order_is_not_refused_for_a_placeholder_process_date():
    assert read(order(status=0, isClosed=False, processDate="not a date")).ship_date is None
    with pytest.raises(WireError, match=r"readOnly\.processDate: expected a timestamp, got text 'not a date'"):
        read(order(processDate="not a date"))


def test_plain_json_pascal_case_reads_like_hal():
    plain = {"ReadOnly": {"OrderId": 5, "Status": 2, "CustomerIdentifier": {"Id": 143}}, "ReferenceNum": "R5"}
    got = read(plain)
    assert (got.order_id, got.reference_num, got.is_canceled) == (5, "R5", True)
    assert order_id_in(plain) == 5 and order_id_in({"readOnly": {"orderId": "5"}}) is None


@pytest.mark.parametrize(
    "body, message",
    [
        # missing fields
        ({"referenceNum": "R"}, "readOnly: missing"),
        ({"readOnly": {}}, "readOnly.orderId: missing"),
        # nulls
        ({"readOnly": None}, "readOnly: expected an object, got null"),
        (order(orderId=None), "readOnly.orderId: expected an integer, got null"),
        (order(status=None), "readOnly.status: expected 0 (Open), 1 (Closed) or 2 (Canceled), got null"),
        (order(isClosed=None), "readOnly.isClosed: expected true or false, got null"),
        # wrong types
        (order(orderId="1002"), "readOnly.orderId: expected an integer, got text '1002'"),
        (order(orderId=True), "readOnly.orderId: expected an integer, got true"),
        (order(status="1"), "readOnly.status: expected 0 (Open), 1 (Closed) or 2 (Canceled), got text '1'"),
        (order(isClosed="yes"), "readOnly.isClosed: expected true or false, got text 'yes'"),
        (order(packages="1Z"), "readOnly.packages: expected a list, got text '1Z'"),
        (order(packages=[7]), "readOnly.packages[0]: expected an object, got 7"),
        (order(lastModifiedDate=20260909), "readOnly.lastModifiedDate: expected a timestamp, got 20260909"),
        (order(shipDate="yesterday"), "readOnly.shipDate: expected a timestamp, got text 'yesterday'"),
        (
            order(customerIdentifier={"id": "143"}),
            "readOnly.customerIdentifier.id: expected an integer, got text '143'",
        ),
        (dict(ORDER, referenceNum=["R"]), "referenceNum: expected text, got a list"),
        (dict(ORDER, routingInfo=["UPS"]), "routingInfo: expected an object, got a list"),
        ("an order", "expected an object, got text 'an order'"),
        # unknown and huge values
        (order(status=3), "readOnly.status: expected 0 (Open), 1 (Closed) or 2 (Canceled), got 3"),
        (order(status=-1), "readOnly.status: expected 0 (Open), 1 (Closed) or 2 (Canceled), got -1"),
        (
            order(status=10**40),
            "readOnly.status: expected 0 (Open), 1 (Closed) or 2 (Canceled), got a number of 41 digits",
        ),
    ],
)
def test_bad_orders_name_the_field_and_what_came(body, message):
    assert message in problems(WmsOrderBody, body, context={"tz": UTC})


def test_lenient_fields_read_as_unknown():
    body = dict(ORDER, poNum=True, routingInfo={"carrier": 5, "mode": None})
    got = read(body)
    assert (got.po_num, got.carrier, got.service) == ("", "", "")
    assert read(dict(ORDER, referenceNum=0, routingInfo=None)).reference_num == ""
    # Identifiers that are not objects read as absent: the client's scope check then refuses the order.
    assert validate(WmsOrderBody, order(facilityIdentifier="LAX")).read_only.facility_identifier is None


# -- timestamps --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2026-03-08T01:30:00", datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),
        ("2026-11-01T01:30:00", datetime(2026, 11, 1, 6, 30, tzinfo=UTC)),  # ambiguous: first occurrence
        ("2026-09-09T17:00:00Z", datetime(2026, 9, 9, 17, tzinfo=UTC)),
        ("2026-09-09T17:00:00+02:00", datetime(2026, 9, 9, 15, tzinfo=UTC)),
        ("2026-09-09T17:00:00.1234567", datetime(2026, 9, 9, 22, 0, 0, 123456, tzinfo=UTC)),
        ("", None),
        (None, None),
    ],
)
def test_timestamps_are_facility_local_unless_they_say_otherwise(value, expected):
    assert wms_timestamp(value, CHICAGO) == expected


@pytest.mark.parametrize("value", ["09/09/2026", 1757451600, ["2026-09-09"]])
def test_unreadable_timestamps_raise(value):
    with pytest.raises(ValueError):
        wms_timestamp(value, UTC)


# -- collections -------------------------------------------------------------------------------


def test_hal_and_plain_collections():
    hal = {
        "totalResults": 3,
        "_embedded": {ORDER_REL.upper(): [{"a": 1}]},
        "_links": {"next": {"href": "/orders?pgnum=2"}},
    }
    assert read_collection(hal, rel=ORDER_REL) == (3, [{"a": 1}], True)
    assert read_collection(
        {"totalResults": 0, "_embedded": {ORDER_REL: []}, "_links": {"next": None}}, rel=ORDER_REL
    ) == (
        0,
        [],
        False,
    )
    plain = {"TotalResults": 1, "ResourceList": [{"ReadOnly": {"OrderId": 1}, "_links": {}}]}
    assert read_collection(plain) == (1, [{"readOnly": {"orderId": 1}, "_links": {}}], False)
    summaries = {"totalResults": 1, "summaries": [{"available": 1}]}
    assert read_collection(summaries, hal_key="summaries", plain_key="Summaries").items == [{"available": 1}]
    assert read_collection(
        {"TotalResults": 1, "Summaries": [{"Available": 2}]}, hal_key="summaries", plain_key="Summaries"
    ).items == [{"available": 2}]


@pytest.mark.parametrize(
    "body, message",
    [
        ([], "expected an object, got an empty list"),
        (None, "expected an object, got null"),
        ({"Orders": []}, "neither '_embedded' (HAL) nor 'ResourceList' (plain JSON) (found: Orders)"),
        ({}, "neither '_embedded' (HAL) nor 'ResourceList' (plain JSON) (found: nothing)"),
        ({"_embedded": {ORDER_REL: []}}, "totalResults: missing"),
        (
            {"totalResults": None, "_embedded": {ORDER_REL: []}},
            "totalResults: expected an integer of 0 or more, got null",
        ),
        ({"totalResults": -5, "_embedded": {ORDER_REL: []}}, "totalResults: expected an integer of 0 or more, got -5"),
        (
            {"totalResults": 2.5, "_embedded": {ORDER_REL: []}},
            "totalResults: expected an integer of 0 or more, got 2.5",
        ),
        ({"totalResults": 1}, "_embedded: missing"),
        ({"totalResults": 1, "_embedded": []}, "_embedded: expected an object, got an empty list"),
        ({"totalResults": 1, "_embedded": {"item": []}}, f"_embedded: has no {ORDER_REL!r} (found: item)"),
        ({"totalResults": 1, "_embedded": {ORDER_REL: None}}, f"_embedded[{ORDER_REL!r}]: expected a list, got null"),
        ({"TotalResults": 1}, "ResourceList: missing"),
        ({"TotalResults": 1, "ResourceList": "x"}, "ResourceList: expected a list, got text 'x'"),
    ],
)
def test_malformed_collections_name_what_is_missing(body, message):
    with pytest.raises(WireError) as caught:
        read_collection(body, rel=ORDER_REL)
    assert message in caught.value.problems


# -- items and stock rows ---------------------------------------------------------------------


def test_items_read_their_id_from_read_only_too():
    assert validate(WmsItem, {"readOnly": {"itemId": 5}, "sku": "BLUE"}) == WmsItem(item_id=5, sku="BLUE")
    assert validate(list[WmsItem], camel_keys([{"ItemId": 6, "Sku": "RED"}])) == [WmsItem(item_id=6, sku="RED")]


@pytest.mark.parametrize(
    "item, message",
    [
        ({"sku": "BLUE"}, "items[0].itemId: missing"),
        ({"itemId": None, "sku": "BLUE"}, "items[0].itemId: expected an integer, got null"),
        ({"itemId": 5.0, "sku": "BLUE"}, "items[0].itemId: expected an integer, got 5.0"),
        ({"itemId": 5, "sku": 7}, "items[0].sku: expected non-blank text, got 7"),
        ({"itemId": 5, "sku": ""}, "items[0].sku: expected non-blank text, got empty text"),
        ("BLUE", "items[0]: expected an object, got text 'BLUE'"),
    ],
)
def test_bad_items(item, message):
    assert message in problems(list[WmsItem], [item], root="items")


def row(**changes) -> dict:
    base = {"itemIdentifier": {"sku": "BLUE", "id": 5}, "facilityId": 10, "qualifier": "", "available": 4}
    base.update(changes)
    return base


def test_stock_rows():
    read_row = validate(WmsStockRow, row(qualifier=None))
    assert (read_row.sku, read_row.item_id, read_row.facility_id, read_row.qualifier) == ("BLUE", 5, 10, "")
    assert read_row.usable_available == 4
    via_identifier = validate(WmsStockRow, row(facilityId=None, facilityIdentifier={"id": 11}))
    assert via_identifier.facility_id == 11


@pytest.mark.parametrize("available", [-1, "7", None, True, float("nan"), float("inf"), [4]])
def test_an_unusable_available_quantity_is_kept_as_sent_for_the_client_to_set_aside(available):
    read_row = validate(WmsStockRow, row(available=available))
    assert read_row.usable_available is None
    assert read_row.available == available or available != available  # NaN is not equal to itself


@pytest.mark.parametrize(
    "bad, message",
    [
        (row(itemIdentifier=None), "summaries[0].itemIdentifier: expected an object, got null"),
        (row(itemIdentifier={"sku": "BLUE"}), "summaries[0].itemIdentifier.id: missing"),
        (
            row(itemIdentifier={"sku": " ", "id": 5}),
            "summaries[0].itemIdentifier.sku: expected non-blank text, got blank text",
        ),
        (
            row(itemIdentifier={"sku": "BLUE", "id": "5"}),
            "summaries[0].itemIdentifier.id: expected an integer, got text '5'",
        ),
        (row(facilityId=None), "summaries[0].facilityId: expected an integer, got null"),
        (row(facilityId=10**30), None),  # a huge id is still an integer: the client's scope check refuses it
    ],
)
def test_bad_stock_rows(bad, message):
    if message is None:
        assert validate(list[WmsStockRow], [bad])[0].facility_id == 10**30
    else:
        assert message in problems(list[WmsStockRow], [bad], root="summaries")
