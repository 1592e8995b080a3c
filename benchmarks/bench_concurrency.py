"""Order Download at real answer times (issue 18): the Django side of `benchmarks.concurrency`.

Every function runs in a driver process of its own (`benchmarks.infra.drive`) against the
gunicorn-served sandbox:

- `prepare`: a sandbox tenant with N orders in the pickup status; its warehouse's
  `send_concurrency` and `wms_requests_per_second` (set high, 1000/s, so the shared WMS rate
  limiter never binds here); the answer times and faults of its sandbox accounts.
- `hub_backlog`: `hub.engine.runner.run_job` (Order Download) back to back until the backlog is
  worked off (a run stops at its time budget, HUB_RUN_TIME_BUDGET_SECONDS, and the next continues,
  as the next scheduled run would right away when the run took longer than the interval); with
  faults, also until every transient failure has been retried: between rounds the failed orders'
  retry times (1, 2, 4 .. minutes of backoff) are brought forward to now, which is the clock
  moving on, nothing else. Timed per run and in total.
- `wms_count`: what the sandbox WMS holds, counted from its own orders, not the hub's records:
  orders per reference number (duplicates), Order Manager orders missing there (lost), orders
  whose `poNum` is not that Order Manager order's id, and orders still in the pickup status.
- `hub_body`: the body the hub stored for one order, to compare with the bare script's.
- `fleet_prepare` / `fleet_runs`: the worker-sizing measurement, many connections at realistic
  answer times on both services, each run timed (wall and CPU).
"""

from __future__ import annotations

import resource
import time

from .onboarding import accounts, connection_of, onboard, profiled

# The shared WMS rate limiter (Warehouse.wms_requests_per_second, default 10/s) set out of the way:
# these benchmarks measure the concurrent sends, not the limiter's rate (its highest allowed value).
UNBOUND_WMS_RATE = 1000.0


def configure(slug: str, *, wms: dict | None = None, om: dict | None = None) -> None:
    """Set the tenant's sandbox fault settings (`connectors.sandbox.control.fault_setup` fields) from scratch."""
    from connectors.sandbox.control import fault_setup

    om_account, wms_account = accounts(slug)
    if wms is not None:
        fault_setup.configure_faults(wms_account=wms_account, clear=True, **wms)
    if om is not None:
        fault_setup.configure_faults(om_account=om_account, clear=True, **om)


def prepare(
    slug: str,
    base_url: str,
    *,
    orders: int,
    concurrency: int,
    seed: int = 1,
    wms: dict | None = None,
    om: dict | None = None,
) -> dict:
    """A sandbox tenant with `orders` orders, its warehouse sending `concurrency` at once; its credentials."""
    from tenants.models import Warehouse

    creds = onboard(slug, base_url, orders=orders, skus=60 if orders else 0, seed=seed)
    connection = connection_of(slug)
    Warehouse.objects.filter(pk=connection.warehouse_id).update(
        send_concurrency=concurrency, wms_requests_per_second=UNBOUND_WMS_RATE
    )
    configure(slug, wms=wms, om=om)
    return creds


def _due(connection) -> int:
    from django.utils import timezone

    from hub.jobs.order_download import due_for_sending

    return due_for_sending(connection, timezone.now()).count()


def _waiting_retry(connection) -> int:
    from hub.models import OrderRecord

    return OrderRecord.objects.filter(
        connection=connection,
        status=OrderRecord.Status.ERROR,
        error_permanent=False,
        given_up=False,
        next_retry_at__isnull=False,
    ).count()


def _unexported(connection) -> int:
    from hub.models import OrderRecord

    return OrderRecord.objects.filter(
        connection=connection, wms_order_id__isnull=False, om_exported_at__isnull=True
    ).count()


