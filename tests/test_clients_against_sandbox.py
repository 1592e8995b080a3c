"""The real clients against the sandbox over a real socket (pytest-django ``live_server``).

Three parts:

1. Shared Order Manager scenarios, parametrized over two backends: ``stubs`` (``responses``
   stubs of the real formats, from ``tests.test_order_manager.FakeOrderManager``) and ``sandbox``
   (the sandbox app served by ``live_server``). Both hold the same small world (two warehouses,
   orders in several statuses and warehouses, SKUs where one is a prefix of others, a product with
   no starting inventory), so the SAME assertions run against both.
2. Sandbox-only protocol tests: 401 re-authentication, the seeded catalog's prefix trap, and the
   3PL Warehouse Manager client (token, create/duplicate/find, cancel incl. a provoked 412,
   tracking after ``order_events.ship``, facility time zone, stock summaries).
3. The fault matrix over the socket: 429 waits, 5xx retries, malformed JSON, read timeout,
   the sandbox's quota and the client's pacing.

Every Order Manager request a client sends and every answer it gets back is validated against the
vendor's OpenAPI spec (``tests/contract.py``) by a ``requests`` response hook on the client's own
session (``SpecCheck``); the fixture fails the test if anything did not fit.
"""

from __future__ import annotations

import copy
import gc
import io
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import responses
import urllib3
from django.db.models import F

from connectors.errors import (
    AuthenticationError,
    MalformedResponse,
    NetworkError,
    NotFound,
    RateLimited,
    ServerError,
)
from connectors.order_manager import install as om_install
from connectors.order_manager.client import OrderManagerClient
from connectors.order_manager.errors import WarehouseNotFound
from connectors.order_manager.inventory import AdjustResult, StockTotal
from connectors.sandbox import faults
from connectors.sandbox.control import account_setup, fault_setup, order_events, seeding
from connectors.sandbox.models import (
    OmOrder,
    OmOrderItem,
    OmProduct,
    OmStock,
    OmToken,
    OmWarehouse,
    WmsItem,
    WmsOrder,
    WmsStock,
    WmsToken,
)
from connectors.warehouse_manager.client import WarehouseManagerClient
from connectors.warehouse_manager.errors import DuplicateOrder, OrderNotCancellable
from tests.contract import is_documented, spec_path, validate_prepared, validate_response
from tests.test_order_manager import BASE as STUB_BASE
from tests.test_order_manager import FakeOrderManager

USERNAME, PASSWORD = "ops@tenant.example", "correct-horse-battery"

pytestmark = pytest.mark.django_db(transaction=True)

OM_PREFIX = "/sandbox/order-manager"
WMS_PREFIX = "/sandbox/warehouse-manager"


# Every client a test opens is closed at its end: a kept-alive connection keeps a live_server
# request thread (sharing the test database connection) waiting past the test.
_opened: list = []


def opened(client):
    _opened.append(client)
    return client


@pytest.fixture(autouse=True)
def _fresh_faults_and_closed_clients():
    # Buckets and RNGs live in process memory, shared with the live_server thread.
    faults.reset()
    yield
    faults.reset()
    while _opened:
        _opened.pop().http.close()
    gc.collect()  # connections still referenced from exception tracebacks (reference cycles)


# =============================================================================================
# Spec check on the wire
# =============================================================================================


def read_and_put_back(response) -> bytes:
    """The decoded body of a streamed response, read in a response hook, with an unread copy put
    back: the client's own capped reader (connectors.transport.body_cap) owns ``response.raw``."""
    body = response.raw.read(decode_content=True)
    response.raw = urllib3.HTTPResponse(body=io.BytesIO(body), status=response.status_code, preload_content=False)
    return body


class SpecCheck:
    """A ``requests`` response hook validating each Order Manager exchange against the spec.

    Hooked on the client's own ``requests.Session``, so it sees exactly what went over the wire
    (the prepared request and the final response of each call). The token endpoint is not part of
    the API spec and is skipped. ``bodies=False`` skips response bodies (fault tests that truncate
    them on purpose); error statuses the spec does not document are accepted without a body check.
    """

    def __init__(self) -> None:
        self.checked: list[tuple[str, str, int]] = []
        self.problems: list[str] = []
        self.bodies = True

    def attach(self, client: OrderManagerClient) -> OrderManagerClient:
        client.http.session.hooks["response"].append(self._hook)
        return client

    def _hook(self, response, *args, **kwargs):
        request = response.request
        if not is_documented(request.method, request.url):
            return response
        try:
            validate_prepared(request)
            if self.bodies:
                content = read_and_put_back(response)
                try:
                    body = json.loads(content) if content else None
                except ValueError:
                    raise AssertionError(f"{request.method} {request.url}: answer is not JSON") from None
                validate_response(request.method, request.url, response.status_code, body, undocumented_errors_ok=True)
        except AssertionError as exc:
            self.problems.append(str(exc))
        self.checked.append(
            (request.method, re.sub(r"/\d+(?=/|$)", "/{id}", spec_path(request.url)), response.status_code)
        )
        return response

    def operations(self) -> set[tuple[str, str]]:
        return {(method, path) for method, path, _ in self.checked}


