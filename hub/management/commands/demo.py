"""`manage.py demo [--base-url URL] [--orders N] [--skus M]`: set up what the one-command demo shows.

Idempotent (`scripts/demo` runs it on every start). For each of the two demo tenants on 3PL
Warehouse Manager (`DEMO_TENANTS`) it:
- creates the tenant (name and time zone) if missing and onboards it against the built-in
  sandbox served at URL (default `settings.HUB_BASE_URL`) with `manage.py sandbox tenant`, which
  creates or updates the sandbox accounts and the tenant's two connections (fresh credentials);
- seeds the tenant's sandbox accounts once (N orders in the pickup status, M SKUs stocked at the
  WMS; a fixed seed per tenant, so every fresh demo shows the same data); later runs keep the
  data, including the orders `manage.py sandbox_live` added since;
- turns on WMS webhooks for Acme Outdoor (`manage.py sandbox webhooks`): its shipped orders are
  confirmed within seconds, Bluebird Goods' by the one-minute poll;
- sets the demo's short intervals (Order Download, Order Cancel Download and Shipment
  Confirmation every minute). Saving the connection recomputes the due times (hub.engine.schedule_signals); the
  inventory schedule stays at the tenant's local 23:00, and "Run now" triggers it.
The demo tenant on ShipHero (`DEMO_SHIPHERO_TENANTS`) is onboarded against the sandbox ShipHero
(`tenants.sandbox_shiphero`), seeded once the same way, activated and set to the same intervals.
Then it installs the django-q2 schedule that runs the dispatcher (`setup_schedules`) and prints
what was set up. Refuses to run when the sandbox is not served (`HUB_SANDBOX_ENABLED` off).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from connectors.sandbox.control import seeding
from connectors.sandbox.models import OmOrder, OmProduct
from tenants import sandbox_accounts, sandbox_onboarding, sandbox_shiphero
from tenants.models import OrderManagerConnection, Tenant


@dataclass(frozen=True)
class DemoTenant:
    slug: str
    name: str
    time_zone: str
    seed: int
    webhooks: bool = False  # WMS webhooks from the sandbox WMS (Shipment Confirmation within seconds)


DEMO_TENANTS = (
    DemoTenant("acme-outdoor", "Acme Outdoor", "America/New_York", seed=101, webhooks=True),
    DemoTenant("bluebird-goods", "Bluebird Goods", "America/Los_Angeles", seed=202),
)
# On ShipHero beside the two on 3PL Warehouse Manager: one hub, two warehouse systems
# (tenants.sandbox_shiphero). `manage.py sandbox` and `sandbox_live` speak to the 3PL sandbox only.
DEMO_SHIPHERO_TENANTS = (DemoTenant("carrot-co", "Carrot & Co", "America/Chicago", seed=303),)
DEMO_ORDERS = sandbox_onboarding.SEED_ORDERS
DEMO_SKUS = sandbox_onboarding.SEED_SKUS
# Minutes. The smallest interval the connection form allows: the demo has to show a whole order
# life cycle within two minutes.
DEMO_INTERVALS = {
    "order_download_interval": 1,
    "cancel_download_interval": 1,
    "shipment_confirmation_interval": 1,
}


def demo_connection(slug: str) -> OrderManagerConnection:
    """The Order Manager connection the demo made for the demo tenant `slug` (either system)."""
    if slug in {spec.slug for spec in DEMO_SHIPHERO_TENANTS}:
        return OrderManagerConnection.objects.select_related("warehouse__tenant").get(
            warehouse__tenant__slug=slug, warehouse__name=sandbox_shiphero.WAREHOUSE_NAME
        )
    return sandbox_accounts.for_slug(slug).connection


def set_demo_intervals(connection: OrderManagerConnection) -> None:
    changed = [field for field, minutes in DEMO_INTERVALS.items() if getattr(connection, field) != minutes]
    for field in changed:
        setattr(connection, field, DEMO_INTERVALS[field])
    if changed:
        connection.save(update_fields=changed)


def set_up_shiphero_tenant(spec: DemoTenant, base_url: str, *, orders: int, skus: int) -> dict:
    """The demo tenant on ShipHero: onboarded, seeded once, activated, at the demo's intervals."""
    tenant, _ = Tenant.objects.get_or_create(slug=spec.slug, defaults={"name": spec.name, "time_zone": spec.time_zone})
    done = sandbox_shiphero.set_up(
        tenant, base_url, activate=True, seed_orders=orders, seed_skus=skus, seed_value=spec.seed
    )
    set_demo_intervals(done.connection)
    return {
        "slug": spec.slug,
        "name": tenant.name,
        "connection_id": done.connection.pk,
        "system": "ShipHero",
        "seeded": done.seeded is not None,
        "orders_in_order_manager": OmOrder.objects.filter(account=done.om).count(),
        "products": OmProduct.objects.filter(account=done.om).count(),
    }


