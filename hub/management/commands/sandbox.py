"""`manage.py sandbox ...`: onboard tenants against the built-in sandbox and drive its data.

    sandbox tenant SLUG [--base-url URL]
    sandbox seed --tenant SLUG --orders N --skus M [--seed S]
    sandbox ship --tenant SLUG [--count N] [--seed S]
    sandbox cancel --tenant SLUG --count N
    sandbox faults --tenant SLUG [--side om|wms|both] [--rate-429 R] [--rate-500 R] [--timeout-rate R]
                   [--malformed-rate R] [--quota-per-second Q] [--timeout-seconds S] [--seed S] [--clear]
                   [--latency-ms MS [--jitter-ms MS] [--latency-group G]...]
                   [--drop-order-rate R] [--drop-order-id ID]... [--drop-order-reads N]
                   [--export-mark-loss-rate R] [--tracking-drop-rate R]
                   [--stock-drift-rate R] [--stock-drift-units U]
    sandbox unknown-at-wms --tenant SLUG --order-id ID
    sandbox status --tenant SLUG [--json]
    sandbox webhooks --tenant SLUG [--base-url URL] [--off] [--sender-down | --sender-up]

`tenant` creates the tenant if missing and gives it sandbox accounts and a connection to them,
pointed at the sandbox served at URL (default `settings.HUB_BASE_URL`, which `scripts/demo` records
in `.env` as the address it serves), through `tenants.sandbox_onboarding` (the same set-up as the
admin's "Create sandbox accounts"), and prints the fresh credentials, with the ``access_token`` of
the app install, as JSON. Unlike the admin, it activates the connection at once (the scripted path
for trying the hub and for CI) and says so (``"activated": true``). The other sub-commands work on
any tenant that has sandbox accounts, found from its own connections (`tenants.sandbox_accounts`).

`webhooks` turns on WMS webhooks for the tenant's warehouse against the sandbox WMS at URL (default
`HUB_BASE_URL`): the hub's endpoint (key fetched from the sandbox's key URL) and the sandbox's
subscription to it (`hub.webhooks.sandbox_link`); `--off` turns both off; `--sender-down` stops the
sandbox's sender (events wait in its outbox; polling alone delivers), `--sender-up` resumes it.

`faults --latency-ms 250 --jitter-ms 100` makes every answer of the tenant's sandbox accounts take
250 +- 100 ms (drawn from the account's `--seed`); `--latency-group` (repeatable) limits it to
endpoint groups: WMS token, create, read, cancel, stock; Order Manager token, read, write (a group
of one service is skipped on the other); `--latency-ms 0` turns it off, `--clear` too. Jitter is at
most the latency, latency + jitter at most 30 s. A slow answer holds no database connection, only
its server thread (`connectors.sandbox.latency`).

The discrepancy faults (Order Manager side only; `connectors.sandbox.discrepancies`), what
Reconciliation must find: `--drop-order-rate` / `--drop-order-id` leave orders out of window
reads of the order list (each out of at most `--drop-order-reads` reads, default 1, so a later read
sees it); `--export-mark-loss-rate` answers sendtofulfillment "sent" and keeps the status;
`--tracking-drop-rate` answers an external shipment recorded and stores nothing;
`--stock-drift-rate` stores an inventory adjustment off by `--stock-drift-units`. `status` shows
what they injected. `unknown-at-wms` creates at the WMS the order the hub would have sent for
Order Manager order ID (its number as referenceNum, its id as poNum), which the hub never sent.
"""

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from connectors.sandbox.api import fault_config
from connectors.sandbox.control import fault_setup, order_events, seeding, status_report
from connectors.sandbox.models import OmAccount, OmOrder, WmsAccount
from tenants import om_connect, sandbox_accounts, sandbox_onboarding
from tenants.models import Tenant


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise ValueError("a rate is between 0 and 1")
    return value


