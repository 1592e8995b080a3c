"""Tests of connectors.warehouse_manager.client against `responses` stubs in the WMS's real wire formats
(HAL collections with rel-URL keys, `summaries`, .NET error bodies, offset-less timestamps)."""

from __future__ import annotations

import base64
import json
import pickle
import zlib
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import responses

from connectors.errors import AuthenticationError, MalformedResponse, NotFound, RequestRejected
from connectors.transport import oauth
from connectors.warehouse_manager.client import ORDER_REL, WarehouseManagerClient
from connectors.warehouse_manager.errors import DuplicateOrder, OrderNotCancellable, describe_wms_error
from connectors.warehouse_manager.wire import WmsOrder

BASE = "http://127.0.0.1:8999/sandbox/warehouse-manager"
TOKEN_URL = f"{BASE}/AuthServer/api/Token"
ORDERS_URL = f"{BASE}/orders"
STOCK_URL = f"{BASE}/inventory/stocksummaries"
CUSTOMER, FACILITY = 143, 10
EXC = "WMS.V2.Generic.Models.Exceptions."


def make_client(**kw) -> WarehouseManagerClient:
    options = dict(
        client_id="cid",
        client_secret="s3cret-value",
        user_login="integration",
        customer_id=CUSTOMER,
        facility_id=FACILITY,
        max_retries=0,
    )
    options.update(kw)
    return WarehouseManagerClient(BASE, **options)


def order_json(
    order_id=1002,
    ref="OM-1002",
    status=0,
    closed=False,
    modified="2026-09-09T22:00:10",
    packages=(),
    routing=None,
    ship_date=None,
):
    return {
        "readOnly": {
            "orderId": order_id,
            "status": status,
            "isClosed": closed,
            "lastModifiedDate": modified,
            "shipDate": ship_date,
            "creationDate": "2026-09-08T10:00:00",
            "packages": [
                {"packageId": 55000 + i, "trackingNumber": t, "packageContents": [{"orderItemId": 1, "qty": 1}]}
                for i, t in enumerate(packages)
            ],
            "customerIdentifier": {"id": CUSTOMER, "name": "Acme"},
            "facilityIdentifier": {"id": FACILITY, "name": "LAX"},
        },
        "referenceNum": ref,
        "routingInfo": routing if routing is not None else {"carrier": "UPS", "mode": "Ground", "scacCode": "UPSN"},
        "_links": {"self": {"href": f"/orders/{order_id}"}},
    }


def hal(orders, total=None, next_href=None):
    links = {"self": {"href": "/orders"}}
    if next_href:
        links["next"] = {"href": next_href}
    return {"totalResults": len(orders) if total is None else total, "_embedded": {ORDER_REL: orders}, "_links": links}


def net_error(kind, code, hint, **extra):
    return {"$type": f"{EXC}{kind}, WMS.V2.Generic.Models", "ErrorCode": code, "Hint": hint, **extra}


def query(call) -> dict[str, str]:
    """The call's query parameters, decoded once (as a web framework would)."""
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query, keep_blank_values=True).items()}


def api_calls(rsps, path_end):
    return [c for c in rsps.calls if urlsplit(c.request.url).path.endswith(path_end)]


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(
            responses.POST,
            TOKEN_URL,
            json={
                "access_token": "tok-1",
                "token_type": "Bearer",
                "expires_in": 3600,
                "refresh_token": None,
                "scope": None,
            },
        )
        yield mock


# --- authentication ---------------------------------------------------------------------------


def test_token_request_shape_and_caching(rsps, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(oauth, "_clock", lambda: now[0])
    rsps.add(responses.GET, f"{ORDERS_URL}/5", json=order_json(5), headers={"ETag": '"e1"'})
    client = make_client(tpl_key="ABCD-1234")
    client.get_order(5)
    client.get_order(5)
    tokens = api_calls(rsps, "/AuthServer/api/Token")
    assert len(tokens) == 1, "the token is cached between calls"
    request = tokens[0].request
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"cid:s3cret-value").decode()
    assert json.loads(request.body) == {
        "grant_type": "client_credentials",
        "user_login": "integration",
        "tpl": "{ABCD-1234}",
    }
    order_call = api_calls(rsps, "/orders/5")[0].request
    assert order_call.headers["Authorization"] == "Bearer tok-1"
    assert order_call.headers["Accept"] == "application/hal+json"

    now[0] += 3600 * 0.79
    client.get_order(5)
    assert len(api_calls(rsps, "/Token")) == 1
    now[0] += 3600 * 0.02  # past ~80% of expires_in: refreshed before it can expire mid-run
    client.get_order(5)
    assert len(api_calls(rsps, "/Token")) == 2


def test_token_body_names_the_user_by_login_id_when_configured(rsps):
    make_client(user_login=" 17 ", login_kind="user_login_id").authenticate()
    [call] = api_calls(rsps, "/AuthServer/api/Token")
    assert json.loads(call.request.body) == {"grant_type": "client_credentials", "user_login_id": "17"}


