"""OrderManagerClient against `responses` stubs in the real wire formats.

Every request the client sends to a documented path is validated against the Order Manager
OpenAPI spec, and so is every 2xx stub answer (so the stubs cannot drift from the real API).
"""

from __future__ import annotations

import json
import pickle
import re
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from connectors.errors import (
    AuthenticationError,
    ConnectorError,
    MalformedResponse,
    NotFound,
    ResponseTooLarge,
    ServerError,
)
from connectors.order_manager.client import OrderManagerClient, ShipmentResult, format_datetime
from connectors.order_manager.errors import WarehouseNotFound
from connectors.order_manager.inventory import AdjustResult, StockTotal
from connectors.order_manager.paging import MAX_OVERSIZE_IN_A_ROW, OversizeItem
from connectors.order_manager.wire_answers import OmWarehouse
from tests.contract import is_documented, validate_prepared, validate_response

BASE = "http://127.0.0.1:9/sandbox/order-manager"
TOKEN = "token-1"


class FakeOrderManager:
    """Routes on a ``responses`` mock: checks auth and the spec, records what was sent."""

    def __init__(self, rsps: responses.RequestsMock) -> None:
        self.rsps = rsps
        self.valid_tokens: set[str] = {TOKEN}
        self.calls: list[dict] = []
        # There is no password grant: a client that asked for one would hit this and fail.
        rsps.add_callback("POST", f"{BASE}/oauth/token", callback=self._token)

    def _token(self, request):
        raise AssertionError("the API client must never ask the token endpoint for a token")

    def route(self, method: str, path: str, handler, *, check_auth: bool = True):
        """``handler(query: dict[str, list[str]], body) -> body | (status, body)``."""

        def callback(request):
            validate_prepared(request)  # the client's request fits the spec
            query = parse_qs(urlsplit(request.url).query)
            body = json.loads(request.body) if request.body else None
            self.calls.append(
                {
                    "method": method,
                    "path": urlsplit(request.url).path,
                    "query": query,
                    "body": body,
                    "auth": request.headers.get("Authorization"),
                }
            )
            if check_auth and request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.valid_tokens:
                return 401, {"Content-Type": "application/json"}, json.dumps({"message": "Unauthorized"})
            answer = handler(query, body)
            status, payload = answer if isinstance(answer, tuple) else (200, answer)
            if 200 <= status < 300 and not isinstance(payload, (str, bytes)):
                validate_response(method, request.url, status, payload)  # the stub fits the spec
            text = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
            return status, {"Content-Type": "application/json"}, text

        assert is_documented(method, BASE + path), f"{method} {path} is not in the spec"
        self.rsps.add_callback(method, re.compile(re.escape(BASE + path) + r"(\?.*)?$"), callback=callback)


@pytest.fixture
def om():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeOrderManager(rsps)


@pytest.fixture
def records():
    return []


def make_client(records=None, **kw):
    kw.setdefault("access_token", TOKEN)
    return OrderManagerClient(BASE, on_call=(records.append if records is not None else None), backoff_factor=0, **kw)


def order(order_id, status="AWAITING_3PL_EXPORT", **extra):
    return {
        "orderId": order_id,
        "orderNumber": f"SO-{order_id}",
        "orderStatus": status,
        "fulfillmentSource": {"warehouseId": 7, "name": "Main 3PL"},
        "orderItems": [{"listingSku": "L-1", "quantityOrdered": 2, "product": {"productId": 11, "masterSku": "A-1"}}],
        **extra,
    }


WAREHOUSES = [
    {"warehouseId": 7, "name": "Main 3PL", "type": "THIRD_PARTY_LOGISTICS", "active": True},
    {"warehouseId": 8, "name": "East DC", "type": "DIRECT_FULFILLMENT", "active": True},
]


# -- authentication -------------------------------------------------------------------------
def test_static_bearer_on_every_call_without_signing_in(om):
    om.route("GET", "/v1/warehouses", lambda q, b: WAREHOUSES)
    client = make_client()
    assert client.list_warehouses() == [OmWarehouse.model_validate(w) for w in WAREHOUSES]
    client.list_warehouses()
    assert [c["auth"] for c in om.calls] == ["Bearer token-1", "Bearer token-1"]


