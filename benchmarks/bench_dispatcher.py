"""One dispatcher tick at scale: N connections (4 job states each), a share of the pairs due.

`django_q.tasks.async_task` is replaced by a no-op counter inside `hub.engine.dispatcher` (the broker's
cost is the broker's, not the claim's: with the ORM broker it is one INSERT per task), so the
figures are the claim itself: one conditional UPDATE and one SELECT, whatever the number due.
Rows are created with bulk_create (connections with encrypted credentials like any other).
"""

from __future__ import annotations

import datetime
import time

SHARES = (0.05, 0.25, 0.5)


def build(connections: int) -> dict:
    from django.utils import timezone

    from hub.models import Job, JobState
    from tenants.models import OrderManagerConnection, Tenant, Warehouse

    started = time.monotonic()
    tenants = Tenant.objects.bulk_create(
        [Tenant(name=f"Bench tenant {i}", slug=f"bench-{i}") for i in range(connections)]
    )
    tenants = list(Tenant.objects.filter(slug__startswith="bench-").order_by("pk"))
    Warehouse.objects.bulk_create(
        [
            Warehouse(
                tenant=t,
                name="WMS",
                wms_base_url="https://secure-wms.example.com",
                client_id=f"client-{t.pk}",
                client_secret="s3cret",
                customer_id=t.pk,
                facility_id=1,
            )
            for t in tenants
        ],
        batch_size=500,
    )
    warehouses = list(Warehouse.objects.filter(tenant__in=tenants).order_by("pk"))
    OrderManagerConnection.objects.bulk_create(
        [
            OrderManagerConnection(
                warehouse=w,
                base_url="https://api.example.com",
                access_token=f"token-{w.pk}",
                warehouse_name="Main",
                activated_at=timezone.now(),
            )
            for w in warehouses
        ],
        batch_size=500,
    )
    ids = list(OrderManagerConnection.objects.order_by("pk").values_list("pk", flat=True))
    far = timezone.now() + datetime.timedelta(days=1)
    JobState.objects.bulk_create(
        [JobState(connection_id=c, job=job, next_due_at=far) for c in ids for job in Job.values],
        batch_size=2000,
        ignore_conflicts=True,
    )
    return {"connections": len(ids), "pairs": JobState.objects.count(), "build_seconds": time.monotonic() - started}


def tick(share: float) -> dict:
    """Make `share` of the pairs due (spread over jobs), then time one `dispatch()` and count its queries."""
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from hub.engine import dispatcher
    from hub.models import JobState

    now = timezone.now()
    JobState.objects.update(next_due_at=now + datetime.timedelta(days=1), lease_token="", lease_expires_at=None)
    ids = list(JobState.objects.order_by("pk").values_list("pk", flat=True))
    step = round(1 / share)
    due = ids[::step]
    JobState.objects.filter(pk__in=due).update(next_due_at=now - datetime.timedelta(seconds=30))
    enqueued = []
    dispatcher.async_task = lambda *args, **kwargs: enqueued.append(args)
    with CaptureQueriesContext(db) as queries:
        started = time.monotonic()
        claims = dispatcher.dispatch(now)
        seconds = time.monotonic() - started
    if len(claims) != len(due) or len(enqueued) != len(due):
        raise RuntimeError(f"dispatch claimed {len(claims)} and enqueued {len(enqueued)} of {len(due)} due pairs")
    return {"share": share, "due": len(due), "claimed": len(claims), "seconds": seconds, "queries": len(queries)}


def run(connections: int) -> dict:
    built = build(connections)
    tick(0.25)  # warm-up: imports, statement caches
    ticks = [tick(share) for share in SHARES]
    return {**built, "ticks": ticks}