@pytest.mark.parametrize("kind, login", [("user_login_id", "integration"), ("user_login_id", ""), ("login", "x")])
def test_login_kind_is_checked_at_construction(kind, login):
    with pytest.raises(ValueError):
        make_client(user_login=login, login_kind=kind)


def test_no_tpl_sent_without_tpl_key(rsps):
    make_client().authenticate()
    assert "tpl" not in json.loads(api_calls(rsps, "/Token")[0].request.body)


def test_401_reauthenticates_once_and_retries(rsps):
    rsps.add(responses.GET, f"{ORDERS_URL}/5", status=401)
    rsps.add(responses.GET, f"{ORDERS_URL}/5", json=order_json(5), headers={"ETag": '"e1"'})
    order = make_client().get_order(5)
    assert order.order_id == 5
    assert len(api_calls(rsps, "/Token")) == 2
    assert len(api_calls(rsps, "/orders/5")) == 2


def test_401_twice_raises_authentication_error(rsps):
    rsps.add(responses.GET, f"{ORDERS_URL}/5", status=401)
    with pytest.raises(AuthenticationError) as info:
        make_client().get_order(5)
    assert info.value.status == 401
    assert len(api_calls(rsps, "/Token")) == 2, "re-authenticates once, not forever"
    assert len(api_calls(rsps, "/orders/5")) == 2


def test_token_endpoint_refusal_is_authentication_error_without_secrets():
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, TOKEN_URL, status=401, json={"error": "invalid_client"})
        with pytest.raises(AuthenticationError) as info:
            make_client().authenticate()
    assert "client id / client secret" in str(info.value)
    assert "s3cret-value" not in str(info.value) + info.value.body_excerpt


def test_token_answer_without_access_token_is_malformed():
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, TOKEN_URL, json={"token_type": "Bearer"})
        with pytest.raises(MalformedResponse, match="access_token"):
            make_client().authenticate()


def test_403_without_operation_exception_is_a_permissions_problem(rsps):
    rsps.add(responses.GET, f"{ORDERS_URL}/5", status=403, body="")
    with pytest.raises(AuthenticationError):
        make_client().get_order(5)


# --- create -----------------------------------------------------------------------------------

ORDER_PAYLOAD = {
    "referenceNum": "OM-1002",
    "shipTo": {
        "name": "Sam Buyer",
        "address1": "9 Elm Rd",
        "city": "Reno",
        "state": "NV",
        "zip": "89501",
        "country": "US",
    },
    "routingInfo": {"carrier": "UPS", "mode": "Ground"},
    "orderItems": [{"itemIdentifier": {"sku": "WIDGET-BLUE"}, "qty": 4}],
}


def test_create_order_payload_and_result(rsps):
    rsps.add(responses.POST, ORDERS_URL, status=201, json=order_json(1002, "OM-1002"), headers={"ETag": '"v1"'})
    caller_dict = dict(ORDER_PAYLOAD, customerIdentifier={"id": 999})
    order = make_client().create_order(caller_dict)
    sent = json.loads(api_calls(rsps, "/orders")[0].request.body)
    assert sent["customerIdentifier"] == {"id": CUSTOMER}, "the client's customer wins"
    assert sent["facilityIdentifier"] == {"id": FACILITY}
    assert sent["referenceNum"] == "OM-1002"
    assert sent["shipTo"]["city"] == "Reno"
    assert sent["orderItems"] == [{"itemIdentifier": {"sku": "WIDGET-BLUE"}, "qty": 4}]
    assert caller_dict["customerIdentifier"] == {"id": 999}, "the caller's dict is not mutated"
    assert (order.order_id, order.reference_num, order.status, order.etag) == (1002, "OM-1002", 0, '"v1"')


def test_create_order_needs_reference():
    with pytest.raises(ValueError):
        make_client().create_order({"orderItems": []})


def test_duplicate_reference_raises_duplicate_order_with_existing(rsps):
    rsps.add(
        responses.POST,
        ORDERS_URL,
        status=400,
        json=net_error(
            "ModelValidationException",
            "Duplicate",
            "referenceNum already used",
            ModelType=0,
            Properties=[{"Name": "ReferenceNum", "Value": "OM-1002"}],
        ),
    )
    rsps.add(responses.GET, ORDERS_URL, json=hal([order_json(777, "OM-1002")]))
    with pytest.raises(DuplicateOrder) as info:
        make_client().create_order(ORDER_PAYLOAD)
    assert info.value.existing is not None and info.value.existing.order_id == 777
    assert "777" in str(info.value)
    assert info.value.transient is False
    lookup = api_calls(rsps, "/orders")[-1]
    assert query(lookup)["rql"].startswith("referenceNum==OM-1002;")
    clone = pickle.loads(pickle.dumps(info.value))
    assert clone.existing == info.value.existing and clone.status == 400


