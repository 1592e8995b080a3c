"""Retention: prune old audit rows that nobody needs, never what an operator or a guarantee needs.

`prune(days=None, now=None, dry_run=False, batch_size=1000) -> dict` deletes, for a cutoff of
`days` (default `settings.HUB_RETENTION_DAYS`, 90) before `now`:
- `SyncRun`s that SUCCEEDED and started before the cutoff, with their `InventoryLine`s and their
  `OrderEvent`s, EXCEPT runs
  - that are some JobState's `last_run` (the admin's "last run" column and the alert on stale
    jobs read it), or
  - that wrote an event of an order that is not finished: finished means `confirmed`,
    `cancelled`, or `cancel_failed` marked handled. An order still in flight (new, at the WMS,
    shipped, in error, too-late cancel not handled) keeps its whole timeline and so the runs
    it points at.
- cleared `Alert`s cleared before the cutoff;
- webhook deliveries received before the cutoff (a replay of one is refused as stale long before:
  `hub.webhooks` accepts events at most hours old, so the row's replay guard is no longer needed);
- Reconciliation findings resolved before the cutoff (an open one stays, however old).
Kept always: runs that failed, were partial or abandoned (errors are kept), runs newer than the
cutoff, operator events (no run), and every `OrderRecord`: deleting one would let the order be
downloaded and sent to the warehouse again.

Deletes go in batches of `batch_size` runs, each in its own short transaction, so a big table is
never locked for long and an interrupted prune simply resumes next time. `dry_run` counts what
would go and deletes nothing. Returns {"runs", "events", "inventory_lines", "alerts",
"webhook_deliveries", "findings"} counts.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from hub.models import Alert, Finding, InventoryLine, JobState, OrderEvent, OrderRecord, SyncRun
from hub.webhook_models import WebhookDelivery

FINISHED = Q(status__in=[OrderRecord.Status.CONFIRMED, OrderRecord.Status.CANCELLED]) | Q(
    status=OrderRecord.Status.CANCEL_FAILED, cancel_handled=True
)


def unfinished_orders():
    return OrderRecord.objects.exclude(FINISHED)


def prunable_runs(cutoff: datetime.datetime):
    """Runs that may go (see the module docstring)."""
    kept_events = OrderEvent.objects.filter(run=OuterRef("pk"), order__in=unfinished_orders())
    return (
        SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED, started_at__lt=cutoff)
        .exclude(pk__in=JobState.objects.filter(last_run__isnull=False).values("last_run_id"))
        .exclude(Exists(kept_events))
    )


def prune(
    days: int | None = None, now: datetime.datetime | None = None, *, dry_run: bool = False, batch_size: int = 1000
) -> dict[str, int]:
    days = settings.HUB_RETENTION_DAYS if days is None else days
    if days < 1:
        raise ValueError("Retention must be at least one day.")
    if batch_size < 1:
        raise ValueError("The batch size must be at least 1.")
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    counts = {"runs": 0, "events": 0, "inventory_lines": 0}
    # Rows that go on their own (nothing of the guarantees points at them), by count key.
    plain = {
        "alerts": Alert.objects.filter(cleared_at__lt=cutoff),
        "webhook_deliveries": WebhookDelivery.objects.filter(received_at__lt=cutoff),
        "findings": Finding.objects.filter(resolved_at__lt=cutoff),
    }
    if dry_run:
        runs = prunable_runs(cutoff)
        counts["runs"] = runs.count()
        counts["events"] = OrderEvent.objects.filter(run__in=runs).count()
        counts["inventory_lines"] = InventoryLine.objects.filter(run__in=runs).count()
        counts.update({key: rows.count() for key, rows in plain.items()})
        return counts

    while True:
        with transaction.atomic():
            ids = list(prunable_runs(cutoff).order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            # Children first: nothing points at events or lines, so each is one plain DELETE, where
            # the runs' cascade would load them into memory. The runs themselves are loaded as bare
            # ids (their call logs can be large).
            counts["events"] += OrderEvent.objects.filter(run_id__in=ids).delete()[0]
            counts["inventory_lines"] += InventoryLine.objects.filter(run_id__in=ids).delete()[0]
            counts["runs"] += SyncRun.objects.filter(pk__in=ids).only("pk").delete()[1].get(SyncRun._meta.label, 0)
        if len(ids) < batch_size:
            break
    for key, rows in plain.items():
        counts[key] = delete_in_batches(rows, batch_size)
    return counts


def delete_in_batches(rows, batch_size: int) -> int:
    """Delete `rows` `batch_size` at a time, each batch in its own short transaction; the count deleted."""
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(rows.order_by("pk").values_list("pk", flat=True)[:batch_size])
            if ids:
                deleted += rows.model.objects.filter(pk__in=ids).delete()[0]
        if len(ids) < batch_size:
            return deleted
