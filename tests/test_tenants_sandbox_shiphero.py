"""tenants.sandbox_shiphero: a tenant warehouse on the sandbox ShipHero, set up in place, seeded
once, and working over a real socket: Test connection, and Order Download sending to ShipHero."""

import pytest

from connectors.sandbox.models import OmOrder, ShipHeroAccount, ShipHeroOrder, ShipHeroProduct
from hub.engine.runner import run_job
from hub.models import Job, OrderRecord, SyncRun
from tenants import clients, connection_check, sandbox_shiphero
from tenants.models import Warehouse
from tests import factories

BASE = "http://127.0.0.1:8123/"


@pytest.mark.django_db
def test_set_up_makes_a_valid_shiphero_warehouse_in_place_and_seeds_once():
    tenant = factories.TenantFactory(slug="carrot", name="Carrot Co")
    first = sandbox_shiphero.set_up(tenant, BASE, activate=False, seed_orders=3, seed_skus=5, seed_value=9)
    warehouse = Warehouse.objects.get(pk=first.warehouse.pk)
    warehouse.full_clean()
    assert (warehouse.wms_system, warehouse.wms_base_url) == ("shiphero", "http://127.0.0.1:8123/sandbox/shiphero")
    assert str(warehouse.shiphero_refresh_token) == first.refresh_token
    assert warehouse.shiphero_customer_account_id and warehouse.shiphero_warehouse_id
    assert (warehouse.client_id, warehouse.customer_id) == ("", None)
    assert first.created and not first.connection.is_activated
    assert first.seeded["orders_created"] == 3 and first.seeded["warehouse"]["name"] == "Sandbox ShipHero"
    assert ShipHeroProduct.objects.filter(account=first.account).count() == 5

    again = sandbox_shiphero.set_up(tenant, BASE, activate=True, seed_orders=3, seed_skus=5)
    assert not again.created and again.connection.pk == first.connection.pk and again.seeded is None
    assert again.connection.is_activated and ShipHeroAccount.objects.count() == 1
    assert OmOrder.objects.filter(account=again.om).count() == 3
    # The refresh token was renewed: the stored one is the new one, the old one no longer signs in.
    assert str(Warehouse.objects.get(pk=warehouse.pk).shiphero_refresh_token) == again.refresh_token
    assert again.refresh_token != first.refresh_token


@pytest.mark.django_db
def test_a_tenant_on_both_systems_keeps_two_warehouses_and_two_order_manager_accounts():
    from tenants import sandbox_onboarding

    tenant = factories.TenantFactory(slug="both")
    threepl = sandbox_onboarding.set_up(tenant, BASE, activate=False)
    shiphero = sandbox_shiphero.set_up(tenant, BASE, activate=False)
    assert threepl.warehouse.pk != shiphero.warehouse.pk and threepl.om.pk != shiphero.om.pk
    assert {w.wms_system for w in Warehouse.objects.filter(tenant=tenant)} == {"3pl_warehouse_manager", "shiphero"}


@pytest.mark.django_db(transaction=True)
def test_over_a_real_socket_test_connection_passes_and_order_download_sends_to_shiphero(live_server):
    tenant = factories.TenantFactory(slug="carrot-live", name="Carrot Live")
    done = sandbox_shiphero.set_up(tenant, live_server.url, activate=True, seed_orders=4, seed_skus=6, seed_value=3)
    report = connection_check.check_warehouse(done.warehouse)
    assert report == {"ok": True, "authenticated": "yes", "orders_readable": "yes"}, report
    client = clients.warehouse(done.connection)
    try:
        assert set(client.stock_report().available) == {f"SKU-{n}" for n in range(1, 7)}
    finally:
        client.close()
    run = run_job(done.connection, Job.ORDER_DOWNLOAD)
    assert run.status == SyncRun.Status.SUCCEEDED, (run.status, run.error)
    sent = ShipHeroOrder.objects.filter(account=done.account)
    assert sent.count() == 4
    assert set(sent.values_list("partner_order_id", flat=True)) == set(
        OrderRecord.objects.filter(connection=done.connection).values_list("order_number", flat=True)
    )
