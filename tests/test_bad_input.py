"""Bad input from outside: every field the hub reads is validated, a bad record is quarantined with
a clear reason (the rest of the page goes on) and can be re-processed from Order Manager.

- a table of bad orders through `OmOrder.read` (the Order Manager client's validation, whose
  reason Order Download keeps on the order's record);
- JSON-level faults through `parse_json`: NaN/Infinity refused, repeated keys flagged (and such
  an order held, the rest of its page sent), over the HTTP seam against the live sandbox;
- non-UTC timestamps converted;
- `hub.jobs.reprocess`: the admin action that fetches a held order again and re-reads it;
- a property-based test (hypothesis): random valid and invalid orders in random page orderings
  (shuffled, repeated across pages, two runs) through the real Order Download against stubbed
  clients always end in the same state, each valid order sent once.
"""

from __future__ import annotations

import copy
import datetime
import json
import math
import re

import pytest
import responses
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from connectors.errors import MalformedResponse
from connectors.order_manager.wire_answers import OmWarehouse
from connectors.order_manager.wire_orders import InvalidOrder, OmOrder, OmOrderState, ReceivedOrder, parse_datetime
from connectors.transport import Answer, JsonObject, duplicate_keys_in, parse_json
from connectors.warehouse_manager.errors import DuplicateOrder
from connectors.warehouse_manager.wire import WmsOrder
from hub.engine.runner import run_job
from hub.jobs import reprocess
from hub.models import Job, OrderEvent, OrderRecord, SyncRun
from tests import factories

Status, Kind = OrderRecord.Status, OrderEvent.Kind


def good_order(order_id: int = 1, number: str = "SO-1", sku: str = "SKU-1", quantity=2) -> dict:
    return {
        "orderId": order_id,
        "orderNumber": number,
        "orderStatus": "AWAITING_3PL_EXPORT",
        "modifiedDate": "2024-05-01T12:00:00Z",
        "shipName": "Ada Lovelace",
        "shipAddress1": "12 Analytical Ave",
        "shipCity": "Springfield",
        "shipState": "IL",
        "shipZipCode": "62701",
        "shipCountry": "US",
        "shipMethod": {"shippingCarrier": "UPS"},
        "requestedShippingService": "UPS Ground",
        "orderItems": [{"product": {"masterSku": sku}, "quantityOrdered": quantity, "listingSku": sku}],
    }


def spoil(path: str, value):
    def apply(order: dict) -> dict:
        order = copy.deepcopy(order)
        _target, *keys = [order], *path.split(".")
        node = order
        for key in keys[:-1]:
            node = node[int(key)] if isinstance(node, list) else node[key]
        last = keys[-1]
        if value is KeyError:
            node.pop(last)
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
        return order

    return apply


def repeated(key: str):
    def apply(order: dict) -> dict:
        flagged = JsonObject(copy.deepcopy(order))
        flagged.duplicate_keys = (key,)
        return flagged

    return apply


