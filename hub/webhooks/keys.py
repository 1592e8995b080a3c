"""Which public key verifies an endpoint's events, and the check itself.

A key pasted on the endpoint is used as is. Otherwise the key published at the endpoint's key URL
is fetched and cached on the row (`fetched_key_pem`) for `REFRESH_AFTER`; when a signature does not
verify with a cached key fetched more than `RETRY_FETCH_AFTER` ago, the key is fetched once more and
the check repeated (the WMS rotates its key by publishing a new one: WMS-W3), at most once per
`RETRY_FETCH_AFTER`, so a flood of forged requests cannot make the hub hammer the key URL.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.utils import timezone

from connectors.warehouse_manager.webhook_key import WebhookKeyError, fetch_public_key, verify

logger = logging.getLogger(__name__)

REFRESH_AFTER = datetime.timedelta(hours=24)
RETRY_FETCH_AFTER = datetime.timedelta(minutes=5)
# The WMS waits 3 s for the answer (WMS-W1): a key fetch inside a request must leave time for the rest.
FETCH_TIMEOUT_SECONDS = 1.5


class NoKey(Exception):
    """No public key could be had for the endpoint (key URL down or answering nonsense)."""


def _fetch(endpoint) -> str:
    try:
        pem = fetch_public_key(
            endpoint.key_url,
            timeout=FETCH_TIMEOUT_SECONDS,
            block_private_addresses=not settings.HUB_ALLOW_PRIVATE_ADDRESSES,
        )
    except WebhookKeyError as exc:
        logger.warning("webhook key of %s: %s", endpoint.warehouse, exc)
        raise NoKey(str(exc)) from exc
    now = timezone.now()
    type(endpoint).objects.filter(pk=endpoint.pk).update(fetched_key_pem=pem, key_fetched_at=now)
    endpoint.fetched_key_pem, endpoint.key_fetched_at = pem, now
    return pem


def signature_valid(endpoint, body: bytes, signature: str) -> bool:
    """Whether `signature` verifies `body` with the endpoint's key; raises NoKey when there is none."""
    if endpoint.public_key_pem.strip():
        try:
            return verify(endpoint.public_key_pem, body, signature)
        except WebhookKeyError as exc:
            raise NoKey(f"the pasted key is unusable: {exc}") from exc
    now = timezone.now()
    fresh = endpoint.key_fetched_at is not None and now - endpoint.key_fetched_at < REFRESH_AFTER
    pem = endpoint.fetched_key_pem if endpoint.fetched_key_pem and fresh else _fetch(endpoint)
    try:
        if verify(pem, body, signature):
            return True
    except WebhookKeyError:
        pass  # a cached key gone bad: fetch it again below
    if endpoint.key_fetched_at is not None and now - endpoint.key_fetched_at < RETRY_FETCH_AFTER:
        return False
    try:
        return verify(_fetch(endpoint), body, signature)
    except WebhookKeyError as exc:
        raise NoKey(str(exc)) from exc
