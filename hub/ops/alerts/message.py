"""The alert e-mail: one plain-text message telling a tenant's contacts about new and cleared alerts.

`build_email(tenant, new, cleared, recipients, now)` words it (times in the tenant's time zone,
at most `MAX_ITEMS_PER_SECTION` alerts a section, absolute links on HUB_BASE_URL); it only builds
the message, hub.ops.alerts.sending decides what is due and sends it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from hub.models import Alert
from tenants.models import AlertFrequency, Tenant

MAX_ITEMS_PER_SECTION = 50
SUBJECT_PREFIX = "[Order Manager hub] "

FREQUENCY_WORDS = {
    AlertFrequency.IMMEDIATE: "as soon as they happen",
    AlertFrequency.HOURLY: "in an hourly digest",
    AlertFrequency.DAILY: "in a daily digest",
}


def absolute(path: str) -> str:
    """`path` on the hub's own address (HUB_BASE_URL); a full URL stays as it is."""
    return settings.HUB_BASE_URL.rstrip("/") + path if path.startswith("/") else path


def build_email(tenant: Tenant, new: list[Alert], cleared: list[Alert], recipients: list[str], now) -> EmailMessage:
    """The plain-text e-mail telling `recipients` about `new` and `cleared` alerts of `tenant`."""
    zone = tenant.zone

    def when(moment) -> str:
        return timezone.localtime(moment, zone).strftime("%Y-%m-%d %H:%M %Z")

    def item(number: int, alert: Alert, *, clearing: bool) -> str:
        lines = [
            f"{number}. {alert.get_cause_display()} — {alert.connection}",
            f"   {alert.message}",
        ]
        state = f"   Opened {when(alert.opened_at)}"
        if alert.cleared_at is not None:
            state += f", cleared {when(alert.cleared_at)}" + ("" if clearing else " (the cause is already gone)")
        lines.append(state)
        if alert.link:
            lines.append(f"   {absolute(alert.link)}")
        return "\n".join(lines)

    def section(title: str, alerts: list[Alert], clearing: bool) -> list[str]:
        if not alerts:
            return []
        shown = [item(i, a, clearing=clearing) for i, a in enumerate(alerts[:MAX_ITEMS_PER_SECTION], 1)]
        if len(alerts) > MAX_ITEMS_PER_SECTION:
            shown.append(f"… and {len(alerts) - MAX_ITEMS_PER_SECTION} more (see the admin).")
        return [f"{title} ({len(alerts)})", "", *("\n\n".join(shown).splitlines()), ""]

    counts = ", ".join(filter(None, [f"{len(new)} new" if new else "", f"{len(cleared)} cleared" if cleared else ""]))
    if tenant.alert_frequency == AlertFrequency.IMMEDIATE:
        subject = f"{SUBJECT_PREFIX}{tenant.name}: {counts} alert(s)"
    else:
        subject = (
            f"{SUBJECT_PREFIX}{tenant.name}: {tenant.get_alert_frequency_display().split(' (')[0].lower()} — {counts}"
        )
    open_url = absolute(
        reverse("admin:hub_alert_changelist")
        + "?"
        + urlencode({"status": "open", "connection__warehouse__tenant__id__exact": tenant.pk})
    )
    body = [
        f"The Order Manager hub has alerts for {tenant.name} ({when(now)}).",
        "",
        *section("NEW PROBLEMS", new, clearing=False),
        *section("CLEARED (the cause is gone)", cleared, clearing=True),
        f"All open alerts: {open_url}",
        "",
        f"You get this e-mail because you are an alert contact of {tenant.name}, {FREQUENCY_WORDS[tenant.alert_frequency]}. "
        f"Contacts and frequency: {absolute(reverse('admin:tenants_tenant_change', args=[tenant.pk]))}",
    ]
    return EmailMessage(
        subject=subject[:250],
        body="\n".join(body) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
