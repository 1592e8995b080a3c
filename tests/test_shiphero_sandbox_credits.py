"""The sandbox ShipHero throttle over a real socket: every answer's complexity, analyze, the credits
bucket refusing an operation over what is left (code 30, with the time remaining), and over the max."""

import pytest
from graphql import parse

from connectors.shiphero import schema
from connectors.shiphero.sandbox import credits
from tests.shiphero_sandbox_helpers import ShipHero, account

ORDERS = "{ orders { request_id complexity data(first: %d) { edges { node { id line_items(first: 5) { edges { node { sku } } } } } } } }"
QUOTA = "{ user_quota { credits_remaining max_available increment_rate } }"


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(credits, "monotonic", lambda: now[0])
    credits.reset()
    yield now
    credits.reset()


@pytest.fixture
def shiphero(live_server, transactional_db, clock):
    account(credits_max=400, credits_per_second=10)
    return ShipHero(live_server)


def cost(document: str) -> int:
    return sum(credits.estimate(schema.schema(), parse(document), None, {}).values())


def test_the_estimate_grows_with_the_page_size_and_nested_pages():
    # orders 1 + request_id 1 + complexity 1 + data (1 + 1 x edges (1 + node (1 + id 1 + line_items
    # (1 + 5 x edges (1 + node (1 + sku 1))))))
    line_items = 1 + 5 * (1 + (1 + 1))
    assert cost(ORDERS % 1) == 1 + 1 + 1 + (1 + 1 * (1 + (1 + 1 + line_items))) == 23
    assert cost(ORDERS % 10) > cost(ORDERS % 1)
    default_page = "{ orders { data { edges { node { id } } } } }"
    assert cost(default_page) == 1 + (1 + 100 * (1 + 1 + 1))


def test_every_answer_carries_its_complexity_and_pays_it(shiphero):
    before = shiphero.gql(QUOTA).json()["data"]["user_quota"]
    assert before == {"credits_remaining": 400 - cost(QUOTA), "max_available": 400, "increment_rate": 10}
    answer = shiphero.gql(ORDERS % 2).json()["data"]["orders"]
    assert answer["complexity"] == cost(ORDERS % 2)
    after = shiphero.gql(QUOTA).json()["data"]["user_quota"]["credits_remaining"]
    assert after == before["credits_remaining"] - cost(ORDERS % 2) - cost(QUOTA)


def test_analyze_costs_the_query_without_running_or_charging_it(shiphero):
    remaining = shiphero.gql(QUOTA).json()["data"]["user_quota"]["credits_remaining"]
    analyzed = shiphero.gql("{ orders(analyze: true) { complexity data(first: 3) { edges { node { id } } } } }")
    result = analyzed.json()["data"]["orders"]
    assert result["data"] is None and result["complexity"] == 1 + 1 + (1 + 3 * (1 + 1 + 1))
    assert shiphero.gql(QUOTA).json()["data"]["user_quota"]["credits_remaining"] == remaining - cost(QUOTA)


def test_an_operation_over_the_credits_left_is_throttled_with_the_time_remaining(shiphero, clock):
    price = cost(ORDERS % 15)  # 4 + 15 * 19 = 289: one fits in 400, a second does not
    assert shiphero.gql(ORDERS % 15).json()["data"]["orders"]["complexity"] == price
    refused = shiphero.gql(ORDERS % 15)
    assert refused.status_code == 200
    body = refused.json()
    assert body["data"] == {"orders": None}
    error = body["errors"][0]
    left = 400 - price
    wait = -(-(price - left) // 10)
    assert error["code"] == 30 and error["operation"] == "orders" and error["request_id"]
    assert error["required_credits"] == price and error["remaining_credits"] == left
    assert error["time_remaining"] == f"{wait} seconds" and "not enough credits" in error["message"]
    clock[0] += wait
    assert "errors" not in shiphero.gql(ORDERS % 15).json()


def test_an_operation_over_the_max_is_refused_whatever_is_left(shiphero):
    body = shiphero.gql(ORDERS % 50).json()
    assert body["data"] == {"orders": None}
    error = body["errors"][0]
    assert error["code"] == 30 and "time_remaining" not in error and error["required_credits"] > 400
    assert "max allowed" in error["message"]


def test_a_throttled_mutation_creates_nothing(shiphero, clock):
    from connectors.sandbox.models import ShipHeroOrder

    acme = account(credits_max=400, credits_per_second=10)
    shiphero.gql(ORDERS % 20)  # 4 + 20 * 19 = 384 of 400: no create fits in the 16 left
    body = shiphero.create(acme, "OM-T1").json()
    assert body["errors"][0]["code"] == 30 and body["data"] == {"order_create": None}
    assert not ShipHeroOrder.objects.exists()


def test_the_control_functions_throttle_on_demand(shiphero, clock):
    from connectors.sandbox.models import ShipHeroAccount
    from connectors.shiphero.sandbox import control

    acme = ShipHeroAccount.objects.get()
    control.configure_credits(acme, credits_max=1000, credits_per_second=2)
    control.drain_credits(acme)
    error = shiphero.gql(ORDERS % 1).json()["errors"][0]
    assert error["code"] == 30 and error["time_remaining"] == f"{-(-cost(ORDERS % 1) // 2)} seconds"
    control.reset_credits()
    assert shiphero.gql(QUOTA).json()["data"]["user_quota"]["max_available"] == 1000


def test_create_account_hands_out_a_working_refresh_token(live_server, transactional_db):
    from connectors.shiphero.sandbox import control

    made = control.create_account("ops@brand.example", customer_account_name="Brand", warehouse_identifier="NJ")
    client = ShipHero(live_server)
    assert client.refresh(made["refresh_token"]).status_code == 200
    data = client.gql(
        "{ account { data { warehouses { id identifier } customers(first: 5) { edges { node { id username } } } } } }"
    )
    account = data.json()["data"]["account"]["data"]
    assert account["warehouses"] == [{"id": made["warehouse_id"], "identifier": "NJ"}]
    assert account["customers"]["edges"][0]["node"] == {"id": made["customer_account_id"], "username": "Brand"}
