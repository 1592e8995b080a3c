"""tenants.sandbox_admin: "Create sandbox accounts" on a tenant's admin page (issue 17, onboarding in
the admin alone): the confirmation page, accounts and connections made (not activated), seeded
orders in the sandbox Order Manager, idempotent, refused without the permissions or the sandbox,
the sandbox address taken from the request; and the whole path over a real socket to the first
orders at the WMS."""

import base64
import json

import pytest
from django.urls import reverse

from connectors.sandbox.credentials import hash_secret
from connectors.sandbox.models import (
    OmAccount,
    OmOrder,
    OmProduct,
    OmStock,
    OmToken,
    OrderStatus,
    WmsAccount,
    WmsStock,
)
from hub.engine import eligibility
from hub.engine.runner import run_job
from hub.models import Job, OrderRecord, SyncRun
from tenants import sandbox_accounts
from tenants.models import OrderManagerConnection, Warehouse
from tests import factories

pytestmark = pytest.mark.django_db

HOST = "127.0.0.1:8123"  # where the operator reached the admin; HUB_BASE_URL says port 8000


@pytest.fixture
def admin(superuser, admin_client_for):
    return admin_client_for(superuser)


@pytest.fixture
def acme(db):
    return factories.TenantFactory(name="Acme Outdoor", slug="acme-outdoor", time_zone="America/Denver")


def page(tenant) -> str:
    return reverse("admin:tenants_tenant_sandbox_accounts", args=[tenant.pk])


def create(client, tenant, *, host=HOST, **data):
    return client.post(page(tenant), {"orders": "6", "skus": "12", **data}, HTTP_HOST=host)


def test_the_tenant_page_offers_the_button_and_the_list_the_action(admin, acme):
    change = admin.get(reverse("admin:tenants_tenant_change", args=[acme.pk])).content.decode()
    assert f'href="{page(acme)}"' in change and "Create sandbox accounts" in change
    changelist = admin.get(reverse("admin:tenants_tenant_changelist")).content.decode()
    assert 'value="create_sandbox_accounts"' in changelist

    chosen = admin.post(
        reverse("admin:tenants_tenant_changelist"),
        {"action": "create_sandbox_accounts", "_selected_action": [acme.pk]},
    )
    assert chosen.status_code == 302 and chosen["Location"] == page(acme)
    other = factories.TenantFactory()
    both = admin.post(
        reverse("admin:tenants_tenant_changelist"),
        {"action": "create_sandbox_accounts", "_selected_action": [acme.pk, other.pk]},
        follow=True,
    )
    assert "one tenant at a time" in both.content.decode()
    assert not OmAccount.objects.exists()


def test_the_confirmation_page_says_what_will_be_created_at_the_request_address(admin, acme, settings):
    settings.HUB_BASE_URL = "http://127.0.0.1:8000"
    html = admin.get(page(acme), HTTP_HOST=HOST).content.decode()
    assert "<code>acme-outdoor@sandbox</code>" in html and "<code>sandbox-acme-outdoor</code>" in html
    assert "http://127.0.0.1:8123/sandbox/order-manager" in html
    assert "http://127.0.0.1:8123/sandbox/warehouse-manager" in html
    assert ":8000" not in html
    assert "(new, <strong>not active</strong>)" in html and 'name="orders"' in html
    assert not OmAccount.objects.exists() and not Warehouse.objects.filter(tenant=acme).exists()  # GET writes nothing


def test_creating_makes_accounts_and_a_connection_that_is_not_activated(admin, acme, superuser, settings):
    settings.HUB_BASE_URL = "http://127.0.0.1:8000"
    response = create(admin, acme)
    connection = OrderManagerConnection.objects.select_related("warehouse").get(warehouse__tenant=acme)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:tenants_ordermanagerconnection_change", args=[connection.pk])

    # Not activated: nothing runs before Test connection, the pre-flight report and Activate.
    assert connection.activated_at is None
    assert connection.run_state(connection.created_at)[0] == "not activated"
    assert eligibility.blocked_reason(connection, Job.ORDER_DOWNLOAD) == eligibility.NOT_ACTIVATED

    # Pointed at the address the request came to, connected by the app install for this operator.
    warehouse = connection.warehouse
    assert connection.base_url == connection.auth_base_url == "http://127.0.0.1:8123/sandbox/order-manager"
    assert warehouse.wms_base_url == "http://127.0.0.1:8123/sandbox/warehouse-manager"
    assert (connection.token_source, connection.connected_by) == ("app_install", superuser)
    om = OmAccount.objects.get(username="acme-outdoor@sandbox")
    assert OmToken.objects.get(digest=hash_secret(str(connection.access_token))).account == om
    wms = WmsAccount.objects.get(client_id=warehouse.client_id)
    assert wms.check_secret(str(warehouse.client_secret))
    assert (wms.customer_id, wms.facility_id, wms.facility_time_zone) == (
        warehouse.customer_id,
        warehouse.facility_id,
        "America/Denver",
    )
    assert sandbox_accounts.of_tenant(acme) == sandbox_accounts.SandboxAccounts(connection, om, wms)

    # Seeded: users, products, starting inventory and orders waiting in the sandbox Order Manager.
    assert OmOrder.objects.filter(account=om, status=OrderStatus.AWAITING_3PL_EXPORT).count() == 6
    assert OmProduct.objects.filter(account=om, master_sku__startswith="SKU-").count() == 12
    assert OmStock.objects.filter(product__account=om).exists() and WmsStock.objects.filter(account=wms).count() == 12
    assert OmOrder.objects.filter(account=om, warehouse__name=connection.warehouse_name).count() == 6

    messages = [str(m) for m in response.wsgi_request._messages]
    assert len(messages) == 1 and "Seeded 6 orders and 12 SKUs" in messages[0]
    assert f'href="{response["Location"]}"' in messages[0] and "not active yet" in messages[0]