class Command(BaseCommand):
    help = "Onboard tenants against the built-in sandbox Order Manager and WMS, and seed, ship, cancel, inject faults."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(
            dest="action", required=True, metavar="{tenant,seed,ship,cancel,faults,unknown-at-wms,status,webhooks}"
        )

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
        faults.add_argument(
            "--latency-ms", type=int, default=None, help="Answer time in ms, of every endpoint group unless given."
        )
        faults.add_argument("--jitter-ms", type=int, default=None, help="Answer times drawn from latency +- jitter.")
        faults.add_argument(
            "--latency-group",
            action="append",
            dest="latency_groups",
            choices=fault_setup.LATENCY_GROUPS,
            default=None,
            help="The endpoint group the latency is for (repeatable); default: all.",
        )

        for flag in ("--drop-order-rate", "--export-mark-loss-rate", "--tracking-drop-rate", "--stock-drift-rate"):
            faults.add_argument(flag, type=_rate, default=None, help="Order Manager side only.")
        faults.add_argument("--drop-order-id", type=int, action="append", dest="drop_order_ids", default=None)
        faults.add_argument("--drop-order-reads", type=int, default=None)
        faults.add_argument("--stock-drift-units", type=int, default=None)

        unknown = sub.add_parser("unknown-at-wms", help="Create at the WMS an order the hub never sent.")
        unknown.add_argument("--tenant", required=True)
        unknown.add_argument("--order-id", type=int, required=True, help="The Order Manager order it copies.")

        status = sub.add_parser("status", help="Orders, stock and shipments on both sides.")
        status.add_argument("--tenant", required=True)
        status.add_argument("--json", action="store_true")

        hooks = sub.add_parser("webhooks", help="WMS webhooks from the sandbox WMS to the hub, on or off.")
        hooks.add_argument("--tenant", required=True)
        hooks.add_argument("--base-url", default=None)
        hooks.add_argument("--off", action="store_true")
        down = hooks.add_mutually_exclusive_group()
        down.add_argument("--sender-down", dest="sender_down", action="store_const", const=True, default=None)
        down.add_argument("--sender-up", dest="sender_down", action="store_const", const=False)

    def handle(self, *args, **options):
        action = options["action"].replace("-", "_")
        try:
            return getattr(self, f"do_{action}")(options)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

    # -------------------------------------------------------------- helpers

    def _emit(self, data) -> None:
        self.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str))

    def _accounts(self, slug: str) -> tuple[OmAccount, WmsAccount]:
        found = sandbox_accounts.for_slug(slug)  # NoSandboxAccounts is a ValueError: a CommandError
        return found.om, found.wms

    # -------------------------------------------------------------- sub-commands

    def do_tenant(self, options):
        slug = options["slug"]
        base = options["base_url"] or settings.HUB_BASE_URL
        with transaction.atomic():  # a failed set-up leaves no tenant behind
            tenant, _ = Tenant.objects.get_or_create(slug=slug, defaults={"name": slug.replace("-", " ").title()})
            done = sandbox_onboarding.set_up(tenant, base, activate=True)
        connection, warehouse, om_wh = done.connection, done.warehouse, done.om_warehouse
        self._emit(
            {
                "tenant": {"id": tenant.pk, "slug": tenant.slug, "name": tenant.name},
                "order_manager": {
                    "connection_id": connection.pk,
                    "activated": connection.is_activated,
                    "base_url": connection.base_url,
                    "auth_base_url": connection.auth_base_url,
                    "username": done.om.username,
                    "password": done.om_password,
                    "access_token": done.access_token,
                    "app_key": om_connect.app_credentials()[0],
                    "warehouse_name": connection.warehouse_name,
                    "warehouse_id": om_wh.pk,
                    "warehouse_type": om_wh.type,
                },
                "warehouse_manager": {
                    "warehouse_id": warehouse.pk,
                    "base_url": warehouse.wms_base_url,
                    "client_id": warehouse.client_id,
                    "client_secret": done.wms_secret,
                    "user_login": warehouse.user_login,
                    "login_kind": warehouse.wms_login_kind,
                    "customer_id": warehouse.customer_id,
                    "facility_id": warehouse.facility_id,
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
            "latency_ms": options["latency_ms"],
            "jitter_ms": options["jitter_ms"],
            "latency_groups": options["latency_groups"],
        }
        discrepancy = {name: options[name] for name in fault_setup.DISCREPANCY_FIELDS}
        if options["side"] == "wms" and any(value is not None for value in discrepancy.values()):
            raise CommandError("The discrepancy faults are Order Manager's: use --side om (or both).")
        fault_setup.check_latency_groups(options["side"], options["latency_groups"])
        result = {}
        if options["side"] in ("om", "both"):
            result["order_manager"] = fault_setup.fault_settings(
                fault_setup.configure_faults(om_account=om, clear=options["clear"], **values, **discrepancy)
            )
        if options["side"] in ("wms", "both"):
            result["warehouse_manager"] = fault_setup.fault_settings(
                fault_setup.configure_faults(wms_account=wms, clear=options["clear"], **values)
            )
        self._emit(result)

    def do_unknown_at_wms(self, options):
        om, wms = self._accounts(options["tenant"])
        order = OmOrder.objects.filter(account=om, pk=options["order_id"]).first()
        if order is None:
            raise CommandError(f"The tenant's Order Manager has no order {options['order_id']}")
        self._emit(order_events.unknown_at_wms(wms, order))

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
            "  discrepancy faults injected: "
            + (
                ", ".join(f"{k} {v['count']}" for k, v in sorted(omd["faults_injected"].items()) if v["count"])
                or "none"
            ),
            f"WMS ({wmd['client_id']}): {wmd['orders_total']} orders "
            + ", ".join(f"{k} {v}" for k, v in sorted(wmd["orders_by_status"].items())),
            f"  SKUs with stock {len(wmd['stock_available'])}, duplicate referenceNums {len(wmd['duplicate_reference_nums'])}",
        ]
        self.stdout.write("\n".join(lines))

    def do_webhooks(self, options):
        from hub.webhooks import sandbox_link

        found = sandbox_accounts.for_slug(options["tenant"])
        endpoint = sandbox_link.connect(
            found.connection.warehouse,
            found.wms,
            options["base_url"] or settings.HUB_BASE_URL,
            sender_down=options["sender_down"],
            enabled=not options["off"],
        )
        subscription = found.wms.webhook
        self._emit(
            {
                "enabled": endpoint.enabled,
                "url": subscription.url,
                "key_url": endpoint.key_url,
                "sender_down": subscription.sender_down,
            }
        )
