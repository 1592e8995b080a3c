"""`manage.py sandbox ...`: onboard tenants against the built-in sandbox and drive its data.

    sandbox tenant SLUG [--base-url URL]
    sandbox seed --tenant SLUG --orders N --skus M [--seed S]
    sandbox ship --tenant SLUG [--count N] [--seed S]
    sandbox cancel --tenant SLUG --count N
    sandbox faults --tenant SLUG [--side om|wms|both] [--rate-429 R] [--rate-500 R] [--timeout-rate R]
                   [--malformed-rate R] [--quota-per-second Q] [--timeout-seconds S] [--seed S] [--clear]
    sandbox status --tenant SLUG [--json]

`tenant` creates or updates the tenant, its "Sandbox WMS" warehouse connection and its Order
Manager connection, pointed at the sandbox served at URL (default `settings.HUB_BASE_URL`), with
freshly generated credentials for sandbox accounts named after the slug (one pair per tenant, so
tenants never share data). The Order Manager side is connected by the app install (the hub's app
is registered with the sandbox, the sandbox user approves, the code is exchanged for a token), and
the command prints those credentials, with the resulting ``access_token``, as JSON. The other sub-commands find the
tenant's sandbox accounts by the same names.
"""

import base64
import json
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

from connectors.order_manager import install as om_install
from connectors.order_manager.sandbox import oauth as om_oauth
from connectors.sandbox.api import fault_config
from connectors.sandbox.control import account_setup, fault_setup, order_events, seeding, status_report
from connectors.sandbox.models import OmAccount, WmsAccount
from tenants import om_connect
from tenants.models import OrderManagerConnection, Tenant, Warehouse

OM_WAREHOUSE_NAME = "Sandbox 3PL"
WMS_CONNECTION_NAME = "Sandbox WMS"
FACILITY_ID = 1


def om_username(slug: str) -> str:
    return f"{slug}@sandbox"


def wms_client_id(slug: str) -> str:
    return f"sandbox-{slug}"


def wms_user_login(slug: str) -> str:
    return f"{slug}-integration"


