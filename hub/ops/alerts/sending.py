"""Sending: tell each tenant's active `AlertContact`s about their alerts, each opening and each
clearing once, at the tenant's `alert_frequency`.

`send_due(now=None, tenant_ids=None)` sends what is due and returns the number of e-mails sent:
tenants with `alert_frequency` "immediate" get everything pending at once; "hourly" and "daily"
tenants get one digest per hour (at the top of the hour) / per day (`DAILY_DIGEST_AT` in the
tenant's time zone) listing the alerts opened and cleared before that boundary
(`digest_boundary`). Each opening and each clearing is sent once (`notified_at`,
`clear_notified_at`, claimed with conditional UPDATEs so two senders never send the same alert
twice); a failed send is released and retried by the next call. A tenant with no active contact
has its alerts marked handled without an e-mail and `told` "no contacts" (the admin shows it), never
"e-mailed". Inactive and archived tenants get
nothing. The e-mail itself is hub.ops.alerts.message's.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict

from django.db.models import Q
from django.utils import timezone

from hub.engine.batching import chunked
from hub.engine.schedule import wall_to_utc
from hub.models import Alert
from hub.ops.alerts.lifecycle import CHUNK
from hub.ops.alerts.message import build_email
from tenants.models import AlertContact, AlertFrequency, Tenant

logger = logging.getLogger(__name__)

DAILY_DIGEST_AT = datetime.time(8, 0)


def digest_boundary(tenant: Tenant, now: datetime.datetime) -> datetime.datetime:
    """Everything that happened up to this instant is due for `tenant` now."""
    if tenant.alert_frequency == AlertFrequency.HOURLY:
        local = timezone.localtime(now, tenant.zone)
        return wall_to_utc(tenant.zone, local.replace(minute=0, second=0, microsecond=0, tzinfo=None))
    if tenant.alert_frequency == AlertFrequency.DAILY:
        local = timezone.localtime(now, tenant.zone)
        boundary = wall_to_utc(tenant.zone, datetime.datetime.combine(local.date(), DAILY_DIGEST_AT))
        if boundary > now:
            boundary = wall_to_utc(
                tenant.zone, datetime.datetime.combine(local.date() - datetime.timedelta(days=1), DAILY_DIGEST_AT)
            )
        return boundary
    return now


def _pending_q() -> Q:
    return Q(notified_at__isnull=True) | Q(cleared_at__isnull=False, clear_notified_at__isnull=True)


def send_due(now: datetime.datetime | None = None, tenant_ids: list[int] | None = None) -> int:
    """Send what is due (see the module docstring); returns the number of e-mails sent."""
    now = now or timezone.now()
    pending = Alert.objects.filter(
        _pending_q(),
        connection__warehouse__tenant__active=True,
        connection__warehouse__tenant__archived_at__isnull=True,
    )
    if tenant_ids is not None:
        pending = pending.filter(connection__warehouse__tenant_id__in=tenant_ids)
    by_tenant = defaultdict(list)
    for alert in pending.select_related("connection__warehouse__tenant").order_by("opened_at", "pk"):
        by_tenant[alert.connection.warehouse.tenant].append(alert)
    if not by_tenant:
        return 0
    contacts = defaultdict(list)
    for tenant_id, email in (
        AlertContact.objects.filter(tenant__in=list(by_tenant), active=True)
        .order_by("email")
        .values_list("tenant_id", "email")
    ):
        contacts[tenant_id].append(email)
    sent = 0
    for tenant, alerts in sorted(by_tenant.items(), key=lambda item: item[0].pk):
        boundary = digest_boundary(tenant, now)
        new = [a for a in alerts if a.notified_at is None and a.opened_at <= boundary]
        cleared = [
            a for a in alerts if a.notified_at is not None and a.cleared_at is not None and a.cleared_at <= boundary
        ]
        if not new and not cleared:
            continue
        claimed_new, claimed_cleared = _claim(new, cleared, now)
        if not claimed_new and not claimed_cleared:
            continue  # another sender took them
        recipients = contacts.get(tenant.pk, [])
        if not recipients:
            # Handled, so it is not retried forever, but never shown as sent: nobody was told.
            _record_told(claimed_new, Alert.Told.NO_CONTACTS)
            logger.info("alerts for %s marked handled: the tenant has no active alert contact", tenant.slug)
            continue
        try:
            message = build_email(tenant, claimed_new, claimed_cleared, recipients, now)
            message.send(fail_silently=False)
        except Exception:
            logger.exception("alert e-mail to %s's contacts failed; retried on the next call", tenant.slug)
            _release(claimed_new, claimed_cleared, now)
            continue
        _record_told(claimed_new, Alert.Told.EMAILED)
        sent += 1
    return sent


def _claim(new: list[Alert], cleared: list[Alert], stamp) -> tuple[list[Alert], list[Alert]]:
    """Take the notices with conditional UPDATEs; returns the alerts this call now owns."""
    new_ids = [a.pk for a in new]
    # An alert opened and cleared before its opening was sent is told as both, once.
    clear_ids = [a.pk for a in cleared] + [a.pk for a in new if a.cleared_at is not None]
    for ids in chunked(new_ids, CHUNK):
        Alert.objects.filter(pk__in=ids, notified_at__isnull=True).update(notified_at=stamp)
    for ids in chunked(clear_ids, CHUNK):
        Alert.objects.filter(pk__in=ids, clear_notified_at__isnull=True).update(clear_notified_at=stamp)
    owned_new, owned_clear = set(), set()
    for ids in chunked(new_ids + clear_ids, CHUNK):
        for pk, notified_at, clear_notified_at in Alert.objects.filter(pk__in=ids).values_list(
            "pk", "notified_at", "clear_notified_at"
        ):
            if notified_at == stamp:
                owned_new.add(pk)
            if clear_notified_at == stamp:
                owned_clear.add(pk)
    return (
        [a for a in new if a.pk in owned_new],
        [a for a in cleared if a.pk in owned_clear],
    )


def _record_told(alerts: list[Alert], told: str) -> None:
    for ids in chunked([a.pk for a in alerts], CHUNK):
        Alert.objects.filter(pk__in=ids).update(told=told)


def _release(new: list[Alert], cleared: list[Alert], stamp) -> None:
    ids = [a.pk for a in new] + [a.pk for a in cleared]
    for chunk in chunked(ids, CHUNK):
        Alert.objects.filter(pk__in=chunk, notified_at=stamp).update(notified_at=None)
        Alert.objects.filter(pk__in=chunk, clear_notified_at=stamp).update(clear_notified_at=None)
