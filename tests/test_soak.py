"""Soak, for each warehouse system (`tests.wms_sandboxes.SYSTEMS`, parametrised): SOAK_ORDERS orders
for each when set (`SOAK_ORDERS=1000` for a quicker run), else `DEFAULT_ORDERS` per system (3PL
Warehouse Manager 5,000: about 4 minutes on SQLite, 5.5 on PostgreSQL on a 2-core machine;
ShipHero 1,000: about 1.5 minutes on SQLite, its GraphQL answers checked against the schema and
every call paying credits at the refill `wms_sandboxes.tenant` gives) through the live sandbox
with faults on both sides
(10% 429s with a short wait, 5% 500s, 2% timeouts longer than the client's read timeout, 1%
malformed answers), the jobs run in a loop until quiet: download, cancel a few in Order Manager,
cancel download, ship everything open at the WMS, shipment confirmation.

Time moves forward with time-machine past every retry time and circuit pause instead of
sleeping, and urllib3's backoff waits are recorded rather than slept. At the end: 0 duplicate
reference numbers at the WMS, 0 duplicate shipments in Order Manager, 0 lost orders (each seeded
order is at the WMS or was cancelled before it was sent), and every order that ever failed has
an event with the reason. The counts are printed (run with -s to see them).
"""

from __future__ import annotations

import datetime
import functools
import os
import time
import types
from collections import Counter

import pytest
import time_machine
from django.db.models import Max, Q
from django.db.utils import OperationalError
from django.utils import timezone

from connectors.sandbox import faults
from connectors.sandbox.control import fault_setup
from connectors.sandbox.models import OmOrder, OrderStatus
from connectors.transport import records as transport_records
from connectors.transport.retry import HubRetry
from hub.engine import circuit, leases, runner
from hub.jobs import (
    binding,
    inventory_sync,
    order_cancel_download,
    order_download,
    reconciliation,
    shipment_confirmation,
)
from hub.models import Finding, OrderEvent, OrderRecord, SyncRun
from tests import wms_sandboxes

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SLUG = "soak"
# Orders per system: SOAK_ORDERS for both when set, else a default per system that keeps the pair
# inside CI's time (measured on 2 cores, SQLite: ShipHero 300 orders 22 s, 1,000 orders 87 s).
DEFAULT_ORDERS = {wms_sandboxes.THREEPL: 5000, wms_sandboxes.SHIPHERO: 1000}
DISCREPANCIES = {"drop_order_rate": 0.01, "export_mark_loss_rate": 0.01, "tracking_drop_rate": 0.01}
MAX_ROUNDS = 40
FAILURE_KINDS = {
    OrderEvent.Kind.SEND_FAILED,
    OrderEvent.Kind.WMS_REJECTED,
    OrderEvent.Kind.TRACKING_REJECTED,
    OrderEvent.Kind.GAVE_UP,
    OrderEvent.Kind.CANCEL_FAILED,
}
Status = OrderRecord.Status


def orders_for(system: str) -> int:
    return int(os.environ.get("SOAK_ORDERS") or DEFAULT_ORDERS[system])


