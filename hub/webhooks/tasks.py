"""The queued work of one accepted webhook event (django-q2 task `process_delivery(delivery_id)`).

The request only checked, recorded and queued (`views.receive`); here the event takes effect:
an OrderConfirm makes Shipment Confirmation of the warehouse's Order Manager connection run soon
(`wake.request_run`, through the lease); event types with no job are recorded as such. The
outcome is written on the delivery row. A task delivered twice finds the row processed and stops.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from hub.webhook_models import WebhookDelivery
from hub.webhooks import wake
from hub.webhooks.payload import EVENT_JOBS

logger = logging.getLogger(__name__)
Outcome = WebhookDelivery.Outcome


def process_delivery(delivery_id: int) -> str | None:
    claimed = WebhookDelivery.objects.filter(pk=delivery_id, processed_at__isnull=True).update(
        processed_at=timezone.now()
    )
    if not claimed:
        return None  # processed already (a task delivered twice) or deleted
    delivery = WebhookDelivery.objects.select_related("endpoint__warehouse__tenant").get(pk=delivery_id)
    job = EVENT_JOBS.get(delivery.event_type)
    if delivery.event_type not in EVENT_JOBS:
        outcome, detail = Outcome.UNKNOWN_TYPE, "unknown event type"
    elif job is None:
        outcome, detail = Outcome.NO_JOB, "recorded; polling covers this event (docs/wire-protocols.md)"
    else:
        outcome, detail = _wake_connections(delivery, job)
    WebhookDelivery.objects.filter(pk=delivery_id).update(outcome=outcome, detail=detail[:2000])
    logger.info("webhook %s: %s %s", delivery, outcome, detail)
    return outcome


def _wake_connections(delivery, job) -> tuple[str, str]:
    from tenants.models import OrderManagerConnection

    connections = list(
        OrderManagerConnection.objects.select_related("warehouse__tenant").filter(warehouse=delivery.endpoint.warehouse)
    )
    results = [(connection, *wake.request_run(connection, job)) for connection in connections]
    if not results:
        return Outcome.NOT_RUNNABLE, "the warehouse has no Order Manager connection"
    for wanted in (wake.RUN_QUEUED, wake.RUN_PENDING):
        if any(outcome == wanted for _, outcome, _ in results):
            return wanted, "; ".join(f"connection {c.pk}: {o} {d}".strip() for c, o, d in results)
    return Outcome.NOT_RUNNABLE, "; ".join(f"connection {c.pk}: {d}" for c, _, d in results)
