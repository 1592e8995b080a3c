"""Under the API quota: the sandbox's Order Manager account enforces `quota_per_second` (a token
bucket, as `GET /v1/throttlelimits` publishes it) and the hub runs an Order Manager-heavy job,
Inventory Sync (stock total pages, adjusts at 200 a call). Every call of the run is timed at the
HTTP seam (the run's `CallRecorder`), so the achieved rate is measured over the quota'd calls
themselves: (calls - 1) / (last start - first start).

`paced=False` turns the hub's pacing off for the run (the throttle limits are not read), to show
beside it what hammering and backing off on 429 gives.
"""

from __future__ import annotations

import time

from .onboarding import connection_of, profiled, set_om_quota


def hub_run(slug: str, quota: float, paced: bool = True, profile: str | None = None) -> dict:
    from hub.engine import runner
    from hub.models import Job, SyncRun
    from tenants import clients

    set_om_quota(slug, quota)
    stamps: list[tuple[float, str, int | None]] = []
    original = clients.CallRecorder.__call__

    def timed(self, record):
        # The record arrives when the attempt ended; its start is end - duration.
        stamps.append((time.monotonic() - record.duration_ms / 1000.0, record.path, record.status))
        return original(self, record)

    clients.CallRecorder.__call__ = timed
    if not paced:
        clients.apply_throttle_limits = lambda client: None
    connection = connection_of(slug)
    with profiled(profile):
        started = time.monotonic()
        run = runner.run_job(connection, Job.INVENTORY_SYNC, trigger=SyncRun.Trigger.COMMAND)
        seconds = time.monotonic() - started
    if run.status != SyncRun.Status.SUCCEEDED:
        raise RuntimeError(f"Inventory Sync under the quota ended {run.status}: {run.error[:500]}")
    # The quota covers the API calls (/v1...), not the token endpoint.
    quota_calls = sorted((t, status) for t, path, status in stamps if path.startswith("/v1"))
    span = quota_calls[-1][0] - quota_calls[0][0]
    limited = sum(1 for _, status in quota_calls if status == 429)
    # Throughput counts the calls the server accepted; a 429 is a wasted call, counted apart.
    accepted = len(quota_calls) - limited
    rate = (accepted - 1) / span if span > 0 else 0.0
    return {
        "seconds": seconds,
        "quota": quota,
        "om_calls": len(quota_calls),
        "rate_limited": limited,
        "rate_limited_share": limited / len(quota_calls),
        "achieved_per_second": rate,
        "fraction_of_quota": rate / quota,
        "span_seconds": span,
        "adjusted": run.updated,
        "paced": paced,
    }