def install_app(connection, account: OmAccount, *, redirect_uri: str):
    """The app install without a browser: register the hub's app with the sandbox, let the sandbox's
    install step approve it for ``account`` (as its user would on the install page), and exchange
    the code at the sandbox's token endpoint by the same rules as over HTTP (Basic app credentials,
    one-time code, same redirect URI). Returns ``(TokenGrant, cid)``.

    The exchange runs in-process (the command runs with no server up); the live-server tests drive
    the same flow over a real socket through ``tenants.om_connect``."""
    key, secret = om_connect.app_credentials()
    if not (key and secret):
        raise CommandError("HUB_OM_APP_KEY and HUB_OM_APP_SECRET are not set (DEBUG gives development defaults).")
    app = account_setup.ensure_om_app(
        key, secret, redirect_uris=[redirect_uri, settings.HUB_OM_REDIRECT_URL], name="Order Manager hub"
    )
    code, cid = account_setup.install_code(app, account, redirect_uri, scope=" ".join(om_install.DEFAULT_SCOPES))
    request = RequestFactory().post(
        "/sandbox/order-manager/oauth/token",
        {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode(),
    )
    response = om_oauth.token(request)
    body = json.loads(response.content)
    if response.status_code != 200:
        raise CommandError(f"The sandbox refused the app install: {body}")
    return om_install.TokenGrant(body["access_token"], body["token_type"], body.get("scope", "")), cid


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise ValueError("a rate is between 0 and 1")
    return value


class Command(BaseCommand):
    help = "Onboard tenants against the built-in sandbox Order Manager and WMS, and seed, ship, cancel, inject faults."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{tenant,seed,ship,cancel,faults,status}")

        tenant = sub.add_parser(
            "tenant", help="Create or update a tenant connected to the sandbox; prints its credentials."
        )
        tenant.add_argument("slug")
        tenant.add_argument(
            "--base-url", default=None, help="Where the hub (and so the sandbox) is served; default HUB_BASE_URL."
        )

        seed = sub.add_parser("seed", help="Add orders in the pickup status and SKUs stocked at the WMS.")
        seed.add_argument("--tenant", required=True)
        seed.add_argument("--orders", type=int, required=True)
        seed.add_argument("--skus", type=int, required=True)
        seed.add_argument("--seed", type=int, default=None, help="Same seed, same data.")

        ship = sub.add_parser("ship", help="Close open WMS orders with tracking numbers.")
        ship.add_argument("--tenant", required=True)
        ship.add_argument("--count", type=int, default=None, help="Default: every open order.")
        ship.add_argument("--seed", type=int, default=None)

        cancel = sub.add_parser("cancel", help="Cancel orders in Order Manager (those at the WMS first).")
        cancel.add_argument("--tenant", required=True)
        cancel.add_argument("--count", type=int, required=True)

        faults = sub.add_parser(
            "faults", help="Inject faults into the tenant's sandbox APIs (unset options stay as they are)."
        )
        faults.add_argument("--tenant", required=True)
        faults.add_argument("--side", choices=["om", "wms", "both"], default="both")
        faults.add_argument("--rate-429", type=_rate, default=None)
        faults.add_argument("--rate-500", type=_rate, default=None)
        faults.add_argument("--timeout-rate", type=_rate, default=None)
        faults.add_argument("--malformed-rate", type=_rate, default=None)
        faults.add_argument("--quota-per-second", type=float, default=None, help="0 turns the quota off.")
        faults.add_argument("--timeout-seconds", type=float, default=None)
        faults.add_argument("--retry-after-seconds", type=float, default=None)
        faults.add_argument(
            "--token-endpoint", choices=["on", "off"], default=None, help="Also fault the token endpoints."
        )
        faults.add_argument("--seed", type=int, default=None)
        faults.add_argument("--clear", action="store_true", help="Reset every fault setting first.")

        status = sub.add_parser("status", help="Orders, stock and shipments on both sides.")
        status.add_argument("--tenant", required=True)
        status.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        action = options["action"]
        try:
            return getattr(self, f"do_{action}")(options)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

    # -------------------------------------------------------------- helpers

    def _emit(self, data) -> None:
        self.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str))

    def _accounts(self, slug: str) -> tuple[OmAccount, WmsAccount]:
        om = OmAccount.objects.filter(username=om_username(slug)).first()
        wms = WmsAccount.objects.filter(client_id=wms_client_id(slug)).first()
        if om is None or wms is None:
            raise CommandError(f"Tenant “{slug}” has no sandbox accounts: run `manage.py sandbox tenant {slug}` first.")
        return om, wms

    # -------------------------------------------------------------- sub-commands

    def do_tenant(self, options):
        slug = options["slug"]
        base = (options["base_url"] or settings.HUB_BASE_URL).rstrip("/")
        password, secret = secrets.token_urlsafe(18), secrets.token_urlsafe(24)
        with transaction.atomic():
            tenant, _ = Tenant.objects.get_or_create(slug=slug, defaults={"name": slug.replace("-", " ").title()})
            customer_id = 100 + tenant.pk
            om = account_setup.ensure_om_account(om_username(slug), password, warehouse_name=OM_WAREHOUSE_NAME)
            om_wh = account_setup.om_warehouse(om, OM_WAREHOUSE_NAME)
            account_setup.ensure_wms_account(
                wms_client_id(slug),
                secret,
                customer_id=customer_id,
                facility_id=FACILITY_ID,
                user_login=wms_user_login(slug),
                customer_name=tenant.name,
                facility_name="Sandbox Facility",
                facility_time_zone=tenant.time_zone,
            )
            warehouse = (
                Warehouse.objects.filter(tenant=tenant, client_id=wms_client_id(slug)).first()
                or Warehouse.objects.filter(tenant=tenant, name=WMS_CONNECTION_NAME).first()
                or Warehouse(tenant=tenant, name=WMS_CONNECTION_NAME)
            )
            warehouse.wms_base_url = f"{base}/sandbox/warehouse-manager"
            warehouse.client_id = wms_client_id(slug)
            warehouse.client_secret = secret
            warehouse.user_login = wms_user_login(slug)
            warehouse.customer_id = customer_id
            warehouse.facility_id = FACILITY_ID
            warehouse.facility_time_zone = tenant.time_zone
            warehouse.save()
            connection = OrderManagerConnection.objects.filter(warehouse=warehouse).first() or OrderManagerConnection(
                warehouse=warehouse
            )
            connection.base_url = connection.auth_base_url = f"{base}/sandbox/order-manager"
            connection.warehouse_name = OM_WAREHOUSE_NAME
            connection.om_warehouse_id = om_wh.pk
            connection.om_warehouse_type = om_wh.type
            # The scripted path for trying the hub: the sandbox connection is activated at once (an
            # operator onboarding in the admin activates after Test connection and pre-flight).
            connection.activated_at = connection.activated_at or timezone.now()
            connection.save()
            grant, cid = install_app(connection, om, redirect_uri=f"{base}/om/connect/callback")
            om_connect.store_grant(connection, grant, user=None, account=f"cid {cid}")
        self._emit(
            {
                "tenant": {"id": tenant.pk, "slug": tenant.slug, "name": tenant.name},
                "order_manager": {
                    "connection_id": connection.pk,
                    "activated": True,
                    "base_url": connection.base_url,
                    "auth_base_url": connection.auth_base_url,
                    "username": om.username,
                    "password": password,
                    "access_token": grant.access_token,
                    "app_key": om_connect.app_credentials()[0],
                    "warehouse_name": OM_WAREHOUSE_NAME,
                    "warehouse_id": om_wh.pk,
                    "warehouse_type": om_wh.type,
                },
                "warehouse_manager": {
                    "warehouse_id": warehouse.pk,
                    "base_url": warehouse.wms_base_url,
                    "client_id": warehouse.client_id,
                    "client_secret": secret,
                    "user_login": warehouse.user_login,
                    "login_kind": warehouse.wms_login_kind,
                    "customer_id": customer_id,
                    "facility_id": FACILITY_ID,
                    "facility_time_zone": warehouse.facility_time_zone,
                },
            }
        )

    def do_seed(self, options):
        if options["orders"] < 0 or options["skus"] < 0:
            raise CommandError("--orders and --skus must not be negative")
        om, wms = self._accounts(options["tenant"])
        self._emit(seeding.seed(om, wms, orders=options["orders"], skus=options["skus"], seed=options["seed"]))

    def do_ship(self, options):
        _, wms = self._accounts(options["tenant"])
        shipped = order_events.ship(wms, options["count"], seed=options["seed"])
        self._emit({"shipped": len(shipped), "orders": shipped})

    def do_cancel(self, options):
        om, wms = self._accounts(options["tenant"])
        cancelled = order_events.cancel(om, options["count"], wms_account=wms)
        self._emit({"cancelled": len(cancelled), "orders": cancelled})

    def do_faults(self, options):
        om, wms = self._accounts(options["tenant"])
        values = {
            "rate_429": options["rate_429"],
            "rate_500": options["rate_500"],
            "timeout_rate": options["timeout_rate"],
            "malformed_rate": options["malformed_rate"],
            "quota_per_second": options["quota_per_second"],
            "timeout_seconds": options["timeout_seconds"],
            "retry_after_seconds": options["retry_after_seconds"],
            "seed": options["seed"],
            "apply_to_token_endpoint": None if options["token_endpoint"] is None else options["token_endpoint"] == "on",
        }
        result = {}
        if options["side"] in ("om", "both"):
            result["order_manager"] = fault_setup.fault_settings(
                fault_setup.configure_faults(om_account=om, clear=options["clear"], **values)
            )
        if options["side"] in ("wms", "both"):
            result["warehouse_manager"] = fault_setup.fault_settings(
                fault_setup.configure_faults(wms_account=wms, clear=options["clear"], **values)
            )
        self._emit(result)

    def do_status(self, options):
        om, wms = self._accounts(options["tenant"])
        data = status_report.status(om, wms)
        data["faults"] = {
            "order_manager": fault_setup.fault_settings(fault_config(om)),
            "warehouse_manager": fault_setup.fault_settings(fault_config(wms)),
        }
        if options["json"]:
            self._emit(data)
            return
        omd, wmd = data["order_manager"], data["warehouse_manager"]
        lines = [
            f"Order Manager ({omd['username']}): {omd['orders_total']} orders "
            + ", ".join(f"{k} {v}" for k, v in sorted(omd["orders_by_status"].items())),
            f"  stock rows {len(omd['stock'])}, SKUs without starting inventory {len(omd['skus_without_starting_inventory'])}",
            f"  shipments recorded {omd['shipments']['count']}, duplicates {omd['shipments']['duplicates']}",
            f"WMS ({wmd['client_id']}): {wmd['orders_total']} orders "
            + ", ".join(f"{k} {v}" for k, v in sorted(wmd["orders_by_status"].items())),
            f"  SKUs with stock {len(wmd['stock_available'])}, duplicate referenceNums {len(wmd['duplicate_reference_nums'])}",
        ]
        self.stdout.write("\n".join(lines))
