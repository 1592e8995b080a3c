"""The sandbox 3PL Warehouse Manager API: token, create with duplicate referenceNum and unknown SKU,
HAL listing with RQL and paging, ETag/If-Match canceler, stock summaries, facility-local times."""

import base64
import datetime
import json
import zoneinfo

import pytest

from connectors.sandbox.control import account_setup, order_events, seeding
from connectors.sandbox.models import WmsOrder, WmsOrderStatus
from connectors.warehouse_manager.sandbox.render import CUSTOMER_ITEM_REL as ITEM_REL
from connectors.warehouse_manager.sandbox.render import ORDER_REL

BASE = "/sandbox/warehouse-manager"
ZONE = "America/Chicago"


@pytest.fixture
def wms(db):
    om = account_setup.ensure_om_account("acme@sandbox", "pw", warehouse_name="Main 3PL")
    account = account_setup.ensure_wms_account(
        "acme-wms", "wms-secret", customer_id=7, facility_id=3, user_login="acme", facility_time_zone=ZONE
    )
    seeding.seed(om, account, orders=0, skus=12, seed=1)
    return account


def _basic(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _token(client, secret="wms-secret", body=None):
    return client.post(
        f"{BASE}/AuthServer/api/Token",
        json.dumps(body if body is not None else {"grant_type": "client_credentials", "user_login": "acme"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=_basic("acme-wms", secret),
    )


@pytest.fixture
def api(client, wms):
    token = _token(client).json()["access_token"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_ACCEPT": "application/hal+json"}

    class Api:
        def get(self, path, params=None, **headers):
            return client.get(f"{BASE}{path}", params or {}, **auth, **headers)

        def post(self, path, body=None, **headers):
            return client.post(
                f"{BASE}{path}",
                json.dumps(body) if body is not None else "",
                content_type="application/json",
                **auth,
                **headers,
            )

    return Api()


def order_body(reference, skus=("SKU-1",), **extra):
    return {
        "customerIdentifier": {"id": 7},
        "facilityIdentifier": {"id": 3},
        "referenceNum": reference,
        "routingInfo": {"carrier": "UPS", "mode": "Ground"},
        "shipTo": {
            "name": "Ada Lovelace",
            "address1": "1 Main St",
            "city": "Springfield",
            "state": "IL",
            "zip": "62701",
            "country": "US",
        },
        "orderItems": [{"itemIdentifier": {"sku": sku}, "qty": 2} for sku in skus],
        **extra,
    }


# ------------------------------------------------------------------ token


def test_client_credentials_token(client, wms):
    response = _token(client)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["access_token"]
    with_tpl = _token(client, body={"grant_type": "client_credentials", "user_login": "acme", "tpl": "{abc}"})
    assert with_tpl.status_code == 200


def test_token_refusals(client, wms):
    assert _token(client, secret="wrong").status_code == 401
    assert _token(client, body={"grant_type": "password", "user_login": "acme"}).status_code == 400
    assert _token(client, body={"grant_type": "client_credentials"}).status_code == 400
    assert _token(client, body={"grant_type": "client_credentials", "user_login": "someone-else"}).status_code == 400


def test_account_keyed_by_one_login_form_refuses_the_other(client, wms):
    """A credential keyed by login name refuses user_login_id, and the other way round (stricter)."""
    refused = _token(client, body={"grant_type": "client_credentials", "user_login_id": "1"})
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert "user_login_id" in refused.json()["error_description"]
    both = _token(client, body={"grant_type": "client_credentials", "user_login": "acme", "user_login_id": "1"})
    assert both.status_code == 400
    account_setup.ensure_wms_account(
        "acme-wms",
        "wms-secret",
        customer_id=7,
        facility_id=3,
        user_login="42",
        login_kind="user_login_id",
        facility_time_zone=ZONE,
    )
    assert _token(client, body={"grant_type": "client_credentials", "user_login_id": "42"}).status_code == 200
    assert _token(client, body={"grant_type": "client_credentials", "user_login_id": 42}).status_code == 200
    assert _token(client, body={"grant_type": "client_credentials", "user_login": "42"}).status_code == 400
    assert _token(client, body={"grant_type": "client_credentials", "user_login_id": "43"}).status_code == 400


def test_calls_need_a_valid_unexpired_token(client, api, wms):
    assert client.get(f"{BASE}/orders").status_code == 401
    assert client.get(f"{BASE}/orders", HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    wms.tokens.update(expires_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    assert api.get("/orders").status_code == 401


# ------------------------------------------------------------------ create


def test_create_order_is_201_with_an_etag(api, wms):
    response = api.post("/orders", order_body("SO-000001", skus=("SKU-1", "SKU-2")))
    assert response.status_code == 201
    assert response["ETag"].startswith('"') and response["Location"].startswith("/orders/")
    body = response.json()
    assert body["referenceNum"] == "SO-000001"
    assert body["readOnly"]["status"] == 0 and body["readOnly"]["isClosed"] is False
    assert body["readOnly"]["customerIdentifier"]["id"] == 7 and body["readOnly"]["facilityIdentifier"]["id"] == 3
    items = body["_embedded"]["http://api.3plCentral.com/rels/orders/item"]
    assert [(i["itemIdentifier"]["sku"], i["qty"]) for i in items] == [("SKU-1", 2.0), ("SKU-2", 2.0)]
    # Timestamps without an offset, in the facility's zone.
    created = datetime.datetime.fromisoformat(body["readOnly"]["creationDate"])
    assert created.tzinfo is None
    now_local = datetime.datetime.now(zoneinfo.ZoneInfo(ZONE)).replace(tzinfo=None)
    assert abs((now_local - created).total_seconds()) < 120


def test_duplicate_reference_num_is_a_dotnet_style_400(api, wms):
    assert api.post("/orders", order_body("SO-1")).status_code == 201
    response = api.post("/orders", order_body("SO-1"))
    assert response.status_code == 400
    body = response.json()
    assert "ModelValidationException" in body["$type"]
    assert body["ErrorCode"] == "Duplicate" and "SO-1" in body["Message"] and "Hint" in body
    assert WmsOrder.objects.filter(account=wms, reference_num="SO-1").count() == 1


def test_a_cancelled_order_no_longer_blocks_its_reference_num(api, wms):
    created = api.post("/orders", order_body("SO-2"))
    api.post(
        f"/orders/{created.json()['readOnly']['orderId']}/canceler", {"reason": "x"}, HTTP_IF_MATCH=created["ETag"]
    )
    assert api.post("/orders", order_body("SO-2")).status_code == 201


def test_unknown_sku_is_refused_with_a_clear_message(api, wms):
    response = api.post("/orders", order_body("SO-3", skus=("SKU-1", "NOPE-9")))
    assert response.status_code == 400
    assert response.json()["ErrorCode"] == "DoesNotExist" and "NOPE-9" in response.json()["Message"]
    assert not WmsOrder.objects.filter(reference_num="SO-3").exists()


@pytest.mark.parametrize(
    "change",
    [
        {"referenceNum": ""},
        {"orderItems": []},
        {"customerIdentifier": {"id": 99}},
        {"facilityIdentifier": {"id": 99}},
        {"orderItems": [{"itemIdentifier": {"sku": "SKU-1"}, "qty": 0}]},
    ],
)
def test_invalid_orders_are_model_validation_errors(api, wms, change):
    response = api.post("/orders", {**order_body("SO-4"), **change})
    assert response.status_code == 400 and "ModelValidationException" in response.json()["$type"]


# ------------------------------------------------------------------ read


def test_list_is_hal_with_paging_and_rql(api, wms):
    for n in range(1, 6):
        assert api.post("/orders", order_body(f"SO-{n:03d}")).status_code == 201
    page = api.get("/orders", {"pgsiz": "2", "pgnum": "1"}).json()
    assert page["totalResults"] == 5 and len(page["_embedded"][ORDER_REL]) == 2
    assert "pgnum=2" in page["_links"]["next"]["href"]
    last = api.get("/orders", {"pgsiz": "2", "pgnum": "3"}).json()
    assert len(last["_embedded"][ORDER_REL]) == 1 and "next" not in last["_links"]

    found = api.get("/orders", {"rql": "referenceNum==SO-003"}).json()
    assert [o["referenceNum"] for o in found["_embedded"][ORDER_REL]] == ["SO-003"]
    both = api.get("/orders", {"rql": "readOnly.customerIdentifier.id==7;readOnly.facilityIdentifier.id==3"}).json()
    assert both["totalResults"] == 5
    # Airbyte's casing is accepted too: property names compare without case.
    assert api.get("/orders", {"rql": "ReadOnly.CustomerIdentifier.Id==7"}).json()["totalResults"] == 5
    assert api.get("/orders", {"rql": "readOnly.customerIdentifier.id==8"}).json()["totalResults"] == 0
    assert api.get("/orders", {"rql": "referenceNum=in=(SO-001,SO-002)"}).json()["totalResults"] == 2
    assert api.get("/orders", {"pgsiz": "1001"}).status_code == 400


@pytest.mark.parametrize(
    "rql, prop",
    [
        ("nosuchfield==1", "nosuchfield"),
        ("customerIdentifier.id==7", "customerIdentifier.id"),
        ("readOnly.lastModifiedDate=ge=2024-01-01;poNum==1", "poNum"),
    ],
)
def test_unsupported_rql_property_is_a_query_parameter_exception(api, wms, rql, prop):
    """Only properties a real client is seen to send are supported; the rest get the real 400 body."""
    answer = api.get("/orders", {"rql": rql})
    assert answer.status_code == 400
    body = answer.json()
    assert body["$type"].split(",")[0].endswith(".QueryParameterException")
    assert body["ErrorCode"] == "NotParsable" and body["Parameters"] == ["rql"]
    assert body["Hint"] == f"Properties not supported: {prop}"
    assert body["Properties"] == [{"Name": prop, "Value": None}]
    assert api.get("/orders", {"pgsiz": "1001"}).status_code == 400


@pytest.mark.parametrize(
    "path, params",
    [
        ("/orders", {"pageSize": "10"}),  # the Order Manager name for the page size
        ("/orders", {"customerId": "5"}),
        ("/inventory/stocksummaries", {"facilityid": "1"}),
    ],
)
def test_query_parameters_no_client_sends_are_a_query_parameter_exception(api, wms, path, params):
    name = next(iter(params))
    answer = api.get(path, params)
    assert answer.status_code == 400
    body = answer.json()
    assert body["$type"].split(",")[0].endswith(".QueryParameterException")
    assert body["Parameters"] == [name] and body["Hint"] == f"Unknown query parameter(s): {name}"


def test_last_modified_filter_reads_facility_local_time(api, wms):
    created = api.post("/orders", order_body("SO-10")).json()
    local = created["readOnly"]["lastModifiedDate"]  # e.g. 2024-05-01T05:00:00 (Chicago)
    moment = datetime.datetime.fromisoformat(local)
    before = (moment - datetime.timedelta(minutes=1)).isoformat()
    after = (moment + datetime.timedelta(minutes=1)).isoformat()
    assert api.get("/orders", {"rql": f"readOnly.lastModifiedDate=ge={before}"}).json()["totalResults"] == 1
    assert api.get("/orders", {"rql": f"ReadOnly.lastModifiedDate=ge={after}"}).json()["totalResults"] == 0
    # The same instant written in UTC would be hours off if the zone were ignored.
    utc_text = moment.replace(tzinfo=zoneinfo.ZoneInfo(ZONE)).astimezone(datetime.UTC).replace(tzinfo=None)
    assert (
        api.get("/orders", {"rql": f"readOnly.lastModifiedDate=ge={utc_text.isoformat()}"}).json()["totalResults"] == 0
    )


def test_packages_and_items_only_with_detail(api, wms):
    api.post("/orders", order_body("SO-20", skus=("SKU-4",)))
    [shipped] = order_events.ship(wms, seed=3)
    plain = api.get(f"/orders/{shipped['orderId']}").json()
    assert "packages" not in plain["readOnly"] and "_embedded" not in plain
    full = api.get(f"/orders/{shipped['orderId']}", {"detail": "All"})
    body = full.json()
    assert full["ETag"] and body["readOnly"]["isClosed"] is True and body["readOnly"]["status"] == 1
    [package] = body["readOnly"]["packages"]
    assert package["trackingNumber"] == shipped["trackingNumber"] == body["routingInfo"]["trackingNumber"]
    assert body["routingInfo"]["carrier"] in ("UPS", "FedEx", "USPS") and body["routingInfo"]["scacCode"]
    listed = api.get("/orders", {"detail": "Packages", "rql": "readOnly.isClosed==true"}).json()
    assert listed["_embedded"][ORDER_REL][0]["readOnly"]["packages"][0]["trackingNumber"] == shipped["trackingNumber"]


def test_unknown_order_is_404(api, wms):
    assert api.get("/orders/999999").status_code == 404


def test_order_list_does_not_query_per_order(api, wms, django_assert_max_num_queries):
    for n in range(8):
        api.post("/orders", order_body(f"SO-Q{n}", skus=("SKU-1", "SKU-2")))
    with django_assert_max_num_queries(6):
        assert api.get("/orders", {"detail": "All"}).json()["totalResults"] == 8


# ------------------------------------------------------------------ canceler


def test_canceler_needs_a_current_if_match(api, wms):
    created = api.post("/orders", order_body("SO-30"))
    order_id, etag = created.json()["readOnly"]["orderId"], created["ETag"]
    assert api.post(f"/orders/{order_id}/canceler", {"reason": "Customer cancelled"}).status_code == 428
    assert api.post(f"/orders/{order_id}/canceler", {"reason": "x"}, HTTP_IF_MATCH='"stale"').status_code == 412
    assert api.post(f"/orders/{order_id}/canceler", {}, HTTP_IF_MATCH=etag).status_code == 400  # reason required
    response = api.post(f"/orders/{order_id}/canceler", {"reason": "Customer cancelled"}, HTTP_IF_MATCH=etag)
    assert response.status_code == 204
    assert WmsOrder.objects.get(pk=order_id).status == WmsOrderStatus.CANCELED
    # The old ETag is stale now.
    assert api.post(f"/orders/{order_id}/canceler", {"reason": "again"}, HTTP_IF_MATCH=etag).status_code == 412


def test_canceler_refuses_closed_orders_with_403(api, wms):
    created = api.post("/orders", order_body("SO-31"))
    order_id = created.json()["readOnly"]["orderId"]
    order_events.ship(wms, 1)
    assert api.post(f"/orders/{order_id}/canceler", {"reason": "x"}, HTTP_IF_MATCH=created["ETag"]).status_code == 412
    fresh = api.get(f"/orders/{order_id}")["ETag"]
    response = api.post(f"/orders/{order_id}/canceler", {"reason": "x"}, HTTP_IF_MATCH=fresh)
    assert response.status_code == 403
    assert "OperationException" in response.json()["$type"] and response.json()["ErrorCode"] == "OrderConfirmed"


# ------------------------------------------------------------------ content negotiation


def _plain_get(client, path, params=None, accept=None):
    token = _token(client).json()["access_token"]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if accept is not None:
        headers["HTTP_ACCEPT"] = accept
    return client.get(f"{BASE}{path}", params or {}, **headers)


@pytest.mark.parametrize("accept", [None, "application/json", "*/*", "application/hal+json;q=0, application/json"])
def test_without_a_hal_accept_the_answer_is_plain_pascal_case(client, api, wms, accept):
    """Only an explicit HAL Accept gets HAL; a HAL-only reader of the plain answer finds nothing to read."""
    created = api.post("/orders", order_body("SO-PLAIN")).json()
    listing = _plain_get(client, "/orders", {"detail": "All"}, accept)
    assert listing["Content-Type"].startswith("application/json")
    body = listing.json()
    assert "_embedded" not in body and "totalResults" not in body, "nothing for a HAL-only reader"
    assert body["TotalResults"] == 1
    [order] = body["ResourceList"]
    assert order["ReadOnly"]["OrderId"] == created["readOnly"]["orderId"]
    assert order["ReadOnly"]["CustomerIdentifier"]["Id"] == 7 and order["ReferenceNum"] == "SO-PLAIN"
    assert order["OrderItems"][0]["ItemIdentifier"]["Sku"] == "SKU-1"
    single = _plain_get(client, f"/orders/{order['ReadOnly']['OrderId']}", {}, accept).json()
    assert "readOnly" not in single and single["ReadOnly"]["OrderId"] == order["ReadOnly"]["OrderId"]
    stock = _plain_get(client, "/inventory/stocksummaries", {}, accept).json()
    assert "summaries" not in stock and stock["TotalResults"] == 12
    assert stock["Summaries"][0]["ItemIdentifier"]["Sku"] == "SKU-1" and stock["Summaries"][0]["FacilityId"] == 3


def test_with_the_hal_accept_the_answer_is_hal(api, wms):
    api.post("/orders", order_body("SO-HAL"))
    answer = api.get("/orders")
    assert answer["Content-Type"].startswith("application/hal+json")
    assert answer.json()["_embedded"][ORDER_REL][0]["readOnly"]["orderId"]
    assert "summaries" in api.get("/inventory/stocksummaries").json()


# ------------------------------------------------------------------ stock


def test_stock_summaries(api, wms):
    response = api.get("/inventory/stocksummaries", {"pgsiz": "5"})
    assert response.status_code == 200
    body = response.json()
    assert body["totalResults"] == 12 and len(body["summaries"]) == 5
    row = body["summaries"][0]
    assert {"itemIdentifier", "qualifier", "facilityId", "available", "onHand", "allocated"} <= set(row)
    assert row["itemIdentifier"]["sku"] == "SKU-1" and row["facilityId"] == 3
    assert row["onHand"] == row["available"] + row["allocated"]
    # No RQL property on stock summaries has a citable client, so every one is refused (stricter).
    for rql in ("customeridentifier.id==7", "itemIdentifier.sku==SKU-1", "facilityId==3"):
        refused = api.get("/inventory/stocksummaries", {"rql": rql})
        assert refused.status_code == 400 and refused.json()["Hint"].startswith("Properties not supported: ")
    assert api.get("/inventory/stocksummaries", {"pgsiz": "500"}).status_code == 200
    assert api.get("/inventory/stocksummaries", {"pgsiz": "501"}).status_code == 400


def test_stock_summaries_contain_another_customers_rows_in_the_same_facility(api, wms):
    other = seeding.add_other_customer_stock(wms, {"SKU-1": 900, "OTHER-9": 5})
    rows = api.get("/inventory/stocksummaries", {"pgsiz": "500"}).json()["summaries"]
    blue = [r for r in rows if r["itemIdentifier"]["sku"] == "SKU-1"]
    assert len(blue) == 2 and {r["facilityId"] for r in blue} == {3}, "same SKU name, same facility, two items"
    assert len({r["itemIdentifier"]["id"] for r in blue}) == 2
    assert all("customerIdentifier" not in r for r in rows), "a summary row names no customer"
    theirs = api.get(f"/customers/{other}/items", {"pgsiz": "100"}).json()
    assert sorted(i["sku"] for i in theirs["_embedded"][ITEM_REL]) == ["OTHER-9", "SKU-1"]


def test_customer_items_paged_hal_and_plain(client, api, wms):
    first = api.get("/customers/7/items").json()
    assert first["totalResults"] == 12 and len(first["_embedded"][ITEM_REL]) == 10, "default page size 10"
    assert "pgnum=2" in first["_links"]["next"]["href"]
    item = first["_embedded"][ITEM_REL][0]
    assert item["sku"] == "SKU-1" and isinstance(item["itemId"], int)
    assert item["readOnly"]["customerIdentifier"]["id"] == 7
    last = api.get("/customers/7/items", {"pgsiz": "100", "pgnum": "1"}).json()
    assert len(last["_embedded"][ITEM_REL]) == 12
    assert api.get("/customers/7/items", {"pgsiz": "101"}).status_code == 400
    assert api.get("/customers/7/items", {"rql": "sku==SKU-1"}).status_code == 400
    assert api.get("/customers/8/items").status_code == 404
    plain = _plain_get(client, "/customers/7/items", {"pgsiz": "5"}).json()
    assert plain["TotalResults"] == 12 and plain["ResourceList"][0]["Sku"] == "SKU-1"
    assert "_embedded" not in plain
