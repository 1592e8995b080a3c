"""tenants.models: database constraints and the plain-words validation of a connection."""

import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tenants.models import OrderManagerConnection, Warehouse, validate_time_zone
from tests import factories

pytestmark = pytest.mark.django_db


def test_one_order_manager_connection_per_warehouse():
    conn = factories.OrderManagerConnectionFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.OrderManagerConnectionFactory(warehouse=conn.warehouse)
    assert OrderManagerConnection.objects.filter(warehouse=conn.warehouse).count() == 1
    assert Warehouse.objects.get(pk=conn.warehouse.pk).order_manager == conn


def test_warehouse_name_is_unique_per_tenant_only():
    first = factories.WarehouseFactory(name="Reno")
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.WarehouseFactory(tenant=first.tenant, name="Reno")
    # Another tenant may use the same name.
    assert factories.WarehouseFactory(name="Reno").tenant != first.tenant


def test_unique_warehouse_name_is_also_a_validation_error():
    first = factories.WarehouseFactory(name="Reno")
    duplicate = factories.WarehouseFactory.build(tenant=first.tenant, name="Reno")
    with pytest.raises(ValidationError):
        duplicate.full_clean()


def test_blank_warehouse_name_with_inventory_sync_is_explained():
    conn = factories.OrderManagerConnectionFactory.build(warehouse_name="  ", inventory_sync_enabled=True)
    with pytest.raises(ValidationError) as excinfo:
        conn.clean()
    message = excinfo.value.message_dict["warehouse_name"][0]
    assert "Inventory Sync is on but the warehouse name is blank" in message
    assert "turn Inventory Sync off" in message
    assert "Order Manager warehouse name" in conn.inventory_sync_blocked_reason


def test_blank_warehouse_name_without_inventory_sync_is_fine():
    conn = factories.OrderManagerConnectionFactory.build(warehouse_name="", inventory_sync_enabled=False)
    conn.clean()
    assert conn.inventory_sync_blocked_reason  # still cannot run it, if turned on later


def test_a_connection_without_a_token_is_valid_and_needs_connecting():
    """The token comes from Connect to Order Manager after saving, so none is required to save."""
    conn = factories.OrderManagerConnectionFactory.build(access_token="")
    conn.clean()
    assert conn.needs_connect
    conn.access_token = "tok"
    assert not conn.needs_connect


def test_the_model_has_no_password_field():
    from tenants.models import OrderManagerConnection

    names = {f.name for f in OrderManagerConnection._meta.get_fields()}
    assert not names & {"password", "username"}


def test_time_zone_validator():
    validate_time_zone("Europe/Berlin")
    validate_time_zone("UTC")
    with pytest.raises(ValidationError, match="Mars/Olympus_Mons"):
        validate_time_zone("Mars/Olympus_Mons")
    tenant = factories.TenantFactory.build(time_zone="Nowhere/Town")
    with pytest.raises(ValidationError) as excinfo:
        tenant.full_clean()
    assert "time_zone" in excinfo.value.message_dict


def test_tenant_zone_and_connection_tenant():
    conn = factories.OrderManagerConnectionFactory(warehouse__tenant__time_zone="Europe/Berlin")
    assert conn.tenant == conn.warehouse.tenant
    assert conn.tenant.zone == zoneinfo.ZoneInfo("Europe/Berlin")
    assert str(conn) == f"{conn.tenant.name} / {conn.warehouse_name} → {conn.warehouse.name}"
    conn.warehouse_name = ""  # a direct-fulfilment connection names no Order Manager warehouse
    assert str(conn) == f"{conn.tenant.name} / Order Manager → {conn.warehouse.name}"


@pytest.mark.django_db
def test_run_state_names_the_most_blocking_condition_first():
    import datetime

    from django.utils import timezone

    from tests.factories import OrderManagerConnectionFactory

    now = timezone.now()
    connection = OrderManagerConnectionFactory()
    assert connection.run_state(now) == ("running", "ok")
    connection.paused_until = now + datetime.timedelta(minutes=30)
    label, level = connection.run_state(now)
    assert label.startswith("paused until ") and label.endswith(("EST", "EDT")) and level == "warn"
    connection.credentials_rejected_at = now
    assert connection.run_state(now) == ("stopped: credentials rejected", "bad")
    connection.access_token = ""
    assert connection.run_state(now) == ("not connected to Order Manager", "bad")
    connection.activated_at = None
    assert connection.run_state(now) == ("not activated", "warn")
    connection.warehouse.tenant.active = False
    assert connection.run_state(now) == ("tenant inactive", "warn")
    connection.warehouse.tenant.archived_at = now
    assert connection.warehouse.tenant.is_archived
    assert connection.run_state(now) == ("tenant archived", "warn")


def test_each_system_requires_its_own_credentials_only(shiphero_system):
    shiphero = factories.ShipHeroWarehouseFactory()
    shiphero.full_clean()  # no client id, secret, customer or facility: not ShipHero's fields
    shiphero.shiphero_refresh_token = ""
    shiphero.shiphero_warehouse_id = "  "
    with pytest.raises(ValidationError) as refused:
        shiphero.full_clean()
    assert refused.value.message_dict == {
        "shiphero_refresh_token": ["This field is required for ShipHero."],
        "shiphero_warehouse_id": ["This field is required for ShipHero."],
    }
    threepl = factories.WarehouseFactory(shiphero_refresh_token="")  # none of ShipHero's fields
    threepl.full_clean()
    threepl.client_secret = ""
    threepl.customer_id = None
    with pytest.raises(ValidationError) as refused:
        threepl.full_clean()
    assert set(refused.value.message_dict) == {"client_secret", "customer_id"}
    assert refused.value.message_dict["customer_id"] == ["This field is required for 3PL Warehouse Manager."]


def test_a_form_without_a_required_field_is_not_asked_for_it(shiphero_system):
    """Like Django's own required check: a field the form does not show (an inline) is not required by it."""
    warehouse = factories.WarehouseFactory(client_secret="")
    warehouse.full_clean(exclude=["client_secret"])
    with pytest.raises(ValidationError, match="client_secret"):
        warehouse.full_clean()


def test_an_unknown_system_is_refused_in_plain_words():
    warehouse = factories.WarehouseFactory(wms_system="acme_wms")
    with pytest.raises(ValidationError) as refused:
        warehouse.full_clean()
    assert refused.value.message_dict["wms_system"][0].startswith(
        "“acme_wms” is not a warehouse system the hub knows; known: 3pl_warehouse_manager (3PL Warehouse Manager)"
    )


def test_the_shiphero_refresh_token_is_stored_encrypted(shiphero_system):
    warehouse = factories.ShipHeroWarehouseFactory(shiphero_refresh_token="sh-refresh-secret")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT shiphero_refresh_token FROM tenants_warehouse WHERE id = %s", [warehouse.pk])
        (stored,) = cursor.fetchone()
    assert "sh-refresh-secret" not in stored
    assert str(Warehouse.objects.get(pk=warehouse.pk).shiphero_refresh_token) == "sh-refresh-secret"
    assert "sh-refresh-secret" not in repr(Warehouse.objects.get(pk=warehouse.pk).shiphero_refresh_token)


def test_the_reconciliation_settings_default_to_on_at_four():
    connection = factories.OrderManagerConnectionFactory()
    assert connection.reconciliation_enabled is True
    assert connection.reconciliation_time.isoformat() == "04:00:00"
