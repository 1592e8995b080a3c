"""`manage.py sandbox_live [--tenant SLUG ...] [--every S] [--ship-after S] [--ticks N]`: keep the
demo's sandbox alive, the way real customers and a real warehouse would, until stopped.

Every `--every` seconds (default 20) one bounded tick (`tick`) runs for each tenant given with
`--tenant`, or else for every active tenant that has sandbox accounts, however they were made
(`manage.py demo`, `sandbox tenant`, the admin's "Create sandbox accounts"), found again each
tick (`tenants.sandbox_accounts`), so a tenant onboarded while it runs joins in:
- 1 or 2 new orders appear in the tenant's sandbox Order Manager in the pickup status (Order
  Download picks them up);
- orders open at the sandbox WMS for more than `--ship-after` seconds (default 30) are shipped
  with tracking numbers, oldest first, at most `MAX_SHIP_PER_TICK` a tick (Shipment
  Confirmation picks them up);
- once per tenant (while its Order Manager has no cancelled order yet), the newest order open at
  the WMS is cancelled in Order Manager, as a customer would (Order Cancel Download then cancels
  it at the WMS). So that the demo shows a cancellation that arrives in time rather than "too
  late, already shipped", the sandbox warehouse holds that order, and the ones that reached it
  after it, until the hub's cancel arrives, or for `HOLD_LIMIT` at most.
Tenant warehouses on the sandbox ShipHero (`tenants.sandbox_shiphero`, the demo's Carrot & Co) get
the same new orders and shipping in a tick for every tenant (`shiphero_tick`), not the cancellation.
Beside the ticks, a thread runs the sandbox WMS's webhook sender
(`connectors.sandbox.control.webhook_sender`): the events of tenants with sandbox webhooks
(`manage.py sandbox webhooks`) are posted to the hub every half second, with retries; not with
`--ticks` (a bounded run for tests and scripts).

It changes the sandbox's own tables only (what the outside systems hold), never the hub's.
SIGTERM or Ctrl-C stops it between ticks (the current tick finishes first); `--ticks N` stops
after N ticks.
"""

from __future__ import annotations

import datetime
import logging
import random
import signal
import threading
from dataclasses import dataclass, field

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections, connection
from django.db.models import Min

from connectors.sandbox import clock
from connectors.sandbox.control import order_events, seeding, webhook_sender
from connectors.sandbox.models import OmAccount, OmOrder, OrderStatus, WmsAccount, WmsOrder, WmsOrderStatus
from tenants import sandbox_accounts as accounts_of

logger = logging.getLogger("hub.sandbox_live")

EVERY = 20.0
SHIP_AFTER = datetime.timedelta(seconds=30)
NEW_ORDERS = (1, 2)
MAX_SHIP_PER_TICK = 50
HOLD_LIMIT = datetime.timedelta(minutes=3)
CANCEL_REASON_TYPE = "BUYER_CANCELLED"
CANCEL_DETAILS = "Cancelled by the customer (sandbox_live)"


@dataclass
class TenantTick:
    """What one tick did for one tenant (order numbers / WMS referenceNums)."""

    slug: str
    new_orders: list[str] = field(default_factory=list)
    shipped: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    held: int = 0

    def describe(self) -> str:
        parts = [f"+{len(self.new_orders)} order(s) {', '.join(self.new_orders)}".rstrip()]
        if self.shipped:
            parts.append(f"shipped {len(self.shipped)} at the WMS")
        if self.cancelled:
            parts.append(f"customer cancelled {', '.join(self.cancelled)} in Order Manager")
        if self.held:
            parts.append(f"holding {self.held} at the WMS until the hub's cancel arrives")
        return f"{self.slug}: " + "; ".join(parts)


def sandbox_accounts(slugs=None, *, require_some: bool = True) -> list[accounts_of.SandboxAccounts]:
    """The sandbox accounts of the tenants `slugs`, or of every active tenant that has some (None).

    Raises CommandError when one of `slugs` has none, or (`require_some`) when no tenant has any."""
    try:
        if slugs is not None:
            return [accounts_of.for_slug(slug) for slug in slugs]
        found = accounts_of.every_tenant()
    except accounts_of.NoSandboxAccounts as exc:
        raise CommandError(str(exc))
    if not found and require_some:
        raise CommandError(
            "No tenant has sandbox accounts: run `manage.py demo` (or `manage.py sandbox tenant SLUG`), "
            "or press “Create sandbox accounts” on a tenant's admin page."
        )
    return found


