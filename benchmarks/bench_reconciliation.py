"""Reconciliation at scale (issue 19): a window of N confirmed orders and S SKUs published once.

- `prepare(slug, base_url, orders, skus)`: a sandbox tenant, its N orders sent to the WMS by Order
  Download, shipped at the WMS (`order_events.ship`, what `sandbox ship` does) and confirmed by
  Shipment Confirmation, its S SKUs published by Inventory Sync: the hub's own jobs, each timed.
  The WMS login's limiter is set out of the way (`wms_requests_per_second` 1000): it is not what is
  measured. Then the sandbox's modified dates are moved back `SETTLED` (the orders' and the WMS
  orders' `modified`, the packages' and shipments' dates), so the whole window is older than the
  job's expected delay (30 minutes at the default intervals), as it is a day later in production.
- `hub_run(slug, quota)`: one Reconciliation run in this fresh process, the sandbox's Order Manager
  quota set to `quota` (what `GET /v1/throttlelimits` then publishes, so the hub paces at it):
  seconds, every call counted by endpoint (a counting wrapper of `CallRecorder.__call__`:
  `run.calls` keeps only 200), Order Manager calls per second and 429 answers, peak memory
  (`VmHWM`: see `_peak_mb`), the open findings by kind.
- `inject(slug, per_kind)`: discrepancies made by editing sandbox rows, `per_kind` of each: lost
  tracking writes (`OmShipment` rows deleted), drifted stock (`OmStock.on_hand` + 7), lost export
  marks (a confirmed order back in the pickup status); returns the subjects a run must find.
"""

from __future__ import annotations

import datetime
import resource
import time
from collections import Counter

from .onboarding import accounts, connection_of, onboard, profiled, set_om_quota

SETTLED = datetime.timedelta(hours=2)
DRIFT = 7


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kilobytes


