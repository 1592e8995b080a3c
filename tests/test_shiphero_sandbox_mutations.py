"""Sandbox ShipHero orders over a real socket: order_create (and the duplicate it refuses),
looking an order up by partner_order_id, order_cancel, the stricter refusals."""

import threading

import pytest

from connectors.sandbox.models import ShipHeroOrder, ShipHeroWarehouseProduct
from connectors.shiphero.sandbox import control
from tests.shiphero_sandbox_helpers import ORDER_FIELDS, ShipHero, account

LOOKUP = (
    "query($p: String, $c: String) { orders(partner_order_id: $p, customer_account_id: $c) { request_id complexity"
    " data(first: 5) { pageInfo { hasNextPage } edges { node {" + ORDER_FIELDS + "} } } } }"
)
CANCEL = (
    "mutation($data: CancelOrderInput!) { order_cancel(data: $data) { request_id complexity"
    " order { id fulfillment_status } } }"
)


@pytest.fixture
def setup(live_server, transactional_db):
    return account(), ShipHero(live_server)


def test_order_create_answers_the_order_with_its_complexity(setup):
    acme, shiphero = setup
    answer = shiphero.create(acme, "OM-1001", lines=[("SKU-1", 2), ("SKU-2", 1)])
    assert answer.status_code == 200
    body = answer.json()
    assert "errors" not in body
    created = body["data"]["order_create"]
    assert created["complexity"] > 0 and len(created["request_id"]) == 24
    order = created["order"]
    assert order["partner_order_id"] == "OM-1001" and order["fulfillment_status"] == "pending"
    assert order["account_id"] == control.customer_account_id(acme)
    assert [e["node"]["sku"] for e in order["line_items"]["edges"]] == ["SKU-1", "SKU-2"]
    # Allocated in the warehouse: 10 on hand, 2 allocated, 8 available.
    row = ShipHeroWarehouseProduct.objects.get(product__sku="SKU-1")
    assert (row.on_hand, row.allocated, row.available) == (10, 2, 8)


def test_a_second_create_with_the_same_partner_order_id_is_refused_and_creates_nothing(setup):
    acme, shiphero = setup
    first = shiphero.create(acme, "OM-1002").json()["data"]["order_create"]["order"]["id"]
    again = shiphero.create(acme, "OM-1002")
    assert again.status_code == 200
    body = again.json()
    assert body["data"] == {"order_create": None}
    error = body["errors"][0]
    assert error["code"] == 6 and "OM-1002" in error["message"] and "already exists" in error["message"]
    assert error["operation"] == "order_create" and error["field"] == "order_create" and error["request_id"]
    assert list(ShipHeroOrder.objects.values_list("partner_order_id", flat=True)) == ["OM-1002"]
    found = shiphero.gql(LOOKUP, {"p": "OM-1002"}).json()["data"]["orders"]["data"]["edges"]
    assert [e["node"]["id"] for e in found] == [first]


def test_two_concurrent_creates_of_one_order_make_one_order(setup):
    acme, shiphero = setup
    shiphero.refresh()
    answers = []

    def create():
        answers.append(shiphero.create(acme, "OM-RACE").json())

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ShipHeroOrder.objects.filter(partner_order_id="OM-RACE").count() == 1
    assert sorted(bool(a["data"]["order_create"]) for a in answers) == [False, True]


def test_lookup_by_partner_order_id_finds_only_that_order_and_nothing_for_an_unknown_one(setup):
    acme, shiphero = setup
    for number in ("OM-1", "OM-2", "OM-3"):
        shiphero.create(acme, number)
    found = shiphero.gql(LOOKUP, {"p": "OM-2", "c": control.customer_account_id(acme)}).json()["data"]["orders"]
    assert [e["node"]["partner_order_id"] for e in found["data"]["edges"]] == ["OM-2"]
    assert found["complexity"] > 0
    none = shiphero.gql(LOOKUP, {"p": "OM-404"}).json()["data"]["orders"]["data"]
    assert none["edges"] == [] and none["pageInfo"]["hasNextPage"] is False


