"""The sandbox Order Manager API: auth, every endpoint's wire shape against the vendor spec, paging,
prefix search, ERR053/ERR097, sendtofulfillment and external shipments."""

import json

import pytest

from connectors.sandbox.control import account_setup, order_events, seeding
from connectors.sandbox.models import OmOrder, OmShipment, OmStock, OrderStatus
from tests.contract import validate_response
from tests.sandbox_helpers import TEST_APP_KEY, TEST_APP_SECRET, TEST_REDIRECT, basic, om_install_token

BASE = "/sandbox/order-manager"


def assert_matches_spec(method: str, path: str, response, params=None):
    """The sandbox answer validates against the Order Manager OpenAPI spec (status and body)."""
    validate_response(method, f"{BASE}{path}", response.status_code, response.json(), params=params)


@pytest.fixture
def om(db):
    account = account_setup.ensure_om_account("acme@sandbox", "s3cret-pass", warehouse_name="Main 3PL")
    wms = account_setup.ensure_wms_account("acme-wms", "wms-secret", customer_id=7, facility_id=3, user_login="acme")
    info = seeding.seed(account, wms, orders=12, skus=12, seed=42)
    return {"account": account, "wms": wms, "warehouse_id": info["warehouse"]["warehouseId"]}


def _token(client, username="acme@sandbox", password="s3cret-pass"):
    return om_install_token(client, username, password)


@pytest.fixture
def api(client, om):
    token = _token(client).json()["access_token"]

    class Api:
        def get(self, path, params=None):
            return client.get(f"{BASE}{path}", params or {}, HTTP_AUTHORIZATION=f"Bearer {token}")

        def post(self, path, body=None, query=""):
            return client.post(
                f"{BASE}{path}{query}",
                json.dumps(body) if body is not None else "",
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {token}",
            )

        def put(self, path, body):
            return client.put(
                f"{BASE}{path}", json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
            )

    return Api()


# ------------------------------------------------------------------ auth


def test_an_app_install_issues_a_bearer_token(client, om):
    response = _token(client)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["access_token"] and "scope" in body


def test_a_wrong_password_on_the_install_page_issues_no_code(client, om):
    response = _token(client, password="nope")
    assert response.status_code == 200 and b"Bad credentials" in response.content
    assert _token(client, username="nobody@sandbox").status_code == 200


def _code(client):
    from urllib.parse import parse_qs, urlencode, urlsplit

    account_setup.ensure_om_app(TEST_APP_KEY, TEST_APP_SECRET, redirect_uris=[TEST_REDIRECT])
    query = urlencode({"client_id": TEST_APP_KEY, "redirect_uri": TEST_REDIRECT, "response_type": "code"})
    approved = client.post(f"{BASE}/oauth/authorize?{query}", {"username": "acme@sandbox", "password": "s3cret-pass"})
    return parse_qs(urlsplit(approved["Location"]).query)


def _exchange(
    client, code, *, secret=TEST_APP_SECRET, redirect_uri=TEST_REDIRECT, grant_type="authorization_code", in_query=False
):
    params = {"grant_type": grant_type, "code": code, "redirect_uri": redirect_uri}
    if in_query:  # skubanaAccess sends the parameters in the query string
        from urllib.parse import urlencode

        return client.post(f"{BASE}/oauth/token?{urlencode(params)}", HTTP_AUTHORIZATION=basic(TEST_APP_KEY, secret))
    return client.post(f"{BASE}/oauth/token", params, HTTP_AUTHORIZATION=basic(TEST_APP_KEY, secret))


def test_the_redirect_carries_code_cid_and_state(client, om):
    from urllib.parse import parse_qs, urlencode, urlsplit

    account_setup.ensure_om_app(TEST_APP_KEY, TEST_APP_SECRET, redirect_uris=[TEST_REDIRECT])
    query = urlencode(
        {"client_id": TEST_APP_KEY, "redirect_uri": TEST_REDIRECT, "response_type": "code", "state": "xyz"}
    )
    approved = client.post(f"{BASE}/oauth/authorize?{query}", {"username": "acme@sandbox", "password": "s3cret-pass"})
    assert approved.status_code == 302 and approved["Location"].startswith(TEST_REDIRECT + "?")
    got = parse_qs(urlsplit(approved["Location"]).query)
    assert got["state"] == ["xyz"] and got["cid"] == [str(om["account"].company_id)] and got["code"]


