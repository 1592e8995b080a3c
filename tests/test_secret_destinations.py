"""tenants.secret_destinations: changing where a stored secret is sent needs the secret again (or a
superuser), and every such change is on the admin history (issue 15, finding 2).

The reproduction runs as the probe did: tenant staff in the admin (django-webtest), two real HTTP
servers on 127.0.0.1, one the tenant's real WMS or Order Manager, one the attacker's. Loopback
stands in for the attacker's public host, so private addresses (and http://) are allowed here.
"""

from __future__ import annotations

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from tenants.models import OrderManagerConnection, Warehouse
from tests import factories

pytestmark = pytest.mark.django_db

WMS_SECRET = "stored-wms-client-secret"
TPL_KEY = "stored-tpl-key"
OM_TOKEN = "stored-om-access-token"


class HarvestingServer:
    """Records every request (path, Authorization header, body) and answers 401 to all of them."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        recorded = self.requests

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                recorded.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "authorization": self.headers.get("Authorization", ""),
                        "body": self.rfile.read(length).decode("utf-8", "replace") if length else "",
                    }
                )
                payload = b'{"error": "invalid_client"}'
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = _answer

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> HarvestingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def secrets_seen(self) -> set[str]:
        """Every credential that reached this server: Basic pairs decoded, Bearer tokens, bodies."""
        seen = set()
        for request in self.requests:
            scheme, _, value = request["authorization"].partition(" ")
            if scheme == "Basic":
                seen.update(base64.b64decode(value).decode().split(":", 1))
            elif value:
                seen.add(value)
            seen.add(request["body"])
        return seen


@pytest.fixture
def servers(settings):
    settings.SANDBOX_ENABLED = True  # http:// base URLs
    settings.HUB_ALLOW_PRIVATE_ADDRESSES = True  # loopback plays the attacker's public host
    with HarvestingServer() as real, HarvestingServer() as attacker:
        yield real, attacker


@pytest.fixture
def tenant_setup(servers):
    real, _ = servers
    connection = factories.OrderManagerConnectionFactory(
        base_url=real.url,
        auth_base_url=real.url,
        access_token=OM_TOKEN,
        warehouse__wms_base_url=real.url,
        warehouse__client_secret=WMS_SECRET,
        warehouse__tpl_key=TPL_KEY,
    )
    staff = factories.tenant_staff(connection.warehouse.tenant, username="tenant-operator")
    return connection, staff


def change_page(django_app, obj, user):
    url = reverse(f"admin:tenants_{obj._meta.model_name}_change", args=[obj.pk])
    return django_app.get(url, user=user)


def test_tenant_staff_cannot_send_the_stored_wms_secret_to_their_own_host(django_app, servers, tenant_setup):
    """The probe's finding: change the WMS base URL, leave the secret blank ("keep"), Test connection."""
    real, attacker = servers
    connection, staff = tenant_setup
    warehouse = connection.warehouse
    form = change_page(django_app, warehouse, staff).forms["warehouse_form"]
    form["wms_base_url"] = attacker.url
    response = form.submit("_save", user=staff)

    changelist = django_app.get(reverse("admin:tenants_warehouse_changelist"), user=staff)
    action = changelist.forms["changelist-form"]
    action["action"] = "test_connection"
    action.get("_selected_action", index=0).checked = True
    action.submit("index", user=staff)

    assert WMS_SECRET not in attacker.secrets_seen() and TPL_KEY not in " ".join(attacker.secrets_seen())
    assert attacker.requests == []
    assert response.status_code == 200, "the change must be refused, not saved"
    assert "You changed where the client secret is sent" in response.text
    assert "enter the client secret again" in response.text
    assert "enter the TPL key again" in response.text
    assert Warehouse.objects.get(pk=warehouse.pk).wms_base_url == real.url
    # Test connection still reaches the real WMS with the stored secret.
    assert WMS_SECRET in real.secrets_seen()


def test_tenant_staff_cannot_send_the_stored_order_manager_token_to_their_own_host(django_app, servers, tenant_setup):
    real, attacker = servers
    connection, staff = tenant_setup
    page = change_page(django_app, connection, staff)
    form = page.forms["ordermanagerconnection_form"]
    form["base_url"] = attacker.url
    response = form.submit("_save", user=staff)

    page = change_page(django_app, connection, staff)
    page.forms["test-connection-form"].submit(user=staff)

    assert OM_TOKEN not in attacker.secrets_seen()
    assert attacker.requests == []
    assert response.status_code == 200
    assert "You changed where the app access token is sent" in response.text
    assert OrderManagerConnection.objects.get(pk=connection.pk).base_url == real.url
    assert OM_TOKEN in real.secrets_seen()


def destination_entries(obj) -> list[str]:
    return [
        entry.get_change_message()
        for entry in LogEntry.objects.filter(object_id=str(obj.pk)).order_by("pk")
        if "Changed where stored secrets are sent" in entry.get_change_message()
    ]


def all_history_text() -> str:
    return " ".join(entry.get_change_message() for entry in LogEntry.objects.all())


