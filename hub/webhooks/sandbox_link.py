"""Connect a sandbox tenant's warehouse to the sandbox WMS's webhooks (both sides, idempotent).

`connect(warehouse, wms_account, base_url, *, sender_down=None, enabled=True) -> WebhookEndpoint`:
the hub side gets an enabled endpoint whose key URL is the sandbox's `events/webhook/key` at
`base_url` (no pasted key: the key is fetched as from the real service); the sandbox side a
subscription posting to that endpoint's URL at `base_url`. Lives in hub because it ties the two
apps together (the sandbox app imports nothing of the hub).
"""

from __future__ import annotations

from connectors.sandbox.models import WmsWebhookSubscription
from hub.webhook_models import WebhookEndpoint

SANDBOX_KEY_PATH = "/sandbox/warehouse-manager/events/webhook/key"


def connect(warehouse, wms_account, base_url: str, *, sender_down: bool | None = None, enabled: bool = True):
    base = base_url.rstrip("/")
    endpoint, _ = WebhookEndpoint.objects.get_or_create(warehouse=warehouse)
    endpoint.enabled = enabled
    endpoint.key_url = base + SANDBOX_KEY_PATH
    endpoint.public_key_pem = ""
    endpoint.save()
    subscription, _ = WmsWebhookSubscription.objects.get_or_create(account=wms_account, defaults={"url": base})
    subscription.url = base + endpoint.path
    subscription.enabled = enabled
    if sender_down is not None:
        subscription.sender_down = sender_down
    subscription.save()
    return endpoint