def test_client_has_no_password_sign_in():
    with pytest.raises(TypeError):
        OrderManagerClient(BASE, username="ops", password="secret")


def test_401_asks_for_a_reconnect_without_re_authenticating(om, records):
    om.route("GET", "/v1/warehouses", lambda q, b: WAREHOUSES)
    client = make_client(records, access_token="revoked")
    with pytest.raises(AuthenticationError) as info:
        client.list_warehouses()
    assert "reconnect" in str(info.value) and info.value.status == 401 and not info.value.transient
    assert [(r.path, r.status) for r in records] == [("/v1/warehouses", 401)]  # one call, no token request
    assert "revoked" not in repr(client)


def test_no_token_is_an_authentication_error_before_any_call(om, records):
    with pytest.raises(AuthenticationError, match="No Order Manager access token"):
        OrderManagerClient(BASE, on_call=records.append).list_warehouses()
    assert records == []


# -- warehouses -----------------------------------------------------------------------------
def test_resolve_warehouse_exact_then_case_insensitive(om):
    om.route("GET", "/v1/warehouses", lambda q, b: WAREHOUSES + [{"warehouseId": 9, "name": "east dc"}])
    client = make_client()
    assert client.resolve_warehouse("Main 3PL").warehouse_id == 7
    assert client.resolve_warehouse(" main 3pl ").warehouse_id == 7
    assert client.resolve_warehouse("east dc").warehouse_id == 9  # exact wins
    with pytest.raises(WarehouseNotFound) as ambiguous:
        client.resolve_warehouse("EAST DC")
    assert "Several" in str(ambiguous.value)
    with pytest.raises(WarehouseNotFound) as missing:
        client.resolve_warehouse("West")
    assert missing.value.available == ["Main 3PL", "East DC", "east dc"]
    assert '"Main 3PL"' in str(missing.value) and not missing.value.transient
    assert pickle.loads(pickle.dumps(missing.value)).available == missing.value.available


@pytest.mark.parametrize(
    "payload,words",
    [
        ({"warehouses": []}, "GET /v1/warehouses is malformed: warehouses: expected a list, got an object"),
        ([{"warehouseId": "7", "name": "Main"}], "warehouses[0].warehouseId: expected an integer, got text '7'"),
        ([{"warehouseId": True, "name": "Main"}], "warehouses[0].warehouseId: expected an integer, got true"),
        ([{"warehouseId": 7}], "warehouses[0].name: missing"),
        ([{"warehouseId": 7, "name": None}], "warehouses[0].name: expected text, got null"),
        (["Main"], "warehouses[0]: expected an object, got text 'Main'"),
    ],
)
def test_wrong_shapes_are_malformed_response(om, payload, words):
    om.rsps.add("GET", f"{BASE}/v1/warehouses", json=payload)
    with pytest.raises(MalformedResponse) as info:
        OrderManagerClient(BASE, access_token="t").list_warehouses()
    assert words in str(info.value)


@pytest.mark.parametrize(
    "body,content_type",
    [
        ("<html><title>Sign in</title></html>", "text/html"),
        ("", "application/json"),
        ("{oops", "application/json"),
    ],
)
def test_html_empty_and_broken_json_are_malformed(om, body, content_type):
    om.rsps.add("GET", f"{BASE}/v1/warehouses", body=body, content_type=content_type)
    with pytest.raises(MalformedResponse):
        OrderManagerClient(BASE, access_token="t").list_warehouses()


# -- orders ---------------------------------------------------------------------------------
def pages_of(orders, seen_pages=None):
    def handler(query, body):
        page, limit = int(query["page"][0]), int(query["limit"][0])
        if seen_pages is not None:
            seen_pages.append(page)
        return orders[(page - 1) * limit : page * limit]

    return handler


def test_iter_orders_sends_documented_params_and_stops_on_a_short_page(om):
    pages = []
    om.route("GET", "/v1.1/orders", pages_of([order(i) for i in range(1, 6)], pages))
    since = datetime(2024, 3, 10, 8, 30, 15, 999, tzinfo=timezone(timedelta(hours=-5)))
    until = datetime(2024, 3, 10, 14, 0, tzinfo=UTC)
    got = list(
        make_client().iter_orders(
            statuses=["AWAITING_3PL_EXPORT", "ON_HOLD"], warehouse_id=7, modified_from=since, modified_to=until, limit=2
        )
    )
    assert [o.order_id for o in got] == [1, 2, 3, 4, 5]
    assert pages == [1, 2, 3]
    query = om.calls[0]["query"]
    assert query["status"] == ["AWAITING_3PL_EXPORT", "ON_HOLD"]
    assert query["warehouseId"] == ["7"] and query["limit"] == ["2"]
    assert query["modifiedDateFrom"] == ["2024-03-10T13:30:15Z"] and query["modifiedDateTo"] == ["2024-03-10T14:00:00Z"]


