"""tenants.forms: write-only secrets and the On Hold advice."""

import pytest
from django.forms.models import model_to_dict

from tenants.forms import KEEP_HINT, OrderManagerConnectionForm, WarehouseForm
from tenants.models import OrderManagerConnection, Warehouse
from tests import factories

pytestmark = pytest.mark.django_db


def form_data(instance, **changes):
    """What a browser posts back for `instance` unchanged (secret fields render empty)."""
    data = {k: ("" if v is None else v) for k, v in model_to_dict(instance).items()}
    for secret in ("password", "access_token", "client_secret", "tpl_key"):
        data.pop(secret, None)
    data.update(changes)
    return data


def test_stored_secrets_never_render():
    conn = factories.OrderManagerConnectionFactory(access_token="tok-visible?")
    conn = OrderManagerConnection.objects.get(pk=conn.pk)
    html = OrderManagerConnectionForm(instance=conn).as_p()
    assert "tok-visible?" not in html
    assert "fernet:" not in html
    assert 'type="password"' in html
    assert KEEP_HINT in html

    warehouse = Warehouse.objects.get(pk=conn.warehouse.pk)
    html = WarehouseForm(instance=warehouse).as_p()
    assert warehouse.client_secret not in html


def test_a_bound_form_with_errors_does_not_echo_a_typed_secret():
    conn = factories.OrderManagerConnectionFactory()
    form = OrderManagerConnectionForm(
        form_data(conn, access_token="typed-new-secret", order_download_interval="0"), instance=conn
    )
    assert not form.is_valid()
    assert "typed-new-secret" not in form.as_p()


def test_blank_keeps_the_stored_secret():
    conn = factories.OrderManagerConnectionFactory(access_token="keep-token")
    form = OrderManagerConnectionForm(form_data(conn, warehouse_name="Renamed"), instance=conn)
    assert form.is_valid(), form.errors
    form.save()
    fresh = OrderManagerConnection.objects.get(pk=conn.pk)
    assert fresh.warehouse_name == "Renamed"
    assert fresh.access_token == "keep-token"
    assert "access_token" not in form.changed_data


def test_a_required_secret_may_be_left_blank_when_stored():
    warehouse = factories.WarehouseFactory(client_secret="wms-keep")
    form = WarehouseForm(form_data(warehouse, client_secret=""), instance=warehouse)
    assert not form.fields["client_secret"].required
    assert form.is_valid(), form.errors
    form.save()
    assert Warehouse.objects.get(pk=warehouse.pk).client_secret == "wms-keep"


def test_a_required_secret_is_required_when_creating():
    tenant = factories.TenantFactory()
    data = {
        "tenant": tenant.pk,
        "name": "New",
        "wms_base_url": "https://wms.example.com",
        "client_id": "c",
        "customer_id": 1,
        "facility_id": 1,
        "facility_time_zone": "UTC",
    }
    form = WarehouseForm(data)
    assert not form.is_valid()
    assert "client_secret" in form.errors
    form = WarehouseForm({**data, "client_secret": "s"})
    assert form.is_valid(), form.errors
    assert form.save().client_secret == "s"


def test_a_new_value_replaces_the_stored_secret():
    conn = factories.OrderManagerConnectionFactory(access_token="old-pass")
    form = OrderManagerConnectionForm(form_data(conn, access_token="new-pass"), instance=conn)
    assert form.is_valid(), form.errors
    form.save()
    assert OrderManagerConnection.objects.get(pk=conn.pk).access_token == "new-pass"


def test_the_form_has_no_password_fields():
    """The hub never asks for the Order Manager password: the tenant types it on Order Manager's page."""
    assert not {"username", "password"} & set(OrderManagerConnectionForm.base_fields)


def test_inventory_more_often_than_daily_warns_about_on_hold():
    conn = factories.OrderManagerConnectionFactory()
    form = OrderManagerConnectionForm(form_data(conn, inventory_times_per_day=4), instance=conn)
    assert form.is_valid(), form.errors
    [note] = form.warnings()
    assert "more than once a day" in note and "On Hold" in note


@pytest.mark.parametrize(
    "changes", [{"inventory_times_per_day": 1}, {"inventory_times_per_day": 6, "inventory_sync_enabled": False}]
)
def test_no_warning_for_daily_or_disabled_inventory(changes):
    conn = factories.OrderManagerConnectionFactory()
    data = form_data(conn, **changes)
    if changes.get("inventory_sync_enabled") is False:
        data.pop("inventory_sync_enabled")  # an unticked checkbox is absent from the POST
    form = OrderManagerConnectionForm(data, instance=conn)
    assert form.is_valid(), form.errors
    assert form.warnings() == []


@pytest.mark.parametrize(
    "kind, login, ok",
    [
        ("user_login_id", "17", True),
        ("user_login_id", "integration", False),
        ("user_login_id", "", False),
        ("user_login", "integration", True),
        ("", "integration", True),
    ],
)
def test_wms_login_kind_numeric_id_is_validated(kind, login, ok):
    """The token body names the user by login name or numeric id (WMS-1); the id form must be digits."""
    warehouse = factories.WarehouseFactory()
    form = WarehouseForm(form_data(warehouse, wms_login_kind=kind, user_login=login), instance=warehouse)
    assert form.is_valid() is ok, form.errors
    if ok:
        saved = form.save()
        assert saved.wms_login_kind == (kind or "user_login")
    else:
        assert "user_login" in form.errors


@pytest.mark.django_db
def test_the_wms_pace_fields_default_when_left_out_and_are_bounded():
    tenant = factories.TenantFactory()
    data = {
        "tenant": tenant.pk,
        "name": "Main",
        "wms_base_url": "https://secure-wms.com",
        "client_id": "c",
        "client_secret": "s",
        "customer_id": 1,
        "facility_id": 1,
        "facility_time_zone": "UTC",
    }
    form = WarehouseForm(data=data)
    assert form.is_valid(), form.errors
    warehouse = form.save()
    assert (warehouse.send_concurrency, warehouse.wms_requests_per_second) == (4, 10.0)
    form = WarehouseForm(data={**data, "name": "Other", "send_concurrency": 0, "wms_requests_per_second": 0})
    assert not form.is_valid()
    assert set(form.errors) == {"send_concurrency", "wms_requests_per_second"}