def test_tenant_staff_who_enter_the_secrets_again_may_move_them_and_it_is_logged(django_app, servers, tenant_setup):
    real, attacker = servers
    connection, staff = tenant_setup
    warehouse = connection.warehouse
    form = change_page(django_app, warehouse, staff).forms["warehouse_form"]
    form["wms_base_url"] = attacker.url + "/"
    form["client_secret"] = "typed-again-secret"
    form["tpl_key"] = "typed-again-tpl"
    assert form.submit("_save", user=staff).status_code == 302
    fresh = Warehouse.objects.get(pk=warehouse.pk)
    assert (fresh.wms_base_url, fresh.client_secret, fresh.tpl_key) == (
        attacker.url + "/",
        "typed-again-secret",
        "typed-again-tpl",
    )
    assert destination_entries(warehouse) == [
        f"Changed where stored secrets are sent: WMS base URL from {real.url} to {attacker.url} by tenant-operator "
        "(client secret, TPL key entered again)."
    ]
    history = all_history_text()
    assert not any(secret in history for secret in (WMS_SECRET, TPL_KEY, "typed-again-secret", "typed-again-tpl"))


def test_a_superuser_may_move_a_destination_without_the_secrets_and_it_is_logged(
    django_app, servers, tenant_setup, superuser
):
    real, attacker = servers
    connection, _ = tenant_setup
    form = change_page(django_app, connection.warehouse, superuser).forms["warehouse_form"]
    form["wms_base_url"] = attacker.url
    assert form.submit("_save", user=superuser).status_code == 302
    fresh = Warehouse.objects.get(pk=connection.warehouse.pk)
    assert (fresh.wms_base_url, fresh.client_secret, fresh.tpl_key) == (attacker.url, WMS_SECRET, TPL_KEY)
    [entry] = destination_entries(connection.warehouse)
    assert entry == (
        f"Changed where stored secrets are sent: WMS base URL from {real.url} to {attacker.url} by "
        f"{superuser.username} (by a superuser, stored client secret, TPL key kept without being entered again)."
    )
    history_page = django_app.get(reverse("admin:tenants_warehouse_history", args=[fresh.pk]), user=superuser)
    assert f"from {real.url} to {attacker.url}" in history_page.text
    assert WMS_SECRET not in all_history_text() and WMS_SECRET not in history_page.text


def test_superusers_also_move_the_auth_url_which_tenant_staff_cannot(django_app, servers, tenant_setup, superuser):
    real, attacker = servers
    connection, staff = tenant_setup
    form = change_page(django_app, connection, staff).forms["ordermanagerconnection_form"]
    form["auth_base_url"] = attacker.url
    form["access_token"] = OM_TOKEN  # even with the token entered again
    response = form.submit("_save", user=staff)
    assert response.status_code == 200 and "Only a superuser can change the auth base URL" in response.text
    assert OrderManagerConnection.objects.get(pk=connection.pk).auth_base_url == real.url

    form = change_page(django_app, connection, superuser).forms["ordermanagerconnection_form"]
    form["auth_base_url"] = attacker.url
    assert form.submit("_save", user=superuser).status_code == 302
    assert OrderManagerConnection.objects.get(pk=connection.pk).auth_base_url == attacker.url
    [entry] = destination_entries(connection)
    assert f"auth base URL from {real.url} to {attacker.url} by {superuser.username}" in entry
    assert "app access token kept without being entered again" in entry


def test_same_origin_needs_no_secret_and_logs_no_destination_change(django_app, servers, tenant_setup):
    real, _ = servers
    connection, staff = tenant_setup
    form = change_page(django_app, connection.warehouse, staff).forms["warehouse_form"]
    form["wms_base_url"] = real.url.upper().replace("HTTP://", "http://") + "/api/"
    assert form.submit("_save", user=staff).status_code == 302
    assert Warehouse.objects.get(pk=connection.warehouse.pk).client_secret == WMS_SECRET
    assert destination_entries(connection.warehouse) == []


@pytest.mark.parametrize(
    "stored, expected_errors",
    [
        ({"access_token": OM_TOKEN}, {"access_token": "app access token"}),
    ],
)
def test_the_connection_form_asks_for_each_stored_secret_sent_to_the_new_host(stored, expected_errors):
    from tenants.forms import OrderManagerConnectionForm
    from tests.test_url_safety import connection_form_data

    connection = factories.OrderManagerConnectionFactory(base_url="https://api.skubana.com", **stored)
    data = connection_form_data(connection, base_url="http://api.skubana.com", access_token="")
    form = OrderManagerConnectionForm(data=data, instance=connection)
    assert not form.is_valid()
    assert set(form.errors) == set(expected_errors), form.errors
    for field, label in expected_errors.items():
        assert form.errors[field] == [
            f"You changed where the {label} is sent (from https://api.skubana.com to http://api.skubana.com): "
            f"enter the {label} again."
        ]


def test_a_new_row_has_no_stored_secret_to_protect():
    from tenants.forms import OnboardWarehouseForm

    data = {
        "name": "W",
        "wms_base_url": "https://wms.other.example",
        "client_id": "c",
        "client_secret": "s",
        "user_login": "",
        "tpl_key": "",
        "customer_id": 1,
        "facility_id": 1,
        "facility_time_zone": "UTC",
    }
    form = OnboardWarehouseForm(data=data)
    assert form.is_valid(), form.errors
    assert form.destination_changes == []


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://WMS.example.com", "https://wms.example.com"),
        ("https://wms.example.com:443/api/", "https://wms.example.com"),
        ("https://wms.example.com.", "https://wms.example.com"),
        ("http://wms.example.com", "http://wms.example.com"),
        ("https://wms.example.com:8443", "https://wms.example.com:8443"),
        ("https://[2606:4700::1111]:443", "https://[2606:4700::1111]"),
    ],
)
def test_origin(url, expected):
    from tenants.secret_destinations import origin

    assert origin(url) == expected