def test_iter_orders_asks_one_more_page_after_an_exactly_full_one(om):
    pages = []
    om.route("GET", "/v1.1/orders", pages_of([order(i) for i in range(1, 5)], pages))
    assert len(list(make_client().iter_orders(statuses=["CANCELLED"], limit=2))) == 4
    assert pages == [1, 2, 3]


def test_a_page_that_repeats_forever_is_refused(om):
    om.route("GET", "/v1.1/orders", lambda q, b: [order(1), order(2)])
    orders = make_client().iter_orders(statuses=["AWAITING_3PL_EXPORT"], limit=2)
    with pytest.raises(MalformedResponse, match="same orders for page 2"):
        list(orders)
    assert len(om.calls) == 2


def test_more_than_max_pages_is_refused(om):
    om.route("GET", "/v1.1/orders", lambda q, b: [order(int(q["page"][0]))])
    client = make_client(max_pages=5)
    with pytest.raises(MalformedResponse, match="beyond page 5"):
        list(client.iter_orders(statuses=["AWAITING_3PL_EXPORT"], limit=1))
    assert len(om.calls) == 5


def test_orders_are_deduplicated_across_pages_and_need_int_ids(om):
    om.route("GET", "/v1.1/orders", lambda q, b: {"1": [order(1), order(2)], "2": [order(2)]}[q["page"][0]])
    assert [o.order_id for o in make_client().iter_orders(statuses=["SHIPPED"], limit=2)] == [1, 2]
    with pytest.raises(ValueError):
        list(make_client().iter_orders(statuses=[]))
    with pytest.raises(ValueError):
        list(make_client().iter_orders(statuses=["SHIPPED"], modified_from=datetime(2024, 1, 1)))


def test_unreadable_orders_are_passed_through_for_the_job_to_quarantine(om):
    """One bad order must not sink its page: the client yields it and the job records why it is bad."""
    om.rsps.add(
        "GET",
        re.compile(re.escape(f"{BASE}/v1.1/orders") + r"\?.*"),
        json=[{"orderId": "12"}, "not an order", order(3)],
    )
    got = list(OrderManagerClient(BASE, access_token="t").iter_orders(statuses=["SHIPPED"]))
    assert [o.raw for o in got] == [{"orderId": "12"}, "not an order", order(3)]
    assert got[0].order_id is None and got[0].order is None
    assert "orderId: expected a positive integer, got text '12'" in got[0].problem
    assert got[1].problem == "expected an object, got text 'not an order'."
    assert got[2].order_id == 3 and "shipName: missing" in got[2].problem  # readable id, unusable order


def test_orders_page_that_is_not_a_list_is_malformed(om):
    om.rsps.add("GET", re.compile(re.escape(f"{BASE}/v1.1/orders") + r"\?.*"), json={"orders": []})
    with pytest.raises(MalformedResponse, match="orders: expected a list, got an object"):
        list(OrderManagerClient(BASE, access_token="t").iter_orders(statuses=["SHIPPED"]))


# -- answers over the size cap --------------------------------------------------------------
def order_of_lines(order_id, lines):
    """An order whose size grows with its lines (about 120 bytes each)."""
    items = [
        {"listingSku": f"L-{n}", "quantityOrdered": 1, "product": {"productId": n, "masterSku": f"A-{n}"}}
        for n in range(lines)
    ]
    return order(order_id, orderItems=items)


def paged(rows, calls):
    def handler(query, body):
        page, limit = int(query["page"][0]), int(query["limit"][0])
        calls.append((page, limit))
        return rows[(page - 1) * limit : page * limit]

    return handler


def sized_client(cap):
    return make_client(max_response_bytes=cap)


