"""tenants 0007_connection_activation: connections that existed were running, so they stay active."""

import pytest
from django.db import connection as db
from django.db.migrations.executor import MigrationExecutor

BEFORE, AFTER = [("tenants", "0006_om_app_install")], [("tenants", "0007_connection_activation")]


@pytest.mark.django_db(transaction=True)
def test_existing_connections_are_activated_at_their_creation_time():
    executor = MigrationExecutor(db)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Tenant, Warehouse = old.get_model("tenants", "Tenant"), old.get_model("tenants", "Warehouse")
    Connection = old.get_model("tenants", "OrderManagerConnection")
    tenant = Tenant.objects.create(name="T", slug="t")
    warehouse = Warehouse.objects.create(
        tenant=tenant, name="W", client_id="c", client_secret="s", customer_id=1, facility_id=1
    )
    pk = Connection.objects.create(warehouse=warehouse, warehouse_name="W", access_token="tok").pk
    executor = MigrationExecutor(db)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps.get_model("tenants", "OrderManagerConnection")
    migrated = new.objects.get(pk=pk)
    assert migrated.activated_at == migrated.created_at and migrated.activated_by is None
    MigrationExecutor(db).migrate(MigrationExecutor(db).loader.graph.leaf_nodes())