def test_orders_page_forward_with_cursors(setup):
    acme, shiphero = setup
    for number in range(5):
        shiphero.create(acme, f"OM-P{number}", lines=[("SKU-2", 1)])
    query = "query($a: String) { orders { data(first: 2, after: $a) { pageInfo { hasNextPage endCursor } edges { node { partner_order_id } } } } }"
    seen, cursor = [], None
    while True:
        page = shiphero.gql(query, {"a": cursor}).json()["data"]["orders"]["data"]
        seen += [e["node"]["partner_order_id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        cursor = page["pageInfo"]["endCursor"]
    assert seen == [f"OM-P{n}" for n in range(5)]


def test_order_cancel_cancels_a_pending_order_and_releases_its_stock(setup):
    acme, shiphero = setup
    order_id = shiphero.create(acme, "OM-C1").json()["data"]["order_create"]["order"]["id"]
    answer = shiphero.gql(
        CANCEL,
        {
            "data": {
                "order_id": order_id,
                "reason": "customer",
                "customer_account_id": control.customer_account_id(acme),
            }
        },
    )
    assert answer.json()["data"]["order_cancel"]["order"] == {"id": order_id, "fulfillment_status": "canceled"}
    row = ShipHeroWarehouseProduct.objects.get(product__sku="SKU-1")
    assert (row.allocated, row.available) == (0, 10)
    again = shiphero.gql(CANCEL, {"data": {"order_id": order_id}}).json()
    assert again["data"] == {"order_cancel": None} and again["errors"][0]["code"] == 7


def test_a_shipped_order_cannot_be_canceled_and_an_unknown_one_is_not_found(setup):
    acme, shiphero = setup
    order_id = shiphero.create(acme, "OM-S1").json()["data"]["order_create"]["order"]["id"]
    control.ship(acme, partner_order_ids=["OM-S1"], seed=1)
    shipped = shiphero.gql(CANCEL, {"data": {"order_id": order_id}}).json()
    assert shipped["errors"][0]["code"] == 7 and "fulfilled" in shipped["errors"][0]["message"]
    unknown = shiphero.gql(CANCEL, {"data": {"order_id": "T3JkZXI6OTk5OTk="}}).json()
    assert unknown["errors"][0] == unknown["errors"][0] | {"message": "Order not found", "code": 5}
    legacy = shiphero.gql(CANCEL, {"data": {"order_id": order_id.encode().hex()}}).json()
    assert legacy["errors"][0]["code"] == 5


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"customer_account_id": None}, "customer_account_id is required"),
        ({"partner_order_id": ""}, "partner_order_id is required"),
        ({"line_items": []}, "at least one line item"),
        ({"line_items": [{"sku": "NOPE", "partner_line_item_id": "1", "quantity": 1, "price": "1"}]}, "NOPE"),
        ({"line_items": [{"sku": "SKU-1", "partner_line_item_id": "1", "quantity": 0, "price": "1"}]}, "above 0"),
        ({"customer_account_id": "QWNjb3VudDo0"}, "not found"),
        ({"order_number": "x" * 201}, "at most 200 characters"),
        ({"shop_name": "a\x00b"}, "without NUL bytes"),
        (
            {"line_items": [{"sku": "S" * 201, "partner_line_item_id": "1", "quantity": 1, "price": "1"}]},
            "line item sku",
        ),
    ],
)
def test_create_refuses_what_the_sandbox_cannot_accept(setup, change, words):
    acme, shiphero = setup
    body = shiphero.create(acme, "OM-BAD", **change).json()
    assert body["data"] == {"order_create": None} and words in body["errors"][0]["message"]
    assert not ShipHeroOrder.objects.exists()


def test_a_customer_account_of_another_account_is_not_found(setup):
    acme, shiphero = setup
    other = control.ensure_account("dev@other.example", "other-refresh", customer_account_name="Other")
    body = shiphero.gql(LOOKUP, {"c": control.customer_account_id(other)}).json()
    assert body["data"] == {"orders": None} and body["errors"][0]["code"] == 5
