"""The admin's "Test connection" (tenants.connection_check) against the sandbox over a real socket.

Success reports (warehouse resolved and stored, orders waiting, WMS SKUs without starting inventory
in Order Manager), and each failure in plain words: wrong password, unknown warehouse name (with
the names that exist), host unreachable. Once through the admin action, checking the message shown.
"""

import socket

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from connectors.sandbox.models import OmOrder, OmStock, WmsStock
from tenants import connection_check
from tenants.models import OrderManagerConnection, Warehouse
from tests import factories
from tests.sandbox_helpers import accounts, sandbox_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def expected_missing(slug: str) -> list[str]:
    """WMS SKUs in stock that have no stock row in the Order Manager warehouse, from the sandbox's tables."""
    om, wms = accounts(slug)
    in_stock = set(
        WmsStock.objects.filter(account=wms, facility_id=wms.facility_id, available__gt=0).values_list(
            "item__sku", flat=True
        )
    )
    stocked = set(OmStock.objects.filter(product__account=om).values_list("product__master_sku", flat=True))
    return sorted(in_stock - stocked)


def test_order_manager_success_report_stores_the_resolved_warehouse(live_server):
    connection = sandbox_tenant(live_server, "acme", orders=4, skus=12)
    om, _ = accounts("acme")
    OmOrder.objects.filter(account=om, pk=OmOrder.objects.filter(account=om).order_by("pk")[0].pk).update(
        status="SHIPPED"
    )
    expected_id = om.warehouses.get().pk
    OrderManagerConnection.objects.filter(pk=connection.pk).update(om_warehouse_id=None, om_warehouse_type="")
    connection.refresh_from_db()

    report = connection_check.check_order_manager(connection)

    missing = expected_missing("acme")
    assert missing, "the seed leaves SKUs without starting inventory in Order Manager"
    expected = {
        "ok": True,
        "authenticated": "yes",
        "warehouse": f"Sandbox 3PL (id {expected_id}, THIRD_PARTY_LOGISTICS)",
        "throttle_limits": 7,
        "orders_waiting": 3,
        "wms_skus_in_stock": len(set(WmsStock.objects.filter(available__gt=0).values_list("item__sku", flat=True))),
        "no_starting_inventory_in_order_manager": ", ".join(missing),
    }
    assert {key: report.get(key) for key in expected} == expected
    # The pre-flight page's details, when the report carries them, say the same.
    assert report.get("no_starting_inventory_skus", missing) == missing
    stored = OrderManagerConnection.objects.get(pk=connection.pk)
    assert (stored.om_warehouse_id, stored.om_warehouse_type) == (expected_id, "THIRD_PARTY_LOGISTICS")
    assert stored.last_test_report == report and stored.last_tested_at is not None
    assert connection_check.format_report(report).startswith("authenticated: yes; warehouse: Sandbox 3PL")


def test_a_rejected_token_is_reported_in_plain_words_without_the_token(live_server):
    connection = sandbox_tenant(live_server, "acme")
    connection.access_token = "not-the-password-123"
    connection.save()
    report = connection_check.check_order_manager(connection)
    assert report["ok"] is False and {"ok", "error"} <= set(report)
    assert report["error"] == (
        "Order Manager rejected the credentials (wrong or revoked access token): "
        "Order Manager rejected the access token for GET /v1/warehouses (HTTP 401): the app install was "
        "revoked or the token is wrong; reconnect the connection to Order Manager"
    )
    assert "not-the-password-123" not in str(OrderManagerConnection.objects.get(pk=connection.pk).last_test_report)


def test_unknown_warehouse_name_lists_the_available_names(live_server):
    connection = sandbox_tenant(live_server, "acme")
    connection.warehouse_name = "West Coast DC"
    connection.save()
    report = connection_check.check_order_manager(connection)
    assert report == {
        "ok": False,
        "authenticated": "yes",
        "error": 'Order Manager has no warehouse named "West Coast DC". Available: "Sandbox 3PL"',
    }


def test_unreachable_host_is_reported_in_plain_words(live_server):
    connection = sandbox_tenant(live_server, "acme")
    connection.base_url = connection.auth_base_url = f"http://127.0.0.1:{closed_port()}/sandbox/order-manager"
    connection.save()
    report = connection_check.check_order_manager(connection)
    assert report["ok"] is False
    assert report["error"].startswith("Order Manager is unreachable (host down, wrong base URL or firewall): ")
    assert "connection refused" in report["error"]


def test_warehouse_success_and_wrong_secret(live_server):
    connection = sandbox_tenant(live_server, "acme", skus=5)
    warehouse = connection.warehouse
    report = connection_check.check_warehouse(warehouse)
    _, wms = accounts("acme")
    in_stock = WmsStock.objects.filter(account=wms, available__gt=0).count()
    assert report == {"ok": True, "authenticated": "yes", "skus_in_stock": in_stock}
    assert Warehouse.objects.get(pk=warehouse.pk).last_test_report == report

    warehouse.client_secret = "wrong-secret"
    warehouse.save()
    report = connection_check.check_warehouse(warehouse)
    assert report["ok"] is False
    assert report["error"].startswith(
        "3PL Warehouse Manager rejected the credentials (wrong client id/secret or user login): "
        "Warehouse Manager refused the client id / client secret"
    )
    assert "wrong-secret" not in report["error"]