def test_other_validation_error_is_request_rejected_in_plain_words(rsps):
    rsps.add(
        responses.POST,
        ORDERS_URL,
        status=400,
        json=net_error(
            "ModelValidationException",
            "Required",
            "ShipTo.Zip is required",
            Properties=[{"Name": "ShipTo.Zip", "Value": None}],
        ),
    )
    with pytest.raises(RequestRejected) as info:
        make_client().create_order(ORDER_PAYLOAD)
    message = str(info.value)
    assert "a required value is missing" in message
    assert "ShipTo.Zip is required" in message
    assert "ModelValidationException Required" in message
    assert "$type" not in message
    assert info.value.details["ErrorCode"] == "Required"


def test_describe_wms_error_uses_message_and_unknown_codes():
    text = describe_wms_error(
        400,
        {"$type": "X.QueryParameterException, X", "ErrorCode": "Weird", "Message": "Bad pgsiz"},
        action="list orders",
    )
    assert text.startswith("Warehouse Manager rejected the request while trying to list orders (HTTP 400)")
    assert "error code Weird" in text and "Bad pgsiz" in text
    assert describe_wms_error(500, "plain text") == "Warehouse Manager answered with an error (HTTP 500)."


# --- find by reference ------------------------------------------------------------------------


def test_find_by_reference_encodes_rql_values_and_scopes(rsps):
    ref = "A,B;C=D (1)/2 50%"
    # The server compares case-insensitively, so a near-miss comes back too; only the exact one counts.
    rsps.add(responses.GET, ORDERS_URL, json=hal([order_json(1, ref.lower()), order_json(2, ref)]))
    found = make_client().find_order_by_reference(ref)
    assert found is not None and found.order_id == 2
    call = api_calls(rsps, "/orders")[0]
    raw_query = urlsplit(call.request.url).query
    assert "%252C" in raw_query and "%253B" in raw_query, "special characters are encoded twice on the wire"
    rql = query(call)["rql"]
    clauses = rql.split(";")
    assert clauses[1:] == [f"readOnly.customerIdentifier.id=={CUSTOMER}", f"readOnly.facilityIdentifier.id=={FACILITY}"]
    field, _, value = clauses[0].partition("==")
    assert field == "referenceNum" and unquote(value) == ref
    assert query(call)["detail"] == "All"


def test_find_by_reference_prefers_live_order_and_none_when_missing(rsps):
    rsps.add(responses.GET, ORDERS_URL, json=hal([order_json(9, "R1"), order_json(3, "R1", status=2)]))
    rsps.add(responses.GET, ORDERS_URL, json=hal([]))
    client = make_client()
    assert client.find_order_by_reference("R1").order_id == 9
    assert client.find_order_by_reference("R2") is None


@pytest.mark.parametrize(
    "block, other",
    [
        ("customerIdentifier", {"id": CUSTOMER + 1}),
        ("facilityIdentifier", {"id": FACILITY + 1}),
        ("customerIdentifier", None),
    ],
)
@pytest.mark.parametrize("call", ["lookup", "poll", "get"])
def test_order_of_another_customer_or_facility_fails_loudly(rsps, block, other, call):
    """A server that ignored the RQL scope must not slip another tenant's order in (WMS-4 guard)."""
    foreign = order_json(5, "R1")
    if other is None:
        del foreign["readOnly"][block]
    else:
        foreign["readOnly"][block] = other
    rsps.add(responses.GET, ORDERS_URL, json=hal([order_json(4, "R1"), foreign]))
    rsps.add(responses.GET, f"{ORDERS_URL}/5", json=foreign)
    client = make_client()
    with pytest.raises(MalformedResponse, match=rf"order 5 with readOnly\.{block}\.id"):
        if call == "lookup":
            client.find_order_by_reference("R1")
        elif call == "poll":
            list(client.iter_orders_modified_since(datetime(2026, 9, 1, tzinfo=UTC)))
        else:
            client.get_order(5)


def test_query_parameter_exception_names_the_refused_property():
    body = net_error(
        "QueryParameterException",
        "NotParsable",
        "Properties not supported: gorp",
        Parameters=["rql"],
        Properties=[{"Name": "gorp", "Value": None}],
    )
    text = describe_wms_error(400, body, action="list modified orders")
    assert "field: gorp" in text and "Properties not supported: gorp" in text
    assert "QueryParameterException NotParsable" in text


@pytest.mark.parametrize(
    "po_num, read",
    [("4711", "4711"), (4711, "4711"), (" 12 ", "12"), (None, ""), (True, ""), ({"id": 1}, ""), ("", "")],
)
def test_po_num_is_read_as_text_and_anything_else_as_none(rsps, po_num, read):
    """poNum carries the Order Manager order id (it tells same-numbered orders of two channels apart)."""
    body = order_json(9, "R1")
    body["poNum"] = po_num
    rsps.add(responses.GET, ORDERS_URL, json=hal([body]))
    assert make_client().find_order_by_reference("R1").po_num == read


# --- cancel -----------------------------------------------------------------------------------


