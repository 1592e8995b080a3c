"""tenants.clients: clients built from a connection's decrypted credentials and the settings timeout,
and the CallRecorder that counts a run's calls and 429s and keeps a capped, redacted log."""

import base64
import json

import pytest
import responses

from connectors.order_manager.client import OrderManagerClient
from connectors.transport import CallRecord
from connectors.warehouse_manager.client import WarehouseManagerClient
from tenants import clients
from tests import factories


def record(status=200, error="", path="/v1/warehouses"):
    return CallRecord("GET", path, status, 12.345, error)


def test_recorder_counts_every_call_and_429s_and_caps_what_it_keeps(monkeypatch):
    monkeypatch.setattr(clients, "MAX_CALLS_KEPT", 3)
    recorder = clients.CallRecorder()
    for status in (200, 429, 429, 500, 200):
        recorder(record(status, error="" if status == 200 else f"HTTP {status}"))
    recorder(record(None, error="connection refused"))
    assert (recorder.requests, recorder.rate_limited) == (6, 2)
    assert recorder.calls == [
        {"method": "GET", "path": "/v1/warehouses", "status": 200, "ms": 12.3},
        {"method": "GET", "path": "/v1/warehouses", "status": 429, "ms": 12.3, "error": "HTTP 429"},
        {"method": "GET", "path": "/v1/warehouses", "status": 429, "ms": 12.3, "error": "HTTP 429"},
    ]


def test_default_cap():
    recorder = clients.CallRecorder()
    for _ in range(clients.MAX_CALLS_KEPT + 5):
        recorder(record())
    assert recorder.requests == clients.MAX_CALLS_KEPT + 5 and len(recorder.calls) == clients.MAX_CALLS_KEPT


@pytest.mark.django_db
def test_order_manager_client_uses_the_decrypted_token_timeout_and_recorder(settings):
    settings.HUB_HTTP_TIMEOUT = (2.5, 7.0)
    connection = factories.OrderManagerConnectionFactory(base_url="https://om.example.test", access_token="app-token-1")
    recorder = clients.CallRecorder()
    client = clients.order_manager(connection, recorder)
    assert isinstance(client, OrderManagerClient)
    assert client.http.timeout == (2.5, 7.0)
    with responses.RequestsMock() as rsps:
        rsps.add("GET", "https://om.example.test/v1/warehouses", json=[{"warehouseId": 1, "name": "Main"}])
        client.list_warehouses()
        assert rsps.calls[0].request.headers["Authorization"] == "Bearer app-token-1"
    assert recorder.requests == 1 and [c["path"] for c in recorder.calls] == ["/v1/warehouses"]
    assert "app-token-1" not in json.dumps(recorder.calls)


@pytest.mark.django_db
def test_warehouse_manager_client_from_the_connections_warehouse(settings):
    settings.HUB_HTTP_TIMEOUT = (1.5, 4.0)
    warehouse = factories.WarehouseFactory(
        wms_base_url="https://wms.example.test",
        client_id="cid-9",
        client_secret="wms-s3cret",
        user_login="integ",
        tpl_key="ABCD",
        customer_id=143,
        facility_id=10,
        facility_time_zone="America/Chicago",
    )
    connection = factories.OrderManagerConnectionFactory(warehouse=warehouse)
    recorder = clients.CallRecorder()
    client = clients.warehouse_manager(connection, recorder)
    assert isinstance(client, WarehouseManagerClient)
    assert (client.customer_id, client.facility_id, str(client.facility_tz)) == (143, 10, "America/Chicago")
    assert client.http.timeout == (1.5, 4.0)
    with responses.RequestsMock() as rsps:
        rsps.add(
            "POST",
            "https://wms.example.test/AuthServer/api/Token",
            json={"access_token": "wtok", "token_type": "Bearer", "expires_in": 3600},
        )
        client.authenticate()
        request = rsps.calls[0].request
        assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"cid-9:wms-s3cret").decode()
        assert json.loads(request.body) == {"grant_type": "client_credentials", "user_login": "integ", "tpl": "{ABCD}"}
    assert recorder.requests == 1 and recorder.calls[0]["path"] == "/AuthServer/api/Token"
    assert "wms-s3cret" not in repr(client)


