"""tenants.admin: one-page onboarding, write-only secrets on change pages, Test connection offered."""

import datetime

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from tenants.models import OrderManagerConnection, Tenant, TenantMembership, Warehouse
from tests import factories

pytestmark = pytest.mark.django_db

ONBOARD_URL = reverse("admin:tenants_tenant_onboard")


def onboarding_post(**overrides):
    data = {
        "tenant-name": "Acme Outdoor",
        "tenant-slug": "acme-outdoor",
        "tenant-time_zone": "America/Denver",
        "tenant-active": "on",
        "warehouse-name": "Reno",
        "warehouse-wms_base_url": "https://wms.example.com",
        "warehouse-client_id": "acme-client",
        "warehouse-client_secret": "wms-onboard-secret",
        "warehouse-user_login": "integration",
        "warehouse-tpl_key": "",
        "warehouse-customer_id": "12",
        "warehouse-facility_id": "3",
        "warehouse-facility_time_zone": "America/Los_Angeles",
        "connection-base_url": "https://om.example.com",
        "connection-auth_base_url": "https://om.example.com",
        "connection-access_token": "",
        "connection-warehouse_name": "Reno 3PL",
        "connection-pickup_status": "AWAITING_3PL_EXPORT",
        "connection-start_from": "",
        "connection-order_download_enabled": "on",
        "connection-cancel_download_enabled": "on",
        "connection-shipment_confirmation_enabled": "on",
        "connection-inventory_sync_enabled": "on",
        "connection-order_download_interval": "5",
        "connection-cancel_download_interval": "5",
        "connection-shipment_confirmation_interval": "15",
        "connection-inventory_time": "23:00",
        "connection-inventory_times_per_day": "1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def admin(superuser, admin_client_for):
    return admin_client_for(superuser)


def test_onboarding_page_is_linked_and_shows_three_parts(admin):
    changelist = admin.get(reverse("admin:tenants_tenant_changelist"))
    assert ONBOARD_URL in changelist.content.decode()
    page = admin.get(ONBOARD_URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Onboard a tenant" in html
    for part in ("1. Tenant", "2. Warehouse", "3. Order Manager connection"):
        assert part in html


def test_onboarding_creates_tenant_warehouse_and_connection_in_one_post(admin):
    response = admin.post(ONBOARD_URL, onboarding_post())
    conn = OrderManagerConnection.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:tenants_ordermanagerconnection_change", args=[conn.pk])
    tenant = Tenant.objects.get()
    assert (tenant.name, tenant.time_zone) == ("Acme Outdoor", "America/Denver")
    assert conn.warehouse.tenant == tenant and conn.warehouse.name == "Reno"
    assert conn.warehouse.client_secret == "wms-onboard-secret"
    assert conn.warehouse_name == "Reno 3PL" and conn.needs_connect  # next: Connect to Order Manager
    follow = admin.get(response["Location"])
    assert "onboarded" in follow.content.decode()


def test_onboarding_shows_the_on_hold_warning(admin):
    response = admin.post(ONBOARD_URL, onboarding_post(**{"connection-inventory_times_per_day": "3"}), follow=True)
    assert OrderManagerConnection.objects.count() == 1
    assert "more than once a day" in response.content.decode()


@pytest.mark.parametrize(
    "overrides, error",
    [
        ({"connection-warehouse_name": ""}, "Inventory Sync is on but the warehouse name is blank"),
        ({"warehouse-client_secret": ""}, "This field is required"),
        ({"tenant-time_zone": "Mars/Base"}, "Mars/Base"),
        ({"warehouse-customer_id": "twelve"}, "Enter a whole number"),
    ],
)
def test_onboarding_saves_nothing_when_one_part_is_invalid(admin, overrides, error):
    response = admin.post(ONBOARD_URL, onboarding_post(**overrides))
    assert response.status_code == 200
    html = response.content.decode()
    assert error in html
    assert (Tenant.objects.count(), Warehouse.objects.count(), OrderManagerConnection.objects.count()) == (0, 0, 0)
    # Typed secrets are not sent back to the browser.
    assert "om-onboard-password" not in html and "wms-onboard-secret" not in html


def test_onboarding_rolls_back_when_a_later_save_fails(admin):
    # A tenant name already taken is caught by form validation; nothing new is written.
    factories.TenantFactory(name="Acme Outdoor", slug="other")
    response = admin.post(ONBOARD_URL, onboarding_post())
    assert response.status_code == 200
    assert Tenant.objects.count() == 1 and Warehouse.objects.count() == 0


def test_tenant_staff_cannot_onboard(admin_client_for):
    staff = factories.tenant_staff(factories.TenantFactory())
    client = admin_client_for(staff)
    response = client.post(ONBOARD_URL, onboarding_post())
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
    assert Tenant.objects.count() == 1


def test_change_pages_never_contain_secrets(admin):
    conn = factories.OrderManagerConnectionFactory(
        access_token="om-page-token",
        warehouse__client_secret="wms-page-secret",
        warehouse__tpl_key="wms-page-tpl",
    )
    pages = [
        reverse("admin:tenants_ordermanagerconnection_change", args=[conn.pk]),
        reverse("admin:tenants_warehouse_change", args=[conn.warehouse.pk]),
        reverse("admin:tenants_tenant_change", args=[conn.warehouse.tenant.pk]),
        reverse("admin:tenants_ordermanagerconnection_changelist"),
        reverse("admin:tenants_warehouse_changelist"),
    ]
    for url in pages:
        html = admin.get(url).content.decode()
        assert conn.warehouse.name in html, url
        for secret in ("om-page-secret", "om-page-token", "wms-page-secret", "wms-page-tpl", "fernet:"):
            assert secret not in html, (url, secret)


def test_saving_a_change_page_with_blank_secrets_keeps_them_and_logs_no_secret_change(admin):
    conn = factories.OrderManagerConnectionFactory(access_token="keep-this")
    url = reverse("admin:tenants_ordermanagerconnection_change", args=[conn.pk])
    form = admin.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if name not in ("access_token",)}
    data = {k: ("" if v is None else v) for k, v in data.items() if v is not False}
    data["warehouse_name"] = "Renamed 3PL"
    data["start_from_0"] = data["start_from_1"] = ""
    response = admin.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    fresh = OrderManagerConnection.objects.get(pk=conn.pk)
    assert (fresh.warehouse_name, fresh.access_token) == ("Renamed 3PL", "keep-this")
    message = LogEntry.objects.get(object_id=str(conn.pk)).get_change_message()
    assert "warehouse name" in message.lower() and "token" not in message


@pytest.mark.parametrize("model", ["ordermanagerconnection", "warehouse"])
def test_test_connection_action_is_offered(admin, model):
    factories.OrderManagerConnectionFactory()
    response = admin.get(reverse(f"admin:tenants_{model}_changelist"))
    html = response.content.decode()
    assert 'value="test_connection"' in html
    assert "Test connection" in html


def test_only_superusers_manage_memberships(admin_client_for, superuser):
    tenant = factories.TenantFactory()
    staff = factories.tenant_staff(tenant)
    membership = TenantMembership.objects.get(user=staff)
    client = admin_client_for(staff)
    urls = [
        reverse("admin:tenants_tenantmembership_changelist"),
        reverse("admin:tenants_tenantmembership_add"),
        reverse("admin:tenants_tenantmembership_change", args=[membership.pk]),
        reverse("admin:tenants_tenantmembership_delete", args=[membership.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code in (302, 403), url
    other = factories.UserFactory()
    response = client.post(reverse("admin:tenants_tenantmembership_add"), {"user": other.pk, "tenant": tenant.pk})
    assert response.status_code == 403
    assert not TenantMembership.objects.filter(user=other).exists()
    # The tenant page offers no membership inline to staff, but does to superusers.
    tenant_url = reverse("admin:tenants_tenant_change", args=[tenant.pk])
    assert "memberships-TOTAL_FORMS" not in client.get(tenant_url).content.decode()
    assert "memberships-TOTAL_FORMS" in admin_client_for(superuser).get(tenant_url).content.decode()
    assert admin_client_for(superuser).get(urls[0]).status_code == 200


def test_tenant_staff_set_their_alert_frequency_and_contacts_on_the_tenant_page(django_app):
    tenant = factories.TenantFactory(name="Acme Outdoor")
    other = factories.AlertContactFactory(email="someone@other.example")  # another tenant's contact
    staff = factories.tenant_staff(tenant)
    page = django_app.get(reverse("admin:tenants_tenant_change", args=[tenant.pk]), user=staff)
    assert "someone@other.example" not in page.text
    form = page.forms["tenant_form"]
    form["alert_frequency"] = "hourly"
    form["alert_contacts-TOTAL_FORMS"] = "1"
    # The admin's "Add another" row is made by JavaScript: post its fields along with the form's.
    fields = dict(form.submit_fields("_save"))
    fields.update(
        {
            "alert_contacts-0-email": "ops@acme.example",
            "alert_contacts-0-name": "Ops desk",
            "alert_contacts-0-active": "on",
            "alert_contacts-0-tenant": str(tenant.pk),
        }
    )
    response = django_app.post(form.action or page.request.path, fields, user=staff)
    assert response.status_code == 302, response.text[:2000]
    tenant.refresh_from_db()
    assert tenant.alert_frequency == "hourly"
    assert list(tenant.alert_contacts.values_list("email", "name", "active")) == [
        ("ops@acme.example", "Ops desk", True)
    ]
    assert other.tenant.alert_contacts.count() == 1


def test_an_onboarded_connection_does_nothing_until_it_is_activated(admin):
    """Issue 17: onboarding made every job due at once; the first Order Download ran within a minute."""
    from hub.engine import dispatcher, eligibility
    from hub.engine.runner import run_job
    from hub.models import Job, JobState, SyncRun

    admin.post(ONBOARD_URL, onboarding_post())
    conn = OrderManagerConnection.objects.get()
    assert not conn.is_activated and conn.run_state(timezone.now()) == ("not activated", "warn")
    assert set(JobState.objects.filter(connection=conn).values_list("next_due_at", flat=True)) == {None}
    assert dispatcher.claim_due(timezone.now() + datetime.timedelta(days=2)) == []
    run = run_job(conn, Job.ORDER_DOWNLOAD)
    assert run.status == SyncRun.Status.FAILED and run.error == eligibility.NOT_ACTIVATED
    assert run.requests_made == 0


SHIPHERO_FIELDS = ("shiphero_refresh_token", "shiphero_customer_account_id", "shiphero_warehouse_id")
THREEPL_ONLY = ("client_id", "client_secret", "user_login", "tpl_key", "customer_id", "facility_id")


def field_names(form) -> set[str]:
    return set(form.fields)


def test_onboarding_shows_only_the_chosen_systems_fields(admin, shiphero_system):
    default = admin.get(ONBOARD_URL).context["forms"]["warehouse"]
    assert set(THREEPL_ONLY) <= field_names(default) and not set(SHIPHERO_FIELDS) & field_names(default)
    page = admin.get(ONBOARD_URL, {"wms_system": "shiphero"})
    form = page.context["forms"]["warehouse"]
    assert set(SHIPHERO_FIELDS) <= field_names(form) and not set(THREEPL_ONLY) & field_names(form)
    assert form.initial["wms_base_url"] == "https://public-api.shiphero.com"
    html = page.content.decode()
    assert 'name="warehouse-shiphero_refresh_token"' in html and 'name="warehouse-client_id"' not in html
    assert '<a href="?wms_system=3pl_warehouse_manager">3PL Warehouse Manager</a>' in html


def shiphero_onboarding_post(**overrides):
    data = onboarding_post(**dict.fromkeys(f"warehouse-{f}" for f in (*THREEPL_ONLY, "facility_time_zone")))
    data.update(
        {
            "warehouse-wms_system": "shiphero",
            "warehouse-wms_base_url": "https://shiphero.example.com",
            "warehouse-shiphero_refresh_token": "sh-onboard-refresh",
            "warehouse-shiphero_customer_account_id": "",
            "warehouse-shiphero_warehouse_id": "V2FyZWhvdXNlOjEx",
        }
    )
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_onboarding_a_shiphero_warehouse_asks_for_none_of_the_3pl_fields(admin, shiphero_system):
    response = admin.post(ONBOARD_URL, shiphero_onboarding_post())
    assert response.status_code == 302, response.context["forms"]["warehouse"].errors
    warehouse = Warehouse.objects.get()
    assert warehouse.wms_system == "shiphero"
    assert (str(warehouse.shiphero_refresh_token), warehouse.shiphero_warehouse_id) == (
        "sh-onboard-refresh",
        "V2FyZWhvdXNlOjEx",
    )
    assert (warehouse.client_id, str(warehouse.client_secret), warehouse.customer_id) == ("", "", None)


def test_onboarding_a_shiphero_warehouse_without_its_token_saves_nothing(admin, shiphero_system):
    response = admin.post(ONBOARD_URL, shiphero_onboarding_post(**{"warehouse-shiphero_refresh_token": ""}))
    assert response.status_code == 200
    assert "This field is required for ShipHero." in response.content.decode()
    assert not Tenant.objects.exists()


def test_the_warehouse_admin_shows_the_rows_system_and_the_add_page_the_picked_one(admin, shiphero_system):
    warehouse = factories.ShipHeroWarehouseFactory(shiphero_refresh_token="sh-page-secret")
    page = admin.get(reverse("admin:tenants_warehouse_change", args=[warehouse.pk]))
    form = page.context["adminform"].form
    assert set(SHIPHERO_FIELDS) <= field_names(form) and not set(THREEPL_ONLY) & field_names(form)
    assert "sh-page-secret" not in page.content.decode()
    assert form.fields["shiphero_refresh_token"].help_text.startswith("Stored encrypted")
    add = admin.get(reverse("admin:tenants_warehouse_add"), {"wms_system": "shiphero"}).context["adminform"].form
    assert set(SHIPHERO_FIELDS) <= field_names(add) and "client_id" not in field_names(add)
    assert add.initial["wms_system"] == "shiphero"
    plain_add = admin.get(reverse("admin:tenants_warehouse_add")).context["adminform"].form
    assert "client_id" in field_names(plain_add) and "shiphero_refresh_token" not in field_names(plain_add)


def test_saving_a_shiphero_warehouse_keeps_its_token_and_a_new_token_resumes_the_circuit(admin, shiphero_system):
    conn = factories.OrderManagerConnectionFactory(
        warehouse=factories.ShipHeroWarehouseFactory(shiphero_refresh_token="keep-me"),
        credentials_rejected_at=timezone.now(),
    )
    url = reverse("admin:tenants_warehouse_change", args=[conn.warehouse.pk])
    form = admin.get(url).context["adminform"].form
    data = {name: ("" if form[name].value() is None else form[name].value()) for name in form.fields}
    data["shiphero_refresh_token"] = ""
    data["name"] = "Renamed"
    assert admin.post(url, data).status_code == 302
    conn.refresh_from_db()
    assert str(conn.warehouse.shiphero_refresh_token) == "keep-me" and conn.credentials_rejected_at is not None
    data["shiphero_refresh_token"] = "new-token"
    assert admin.post(url, data).status_code == 302
    conn.refresh_from_db()
    assert str(conn.warehouse.shiphero_refresh_token) == "new-token" and conn.credentials_rejected_at is None


def test_the_connection_page_has_the_reconciliation_switch_and_time(admin):
    conn = factories.OrderManagerConnectionFactory()
    form = admin.get(reverse("admin:tenants_ordermanagerconnection_change", args=[conn.pk])).context["adminform"].form
    assert {"reconciliation_enabled", "reconciliation_time"} <= set(form.fields)


def test_a_saved_warehouses_system_is_fixed(admin, shiphero_system):
    warehouse = factories.WarehouseFactory()
    url = reverse("admin:tenants_warehouse_change", args=[warehouse.pk])
    form = admin.get(url, {"wms_system": "shiphero"}).context["adminform"].form
    assert form.fields["wms_system"].disabled and "client_id" in form.fields
    data = {name: ("" if form[name].value() is None else form[name].value()) for name in form.fields}
    data.update({"wms_system": "shiphero", "client_secret": "", "tpl_key": ""})
    assert admin.post(url, data).status_code == 302
    assert Warehouse.objects.get(pk=warehouse.pk).wms_system == "3pl_warehouse_manager"