BAD_ORDERS = [
    # name, spoiler, reason in InvalidOrder (the field's path, what was expected, what came)
    ("missing orderNumber", spoil("orderNumber", KeyError), "orderNumber: missing"),
    ("orderNumber is a list", spoil("orderNumber", ["SO-1"]), "orderNumber: expected text, got a list"),
    (
        "orderNumber over 200 chars",
        spoil("orderNumber", "N" * 201),
        "orderNumber: longer than 200 characters (got 201)",
    ),
    ("NUL byte in the city", spoil("shipCity", "Spring\x00field"), "shipCity: contains a NUL byte"),
    ("ship name over 200 chars", spoil("shipName", "A" * 201), "shipName: longer than 200 characters"),
    ("missing address", spoil("shipAddress1", None), "shipAddress1: missing"),
    ("country is a dict", spoil("shipCountry", {"code": "US"}), "shipCountry: expected text, got an object"),
    ("no items", spoil("orderItems", []), "orderItems: expected at least one item, got an empty list"),
    ("items is an object", spoil("orderItems", {"0": {}}), "orderItems: expected a list of items, got an object"),
    ("item is a string", spoil("orderItems.0", "SKU-1"), "orderItems[0]: expected an object, got text 'SKU-1'"),
    ("SKU missing", spoil("orderItems.0.product", {}), "orderItems[0].product.masterSku: missing"),
    (
        "SKU is a number list",
        spoil("orderItems.0.product.masterSku", [1]),
        "product.masterSku: expected text, got a list",
    ),
    (
        "quantity zero",
        spoil("orderItems.0.quantityOrdered", 0),
        "quantityOrdered (SKU-1): expected a positive integer, got 0",
    ),
    ("quantity negative", spoil("orderItems.0.quantityOrdered", -3), "expected a positive integer, got -3"),
    ("quantity absurd", spoil("orderItems.0.quantityOrdered", 10**9), "expected at most 100000, got 1000000000"),
    ("quantity fractional", spoil("orderItems.0.quantityOrdered", 1.5), "expected an integer, got 1.5"),
    ("quantity NaN", spoil("orderItems.0.quantityOrdered", math.nan), "expected an integer, got nan"),
    ("quantity Infinity", spoil("orderItems.0.quantityOrdered", math.inf), "expected an integer, got inf"),
    (
        "quantity as text",
        spoil("orderItems.0.quantityOrdered", "2"),
        "quantityOrdered (SKU-1): expected a number, got text '2'",
    ),
    (
        "quantity boolean",
        spoil("orderItems.0.quantityOrdered", True),
        "quantityOrdered (SKU-1): expected a number, got true",
    ),
    ("orderId missing", spoil("orderId", KeyError), "orderId: missing"),
    ("orderId negative", spoil("orderId", -1), "orderId: expected a positive integer, got -1"),
    ("orderId as text", spoil("orderId", "1"), "orderId: expected a positive integer, got text '1'"),
    ("repeated key", repeated("shipName"), "repeats the key(s) shipName"),
]


@pytest.mark.parametrize("name, spoiler, reason", BAD_ORDERS, ids=[b[0] for b in BAD_ORDERS])
def test_bad_order_is_refused_with_a_plain_reason(name, spoiler, reason):
    with pytest.raises(InvalidOrder) as refused:
        OmOrder.read(spoiler(good_order()))
    assert reason in str(refused.value)


def test_the_good_order_is_accepted():
    parsed = OmOrder.read(good_order())
    assert parsed.order_number == "SO-1" and parsed.items[0].quantity == 2


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-03-10T01:30:00-05:00", datetime.datetime(2024, 3, 10, 6, 30, tzinfo=datetime.UTC)),
        ("2024-03-10T08:30:00+02:00", datetime.datetime(2024, 3, 10, 6, 30, tzinfo=datetime.UTC)),
        ("2024-03-10T06:30:00Z", datetime.datetime(2024, 3, 10, 6, 30, tzinfo=datetime.UTC)),
        ("2024-03-10T06:30:00", datetime.datetime(2024, 3, 10, 6, 30, tzinfo=datetime.UTC)),
        ("10/03/2024", None),
        (1710052200, None),
    ],
)
def test_timestamps_with_offsets_are_converted_to_utc(text, expected):
    parsed = parse_datetime(text)
    assert parsed == expected
    if parsed is not None:
        assert parsed.utcoffset() == datetime.timedelta(0)
    order = good_order()
    order["modifiedDate"] = text
    assert OmOrder.read(order).modified == expected  # an unreadable date is not a reason to hold the order


def response(body: bytes, content_type="application/json"):
    return Answer(200, {"Content-Type": content_type}, body)


@pytest.mark.parametrize("body", [b'[{"orderId": NaN}]', b'[{"orderId": 1, "q": Infinity}]', b'{"q": -Infinity}'])
def test_nan_and_infinity_are_refused_by_the_http_layer(body):
    with pytest.raises(MalformedResponse, match="invalid JSON"):
        parse_json(response(body), service="Order Manager", method="GET", path="/v1.1/orders")


def test_repeated_keys_are_flagged_where_they_occur():
    body = b'[{"orderId": 1, "a": 1}, {"orderId": 2, "shipName": "A", "shipName": "B", "items": [{"sku": "X", "sku": "Y"}]}]'
    parsed = parse_json(response(body))
    assert type(parsed[0]) is dict and duplicate_keys_in(parsed[0]) == []
    assert parsed[1]["shipName"] == "B"  # what json does, kept: the flag is what matters
    assert duplicate_keys_in(parsed[1]) == ["shipName", "items.0.sku"]