def test_a_page_over_the_cap_is_read_again_in_halves_and_an_order_over_it_alone_is_reported(om):
    # 10 orders: #3 is large (~2.5 KB), #7 alone is over the 8 KB cap (~25 KB), the rest small.
    rows = [order_of_lines(i, {3: 20, 7: 200}.get(i, 1)) for i in range(1, 11)]
    calls, unread = [], []
    om.route("GET", "/v1.1/orders", paged(rows, calls))
    got = list(
        sized_client(8 * 1024).iter_orders(statuses=["AWAITING_3PL_EXPORT"], limit=8, on_too_large=unread.append)
    )
    assert [o.order_id for o in got] == [1, 2, 3, 4, 5, 6, 8, 9, 10]
    # Page 1 at limit 8 is items 0-7: read again as pages of 4, then 2, then 1 where still too large.
    assert calls == [(1, 8), (1, 4), (2, 4), (3, 2), (4, 2), (7, 1), (8, 1), (2, 8)]
    assert len(unread) == 1 and isinstance(unread[0], OversizeItem)
    assert unread[0].position == 7 and unread[0].path == "/v1.1/orders"
    assert (
        "larger than 8 KB for one of its orders alone: item 7 of GET /v1.1/orders (status=AWAITING_3PL_EXPORT)"
        in unread[0].message
    )


def test_an_order_over_the_cap_alone_raises_naming_its_position_without_a_callback(om):
    rows = [order_of_lines(i, 200 if i == 2 else 1) for i in range(1, 4)]
    om.route("GET", "/v1.1/orders", paged(rows, []))
    with pytest.raises(ResponseTooLarge, match=r"item 2 of GET /v1.1/orders"):
        list(sized_client(8 * 1024).iter_orders(statuses=["SHIPPED"], limit=4))


def test_a_window_that_does_not_halve_evenly_keeps_only_its_own_items(om):
    # Limit 5 halves to 2: the pages of 2 that cover items 0-4 reach item 5, which is left to page 2.
    rows = [order_of_lines(i, 8) for i in range(1, 8)]  # ~1 KB each: two fit under the cap, five do not
    calls = []
    om.route("GET", "/v1.1/orders", paged(rows, calls))
    got = list(sized_client(2600).iter_orders(statuses=["SHIPPED"], limit=5))
    assert [o.order_id for o in got] == [1, 2, 3, 4, 5, 6, 7]
    assert calls == [(1, 5), (1, 2), (2, 2), (3, 2), (2, 5)]


def test_the_collection_ending_inside_a_split_window_ends_the_read(om):
    rows = [order_of_lines(i, 8) for i in range(1, 4)]  # 3 orders, too large together at limit 4
    calls = []
    om.route("GET", "/v1.1/orders", paged(rows, calls))
    got = list(sized_client(2600).iter_orders(statuses=["SHIPPED"], limit=4))
    assert [o.order_id for o in got] == [1, 2, 3]
    assert calls == [(1, 4), (1, 2), (2, 2)]  # page 2 at limit 2 was short: nothing more is asked


def test_a_server_over_the_cap_whatever_is_asked_is_given_up_on(om):
    calls = []
    om.route("GET", "/v1.1/orders", lambda q, b: calls.append(1) or [order_of_lines(1, 200)])
    with pytest.raises(
        MalformedResponse, match=f"over the size cap {MAX_OVERSIZE_IN_A_ROW} times in a row, down to one item a page"
    ):
        list(sized_client(8 * 1024).iter_orders(statuses=["SHIPPED"], limit=100, on_too_large=lambda item: None))
    assert len(calls) == MAX_OVERSIZE_IN_A_ROW


def test_get_orders_over_the_cap_asks_again_in_halves_of_the_ids(om):
    sizes = {1: 1, 2: 20, 3: 20, 4: 1}
    queries = []

    def by_id(query, body):
        queries.append([int(i) for i in query["orderId"]])
        return [order_of_lines(int(i), sizes[int(i)]) for i in query["orderId"]]

    om.route("GET", "/v1.1/orders", by_id)
    got = sized_client(4 * 1024).get_orders([1, 2, 3, 4])
    assert [o.order_id for o in got] == [1, 2, 3, 4]
    assert queries == [[1, 2, 3, 4], [1, 2], [3, 4]]
    sizes[3] = 200
    with pytest.raises(ResponseTooLarge, match="Order 3 alone is over the cap"):
        sized_client(4 * 1024).get_orders([3])