def test_cancel_sends_if_match_with_fresh_etag(rsps):
    rsps.add(responses.GET, f"{ORDERS_URL}/42", json=order_json(42), headers={"ETag": '"etag-7"'})
    rsps.add(responses.POST, f"{ORDERS_URL}/42/canceler", status=204)
    assert make_client().cancel_order(42, "Cancelled in Order Manager") == "cancelled"
    cancel = api_calls(rsps, "/canceler")[0].request
    assert cancel.headers["If-Match"] == '"etag-7"'
    assert json.loads(cancel.body) == {"reason": "Cancelled in Order Manager"}


def test_cancel_412_rereads_and_retries_once(rsps):
    rsps.add(responses.GET, f"{ORDERS_URL}/42", json=order_json(42), headers={"ETag": '"old"'})
    rsps.add(responses.GET, f"{ORDERS_URL}/42", json=order_json(42), headers={"ETag": '"new"'})
    rsps.add(responses.POST, f"{ORDERS_URL}/42/canceler", status=412)
    rsps.add(responses.POST, f"{ORDERS_URL}/42/canceler", status=204)
    assert make_client().cancel_order(42, "r") == "cancelled"
    assert [c.request.headers["If-Match"] for c in api_calls(rsps, "/canceler")] == ['"old"', '"new"']


def test_cancel_412_twice_is_rejected(rsps):
    rsps.add(responses.GET, f"{ORDERS_URL}/42", json=order_json(42), headers={"ETag": '"e"'})
    rsps.add(responses.POST, f"{ORDERS_URL}/42/canceler", status=412)
    with pytest.raises(RequestRejected) as info:
        make_client().cancel_order(42, "r")
    assert info.value.status == 412 and "ETag" in str(info.value)
    assert len(api_calls(rsps, "/canceler")) == 2


def test_cancel_closed_order_is_not_cancellable_without_calling_canceler(rsps):
    rsps.add(
        responses.GET,
        f"{ORDERS_URL}/42",
        json=order_json(42, status=1, closed=True, packages=["1Z1"]),
        headers={"ETag": '"e"'},
    )
    with pytest.raises(OrderNotCancellable) as info:
        make_client().cancel_order(42, "r")
    assert info.value.reason == "closed/shipped"
    assert api_calls(rsps, "/canceler") == []


def test_cancel_already_cancelled(rsps):
    rsps.add(responses.GET, f"{ORDERS_URL}/42", json=order_json(42, status=2), headers={"ETag": '"e"'})
    assert make_client().cancel_order(42, "r") == "already_cancelled"
    assert api_calls(rsps, "/canceler") == []


def test_cancel_403_operation_exception(rsps):
    rsps.add(responses.GET, f"{ORDERS_URL}/42", json=order_json(42), headers={"ETag": '"e"'})
    rsps.add(
        responses.POST,
        f"{ORDERS_URL}/42/canceler",
        status=403,
        json=net_error(
            "OperationException", "OrderConfirmed", "Order is confirmed", ActionNameType=0, ActionName="canceler"
        ),
    )
    with pytest.raises(OrderNotCancellable) as info:
        make_client().cancel_order(42, "r")
    assert info.value.reason == "the order is already closed (shipped)"
    assert "Order is confirmed" in str(info.value)
    assert pickle.loads(pickle.dumps(info.value)).reason == info.value.reason


def test_cancel_403_order_canceled_means_already_cancelled(rsps):
    rsps.add(responses.GET, f"{ORDERS_URL}/42", json=order_json(42), headers={"ETag": '"e"'})
    rsps.add(
        responses.POST,
        f"{ORDERS_URL}/42/canceler",
        status=403,
        json=net_error("OperationException", "OrderCanceled", "Already canceled"),
    )
    assert make_client().cancel_order(42, "r") == "already_cancelled"


def test_cancel_unknown_order_is_not_found(rsps):
    rsps.add(responses.GET, f"{ORDERS_URL}/42", status=404)
    with pytest.raises(NotFound):
        make_client().cancel_order(42, "r")


# --- modified orders, tracking, time zones, paging --------------------------------------------


def test_closed_orders_tracking_from_packages_and_routing_fallback(rsps):
    multi = order_json(
        1,
        "R1",
        status=1,
        closed=True,
        packages=["1ZA", "1ZB", "1ZA", " "],
        routing={"carrier": "UPS", "mode": "Ground", "scacCode": "UPSN", "trackingNumber": "IGNORED"},
        ship_date="2026-09-09T17:00:00",
    )
    single = order_json(
        2,
        "R2",
        status=1,
        closed=True,
        routing={"carrier": "FedEx", "mode": "Home", "scacCode": "FDXH", "trackingNumber": "7489"},
    )
    rsps.add(responses.GET, ORDERS_URL, json=hal([multi, single]))
    orders = list(make_client().iter_orders_modified_since(datetime(2026, 9, 1, tzinfo=UTC)))
    assert [o.tracking_numbers for o in orders] == [["1ZA", "1ZB"], ["7489"]]
    assert (orders[0].carrier, orders[0].service, orders[0].scac) == ("UPS", "Ground", "UPSN")
    assert orders[1].carrier == "FedEx" and orders[0].is_closed
    assert orders[0].ship_date == datetime(2026, 9, 9, 17, tzinfo=UTC)
    params = query(api_calls(rsps, "/orders")[0])
    assert params["rql"] == (
        "readOnly.lastModifiedDate=ge=2026-09-01T00%3A00%3A00;"
        f"readOnly.customerIdentifier.id=={CUSTOMER};readOnly.facilityIdentifier.id=={FACILITY}"
    )
    assert (params["sort"], params["detail"], params["pgsiz"], params["pgnum"]) == (
        "readOnly.lastModifiedDate",
        "All",
        "100",
        "1",
    )