@pytest.fixture
def injected(monkeypatch):
    """Count the faults the sandbox injects, by type; urllib3's backoff waits are counted, not slept."""
    counts: Counter = Counter()

    def counting(name, real):
        def wrapper(*args, **kwargs):
            counts[name] += 1
            return real(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(faults, "rate_limited", counting("429", faults.rate_limited))
    monkeypatch.setattr(faults, "server_error", counting("500", faults.server_error))
    monkeypatch.setattr(faults, "truncate", counting("malformed", faults.truncate))
    monkeypatch.setattr(
        faults, "time", types.SimpleNamespace(sleep=counting("timeout", time.sleep), monotonic=time.monotonic)
    )

    def no_sleep(self, response=None):
        counts["http retries"] += 1
        log = transport_records.current()
        if log is not None:
            log.restart()

    monkeypatch.setattr(HubRetry, "sleep", no_sleep)
    return counts


def busy(conn) -> dict:
    """What still needs a run; empty when the hub is quiet."""
    records = OrderRecord.objects.filter(connection=conn)
    left = {
        "new": records.filter(status=Status.NEW).count(),
        "retry pending": records.filter(status=Status.ERROR, error_permanent=False, given_up=False).count(),
        "shipped, not confirmed": records.filter(status=Status.SHIPPED).count(),
        "cancel pending": records.filter(cancel_requested=True, cancel_handled=False)
        .exclude(status__in=[Status.CANCELLED, Status.CANCEL_FAILED])
        .count(),
        "at the WMS, not exported": records.filter(status=Status.AT_WMS, om_exported_at__isnull=True).count(),
        # The sandbox WMS ships every open order each round: one still at_wms here means the hub has
        # not read its shipment yet (that read failed this round), so the hub is not quiet.
        "at the WMS, shipment not read": records.filter(status=Status.AT_WMS, cancel_requested=False).count(),
    }
    return {k: v for k, v in left.items() if v}


def next_moment(conn, now) -> datetime.datetime:
    """When everything waiting now is due: the latest retry time, or the end of a circuit pause."""
    conn.refresh_from_db()
    latest = OrderRecord.objects.filter(connection=conn, next_retry_at__gt=now).aggregate(t=Max("next_retry_at"))["t"]
    candidates = [now + datetime.timedelta(minutes=1)]
    if latest:
        candidates.append(latest + datetime.timedelta(seconds=1))
    if circuit.is_open(conn, now) and conn.paused_until:
        candidates.append(conn.paused_until + datetime.timedelta(seconds=1))
    return max(candidates)


def run_job(job, conn, clock, runs: Counter) -> None:
    """One run of `job`. On the in-memory SQLite test database the live server's threads share the
    test thread's database connection (Django's live server does that for in-memory SQLite), and a
    server thread still answering a call the client gave up on (a timeout fault) can make a
    statement fail with "table is locked" at once (file SQLite waits `timeout`, PostgreSQL waits).
    A run caught by one is treated like a crashed worker: the stray answers are let finish, the
    lease is left to expire (time moves past it) and the job runs again."""
    name = job.__name__.rsplit(".", 1)[-1]
    for _ in range(10):
        try:
            runs[name, runner.run_job(conn, job.JOB).status] += 1
            return
        except (OperationalError, runner.JobAlreadyRunning) as exc:
            if isinstance(exc, OperationalError) and "locked" not in str(exc):
                raise
            runs[name, "crashed (table locked)" if isinstance(exc, OperationalError) else "lease held"] += 1
            time.sleep(0.7)  # longer than the sandbox's timeout fault: its stray threads are done
            clock.move_to(timezone.now() + leases.DEFAULT_LEASE + datetime.timedelta(seconds=1))
    raise AssertionError(f"{name} could not run ten times in a row")


@pytest.mark.parametrize("system", wms_sandboxes.SYSTEMS)
def test_soak(live_server, settings, injected, capsys, system):
    settings.HUB_HTTP_TIMEOUT = (2.0, 0.5)
    started = time.monotonic()
    orders = orders_for(system)
    cancels = max(1, orders // 200)
    # On ShipHero every call still pays its credits, at the refill wms_sandboxes.tenant gives.
    sandboxed = wms_sandboxes.tenant(live_server, SLUG, system, orders=orders, skus=50, seed=11)
    conn = sandboxed.connection
    # The WMS login's shared limit stays in the path (every call takes a slot) at a rate the soak's
    # thousands of calls do not queue on: at the default 10/s the soak would take its calls / 10 s.
    conn.warehouse.wms_requests_per_second = 500.0
    conn.warehouse.save(update_fields=["wms_requests_per_second"])
    om = sandboxed.om
    # Seeds whose draws put malformed answers early, so a short run (SOAK_ORDERS=300) sees them too.
    for configure, seed in (
        (functools.partial(fault_setup.configure_faults, om_account=om), 1),
        (functools.partial(wms_sandboxes.configure_wms_faults, sandboxed), 35),
    ):
        configure(
            rate_429=0.10,
            retry_after_seconds=0.001,
            rate_500=0.05,
            timeout_rate=0.02,
            timeout_seconds=0.6,
            malformed_rate=0.01,
            seed=seed,
        )
    # And the discrepancies only Reconciliation can see: an order left out of a window read, an
    # export mark lost, a tracking write answered and not stored (each reconciled every round).
    fault_setup.configure_faults(om_account=om, **DISCREPANCIES)
    seeded = set(OmOrder.objects.filter(account=om).values_list("order_number", flat=True))
    assert len(seeded) == orders

    traveller = time_machine.travel(timezone.now(), tick=True)
    clock = traveller.start()
    runs = Counter()
    cancelled_in_om = []
    try:
        for round_number in range(1, MAX_ROUNDS + 1):
            if circuit.is_open(conn):
                clock.move_to(conn.paused_until + datetime.timedelta(seconds=1))
            for job in (order_download, order_cancel_download):
                run_job(job, conn, clock, runs)
            if round_number == 1:
                cancelled_in_om = sandboxed.cancel_in_order_manager(cancels)
                run_job(order_cancel_download, conn, clock, runs)
            sandboxed.ship(seed=round_number)
            run_job(shipment_confirmation, conn, clock, runs)
            # An hour on, past the expected delay, Reconciliation compares and heals what it sees.
            clock.move_to(timezone.now() + datetime.timedelta(hours=1))
            run_job(reconciliation, conn, clock, runs)
            left = busy(conn)
            pickup_left = OmOrder.objects.filter(account=om, status=OrderStatus.AWAITING_3PL_EXPORT).count()
            unhealed = Finding.objects.filter(connection=conn, resolved_at__isnull=True).exists()
            if not left and not pickup_left and not unhealed:
                break
            clock.move_to(next_moment(conn, timezone.now()))
        else:
            stuck = list(
                OmOrder.objects.filter(account=om, status=OrderStatus.AWAITING_3PL_EXPORT).values_list(
                    "order_number", flat=True
                )[:10]
            )
            states = {
                r.order_number: (r.status, r.om_exported_at, r.last_error[:100])
                for r in OrderRecord.objects.filter(connection=conn, order_number__in=stuck)
            }
            pytest.fail(
                f"not quiet after {MAX_ROUNDS} rounds: {busy(conn)}; still in the pickup status: {states or stuck}"
            )
        # Then a day later, with every fault off (the systems stop breaking), stock is published
        # once and Reconciliation compares the two systems over its window: whatever the faults
        # did was healed on the way, so one complete read must find nothing open. (With the
        # transport faults on, 1% malformed answers over the window's 50 WMS pages spoil a read
        # often enough that it resolves nothing, and says so: a read is not retried on a
        # malformed answer by the 3PL client.)
        injected_discrepancies = fault_setup.injected(om)  # clearing the faults clears their log
        fault_setup.configure_faults(om_account=om, clear=True)
        wms_sandboxes.clear_wms_faults(sandboxed)
        clock.move_to(timezone.now() + datetime.timedelta(days=1))
        run_job(inventory_sync, conn, clock, runs)
        clock.move_to(timezone.now() + datetime.timedelta(hours=1))
        run_job(reconciliation, conn, clock, runs)
        reconciled = SyncRun.objects.filter(connection=conn, job=reconciliation.JOB).latest("pk")
    finally:
        traveller.stop()
        fault_setup.configure_faults(om_account=om, clear=True)
        wms_sandboxes.clear_wms_faults(sandboxed)
    open_findings = list(Finding.objects.filter(connection=conn, resolved_at__isnull=True))
    found_kinds = dict(Counter(Finding.objects.filter(connection=conn).values_list("kind", flat=True)))

    wms_duplicates, om_side = sandboxed.duplicates(), sandboxed.order_manager()
    records = {r.order_number: r for r in OrderRecord.objects.filter(connection=conn)}
    at_wms = set(sandboxed.orders_per_reference())
    duplicates = len(wms_duplicates) + om_side["shipments"]["duplicates"]
    cancelled_unsent = {n for n, r in records.items() if r.status == Status.CANCELLED and r.wms_order_id is None}
    # An order cancelled in Order Manager before the hub ever read it (a window read left it out,
    # then it was cancelled) rightly never reaches the WMS and has no hub record: not lost. Seen at
    # 5,000 orders: SO-000006, dropped from Order Download's read, cancelled in round 1.
    never_read_cancelled = {c["orderNumber"] for c in cancelled_in_om if c["orderNumber"] not in records}
    lost = seeded - at_wms - cancelled_unsent - never_read_cancelled
    failed_ever = [r for r in records.values() if r.attempts > 1 or r.events.filter(kind__in=FAILURE_KINDS).exists()]
    # A failure is visible when the order's timeline holds it with a reason, or, for an attempt
    # cut short by a crashed run (the "table is locked" runs below), when the send or link that
    # followed says an earlier attempt went unrecorded (the crashed run holds the reason).
    visible = Q(kind__in=FAILURE_KINDS) & ~Q(message="") | Q(message__contains=binding.UNRECORDED_ATTEMPT)
    invisible = [r.order_number for r in failed_ever if not r.events.filter(visible).exists()]
    crashed_runs = SyncRun.objects.filter(connection=conn, error__startswith="Internal error").count()
    cut_short = OrderEvent.objects.filter(order__connection=conn, message__contains=binding.UNRECORDED_ATTEMPT).count()
    order_retries = OrderEvent.objects.filter(order__connection=conn, kind=OrderEvent.Kind.SEND_FAILED).count()
    tracking_retries = OrderEvent.objects.filter(order__connection=conn, kind=OrderEvent.Kind.TRACKING_REJECTED).count()
    by_status = Counter(r.status for r in records.values())

    with capsys.disabled():
        print(f"\nSOAK ({system}): {orders} orders in {round_number} rounds, {time.monotonic() - started:.0f} s")
        print(f"  faults injected: {dict(sorted((k, v) for k, v in injected.items() if k != 'http retries'))}")
        print(
            f"  retries: HTTP layer {injected['http retries']}, order sends {order_retries}, tracking {tracking_retries}"
        )
        print(f"  runs: {dict(sorted((f'{j} {s}', n) for (j, s), n in runs.items()))}")
        print(
            f"  orders: {dict(by_status)}; at the WMS {len(at_wms)}, cancelled in Order Manager {len(cancelled_in_om)}"
        )
        print(f"  shipments in Order Manager {om_side['shipments']['count']}")
        print(
            f"  failed at least once {len(failed_ever)}, without a visible reason {len(invisible)}; "
            f"runs crashed by the test database (table locked) {crashed_runs}, orders whose attempt they cut short {cut_short}"
        )
        print(f"  duplicates = {duplicates}, lost = {len(lost)}")
        print(
            f"  discrepancies injected {injected_discrepancies}; findings {found_kinds}; last reconciliation "
            f"{reconciled.status}, fetched {reconciled.fetched}, open findings {len(open_findings)}"
        )

    assert duplicates == 0, (wms_duplicates, om_side["shipments"]["duplicates"])
    assert lost == set(), sorted(lost)[:20]
    assert invisible == [], {n: list(records[n].events.values_list("kind", "message")) for n in invisible[:5]}
    assert not [n for n, r in records.items() if r.status == Status.ERROR], "an order was held or gave up"
    assert all(injected[name] > 0 for name in ("429", "500", "timeout", "malformed"))
    assert by_status[Status.CONFIRMED] + by_status[Status.CANCELLED] + by_status[Status.CANCEL_FAILED] == orders - len(
        never_read_cancelled
    )
    assert om_side["shipments"]["count"] == sum(len(r.confirmed_tracking_numbers) for r in records.values())
    assert SyncRun.objects.filter(status=SyncRun.Status.RUNNING).count() == 0
    # Reconciliation read both systems completely despite the faults (its retries absorb them) and
    # found nothing open: every kind was checked (a kind that could not be read would say so).
    assert reconciled.status == SyncRun.Status.SUCCEEDED and not reconciled.error, reconciled.error
    assert reconciled.fetched > orders
    assert all(
        injected_discrepancies.get(kind) for kind in ("order_dropped", "export_mark_lost", "tracking_dropped")
    ), injected_discrepancies
    assert open_findings == [], [(f.kind, f.subject, f.om_value, f.hub_value) for f in open_findings[:10]]