@pytest.mark.django_db
def test_warehouse_manager_client_sends_the_warehouses_login_kind():
    warehouse = factories.WarehouseFactory(
        wms_base_url="https://wms.example.test", user_login="31", wms_login_kind="user_login_id"
    )
    client = clients.warehouse_manager_for_warehouse(warehouse)
    with responses.RequestsMock() as rsps:
        rsps.add(
            "POST",
            "https://wms.example.test/AuthServer/api/Token",
            json={"access_token": "wtok", "token_type": "Bearer", "expires_in": 3600},
        )
        client.authenticate()
        body = json.loads(rsps.calls[0].request.body)
    assert body["user_login_id"] == "31" and "user_login" not in body


# ------------------------------------------------------------------ pacing from the throttle limits

OM_BASE = "https://om.example.test"


def limit(restore=None, hourly=None, burst=None, path="/v1.1/orders"):
    config = {
        k: v
        for k, v in {"quotaRestoreRate": restore, "quotaMaxRequestHourly": hourly, "quotaMaxRequest": burst}.items()
        if v is not None
    }
    return {"requestMethod": "GET", "requestPath": path, "notes": "", "throttleConfig": config}


# How the rate is read from the limits: tests/test_order_manager_answers.py (throttle_rate).


def om_client(recorder=None):
    return OrderManagerClient(OM_BASE, access_token="app-token", on_call=recorder, timeout=(1, 1), max_retries=0)


@responses.activate
def test_apply_throttle_limits_paces_the_client_at_the_published_rate():
    responses.get(f"{OM_BASE}/v1/throttlelimits", json=[limit(restore=8, hourly=36000, burst=8)])
    client = om_client()
    assert clients.apply_throttle_limits(client) == 8.0
    assert client.http.requests_per_second == 8.0


@responses.activate
def test_limits_the_service_does_not_offer_leave_the_client_unpaced():
    responses.get(f"{OM_BASE}/v1/throttlelimits", status=404, json={"message": "no such endpoint"})
    client = om_client()
    assert clients.apply_throttle_limits(client) is None
    assert client.http.requests_per_second is None


@pytest.mark.parametrize("status", [401, 503])
@responses.activate
def test_rejected_credentials_and_transient_failures_raise_as_the_first_call_would(status):
    from connectors.errors import AuthenticationError, TransientError

    responses.get(f"{OM_BASE}/v1/throttlelimits", status=status, json={"message": "no"})
    with pytest.raises(AuthenticationError if status == 401 else TransientError):
        clients.apply_throttle_limits(om_client())


def test_stand_in_clients_are_left_alone():
    assert clients.apply_throttle_limits(object()) is None


# ------------------------------------------------------------------ concurrency


