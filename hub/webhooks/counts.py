"""Count accepted and refused webhook requests per endpoint and reason (`WebhookCount` rows).

`bump(endpoint, reason)` is one conditional UPDATE (`count = count + 1`); the first request of a
reason inserts the row (a concurrent insert loses on the unique constraint and updates instead).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from hub.webhook_models import WebhookCount

Reason = WebhookCount.Reason


def bump(endpoint, reason: str) -> None:
    now = timezone.now()
    rows = WebhookCount.objects.filter(endpoint=endpoint, reason=reason)
    if rows.update(count=F("count") + 1, last_at=now):
        return
    try:
        with transaction.atomic():
            WebhookCount.objects.create(endpoint=endpoint, reason=reason, count=1, last_at=now)
    except IntegrityError:
        rows.update(count=F("count") + 1, last_at=now)


def counts_of(endpoint) -> dict[str, int]:
    """{reason: count} of one endpoint (None: the hub-wide unknown-token count)."""
    return dict(WebhookCount.objects.filter(endpoint=endpoint).values_list("reason", "count"))