def test_spec_check_flags_off_spec_requests_and_answers():
    check = SpecCheck()
    client = check.attach(OrderManagerClient(STUB_BASE, access_token="t"))
    with responses.RequestsMock() as rsps:
        rsps.add("GET", f"{STUB_BASE}/v1/warehouses", json=[{"warehouseId": "seven", "name": "Main"}])
        rsps.add("GET", re.compile(re.escape(f"{STUB_BASE}/v1.1/orders") + r"\?.*"), json=[])
        with pytest.raises(MalformedResponse):
            client.list_warehouses()
        assert list(client.iter_orders(statuses=["NOT_A_STATUS"])) == []
    assert len(check.problems) == 2
    assert check.problems[0].startswith("response 200 to GET /v1/warehouses does not fit")
    assert check.problems[1].startswith("request GET /v1.1/orders?status=NOT_A_STATUS")


@pytest.fixture
def spec():
    check = SpecCheck()
    yield check
    assert not check.problems, "\n\n".join(check.problems)


# =============================================================================================
# 1. Shared Order Manager scenarios: the same assertions against stubs and against the sandbox
# =============================================================================================

MAIN, EAST = "Main 3PL", "East DC"
TYPES = {MAIN: "THIRD_PARTY_LOGISTICS", EAST: "DIRECT_FULFILLMENT"}
MODIFIED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
# (status, warehouse) of each order, in id order.
ORDERS = [("AWAITING_3PL_EXPORT", MAIN)] * 7 + [("AWAITING_3PL_EXPORT", EAST)] * 2 + [("SHIPPED", MAIN)]
# SKU -> (on hand, locked) in MAIN, or None: a product with no starting inventory there.
STOCK = {"AB": (10, 2), "ABC": (5, 0), "AB-1": (7, 1), "NOSTOCK": None}


@dataclass
class World:
    """What a backend holds, by name, so a scenario can state expectations on either backend."""

    base_url: str
    warehouses: dict[str, int]
    order_ids: list[int]  # in ORDERS order
    issue_app_token: object  # () -> str: a token as an app install would hold
    records: list = field(default_factory=list)
    _token: str | None = None

    def ids(self, status: str, warehouse: str) -> list[int]:
        return [i for i, (s, w) in zip(self.order_ids, ORDERS) if s == status and w == warehouse]

    def client(self, spec: SpecCheck, **kw) -> OrderManagerClient:
        if "access_token" not in kw:
            if self._token is None:
                self._token = self.issue_app_token()
            kw["access_token"] = self._token
        client = OrderManagerClient(self.base_url, on_call=self.records.append, backoff_factor=0, **kw)
        return spec.attach(opened(client))

    def calls(self, path_end: str) -> list:
        return [r for r in self.records if r.path.endswith(path_end)]


def sandbox_world(live_server) -> World:
    """The shared world as sandbox rows (ids are the sandbox's own)."""
    account = account_setup.ensure_om_account(USERNAME, PASSWORD, warehouse_name=MAIN, warehouse_type=TYPES[MAIN])
    main = OmWarehouse.objects.get(account=account, name=MAIN)
    east = OmWarehouse.objects.create(account=account, name=EAST, type=TYPES[EAST])
    houses = {MAIN: main, EAST: east}
    products = {sku: OmProduct.objects.create(account=account, master_sku=sku, name=sku) for sku in STOCK}
    for sku, quantities in STOCK.items():
        if quantities is not None:
            OmStock.objects.create(product=products[sku], warehouse=main, on_hand=quantities[0], locked=quantities[1])
    ids = []
    for n, (status, house) in enumerate(ORDERS, start=1):
        row = OmOrder.objects.create(
            account=account,
            order_number=f"SO-{n:04d}",
            status=status,
            warehouse=houses[house],
            order_date=MODIFIED,
            created_date=MODIFIED,
            modified_date=MODIFIED,
        )
        OmOrderItem.objects.create(order=row, product=products["AB"], listing_sku="AB", quantity=1)
        ids.append(row.pk)
    base = live_server.url + OM_PREFIX

    def issue_app_token():
        """The app install: the sandbox's install step approves for the user, the hub's exchange
        code (connectors.order_manager.install) trades the code over the live socket."""
        app = account_setup.ensure_om_app("test-app", "test-secret", redirect_uris=["https://hub.example/cb"])
        code, _ = account_setup.install_code(app, account, "https://hub.example/cb")
        return om_install.exchange_code(
            f"{base}/oauth/token",
            app_key="test-app",
            app_secret="test-secret",
            code=code,
            redirect_uri="https://hub.example/cb",
        ).access_token

    return World(base, {name: w.pk for name, w in houses.items()}, ids, issue_app_token)


