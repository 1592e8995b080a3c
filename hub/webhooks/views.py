"""`POST /webhooks/wms/<token>/`: take one WMS event, check it, record it, queue it, answer fast.

In this order, each refusal counted (`counts.bump`) under its reason:
1. the token names an enabled endpoint of a tenant in service, else 404 (unknown token or
   webhooks off: the same answer, nothing to probe) or 403 (tenant archived or inactive);
2. the body is at most `HUB_WEBHOOK_MAX_BYTES`: a larger Content-Length is refused before any
   of it is read (413), and the read itself stops one byte past the cap;
3. a `Signature` header (401 unsigned) that verifies over the raw body with the endpoint's key
   (401 bad signature; 503 when no key can be had, so the sender retries);
4. a WMS event (`payload.parse`, 400 malformed) no older than `HUB_WEBHOOK_MAX_AGE_SECONDS`
   (400 stale: older than the sender's ~6 h of retries, so not a retry);
5. an event id not seen before for this endpoint: the delivery row is inserted under a unique
   constraint, so two deliveries of one event, even at the same instant, record one; the other
   is answered 200 (the sender must stop retrying) and counted as replayed, nothing queued;
6. an unknown event type is recorded, counted and logged as such, answered 200, not queued.
Then `tasks.process_delivery` is queued (django-q2, the hub's own queue) and 202 is answered.
Nothing else happens inside the request: the WMS waits at most 3 s (WMS-W1).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import Http404, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_q.tasks import async_task

from hub.webhook_models import WebhookDelivery, WebhookEndpoint
from hub.webhooks import counts, keys, payload

logger = logging.getLogger(__name__)
Reason = counts.Reason
PROCESS_TASK = "hub.webhooks.tasks.process_delivery"


def _refuse(endpoint, reason: str, status: int, message: str) -> JsonResponse:
    counts.bump(endpoint, reason)
    logger.warning(
        "webhook refused (%s) for %s: %s", reason, endpoint.warehouse if endpoint else "unknown token", message
    )
    return JsonResponse({"status": "refused", "reason": reason, "message": message}, status=status)


def _read_capped(request, cap: int) -> bytes | None:
    """The body, or None when it is over `cap` (declared or actual); never reads more than cap + 1 bytes."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit() or int(declared) > cap:
        return None
    body = request.read(cap + 1)
    return None if len(body) > cap else body


@csrf_exempt
@require_POST
def receive(request, token: str):
    endpoint = WebhookEndpoint.objects.select_related("warehouse__tenant").filter(token=token).first()
    if endpoint is None:
        counts.bump(None, Reason.UNKNOWN_TOKEN)
        raise Http404("no such webhook endpoint")
    if not endpoint.enabled:
        counts.bump(endpoint, Reason.DISABLED)
        raise Http404("no such webhook endpoint")
    tenant = endpoint.warehouse.tenant
    if tenant.is_archived or not tenant.active:
        return _refuse(endpoint, Reason.TENANT_ARCHIVED, 403, "the tenant is archived or inactive")
    body = _read_capped(request, settings.HUB_WEBHOOK_MAX_BYTES)
    if body is None:
        return _refuse(endpoint, Reason.OVERSIZED, 413, f"the body is over {settings.HUB_WEBHOOK_MAX_BYTES} bytes")
    signature = request.headers.get("Signature", "")
    if not signature.strip():
        return _refuse(endpoint, Reason.UNSIGNED, 401, "no Signature header")
    try:
        valid = keys.signature_valid(endpoint, body, signature)
    except keys.NoKey as exc:
        return _refuse(endpoint, Reason.NO_KEY, 503, f"no public key to check the signature with: {exc}")
    if not valid:
        return _refuse(endpoint, Reason.BAD_SIGNATURE, 401, "the signature does not verify")
    try:
        event = payload.parse(body)
    except payload.BadEvent as exc:
        return _refuse(endpoint, Reason.MALFORMED, 400, str(exc))
    now = timezone.now()
    if (now - event.event_at).total_seconds() > settings.HUB_WEBHOOK_MAX_AGE_SECONDS:
        return _refuse(endpoint, Reason.STALE, 400, f"the event is from {event.event_at.isoformat()}, too old")
    return _record_and_queue(endpoint, event, now)


def _record_and_queue(endpoint, event, now) -> JsonResponse:
    outcome = WebhookDelivery.Outcome.QUEUED if event.known else WebhookDelivery.Outcome.UNKNOWN_TYPE
    try:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(
                endpoint=endpoint,
                tpl_id=event.tpl_id,
                wms_event_id=event.wms_event_id,
                event_type=event.event_type,
                event_at=event.event_at,
                received_at=now,
                outcome=outcome,
                processed_at=None if event.known else now,
            )
    except IntegrityError:
        counts.bump(endpoint, Reason.REPLAYED)
        logger.info(
            "webhook %s:%s for %s received again; ignored", event.tpl_id, event.wms_event_id, endpoint.warehouse
        )
        return JsonResponse({"status": "duplicate"}, status=200)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(last_event_at=now)
    if not event.known:
        counts.bump(endpoint, Reason.UNKNOWN_TYPE)
        logger.warning(
            "webhook of unknown event type %r for %s recorded and ignored (no job follows it)",
            event.event_type,
            endpoint.warehouse,
        )
        return JsonResponse({"status": "ignored", "reason": "unknown event type"}, status=200)
    try:
        async_task(PROCESS_TASK, delivery.pk, task_name=f"webhook {event.event_type} · {endpoint.warehouse_id}")
    except Exception:
        # Not queued: forget it so the sender's retry is taken as new, and ask for that retry.
        delivery.delete()
        logger.exception("webhook for %s could not be queued", endpoint.warehouse)
        return JsonResponse({"status": "error", "message": "could not be queued; retry"}, status=503)
    counts.bump(endpoint, Reason.ACCEPTED)
    return JsonResponse({"status": "accepted"}, status=202)
