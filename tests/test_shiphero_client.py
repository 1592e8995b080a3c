"""connectors.shiphero.client: every WarehouseClient method against `responses` stubs of ShipHero's
GraphQL answers (tests/shiphero_answers.py); every request is checked against the vendored schema."""

import inspect
from datetime import UTC, datetime

import pytest
import responses

from connectors.errors import MalformedResponse, NotFound, RateLimited
from connectors.shiphero import credits
from connectors.shiphero import token as sh_token
from connectors.shiphero.client import ShipHeroClient
from connectors.shiphero.errors import DuplicateOrder, OrderNotCancellable
from connectors.shiphero.system import SYSTEM
from connectors.wms.base import Address, Line, Route
from connectors.wms.orders import StockReport, WmsOrder
from tests.shiphero_answers import (
    BASE,
    OTHER_WAREHOUSE,
    WAREHOUSE,
    connection,
    envelope,
    error,
    label,
    order_node,
    order_uuid,
    shipment,
    stub_graphql,
    stub_token,
    throttled,
    token_answer,
)


@pytest.fixture(autouse=True)
def _fresh_process_state():
    sh_token.TOKENS.clear()
    credits.forget_buckets()
    yield
    sh_token.TOKENS.clear()
    credits.forget_buckets()


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        stub_token(mock, token_answer("tok-1"))
        yield mock


def make_client(*, calibrated: bool = True, **kw):
    """A client whose account's credits are known already (the calls asserted are the method's
    own), unless `calibrated` is False."""
    options = dict(refresh_token="refresh-1", warehouse_id=WAREHOUSE, max_retries=0)
    options.update(kw)
    client = ShipHeroClient(BASE, **options)
    client.credits.calibrated = calibrated
    return client


def body(reference="OM-1001"):
    return SYSTEM.order_body(
        reference=reference,
        om_order_id=77,
        ship_to=Address(name="Ada Lovelace", address1="1 St", country="US"),
        lines=[Line("SKU-1", 2)],
        route=Route("UPS", "Ground"),
    )


def test_the_constructor_is_the_agreed_one():
    parameters = inspect.signature(ShipHeroClient).parameters
    assert list(parameters) == [
        "base_url",
        "refresh_token",
        "warehouse_id",
        "customer_account_id",
        "timeout",
        "on_call",
        "block_private_addresses",
        "limiter",
        "pool_maxsize",
        "max_retries",
    ]
    assert parameters["block_private_addresses"].default is True and parameters["timeout"].default == (5, 30)
    client = make_client()
    assert client.http.block_private_addresses and "refresh-1" not in repr(client)
    with pytest.raises(ValueError):
        make_client(warehouse_id=" ")


def test_authenticate_mints_a_token_and_calibrates_the_credits(rsps):
    quota = {"data": {"user_quota": {"credits_remaining": 900, "max_available": 2002, "increment_rate": 30}}}
    stub_graphql(rsps, {"UserQuota": [quota]})
    client = make_client()
    client.authenticate()
    client.authenticate()
    refreshes = [c for c in rsps.calls if c.request.url.endswith("/auth/refresh")]
    assert len(refreshes) == 2, "each authenticate() mints exactly one fresh token"
    assert (client.credits.capacity, client.credits.refill_per_second) == (2002, 30)
    assert client.credits.credits == pytest.approx(900, abs=1)


def test_the_first_operation_of_a_process_asks_the_account_for_its_credits_once(rsps):
    """The documented numbers are a guess (two sources disagree): an account's own bucket size and
    refill come from user_quota before its first operation, and only once per process."""
    quota = {"data": {"user_quota": {"credits_remaining": 1500, "max_available": 2002, "increment_rate": 30}}}
    seen = stub_graphql(rsps, {"UserQuota": [quota], "OrdersByReference": [envelope("orders", connection([]))] * 2})
    one, two = make_client(calibrated=False), make_client(calibrated=False)
    one.find_order_by_reference("OM-1")
    two.find_order_by_reference("OM-2")
    assert [c["payload"]["operationName"] for c in seen] == ["UserQuota", "OrdersByReference", "OrdersByReference"]
    assert (one.credits.capacity, one.credits.refill_per_second) == (2002, 30)


def test_a_failed_credits_read_keeps_the_guess_and_the_call_goes_on(rsps):
    seen = stub_graphql(
        rsps,
        {"UserQuota": [error("internal error", code=6)], "OrdersByReference": [envelope("orders", connection([]))]},
    )
    client = make_client(calibrated=False)
    assert client.find_order_by_reference("OM-1") is None
    assert [c["payload"]["operationName"] for c in seen] == ["UserQuota", "OrdersByReference"]
    assert client.credits.capacity == credits.BUCKET_SIZE and client.credits.calibrated