class StubOrderManager:
    """The shared world behind ``responses`` stubs in the real formats (validated against the spec
    by ``FakeOrderManager``), with just enough state for the write scenarios."""

    def __init__(self, fake: FakeOrderManager) -> None:
        self.fake = fake
        self.warehouses = {MAIN: 7, EAST: 8}
        self.orders = {
            100 + n: {"status": s, "warehouse": w, "number": f"SO-{n:04d}"} for n, (s, w) in enumerate(ORDERS, start=1)
        }
        self.stock = copy.deepcopy(STOCK)
        self.batches = 0
        fake.route(
            "GET",
            "/v1/warehouses",
            lambda q, b: [
                {"warehouseId": wid, "name": name, "type": TYPES[name], "active": True}
                for name, wid in self.warehouses.items()
            ],
        )
        fake.route("GET", "/v1.1/orders", self.list_orders)
        for order_id in self.orders:
            fake.route("GET", f"/v1.1/orders/{order_id}", lambda q, b, order_id=order_id: self.render(order_id))
        fake.route("GET", "/v1.1/orders/999999", lambda q, b: (404, {"message": "Order 999999 not found"}))
        fake.route("POST", "/v1/orders/sendtofulfillment", self.send_to_fulfillment)
        fake.route("PUT", "/v1.1/shipment/external", self.ship)
        fake.route("GET", "/v1/productstocks/total", self.stock_totals)
        fake.route("POST", "/v1.1/inventory/adjust", self.adjust)
        fake.route(
            "GET",
            "/v1/throttlelimits",
            lambda q, b: [
                {
                    "requestMethod": "GET",
                    "requestPath": "/v1.1/orders",
                    "notes": "",
                    "throttleConfig": {
                        "appId": 1,
                        "companyId": 1,
                        "quotaMaxRequest": 100,
                        "quotaMaxRequestHourly": 360000,
                        "quotaRestoreRate": 100,
                    },
                }
            ],
        )

    def render(self, order_id: int) -> dict:
        row = self.orders[order_id]
        return {
            "orderId": order_id,
            "orderNumber": row["number"],
            "orderStatus": row["status"],
            "modifiedDate": MODIFIED.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "fulfillmentSource": {"warehouseId": self.warehouses[row["warehouse"]], "name": row["warehouse"]},
            "orderItems": [{"listingSku": "AB", "quantityOrdered": 1, "product": {"productId": 1, "masterSku": "AB"}}],
        }

    def list_orders(self, query, body):
        selected = sorted(self.orders)
        if "status" in query:
            selected = [i for i in selected if self.orders[i]["status"] in query["status"]]
        if "warehouseId" in query:
            selected = [
                i for i in selected if str(self.warehouses[self.orders[i]["warehouse"]]) == query["warehouseId"][0]
            ]
        if "orderId" in query:
            selected = [i for i in selected if str(i) in query["orderId"]]
        if "modifiedDateFrom" in query and query["modifiedDateFrom"][0] > MODIFIED.strftime("%Y-%m-%dT%H:%M:%SZ"):
            selected = []
        if "modifiedDateTo" in query and query["modifiedDateTo"][0] < MODIFIED.strftime("%Y-%m-%dT%H:%M:%SZ"):
            selected = []
        page, limit = int(query["page"][0]), int(query["limit"][0])
        return [self.render(i) for i in selected[(page - 1) * limit : page * limit]]

    def send_to_fulfillment(self, query, body):
        self.batches += 1
        sent = [int(i) for i in query["orderId"] if self.orders[int(i)]["status"] == "AWAITING_3PL_EXPORT"]
        for order_id in sent:
            self.orders[order_id]["status"] = "PENDING_FULFILLMENT"
        return {
            "message": f"{len(sent)} order(s) sent to fulfillment",
            "errors": [],
            "ordersRemaining": False,
            "results": {str(i): "PENDING_FULFILLMENT" for i in sent},
            "orderBatch": {"batchNumber": self.batches},
        }

    def ship(self, query, body):
        self.batches += 1
        answers = []
        for item in body["shipments"]:
            row = self.orders.get(item["orderId"])
            if row is None:
                answers.append(
                    {
                        "order": {"orderId": item["orderId"]},
                        "orderBatchNumber": self.batches,
                        "status": "FAILED",
                        "processingMessage": f"Order not found: orderId {item['orderId']}",
                    }
                )
                continue
            row["status"] = "SHIPPED"
            answers.append(
                {
                    "order": {"orderId": item["orderId"], "orderNumber": row["number"]},
                    "orderBatchNumber": self.batches,
                    "status": "SHIPPED",
                    "processingMessage": "Shipment recorded",
                }
            )
        return answers

    def stock_totals(self, query, body):
        prefixes = query.get("sku", [""])
        rows = []
        for product_id, (sku, quantities) in enumerate(self.stock.items(), start=1):
            if quantities is not None and any(sku.lower().startswith(p.lower()) for p in prefixes):
                on_hand, locked = quantities
                rows.append(
                    {
                        "product": {"productId": product_id, "masterSku": sku, "name": sku},
                        "onHandQuantity": on_hand,
                        "lockedQuantity": locked,
                        "allocatedQuantity": 0,
                        "availableQuantity": on_hand - locked,
                        "inTransitQuantity": 0,
                    }
                )
        page, limit = int(query["page"][0]), int(query["limit"][0])
        return rows[(page - 1) * limit : page * limit]

    def adjust(self, query, items):
        errors, results = [], []
        for index, item in enumerate(items, start=1):
            sku = item["masterSku"]
            if sku not in self.stock:
                errors.append(
                    {"index": index, "errorCode": "ERR053", "message": "Product does not exist", "severity": "CRITICAL"}
                )
            elif self.stock[sku] is None:
                errors.append(
                    {
                        "index": index,
                        "errorCode": "ERR097",
                        "message": f"Product stock not found for {sku}",
                        "severity": "CRITICAL",
                    }
                )
            else:
                self.stock[sku] = (item["onHandQuantity"], self.stock[sku][1])
        return {"message": "done", "results": results, "errors": errors}


