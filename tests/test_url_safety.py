"""Connection base URLs: https only in production, no credentials in URLs, no private or loopback
addresses unless the sandbox is enabled; checked in the admin forms (tenants.url_safety) and
refused at connect time by the HTTP layer (requests-hardened), before any byte is sent."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from connectors.errors import PermanentError
from connectors.transport import HttpClient
from hub.engine.runner import run_job
from hub.models import Job, SyncRun
from tenants import clients
from tenants.forms import OrderManagerConnectionForm, WarehouseForm
from tenants.url_safety import base_url_problem
from tests import factories


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.SANDBOX_ENABLED = False
    settings.HUB_ALLOW_PRIVATE_ADDRESSES = False


@pytest.fixture
def sandbox_mode(settings):
    settings.DEBUG = False
    settings.SANDBOX_ENABLED = True
    settings.HUB_ALLOW_PRIVATE_ADDRESSES = True


PRODUCTION_CASES = [
    ("https://api.skubana.com", ""),
    ("https://secure-wms.com/", ""),
    ("https://api.example.com:8443/v1", ""),
    ("http://api.skubana.com", "Use https://"),
    ("https://user:secret@api.skubana.com", "Remove the user name and password"),
    ("https://user@api.skubana.com", "Remove the user name and password"),
    ("https://api.skubana.com/?token=abc", "Remove the query string"),
    ("https://api.skubana.com/#x", "Remove the query string"),
    ("ftp://api.skubana.com", "starts with https://"),
    ("api.skubana.com", "starts with https://"),
    ("https://", "starts with https://"),
    ("https://api.skubana.com:port", "not a valid URL"),
    ("https://localhost/api", "private or local network address"),
    ("https://app.localhost", "private or local network address"),
    ("https://127.0.0.1:8000", "private or local network address"),
    ("https://10.1.2.3", "private or local network address"),
    ("https://192.168.0.10", "private or local network address"),
    ("https://169.254.169.254/latest/meta-data", "private or local network address"),
    ("https://[::1]:8000", "private or local network address"),
    ("https://[::ffff:127.0.0.1]", "private or local network address"),
    ("https://0.0.0.0", "private or local network address"),
    # IPv6 forms that embed an IPv4 address are judged by it (issue 15, finding 4).
    ("https://[::10.0.0.1]/", "private or local network address"),
    ("https://[::a00:1]", "private or local network address"),
    ("https://[::127.0.0.1]:8000", "private or local network address"),
    ("https://[::ffff:0:169.254.169.254]", "private or local network address"),
    ("https://[64:ff9b::10.0.0.1]", "private or local network address"),
    ("https://[2002:a00:1::1]", "private or local network address"),
    ("https://100.64.0.1", "private or local network address"),
    ("https://[::8.8.8.8]", ""),
    ("https://8.8.8.8", ""),
    ("https://[2606:4700::1111]", ""),
]


@pytest.mark.parametrize("url, problem", PRODUCTION_CASES)
def test_base_url_rules_in_production(production, url, problem):
    found = base_url_problem(url)
    assert (problem in found) if problem else found == "", found


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/sandbox/order-manager", "http://localhost:8000", "https://10.0.0.5"]
)
def test_the_sandbox_allows_local_and_http_urls(sandbox_mode, url):
    assert base_url_problem(url) == ""


def test_credentials_in_a_url_are_refused_even_with_the_sandbox(sandbox_mode):
    assert "Remove the user name and password" in base_url_problem("http://a:b@127.0.0.1:8000")


def connection_form_data(connection, **changes) -> dict:
    data = {
        "warehouse": connection.warehouse.pk,
        "base_url": "https://om.example.com",
        "auth_base_url": "https://om.example.com",
        "access_token": "",
        "warehouse_name": "Main",
        "pickup_status": "AWAITING_3PL_EXPORT",
        "start_from": "",
        "order_download_enabled": "on",
        "cancel_download_enabled": "on",
        "shipment_confirmation_enabled": "on",
        "inventory_sync_enabled": "on",
        "order_download_interval": 5,
        "cancel_download_interval": 5,
        "shipment_confirmation_interval": 15,
        "inventory_time": "23:00",
        "inventory_times_per_day": 1,
    }
    data.update(changes)
    return data


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field, value, message",
    [
        ("base_url", "http://api.skubana.com", "Use https://"),
        ("base_url", "https://me:pw@api.skubana.com", "Remove the user name and password"),
        ("auth_base_url", "https://169.254.169.254", "private or local network address"),
        ("base_url", "not a url", "Enter a valid URL."),
        ("order_download_interval", 0, "greater than or equal to 1"),
        ("shipment_confirmation_interval", -5, "greater than or equal to"),
        ("cancel_download_interval", 100000, "less than or equal to 1440"),
        ("inventory_times_per_day", 0, "greater than or equal to 1"),
    ],
)
def test_connection_form_rejects_bad_settings_in_plain_words(production, field, value, message):
    connection = factories.OrderManagerConnectionFactory()
    form = OrderManagerConnectionForm(data=connection_form_data(connection, **{field: value}), instance=connection)
    assert not form.is_valid()
    assert any(message in error for error in form.errors[field]), form.errors


@pytest.mark.django_db
def test_connection_form_accepts_good_settings(production):
    connection = factories.OrderManagerConnectionFactory()
    form = OrderManagerConnectionForm(data=connection_form_data(connection), instance=connection)
    assert form.is_valid(), form.errors


@pytest.mark.django_db
def test_warehouse_form_rejects_a_credentialed_or_local_wms_url(production):
    tenant = factories.TenantFactory()
    data = {
        "tenant": tenant.pk,
        "name": "W",
        "client_id": "c",
        "client_secret": "s",
        "user_login": "",
        "tpl_key": "",
        "customer_id": 1,
        "facility_id": 1,
        "facility_time_zone": "UTC",
    }
    for url, message in [
        ("https://id:secret@secure-wms.com", "Remove the user name"),
        ("https://localhost", "private"),
    ]:
        form = WarehouseForm(data={**data, "wms_base_url": url})
        assert not form.is_valid() and message in form.errors["wms_base_url"][0]
    assert WarehouseForm(data={**data, "wms_base_url": "https://secure-wms.com"}).is_valid()


# ------------------------------------------------------------------ connect time


class _Recorder(BaseHTTPRequestHandler):
    seen: list = []

    def do_GET(self):
        type(self).seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server():
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_private_addresses_are_refused_at_connect_time_before_anything_is_sent(local_server, host):
    blocked = HttpClient(f"http://{host}:{local_server}", block_private_addresses=True, timeout=2, max_retries=0)
    with pytest.raises(PermanentError, match="resolves to a private, loopback or link-local address"):
        blocked.json("GET", "/v1/warehouses", headers={"Authorization": "Bearer canary"})
    assert _Recorder.seen == []
    allowed = HttpClient(f"http://{host}:{local_server}", block_private_addresses=False, timeout=2)
    assert allowed.json("GET", "/v1/warehouses") == {}
    assert _Recorder.seen == ["/v1/warehouses"]


def test_clients_block_private_addresses_unless_allowed(settings, connection):
    settings.HUB_ALLOW_PRIVATE_ADDRESSES = False
    om = clients.order_manager(connection)
    wms = clients.warehouse_manager(connection)
    assert om.http.block_private_addresses and wms.http.block_private_addresses
    settings.HUB_ALLOW_PRIVATE_ADDRESSES = True
    assert not clients.order_manager(connection).http.block_private_addresses


@pytest.mark.django_db(transaction=True)
def test_a_run_against_a_loopback_url_in_production_fails_plainly_and_sends_nothing(live_server, settings):
    from tests.sandbox_helpers import sandbox_tenant, status

    conn = sandbox_tenant(live_server, "ssrf", orders=2, skus=2)
    settings.HUB_ALLOW_PRIVATE_ADDRESSES = False
    run = run_job(conn, Job.ORDER_DOWNLOAD)
    assert run.status == SyncRun.Status.FAILED
    assert "Refused to connect to Order Manager at " in run.error and "private, loopback" in run.error, run.error
    assert all(call["status"] is None for call in run.calls)
    assert status("ssrf")["warehouse_manager"]["orders_total"] == 0