def hub_backlog(
    slug: str,
    expected: int,
    *,
    max_runs: int = 8,
    retry_rounds: int = 0,
    settle_seconds: float = 0.0,
    profile: str | None = None,
) -> dict:
    """Order Download runs until the backlog is at the WMS (see the module docstring).

    `retry_rounds`: how many times at most failed orders' retries are brought forward (faults on);
    before each, `settle_seconds` of waiting, so a create the sandbox answers late (a timeout
    the hub gave up on) has landed at the WMS before the retry looks it up."""
    from django.utils import timezone

    from hub.engine import runner
    from hub.models import Job, OrderRecord, SyncRun

    connection = connection_of(slug)
    runs, rounds = [], 0
    started = time.monotonic()
    with profiled(profile):
        while len(runs) < max_runs:
            began, cpu = time.monotonic(), time.process_time()
            run = runner.run_job(connection, Job.ORDER_DOWNLOAD, trigger=SyncRun.Trigger.COMMAND)
            runs.append(
                {
                    "seconds": time.monotonic() - began,
                    "cpu_seconds": time.process_time() - cpu,
                    "status": run.status,
                    "fetched": run.fetched,
                    "sent": run.updated,
                    "failed": run.failed,
                    "requests": run.requests_made,
                    "rate_limited": run.rate_limited,
                    "error": run.error[:300],
                }
            )
            if run.status == SyncRun.Status.FAILED:
                break
            if _due(connection) or _unexported(connection):
                continue  # stopped at its budget (or after failures in a row): the next run goes on
            if rounds < retry_rounds and _waiting_retry(connection):
                rounds += 1
                time.sleep(settle_seconds)
                OrderRecord.objects.filter(
                    connection=connection, status=OrderRecord.Status.ERROR, error_permanent=False, given_up=False
                ).update(next_retry_at=timezone.now())
                continue
            break
    wall = time.monotonic() - started
    statuses = _status_counts(connection)
    at_wms = OrderRecord.objects.filter(connection=connection, wms_order_id__isnull=False).count()
    seconds = sum(r["seconds"] for r in runs)
    return {
        "orders": expected,
        "at_wms_recorded": at_wms,
        "seconds": seconds,
        "wall_seconds": wall,
        "orders_per_second": at_wms / seconds if seconds else 0.0,
        "cpu_seconds": sum(r["cpu_seconds"] for r in runs),
        "runs": runs,
        "retry_rounds": rounds,
        "statuses": statuses,
        "waiting_retry": _waiting_retry(connection),
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _status_counts(connection) -> dict:
    from django.db.models import Count

    from hub.models import OrderRecord

    return {
        row["status"]: row["n"]
        for row in OrderRecord.objects.filter(connection=connection).values("status").annotate(n=Count("pk")).order_by()
    }


def wms_count(slug: str) -> dict:
    """The sandbox's own view: every Order Manager order of the tenant against the WMS's orders."""
    from collections import Counter

    from connectors.sandbox.models import OmOrder, WmsOrder

    om, wms = accounts(slug)
    om_orders = dict(OmOrder.objects.filter(account=om).values_list("order_number", "pk"))
    wms_orders = list(WmsOrder.objects.filter(account=wms).values_list("reference_num", "po_num"))
    per_reference = Counter(reference for reference, _ in wms_orders)
    duplicates = {ref: n for ref, n in per_reference.items() if n > 1}
    lost = sorted(set(om_orders) - set(per_reference))
    foreign = sorted(ref for ref in per_reference if ref not in om_orders)
    wrong_po = sorted(ref for ref, po in wms_orders if ref in om_orders and po != str(om_orders[ref]))
    still_pickup = OmOrder.objects.filter(account=om, status="AWAITING_3PL_EXPORT").count()
    return {
        "om_orders": len(om_orders),
        "wms_orders": len(wms_orders),
        "duplicates": sum(n - 1 for n in duplicates.values()),
        "duplicate_references": list(duplicates)[:20],
        "lost": len(lost),
        "lost_references": lost[:20],
        "not_ours": len(foreign),
        "wrong_po_num": len(wrong_po),
        "om_still_in_pickup_status": still_pickup,
    }


def hub_body(slug: str, order_number: str) -> dict:
    """The WMS body the hub stored (and sent) for `order_number` (customer and facility are the client's)."""
    from hub.models import OrderRecord

    record = OrderRecord.objects.get(connection=connection_of(slug), order_number=order_number)
    return {"order_number": order_number, "om_order_id": record.om_order_id, "body": record.wms_payload}


# ------------------------------------------------------------------ worker sizing


def fleet_prepare(base_url: str, slugs: list[str], orders: list[int], concurrency: int, wms: dict, om: dict) -> dict:
    """One tenant per slug with its number of orders waiting; every account at the given answer times."""
    started = time.monotonic()
    for n, (slug, count) in enumerate(zip(slugs, orders, strict=True)):
        prepare(slug, base_url, orders=count, concurrency=concurrency, seed=100 + n, wms=wms, om=om)
        connection = connection_of(slug)
        # Only Order Download is measured; the other jobs would share the sandbox meanwhile.
        connection.inventory_sync_enabled = False
        connection.save()
    return {"seconds": time.monotonic() - started}


def fleet_runs(slugs: list[str], orders: list[int], profile: str | None = None) -> dict:
    """Per connection: the Order Download run that sends its waiting orders, then an idle one, then
    one Order Cancel Download and one Shipment Confirmation run (nothing cancelled or shipped:
    their polling cost); each timed, wall and CPU (this process's, the run's threads included)."""
    from hub.engine import runner
    from hub.models import Job, SyncRun

    plan = [("busy", Job.ORDER_DOWNLOAD), ("idle", Job.ORDER_DOWNLOAD)]
    plan += [("idle", Job.CANCEL_DOWNLOAD), ("idle", Job.SHIPMENT_CONFIRMATION)]
    runs = []
    with profiled(profile):
        for slug, count in zip(slugs, orders, strict=True):
            connection = connection_of(slug)
            for kind, job in plan:
                began, cpu = time.monotonic(), time.process_time()
                run = runner.run_job(connection, job, trigger=SyncRun.Trigger.COMMAND)
                runs.append(
                    {
                        "slug": slug,
                        "job": job.value,
                        "kind": kind,
                        "orders": count if kind == "busy" else 0,
                        "seconds": time.monotonic() - began,
                        "cpu_seconds": time.process_time() - cpu,
                        "status": run.status,
                        "sent": run.updated if job == Job.ORDER_DOWNLOAD else 0,
                        "requests": run.requests_made,
                        "error": run.error[:300],
                    }
                )
    failed = [r for r in runs if r["status"] != SyncRun.Status.SUCCEEDED or r["sent"] != r["orders"]]
    if failed:
        raise RuntimeError(f"fleet runs did not all succeed: {failed[:3]}")
    return {"runs": runs}