def test_running_it_twice_updates_the_same_accounts_and_connection(admin, acme):
    create(admin, acme)
    first = OrderManagerConnection.objects.get(warehouse__tenant=acme)
    second_page = admin.get(page(acme), HTTP_HOST=HOST).content.decode()
    assert "exists: gets a new password" in second_page
    assert "14 products and 6 orders: kept as they are" in second_page  # 12 SKUs and 2 only in Order Manager
    assert 'name="orders"' not in second_page  # no second seeding offered

    create(admin, acme, orders="50", skus="50")
    assert OmAccount.objects.count() == WmsAccount.objects.count() == 1
    assert Warehouse.objects.filter(tenant=acme).count() == 1
    again = OrderManagerConnection.objects.get(warehouse__tenant=acme)
    assert again.pk == first.pk and again.activated_at is None
    assert str(again.access_token) != str(first.access_token)  # a fresh install, same account
    om = OmAccount.objects.get()
    assert OmToken.objects.get(digest=hash_secret(str(again.access_token))).account == om
    assert OmOrder.objects.filter(account=om).count() == 6  # kept, not seeded again


def test_an_activated_connection_stays_active_when_run_again(admin, acme):
    create(admin, acme)
    connection = OrderManagerConnection.objects.get(warehouse__tenant=acme)
    connection.activated_at = connection.created_at
    connection.save(update_fields=["activated_at"])
    response = create(admin, acme)
    assert OrderManagerConnection.objects.get(pk=connection.pk).activated_at == connection.created_at
    assert "It is active." in str(list(response.wsgi_request._messages)[-1])


def test_the_secure_request_address_is_stored(admin, acme, settings):
    settings.ALLOWED_HOSTS = ["hub.localhost"]
    admin.post(page(acme), {"orders": "0", "skus": "1"}, HTTP_HOST="hub.localhost:8443", secure=True)
    connection = OrderManagerConnection.objects.get(warehouse__tenant=acme)
    assert connection.base_url == "https://hub.localhost:8443/sandbox/order-manager"


def test_tenant_staff_without_the_sandbox_permissions_cannot(admin_client_for, acme):
    staff = admin_client_for(factories.tenant_staff(acme))  # every tenants/hub permission, no sandbox ones
    assert staff.get(page(acme), HTTP_HOST=HOST).status_code == 403
    assert create(staff, acme).status_code == 403
    change = staff.get(reverse("admin:tenants_tenant_change", args=[acme.pk])).content.decode()
    assert page(acme) not in change
    assert "create_sandbox_accounts" not in staff.get(reverse("admin:tenants_tenant_changelist")).content.decode()
    refused = staff.post(
        reverse("admin:tenants_tenant_changelist"),
        {"action": "create_sandbox_accounts", "_selected_action": [acme.pk]},
    )
    assert refused.status_code != 302 or refused["Location"] != page(acme)
    assert not OmAccount.objects.exists() and not Warehouse.objects.filter(tenant=acme).exists()


def test_staff_of_another_tenant_do_not_find_the_page(admin_client_for, acme):
    other = factories.tenant_staff(factories.TenantFactory())
    assert admin_client_for(other).get(page(acme), HTTP_HOST=HOST).status_code == 404
    assert not OmAccount.objects.exists()


def test_nothing_is_offered_when_the_sandbox_is_not_served(admin, acme, settings):
    settings.SANDBOX_ENABLED = False
    assert admin.get(page(acme), HTTP_HOST=HOST).status_code == 404
    assert create(admin, acme).status_code == 404
    change = admin.get(reverse("admin:tenants_tenant_change", args=[acme.pk])).content.decode()
    assert page(acme) not in change
    assert not OmAccount.objects.exists()


def test_invalid_seed_numbers_are_shown_and_nothing_is_made(admin, acme):
    response = create(admin, acme, skus="0")
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not OmAccount.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_admin_onboarded_tenant_tests_activates_and_sends_its_orders(live_server, superuser, admin_client_for):
    """The operator's path in the admin alone: Create sandbox accounts, Test connection, pre-flight,
    Activate, first Order Download; the sandbox at the address the admin was reached on."""
    admin = admin_client_for(superuser)
    acme = factories.TenantFactory(slug="acme-live")
    host = live_server.url.removeprefix("http://")
    assert create(admin, acme, host=host).status_code == 302
    connection = OrderManagerConnection.objects.get(warehouse__tenant=acme)
    assert connection.base_url == f"{live_server.url}/sandbox/order-manager"

    tested = admin.post(reverse("admin:tenants_ordermanagerconnection_test", args=[connection.pk]))
    preflight = reverse("admin:tenants_ordermanagerconnection_preflight", args=[connection.pk])
    assert tested["Location"] == preflight
    assert "<strong>6</strong> orders waiting" in admin.get(preflight).content.decode()
    admin.post(preflight, {"action": "activate", "start_from": ""})
    connection.refresh_from_db()
    assert connection.is_activated and connection.activated_by == superuser

    run = run_job(connection, Job.ORDER_DOWNLOAD)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert OrderRecord.objects.filter(connection=connection, status=OrderRecord.Status.AT_WMS).count() == 6

    # The WMS credential the admin stored works over the wire too.
    basic = base64.b64encode(f"{connection.warehouse.client_id}:{connection.warehouse.client_secret}".encode())
    token = admin.post(
        "/sandbox/warehouse-manager/AuthServer/api/Token",
        json.dumps({"grant_type": "client_credentials", "user_login": connection.warehouse.user_login}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {basic.decode()}",
    )
    assert token.status_code == 200
