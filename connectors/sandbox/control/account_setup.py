"""Sandbox accounts of both services, set up the way the `sandbox` command and the tests need them.

- `ensure_om_account` / `ensure_wms_account`: create or update an account (and its warehouse);
  calling them again with the same key updates the account in place (idempotent set-up).
- `ensure_om_app`, `install_code`, `static_token`: an Order Manager app, its install step without a
  browser (same rules as the install page), and a token as for an app installed by hand.
- `om_warehouse`: an Order Manager account's warehouse by name, or its first one.
"""

from __future__ import annotations

import datetime

from .. import clock
from ..credentials import hash_secret, new_token
from ..models import OmAccount, OmApp, OmAuthCode, OmToken, OmWarehouse, WarehouseType, WmsAccount


def ensure_om_account(
    username: str, password: str, *, warehouse_name: str, warehouse_type: str = WarehouseType.THIRD_PARTY_LOGISTICS
) -> OmAccount:
    """Create or update an Order Manager account with (at least) the named warehouse."""
    account = OmAccount.objects.filter(username=username).first() or OmAccount(username=username)
    account.set_password(password)
    account.save()
    if account.company_id == 1 and account.pk != 1:  # a distinct company id, sent back as ``cid`` on install
        account.company_id = account.pk
        account.save(update_fields=["company_id"])
    OmWarehouse.objects.update_or_create(
        account=account, name=warehouse_name, defaults={"type": warehouse_type, "active": True}
    )
    return account


def ensure_om_app(app_key: str, secret: str, *, redirect_uris: list[str], name: str = "") -> OmApp:
    """Register (or update) an Order Manager app: its key, secret digest and redirect URIs (merged)."""
    app = OmApp.objects.filter(app_key=app_key).first() or OmApp(app_key=app_key, name=name or app_key)
    app.set_secret(secret)
    app.redirect_uris = sorted(set(app.redirect_uris or []) | set(redirect_uris))
    app.save()
    return app


def install_code(app: OmApp, account: OmAccount, redirect_uri: str, scope: str = "") -> tuple[str, int]:
    """The install page's approve step without a browser: a one-time code and the ``cid`` it redirects with.

    Same rules as the page: the redirect URI must be one the app registered."""
    if redirect_uri not in (app.redirect_uris or []):
        raise ValueError(f"{redirect_uri} is not a redirect URI registered for the app {app.app_key}")
    code = new_token()
    OmAuthCode.objects.create(
        app=app,
        account=account,
        digest=hash_secret(code),
        redirect_uri=redirect_uri,
        scope=scope,
        expires_at=clock.now() + datetime.timedelta(minutes=5),
    )
    return code, account.company_id


def static_token(account: OmAccount) -> str:
    """A token for an app installed by hand (the merchant copies it from Order Manager)."""
    value = new_token()
    OmToken.objects.create(account=account, digest=hash_secret(value))
    return value


def ensure_wms_account(
    client_id: str,
    secret: str,
    *,
    customer_id: int,
    facility_id: int,
    user_login: str = "",
    customer_name: str = "",
    facility_name: str = "",
    facility_time_zone: str = "UTC",
    login_kind: str = "user_login",
) -> WmsAccount:
    """Create or update a WMS credential for one customer in one facility, keyed by ``login_kind``."""
    account = WmsAccount.objects.filter(client_id=client_id).first() or WmsAccount(client_id=client_id)
    account.set_secret(secret)
    account.user_login = user_login
    account.login_kind = login_kind
    account.customer_id, account.facility_id = customer_id, facility_id
    account.customer_name = customer_name or f"Customer {customer_id}"
    account.facility_name = facility_name or f"Facility {facility_id}"
    account.facility_time_zone = facility_time_zone
    account.save()
    return account


def om_warehouse(account: OmAccount, name: str | None = None) -> OmWarehouse:
    """The account's warehouse by name, or its first one."""
    warehouses = account.warehouses.order_by("pk")
    found = warehouses.filter(name=name).first() if name else warehouses.first()
    if found is None:
        raise ValueError(f"Order Manager account {account} has no warehouse {name or ''}".strip())
    return found