# ------------------------------------------------------------------ through the job, over the HTTP seam


@pytest.mark.django_db(transaction=True)
def test_a_page_with_a_repeated_key_holds_that_order_only_and_reprocess_releases_it(live_server):
    from tenants import clients
    from tests.sandbox_helpers import sandbox_tenant, status

    conn = sandbox_tenant(live_server, "dupkeys", orders=4, skus=5)
    client = clients.order_manager(conn)
    orders = [received.raw for received in client.iter_orders(statuses=["AWAITING_3PL_EXPORT"])]
    text = json.dumps(orders)
    victim = orders[1]
    # The second order names its ship-to twice: which one would the WMS get?
    spoiled = json.dumps(victim)[:-1] + ', "shipName": "Mallory Mischief"}'
    text = text.replace(json.dumps(victim), spoiled)
    listing = re.compile(re.escape(f"{conn.base_url}/v1.1/orders") + r"\?(?!.*orderId=)")
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.add_passthru(live_server.url)
        rsps.add(responses.GET, listing, body=text, content_type="application/json")
        run = run_job(conn, Job.ORDER_DOWNLOAD)
    assert run.status == SyncRun.Status.PARTIAL, run.error
    held = OrderRecord.objects.get(om_order_id=victim["orderId"])
    assert held.status == Status.ERROR and held.error_permanent and held.attempts == 0
    assert "repeats the key(s) shipName" in held.last_error
    assert held.events.get().kind == Kind.DOWNLOADED and "held" in held.events.get().message
    assert OrderRecord.objects.filter(status=Status.AT_WMS).count() == 3
    assert held.order_number not in status("dupkeys")["warehouse_manager"]["orders_per_reference_num"]

    operator = factories.UserFactory(username="ops")
    outcome = reprocess.reprocess(held, operator)
    assert outcome.queued, outcome.message
    held.refresh_from_db()
    assert held.status == Status.NEW and held.last_error == ""
    operator_event = held.events.filter(kind=Kind.OPERATOR).get()
    assert "Re-processed from Order Manager by ops: valid now" in operator_event.message

    run_job(conn, Job.ORDER_DOWNLOAD)
    wms = status("dupkeys")["warehouse_manager"]
    assert wms["orders_total"] == 4 and wms["duplicate_reference_nums"] == {}
    held.refresh_from_db()
    assert held.status == Status.AT_WMS


@pytest.mark.django_db
def test_reprocess_keeps_a_still_invalid_order_held_with_the_fresh_reason(monkeypatch):
    record = factories.OrderRecordFactory(
        status=Status.ERROR, error_permanent=True, attempts=0, last_error="Invalid order from Order Manager: old reason"
    )
    still_bad = spoil("orderItems.0.quantityOrdered", -1)(good_order(record.om_order_id, record.order_number))

    class Client:
        def get_order(self, order_id):
            assert order_id == record.om_order_id
            return ReceivedOrder.of(still_bad)

        def close(self):
            pass

    user = factories.UserFactory(username="ops")
    outcome = reprocess.reprocess(record, user, client=Client())
    assert not outcome.queued
    record.refresh_from_db()
    assert record.status == Status.ERROR and "expected a positive integer, got -1" in record.last_error
    assert "still held" in record.events.get(kind=Kind.OPERATOR).message

    record.status = Status.AT_WMS
    assert "only orders held in error" in reprocess.reprocess(record, user, client=Client()).message


@pytest.mark.django_db
def test_admin_action_reprocess_from_order_manager(monkeypatch, superuser, admin_client_for):
    record = factories.OrderRecordFactory(status=Status.ERROR, error_permanent=True, attempts=0)
    fixed = good_order(record.om_order_id, record.order_number)

    class Client:
        def get_order(self, order_id):
            return ReceivedOrder.of(fixed)

        def close(self):
            pass

    monkeypatch.setattr(reprocess.clients, "order_manager", lambda connection, recorder=None: Client())
    page = admin_client_for(superuser).post(
        "/admin/hub/orderrecord/",
        {"action": "reprocess_from_order_manager", "_selected_action": [record.pk]},
        follow=True,
    )
    assert page.status_code == 200
    assert "valid now, queued for sending" in page.content.decode()
    record.refresh_from_db()
    assert record.status == Status.NEW