def cancel_newest_at_wms(om: OmAccount, wms: WmsAccount) -> list[str]:
    """Once per account: cancel, in Order Manager, the newest order open at the WMS; returns its number."""
    if OmOrder.objects.filter(account=om, status=OrderStatus.CANCELLED).exists():
        return []
    open_refs = (
        WmsOrder.objects.filter(account=wms, status=WmsOrderStatus.OPEN)
        .order_by("-pk")
        .values_list("reference_num", flat=True)
    )
    for reference in open_refs[:5]:
        # `order_events.cancel` picks the OLDEST order at the WMS; the newest one keeps the hold
        # below from delaying the orders that are already due to ship.
        cancelled = (
            OmOrder.objects.filter(account=om, order_number=reference)
            .exclude(status__in=[OrderStatus.SHIPPED, OrderStatus.CANCELLED])
            .update(
                status=OrderStatus.CANCELLED,
                modified_date=clock.now(),
                cancel_reason_type=CANCEL_REASON_TYPE,
                cancel_reason_details=CANCEL_DETAILS,
            )
        )
        if cancelled:
            return [reference]
    return []


def ship_due(
    om: OmAccount,
    wms: WmsAccount,
    now: datetime.datetime,
    *,
    ship_after: datetime.timedelta,
    limit: int,
    rng: random.Random,
) -> tuple[list[str], int]:
    """Ship the WMS orders open for longer than `ship_after` (bounded, oldest first); returns (shipped, held)."""
    open_orders = WmsOrder.objects.filter(account=wms, status=WmsOrderStatus.OPEN)
    recently_cancelled = OmOrder.objects.filter(
        account=om, status=OrderStatus.CANCELLED, modified_date__gt=now - HOLD_LIMIT
    ).values("order_number")
    hold_from = open_orders.filter(reference_num__in=recently_cancelled).aggregate(pk=Min("pk"))["pk"]
    due = open_orders.filter(creation_date__lte=now - ship_after)
    held = 0
    if hold_from is not None:
        held = due.filter(pk__gte=hold_from).count()
        due = due.filter(pk__lt=hold_from)
    count = min(due.count(), limit)
    if not count:
        return [], held
    # `order_events.ship` closes the `count` open orders with the lowest ids. WMS ids grow with
    # creation time, so those are exactly the `count` due ones counted above.
    shipped = order_events.ship(wms, count, seed=rng.randrange(2**31))
    return [s["referenceNum"] for s in shipped], held


def shiphero_tick(found, now: datetime.datetime, rng: random.Random, *, ship_after, new_orders, max_ship) -> TenantTick:
    """The same customers and warehouse for a tenant warehouse on the sandbox ShipHero: new orders,
    and the orders pending at ShipHero for longer than `ship_after` shipped (no cancellation)."""
    from connectors.sandbox.models import ShipHeroOrder
    from connectors.shiphero.sandbox import control as shiphero_control
    from tenants import sandbox_shiphero

    result = TenantTick(f"{found.connection.warehouse.tenant.slug} (ShipHero)")
    count = rng.randint(*new_orders)
    if count:
        om_warehouse = found.om.warehouses.filter(pk=found.connection.om_warehouse_id).first()
        seeded = sandbox_shiphero.seed(
            found.om, found.account, orders=count, skus=0, seed=rng.randrange(2**31), warehouse=om_warehouse
        )
        first, last = (int(n.split("-")[1]) for n in seeded["order_numbers"])
        result.new_orders = [f"SO-{n:06d}" for n in range(first, last + 1)]
    due = (
        ShipHeroOrder.objects.filter(
            account=found.account, fulfillment_status="pending", created_at__lte=now - ship_after
        )
        .order_by("pk")
        .values_list("partner_order_id", flat=True)[:max_ship]
    )
    if due:
        shipped = shiphero_control.ship(found.account, partner_order_ids=list(due), seed=rng.randrange(2**31))
        result.shipped = [order["partner_order_id"] for order in shipped]
    return result