def test_get_orders_asks_for_the_ids_in_one_call(om):
    limits = []

    def by_id(query, body):
        limits.append(int(query["limit"][0] if isinstance(query["limit"], list) else query["limit"]))
        return [order(int(i)) for i in query["orderId"]]

    om.route("GET", "/v1.1/orders", by_id)
    got = make_client().get_orders([5, 6])
    assert [o.order_id for o in got] == [5, 6]
    assert limits == [10]  # never below the documented minimum of 10, however few ids
    assert make_client().get_orders([]) == []


def test_get_order_and_not_found(om):
    om.route("GET", "/v1.1/orders/42", lambda q, b: order(42, "CANCELLED", cancelReason={"type": "BUYER_CANCELLED"}))
    om.route("GET", "/v1.1/orders/43", lambda q, b: (404, {"message": "Order not found"}))
    client = make_client()
    assert client.get_order(42).status == "CANCELLED" and client.get_order(42).state.is_cancelled
    with pytest.raises(NotFound):
        client.get_order(43)


def test_send_to_fulfillment_uses_query_params_and_chunks_at_500(om, records):
    def handler(query, body):
        assert body is None
        ids = query["orderId"]
        return {
            "message": f"{len(ids)} submitted",
            "errors": [],
            "ordersRemaining": False,
            "results": {ids[0]: "OK"},
            "orderBatch": {"batchNumber": len(om.calls)},
        }

    om.route("POST", "/v1/orders/sendtofulfillment", handler)
    answer = make_client(records).send_to_fulfillment(list(range(1, 702)), warehouse_id=7)
    assert [len(c["query"]["orderId"]) for c in om.calls] == [500, 201]
    assert all(c["query"]["warehouseId"] == ["7"] for c in om.calls)
    assert answer["message"] == "500 submitted; 201 submitted" and answer["ordersRemaining"] is False
    assert answer["results"] == {"1": "OK", "501": "OK"} and len(answer["orderBatches"]) == 2


def test_send_to_fulfillment_500_is_not_resent(om):
    om.route("POST", "/v1/orders/sendtofulfillment", lambda q, b: (500, {"message": "boom"}))
    with pytest.raises(ServerError) as info:
        make_client().send_to_fulfillment([1, 2], warehouse_id=7)
    assert info.value.transient and len(om.calls) == 1


# -- shipments ------------------------------------------------------------------------------
SHIPMENTS = [
    {
        "orderId": 1,
        "trackingNumber": "1Z999",
        "shipMethod": {"shippingCarrier": "UPS"},
        "shipDate": "2024-03-10T12:00:00Z",
    },
    {"orderId": 2, "trackingNumber": "9400", "shipMethod": {"shippingCarrier": "USPS"}},
]


def test_external_shipments_return_every_batched_order_including_failed(om):
    def handler(query, body):
        assert body == {"notifyCustomer": False, "updateChannel": True, "shipments": SHIPMENTS}
        return [
            {
                "order": {"orderId": 1, "orderNumber": "SO-1", "salesChannelId": 3},
                "status": "SHIPPED",
                "orderBatchNumber": 5,
            },
            {
                "order": {"orderId": 2, "orderNumber": "SO-2"},
                "status": "FAILED",
                "processingMessage": "Order is cancelled",
            },
        ]

    om.route("PUT", "/v1.1/shipment/external", handler)
    assert make_client().create_external_shipments(SHIPMENTS) == [
        ShipmentResult(1, "SO-1", "SHIPPED", ""),
        ShipmentResult(2, "SO-2", "FAILED", "Order is cancelled"),
    ]


def test_external_shipment_put_is_not_resent_after_a_500(om):
    om.route("PUT", "/v1.1/shipment/external", lambda q, b: (502, {"message": "bad gateway"}))
    with pytest.raises(ServerError):
        make_client().create_external_shipments(SHIPMENTS[:1], notify_customer=True)
    assert len(om.calls) == 1 and om.calls[0]["body"]["notifyCustomer"] is True


def test_external_shipment_without_status_is_malformed(om):
    om.route("PUT", "/v1.1/shipment/external", lambda q, b: [{"order": {"orderId": 1}}])
    with pytest.raises(MalformedResponse, match="status"):
        make_client().create_external_shipments(SHIPMENTS[:1])


