"""Shipment Confirmation latency with WMS webhooks, against polling: a real qcluster (dispatcher every
minute, workers), gunicorn serving the hub and the sandbox, two tenants side by side:

- `bench-hooks`: webhooks on, Shipment Confirmation polling at its default 15 minutes (the safety net);
- `bench-down`: the same webhooks configured but the sandbox sender down (`sender_down`), so polling
  alone delivers; polled every minute here so the run fits in minutes (at 15 minutes the wait for the
  next poll is uniform in [0, 15 min]: p50 7.5 min, p95 14.25 min, which the report states).

Latency of an order = the Order Manager shipment's `created` (tracking accepted) minus the WMS
order's `process_date` (the moment the sandbox warehouse closed it with its package).
"""

from __future__ import annotations

import statistics
import threading
import time

from .onboarding import accounts, connection_of, onboard

TENANTS = {"bench-hooks": {"sender_down": False, "interval": 15}, "bench-down": {"sender_down": True, "interval": 1}}


def prepare(base_url: str, orders: int) -> dict:
    from django.core.management import call_command

    from hub.engine.runner import run_job
    from hub.models import Job
    from hub.webhooks import sandbox_link

    for slug, spec in TENANTS.items():
        onboard(slug, base_url, orders=orders, skus=10, seed=11)
        connection = connection_of(slug)
        run = run_job(connection, Job.ORDER_DOWNLOAD)  # every order at the WMS before the clock starts
        assert run.status in ("succeeded", "partial"), run.error
        connection.order_download_interval = 1
        connection.shipment_confirmation_interval = spec["interval"]
        connection.inventory_sync_enabled = False
        connection.save()
        sandbox_link.connect(connection.warehouse, accounts(slug)[1], base_url, sender_down=spec["sender_down"])
    call_command("setup_schedules")
    return {"tenants": list(TENANTS)}


def ship_and_collect(minutes: float, every: float, wait_seconds: float) -> dict:
    """Ship one order per tenant every `every` s for `minutes`, the sandbox sender running in this
    process; then wait until every shipped order's tracking is in Order Manager. Latencies in s."""
    from connectors.sandbox.control import order_events, webhook_sender
    from connectors.sandbox.models import OmShipment, WmsOrder

    stop = threading.Event()
    sender = threading.Thread(target=webhook_sender.run, kwargs={"every": 0.25, "stop": stop}, daemon=True)
    sender.start()
    shipped = {slug: [] for slug in TENANTS}
    deadline = time.monotonic() + minutes * 60
    while time.monotonic() < deadline:
        for slug in TENANTS:
            shipped[slug] += [s["referenceNum"] for s in order_events.ship(accounts(slug)[1], 1)]
        time.sleep(every)
    results = {}
    end = time.monotonic() + wait_seconds
    for slug, refs in shipped.items():
        om, wms = accounts(slug)
        while True:
            accepted = dict(
                OmShipment.objects.filter(order__account=om, order__order_number__in=refs).values_list(
                    "order__order_number", "created"
                )
            )
            if len(accepted) == len(refs) or time.monotonic() > end:
                break
            time.sleep(2)
        closed = dict(
            WmsOrder.objects.filter(account=wms, reference_num__in=refs).values_list("reference_num", "process_date")
        )
        latencies = sorted((accepted[r] - closed[r]).total_seconds() for r in refs if r in accepted)
        results[slug] = summary(latencies, len(refs))
    stop.set()
    return results


def summary(latencies: list[float], shipped: int) -> dict:
    if not latencies:
        return {"shipped": shipped, "arrived": 0}

    def pct(p):
        return latencies[min(len(latencies) - 1, round(p / 100 * (len(latencies) - 1)))]

    return {
        "shipped": shipped,
        "arrived": len(latencies),
        "p50": statistics.median(latencies),
        "p95": pct(95),
        "max": latencies[-1],
        "min": latencies[0],
    }