def test_closed_order_without_ship_date_falls_back_to_process_date(rsps):
    closed = order_json(1, "R1", status=1, closed=True, packages=["1ZA"])
    closed["readOnly"]["processDate"] = "2026-09-09T15:30:00"
    shipped = order_json(2, "R2", status=1, closed=True, ship_date="2026-09-10T08:00:00")
    shipped["readOnly"]["processDate"] = "2026-09-09T15:30:00"
    still_open = order_json(3, "R3")
    still_open["readOnly"]["processDate"] = "2026-09-09T15:30:00"
    rsps.add(responses.GET, ORDERS_URL, json=hal([closed, shipped, still_open]))
    orders = list(make_client().iter_orders_modified_since(datetime(2026, 9, 1, tzinfo=UTC)))
    assert [o.ship_date for o in orders] == [
        datetime(2026, 9, 9, 15, 30, tzinfo=UTC),
        datetime(2026, 9, 10, 8, tzinfo=UTC),
        None,
    ]


def test_facility_time_zone_across_dst(rsps):
    client = make_client(facility_time_zone="America/Chicago")
    rsps.add(
        responses.GET,
        ORDERS_URL,
        json=hal(
            [
                order_json(1, modified="2026-03-08T01:30:00"),  # CST, UTC-6
                order_json(2, modified="2026-03-08T03:30:00.1234567"),  # CDT, UTC-5 (.NET 7-digit fraction)
                order_json(3, modified="2026-03-08T09:00:00Z"),  # an explicit offset is honoured
            ]
        ),
    )
    orders = list(client.iter_orders_modified_since(datetime(2026, 3, 8, 7, 0, tzinfo=UTC)))
    assert [o.last_modified for o in orders] == [
        datetime(2026, 3, 8, 7, 30, tzinfo=UTC),
        datetime(2026, 3, 8, 8, 30, 0, 123456, tzinfo=UTC),
        datetime(2026, 3, 8, 9, 0, tzinfo=UTC),
    ]
    assert all(o.last_modified.tzinfo is UTC for o in orders)
    since = unquote(query(api_calls(rsps, "/orders")[0])["rql"].split(";")[0].split("=ge=")[1])
    assert since == "2026-03-08T01:00:00", "the filter is sent as facility-local wall-clock time"

    # After the spring-forward jump the offset is -5.
    assert client.format_filter_timestamp(datetime(2026, 3, 8, 8, 0, tzinfo=UTC)) == "2026-03-08T03:00:00"
    # First occurrence of the repeated hour when DST ends: lowered by the shift so nothing is missed.
    assert client.format_filter_timestamp(datetime(2026, 11, 1, 6, 30, tzinfo=UTC)) == "2026-11-01T00:30:00"
    # Second occurrence: sent as is.
    assert client.format_filter_timestamp(datetime(2026, 11, 1, 7, 30, tzinfo=UTC)) == "2026-11-01T01:30:00"
    with pytest.raises(ValueError):
        client.format_filter_timestamp(datetime(2026, 3, 8))


def test_unknown_time_zone_is_rejected():
    with pytest.raises(ValueError, match="time zone"):
        make_client(facility_time_zone="Central Standard Time")


def test_paging_by_total_results(rsps):
    rsps.add(responses.GET, ORDERS_URL, json=hal([order_json(1), order_json(2)], total=5))
    rsps.add(responses.GET, ORDERS_URL, json=hal([order_json(3), order_json(4)], total=5))
    rsps.add(responses.GET, ORDERS_URL, json=hal([order_json(5), order_json(4)], total=5))
    orders = list(make_client().iter_orders_modified_since(datetime(2026, 1, 1, tzinfo=UTC), page_size=2))
    assert [o.order_id for o in orders] == [1, 2, 3, 4, 5], "an order seen twice unchanged is yielded once"
    assert [query(c)["pgnum"] for c in api_calls(rsps, "/orders")] == ["1", "2", "3"]
    assert {query(c)["pgsiz"] for c in api_calls(rsps, "/orders")} == {"2"}


def test_paging_follows_links_next(rsps):
    rsps.add(responses.GET, ORDERS_URL, json=hal([order_json(1)], total=1, next_href="/orders?pgnum=2"))
    rsps.add(responses.GET, ORDERS_URL, json=hal([order_json(2)], total=2))
    orders = list(make_client().iter_orders_modified_since(datetime(2026, 1, 1, tzinfo=UTC), page_size=1))
    assert [o.order_id for o in orders] == [1, 2]


