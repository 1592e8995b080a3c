"""Inventory Sync at scale: one run in a fresh process (so `ru_maxrss` is this run's peak, Django's
own footprint included; `baseline_mb` is that process right before the run), then a second run with
nothing changed, which must make no adjust call. On ShipHero (`system`) the run's operations and
the credits they cost are counted too.
"""

from __future__ import annotations

import contextlib
import resource
import time

from .onboarding import SHIPHERO, THREEPL, connection_of, profiled, shiphero_operations

ADJUST_PATH = "/v1.1/inventory/adjust"


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kilobytes


def hub_run(slug: str, profile: str | None = None, system: str = THREEPL) -> dict:
    from hub.engine import runner
    from hub.models import InventoryLine, Job, SyncRun
    from tenants import clients

    adjusts = []
    original = clients.CallRecorder.__call__

    def counting(self, record):
        if record.method == "POST" and record.path == ADJUST_PATH:
            adjusts.append(record.status)
        return original(self, record)

    clients.CallRecorder.__call__ = counting  # run.calls keeps only the first 200 calls: count them all
    connection = connection_of(slug)
    baseline = _maxrss_mb()
    counting = shiphero_operations() if system == SHIPHERO else contextlib.nullcontext({})
    with counting as counted, profiled(profile):
        started = time.monotonic()
        run = runner.run_job(connection, Job.INVENTORY_SYNC, trigger=SyncRun.Trigger.COMMAND)
        seconds = time.monotonic() - started
    if run.status != SyncRun.Status.SUCCEEDED:
        raise RuntimeError(f"Inventory Sync ended {run.status}: {run.error[:500]}")
    return {
        "seconds": seconds,
        "peak_mb": _maxrss_mb(),
        "baseline_mb": baseline,
        "fetched": run.fetched,
        "updated": run.updated,
        "skipped": run.skipped,
        "requests": run.requests_made,
        "adjust_calls": len(adjusts),
        "lines": InventoryLine.objects.filter(run=run).count(),
        **({"shiphero": counted} if counted else {}),
    }