def stub_world(fake: FakeOrderManager) -> World:
    stub = StubOrderManager(fake)

    def issue_app_token():
        fake.valid_tokens.add("app-install-token")
        return "app-install-token"

    return World(STUB_BASE, dict(stub.warehouses), sorted(stub.orders), issue_app_token)


@pytest.fixture(params=["stubs", "sandbox"])
def world(request):
    if request.param == "sandbox":
        yield sandbox_world(request.getfixturevalue("live_server"))
        return
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield stub_world(FakeOrderManager(rsps))


def test_authentication_app_token_is_a_static_bearer(world, spec):
    client = world.client(spec)
    assert [w.name for w in client.list_warehouses()] == [MAIN, EAST]
    client.list_warehouses()
    assert world.calls("/oauth/token") == [], "the API client never asks for a token"
    assert [w.warehouse_id for w in client.list_warehouses()] == [world.warehouses[MAIN], world.warehouses[EAST]]
    with pytest.raises(AuthenticationError, match="reconnect"):
        world.client(spec, access_token="revoked-token").list_warehouses()
    assert ("GET", "/v1/warehouses") in spec.operations()


def test_resolve_warehouse_and_warehouse_not_found(world, spec):
    client = world.client(spec)
    found = client.resolve_warehouse(" main 3pl ")
    assert (found.warehouse_id, found.name, found.type) == (world.warehouses[MAIN], MAIN, TYPES[MAIN])
    with pytest.raises(WarehouseNotFound) as info:
        client.resolve_warehouse("West Coast")
    assert info.value.available == [MAIN, EAST]
    assert str(info.value) == f'Order Manager has no warehouse named "West Coast". Available: "{MAIN}", "{EAST}"'


def test_iter_orders_by_status_warehouse_window_across_pages(world, spec):
    client = world.client(spec)
    waiting = world.ids("AWAITING_3PL_EXPORT", MAIN)
    got = list(client.iter_orders(statuses=["AWAITING_3PL_EXPORT"], warehouse_id=world.warehouses[MAIN], limit=3))
    assert [o.order_id for o in got] == waiting  # 7 orders: pages of 3, 3, 1
    assert {o.status for o in got} == {"AWAITING_3PL_EXPORT"}
    assert {o.raw["fulfillmentSource"]["warehouseId"] for o in got} == {world.warehouses[MAIN]}
    assert len(world.calls("/v1.1/orders")) == 3

    both = list(client.iter_orders(statuses=["AWAITING_3PL_EXPORT", "SHIPPED"], limit=100))
    assert sorted(o.order_id for o in both) == sorted(world.order_ids)

    window = dict(statuses=["AWAITING_3PL_EXPORT"], warehouse_id=world.warehouses[EAST])
    inside = client.iter_orders(
        modified_from=MODIFIED - timedelta(minutes=5), modified_to=MODIFIED + timedelta(minutes=5), **window
    )
    assert [o.order_id for o in inside] == world.ids("AWAITING_3PL_EXPORT", EAST)
    assert list(client.iter_orders(modified_from=MODIFIED + timedelta(seconds=1), **window)) == []
    assert list(client.iter_orders(modified_to=MODIFIED - timedelta(seconds=1), **window)) == []
    assert ("GET", "/v1.1/orders") in spec.operations()


def test_get_order_and_get_orders(world, spec):
    client = world.client(spec)
    first, shipped = world.order_ids[0], world.ids("SHIPPED", MAIN)[0]
    assert client.get_order(shipped).status == "SHIPPED"
    assert sorted(o.order_id for o in client.get_orders([first, shipped])) == sorted([first, shipped])
    if world.base_url == STUB_BASE:
        missing = 999999
    else:
        missing = max(world.order_ids) + 1000
    with pytest.raises(NotFound):
        client.get_order(missing)
    assert ("GET", "/v1.1/orders/{id}") in spec.operations()