def test_recorder_counts_every_call_from_eight_threads():
    import threading

    recorder = clients.CallRecorder()
    start = threading.Barrier(8)

    def report():
        start.wait()
        for i in range(2000):
            recorder(record(429 if i % 10 == 0 else 200))

    threads = [threading.Thread(target=report) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (recorder.requests, recorder.rate_limited) == (16000, 1600)
    assert len(recorder.calls) == clients.MAX_CALLS_KEPT


def test_a_recorder_pickles_with_a_fresh_lock():
    import pickle

    recorder = clients.CallRecorder()
    recorder(record())
    copy = pickle.loads(pickle.dumps(recorder))
    copy(record(429))
    assert (copy.requests, copy.rate_limited, recorder.requests) == (2, 1, 1)


@pytest.mark.django_db
def test_the_wms_client_takes_the_logins_limiter_and_a_pool_for_the_concurrency(settings):
    from tenants import wms_limits

    settings.HUB_WMS_CONCURRENCY_CAP = 24
    warehouse = factories.WarehouseFactory(wms_base_url="https://wms.example.test")
    client = clients.warehouse_manager_for_warehouse(warehouse)
    assert client.http.limiter is wms_limits.limiter_for_warehouse(warehouse)
    adapter = client.http.session.get_adapter("https://wms.example.test")
    assert adapter.poolmanager.connection_pool_kw["maxsize"] == 24
    settings.HUB_WMS_CONCURRENCY_CAP = 4
    small = clients.warehouse_manager_for_warehouse(warehouse)
    assert small.http.session.get_adapter("https://wms.example.test").poolmanager.connection_pool_kw["maxsize"] == 10


@pytest.fixture
def shiphero_constructor(monkeypatch, shiphero_system):
    """What `clients` passes to `connectors.shiphero.client.ShipHeroClient`, recorded at the seam."""
    import connectors.shiphero.client as module

    calls = []

    class RecordingShipHeroClient:
        def __init__(self, base_url, **kwargs):
            calls.append({"base_url": base_url, **kwargs})

    monkeypatch.setattr(module, "ShipHeroClient", RecordingShipHeroClient)
    return calls


@pytest.mark.django_db
def test_a_shiphero_warehouse_gets_the_shiphero_client_with_its_credentials_and_the_shared_limiter(
    settings, shiphero_constructor
):
    from tenants import wms_limits

    settings.HUB_WMS_CONCURRENCY_CAP = 16
    warehouse = factories.ShipHeroWarehouseFactory(
        wms_base_url="https://shiphero.example.test",
        shiphero_refresh_token="sh-refresh",
        shiphero_customer_account_id="Q3VzdG9tZXI6OQ==",
        shiphero_warehouse_id="V2FyZWhvdXNlOjE=",
    )
    connection = factories.OrderManagerConnectionFactory(warehouse=warehouse)
    recorder = clients.CallRecorder()
    clients.warehouse(connection, recorder, max_retries=1)
    (call,) = shiphero_constructor
    assert call["base_url"] == "https://shiphero.example.test"
    assert (call["refresh_token"], call["customer_account_id"], call["warehouse_id"]) == (
        "sh-refresh",
        "Q3VzdG9tZXI6OQ==",
        "V2FyZWhvdXNlOjE=",
    )
    assert type(call["refresh_token"]) is str  # decrypted, not the masked field value
    assert call["limiter"] is wms_limits.limiter_for_warehouse(warehouse)
    assert call["pool_maxsize"] == 16 and call["max_retries"] == 1 and call["on_call"] is recorder
    assert call["timeout"] == tuple(settings.HUB_HTTP_TIMEOUT) and "block_private_addresses" in call


@pytest.mark.django_db
def test_a_3pl_warehouse_still_gets_the_3pl_client(shiphero_constructor):
    connection = factories.OrderManagerConnectionFactory()
    assert isinstance(clients.warehouse(connection), WarehouseManagerClient)
    assert shiphero_constructor == []


@pytest.mark.django_db
def test_a_system_without_a_client_branch_fails_loudly(monkeypatch, shiphero_system):
    from connectors.wms import systems

    class Unwired(type(shiphero_system)):
        key, label = "unwired", "Unwired WMS"

    monkeypatch.setitem(systems.SYSTEMS, "unwired", Unwired())
    warehouse = factories.WarehouseFactory(wms_system="unwired")
    with pytest.raises(LookupError, match="No client is configured for the warehouse system Unwired WMS"):
        clients.warehouse_for_warehouse(warehouse)


@pytest.mark.django_db
def test_the_real_shiphero_client_gets_the_shared_limiter_pool_and_scope(settings, shiphero_system):
    from connectors.shiphero.client import ShipHeroClient
    from tenants import wms_limits

    settings.HUB_WMS_CONCURRENCY_CAP = 20
    warehouse = factories.ShipHeroWarehouseFactory(
        wms_base_url="https://shiphero.example.test", shiphero_customer_account_id="QWNjb3VudDo3"
    )
    client = clients.warehouse_for_warehouse(warehouse)
    try:
        assert isinstance(client, ShipHeroClient) and client.system is shiphero_system
        assert (client.warehouse_id, client.customer_account_id) == (
            warehouse.shiphero_warehouse_id,
            "QWNjb3VudDo3",
        )
        assert client.http.limiter is wms_limits.limiter_for_warehouse(warehouse)
        pool = client.http.session.get_adapter("https://shiphero.example.test").poolmanager.connection_pool_kw
        assert pool["maxsize"] == 20
        assert str(warehouse.shiphero_refresh_token) not in repr(client)
    finally:
        client.close()