# -- inventory ------------------------------------------------------------------------------
def stock(sku, product_id, on_hand, locked=0, allocated=0):
    return {
        "product": {"productId": product_id, "masterSku": sku, "name": sku},
        "onHandQuantity": on_hand,
        "lockedQuantity": locked,
        "allocatedQuantity": allocated,
        "availableQuantity": on_hand - locked - allocated,
        "inTransitQuantity": 0,
    }


CATALOG = [stock("AB", 1, 10, locked=2), stock("ABC", 2, 5), stock("AB-1", 3, 7, allocated=1), stock("X", 4, 1)]


def prefix_search(query, body):
    prefixes = query.get("sku", [""])
    rows = [row for row in CATALOG if any(row["product"]["masterSku"].startswith(p) for p in prefixes)]
    page, limit = int(query["page"][0]), int(query["limit"][0])
    return rows[(page - 1) * limit : page * limit]


def test_stock_totals_keep_exact_sku_matches_only(om):
    om.route("GET", "/v1/productstocks/total", prefix_search)
    totals = list(make_client().iter_stock_totals(7, skus=["AB"], limit=2))
    assert totals == [StockTotal(sku="AB", product_id=1, on_hand=10, locked=2, allocated=0, available=8)]
    assert om.calls[0]["query"]["sku"] == ["AB"] and om.calls[0]["query"]["warehouseId"] == ["7"]
    assert len(om.calls) == 2  # the prefix search filled a page ("AB", "ABC"), so page 2 was read


def test_stock_totals_without_skus_return_everything_and_chunk_long_sku_lists(om):
    om.route("GET", "/v1/productstocks/total", prefix_search)
    assert [t.sku for t in make_client().iter_stock_totals(7)] == ["AB", "ABC", "AB-1", "X"]
    om.calls.clear()
    wanted = ["X"] + [f"NONE-{i}" for i in range(150)]
    assert [t.sku for t in make_client().iter_stock_totals(7, skus=wanted)] == ["X"]
    assert sorted(len(c["query"]["sku"]) for c in om.calls) == [51, 100]


def test_stock_totals_over_the_cap_are_read_again_in_smaller_pages(om):
    rows = [stock(f"{'S' * 500}-{n}", n, n) for n in range(1, 8)]  # ~1 KB a row (sku and name): two fit under the cap
    calls = []
    om.route("GET", "/v1/productstocks/total", paged(rows, calls))
    got = [t.product_id for t in sized_client(2600).iter_stock_totals(7, limit=5)]
    assert got == [1, 2, 3, 4, 5, 6, 7]
    assert calls == [(1, 5), (1, 2), (2, 2), (3, 2), (2, 5)]
    rows[3] = stock("S" * 5000, 4, 4)  # one row over the cap alone: the read stops, naming it
    with pytest.raises(ResponseTooLarge, match=r"stock totals alone: item 4 of GET /v1/productstocks/total"):
        list(sized_client(2600).iter_stock_totals(7, limit=5))


def test_stock_total_with_non_integer_quantity_is_malformed(om):
    # Off-spec on purpose, so not through the spec-checking route.
    om.rsps.add(
        "GET",
        re.compile(re.escape(f"{BASE}/v1/productstocks/total") + r"\?.*"),
        json=[{"product": {"productId": 1, "masterSku": "A"}, "onHandQuantity": 1.5}],
    )
    with pytest.raises(MalformedResponse, match="onHandQuantity"):
        list(OrderManagerClient(BASE, access_token="t").iter_stock_totals(7))


def adjust_items(count, warehouse_id=7):
    return [
        {"warehouseId": warehouse_id, "masterSku": f"SKU-{i:04d}", "onHandQuantity": i, "stockLocationName": "GLOBAL"}
        for i in range(count)
    ]