def test_send_to_fulfillment_moves_orders_out_of_the_pickup_status(world, spec):
    client = world.client(spec)
    east = world.ids("AWAITING_3PL_EXPORT", EAST)
    answer = client.send_to_fulfillment(east, world.warehouses[EAST])
    assert answer["errors"] == [] and answer["ordersRemaining"] is False
    assert {int(k): v for k, v in answer["results"].items()} == dict.fromkeys(east, "PENDING_FULFILLMENT")
    assert {o.status for o in client.get_orders(east)} == {"PENDING_FULFILLMENT"}
    assert list(client.iter_orders(statuses=["AWAITING_3PL_EXPORT"], warehouse_id=world.warehouses[EAST])) == []
    assert ("POST", "/v1/orders/sendtofulfillment") in spec.operations()


def test_external_shipments_shipped_and_failed_for_an_unknown_order(world, spec):
    client = world.client(spec)
    order_id = world.order_ids[0]
    unknown = 999999 if world.base_url == STUB_BASE else max(world.order_ids) + 1000
    results = client.create_external_shipments(
        [
            {
                "orderId": order_id,
                "trackingNumber": "1Z999AA10123456784",
                "shipMethod": {"shippingCarrier": "UPS"},
                "shipDate": "2024-05-02T10:00:00Z",
            },
            {"orderId": unknown, "trackingNumber": "9400100000000000000000", "shipMethod": {"shippingCarrier": "USPS"}},
        ]
    )
    assert [(r.order_id, r.status) for r in results] == [(order_id, "SHIPPED"), (unknown, "FAILED")]
    assert "not found" in results[1].message.lower()
    assert client.get_order(order_id).status == "SHIPPED"
    assert ("PUT", "/v1.1/shipment/external") in spec.operations()


def test_stock_totals_exact_sku_and_adjust_with_err097_err053(world, spec):
    client = world.client(spec)
    main = world.warehouses[MAIN]
    # "AB" is a prefix of "ABC" and "AB-1": the API's search returns all three, the client only "AB".
    totals = list(client.iter_stock_totals(main, skus=["AB"], limit=2))
    assert [(t.sku, t.on_hand, t.locked, t.available) for t in totals] == [("AB", 10, 2, 8)]
    assert len(world.calls("/v1/productstocks/total")) == 2, "a full page of prefix matches, so page 2 was read"
    everything = {t.sku: t for t in client.iter_stock_totals(main)}
    assert set(everything) == {"AB", "ABC", "AB-1"}  # NOSTOCK has no starting inventory
    assert isinstance(everything["ABC"], StockTotal) and everything["AB-1"].locked == 1

    results = client.adjust_inventory(
        [
            {"warehouseId": main, "masterSku": "AB", "onHandQuantity": 14},
            {"warehouseId": main, "masterSku": "NOSTOCK", "onHandQuantity": 3},
            {"warehouseId": main, "masterSku": "NO-SUCH-PRODUCT", "onHandQuantity": 1},
        ]
    )
    assert [(r.sku, r.ok, r.error_code) for r in results] == [
        ("AB", True, ""),
        ("NOSTOCK", False, "ERR097"),
        ("NO-SUCH-PRODUCT", False, "ERR053"),
    ]
    assert isinstance(results[1], AdjustResult) and results[1].message.startswith("ERR097: ")
    assert [(t.on_hand, t.locked) for t in client.iter_stock_totals(main, skus=["AB"])] == [(14, 2)]
    assert "NOSTOCK" not in {t.sku for t in client.iter_stock_totals(main)}, "an adjust never creates stock"
    assert {("GET", "/v1/productstocks/total"), ("POST", "/v1.1/inventory/adjust")} <= spec.operations()


def test_throttle_limits(world, spec):
    limits = world.client(spec).throttle_limits()
    assert limits and all(isinstance(limit.throttle_config.quota_max_request, int) for limit in limits)
    assert any(limit.request_path == "/v1.1/orders" for limit in limits)
    assert ("GET", "/v1/throttlelimits") in spec.operations()


# =============================================================================================
# 2. Sandbox-only protocol tests
# =============================================================================================


@pytest.fixture
def om_sandbox(live_server):
    """A seeded sandbox Order Manager account (12 SKUs: SKU-1 is a prefix of SKU-10..12)."""
    account = account_setup.ensure_om_account("shop@sandbox", "om-pass", warehouse_name=MAIN)
    wms = account_setup.ensure_wms_account(
        "shop-wms", "wms-pass", customer_id=7, facility_id=3, user_login="shop", facility_time_zone="America/Chicago"
    )
    info = seeding.seed(account, wms, orders=5, skus=12, seed=11)
    return {
        "account": account,
        "wms": wms,
        "warehouse_id": info["warehouse"]["warehouseId"],
        "base_url": live_server.url + OM_PREFIX,
        "wms_base_url": live_server.url + WMS_PREFIX,
    }


