"""`manage.py sandbox ...` end to end: onboard a tenant, seed, drive the APIs, ship, cancel, faults, status."""

import base64
import io
import json

import pytest
from django.core.management import CommandError, call_command

from connectors.sandbox.models import FaultConfig, OmAccount, OmOrder, WmsAccount
from tenants.models import OrderManagerConnection, Tenant
from tests.sandbox_helpers import om_install_token


def run(*args) -> str:
    out = io.StringIO()
    call_command("sandbox", *args, stdout=out)
    return out.getvalue()


def run_json(*args) -> dict:
    return json.loads(run(*args))


@pytest.fixture
def acme(db):
    return run_json("tenant", "acme", "--base-url", "http://127.0.0.1:8123/")


def test_tenant_onboards_connections_against_the_sandbox(acme, client):
    tenant = Tenant.objects.get(slug="acme")
    connection = OrderManagerConnection.objects.select_related("warehouse").get(warehouse__tenant=tenant)
    warehouse = connection.warehouse
    assert connection.base_url == connection.auth_base_url == "http://127.0.0.1:8123/sandbox/order-manager"
    assert warehouse.wms_base_url == "http://127.0.0.1:8123/sandbox/warehouse-manager"
    assert acme["order_manager"]["username"] == "acme@sandbox"
    assert str(connection.access_token) == acme["order_manager"]["access_token"]  # from the app install
    assert connection.token_source == "app_install" and connection.connected_account.startswith("cid ")
    assert "password" not in {f.name for f in type(connection)._meta.get_fields()}
    assert str(warehouse.client_secret) == acme["warehouse_manager"]["client_secret"]
    assert connection.warehouse_name == "Sandbox 3PL"
    om_warehouse = OmAccount.objects.get(username="acme@sandbox").warehouses.get()
    assert (connection.om_warehouse_id, connection.om_warehouse_type) == (om_warehouse.pk, "THIRD_PARTY_LOGISTICS")
    assert (warehouse.customer_id, warehouse.facility_id) == (acme["warehouse_manager"]["customer_id"], 1)

    # The printed credentials work against the sandbox: the token as a Bearer, the username and
    # password on the install page.
    om_call = client.get(
        "/sandbox/order-manager/v1/warehouses", HTTP_AUTHORIZATION=f"Bearer {acme['order_manager']['access_token']}"
    )
    assert om_call.status_code == 200
    assert om_install_token(client, "acme@sandbox", acme["order_manager"]["password"]).status_code == 200
    basic = base64.b64encode(f"{warehouse.client_id}:{warehouse.client_secret}".encode()).decode()
    wms_token = client.post(
        "/sandbox/warehouse-manager/AuthServer/api/Token",
        json.dumps({"grant_type": "client_credentials", "user_login": warehouse.user_login}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert wms_token.status_code == 200


def test_running_tenant_again_updates_in_place_with_new_credentials(acme):
    again = run_json("tenant", "acme", "--base-url", "http://127.0.0.1:8123")
    assert Tenant.objects.filter(slug="acme").count() == 1
    assert OrderManagerConnection.objects.filter(warehouse__tenant__slug="acme").count() == 1
    assert again["order_manager"]["password"] != acme["order_manager"]["password"]
    account = OmAccount.objects.get(username="acme@sandbox")
    assert account.check_password(again["order_manager"]["password"])
    assert not account.check_password(acme["order_manager"]["password"])


def test_tenants_get_separate_sandbox_accounts(acme):
    globex = run_json("tenant", "globex")
    assert globex["order_manager"]["username"] == "globex@sandbox"
    assert globex["order_manager"]["base_url"].endswith("/sandbox/order-manager")
    assert WmsAccount.objects.count() == 2 and OmAccount.objects.count() == 2
    run("seed", "--tenant", "acme", "--orders", "3", "--skus", "4")
    assert run_json("status", "--tenant", "globex", "--json")["order_manager"]["orders_total"] == 0


def _send_to_wms(client, acme, numbers):
    """What the hub's Order Download does at the WMS, through the sandbox API."""
    wms = acme["warehouse_manager"]
    basic = base64.b64encode(f"{wms['client_id']}:{wms['client_secret']}".encode()).decode()
    token = client.post(
        "/sandbox/warehouse-manager/AuthServer/api/Token",
        json.dumps({"grant_type": "client_credentials", "user_login": wms["user_login"]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    ).json()["access_token"]
    for number in numbers:
        body = {
            "customerIdentifier": {"id": wms["customer_id"]},
            "facilityIdentifier": {"id": wms["facility_id"]},
            "referenceNum": number,
            "orderItems": [{"itemIdentifier": {"sku": "SKU-1"}, "qty": 1}],
        }
        response = client.post(
            "/sandbox/warehouse-manager/orders",
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert response.status_code == 201


def test_seed_ship_cancel_status_end_to_end(acme, client):
    seeded = run_json("seed", "--tenant", "acme", "--orders", "6", "--skus", "12", "--seed", "7")
    assert seeded["orders_created"] == 6 and seeded["om_only_skus"] == 2
    status = run_json("status", "--tenant", "acme", "--json")
    om, wms = status["order_manager"], status["warehouse_manager"]
    assert om["orders_by_status"] == {"AWAITING_3PL_EXPORT": 6}
    assert om["skus_without_starting_inventory"] == ["SKU-3"]
    assert om["stock"]["SKU-2"]["locked"] > 0 and "OMONLY-1" in om["stock"]
    assert len(wms["stock_available"]) == 12 and "OMONLY-1" not in wms["stock_available"]

    _send_to_wms(client, acme, ["SO-000001", "SO-000002", "SO-000003"])
    shipped = run_json("ship", "--tenant", "acme", "--count", "2", "--seed", "1")
    assert shipped["shipped"] == 2
    assert {o["referenceNum"] for o in shipped["orders"]} == {"SO-000001", "SO-000002"}
    assert all(o["trackingNumber"] and o["scacCode"] for o in shipped["orders"])

    cancelled = run_json("cancel", "--tenant", "acme", "--count", "2")
    # The order still open at the WMS goes first, then the oldest of the rest.
    assert [o["orderNumber"] for o in cancelled["orders"]] == ["SO-000003", "SO-000001"]
    assert cancelled["orders"][0]["at_wms"] is True

    status = run_json("status", "--tenant", "acme", "--json")
    assert status["order_manager"]["orders_by_status"] == {"AWAITING_3PL_EXPORT": 4, "CANCELLED": 2}
    assert status["warehouse_manager"]["orders_by_status"] == {"closed": 2, "open": 1}
    assert status["warehouse_manager"]["orders_per_reference_num"] == {"SO-000001": 1, "SO-000002": 1, "SO-000003": 1}
    assert status["warehouse_manager"]["duplicate_reference_nums"] == {}
    assert status["order_manager"]["shipments"] == {
        "count": 0,
        "duplicates": 0,
        "orders_with_several_shipments": 0,
        "recorded": [],
    }
    assert "Order Manager (acme@sandbox): 6 orders" in run("status", "--tenant", "acme")


def test_status_counts_duplicate_shipments(acme, client):
    run("seed", "--tenant", "acme", "--orders", "2", "--skus", "3")
    token = {"access_token": acme["order_manager"]["access_token"]}
    orders = client.get(
        "/sandbox/order-manager/v1.1/orders", HTTP_AUTHORIZATION=f"Bearer {token['access_token']}"
    ).json()
    shipment = {"orderId": orders[0]["orderId"], "trackingNumber": "1Z999", "shipMethod": {"shippingCarrier": "UPS"}}
    for _ in range(2):
        client.put(
            "/sandbox/order-manager/v1.1/shipment/external",
            json.dumps({"shipments": [shipment]}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token['access_token']}",
        )
    shipments = run_json("status", "--tenant", "acme", "--json")["order_manager"]["shipments"]
    assert shipments["count"] == 2 and shipments["duplicates"] == 1
    assert [s["trackingNumber"] for s in shipments["recorded"]] == ["1Z999", "1Z999"]


def test_seed_is_repeatable(db):
    for slug in ("one", "two"):
        run("tenant", slug)
        run("seed", "--tenant", slug, "--orders", "4", "--skus", "10", "--seed", "3")
    one, two = (run_json("status", "--tenant", slug, "--json") for slug in ("one", "two"))
    assert one["order_manager"]["stock"] == two["order_manager"]["stock"]
    assert one["warehouse_manager"]["stock_available"] == two["warehouse_manager"]["stock_available"]
    lines = [
        [
            (i.listing_sku, i.quantity, i.unit_price)
            for i in OmOrder.objects.get(account__username=f"{slug}@sandbox", order_number="SO-000002").items.order_by(
                "pk"
            )
        ]
        for slug in ("one", "two")
    ]
    assert lines[0] == lines[1]


def test_faults_sub_command(acme):
    result = run_json("faults", "--tenant", "acme", "--rate-500", "0.25", "--quota-per-second", "4", "--side", "om")
    assert result["order_manager"]["rate_500"] == 0.25 and "warehouse_manager" not in result
    assert FaultConfig.objects.get(om_account__username="acme@sandbox").quota_per_second == 4
    both = run_json("faults", "--tenant", "acme", "--rate-429", "1", "--timeout-rate", "0.5", "--malformed-rate", "0.1")
    assert both["order_manager"]["rate_500"] == 0.25  # unchanged options stay
    assert both["warehouse_manager"]["rate_429"] == 1.0 and both["warehouse_manager"]["timeout_rate"] == 0.5
    cleared = run_json("faults", "--tenant", "acme", "--clear")
    assert cleared["order_manager"]["rate_500"] == 0.0 and cleared["order_manager"]["quota_per_second"] is None
    status = run_json("status", "--tenant", "acme", "--json")
    assert status["faults"]["warehouse_manager"]["rate_429"] == 0.0


def test_faults_latency_options(acme):
    every = run_json("faults", "--tenant", "acme", "--latency-ms", "250", "--jitter-ms", "100")
    assert every["warehouse_manager"]["latency"] == {
        group: [250, 100] for group in ("token", "create", "read", "cancel", "stock")
    }
    assert every["order_manager"]["latency"] == {"token": [250, 100], "read": [250, 100], "write": [250, 100]}
    # One group: the other service has no "create" and keeps what it had; the other groups too.
    create = run_json("faults", "--tenant", "acme", "--latency-ms", "600", "--latency-group", "create")
    assert create["warehouse_manager"]["latency"]["create"] == [600, 0]
    assert create["warehouse_manager"]["latency"]["read"] == [250, 100]
    assert create["order_manager"] == every["order_manager"]
    off = run_json("faults", "--tenant", "acme", "--side", "om", "--latency-ms", "0", "--latency-group", "read")
    assert off["order_manager"]["latency"] == {"token": [250, 100], "write": [250, 100]}
    assert run_json("faults", "--tenant", "acme", "--clear")["warehouse_manager"]["latency"] == {}
    assert run_json("status", "--tenant", "acme", "--json")["faults"]["order_manager"]["latency"] == {}


@pytest.mark.parametrize(
    "args",
    [
        ("--latency-ms", "-1"),
        ("--latency-ms", "100", "--jitter-ms", "150"),  # jitter above the latency
        ("--latency-ms", "30000", "--jitter-ms", "1"),  # above 30 s in all
        ("--jitter-ms", "50"),  # a jitter of no latency
        ("--latency-group", "read"),  # a group with no latency
        ("--side", "om", "--latency-ms", "100", "--latency-group", "create"),  # a WMS group only
        ("--latency-ms", "100", "--latency-group", "bogus"),
    ],
)
def test_faults_latency_options_out_of_bounds_are_refused(acme, args):
    with pytest.raises(CommandError):
        run("faults", "--tenant", "acme", *args)
    assert all(config.latency == {} for config in FaultConfig.objects.all())


def test_errors_are_command_errors(db):
    with pytest.raises(CommandError):
        run("seed", "--tenant", "nobody", "--orders", "1", "--skus", "1")
    with pytest.raises(CommandError):
        run("status", "--tenant", "nobody")
    run("tenant", "acme")
    with pytest.raises(CommandError):
        run("faults", "--tenant", "acme", "--rate-500", "2")


@pytest.mark.django_db(transaction=True)
def test_a_json_printing_command_prints_only_json_on_stdout(tmp_path):
    """Issue 17: an axes log line came first on stdout, so `manage.py sandbox tenant x | jq` failed."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'hub.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "hub.settings",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v", "0"], cwd=root, env=env, check=True, capture_output=True)
    done = subprocess.run(
        [*manage, "sandbox", "tenant", "jq-check"], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["order_manager"]["activated"] is True
    assert "AXES" in done.stderr  # the log lines still come, on stderr


@pytest.fixture
def admin_onboarded(superuser, admin_client_for):
    """A tenant made in the admin and given sandbox accounts there (nothing seeded), then renamed:
    the commands must find its accounts from its connection, not from names after its slug."""
    from django.urls import reverse

    from tests import factories

    tenant = factories.TenantFactory(slug="globex")
    response = admin_client_for(superuser).post(
        reverse("admin:tenants_tenant_sandbox_accounts", args=[tenant.pk]), {"orders": "0", "skus": "1"}
    )
    assert response.status_code == 302
    tenant.slug = "globex-corp"
    tenant.save()
    return tenant


def test_seed_ship_cancel_faults_status_work_for_an_admin_onboarded_tenant(admin_onboarded, client):
    seeded = run_json("seed", "--tenant", "globex-corp", "--orders", "3", "--skus", "4", "--seed", "2")
    assert seeded["orders_created"] == 3
    status = run_json("status", "--tenant", "globex-corp", "--json")
    assert status["order_manager"]["username"] == "globex@sandbox"
    assert status["order_manager"]["orders_by_status"] == {"AWAITING_3PL_EXPORT": 3}
    warehouse = OrderManagerConnection.objects.get(warehouse__tenant=admin_onboarded).warehouse
    _send_to_wms(
        client,
        {
            "warehouse_manager": {
                "client_id": warehouse.client_id,
                "client_secret": str(warehouse.client_secret),
                "user_login": warehouse.user_login,
                "customer_id": warehouse.customer_id,
                "facility_id": warehouse.facility_id,
            }
        },
        ["SO-000001", "SO-000002"],
    )
    assert run_json("ship", "--tenant", "globex-corp", "--count", "1")["shipped"] == 1
    assert run_json("cancel", "--tenant", "globex-corp", "--count", "1")["orders"][0]["orderNumber"] == "SO-000002"
    assert run_json("faults", "--tenant", "globex-corp", "--rate-500", "0.5")["warehouse_manager"]["rate_500"] == 0.5
    status = run_json("status", "--tenant", "globex-corp", "--json")
    assert status["warehouse_manager"]["orders_by_status"] == {"closed": 1, "open": 1}
    assert status["order_manager"]["orders_by_status"] == {"AWAITING_3PL_EXPORT": 2, "CANCELLED": 1}


def test_a_tenant_without_sandbox_accounts_is_told_how_to_get_them(db):
    from tests import factories

    connection = factories.OrderManagerConnectionFactory()
    with pytest.raises(CommandError, match="Create sandbox accounts"):
        run("status", "--tenant", connection.warehouse.tenant.slug)


def test_tenant_reuses_the_accounts_the_admin_made_and_activates(admin_onboarded):
    printed = run_json("tenant", "globex-corp", "--base-url", "http://127.0.0.1:8123")
    assert printed["order_manager"]["username"] == "globex@sandbox" and printed["order_manager"]["activated"] is True
    assert OmAccount.objects.count() == WmsAccount.objects.count() == 1
    assert OrderManagerConnection.objects.filter(warehouse__tenant=admin_onboarded).count() == 1