def test_create_order_adds_the_scope_and_returns_the_neutral_order(rsps):
    seen = stub_graphql(rsps, {"CreateOrder": [envelope("order_create", order_node(), field="order")]})
    client = make_client(customer_account_id="Q3VzdG9tZXJBY2NvdW50OjEy")
    created = client.create_order(body())
    assert isinstance(created, WmsOrder) and (created.order_id, created.reference_num, created.po_num) == (
        5001,
        "OM-1001",
        "77",
    )
    data = seen[0]["payload"]["variables"]["data"]
    assert data["customer_account_id"] == "Q3VzdG9tZXJBY2NvdW50OjEy"
    assert [item["warehouse_id"] for item in data["line_items"]] == [WAREHOUSE]
    assert data["partner_order_id"] == data["order_number"] == "OM-1001"
    with pytest.raises(ValueError, match="partner_order_id"):
        client.create_order({"order_number": "x"})


def test_a_duplicate_is_linked_to_the_existing_order(rsps):
    existing = order_node(legacy_id=4999)
    stub_graphql(
        rsps,
        {
            "CreateOrder": [error("Order with partner_order_id OM-1001 already exists", code=3)],
            "OrdersByReference": [envelope("orders", connection([existing]))],
        },
    )
    with pytest.raises(DuplicateOrder) as caught:
        make_client().create_order(body())
    assert caught.value.existing.order_id == 4999 and not caught.value.transient
    assert "as order 4999" in str(caught.value)


def test_find_order_by_reference_matches_exactly_and_prefers_the_live_one(rsps):
    page = connection(
        [
            order_node(legacy_id=10, status="canceled"),
            order_node(legacy_id=11),
            order_node(legacy_id=12, ref="OM-1001-B"),  # another order the filter let through
        ]
    )
    seen = stub_graphql(rsps, {"OrdersByReference": [envelope("orders", page), envelope("orders", connection([]))]})
    client = make_client()
    assert client.find_order_by_reference("OM-1001").order_id == 11
    assert client.find_order_by_reference("OM-1001") is None
    assert seen[0]["payload"]["variables"] == {"partner_order_id": "OM-1001", "first": 5}
    with pytest.raises(ValueError):
        client.find_order_by_reference("")


def test_get_order_looks_the_uuid_up_once(rsps):
    seen = stub_graphql(
        rsps,
        {
            "LegacyOrderId": [envelope("uuid", {"id": order_uuid(5001), "legacy_id": 5001})],
            "Order": [envelope("order", order_node(status="fulfilled", shipments=[shipment([label("1Z1")])]))],
        },
    )
    client = make_client()
    order = client.get_order(5001)
    client.get_order(5001)
    assert order.is_closed and order.tracking_numbers == ["1Z1"]
    assert [c["payload"]["operationName"] for c in seen] == ["LegacyOrderId", "Order", "Order"]
    assert seen[1]["payload"]["variables"] == {"id": order_uuid(5001)}


def test_an_unknown_order_is_not_found(rsps):
    stub_graphql(rsps, {"LegacyOrderId": [envelope("uuid", None)], "Order": [error("Order not found", code=5)]})
    with pytest.raises(NotFound):
        make_client().get_order(404)


def test_cancel_an_open_order(rsps):
    seen = stub_graphql(
        rsps,
        {
            "LegacyOrderId": [envelope("uuid", {"id": order_uuid(5001), "legacy_id": 5001})],
            "Order": [envelope("order", order_node())],
            "CancelOrder": [envelope("order_cancel", order_node(status="canceled"), field="order")],
        },
    )
    assert make_client().cancel_order(5001, "customer asked") == "cancelled"
    cancel = [c for c in seen if c["payload"]["operationName"] == "CancelOrder"][0]
    assert cancel["payload"]["variables"] == {"data": {"order_id": order_uuid(5001), "reason": "customer asked"}}


@pytest.mark.parametrize(
    "status, cancel_answer, outcome",
    [
        ("canceled", None, "already_cancelled"),
        ("fulfilled", None, OrderNotCancellable),
        ("pending", error("Order has valid labels, use force", code=3), OrderNotCancellable),
        ("pending", envelope("order_cancel", order_node(status="pending"), field="order"), OrderNotCancellable),
        ("pending", throttled(wait="700 seconds"), RateLimited),
    ],
)
def test_cancel_outcomes(rsps, status, cancel_answer, outcome):
    stub_graphql(
        rsps,
        {
            "LegacyOrderId": [envelope("uuid", {"id": order_uuid(5001), "legacy_id": 5001})],
            "Order": [envelope("order", order_node(status=status))],
            "CancelOrder": [cancel_answer or error("unexpected call")],
        },
    )
    client = make_client()
    if isinstance(outcome, str):
        assert client.cancel_order(5001, "r") == outcome
    else:
        with pytest.raises(outcome):
            client.cancel_order(5001, "r")


