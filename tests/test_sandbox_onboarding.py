"""tenants.sandbox_onboarding: the one set-up of a tenant's sandbox accounts (the command and the admin
share it): activation only when asked, seeding once, in place on a second run, never another
tenant's accounts, nothing left behind when it fails."""

import pytest

from connectors.sandbox.models import OmAccount, OmApp, OmOrder, WmsAccount
from tenants import sandbox_accounts, sandbox_onboarding
from tenants.models import OrderManagerConnection, Warehouse
from tests import factories

pytestmark = pytest.mark.django_db

BASE = "http://127.0.0.1:8123/"


def test_set_up_without_activate_leaves_a_new_connection_inactive_and_with_activate_activates():
    tenant = factories.TenantFactory(slug="one")
    done = sandbox_onboarding.set_up(tenant, BASE, activate=False)
    assert done.created and not done.connection.is_activated
    assert done.connection.base_url == "http://127.0.0.1:8123/sandbox/order-manager"

    again = sandbox_onboarding.set_up(tenant, BASE, activate=True)
    assert not again.created and again.connection.pk == done.connection.pk
    assert OrderManagerConnection.objects.get(pk=done.connection.pk).is_activated


def test_seeding_happens_once_and_follows_the_numbers_given():
    tenant = factories.TenantFactory(slug="seeded")
    first = sandbox_onboarding.set_up(tenant, BASE, activate=False, seed_orders=3, seed_skus=5)
    assert first.seeded["orders_created"] == 3 and first.seeded["warehouse"]["name"] == "Sandbox 3PL"
    second = sandbox_onboarding.set_up(tenant, BASE, activate=False, seed_orders=3, seed_skus=5)
    assert second.seeded is None
    assert OmOrder.objects.filter(account=second.om).count() == 3


def test_plan_names_what_set_up_then_does():
    tenant = factories.TenantFactory(slug="planned")
    before = sandbox_onboarding.plan(tenant, BASE)
    assert (before.om_username, before.wms_client_id) == ("planned@sandbox", "sandbox-planned")
    assert (before.om_exists, before.wms_exists, before.warehouse, before.connection, before.seeds) == (
        False,
        False,
        None,
        None,
        True,
    )
    assert before.wms_base_url == "http://127.0.0.1:8123/sandbox/warehouse-manager"
    done = sandbox_onboarding.set_up(tenant, BASE, activate=False, seed_orders=1, seed_skus=1)
    after = sandbox_onboarding.plan(tenant, "http://other:9000")
    assert (after.om_exists, after.wms_exists, after.warehouse, after.connection) == (
        True,
        True,
        done.warehouse,
        done.connection,
    )
    assert (after.om_orders, after.seeds) == (1, False)


def test_a_renamed_tenant_keeps_its_accounts_and_a_newcomer_with_its_old_slug_gets_others():
    old = factories.TenantFactory(slug="acme")
    sandbox_onboarding.set_up(old, BASE, activate=False)
    old.slug = "acme-renamed"
    old.save()
    again = sandbox_onboarding.set_up(old, BASE, activate=False)
    assert again.om.username == "acme@sandbox"  # found from its connection, not from the new slug
    assert OmAccount.objects.count() == 1

    newcomer = factories.TenantFactory(slug="acme")
    theirs = sandbox_onboarding.set_up(newcomer, BASE, activate=False)
    assert theirs.om.username == f"acme-{newcomer.pk}@sandbox"
    assert theirs.wms.client_id == f"sandbox-acme-{newcomer.pk}"
    assert sandbox_accounts.of_tenant(old).om.username == "acme@sandbox"
    assert sandbox_accounts.of_tenant(newcomer).om == theirs.om


def test_a_failed_set_up_writes_nothing(settings):
    settings.HUB_OM_APP_KEY, settings.HUB_OM_APP_SECRET = "", ""
    tenant = factories.TenantFactory(slug="failing")
    with pytest.raises(sandbox_onboarding.SandboxSetupError, match="HUB_OM_APP_KEY"):
        sandbox_onboarding.set_up(tenant, BASE, activate=False)
    assert not OmAccount.objects.exists() and not WmsAccount.objects.exists()
    assert not Warehouse.objects.filter(tenant=tenant).exists()


def test_the_app_install_registers_the_served_callback(settings):
    settings.HUB_OM_REDIRECT_URL = "http://127.0.0.1:8000/om/connect/callback"
    sandbox_onboarding.set_up(factories.TenantFactory(slug="redirects"), BASE, activate=False)
    app = OmApp.objects.get(app_key=settings.HUB_OM_APP_KEY)
    assert "http://127.0.0.1:8123/om/connect/callback" in app.redirect_uris
