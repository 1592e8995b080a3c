"""tenants 0006_om_app_install: connections that signed in with a password stop until reconnected."""

import pytest
from django.db import connection as db
from django.db.migrations.executor import MigrationExecutor

BEFORE, AFTER = [("tenants", "0005_wms_login_kind")], [("tenants", "0006_om_app_install")]


@pytest.mark.django_db(transaction=True)
def test_password_only_connections_become_reconnect_needed():
    executor = MigrationExecutor(db)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Tenant, Warehouse = old.get_model("tenants", "Tenant"), old.get_model("tenants", "Warehouse")
    Connection = old.get_model("tenants", "OrderManagerConnection")
    tenant = Tenant.objects.create(name="T", slug="t")
    ids = {}
    for name, creds in (("pw", {"username": "ops", "password": "pw"}), ("tok", {"access_token": "tok"})):
        warehouse = Warehouse.objects.create(
            tenant=tenant, name=name, client_id="c", client_secret="s", customer_id=1, facility_id=1
        )
        ids[name] = Connection.objects.create(warehouse=warehouse, warehouse_name="W", **creds).pk
    executor = MigrationExecutor(db)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps.get_model("tenants", "OrderManagerConnection")
    password_one, token_one = new.objects.get(pk=ids["pw"]), new.objects.get(pk=ids["tok"])
    assert password_one.credentials_rejected_at is not None
    assert "connect this connection to Order Manager" in password_one.pause_reason
    assert token_one.credentials_rejected_at is None and str(token_one.access_token) == "tok"
    MigrationExecutor(db).migrate(MigrationExecutor(db).loader.graph.leaf_nodes())
