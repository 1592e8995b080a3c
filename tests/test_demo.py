"""The demo's set-up (`manage.py demo`) and the sandbox-alive loop (`manage.py sandbox_live`), without
starting processes: set-up is idempotent, a tick trickles orders in, ships orders that waited at the
WMS, cancels one order once and holds it until the hub's cancel arrives; and the whole demo story
runs through the four jobs against the sandbox over a real socket."""

import datetime
import io
import os
import random
import signal
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_q.models import Schedule

from connectors.sandbox.models import OmOrder, OmProduct, OrderStatus, WmsOrder, WmsOrderStatus, WmsPackage, WmsStock
from hub.engine.runner import run_job
from hub.management.commands import sandbox_live
from hub.management.commands.demo import (
    DEMO_INTERVALS,
    DEMO_ORDERS,
    DEMO_SHIPHERO_TENANTS,
    DEMO_SKUS,
    DEMO_TENANTS,
    demo_connection,
)
from hub.models import Job, JobState, OrderEvent, OrderRecord, SyncRun
from hub.tasks import DISPATCH_SCHEDULE_NAME
from tenants.models import OrderManagerConnection, Tenant, Warehouse
from tests.sandbox_helpers import accounts, status

SLUGS = [spec.slug for spec in DEMO_TENANTS]
BASE = "http://127.0.0.1:8123"


def run_demo(base=BASE) -> str:
    out = io.StringIO()
    call_command("demo", "--base-url", base, stdout=out)
    return out.getvalue()


def at_wms(slug: str, numbers, *, age: datetime.timedelta) -> list[WmsOrder]:
    """WMS orders for Order Manager orders `numbers`, created `age` ago (as the hub's Order Download would)."""
    _, wms = accounts(slug)
    created = timezone.now().replace(microsecond=0) - age
    return [
        WmsOrder.objects.create(
            account=wms,
            reference_num=number,
            customer_id=wms.customer_id,
            facility_id=wms.facility_id,
            creation_date=created,
            last_modified_date=created,
        )
        for number in numbers
    ]


def wms_status(slug: str) -> dict[str, int]:
    _, wms = accounts(slug)
    return {order.reference_num: order.status for order in WmsOrder.objects.filter(account=wms)}


# ---------------------------------------------------------------- set-up


@pytest.mark.django_db
def test_demo_set_up_is_idempotent():
    first = run_demo()
    assert "seeded" in first and "kept" not in first
    counts = (Tenant.objects.count(), Warehouse.objects.count(), OrderManagerConnection.objects.count())
    second = run_demo()
    assert "kept" in second and "(seeded)" not in second
    assert (
        (Tenant.objects.count(), Warehouse.objects.count(), OrderManagerConnection.objects.count())
        == counts
        == (3, 3, 3)  # two tenants on 3PL Warehouse Manager, one on ShipHero
    )

    for spec in DEMO_TENANTS:
        tenant = Tenant.objects.get(slug=spec.slug)
        assert (tenant.name, tenant.time_zone, tenant.active) == (spec.name, spec.time_zone, True)
        om, wms = accounts(spec.slug)
        assert OmOrder.objects.filter(account=om, status=OrderStatus.AWAITING_3PL_EXPORT).count() == DEMO_ORDERS
        assert OmProduct.objects.filter(account=om, master_sku__startswith="SKU-").count() == DEMO_SKUS
        assert WmsStock.objects.filter(account=wms).count() == DEMO_SKUS

        connection = demo_connection(spec.slug)
        assert connection.base_url == f"{BASE}/sandbox/order-manager"
        assert connection.warehouse.wms_base_url == f"{BASE}/sandbox/warehouse-manager"
        assert (
            {field: getattr(connection, field) for field in DEMO_INTERVALS}
            == DEMO_INTERVALS
            == {
                "order_download_interval": 1,
                "cancel_download_interval": 1,
                "shipment_confirmation_interval": 1,
            }
        )
        states = {s.job: s for s in JobState.objects.filter(connection=connection)}
        assert set(states) == set(Job)
        now = timezone.now()
        for job in (Job.ORDER_DOWNLOAD, Job.CANCEL_DOWNLOAD, Job.SHIPMENT_CONFIRMATION):
            assert states[job].next_due_at <= now  # due at once: the first dispatcher tick runs them
        inventory_due = states[Job.INVENTORY_SYNC].next_due_at.astimezone(tenant.zone)
        assert (inventory_due.hour, inventory_due.minute) == (23, 0)  # default local time; "Run now" in the demo
    assert Schedule.objects.filter(name=DISPATCH_SCHEDULE_NAME).count() == 1