def test_repeating_page_is_malformed(rsps):
    rsps.add(responses.GET, ORDERS_URL, json=hal([order_json(1), order_json(2)], total=10))
    with pytest.raises(MalformedResponse, match="same orders"):
        list(make_client().iter_orders_modified_since(datetime(2026, 1, 1, tzinfo=UTC), page_size=2))
    assert len(api_calls(rsps, "/orders")) == 2


def test_endless_next_links_past_total_are_malformed(rsps):
    for n in range(1, 6):
        rsps.add(responses.GET, ORDERS_URL, json=hal([order_json(n)], total=1, next_href="/orders?more"))
    with pytest.raises(MalformedResponse, match="past its totalResults"):
        list(make_client().iter_orders_modified_since(datetime(2026, 1, 1, tzinfo=UTC), page_size=1))


@pytest.mark.parametrize(
    "body, message",
    [
        ({"_embedded": {ORDER_REL: []}}, "totalResults"),
        ({"totalResults": 1, "_embedded": {"http://api.3plCentral.com/rels/orders/item": [{}]}}, "found: "),
        (
            {"totalResults": 1, "_embedded": {ORDER_REL: {"orderId": 1}}},
            r"_embedded\['.*'\]: expected a list, got an object",
        ),
        ({"totalResults": 1}, "GET /orders \\(modified since\\) answer is malformed: _embedded: missing"),
        ({"totalResults": 0, "_links": {}}, "_embedded: missing"),
        ({"totalResults": -1, "_embedded": {ORDER_REL: []}}, "totalResults: expected an integer of 0 or more, got -1"),
        (
            {"totalResults": "1", "_embedded": {ORDER_REL: []}},
            "totalResults: expected an integer of 0 or more, got text '1'",
        ),
        ({"TotalResults": 0}, "ResourceList: missing"),
        ({"TotalResults": 1, "ResourceList": {"OrderId": 1}}, "ResourceList: expected a list, got an object"),
        ({"Orders": []}, "neither '_embedded' \\(HAL\\) nor 'ResourceList'"),
        (hal([{"referenceNum": "x"}]), "readOnly"),
        (hal([dict(order_json(1), readOnly={"orderId": "1"})]), "orderId"),
        (hal([order_json(1, modified="yesterday")]), "lastModifiedDate"),
        (
            hal([order_json(1, status=7)]),
            r"order 1 .*: readOnly\.status: expected 0 \(Open\), 1 \(Closed\) or 2 \(Canceled\), got 7",
        ),
        (
            hal([order_json(1, status="1")]),
            r"readOnly\.status: expected 0 \(Open\), 1 \(Closed\) or 2 \(Canceled\), got text '1'",
        ),
        (hal([order_json(1, closed=None)]), r"readOnly\.isClosed: expected true or false, got null"),
        (hal([dict(order_json(1), referenceNum=5)]), "referenceNum: expected text, got 5"),
        (hal([dict(order_json(1), routingInfo="UPS")]), "routingInfo: expected an object, got text 'UPS'"),
        (
            hal([dict(order_json(1), readOnly=dict(order_json(1)["readOnly"], packages={"a": 1}))]),
            "readOnly.packages: expected a list",
        ),
        (
            hal([dict(order_json(1), readOnly=dict(order_json(1)["readOnly"], packages=["1Z"]))]),
            r"readOnly\.packages\[0\]: expected an object",
        ),
        ([], "answer is malformed: expected an object, got an empty list"),
    ],
)
def test_malformed_order_lists(rsps, body, message):
    rsps.add(responses.GET, ORDERS_URL, json=body)
    with pytest.raises(MalformedResponse, match=message):
        list(make_client().iter_orders_modified_since(datetime(2026, 1, 1, tzinfo=UTC)))


def test_html_instead_of_json_is_malformed(rsps):
    rsps.add(responses.GET, f"{ORDERS_URL}/5", body="<html>login</html>", content_type="text/html")
    with pytest.raises(MalformedResponse, match="HTML"):
        make_client().get_order(5)


def test_get_order_returns_wms_order_with_etag(rsps):
    rsps.add(responses.GET, f"{ORDERS_URL}/5", json=order_json(5, "R5"), headers={"ETag": 'W/"abc"'})
    order = make_client().get_order(5)
    assert order == WmsOrder(
        order_id=5,
        reference_num="R5",
        status=0,
        is_closed=False,
        etag='W/"abc"',
        last_modified=datetime(2026, 9, 9, 22, 0, 10, tzinfo=UTC),
        ship_date=None,
        tracking_numbers=[],
        carrier="UPS",
        service="Ground",
        scac="UPSN",
    )


# --- stock ------------------------------------------------------------------------------------

ITEMS_URL = f"{BASE}/customers/{CUSTOMER}/items"
ITEM_REL = "http://api.3plCentral.com/rels/customers/item"


def item_id(sku, customer=CUSTOMER):
    """A stable item id per (customer, SKU): another customer's same-named SKU is another item."""
    return zlib.crc32(f"{customer}/{sku}".encode()) % 10**7 + 1