def test_orders_modified_since_pages_by_cursor_with_every_package(rsps):
    first = connection(
        [
            order_node(legacy_id=1, status="fulfilled", shipments=[shipment([label("A"), label("B")])]),
            order_node(legacy_id=2),
        ],
        has_next=True,
        end_cursor="YXJyYXljb25uZWN0aW9uOjE=",
    )
    second = connection([order_node(legacy_id=2), order_node(legacy_id=3, status="canceled")])
    seen = stub_graphql(rsps, {"OrdersUpdatedSince": [envelope("orders", first), envelope("orders", second)]})
    since = datetime(2026, 12, 1, 8, 59, 59, 900000, tzinfo=UTC)
    orders = list(make_client().iter_orders_modified_since(since, page_size=2))
    assert [o.order_id for o in orders] == [1, 2, 3], "order 2 seen twice unchanged is yielded once"
    assert orders[0].tracking_numbers == ["A", "B"] and orders[2].is_canceled
    variables = [c["payload"]["variables"] for c in seen]
    assert variables == [
        {"updated_from": "2026-12-01T08:59:59", "first": 2},
        {"updated_from": "2026-12-01T08:59:59", "first": 2, "after": "YXJyYXljb25uZWN0aW9uOjE="},
    ]


def test_an_orders_page_asks_for_at_most_25_whatever_the_job_asks(rsps):
    """ShipHero charges what a query asks for: 100 orders with their shipments would cost about
    3,100 of the 4,004 credits, so two pages in a row would wait ~40 s for the bucket."""
    seen = stub_graphql(rsps, {"OrdersUpdatedSince": [envelope("orders", connection([order_node()]))]})
    list(make_client().iter_orders_modified_since(datetime(2026, 1, 1, tzinfo=UTC), page_size=100))
    assert seen[0]["payload"]["variables"]["first"] == 25


def test_a_page_repeating_its_cursor_is_refused(rsps):
    page = connection([order_node()], has_next=True, end_cursor="same")
    stub_graphql(rsps, {"OrdersUpdatedSince": [envelope("orders", page)]})
    with pytest.raises(MalformedResponse, match="repeated cursor"):
        list(make_client().iter_orders_modified_since(datetime(2026, 1, 1, tzinfo=UTC)))


def test_bad_arguments_fail_at_call_time():
    client = make_client()
    with pytest.raises(ValueError):
        client.iter_orders_modified_since(datetime(2026, 1, 1, tzinfo=UTC), page_size=101)
    with pytest.raises(ValueError):
        client.iter_orders_modified_since(datetime(2026, 1, 1))


def product(sku, available, warehouse=WAREHOUSE):
    return {
        "id": f"wp-{sku}",
        "sku": sku,
        "warehouse_id": warehouse,
        "on_hand": 10,
        "available": available,
        "allocated": 0,
        "backorder": 0,
        "active": True,
    }


def test_stock_report_sums_this_warehouse_and_sets_bad_rows_aside(rsps):
    pages = [
        envelope("warehouse_products", connection([product("A", 5), product("B", -1)], has_next=True, end_cursor="p2")),
        envelope(
            "warehouse_products", connection([product("C", None), product("A", 2, OTHER_WAREHOUSE), product("D", 0)])
        ),
    ]
    seen = stub_graphql(rsps, {"WarehouseStock": pages})
    report = make_client().stock_report()
    assert isinstance(report, StockReport)
    assert report.available == {"A": 5, "D": 0}
    assert set(report.invalid) == {"B", "C"} and report.other_customer_rows == 1
    assert seen[0]["payload"]["variables"] == {"warehouse_id": WAREHOUSE, "first": 100}


def test_stock_of_only_other_warehouses_means_a_wrong_warehouse_id(rsps):
    stub_graphql(
        rsps, {"WarehouseStock": [envelope("warehouse_products", connection([product("A", 1, OTHER_WAREHOUSE)]))]}
    )
    with pytest.raises(MalformedResponse, match="check the warehouse id"):
        make_client().stock_report()


def test_a_throttled_call_waits_the_announced_time_on_the_accounts_bucket(rsps):
    now, slept = [0.0], []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    stub_graphql(
        rsps,
        {
            "WarehouseStock": [
                throttled(wait="9 seconds", required=300),
                envelope("warehouse_products", connection([product("A", 1)]), complexity=300),
            ]
        },
    )
    client = make_client()
    client.session.bucket = credits.CreditBucket(clock=lambda: now[0], sleep=sleep)
    client.session.bucket.calibrated = True
    assert client.stock_report().available == {"A": 1}
    assert slept == [pytest.approx(9.0)]
    assert client.credits.estimate("WarehouseStock") == 300


def test_clients_of_one_account_share_the_token_and_the_bucket(rsps):
    stub_graphql(rsps, {"OrdersByReference": [envelope("orders", connection([]))]})
    one, two = make_client(), make_client()
    one.find_order_by_reference("OM-1")
    two.find_order_by_reference("OM-1")
    assert len([c for c in rsps.calls if c.request.url.endswith("/auth/refresh")]) == 1
    assert one.credits is two.credits
    assert make_client(refresh_token="other").credits is not one.credits


def test_a_malformed_order_answer_names_the_call_and_the_field(rsps):
    bad = order_node() | {"legacy_id": "5001"}
    stub_graphql(rsps, {"OrdersByReference": [envelope("orders", connection([bad]))]})
    with pytest.raises(
        MalformedResponse, match=r"orders \(by partner_order_id\).*data\.orders\.data\.edges\[0\]\.node\.legacy_id"
    ):
        make_client().find_order_by_reference("OM-1001")
