"""Which built-in sandbox accounts a tenant's connections use: the one lookup the `sandbox` and
`sandbox_live` commands, the demo and "Create sandbox accounts" share.

A tenant has sandbox accounts when one of its Order Manager connections points at the sandbox (its
base URL's path is `OM_PATH` and its warehouse's is `WMS_PATH`, on whatever host and port the hub
is served) and both credentials belong to sandbox accounts:

- the WMS account is the one whose `client_id` is the warehouse's client id;
- the Order Manager account is the one the connection's access token was issued to (the sandbox
  keeps a digest of every token it issued, so the token itself names its account).

So the accounts are found however they were made (`manage.py sandbox tenant`, the admin's
"Create sandbox accounts", a renamed slug) and never by names derived from the slug.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from connectors.sandbox.credentials import hash_secret
from connectors.sandbox.models import OmAccount, WmsAccount

from .models import OrderManagerConnection, Tenant

OM_PATH = "/sandbox/order-manager"
WMS_PATH = "/sandbox/warehouse-manager"


class NoSandboxAccounts(ValueError):
    """The tenant (or no tenant at all) has sandbox accounts; the message says how to make them."""


@dataclass(frozen=True)
class SandboxAccounts:
    """A tenant's connection to the sandbox and the two sandbox accounts behind it."""

    connection: OrderManagerConnection
    om: OmAccount
    wms: WmsAccount

    @property
    def tenant(self) -> Tenant:
        return self.connection.warehouse.tenant


def points_at(url: str, path: str) -> bool:
    """Whether `url` is the sandbox endpoint `path` (any scheme, host and port; a trailing slash allowed)."""
    return urlsplit(url or "").path.rstrip("/") == path


def of_connection(connection: OrderManagerConnection) -> SandboxAccounts | None:
    """The sandbox accounts behind `connection`, or None when it does not point at the sandbox's
    accounts (another service, a token the sandbox never issued, an unknown client id)."""
    warehouse = connection.warehouse
    if not (points_at(connection.base_url, OM_PATH) and points_at(warehouse.wms_base_url, WMS_PATH)):
        return None
    token = str(connection.access_token or "")
    if not token:
        return None
    om = OmAccount.objects.filter(tokens__digest=hash_secret(token)).first()
    wms = WmsAccount.objects.filter(client_id=warehouse.client_id).first()
    if om is None or wms is None:
        return None
    return SandboxAccounts(connection, om, wms)


def _sandbox_connections():
    """Connections that may point at the sandbox (narrowed in SQL, confirmed by `of_connection`)."""
    return (
        OrderManagerConnection.objects.filter(base_url__contains=OM_PATH, warehouse__wms_base_url__contains=WMS_PATH)
        .select_related("warehouse__tenant")
        .order_by("pk")
    )


def of_tenant(tenant: Tenant) -> SandboxAccounts | None:
    """The sandbox accounts of `tenant`'s first connection that has some, or None."""
    for connection in _sandbox_connections().filter(warehouse__tenant=tenant):
        found = of_connection(connection)
        if found is not None:
            return found
    return None


def for_slug(slug: str) -> SandboxAccounts:
    """The sandbox accounts of the tenant `slug`; raises NoSandboxAccounts saying how to make them."""
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise NoSandboxAccounts(
            f"There is no tenant “{slug}”: run `manage.py sandbox tenant {slug}` (or `manage.py demo`), "
            "or create the tenant in the admin and press “Create sandbox accounts” on its page."
        )
    found = of_tenant(tenant)
    if found is None:
        raise NoSandboxAccounts(
            f"Tenant “{slug}” has no sandbox accounts: press “Create sandbox accounts” on its admin page, "
            f"or run `manage.py sandbox tenant {slug}` (`manage.py demo` for the demo tenants)."
        )
    return found


def every_tenant(*, active_only: bool = True) -> list[SandboxAccounts]:
    """One entry per tenant that has sandbox accounts (its first such connection), by slug; only
    active tenants in service unless `active_only` is False (an inactive or archived tenant's jobs
    never run)."""
    found: dict[int, SandboxAccounts] = {}
    connections = _sandbox_connections()
    if active_only:
        connections = connections.filter(warehouse__tenant__active=True, warehouse__tenant__archived_at__isnull=True)
    for connection in connections:
        tenant_id = connection.warehouse.tenant_id
        if tenant_id not in found and (accounts := of_connection(connection)) is not None:
            found[tenant_id] = accounts
    return sorted(found.values(), key=lambda accounts: accounts.tenant.slug)


def owners(om: OmAccount | None, wms: WmsAccount | None) -> set[int]:
    """Ids of the tenants with a sandbox connection that uses `om` (by its token) or `wms` (by its
    client id), so that set-up never hands one tenant's accounts to another."""
    ids = set()
    for connection in _sandbox_connections():
        warehouse = connection.warehouse
        if wms is not None and points_at(warehouse.wms_base_url, WMS_PATH) and warehouse.client_id == wms.client_id:
            ids.add(warehouse.tenant_id)
        token = str(connection.access_token or "")
        if (
            om is not None
            and token
            and points_at(connection.base_url, OM_PATH)
            and om.tokens.filter(digest=hash_secret(token)).exists()
        ):
            ids.add(warehouse.tenant_id)
    return ids