def om_client(om_sandbox, spec, records=None, **kw) -> OrderManagerClient:
    if "access_token" not in kw:
        kw["access_token"] = account_setup.static_token(om_sandbox["account"])
    kw.setdefault("backoff_factor", 0)
    return spec.attach(
        opened(
            OrderManagerClient(om_sandbox["base_url"], on_call=(records.append if records is not None else None), **kw)
        )
    )


def test_401_asks_for_a_reconnect_against_the_sandbox(om_sandbox, spec):
    records = []
    client = om_client(om_sandbox, spec, records)
    client.throttle_limits()
    OmToken.objects.all().delete()  # the app is uninstalled: the token is revoked server-side
    with pytest.raises(AuthenticationError, match="reconnect"):
        client.throttle_limits()
    assert [(r.path.rsplit("/", 1)[-1], r.status) for r in records] == [
        ("throttlelimits", 200),
        ("throttlelimits", 401),
    ]


def test_seeded_catalog_exact_sku_match_despite_the_prefix_search(om_sandbox, spec):
    client = om_client(om_sandbox, spec)
    stocked = set(
        OmStock.objects.filter(product__account=om_sandbox["account"]).values_list("product__master_sku", flat=True)
    )
    wanted = ["SKU-1", "SKU-3", "SKU-10"]
    got = [t.sku for t in client.iter_stock_totals(om_sandbox["warehouse_id"], skus=wanted)]
    assert sorted(got) == sorted(s for s in wanted if s in stocked)
    assert "SKU-3" not in got, "the third SKU of every ten has no starting inventory"
    assert "SKU-11" not in got and "SKU-12" not in got


# -- 3PL Warehouse Manager ------------------------------------------------------------------


def wms_client(om_sandbox, records=None, **kw) -> WarehouseManagerClient:
    options = dict(
        client_id="shop-wms",
        client_secret="wms-pass",
        user_login="shop",
        customer_id=7,
        facility_id=3,
        facility_time_zone="America/Chicago",
        backoff_factor=0,
        on_call=records.append if records is not None else None,
    )
    options.update(kw)
    return opened(WarehouseManagerClient(om_sandbox["wms_base_url"], **options))


def wms_order(reference: str, sku: str = "SKU-1") -> dict:
    return {
        "referenceNum": reference,
        "shipTo": {
            "name": "Ada Lovelace",
            "address1": "12 Analytical Ave",
            "city": "Springfield",
            "state": "IL",
            "zip": "62701",
            "country": "US",
        },
        "routingInfo": {"carrier": "UPS", "mode": "Ground"},
        "orderItems": [{"itemIdentifier": {"sku": sku}, "qty": 2}],
    }


def test_wms_token_create_duplicate_find_and_401(om_sandbox):
    records = []
    client = wms_client(om_sandbox, records)
    created = client.create_order(wms_order("SO-900001"))
    assert (created.reference_num, created.status, created.is_closed) == ("SO-900001", 0, False)
    assert created.etag and created.order_id == WmsOrder.objects.get(reference_num="SO-900001").pk

    with pytest.raises(DuplicateOrder) as info:
        client.create_order(wms_order("SO-900001", sku="SKU-2"))
    assert info.value.existing is not None and info.value.existing.order_id == created.order_id
    assert not info.value.transient
    assert WmsOrder.objects.filter(reference_num="SO-900001").count() == 1

    assert client.find_order_by_reference("SO-900001").order_id == created.order_id
    assert client.find_order_by_reference("SO-90000") is None, "a prefix is not a match"
    special = client.create_order(wms_order("A,B;C=D (1)/2 50%"))
    assert client.find_order_by_reference("A,B;C=D (1)/2 50%").order_id == special.order_id

    WmsToken.objects.all().delete()
    assert client.get_order(created.order_id).order_id == created.order_id
    tokens = [r.status for r in records if r.path.endswith("/Token")]
    assert tokens == [200, 200], "one token, then one re-authentication after the 401"
    assert 401 in [r.status for r in records]

    with pytest.raises(AuthenticationError, match="client id / client secret"):
        wms_client(om_sandbox, client_secret="wrong").authenticate()


def test_wms_client_reads_the_plain_json_answer_too(om_sandbox):
    """Over a real socket: asked without the HAL Accept, the sandbox answers plain PascalCase JSON,
    and the client still creates, finds, polls and reads stock correctly."""
    client = wms_client(om_sandbox)
    client.accept = "application/json"
    created = client.create_order(wms_order("SO-PLAIN-1"))
    assert created.etag and created.reference_num == "SO-PLAIN-1"
    assert client.find_order_by_reference("SO-PLAIN-1").order_id == created.order_id
    assert client.get_order(created.order_id).etag
    since = datetime(2000, 1, 1, tzinfo=UTC)
    assert created.order_id in [o.order_id for o in client.iter_orders_modified_since(since)]
    hal = wms_client(om_sandbox)
    assert client.stock_available() == hal.stock_available() != {}