def test_admin_action_shows_the_report(live_server, superuser, admin_client_for):
    connection = sandbox_tenant(live_server, "acme", orders=2, skus=3)
    broken = sandbox_tenant(live_server, "beta")
    broken.warehouse_name = "Nowhere"
    broken.save()
    client = admin_client_for(superuser)
    response = client.post(
        reverse("admin:tenants_ordermanagerconnection_changelist"),
        {"action": "test_connection", "_selected_action": [connection.pk, broken.pk]},
        follow=True,
    )
    assert response.status_code == 200
    shown = {m.message.split(":", 1)[0]: (m.level_tag, m.message) for m in get_messages(response.wsgi_request)}
    level, message = shown[str(connection)]
    assert level == "success"
    assert "orders waiting: 2" in message and "warehouse: Sandbox 3PL (id " in message
    level, message = shown[str(broken)]
    assert level == "error"
    assert message == f'{broken}: failed: Order Manager has no warehouse named "Nowhere". Available: "Sandbox 3PL"'

    response = client.post(
        reverse("admin:tenants_warehouse_changelist"),
        {"action": "test_connection", "_selected_action": [connection.warehouse.pk]},
        follow=True,
    )
    (message,) = [m.message for m in get_messages(response.wsgi_request)]
    assert message.startswith(f"{connection.warehouse}: authenticated: yes; skus in stock: ")


def test_tenant_staff_can_only_test_their_own_connections(live_server, admin_client_for):
    mine = sandbox_tenant(live_server, "acme")
    other = sandbox_tenant(live_server, "beta")
    staff = factories.tenant_staff(mine.warehouse.tenant)
    response = admin_client_for(staff).post(
        reverse("admin:tenants_ordermanagerconnection_changelist"),
        {"action": "test_connection", "_selected_action": [mine.pk, other.pk]},
        follow=True,
    )
    messages = [m.message for m in get_messages(response.wsgi_request)]
    assert len(messages) == 1 and messages[0].startswith(str(mine))
    assert OrderManagerConnection.objects.get(pk=other.pk).last_tested_at is None


class StandInShipHero:
    """The ShipHero client as `check_warehouse` uses it (authenticate, one lookup, close), built by
    `tenants.clients` from the warehouse: it records what it was asked and answers as told."""

    instances: list = []

    def __init__(self, base_url, *, refresh_token, warehouse_id, customer_account_id="", **http):
        self.refresh_token, self.asked, self.closed = refresh_token, [], False
        StandInShipHero.instances.append(self)

    def authenticate(self):
        from connectors.errors import AuthenticationError

        if self.refresh_token != "good-token":
            raise AuthenticationError("ShipHero refused the refresh token (HTTP 401)")
        self.asked.append("authenticate")

    def find_order_by_reference(self, reference):
        self.asked.append(reference)
        return None

    def close(self):
        self.closed = True


@pytest.fixture
def stand_in_shiphero(monkeypatch, shiphero_system):
    import connectors.shiphero.client as module

    StandInShipHero.instances = []
    monkeypatch.setattr(module, "ShipHeroClient", StandInShipHero)
    return StandInShipHero.instances


def test_a_shiphero_warehouse_is_tested_by_signing_in_and_one_cheap_read(stand_in_shiphero):
    warehouse = factories.ShipHeroWarehouseFactory(shiphero_refresh_token="good-token")
    report = connection_check.check_warehouse(warehouse)
    assert report == {"ok": True, "authenticated": "yes", "orders_readable": "yes"}
    (client,) = stand_in_shiphero
    assert client.asked == ["authenticate", connection_check.PROBE_REFERENCE] and client.closed
    assert Warehouse.objects.get(pk=warehouse.pk).last_test_report == report


def test_a_rejected_shiphero_token_is_named_in_plain_words(stand_in_shiphero):
    warehouse = factories.ShipHeroWarehouseFactory(shiphero_refresh_token="sh-secret-4711")
    report = connection_check.check_warehouse(warehouse)
    assert report["ok"] is False
    assert report["error"].startswith("ShipHero rejected the credentials (wrong or revoked refresh token")
    assert "sh-secret-4711" not in report["error"] and stand_in_shiphero[0].closed


def test_a_warehouse_on_an_unknown_system_gets_a_sentence_not_a_crash():
    warehouse = factories.WarehouseFactory(wms_system="gone_wms")
    report = connection_check.check_warehouse(warehouse)
    assert report["ok"] is False and "Unknown warehouse system 'gone_wms'" in report["error"]


def test_a_shiphero_warehouse_over_a_real_socket_passes_and_a_wrong_token_is_named(live_server):
    from tenants import sandbox_shiphero

    done = sandbox_shiphero.set_up(factories.TenantFactory(slug="sh-check"), live_server.url, activate=False)
    assert connection_check.check_warehouse(done.warehouse)["ok"] is True
    done.warehouse.shiphero_refresh_token = "sh-wrong-refresh-0815"
    done.warehouse.save()
    report = connection_check.check_warehouse(Warehouse.objects.get(pk=done.warehouse.pk))
    assert report["ok"] is False
    assert report["error"].startswith("ShipHero rejected the credentials (wrong or revoked refresh token"), report
    assert "sh-wrong-refresh-0815" not in report["error"]
