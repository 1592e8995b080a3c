"""Deliver the sandbox WMS's queued webhook events, signed, with retries (what the real sender does).

`deliver_due(limit=100, now=None) -> dict` posts every due event of every subscription that is not
down, oldest first: `Content-Type: application/json`, the `Signature` header, a 3 s timeout (the
real service's limit: a slower answer counts as a failure). A 2xx marks the event delivered; any
other answer or error schedules the next attempt `backoff(attempts)` later (2 s doubling, at most
10 min) until the event is older than `RETRY_FOR` (6 h), when it is marked dead. Events of a
subscription whose `sender_down` is set wait untouched: switching it back delivers them.

`run(every=0.5, stop=None)` loops `deliver_due` (the demo's `manage.py sandbox_live` starts it in a
thread; benchmarks and tests call it directly).
"""

from __future__ import annotations

import datetime
import logging
import threading

import requests
from django.db import close_old_connections
from django.db.models import F

from .. import clock, webhook_outbox
from ..models import WmsWebhookEvent

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 3.0
RETRY_FOR = datetime.timedelta(hours=6)
MAX_BACKOFF = datetime.timedelta(minutes=10)


def backoff(attempts: int) -> datetime.timedelta:
    return min(datetime.timedelta(seconds=2 ** min(attempts, 20)), MAX_BACKOFF)


def due_events(now, limit: int):
    return (
        WmsWebhookEvent.objects.filter(
            delivered_at__isnull=True,
            dead_at__isnull=True,
            next_attempt_at__lte=now,
            account__webhook__enabled=True,
            account__webhook__sender_down=False,
        )
        .select_related("account__webhook")
        .order_by("next_attempt_at", "pk")[:limit]
    )


def _post(session: requests.Session, url: str, body: bytes) -> str:
    """ "" when delivered, else why not."""
    try:
        answer = session.post(
            url,
            data=body,
            headers={"Content-Type": "application/json", "Signature": webhook_outbox.sign(body)},
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        return f"{type(exc).__name__}: {exc}"[:300]
    if 200 <= answer.status_code < 300:
        return ""
    return f"HTTP {answer.status_code}: {answer.text[:200]}"


def deliver_due(limit: int = 100, now: datetime.datetime | None = None) -> dict:
    now = now or clock.now()
    delivered = failed = dead = 0
    with requests.Session() as session:
        session.trust_env = False
        for event in due_events(now, limit):
            error = _post(session, event.account.webhook.url, webhook_outbox.payload(event))
            rows = WmsWebhookEvent.objects.filter(pk=event.pk, delivered_at__isnull=True)
            if not error:
                rows.update(delivered_at=clock.now(), attempts=F("attempts") + 1, last_error="")
                delivered += 1
            elif now - event.created_at >= RETRY_FOR:
                rows.update(dead_at=now, attempts=F("attempts") + 1, last_error=error)
                dead += 1
            else:
                rows.update(next_attempt_at=now + backoff(event.attempts), attempts=F("attempts") + 1, last_error=error)
                failed += 1
                logger.info("sandbox webhook %s not delivered: %s", event, error)
    return {"delivered": delivered, "failed": failed, "dead": dead}


def run(every: float = 0.5, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            deliver_due()
        except Exception:  # the database busy, a bug: log it, keep the sender alive
            logger.exception("sandbox webhook sender tick failed")
        close_old_connections()
        stop.wait(every)
