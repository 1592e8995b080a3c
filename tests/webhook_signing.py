"""A test RSA key pair and helpers that sign WMS-style events the way the sender does (WMS-W2)."""

from __future__ import annotations

import base64
import itertools
import json

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.utils import timezone

PRIVATE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = (
    PRIVATE_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_ids = itertools.count(1000)


def sign(body: bytes, key=PRIVATE_KEY) -> str:
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


def event_body(event_type: str = "OrderConfirm", *, event_id: int | None = None, at=None, **extra) -> bytes:
    at = at or timezone.now()
    data = {
        "tplId": 42,
        "wmsEventId": next(_ids) if event_id is None else event_id,
        "eventDateTimeUtc": at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "eventType": event_type,
        "resource": {"rel": "orders/order", "href": "/orders/1", "body": None},
        "links": "{}",
        "data": '{"OrderId":"1"}',
        "tags": "Shipped",
        **extra,
    }
    return json.dumps(data).encode()


def post(client, endpoint, body: bytes, *, signature: str | None = None, key=PRIVATE_KEY):
    headers = {}
    sig = sign(body, key) if signature is None else signature
    if sig:
        headers["HTTP_SIGNATURE"] = sig
    return client.post(endpoint.path, data=body, content_type="application/json", **headers)