def _peak_mb() -> float:
    """This process's own peak resident memory (`VmHWM`). Not `ru_maxrss`: Linux keeps that across
    exec, so a driver started by a parent that had grown (run.py after the wire script read 10,000
    orders and 50,000 items) reports the parent's peak before it has done anything."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return _maxrss_mb()


def _run(connection, job):
    from hub.engine import runner
    from hub.models import SyncRun

    run = runner.run_job(connection, job, trigger=SyncRun.Trigger.COMMAND)
    if run.status != SyncRun.Status.SUCCEEDED:
        raise RuntimeError(f"{job} ended {run.status}: {run.error[:500]}")
    return run


def _until(connection, job, done, runs: int = 6) -> dict:
    """Run `job` back to back (a run may stop at its time budget) until `done()`; its runs and seconds."""
    started, made = time.monotonic(), 0
    while not done():
        if made == runs:
            raise RuntimeError(f"{job} did not finish in {runs} runs")
        _run(connection, job)
        made += 1
    return {"runs": made, "seconds": time.monotonic() - started}


def prepare(slug: str, base_url: str, orders: int, skus: int, seed: int = 7) -> dict:
    from django.utils import timezone

    from connectors.sandbox.control import order_events
    from connectors.sandbox.models import OmOrder, OmShipment, WmsOrder, WmsPackage
    from hub.models import Job, OrderRecord
    from tenants.models import Warehouse

    Status = OrderRecord.Status
    steps = {}
    creds = onboard(slug, base_url, orders=orders, skus=skus, seed=seed)
    steps["seed"] = {"seconds": creds["seed_seconds"]}
    connection = connection_of(slug)
    Warehouse.objects.filter(pk=connection.warehouse_id).update(wms_requests_per_second=1000.0)
    connection = connection_of(slug)
    records = OrderRecord.objects.filter(connection=connection)

    steps["order_download"] = _until(
        connection, Job.ORDER_DOWNLOAD, lambda: records.filter(status=Status.AT_WMS).count() == orders
    )
    om, wms = accounts(slug)
    started = time.monotonic()
    shipped = order_events.ship(wms, seed=seed)
    steps["ship_at_wms"] = {"seconds": time.monotonic() - started, "orders": len(shipped)}
    steps["shipment_confirmation"] = _until(
        connection, Job.SHIPMENT_CONFIRMATION, lambda: records.filter(status=Status.CONFIRMED).count() == orders
    )
    started = time.monotonic()
    _run(connection, Job.INVENTORY_SYNC)
    steps["inventory_sync"] = {"runs": 1, "seconds": time.monotonic() - started}

    # A day later in production: nothing of the window is newer than the expected delay.
    started = time.monotonic()
    then = timezone.now().replace(microsecond=0) - SETTLED
    OmOrder.objects.filter(account=om).update(modified_date=then)
    OmShipment.objects.filter(order__account=om).update(created=then, ship_date=then)
    WmsOrder.objects.filter(account=wms).update(last_modified_date=then, process_date=then)
    WmsPackage.objects.filter(order__account=wms).update(create_date=then)
    steps["backdate"] = {"seconds": time.monotonic() - started}
    return {"creds": creds, "steps": steps, "setup_seconds": sum(s["seconds"] for s in steps.values())}


def inject(slug: str, per_kind: int = 10) -> dict:
    """`per_kind` discrepancies of each kind below, on distinct orders; the subjects a run must find."""
    from django.db.models import F
    from django.utils import timezone

    from connectors.sandbox.models import OmOrder, OmShipment, OmStock, OrderStatus
    from hub.models import Finding, InventoryLine, Job, OrderRecord, SyncRun

    connection = connection_of(slug)
    om, _ = accounts(slug)
    confirmed = list(
        OrderRecord.objects.filter(connection=connection, status=OrderRecord.Status.CONFIRMED)
        .order_by("pk")
        .values_list("om_order_id", flat=True)[: 2 * per_kind]
    )
    lost_tracking, lost_marks = confirmed[:per_kind], confirmed[per_kind:]
    # Order Manager accepted the tracking write, then lost it.
    deleted, _ = OmShipment.objects.filter(order_id__in=lost_tracking).delete()
    # The export mark lost: the order is back in the pickup status (modified long enough ago).
    then = timezone.now().replace(microsecond=0) - SETTLED
    OmOrder.objects.filter(pk__in=lost_marks).update(status=OrderStatus.AWAITING_3PL_EXPORT, modified_date=then)
    # Stock drifted after Inventory Sync: SKUs its last run saw, on hand changed in Order Manager.
    last = (
        SyncRun.objects.filter(connection=connection, job=Job.INVENTORY_SYNC, status=SyncRun.Status.SUCCEEDED)
        .order_by("-pk")
        .first()
    )
    skus = list(
        InventoryLine.objects.filter(
            run=last, result__in=[InventoryLine.Result.UPDATED, InventoryLine.Result.UNCHANGED]
        )
        .order_by("pk")
        .values_list("sku", flat=True)
        .distinct()[: 5 * per_kind]
    )
    stock = OmStock.objects.filter(product__account=om, product__master_sku__in=skus).order_by("pk")[:per_kind]
    drifted = list(stock.values_list("pk", "product__master_sku"))
    OmStock.objects.filter(pk__in=[pk for pk, _ in drifted]).update(on_hand=F("on_hand") + DRIFT)
    Kind = Finding.Kind
    return {
        Kind.TRACKING_MISSING: sorted(str(i) for i in lost_tracking),
        Kind.EXPORT_MARK_LOST: sorted(str(i) for i in lost_marks),
        Kind.STOCK_DRIFT: sorted(sku for _, sku in drifted),
        "om_shipments_deleted": deleted,
    }


def hub_run(slug: str, quota: float, expected: dict | None = None, profile: str | None = None) -> dict:
    """One Reconciliation run; `expected` = {kind: subjects} it must find (None: nothing)."""
    from hub.engine import runner
    from hub.models import Finding, Job, SyncRun
    from tenants import clients

    set_om_quota(slug, quota)
    calls: Counter = Counter()
    statuses: Counter = Counter()
    om_starts: list[float] = []
    original = clients.CallRecorder.__call__

    def counting(self, record):
        calls[f"{record.method} {_endpoint(record.path)}"] += 1
        statuses[str(record.status)] += 1
        if _is_om(record.path):
            # The record arrives when the attempt ended; its start is end - duration.
            om_starts.append(time.monotonic() - record.duration_ms / 1000.0)
        return original(self, record)

    clients.CallRecorder.__call__ = counting  # run.calls keeps only the first 200 calls: count them all
    rates: list = []
    original_apply = clients.apply_throttle_limits

    def applying(client):
        rates.append(original_apply(client))
        return rates[-1]

    clients.apply_throttle_limits = applying
    connection = connection_of(slug)
    baseline = _peak_mb()
    with profiled(profile):
        started = time.monotonic()
        run = runner.run_job(connection, Job.RECONCILIATION, trigger=SyncRun.Trigger.COMMAND)
        seconds = time.monotonic() - started
    if run.status != SyncRun.Status.SUCCEEDED:
        raise RuntimeError(f"Reconciliation ended {run.status}: {run.error[:1000]}")
    open_findings = Finding.objects.filter(connection=connection, resolved_at__isnull=True)
    found = {}
    for kind, subject in open_findings.values_list("kind", "subject"):
        found.setdefault(kind, []).append(subject)
    found = {kind: sorted(subjects) for kind, subjects in found.items()}
    expected = {k: v for k, v in (expected or {}).items() if isinstance(v, list)}
    missing = {k: sorted(set(v) - set(found.get(k, []))) for k, v in expected.items()}
    extra = {k: sorted(set(v) - set(expected.get(k, []))) for k, v in found.items()}
    om_starts.sort()
    om_span = om_starts[-1] - om_starts[0] if len(om_starts) > 1 else 0.0
    om_calls = sum(n for call, n in calls.items() if _is_om(call.split(" ", 1)[1]))
    return {
        "seconds": seconds,
        "peak_mb": _peak_mb(),
        "baseline_mb": baseline,
        "ru_maxrss_mb": _maxrss_mb(),
        "requests": run.requests_made,
        "rate_limited": run.rate_limited,
        "calls_counted": sum(calls.values()),
        "calls": dict(sorted(calls.items())),
        "statuses": dict(statuses),
        "om_calls": om_calls,
        "om_calls_per_second": (om_calls - 1) / om_span if om_span > 0 else 0.0,
        "om_span_seconds": om_span,
        "quota": quota,
        "paced_at": rates[0] if rates else None,
        "fetched": run.fetched,
        "updated": run.updated,
        "findings": sum(len(v) for v in found.values()),
        "findings_by_kind": {k: len(v) for k, v in found.items()},
        "missing": {k: v for k, v in missing.items() if v},
        "unexpected": {k: v[:20] for k, v in extra.items() if v},
        "errors": run.error[:1000],
        "window": [str(run.window_from), str(run.window_to)],
    }


def _is_om(path: str) -> bool:
    return path.startswith(("/v1", "/oauth"))


def _endpoint(path: str) -> str:
    """The path with ids replaced (`/customers/7/items` -> `/customers/{id}/items`), so calls group by endpoint."""
    return "/".join("{id}" if part.isdigit() else part for part in path.split("/"))


def wire_window(slug: str) -> dict:
    """The window bounds and ids the wire script needs that only the database knows (read before
    the wire run, outside its timing): the facility's time zone is in the credentials already."""
    from django.utils import timezone

    from hub.jobs import reconciliation

    now = timezone.now()
    from hub.jobs import wms_comparison

    connection = connection_of(slug)
    slowest = max(connection.order_download_interval, connection.shipment_confirmation_interval)
    delay = max(reconciliation.EXPECTED_DELAY, 2 * datetime.timedelta(minutes=slowest))
    return {
        "window_from": (now - reconciliation.WINDOW).isoformat(),
        "window_to": (now - delay).isoformat(),
        "om_ids_per_read": wms_comparison.OM_IDS_PER_READ,
    }
