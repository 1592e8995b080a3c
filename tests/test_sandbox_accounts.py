"""tenants.sandbox_accounts: a tenant's sandbox accounts are found from its own connections (the
warehouse's client id, the account the Order Manager token was issued to), on any host and port,
never from names derived from the slug."""

import pytest
from django.utils import timezone

from tenants import sandbox_accounts, sandbox_onboarding
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8123/sandbox/order-manager", True),
        ("https://hub.example.com/sandbox/order-manager/", True),
        ("https://api.skubana.com", False),
        ("http://127.0.0.1:8123/sandbox/order-manager/v1", False),
        ("", False),
    ],
)
def test_points_at_reads_the_path_only(url, expected):
    assert sandbox_accounts.points_at(url, sandbox_accounts.OM_PATH) is expected


def test_found_from_the_connection_after_the_slug_changed():
    tenant = factories.TenantFactory(slug="before")
    done = sandbox_onboarding.set_up(tenant, "http://127.0.0.1:8123", activate=False)
    tenant.slug = "after"
    tenant.save()
    found = sandbox_accounts.for_slug("after")
    assert (found.connection, found.om, found.wms) == (done.connection, done.om, done.wms)
    assert found.om.username == "before@sandbox"


def test_a_connection_to_the_real_services_has_none():
    connection = factories.OrderManagerConnectionFactory()
    assert sandbox_accounts.of_connection(connection) is None
    with pytest.raises(sandbox_accounts.NoSandboxAccounts, match="Create sandbox accounts"):
        sandbox_accounts.for_slug(connection.warehouse.tenant.slug)
    with pytest.raises(sandbox_accounts.NoSandboxAccounts, match="no tenant"):
        sandbox_accounts.for_slug("nobody")


def test_a_token_the_sandbox_never_issued_finds_no_order_manager_account():
    done = sandbox_onboarding.set_up(factories.TenantFactory(), "http://127.0.0.1:8123", activate=False)
    done.connection.access_token = "pasted-by-hand"
    done.connection.save()
    assert sandbox_accounts.of_connection(done.connection) is None


def test_every_tenant_lists_active_tenants_with_accounts_by_slug():
    for slug in ("zeta", "alpha", "sleeping"):
        sandbox_onboarding.set_up(factories.TenantFactory(slug=slug), "http://127.0.0.1:8123", activate=False)
    factories.OrderManagerConnectionFactory()  # a tenant on the real services
    sleeping = sandbox_accounts.for_slug("sleeping").tenant
    sleeping.active = False
    sleeping.save()
    assert [a.tenant.slug for a in sandbox_accounts.every_tenant()] == ["alpha", "zeta"]
    assert [a.tenant.slug for a in sandbox_accounts.every_tenant(active_only=False)] == ["alpha", "sleeping", "zeta"]


def test_every_tenant_leaves_archived_tenants_out():
    for slug in ("kept", "archived"):
        sandbox_onboarding.set_up(factories.TenantFactory(slug=slug), "http://127.0.0.1:8123", activate=False)
    archived = sandbox_accounts.for_slug("archived").tenant
    archived.archived_at = timezone.now()
    archived.save()
    assert [a.tenant.slug for a in sandbox_accounts.every_tenant()] == ["kept"]
    assert [a.tenant.slug for a in sandbox_accounts.every_tenant(active_only=False)] == ["archived", "kept"]


def test_owners_names_the_tenants_using_an_account():
    one = sandbox_onboarding.set_up(factories.TenantFactory(), "http://127.0.0.1:8123", activate=False)
    two = sandbox_onboarding.set_up(factories.TenantFactory(), "http://127.0.0.1:8123", activate=False)
    assert sandbox_accounts.owners(one.om, None) == {one.tenant.pk}
    assert sandbox_accounts.owners(None, two.wms) == {two.tenant.pk}
    assert sandbox_accounts.owners(one.om, two.wms) == {one.tenant.pk, two.tenant.pk}
    assert sandbox_accounts.owners(None, None) == set()