@pytest.mark.django_db
def test_demo_keeps_orders_added_since_and_follows_a_new_port():
    run_demo()
    sandbox_live.tick(SLUGS, rng=random.Random(1))
    om, _ = accounts(SLUGS[0])
    orders = OmOrder.objects.filter(account=om).count()
    assert orders > DEMO_ORDERS
    run_demo("http://127.0.0.1:8124/")
    assert OmOrder.objects.filter(account=om).count() == orders
    assert demo_connection(SLUGS[0]).base_url == "http://127.0.0.1:8124/sandbox/order-manager"


@pytest.mark.django_db
def test_demo_refuses_without_the_sandbox(settings):
    settings.SANDBOX_ENABLED = False
    with pytest.raises(CommandError, match="HUB_SANDBOX_ENABLED"):
        run_demo()
    assert not Tenant.objects.exists()


# ---------------------------------------------------------------- sandbox_live ticks


@pytest.mark.django_db
def test_tick_trickles_one_or_two_new_orders_per_tenant():
    run_demo()
    report = sandbox_live.tick(SLUGS, rng=random.Random(7))
    assert [r.slug for r in report] == SLUGS
    for result in report:
        om, _ = accounts(result.slug)
        assert 1 <= len(result.new_orders) <= 2
        assert result.new_orders[0] == f"SO-{DEMO_ORDERS + 1:06d}"
        new = OmOrder.objects.filter(account=om, order_number__in=result.new_orders)
        assert new.count() == len(result.new_orders)
        assert set(new.values_list("status", flat=True)) == {OrderStatus.AWAITING_3PL_EXPORT}
        assert OmOrder.objects.filter(account=om).count() == DEMO_ORDERS + len(result.new_orders)
        assert (result.shipped, result.cancelled) == ([], [])  # nothing at the WMS yet


@pytest.mark.django_db
def test_tick_ships_orders_that_waited_cancels_the_newest_once_and_holds_it():
    run_demo()
    slug = SLUGS[0]
    old = at_wms(slug, ["SO-000001", "SO-000002", "SO-000003"], age=datetime.timedelta(seconds=45))
    young = at_wms(slug, ["SO-000004"], age=datetime.timedelta(seconds=5))

    first = sandbox_live.tick([slug], rng=random.Random(2), new_orders=(0, 0))[0]
    # The newest order at the WMS is the one its customer cancels; it and newer ones are held.
    assert first.cancelled == ["SO-000004"]
    om, _ = accounts(slug)
    cancelled = OmOrder.objects.get(account=om, order_number="SO-000004")
    assert (cancelled.status, cancelled.cancel_reason_type) == (OrderStatus.CANCELLED, "BUYER_CANCELLED")
    assert sorted(first.shipped) == ["SO-000001", "SO-000002", "SO-000003"]
    states = wms_status(slug)
    assert [states[o.reference_num] for o in old] == [WmsOrderStatus.CLOSED] * 3
    assert states["SO-000004"] == WmsOrderStatus.OPEN
    packages = WmsPackage.objects.filter(order__in=old)
    assert packages.count() == 3 and all(p.tracking_number for p in packages)

    # Later: the cancelled order and one that reached the WMS after it are old enough, but held.
    newer = at_wms(slug, ["SO-000005"], age=datetime.timedelta(seconds=1))
    later = timezone.now() + datetime.timedelta(seconds=60)
    second = sandbox_live.tick([slug], now=later, rng=random.Random(3), new_orders=(0, 0))[0]
    assert (second.cancelled, second.shipped, second.held) == ([], [], 2)
    assert OmOrder.objects.filter(account=om, status=OrderStatus.CANCELLED).count() == 1  # once only

    # The hub's cancel reaches the WMS: the hold ends, the newer order ships, the cancelled one never does.
    WmsOrder.objects.filter(pk=young[0].pk).update(status=WmsOrderStatus.CANCELED)
    third = sandbox_live.tick([slug], now=later, rng=random.Random(4), new_orders=(0, 0))[0]
    assert (third.shipped, third.held) == ([newer[0].reference_num], 0)
    assert wms_status(slug)["SO-000004"] == WmsOrderStatus.CANCELED