def test_a_code_is_single_use(client, om):
    code = _code(client)["code"][0]
    assert _exchange(client, code, in_query=True).status_code == 200
    again = _exchange(client, code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_an_expired_code_is_invalid_grant(client, om):
    from connectors.sandbox.models import OmAuthCode

    code = _code(client)["code"][0]
    OmAuthCode.objects.update(expires_at="2000-01-01T00:00:00Z")
    answer = _exchange(client, code)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_a_wrong_app_secret_is_401_bad_credentials(client, om):
    answer = _exchange(client, _code(client)["code"][0], secret="wrong")
    assert answer.status_code == 401 and answer.json() == {
        "error": "invalid_client",
        "error_description": "Bad credentials",
    }


def test_a_different_redirect_uri_is_refused(client, om):
    answer = _exchange(client, _code(client)["code"][0], redirect_uri="https://evil.example.com/cb")
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_an_unregistered_redirect_uri_gets_an_error_page_not_a_redirect(client, om):
    from urllib.parse import urlencode

    account_setup.ensure_om_app(TEST_APP_KEY, TEST_APP_SECRET, redirect_uris=[TEST_REDIRECT])
    query = urlencode(
        {"client_id": TEST_APP_KEY, "redirect_uri": "https://evil.example.com/cb", "response_type": "code"}
    )
    page = client.post(f"{BASE}/oauth/authorize?{query}", {"username": "acme@sandbox", "password": "s3cret-pass"})
    assert page.status_code == 400 and b"redirect_uri" in page.content


@pytest.mark.parametrize("grant_type", ["password", "client_credentials", "refresh_token", ""])
def test_other_grant_types_are_refused(client, om, grant_type):
    account_setup.ensure_om_app(TEST_APP_KEY, TEST_APP_SECRET, redirect_uris=[TEST_REDIRECT])
    response = client.post(
        f"{BASE}/oauth/token",
        {"grant_type": grant_type, "username": "acme@sandbox", "password": "s3cret-pass"},
        HTTP_AUTHORIZATION=basic(TEST_APP_KEY, TEST_APP_SECRET),
    )
    assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"


def test_the_token_endpoint_needs_basic_app_credentials(client, om):
    response = client.post(
        f"{BASE}/oauth/token", {"grant_type": "password", "username": "acme@sandbox", "password": "s3cret-pass"}
    )
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"


def test_a_static_token_keeps_working(client, om):
    token = account_setup.static_token(om["account"])
    assert client.get(f"{BASE}/v1/warehouses", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


@pytest.mark.parametrize("header", [None, "Bearer not-a-token", "Basic abc"])
def test_calls_without_a_valid_bearer_token_are_401(client, om, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get(f"{BASE}/v1/warehouses", **extra)
    assert response.status_code == 401
    assert response.json()["error"] in ("unauthorized", "invalid_token")


def test_accounts_never_see_each_others_orders(client, api, om):
    other = account_setup.ensure_om_account("globex@sandbox", "pw-globex", warehouse_name="Main 3PL")
    other_token = _token(client, "globex@sandbox", "pw-globex").json()["access_token"]
    own = api.get("/v1.1/orders").json()
    order_id = own[0]["orderId"]
    response = client.get(f"{BASE}/v1.1/orders/{order_id}", HTTP_AUTHORIZATION=f"Bearer {other_token}")
    assert response.status_code == 404
    assert client.get(f"{BASE}/v1.1/orders", HTTP_AUTHORIZATION=f"Bearer {other_token}").json() == []
    assert other.warehouses.get().pk != om["warehouse_id"]


def test_the_sandbox_can_be_switched_off(client, om, settings):
    settings.SANDBOX_ENABLED = False
    assert _token(client).status_code == 404


# ------------------------------------------------------------------ reads


def test_warehouses_match_the_spec(api, om):
    response = api.get("/v1/warehouses")
    assert response.status_code == 200
    assert_matches_spec("GET", "/v1/warehouses", response)
    [warehouse] = response.json()
    assert warehouse == {
        **warehouse,
        "warehouseId": om["warehouse_id"],
        "name": "Main 3PL",
        "type": "THIRD_PARTY_LOGISTICS",
    }


def test_orders_match_the_spec_and_carry_the_fields_the_hub_uses(api, om):
    params = {"status": "AWAITING_3PL_EXPORT", "warehouseId": str(om["warehouse_id"]), "limit": "5"}
    response = api.get("/v1.1/orders", params)
    assert response.status_code == 200
    assert_matches_spec("GET", "/v1.1/orders", response, params=params)
    orders = response.json()
    assert len(orders) == 5
    order = orders[0]
    for key in (
        "orderId",
        "orderNumber",
        "orderStatus",
        "modifiedDate",
        "createdDate",
        "orderDate",
        "salesChannel",
        "fulfillmentSource",
        "shipName",
        "shipAddress1",
        "shipCity",
        "shipState",
        "shipZipCode",
        "shipCountry",
        "shipMethod",
        "requestedShippingService",
        "orderItems",
    ):
        assert key in order, key
    assert order["modifiedDate"].endswith("Z")
    assert order["fulfillmentSource"]["warehouseId"] == om["warehouse_id"]
    item = order["orderItems"][0]
    assert {"orderItemId", "listingSku", "quantityOrdered"} <= set(item)
    assert {"productId", "masterSku", "name"} <= set(item["product"])


def test_order_list_pages_from_one_and_filters(api, om):
    first = api.get("/v1.1/orders", {"page": "1", "limit": "5"}).json()
    third = api.get("/v1.1/orders", {"page": "3", "limit": "5"}).json()
    beyond = api.get("/v1.1/orders", {"page": "4", "limit": "5"}).json()
    assert [len(first), len(third), len(beyond)] == [5, 2, 0]
    everything = [o["orderId"] for o in api.get("/v1.1/orders", {"limit": "100"}).json()]
    assert everything == sorted(everything) and len(everything) == 12
    assert api.get("/v1.1/orders", {"status": "SHIPPED"}).json() == []
    assert len(api.get("/v1.1/orders", {"status": ["SHIPPED", "AWAITING_3PL_EXPORT"]}).json()) == 12
    assert api.get("/v1.1/orders", {"warehouseId": "999999"}).json() == []
    picked = api.get("/v1.1/orders", {"orderId": [str(everything[0]), str(everything[3])]}).json()
    assert [o["orderId"] for o in picked] == [everything[0], everything[3]]


def test_order_number_is_a_prefix_search(api, om):
    numbers = [o["orderNumber"] for o in api.get("/v1.1/orders", {"orderNumber": "SO-00001"}).json()]
    assert numbers == [f"SO-0000{n}" for n in range(10, 13)]


def test_modified_date_window(api, om):
    order = OmOrder.objects.filter(account=om["account"]).order_by("pk").first()
    order.modified_date = order.modified_date.replace(year=2020)
    order.save()
    old = api.get(
        "/v1.1/orders", {"modifiedDateFrom": "2019-12-31T00:00:00Z", "modifiedDateTo": "2021-01-01T00:00:00Z"}
    ).json()
    assert [o["orderId"] for o in old] == [order.pk]
    recent = api.get("/v1.1/orders", {"modifiedDateFrom": "2021-01-01T00:00:00Z"}).json()
    assert len(recent) == 11


@pytest.mark.parametrize(
    "params",
    [
        {"status": "NOT_A_STATUS"},
        {"page": "0"},
        {"limit": "abc"},
        {"limit": "5000"},
        {"modifiedDateFrom": "yesterday"},
        {"warehouseId": "x"},
    ],
)
def test_bad_parameters_are_422(api, om, params):
    assert api.get("/v1.1/orders", params).status_code == 422


def test_one_order_by_id(api, om):
    order = OmOrder.objects.filter(account=om["account"]).first()
    response = api.get(f"/v1.1/orders/{order.pk}")
    assert response.status_code == 200
    assert_matches_spec("GET", f"/v1.1/orders/{order.pk}", response)
    assert response.json()["orderNumber"] == order.order_number
    assert api.get("/v1.1/orders/987654321").status_code == 404


def test_order_list_does_not_query_per_order(api, om, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        assert len(api.get("/v1.1/orders", {"limit": "100"}).json()) == 12


def test_stock_totals_match_the_spec_and_use_a_prefix_sku_search(api, om):
    params = {"warehouseId": str(om["warehouse_id"]), "sku": "SKU-1", "limit": "50"}
    response = api.get("/v1/productstocks/total", params)
    assert response.status_code == 200
    assert_matches_spec("GET", "/v1/productstocks/total", response, params=params)
    skus = {row["product"]["masterSku"] for row in response.json()}
    # SKU-1 is a prefix of SKU-10..12; SKU-3 has no starting inventory, so never listed.
    assert skus == {"SKU-1", "SKU-10", "SKU-11", "SKU-12"}
    locked = next(row for row in response.json() if row["product"]["masterSku"] == "SKU-12")
    stock = OmStock.objects.get(product__master_sku="SKU-12", product__account=om["account"])
    assert (locked["onHandQuantity"], locked["lockedQuantity"]) == (stock.on_hand, stock.locked)
    assert stock.locked > 0  # every tenth SKU from the 2nd has locked stock


def test_stock_totals_page_with_default_limit_20(api, om):
    first = api.get("/v1/productstocks/total").json()
    second = api.get("/v1/productstocks/total", {"page": "2"}).json()
    # 12 WMS SKUs minus 1 without inventory (SKU-3) plus 2 Order-Manager-only SKUs.
    assert len(first) == 13 and second == []
    assert "SKU-3" not in {row["product"]["masterSku"] for row in first}
    assert {"OMONLY-1", "OMONLY-2"} <= {row["product"]["masterSku"] for row in first}


def test_inventory_matches_the_spec(api, om):
    params = {"warehouseId": str(om["warehouse_id"]), "sku": "SKU-2", "limit": "10"}
    response = api.get("/v1/inventory", params)
    assert response.status_code == 200
    assert_matches_spec("GET", "/v1/inventory", response, params=params)
    [row] = response.json()
    assert row["product"]["masterSku"] == "SKU-2" and row["stockLocation"]["location"] == "GLOBAL"
    assert row["warehouseStockTotals"]["onHandQuantity"] == row["quantity"]
    assert len(api.get("/v1/inventory", {"limit": "3", "page": "2"}).json()) == 3


def test_throttle_limits_match_the_spec(api, om):
    response = api.get("/v1/throttlelimits")
    assert response.status_code == 200
    assert_matches_spec("GET", "/v1/throttlelimits", response)
    assert response.json()[0]["throttleConfig"]["quotaRestoreRate"] >= 1


# ------------------------------------------------------------------ writes


def test_inventory_adjust_sets_absolute_on_hand_and_reports_err097_and_err053(api, om):
    wid = om["warehouse_id"]
    body = [
        {"warehouseId": wid, "masterSku": "SKU-1", "onHandQuantity": 77, "stockLocationName": "GLOBAL"},
        {"warehouseId": wid, "masterSku": "SKU-3", "onHandQuantity": 5},  # no starting inventory
        {"warehouseId": wid, "masterSku": "NO-SUCH-SKU", "onHandQuantity": 5},
        {"warehouseId": wid, "masterSku": "SKU-2", "onHandQuantity": 30, "lockedQuantity": 4},
    ]
    response = api.post("/v1.1/inventory/adjust", body)
    assert response.status_code == 200
    assert_matches_spec("POST", "/v1.1/inventory/adjust", response)
    errors = {e["index"]: e["errorCode"] for e in response.json()["errors"]}
    assert errors == {2: "ERR097", 3: "ERR053"}
    stock = {
        s.product.master_sku: s
        for s in OmStock.objects.filter(product__account=om["account"]).select_related("product")
    }
    assert stock["SKU-1"].on_hand == 77
    assert (stock["SKU-2"].on_hand, stock["SKU-2"].locked) == (30, 4)
    assert "SKU-3" not in stock  # never created by an adjust


def test_inventory_adjust_refuses_a_malformed_body(api, om):
    assert api.post("/v1.1/inventory/adjust", [{"masterSku": "SKU-1"}]).status_code == 400
    assert api.post("/v1.1/inventory/adjust", {"not": "a list"}).status_code == 400


def test_send_to_fulfillment_moves_orders_and_bumps_modified_date(api, om):
    orders = list(OmOrder.objects.filter(account=om["account"]).order_by("pk")[:2])
    before = orders[0].modified_date.replace(year=2020)
    OmOrder.objects.filter(pk=orders[0].pk).update(modified_date=before)
    query = f"?orderId={orders[0].pk}&orderId={orders[1].pk}&orderId=999999"
    response = api.post("/v1/orders/sendtofulfillment", query=query)
    assert response.status_code == 200
    assert_matches_spec(
        "POST",
        "/v1/orders/sendtofulfillment",
        response,
        params={"orderId": [str(orders[0].pk), str(orders[1].pk), "999999"]},
    )
    body = response.json()
    assert [e["identifier"] for e in body["errors"]] == [{"orderId": 999999}]
    assert body["orderBatch"]["processedCount"] == 2 and body["ordersRemaining"] is False
    moved = OmOrder.objects.get(pk=orders[0].pk)
    assert moved.status == OrderStatus.PENDING_FULFILLMENT and moved.modified_date > before
    again = api.post("/v1/orders/sendtofulfillment", query=f"?orderId={orders[0].pk}").json()
    assert again["errors"][0]["errorCode"] == "INVALID_ORDER_STATUS"
    assert api.post("/v1/orders/sendtofulfillment").status_code == 422


def test_external_shipment_records_ships_and_fails_unknown_orders(api, om):
    order = OmOrder.objects.filter(account=om["account"]).order_by("pk").first()
    body = {
        "notifyCustomer": False,
        "updateChannel": True,
        "shipments": [
            {
                "orderId": order.pk,
                "trackingNumber": "1ZTRACK1",
                "shipMethod": {"shippingCarrier": "UPS"},
                "shipDate": "2024-05-01T10:00:00Z",
            },
            {"orderId": 987654321, "trackingNumber": "1ZTRACK2", "shipMethod": {"shippingCarrier": "UPS"}},
            {"orderId": order.pk, "trackingNumber": "1ZTRACK1", "shipMethod": {"shippingCarrier": "UPS"}},
        ],
    }
    response = api.put("/v1.1/shipment/external", body)
    assert response.status_code == 200
    assert_matches_spec("PUT", "/v1.1/shipment/external", response)
    answers = response.json()
    assert [a["status"] for a in answers] == ["SHIPPED", "FAILED", "SHIPPED"]
    assert "not found" in answers[1]["processingMessage"]
    assert answers[0]["shipment"]["trackingNumber"] == "1ZTRACK1"
    assert OmOrder.objects.get(pk=order.pk).status == OrderStatus.SHIPPED
    # The same tracking number twice is recorded twice, so duplicates are detectable.
    assert OmShipment.objects.filter(order=order, tracking_number="1ZTRACK1").count() == 2
    shown = api.get(f"/v1.1/orders/{order.pk}").json()
    assert shown["shipDate"].endswith("Z") and shown["shipments"][0]["trackingNumbers"] == ["1ZTRACK1", "1ZTRACK1"]


def test_external_shipment_by_order_number_and_cancelled_orders(api, om):
    first, second = OmOrder.objects.filter(account=om["account"]).order_by("pk")[:2]
    order_events.cancel(om["account"], 1)  # cancels the oldest candidate: `first`
    body = {
        "shipments": [
            {
                "orderNumber": second.order_number,
                "salesChannelId": second.sales_channel_id,
                "trackingNumber": "T-2",
                "shipMethod": {"shippingCarrier": "FEDEX"},
            },
            {"orderId": first.pk, "trackingNumber": "T-1", "shipMethod": {"shippingCarrier": "FEDEX"}},
        ]
    }
    answers = api.put("/v1.1/shipment/external", body).json()
    assert [a["status"] for a in answers] == ["SHIPPED", "FAILED"]
    assert "CANCELLED" in answers[1]["processingMessage"]


@pytest.mark.parametrize(
    "shipment",
    [
        {"orderId": 1, "shipMethod": {"shippingCarrier": "UPS"}},  # no tracking number
        {"orderId": 1, "trackingNumber": "T", "shipMethod": {"shippingCarrier": "FedEx"}},
    ],  # not the enum spelling
)
def test_external_shipment_refuses_invalid_bodies(api, om, shipment):
    assert api.put("/v1.1/shipment/external", {"shipments": [shipment]}).status_code == 400


def test_cancelled_orders_carry_a_cancel_reason(api, om):
    [cancelled] = order_events.cancel(om["account"], 1)
    order = api.get(f"/v1.1/orders/{cancelled['orderId']}").json()
    assert order["orderStatus"] == "CANCELLED" and order["cancelReason"]["type"] == "BUYER_CANCELLED"
    listed = api.get("/v1.1/orders", {"status": "CANCELLED"})
    assert_matches_spec("GET", "/v1.1/orders", listed, params={"status": "CANCELLED"})
    assert [o["orderId"] for o in listed.json()] == [cancelled["orderId"]]


@pytest.mark.parametrize(
    "path, params, unknown",
    [
        ("/v1.1/orders", {"warehouseID": "1"}, "warehouseID"),  # a misspelling the real service would ignore
        ("/v1.1/orders", {"status": "AWAITING_3PL_EXPORT", "pageSize": "50"}, "pageSize"),
        ("/v1/productstocks/total", {"masterSku": "SKU-1"}, "masterSku"),
        ("/v1/warehouses", {"name": "Main"}, "name"),
    ],
)
def test_query_parameters_the_spec_does_not_declare_are_refused(api, path, params, unknown):
    answer = api.get(path, params)
    assert answer.status_code == 422
    assert answer.json()["message"] == f"Unknown query parameter(s): {unknown}"


def test_every_query_parameter_the_spec_declares_for_orders_is_accepted(api):
    from connectors.sandbox.query_parameters import spec_query_parameters

    declared = spec_query_parameters("get", "/v1.1/orders")
    assert {"status", "warehouseId", "modifiedDateFrom", "modifiedDateTo", "orderId", "page", "limit"} <= declared
    assert api.get("/v1.1/orders", {"status": "AWAITING_3PL_EXPORT", "page": "1", "limit": "10"}).status_code == 200
