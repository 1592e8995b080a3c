"""ShipHero's webhooks in the sandbox: the outbox, the bodies, the signature and the sender.

- `record(account, name, body)`: queue `body` for the account's webhook of that type (`name`, e.g.
  "Shipment Update"), if one is registered; call it inside the transaction of the change it
  reports, so an event exists exactly when its change does (the WMS outbox's pattern,
  connectors/sandbox/webhook_outbox.py).
- `shipment_update_body(shipment)`: the documented Shipment Update body
  (developer.shiphero.com/webhooks/shipment-update-webhook: ``test``, ``webhook_type``,
  ``fulfillment{shipment_id, shipment_uuid, warehouse, warehouse_id, warehouse_uuid, partner_order_id,
  order_number, tracking_number, line_items[...], custom_tracking_url, package_number,
  total_packages, shipping_method, shipping_carrier, packages[...]}``); the fields inside
  `packages` are the sandbox's reading of that page (unverified). `order_canceled_body(order)`:
  the Order Canceled webhook's, unverified (EVIDENCE.md).
- `sign(secret, body)`: base64 HMAC-SHA256 of the exact bytes, sent as ``x-shiphero-hmac-sha256``
  (independent receiver: FullLeafTeaCo/shiphero-webhook-listener src/server.ts, src/hmac.ts).
- `deliver_due(limit=100, now=None)`: post every due event of every webhook that is not down, 10 s
  timeout, a 2xx marks it delivered; otherwise retried with backoff, `MAX_ATTEMPTS` (5) in all, then
  dead (the retry count is third-party, unverified). `sender_down` holds a webhook's events.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import logging

import requests
from django.db.models import F

from connectors.sandbox import clock
from connectors.sandbox.models import ShipHeroWebhook, ShipHeroWebhookEvent

from . import ids

logger = logging.getLogger(__name__)

SHIPMENT_UPDATE = "Shipment Update"
ORDER_CANCELED = "Order Canceled"
SIGNATURE_HEADER = "x-shiphero-hmac-sha256"
TIMEOUT_SECONDS = 10.0
MAX_ATTEMPTS = 5


def record(account, name: str, body: dict) -> ShipHeroWebhookEvent | None:
    webhook = ShipHeroWebhook.objects.filter(account=account, name=name).first()
    if webhook is None:
        return None
    now = clock.now()
    return ShipHeroWebhookEvent.objects.create(webhook=webhook, body=body, created_at=now, next_attempt_at=now)


def _line(shipment_line) -> dict:
    item = shipment_line.line_item
    return {
        "id": item.partner_line_item_id,
        "shiphero_id": item.pk,
        "quantity": shipment_line.quantity,
        "sku": item.sku,
        "serial_numbers": [],
        "customs_description": None,
        "package": f"Package #{shipment_line.shipping_label.package_number}",
        "lot_id": None,
        "lot_name": None,
        "lot_expiration": None,
    }


def shipment_update_body(shipment) -> dict:
    order, warehouse = shipment.order, shipment.warehouse
    labels = list(shipment.shipping_labels.order_by("package_number"))
    lines = list(shipment.line_items.select_related("line_item", "shipping_label").order_by("pk"))
    first = labels[0] if labels else None
    packages = [
        {
            "name": f"Package #{label.package_number}",
            "shipping_carrier": label.carrier,
            "shipping_method": label.shipping_method,
            "shipping_name": label.shipping_name,
            "tracking_number": label.tracking_number,
            "tracking_url": label.tracking_url,
            "line_items": [_line(line) for line in lines if line.shipping_label_id == label.pk],
        }
        for label in labels
    ]
    return {
        "test": "0",
        "webhook_type": SHIPMENT_UPDATE,
        "fulfillment": {
            "shipment_id": shipment.pk,
            "shipment_uuid": ids.global_id("Shipment", shipment.pk),
            "warehouse": warehouse.identifier,
            "warehouse_id": warehouse.pk,
            "warehouse_uuid": ids.global_id("Warehouse", warehouse.pk),
            "webhook_type": SHIPMENT_UPDATE,
            "order_id": order.pk,
            "order_uuid": ids.global_id("Order", order.pk),
            "partner_order_id": order.partner_order_id,
            "order_number": order.order_number,
            "tracking_number": first.tracking_number if first else None,
            "line_items": [_line(line) for line in lines],
            "custom_tracking_url": "",
            "package_number": 1,
            "total_packages": len(labels),
            "shipping_method": first.shipping_method if first else None,
            "shipping_carrier": first.carrier if first else None,
            "packages": packages,
        },
    }


def order_canceled_body(order) -> dict:
    return {
        "test": "0",
        "webhook_type": ORDER_CANCELED,
        "order_id": order.pk,
        "order_uuid": ids.global_id("Order", order.pk),
        "partner_order_id": order.partner_order_id,
        "order_number": order.order_number,
        "fulfillment_status": order.fulfillment_status,
    }


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def backoff(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=min(2 ** min(attempts, 20), 600))


def _post(session: requests.Session, webhook: ShipHeroWebhook, body: bytes) -> str:
    try:
        answer = session.post(
            webhook.url,
            data=body,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(webhook.shared_signature_secret, body)},
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        return f"{type(exc).__name__}: {exc}"[:300]
    return "" if 200 <= answer.status_code < 300 else f"HTTP {answer.status_code}: {answer.text[:200]}"


def deliver_due(limit: int = 100, now: datetime.datetime | None = None) -> dict:
    now = now or clock.now()
    due = (
        ShipHeroWebhookEvent.objects.filter(
            delivered_at__isnull=True, dead_at__isnull=True, next_attempt_at__lte=now, webhook__sender_down=False
        )
        .select_related("webhook")
        .order_by("next_attempt_at", "pk")[:limit]
    )
    counts = {"delivered": 0, "failed": 0, "dead": 0}
    with requests.Session() as session:
        session.trust_env = False
        for event in due:
            error = _post(session, event.webhook, json.dumps(event.body, separators=(",", ":")).encode())
            rows = ShipHeroWebhookEvent.objects.filter(pk=event.pk, delivered_at__isnull=True)
            if not error:
                rows.update(delivered_at=clock.now(), attempts=F("attempts") + 1, last_error="")
                counts["delivered"] += 1
            elif event.attempts + 1 >= MAX_ATTEMPTS:
                rows.update(dead_at=now, attempts=F("attempts") + 1, last_error=error)
                counts["dead"] += 1
            else:
                rows.update(next_attempt_at=now + backoff(event.attempts), attempts=F("attempts") + 1, last_error=error)
                counts["failed"] += 1
                logger.info("sandbox ShipHero webhook %s not delivered: %s", event.pk, error)
    return counts