def test_wms_stock_excludes_another_customers_same_named_skus(om_sandbox):
    """Over a real socket: the sandbox's stock summaries really hold another customer's rows in the
    same facility (SKU-1 with 900 more); the client counts only its customer's items."""
    client = wms_client(om_sandbox)
    before = client.stock_available()
    seeding.add_other_customer_stock(om_sandbox["wms"], {"SKU-1": 900, "NOT-OURS": 40})
    report = client.stock_report()
    assert report.available == before and "NOT-OURS" not in report.available
    assert report.other_customer_rows == 2


def test_wms_token_by_login_id_against_an_id_keyed_account(om_sandbox):
    """Over a real socket: an account keyed by user_login_id signs the client in only in that form."""
    account_setup.ensure_wms_account(
        "shop-wms",
        "wms-pass",
        customer_id=7,
        facility_id=3,
        user_login="8",
        login_kind="user_login_id",
        facility_time_zone="America/Chicago",
    )
    wms_client(om_sandbox, user_login="8", login_kind="user_login_id").authenticate()
    with pytest.raises(AuthenticationError, match="user_login"):
        wms_client(om_sandbox, user_login="8").authenticate()


def test_wms_cancel_with_a_provoked_412_then_closed_and_already_cancelled(om_sandbox):
    records = []
    client = wms_client(om_sandbox, records)
    order = client.create_order(wms_order("SO-900010"))
    bumped = []

    def edit_after_read(response, *args, **kwargs):
        # Someone edits the order between our GET and our cancel: the ETag we hold goes stale.
        if (
            response.request.method == "GET"
            and urlsplit(response.request.url).path.endswith(f"/orders/{order.order_id}")
            and not bumped
        ):
            WmsOrder.objects.filter(pk=order.order_id).update(version=F("version") + 1)
            bumped.append(True)
        return response

    client.http.session.hooks["response"].append(edit_after_read)
    assert client.cancel_order(order.order_id, "Cancelled in Order Manager") == "cancelled"
    assert [r.status for r in records if r.path.endswith("/canceler")] == [412, 204]
    row = WmsOrder.objects.get(pk=order.order_id)
    assert (row.status, row.cancel_reason) == (2, "Cancelled in Order Manager")
    assert client.cancel_order(order.order_id, "again") == "already_cancelled"

    shipped = client.create_order(wms_order("SO-900011"))
    order_events.ship(om_sandbox["wms"], seed=1)
    with pytest.raises(OrderNotCancellable) as info:
        client.cancel_order(shipped.order_id, "too late")
    assert info.value.reason == "closed/shipped" and not info.value.transient
    assert WmsOrder.objects.get(pk=shipped.order_id).status == 1


def test_wms_modified_since_with_tracking_in_the_facility_time_zone(om_sandbox):
    client = wms_client(om_sandbox)
    created = [client.create_order(wms_order(f"SO-9001{n}")) for n in range(3)]
    shipped = {s["orderId"]: s for s in order_events.ship(om_sandbox["wms"], count=2, seed=4)}
    rows = {row.pk: row for row in WmsOrder.objects.filter(pk__in=[o.order_id for o in created])}
    earliest = min(row.last_modified_date for row in rows.values())

    orders = {o.order_id: o for o in client.iter_orders_modified_since(earliest, page_size=1)}  # three pages
    assert set(orders) == set(rows)
    for order_id, shipment in shipped.items():
        got = orders[order_id]
        assert got.is_closed and got.tracking_numbers == [shipment["trackingNumber"]]
        assert (got.carrier, got.service, got.scac) == (shipment["carrier"], shipment["mode"], shipment["scacCode"])
        # Offset-less facility-local timestamps read back as the sandbox's UTC instants.
        assert got.last_modified == rows[order_id].last_modified_date
        assert got.ship_date == rows[order_id].process_date, "a closed order carries readOnly.shipDate"
    (still_open,) = set(rows) - set(shipped)
    assert orders[still_open].tracking_numbers == [] and not orders[still_open].is_closed

    latest = max(row.last_modified_date for row in rows.values())
    assert list(client.iter_orders_modified_since(latest + timedelta(seconds=1))) == []
    assert {o.order_id for o in client.iter_orders_modified_since(latest)} == {
        pk for pk, row in rows.items() if row.last_modified_date == latest
    }

    # The facility is in Chicago: a client set to UTC would misread every timestamp by the offset.
    naive = wms_client(om_sandbox, facility_time_zone="UTC")
    misread = naive.get_order(still_open).last_modified
    offset = rows[still_open].last_modified_date.astimezone(client.facility_tz).utcoffset()
    assert misread - rows[still_open].last_modified_date == offset