@pytest.mark.django_db
def test_hold_ends_after_the_limit_and_work_per_tick_is_bounded():
    run_demo()
    slug = SLUGS[1]
    at_wms(slug, [f"SO-{n:06d}" for n in range(1, 8)], age=datetime.timedelta(seconds=1))
    assert sandbox_live.tick([slug], rng=random.Random(5), new_orders=(0, 0))[0].cancelled == ["SO-000007"]
    soon = timezone.now() + datetime.timedelta(seconds=40)
    bounded = sandbox_live.tick([slug], now=soon, rng=random.Random(6), new_orders=(0, 0), max_ship=4)[0]
    assert (bounded.shipped, bounded.held) == ([f"SO-{n:06d}" for n in range(1, 5)], 1)
    # No cancel from the hub within HOLD_LIMIT: the sandbox warehouse ships the held order after all.
    expired = timezone.now() + sandbox_live.HOLD_LIMIT + datetime.timedelta(seconds=5)
    rest = sandbox_live.tick([slug], now=expired, rng=random.Random(8), new_orders=(0, 0))[0]
    assert (rest.shipped, rest.held) == (["SO-000005", "SO-000006", "SO-000007"], 0)


@pytest.mark.django_db
def test_tick_refuses_a_tenant_without_sandbox_accounts():
    with pytest.raises(CommandError, match="manage.py demo"):
        sandbox_live.tick(["nobody"])
    with pytest.raises(CommandError, match="manage.py demo"):
        call_command("sandbox_live", "--ticks", "1", stdout=io.StringIO())


@pytest.mark.django_db
def test_tick_drives_every_active_tenant_with_sandbox_accounts_including_one_onboarded_in_the_admin():
    from tenants import sandbox_onboarding
    from tests import factories

    run_demo()
    shiphero = [f"{spec.slug} (ShipHero)" for spec in DEMO_SHIPHERO_TENANTS]  # after the 3PL ones
    assert [r.slug for r in sandbox_live.tick(rng=random.Random(1))] == [*SLUGS, *shiphero]
    # Onboarded while sandbox_live runs (the admin's "Create sandbox accounts"): the next tick has it.
    globex = factories.TenantFactory(slug="globex")
    sandbox_onboarding.set_up(globex, BASE, activate=False, seed_orders=2, seed_skus=3)
    resting = factories.TenantFactory(slug="resting", active=False)
    sandbox_onboarding.set_up(resting, BASE, activate=False, seed_orders=2, seed_skus=3)
    report = {r.slug: r for r in sandbox_live.tick(rng=random.Random(2))}
    assert sorted(report) == sorted([*SLUGS, "globex", *shiphero])  # an inactive tenant's: left alone
    om, _ = accounts("globex")
    assert OmOrder.objects.filter(account=om).count() == 2 + len(report["globex"].new_orders)
    assert sandbox_live.tick(["resting"], rng=random.Random(3))[0].slug == "resting"  # named, it is driven