def stock_row(sku, available, facility=FACILITY, qualifier="", customer=CUSTOMER):
    return {
        "itemIdentifier": {"sku": sku, "id": item_id(sku, customer)},
        "qualifier": qualifier,
        "totalReceived": 300,
        "allocated": 0,
        "available": available,
        "onHold": 0,
        "onHand": 999,
        "facilityId": facility,
    }


def add_items(rsps, skus, *, plain=False):
    """`GET /customers/{CUSTOMER}/items` answering this customer's items, paged by pgsiz/pgnum."""
    skus = list(skus)

    def answer(request):
        params = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        size, number = int(params["pgsiz"]), int(params["pgnum"])
        page = [
            {"itemId": item_id(sku), "sku": sku, "readOnly": {"deactivated": False}}
            for sku in skus[(number - 1) * size : number * size]
        ]
        if plain:
            return (
                200,
                {},
                json.dumps(
                    {
                        "TotalResults": len(skus),
                        "ResourceList": [
                            {"ItemId": i["itemId"], "Sku": i["sku"], "ReadOnly": {"Deactivated": False}} for i in page
                        ],
                    }
                ),
            )
        return 200, {}, json.dumps({"totalResults": len(skus), "_embedded": {ITEM_REL: page}})

    rsps.add_callback(responses.GET, ITEMS_URL, callback=answer, content_type="application/json")


def test_stock_summed_over_qualifiers_other_facilities_ignored_and_paged(rsps):
    page1 = [stock_row(f"SKU-{i}", 1) for i in range(498)] + [
        stock_row("BLUE", 10),
        stock_row("BLUE", 5, qualifier="DMG"),
    ]
    page2 = [stock_row("BLUE", 7, facility=99), stock_row("RED", 2.0), stock_row("HALF", 2.5)]
    rsps.add(responses.GET, STOCK_URL, json={"totalResults": 503, "summaries": page1})
    rsps.add(responses.GET, STOCK_URL, json={"totalResults": 503, "summaries": page2})
    add_items(rsps, [f"SKU-{i}" for i in range(498)] + ["BLUE", "RED", "HALF"])
    stock = make_client().stock_available()
    assert stock["BLUE"] == 15
    assert stock["RED"] == 2 and isinstance(stock["RED"], int)
    assert stock["HALF"] == 2, "fractional totals are rounded down to whole units"
    assert len(stock) == 501
    calls = api_calls(rsps, "/inventory/stocksummaries")
    assert [query(c)["pgnum"] for c in calls] == ["1", "2"]
    assert query(calls[0])["pgsiz"] == "500"
    assert "rql" not in query(calls[0]), "no customer RQL: stock summary rows have no customer field"
    item_pages = api_calls(rsps, f"/customers/{CUSTOMER}/items")
    assert [(query(c)["pgsiz"], query(c)["pgnum"]) for c in item_pages] == [("100", str(n)) for n in range(1, 7)]


def test_stock_other_facility_only_yields_nothing(rsps):
    rsps.add(responses.GET, STOCK_URL, json={"totalResults": 1, "summaries": [stock_row("BLUE", 3, facility=11)]})
    add_items(rsps, ["BLUE"])
    assert make_client().stock_available() == {}


@pytest.mark.parametrize("plain", [False, True])
def test_stock_of_another_customers_same_named_sku_is_never_counted(rsps, plain):
    """Same facility, same SKU name, another customer's item: not this tenant's stock (WMS-7 guard)."""
    rows = [
        stock_row("BLUE", 4),
        stock_row("BLUE", 500, customer=CUSTOMER + 1),
        stock_row("GREEN", 9, customer=CUSTOMER + 1),
    ]
    rsps.add(responses.GET, STOCK_URL, json={"totalResults": 3, "summaries": rows})
    add_items(rsps, ["BLUE", "RED"], plain=plain)
    report = make_client().stock_report()
    assert report.available == {"BLUE": 4}
    assert report.other_customer_rows == 2


def test_stock_with_an_empty_item_master_fails_loudly(rsps):
    rsps.add(responses.GET, STOCK_URL, json={"totalResults": 1, "summaries": [stock_row("BLUE", 4)]})
    add_items(rsps, [])
    with pytest.raises(MalformedResponse, match=f"no items for customer {CUSTOMER}"):
        make_client().stock_available()


@pytest.mark.parametrize(
    "body, message",
    [
        ({"totalResults": 1}, "GET /customers/143/items answer is malformed: _embedded: missing"),
        ({"totalResults": 1, "_embedded": {ITEM_REL: [{"sku": "BLUE"}]}}, r"items\[0\]\.itemId: missing"),
        (
            {"totalResults": 1, "_embedded": {ITEM_REL: [{"itemId": "5", "sku": "BLUE"}]}},
            "itemId: expected an integer, got text '5'",
        ),
        ({"TotalResults": 1, "ResourceList": [{"ItemId": 5}]}, r"items\[0\]\.sku: missing"),
        (
            {"TotalResults": 1, "ResourceList": [{"ItemId": 5, "Sku": " "}]},
            r"items\[0\]\.sku: expected non-blank text, got blank text",
        ),
    ],
)
def test_malformed_item_lists(rsps, body, message):
    rsps.add(responses.GET, ITEMS_URL, json=body)
    with pytest.raises(MalformedResponse, match=message):
        make_client().customer_items()