def tick(
    slugs=None,
    *,
    now: datetime.datetime | None = None,
    rng: random.Random | None = None,
    ship_after: datetime.timedelta = SHIP_AFTER,
    new_orders: tuple[int, int] = NEW_ORDERS,
    max_ship: int = MAX_SHIP_PER_TICK,
) -> list[TenantTick]:
    """One bounded round of customer and warehouse activity for each tenant in `slugs`, or for every
    tenant with sandbox accounts (None; see the module docstring)."""
    rng = rng or random.Random()
    now = now or clock.now()
    report = []
    for found in sandbox_accounts(slugs, require_some=False):
        om, wms = found.om, found.wms
        result = TenantTick(found.tenant.slug)
        count = rng.randint(*new_orders)
        if count:
            seeded = seeding.seed(om, wms, orders=count, skus=0, seed=rng.randrange(2**31))
            first, last = (int(n.split("-")[1]) for n in seeded["order_numbers"])
            result.new_orders = [f"SO-{n:06d}" for n in range(first, last + 1)]
        result.cancelled = cancel_newest_at_wms(om, wms)
        result.shipped, result.held = ship_due(om, wms, now, ship_after=ship_after, limit=max_ship, rng=rng)
        report.append(result)
    if slugs is None:  # every tenant: those on the sandbox ShipHero too
        from tenants import sandbox_shiphero

        for found in sandbox_shiphero.every_connection():
            report.append(
                shiphero_tick(found, now, rng, ship_after=ship_after, new_orders=new_orders, max_ship=max_ship)
            )
    return report


class Command(BaseCommand):
    help = "Keep the demo's sandbox alive: new orders trickle in, the sandbox WMS ships, one order is cancelled. Stops on SIGTERM/Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument(
            "--tenant",
            action="append",
            dest="tenants",
            metavar="SLUG",
            help="A tenant with sandbox accounts (repeatable); default: every active tenant that has some.",
        )
        parser.add_argument("--every", type=float, default=EVERY, help="Seconds between ticks (default 20).")
        parser.add_argument(
            "--ship-after",
            type=float,
            default=SHIP_AFTER.total_seconds(),
            help="Seconds an order stays open at the sandbox WMS before it ships (default 30).",
        )
        parser.add_argument(
            "--ticks", type=int, default=0, help="Stop after this many ticks (default: run until stopped)."
        )
        parser.add_argument("--seed", type=int, default=None, help="Same seed, same sequence of activity.")

    def handle(self, *args, **options):
        slugs = options["tenants"]  # None: every tenant with sandbox accounts, found again each tick
        at_start = sandbox_accounts(slugs)  # fail at start, not on the first tick, when set-up is missing
        every = max(options["every"], 0.1)
        ship_after = datetime.timedelta(seconds=options["ship_after"])
        rng = random.Random(options["seed"])
        stop = threading.Event()

        def request_stop(signum, frame):
            stop.set()

        previous = {signum: signal.signal(signum, request_stop) for signum in (signal.SIGTERM, signal.SIGINT)}
        # The sandbox WMS's webhook sender: delivers queued events every half second, beside the ticks.
        sender = threading.Thread(
            target=webhook_sender.run, kwargs={"stop": stop}, name="sandbox-webhooks", daemon=True
        )
        if not options["ticks"]:
            sender.start()
        try:
            self._loop(slugs, at_start, every, ship_after, rng, options["ticks"], stop)
        finally:
            stop.set()
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _loop(self, slugs, at_start, every, ship_after, rng, ticks, stop):
        names = ", ".join(found.tenant.slug for found in at_start)
        if slugs is None:
            names += " (every tenant with sandbox accounts, found again each tick)"
        self.stdout.write(
            f"sandbox_live: every {every:g} s for {names}; orders ship {ship_after.total_seconds():g} s after reaching the WMS"
        )
        done = 0
        while not stop.is_set():
            if not connection.in_atomic_block:
                # Long-lived process: drop connections past CONN_MAX_AGE or broken, as Django does per request.
                close_old_connections()
            try:
                for result in tick(slugs, rng=rng, ship_after=ship_after):
                    self.stdout.write(result.describe())
            except DatabaseError as exc:
                # A busy database (e.g. SQLite's write lock under load) only skips this tick.
                logger.warning("sandbox_live tick skipped: %s", exc)
            done += 1
            if ticks and done >= ticks:
                break
            stop.wait(every)
        self.stdout.write("sandbox_live: stopped")