def test_wms_stock_summaries_summed_per_sku_for_the_facility(om_sandbox):
    account = om_sandbox["wms"]
    item = WmsItem.objects.get(account=account, sku="SKU-1")
    WmsStock.objects.create(account=account, item=item, qualifier="DMG", facility_id=3, available=4)
    WmsStock.objects.create(account=account, item=item, qualifier="", facility_id=99, available=1000)
    expected: dict[str, int] = {}
    for sku, available in WmsStock.objects.filter(account=account, facility_id=3).values_list("item__sku", "available"):
        expected[sku] = expected.get(sku, 0) + available
    stock = wms_client(om_sandbox).stock_available()
    assert stock == expected and len(stock) == 12
    assert stock["SKU-1"] == WmsStock.objects.get(item=item, qualifier="", facility_id=3).available + 4


# =============================================================================================
# 3. Fault matrix over the socket
# =============================================================================================


def _configure(om_sandbox, **values):
    fault_setup.configure_faults(om_account=om_sandbox["account"], clear=True, **values)


def test_429_with_the_quota_header_waits_the_given_milliseconds(om_sandbox, spec):
    records = []
    client = om_client(om_sandbox, spec, records, max_retries=2)
    client.authenticate()
    _configure(om_sandbox, rate_429=1.0, retry_after_seconds=0.3)
    started = time.monotonic()
    with pytest.raises(RateLimited) as info:
        client.list_warehouses()
    elapsed = time.monotonic() - started
    assert info.value.retry_after == pytest.approx(0.3) and info.value.transient
    assert [r.status for r in records if r.path == "/v1/warehouses"] == [429, 429, 429]
    assert 0.6 <= elapsed < 0.6 + 1.5, "two waits of x-skubana-quota-retryAfter: 300 ms"

    # Seed 3 draws a 429 for the first call and none for the second: one wait, then success.
    records.clear()
    _configure(om_sandbox, rate_429=0.5, retry_after_seconds=0.4, seed=3)
    started = time.monotonic()
    assert client.list_warehouses()
    elapsed = time.monotonic() - started
    assert [r.status for r in records] == [429, 200]
    assert 0.4 <= elapsed < 0.4 + 1.0


def test_5xx_is_retried_then_server_error(om_sandbox, spec):
    records = []
    client = om_client(om_sandbox, spec, records, max_retries=2)
    client.authenticate()
    _configure(om_sandbox, rate_500=1.0)
    with pytest.raises(ServerError) as info:
        client.list_warehouses()
    assert info.value.transient and info.value.status == 500 and "after 3 attempts" in str(info.value)
    assert [r.status for r in records if r.path == "/v1/warehouses"] == [500, 500, 500]
    records.clear()
    with pytest.raises(ServerError):
        client.send_to_fulfillment([1], om_sandbox["warehouse_id"])
    assert [r.status for r in records] == [500], "a POST that may have been applied is never re-sent"


def test_malformed_json_is_a_permanent_error_without_retries(om_sandbox, spec):
    spec.bodies = False  # the bodies are cut in half on purpose
    records = []
    client = om_client(om_sandbox, spec, records, max_retries=2)
    client.authenticate()
    _configure(om_sandbox, malformed_rate=1.0)
    with pytest.raises(MalformedResponse, match="invalid JSON") as info:
        client.list_warehouses()
    assert not info.value.transient
    assert [r.status for r in records if r.path == "/v1/warehouses"] == [200]
    with pytest.raises(MalformedResponse):
        wms = wms_client(om_sandbox, max_retries=2)
        wms.authenticate()
        fault_setup.configure_faults(wms_account=om_sandbox["wms"], clear=True, malformed_rate=1.0)
        wms.stock_available()


def test_an_answer_slower_than_the_read_timeout_is_a_network_error(om_sandbox, spec):
    client = om_client(om_sandbox, spec, timeout=(2.0, 0.5), max_retries=0)
    client.authenticate()
    _configure(om_sandbox, timeout_rate=1.0, timeout_seconds=1.5)
    started = time.monotonic()
    with pytest.raises(NetworkError, match=r"did not answer GET /v1/warehouses within 0.5 s") as info:
        client.list_warehouses()
    elapsed = time.monotonic() - started
    assert info.value.transient and 0.5 <= elapsed < 1.4
    # Let the sandbox's sleeping request thread finish before the database is flushed.
    time.sleep(max(0.0, 1.6 - elapsed))


def test_quota_per_second_is_enforced_and_pacing_avoids_429(om_sandbox, spec):
    _configure(om_sandbox, quota_per_second=5)
    unpaced = om_client(om_sandbox, spec, max_retries=0)
    with pytest.raises(RateLimited) as info:
        for _ in range(40):  # bounded: each call refills a little of the bucket
            unpaced.list_warehouses()
    assert 0 < info.value.retry_after <= 0.2 + 1e-9, "the wait is the time to the next token"

    # The bucket is now nearly empty: paced below the quota, not one call is refused.
    time.sleep(0.25)
    records = []
    paced = om_client(om_sandbox, spec, records, max_retries=0, requests_per_second=4)
    started = time.monotonic()
    for _ in range(6):
        paced.list_warehouses()
    assert time.monotonic() - started >= 5 / 4 - 0.05, "calls were spaced by the pacer"
    assert [r.status for r in records] == [200] * 6
