"""Order Download end to end: one connection, N orders in the sandbox, `hub.engine.runner.run_job` in this
process against the gunicorn-served sandbox; timed from the run's start until every order is at the
WMS and recorded (the run's own bookkeeping included), then checked on both sides.
"""

from __future__ import annotations

import time

from .onboarding import accounts, connection_of, profiled


def hub_run(slug: str, expected: int, profile: str | None = None) -> dict:
    from connectors.sandbox.models import WmsOrder
    from hub.engine import runner
    from hub.models import Job, OrderRecord, SyncRun

    connection = connection_of(slug)
    with profiled(profile):
        started = time.monotonic()
        run = runner.run_job(connection, Job.ORDER_DOWNLOAD, trigger=SyncRun.Trigger.COMMAND)
        seconds = time.monotonic() - started
    _, wms = accounts(slug)
    at_wms = OrderRecord.objects.filter(
        connection=connection, status=OrderRecord.Status.AT_WMS, wms_order_id__isnull=False
    ).count()
    wms_orders = WmsOrder.objects.filter(account=wms).count()
    if run.status != SyncRun.Status.SUCCEEDED or at_wms != expected or wms_orders != expected:
        raise RuntimeError(
            f"Order Download did not finish its job: status {run.status}, {at_wms} at the WMS "
            f"(recorded), {wms_orders} WMS orders, {expected} expected; error: {run.error[:500]}"
        )
    return {
        "orders": at_wms,
        "seconds": seconds,
        "requests": run.requests_made,
        "rate_limited": run.rate_limited,
        "ms_per_call": 1000 * seconds / max(1, run.requests_made),
    }