def set_up_tenant(spec: DemoTenant, base_url: str, *, orders: int = DEMO_ORDERS, skus: int = DEMO_SKUS) -> dict:
    """Create/onboard/seed one demo tenant and set its demo intervals; returns what it did (JSON-ready)."""
    Tenant.objects.get_or_create(slug=spec.slug, defaults={"name": spec.name, "time_zone": spec.time_zone})
    # The sandbox command owns onboarding (accounts, credentials, both connections); its JSON
    # output holds fresh credentials, which the demo has no reason to print.
    call_command("sandbox", "tenant", spec.slug, "--base-url", base_url, stdout=io.StringIO())
    found = sandbox_accounts.for_slug(spec.slug)
    om, wms = found.om, found.wms
    seeded = not OmProduct.objects.filter(account=om).exists()
    if seeded:
        seeding.seed(om, wms, orders=orders, skus=skus, seed=spec.seed)
    connection = found.connection
    if spec.webhooks:
        from hub.webhooks import sandbox_link

        sandbox_link.connect(connection.warehouse, wms, base_url)
    set_demo_intervals(connection)
    return {
        "slug": spec.slug,
        "name": connection.warehouse.tenant.name,
        "connection_id": connection.pk,
        "system": "3PL Warehouse Manager",
        "seeded": seeded,
        "orders_in_order_manager": OmOrder.objects.filter(account=om).count(),
        "products": OmProduct.objects.filter(account=om).count(),
    }


class Command(BaseCommand):
    help = (
        "Set up (idempotently) the demo's tenants (two on 3PL Warehouse Manager, one on ShipHero) against the "
        "built-in sandbox, and the dispatcher schedule."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url", default=None, help="Where the hub (and so the sandbox) is served; default HUB_BASE_URL."
        )
        parser.add_argument(
            "--orders", type=int, default=DEMO_ORDERS, help="Orders seeded per tenant on the first run."
        )
        parser.add_argument("--skus", type=int, default=DEMO_SKUS, help="SKUs seeded per tenant on the first run.")

    def handle(self, *args, **options):
        if not settings.SANDBOX_ENABLED:
            raise CommandError(
                "The demo needs the built-in sandbox: set HUB_SANDBOX_ENABLED=true (the default with DEBUG)."
            )
        if options["orders"] < 0 or options["skus"] < 1:
            raise CommandError("--orders must not be negative and --skus must be at least 1")
        base = (options["base_url"] or settings.HUB_BASE_URL).rstrip("/")
        sizes = {"orders": options["orders"], "skus": options["skus"]}
        done = [set_up_tenant(spec, base, **sizes) for spec in DEMO_TENANTS]
        done += [set_up_shiphero_tenant(spec, base, **sizes) for spec in DEMO_SHIPHERO_TENANTS]
        call_command("setup_schedules", stdout=io.StringIO())
        minutes = ", ".join(
            f"{field.removesuffix('_interval').replace('_', ' ')} every {m} min" for field, m in DEMO_INTERVALS.items()
        )
        lines = [f"Demo tenants against the sandbox at {base}/sandbox/ ({minutes}; inventory: Run now):"]
        for t in done:
            what = "seeded" if t["seeded"] else "kept"
            lines.append(
                f"  {t['name']} ({t['slug']}, {t['system']}): connection {t['connection_id']}, "
                f"{t['orders_in_order_manager']} orders and {t['products']} products in Order Manager ({what})"
            )
        self.stdout.write("\n".join(lines))