def test_adjust_batches_at_200_and_reads_per_item_errors(om):
    def handler(query, batch):
        errors = []
        if batch[0]["masterSku"] == "SKU-0200":  # second batch: two bad items, one by index, one by identifier
            errors = [
                {"errorCode": "ERR097", "index": 3, "message": "Product stock not found", "severity": "CRITICAL"},
                {"errorCode": "ERR053", "identifier": {"masterSku": "SKU-0250"}, "message": "Product does not exist"},
                {"errorCode": "INFO01", "index": 4, "message": "Quantity unchanged", "severity": "INFO"},
            ]
        return {"message": "done", "results": [{} for _ in batch], "errors": errors}

    om.route("POST", "/v1.1/inventory/adjust", handler)
    results = make_client().adjust_inventory(adjust_items(450))
    assert [len(c["body"]) for c in om.calls] == [200, 200, 50]
    assert len(results) == 450
    failed = {r.sku: r for r in results if not r.ok}
    assert failed == {
        "SKU-0202": AdjustResult("SKU-0202", False, "ERR097", "ERR097: Product stock not found"),
        "SKU-0250": AdjustResult("SKU-0250", False, "ERR053", "ERR053: Product does not exist"),
    }
    assert results[203] == AdjustResult("SKU-0203", True, "", "INFO01: Quantity unchanged")
    assert results[0] == AdjustResult("SKU-0000", True, "", "")


def test_adjust_400_with_item_errors_is_reported_per_item(om):
    om.route(
        "POST",
        "/v1.1/inventory/adjust",
        lambda q, batch: (
            400,
            {"message": "Validation failed", "errors": [{"errorCode": "ERR097", "index": 1, "message": "no stock"}]},
        ),
    )
    results = make_client().adjust_inventory(adjust_items(2))
    assert results == [
        AdjustResult("SKU-0000", False, "ERR097", "ERR097: no stock"),
        AdjustResult("SKU-0001", False, "BATCH_REJECTED", "Validation failed"),
    ]


def test_adjust_unattributed_error_and_input_checks(om):
    om.route(
        "POST",
        "/v1.1/inventory/adjust",
        lambda q, batch: {"errors": [{"errorCode": "ERR001", "message": "Something odd"}], "results": []},
    )
    results = make_client().adjust_inventory(adjust_items(1))
    assert results == [
        AdjustResult("SKU-0000", True, "", ""),
        AdjustResult("", False, "ERR001", "ERR001: Something odd"),
    ]
    with pytest.raises(ValueError):
        make_client().adjust_inventory(adjust_items(1), batch_size=201)
    with pytest.raises(ValueError):
        make_client().adjust_inventory([{"warehouseId": 7, "masterSku": "A", "onHandQuantity": "3"}])


def test_adjust_500_is_retried_because_an_absolute_set_is_safe_to_repeat(om):
    answers = iter([(500, {"message": "boom"}), {"message": "ok", "errors": [], "results": []}])
    om.route("POST", "/v1.1/inventory/adjust", lambda q, b: next(answers))
    assert make_client().adjust_inventory(adjust_items(1)) == [AdjustResult("SKU-0000", True, "", "")]
    assert len(om.calls) == 2


# -- limits, records ------------------------------------------------------------------------
def test_throttle_limits(om):
    limits = [
        {
            "requestMethod": "POST",
            "requestPath": "/v1.1/inventory/adjust",
            "notes": "",
            "throttleConfig": {
                "appId": 1,
                "companyId": 2,
                "quotaMaxRequest": 10,
                "quotaMaxRequestHourly": 600,
                "quotaRestoreRate": 1,
            },
        }
    ]
    om.route("GET", "/v1/throttlelimits", lambda q, b: limits)
    [limit] = make_client().throttle_limits()
    assert (limit.request_method, limit.request_path) == ("POST", "/v1.1/inventory/adjust")
    assert limit.throttle_config.quota_max_request_hourly == 600 and limit.rate == 600 / 3600  # the hourly cap binds


def test_records_and_errors_never_carry_the_token(om, records):
    om.route("GET", "/v1/warehouses", lambda q, b: (500, {"message": "echo Bearer token-1"}))
    client = make_client(records, max_retries=1)
    with pytest.raises(ConnectorError) as info:
        client.list_warehouses()
    everything = " ".join([repr(records), str(info.value), info.value.body_excerpt, repr(info.value.details)])
    assert "token-1" not in everything
    assert [(r.path, r.status) for r in records] == [("/v1/warehouses", 500), ("/v1/warehouses", 500)]


def test_format_datetime():
    assert format_datetime(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2024-01-02T03:04:05Z"
