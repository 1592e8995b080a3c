"""Latency with the real moving parts: a qcluster process (scheduler + workers), the "hub.dispatch"
schedule every minute, one connection whose Order Download runs every minute, and orders trickling
into the sandbox Order Manager. Latency of an order = the WMS order's creation time minus the time
it entered the pickup status in Order Manager (its modifiedDate when it was created there).
"""

from __future__ import annotations

import statistics
import time

from .onboarding import accounts, connection_of, onboard


def prepare(slug: str, base_url: str) -> dict:
    from django.core.management import call_command

    creds = onboard(slug, base_url, skus=20, seed=7)
    connection = connection_of(slug)
    connection.order_download_interval = 1
    connection.inventory_sync_enabled = False
    connection.save()  # through the model, so the job states' due times follow (hub.engine.schedule_signals)
    call_command("setup_schedules")
    return {"connection": connection.pk, "seed_seconds": creds["seed_seconds"]}


def trickle(slug: str, minutes: float, every: float) -> dict:
    """One new order every `every` seconds for `minutes`; returns {order number: entered pickup status (epoch s)}."""
    from connectors.sandbox.control import seeding
    from connectors.sandbox.models import OmOrder

    om, wms = accounts(slug)
    entered = {}
    deadline = time.monotonic() + minutes * 60
    n = 0
    while time.monotonic() < deadline:
        n += 1
        number = seeding.seed(om, wms, orders=1, skus=0, seed=1000 + n)["order_numbers"][0]
        order = OmOrder.objects.get(account=om, order_number=number)
        entered[number] = order.modified_date.timestamp()
        time.sleep(every)
    return entered


def collect(slug: str, entered: dict, wait_seconds: float) -> dict:
    """Wait (up to `wait_seconds`) until every trickled order is at the WMS; latencies in seconds."""
    from connectors.sandbox.models import WmsOrder

    _, wms = accounts(slug)
    deadline = time.monotonic() + wait_seconds
    while True:
        created = dict(
            WmsOrder.objects.filter(account=wms, reference_num__in=list(entered)).values_list(
                "reference_num", "creation_date"
            )
        )
        if len(created) == len(entered) or time.monotonic() > deadline:
            break
        time.sleep(2)
    latencies = sorted(created[n].timestamp() - entered[n] for n in entered if n in created)
    if not latencies:
        raise RuntimeError("no trickled order reached the WMS")

    def pct(p):
        return latencies[min(len(latencies) - 1, round(p / 100 * (len(latencies) - 1)))]

    return {
        "orders": len(entered),
        "arrived": len(latencies),
        "p50": statistics.median(latencies),
        "p95": pct(95),
        "max": latencies[-1],
        "min": latencies[0],
    }
