"""The sandbox WMS's webhook outbox, payload and signature (the sender half of docs/wire-protocols.md WMS-W*).

- `record(account, event_type, order_id=None, tags="")`: queue one event for the account's
  subscription (nothing when it has none or it is disabled). Call it inside the transaction of the
  change it reports, so an event exists exactly when its change does.
- `payload(event) -> bytes`: the body the real service posts (`tplId`, `wmsEventId`, `dateTime`,
  `eventDateTimeUtc`, `eventType`, `resource{rel,href,body}`, `links` and `data` as JSON strings,
  `tags`), serialized once: the signature is over exactly these bytes.
- `sign(body) -> str`: base64 RSA-SHA256 PKCS#1 v1.5 with the sandbox key (`signing_key()`).
- `public_key_answer()`: what `GET events/webhook/key` answers: `{publicKey, retrievalDateISO}`.
"""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.db import IntegrityError, transaction

from . import clock
from .models import WmsWebhookEvent, WmsWebhookKey, WmsWebhookSubscription

# The sandbox's 3PL id (the real `tplId` names the warehouse company's WMS instance).
SANDBOX_TPL_ID = 1


def record(account, event_type: str, *, order_id: int | None = None, tags: str = "") -> WmsWebhookEvent | None:
    if not WmsWebhookSubscription.objects.filter(account=account, enabled=True).exists():
        return None
    now = clock.now()
    return WmsWebhookEvent.objects.create(
        account=account, event_type=event_type, order_id=order_id, tags=tags, created_at=now, next_attempt_at=now
    )


def _utc(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def payload(event: WmsWebhookEvent) -> bytes:
    account = event.account
    links = {
        "customers/customer": f"/customers/{account.customer_id}",
        "properties/facility": f"/properties/facilities/{account.facility_id}",
    }
    data = {"OrderId": str(event.order_id)} if event.order_id else {"CustomerId": str(account.customer_id)}
    body = {
        "tplId": SANDBOX_TPL_ID,
        "wmsEventId": event.pk,
        "dateTime": _utc(event.created_at),
        "eventDateTimeUtc": _utc(event.created_at),
        "eventType": event.event_type,
        "resource": {
            "rel": "orders/order" if event.order_id else "inventory/stocksummaries",
            "href": f"/orders/{event.order_id}" if event.order_id else "/inventory/stocksummaries",
            "body": None,
        },
        "links": json.dumps(links),
        "data": json.dumps(data),
        "tags": event.tags,
    }
    return json.dumps(body, separators=(",", ":")).encode()


def signing_key() -> WmsWebhookKey:
    key = WmsWebhookKey.objects.order_by("pk").first()
    if key is not None:
        return key
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    try:
        with transaction.atomic():
            WmsWebhookKey.objects.create(
                private_pem=private.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                ).decode(),
                public_pem=private.public_key()
                .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
                .decode(),
            )
    except IntegrityError:
        pass
    return WmsWebhookKey.objects.order_by("pk").first()


_loaded: dict[str, rsa.RSAPrivateKey] = {}  # parsed keys by PEM (parsing costs more than signing)


def sign(body: bytes) -> str:
    key = signing_key()
    private = _loaded.get(key.private_pem)
    if private is None:
        private = _loaded[key.private_pem] = serialization.load_pem_private_key(key.private_pem.encode(), password=None)
    return base64.b64encode(private.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


def public_key_answer() -> dict:
    key = signing_key()
    return {"publicKey": key.public_pem, "retrievalDateISO": _utc(clock.now())}