# ------------------------------------------------------------------ property: any ordering, same end state


class FakeOrderManager:
    def __init__(self, pages):
        self.pages = pages

    def resolve_warehouse(self, name):
        return OmWarehouse(warehouse_id=7, name=name, type="THIRD_PARTY_LOGISTICS")

    def iter_orders(self, **kwargs):
        for page in self.pages:
            yield from (ReceivedOrder.of(raw) for raw in copy.deepcopy(page))

    def get_orders(self, ids):
        return [OmOrderState(order_id=i, status="AWAITING_3PL_EXPORT") for i in ids]

    def send_to_fulfillment(self, ids, warehouse_id):
        return {"message": "", "errors": [], "results": {}, "ordersRemaining": False, "orderBatches": []}

    def close(self):
        pass


class FakeWms:
    def __init__(self):
        self.created: list[str] = []
        self.orders: dict[str, WmsOrder] = {}

    def _order(self, reference):
        return WmsOrder(
            order_id=len(self.orders) + 1,
            reference_num=reference,
            status=0,
            is_closed=False,
            etag=None,
            last_modified=None,
            ship_date=None,
        )

    def create_order(self, payload):
        reference = payload["referenceNum"]
        if reference in self.orders:
            raise DuplicateOrder("duplicate", existing=self.orders[reference])
        self.created.append(reference)
        self.orders[reference] = self._order(reference)
        return self.orders[reference]

    def find_order_by_reference(self, reference):
        return self.orders.get(reference)

    def close(self):
        pass


CORRUPTIONS = [spoiler for _, spoiler, _ in BAD_ORDERS if "orderId" not in _]


@st.composite
def scenario(draw):
    count = draw(st.integers(min_value=1, max_value=12))
    orders, valid = [], {}
    for n in range(1, count + 1):
        order = good_order(1000 + n, f"SO-{n:04d}", f"SKU-{draw(st.integers(1, 5))}", draw(st.integers(1, 50)))
        if draw(st.booleans()):
            order["modifiedDate"] = draw(st.sampled_from(["2024-05-01T07:00:00-05:00", "2024-05-01T14:00:00+02:00"]))
        bad = draw(st.none() | st.sampled_from(CORRUPTIONS))
        if bad is not None:
            order = bad(order)
        # Keep the id readable, so every order has a record (orders without one are skipped with a note).
        order["orderId"] = 1000 + n
        orders.append(order)
        valid[1000 + n] = bad is None

    def ordering():
        sequence = draw(st.permutations(orders))
        extra = draw(st.lists(st.sampled_from(orders), max_size=6))  # repeated across pages
        sequence = list(sequence) + extra
        size = draw(st.integers(min_value=1, max_value=5))
        return [sequence[i : i + size] for i in range(0, len(sequence), size)]

    return valid, ordering(), ordering()


@pytest.mark.django_db
@hsettings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(case=scenario())
def test_any_orders_in_any_page_order_end_in_the_same_state(case, monkeypatch, connection):
    valid, first_pages, second_pages = case
    OrderRecord.objects.all().delete()
    SyncRun.objects.all().delete()
    wms = FakeWms()
    from tenants import clients

    pages = {"now": first_pages}
    monkeypatch.setattr(clients, "order_manager", lambda conn, recorder=None: FakeOrderManager(pages["now"]))
    monkeypatch.setattr(clients, "warehouse_manager", lambda conn, recorder=None: wms)
    run_job(connection, Job.ORDER_DOWNLOAD)
    pages["now"] = second_pages
    run_job(connection, Job.ORDER_DOWNLOAD)

    records = {r.om_order_id: r for r in OrderRecord.objects.filter(connection=connection)}
    assert set(records) == set(valid)
    for order_id, ok in valid.items():
        record = records[order_id]
        if ok:
            assert record.status == Status.AT_WMS, record.last_error
        else:
            assert record.status == Status.ERROR and record.error_permanent and record.attempts == 0
            assert record.last_error.startswith("Invalid order from Order Manager:")
        assert record.events.filter(kind=Kind.DOWNLOADED).count() == 1
    expected = sorted(records[i].order_number for i, ok in valid.items() if ok)
    assert sorted(wms.created) == expected  # each valid order sent exactly once, no invalid one