@pytest.mark.django_db
def test_command_without_tenants_drives_an_admin_onboarded_tenant(superuser, admin_client_for):
    from django.urls import reverse

    from tests import factories

    globex = factories.TenantFactory(slug="globex")
    admin_client_for(superuser).post(
        reverse("admin:tenants_tenant_sandbox_accounts", args=[globex.pk]), {"orders": "1", "skus": "2"}
    )
    out = io.StringIO()
    call_command("sandbox_live", "--ticks", "1", "--every", "0.1", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("sandbox_live: every 0.1 s for globex (every tenant with sandbox accounts")
    assert lines[1].startswith("globex: +")


# ---------------------------------------------------------------- the command's loop


@pytest.mark.django_db
def test_command_runs_the_given_number_of_ticks():
    run_demo()
    out = io.StringIO()
    call_command("sandbox_live", "--ticks", "2", "--every", "0.1", "--seed", "3", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("sandbox_live: every 0.1 s for acme-outdoor, bluebird-goods")
    assert sum(line.startswith(("acme-outdoor:", "bluebird-goods:")) for line in lines) == 4
    assert lines[-1] == "sandbox_live: stopped"
    for slug in SLUGS:
        assert DEMO_ORDERS + 2 <= OmOrder.objects.filter(account=accounts(slug)[0]).count() <= DEMO_ORDERS + 4


@pytest.mark.django_db
def test_command_stops_on_sigterm_and_restores_the_signal_handlers():
    run_demo()
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    out = io.StringIO()
    try:
        call_command("sandbox_live", "--tenant", SLUGS[0], "--every", "0.1", stdout=out)  # no --ticks: until stopped
    finally:
        timer.cancel()
    assert out.getvalue().splitlines()[-1] == "sandbox_live: stopped"
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


# ---------------------------------------------------------------- the demo story over a real socket


@pytest.mark.django_db(transaction=True)
def test_demo_story_new_at_wms_shipped_confirmed_cancelled_and_inventory(live_server):
    """What the operator watches, with the jobs run in-process instead of by the django-q2 cluster."""
    run_demo(live_server.url)
    slug = SLUGS[0]
    connection = demo_connection(slug)
    assert run_job(connection, Job.ORDER_DOWNLOAD).status == SyncRun.Status.SUCCEEDED
    assert OrderRecord.objects.filter(connection=connection, status=OrderRecord.Status.AT_WMS).count() == DEMO_ORDERS

    # The newest order at the WMS is cancelled; with sends overlapping it need not be the highest number.
    _, wms = accounts(slug)
    newest = WmsOrder.objects.filter(account=wms).order_by("-pk").values_list("reference_num", flat=True)[0]
    first = sandbox_live.tick([slug], rng=random.Random(11), new_orders=(1, 1))[0]
    assert first.cancelled == [newest]
    later = timezone.now() + datetime.timedelta(seconds=31)
    second = sandbox_live.tick([slug], now=later, rng=random.Random(12), new_orders=(0, 0))[0]
    assert len(second.shipped) == DEMO_ORDERS - 1 and second.held == 1

    assert run_job(connection, Job.CANCEL_DOWNLOAD).status == SyncRun.Status.SUCCEEDED
    assert run_job(connection, Job.SHIPMENT_CONFIRMATION).status == SyncRun.Status.SUCCEEDED
    assert run_job(connection, Job.ORDER_DOWNLOAD).status == SyncRun.Status.SUCCEEDED  # the trickled order
    by_status = {
        s: OrderRecord.objects.filter(connection=connection, status=s).count() for s in OrderRecord.Status.values
    }
    assert by_status[OrderRecord.Status.CONFIRMED] == DEMO_ORDERS - 1
    assert by_status[OrderRecord.Status.CANCELLED] == 1
    assert by_status[OrderRecord.Status.AT_WMS] == 1  # trickled in, sent on the second download
    confirmed = OrderRecord.objects.filter(connection=connection, status=OrderRecord.Status.CONFIRMED).first()
    assert {"downloaded", "sent_to_wms", "shipped_at_wms", "tracking_sent"} <= set(
        OrderEvent.objects.filter(order=confirmed).values_list("kind", flat=True)
    )
    st = status(slug)
    assert st["warehouse_manager"]["duplicate_reference_nums"] == {}
    assert st["warehouse_manager"]["orders_by_status"] == {"closed": DEMO_ORDERS - 1, "canceled": 1, "open": 1}
    assert st["order_manager"]["shipments"]["duplicates"] == 0

    inventory = run_job(connection, Job.INVENTORY_SYNC, trigger=SyncRun.Trigger.MANUAL)  # what "Run now" does
    assert inventory.status == SyncRun.Status.SUCCEEDED, inventory.error
    assert inventory.updated > 0


# ---------------------------------------------------------------- the tenant on ShipHero


@pytest.mark.django_db
def test_the_demo_also_sets_up_a_tenant_on_shiphero_in_the_same_hub():
    from connectors.sandbox.models import ShipHeroProduct

    out = run_demo()
    (spec,) = DEMO_SHIPHERO_TENANTS
    assert f"{spec.name} ({spec.slug}, ShipHero): connection" in out
    connection = demo_connection(spec.slug)
    warehouse = connection.warehouse
    assert warehouse.wms_system == "shiphero" and warehouse.wms_base_url == f"{BASE}/sandbox/shiphero"
    assert connection.is_activated and connection.warehouse.tenant.time_zone == spec.time_zone
    assert {field: getattr(connection, field) for field in DEMO_INTERVALS} == DEMO_INTERVALS
    assert OmOrder.objects.filter(order_number__startswith="SO-", warehouse__name="Sandbox ShipHero").count() == (
        DEMO_ORDERS
    )
    assert ShipHeroProduct.objects.filter(sku__startswith="SKU-").count() == DEMO_SKUS
    again = run_demo()
    assert f"{spec.name} ({spec.slug}, ShipHero): connection {connection.pk}" in again and "kept" in again
    assert demo_connection(spec.slug).pk == connection.pk


@pytest.mark.django_db(transaction=True)
def test_demo_story_on_shiphero_sent_shipped_and_confirmed(live_server):
    from connectors.sandbox.models import ShipHeroAccount
    from connectors.shiphero.sandbox import control as shiphero_control

    run_demo(live_server.url)
    connection = demo_connection(DEMO_SHIPHERO_TENANTS[0].slug)
    assert run_job(connection, Job.ORDER_DOWNLOAD).status == SyncRun.Status.SUCCEEDED
    assert OrderRecord.objects.filter(connection=connection, status=OrderRecord.Status.AT_WMS).count() == DEMO_ORDERS
    account = ShipHeroAccount.objects.get(key="carrot-co@shiphero.sandbox")
    shiphero_control.ship(account, count=2, seed=5)
    assert run_job(connection, Job.SHIPMENT_CONFIRMATION).status == SyncRun.Status.SUCCEEDED
    confirmed = OrderRecord.objects.filter(connection=connection, status=OrderRecord.Status.CONFIRMED)
    assert confirmed.count() == 2


@pytest.mark.django_db(transaction=True)
def test_sandbox_live_trickles_orders_and_ships_for_the_shiphero_tenant_too(live_server):
    run_demo(live_server.url)
    connection = demo_connection(DEMO_SHIPHERO_TENANTS[0].slug)
    assert run_job(connection, Job.ORDER_DOWNLOAD).status == SyncRun.Status.SUCCEEDED
    later = timezone.now() + datetime.timedelta(seconds=31)
    report = {t.slug: t for t in sandbox_live.tick(now=later, rng=random.Random(4), new_orders=(1, 1))}
    carrot = report["carrot-co (ShipHero)"]
    assert len(carrot.new_orders) == 1 and len(carrot.shipped) == DEMO_ORDERS
    assert set(carrot.shipped) == set(
        OrderRecord.objects.filter(connection=connection).values_list("order_number", flat=True)
    )
    assert {"acme-outdoor", "bluebird-goods"} <= set(report)
    assert run_job(connection, Job.SHIPMENT_CONFIRMATION).status == SyncRun.Status.SUCCEEDED
    assert OrderRecord.objects.filter(connection=connection, status=OrderRecord.Status.CONFIRMED).count() == (
        DEMO_ORDERS
    )
