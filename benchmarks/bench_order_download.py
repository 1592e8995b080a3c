"""Order Download end to end: one connection, N orders in the sandbox, `hub.engine.runner.run_job` in this
process against the gunicorn-served sandbox; timed from the run's start until every order is at the
WMS and recorded (the run's own bookkeeping included), then checked on both sides. `system` is the
tenant's warehouse system (`onboarding.onboard`); on ShipHero the run's operations and the credits
they cost are counted too.
"""

from __future__ import annotations

import contextlib
import time

from .onboarding import SHIPHERO, THREEPL, connection_of, profiled, shiphero_operations, wms_orders


def hub_run(slug: str, expected: int, profile: str | None = None, system: str = THREEPL) -> dict:
    from hub.engine import runner
    from hub.models import Job, OrderRecord, SyncRun

    connection = connection_of(slug)
    counting = shiphero_operations() if system == SHIPHERO else contextlib.nullcontext({})
    with counting as counted, profiled(profile):
        started = time.monotonic()
        run = runner.run_job(connection, Job.ORDER_DOWNLOAD, trigger=SyncRun.Trigger.COMMAND)
        seconds = time.monotonic() - started
    at_wms = OrderRecord.objects.filter(
        connection=connection, status=OrderRecord.Status.AT_WMS, wms_order_id__isnull=False
    ).count()
    at_the_wms = wms_orders(slug, system)
    if run.status != SyncRun.Status.SUCCEEDED or at_wms != expected or at_the_wms != expected:
        raise RuntimeError(
            f"Order Download did not finish its job: status {run.status}, {at_wms} at the WMS "
            f"(recorded), {at_the_wms} WMS orders, {expected} expected; error: {run.error[:500]}"
        )
    return {
        "orders": at_wms,
        "seconds": seconds,
        "requests": run.requests_made,
        "rate_limited": run.rate_limited,
        "ms_per_call": 1000 * seconds / max(1, run.requests_made),
        **({"shiphero": counted} if counted else {}),
    }