def test_stock_row_without_item_id_is_malformed(rsps):
    row = stock_row("BLUE", 1)
    del row["itemIdentifier"]["id"]
    rsps.add(responses.GET, STOCK_URL, json={"totalResults": 1, "summaries": [row]})
    add_items(rsps, ["BLUE"])
    with pytest.raises(MalformedResponse, match="itemIdentifier.id"):
        make_client().stock_available()


@pytest.mark.parametrize(
    "row, message",
    [
        (stock_row("BLUE", -1), "SKU BLUE"),
        (stock_row("BLUE", "7"), "SKU BLUE"),
        (stock_row("BLUE", None), "SKU BLUE"),
        (stock_row("BLUE", True), "SKU BLUE"),
        (dict(stock_row("BLUE", 1), facilityId=None), "facilityId"),
        ({"available": 1, "facilityId": FACILITY}, r"summaries\[0\]\.itemIdentifier: missing"),
        (
            dict(stock_row("BLUE", 1), itemIdentifier={"sku": "", "id": 1}),
            r"itemIdentifier\.sku: expected non-blank text",
        ),
        ("BLUE", r"summaries\[0\]: expected an object, got text 'BLUE'"),
    ],
)
def test_stock_bad_rows_are_malformed(rsps, row, message):
    rsps.add(responses.GET, STOCK_URL, json={"totalResults": 1, "summaries": [row]})
    add_items(rsps, ["BLUE"])
    with pytest.raises(MalformedResponse, match=message):
        make_client().stock_available()


@pytest.mark.parametrize(
    "body",
    [{"totalResults": 3, "_embedded": {"item": []}}, {"totalResults": 0}, {"TotalResults": 0}, {"ResourceList": []}],
)
def test_stock_answer_without_summaries_is_malformed(rsps, body):
    rsps.add(responses.GET, STOCK_URL, json=body)
    add_items(rsps, ["BLUE"])
    with pytest.raises(MalformedResponse, match="GET /inventory/stocksummaries answer .*[sS]ummaries"):
        make_client().stock_available()


def pascal(data):
    """The plain-JSON (no HAL Accept) twin of a HAL camelCase body, as Airbyte/tap-3plcentral read it."""
    if isinstance(data, list):
        return [pascal(v) for v in data]
    if isinstance(data, dict):
        return {k[:1].upper() + k[1:]: pascal(v) for k, v in data.items() if k != "_links"}
    return data


def test_plain_json_pascal_case_answers_are_read_too(rsps):
    """The client asks for HAL explicitly but reads plain PascalCase JSON if that is what comes back."""
    closed = order_json(7, "R7", status=1, closed=True, packages=["1ZP"], ship_date="2026-09-09T17:00:00")
    rsps.add(responses.GET, ORDERS_URL, json={"TotalResults": 1, "ResourceList": [pascal(closed)]})
    rsps.add(responses.GET, f"{ORDERS_URL}/7", json=pascal(closed), headers={"ETag": '"e7"'})
    rsps.add(responses.GET, STOCK_URL, json={"TotalResults": 1, "Summaries": [pascal(stock_row("BLUE", 4))]})
    add_items(rsps, ["BLUE"], plain=True)
    client = make_client()
    [order] = list(client.iter_orders_modified_since(datetime(2026, 9, 1, tzinfo=UTC)))
    assert (order.order_id, order.reference_num, order.tracking_numbers, order.is_closed) == (7, "R7", ["1ZP"], True)
    assert order.ship_date == datetime(2026, 9, 9, 17, tzinfo=UTC)
    assert client.get_order(7).etag == '"e7"'
    assert client.stock_available() == {"BLUE": 4}
    assert {c.request.headers["Accept"] for c in rsps.calls if "/AuthServer/" not in c.request.url} == {
        "application/hal+json"
    }


def test_stock_repeating_page_is_malformed(rsps):
    rows = [stock_row(f"S{i}", 1) for i in range(500)]
    rsps.add(responses.GET, STOCK_URL, json={"totalResults": 5000, "summaries": rows})
    add_items(rsps, [f"S{i}" for i in range(500)])
    with pytest.raises(MalformedResponse, match="same stock rows"):
        make_client().stock_available()


def test_arguments_are_checked_at_call_time():
    client = make_client()
    with pytest.raises(ValueError):
        client.iter_orders_modified_since(datetime(2026, 1, 1))  # naive: no network call, no iteration needed
    with pytest.raises(ValueError):
        client.iter_orders_modified_since(datetime(2026, 1, 1, tzinfo=UTC), page_size=1001)
    with pytest.raises(ValueError):
        client.find_order_by_reference("")
