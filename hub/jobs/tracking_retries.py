"""Tracking Order Manager rejected: its own counter, its backoff and the give-up (Shipment
Confirmation, point 3 of its contract).

- `reject(ctx, record, reason, sent)`: one rejection of `record`'s tracking, on the order's timeline.
  It counts `tracking_attempts` (never `attempts`, the WMS sends other jobs read) and waits
  `tracking_backoff` before the next try: 5 minutes after the first rejection, doubling, at most
  6 h apart. Once the first rejection in a row is `HUB_TRACKING_GIVE_UP_HOURS` old the order is
  flagged `tracking_given_up` with a GAVE_UP step (`hub.ops.alerts` alerts once per connection)
  and is not retried until the operator's "Retry tracking".
- `TRACKING_RETRY_FIELDS`: what a completed order resets besides status and last error, so a
  package added later starts from the first backoff step with a fresh give-up window.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hub.models import OrderEvent, OrderRecord

FIRST_BACKOFF = datetime.timedelta(minutes=5)
MAX_BACKOFF = datetime.timedelta(hours=6)
TRACKING_RETRY_FIELDS = ("tracking_attempts", "tracking_failing_since")
Kind = OrderEvent.Kind


def tracking_backoff(tries: int) -> datetime.timedelta:
    """The wait after the `tries`-th rejection in a row: 5 min, 10, 20, ... at most 6 h."""
    return min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** min(max(tries - 1, 0), 10))


def reject(ctx, record: OrderRecord, reason: str, sent) -> None:
    """Record a rejection of `record`'s tracking: retry with backoff, or give up once the first
    rejection in a row is HUB_TRACKING_GIVE_UP_HOURS old (point 3 of the contract)."""
    now = timezone.now()
    give_up_hours = settings.HUB_TRACKING_GIVE_UP_HOURS
    with transaction.atomic():
        record.refresh_from_db(fields=["tracking_attempts", "tracking_failing_since"])
        record.tracking_attempts += 1
        record.tracking_failing_since = record.tracking_failing_since or now
        record.last_error = f"Tracking not accepted by Order Manager: {reason}"[:4000]
        give_up = now - record.tracking_failing_since >= datetime.timedelta(hours=give_up_hours)
        if give_up:
            record.tracking_given_up, record.next_retry_at = True, None
        else:
            record.next_retry_at = now + tracking_backoff(record.tracking_attempts)
        record.save(
            update_fields=[
                "tracking_attempts",
                "tracking_failing_since",
                "tracking_given_up",
                "last_error",
                "next_retry_at",
                "updated_at",
            ]
        )
        ctx.event(
            record,
            Kind.TRACKING_REJECTED,
            record.last_error
            + (" Not retried: given up." if give_up else f" Retried after {record.next_retry_at:%H:%M} UTC."),
            sent=sent or None,
        )
        if give_up:
            ctx.event(
                record,
                Kind.GAVE_UP,
                f"Order Manager rejected this order's tracking for {give_up_hours} h "
                f"({record.tracking_attempts} tries): no more automatic retries. Fix the cause in Order Manager, "
                f"then use “Retry tracking”. Last: {reason}"[:4000],
            )
    ctx.run.failed += 1
