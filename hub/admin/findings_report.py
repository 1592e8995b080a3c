"""The Reconciliation report of one Order Manager connection, under its admin URL
(`<connection id>/findings/`, `admin:tenants_ordermanagerconnection_findings`, registered by
`hub.admin.views.register`, so the connection's page links to it; the findings list filtered by
the connection links to it too).

What it shows, in the tenant's time zone, over the last `DAYS` days (today included):
- counts per kind: **open** now (unresolved, not acknowledged: what the alert and
  `hub_open_findings` count), **acknowledged** now (unresolved, acknowledged by an operator),
  **healed** (a safe heal applied in the window) and **resolved** in the window;
- the trend per kind: findings first seen each day, and open at the end of each day, drawn with
  `hub.admin.charts` (a bar chart of all kinds' open findings, a sparkline pair per kind). "Open at
  the end of a day" is read from the row's times: first seen by then, and neither resolved nor
  acknowledged by then. A finding keeps no history of earlier sightings, so one resolved and seen
  again counts as open from its first sighting;
- the newest `NEWEST_SHOWN` open findings, each with what to do and its actions
  (hub.admin.finding_actions, posting to the finding's `operate` URL and back here);
- links to the findings list and its CSV export filtered to the connection, and Run now of
  Reconciliation (hub.admin.run_now).

Tenant-scoped through the connection admin's `get_object` (`hub.admin.page.connection_or_404`):
another tenant's connection is a 404. Query count is fixed: counts in one GROUP BY, the trend in
two (first seen per day; open per day as one conditional count a day), the newest in one.
"""

from __future__ import annotations

import datetime

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from hub.admin import charts, finding_actions
from hub.admin.page import connection_or_404, local, page_context
from hub.models import Finding

DAYS = 30
NEWEST_SHOWN = 50
Kind = Finding.Kind
OPEN = Q(resolved_at__isnull=True, acknowledged_at__isnull=True)


def _days(now: datetime.datetime, zone) -> list[datetime.date]:
    today = timezone.localtime(now, zone).date()
    return [today - datetime.timedelta(days=offset) for offset in range(DAYS - 1, -1, -1)]


def _end_of(day: datetime.date, zone) -> datetime.datetime:
    return datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)


def counts(findings, since: datetime.datetime) -> dict[str, dict[str, int]]:
    """{kind: {open, acknowledged, healed, resolved}} (see the module docstring), every kind present."""
    rows = (
        findings.values("kind")
        .annotate(
            open=Count("pk", filter=OPEN),
            acknowledged=Count("pk", filter=Q(resolved_at__isnull=True, acknowledged_at__isnull=False)),
            healed=Count("pk", filter=Q(healed_at__gte=since)),
            resolved=Count("pk", filter=Q(resolved_at__gte=since)),
        )
        .order_by()
    )
    found = {row["kind"]: row for row in rows}
    zero = {"open": 0, "acknowledged": 0, "healed": 0, "resolved": 0}
    return {kind: {name: found.get(kind, zero)[name] for name in zero} for kind in Kind.values}


def trend(findings, days: list[datetime.date], zone) -> dict[str, dict[str, list[int]]]:
    """{kind: {"new": [first seen per day], "open": [open at each day's end]}}, oldest day first."""
    start = _end_of(days[0] - datetime.timedelta(days=1), zone)
    index = {day: i for i, day in enumerate(days)}
    result = {kind: {"new": [0] * len(days), "open": [0] * len(days)} for kind in Kind.values}
    first_seen = (
        findings.filter(first_seen_at__gte=start)
        .annotate(day=TruncDate("first_seen_at", tzinfo=zone))
        .values("kind", "day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in first_seen:
        if row["kind"] in result and row["day"] in index:
            result[row["kind"]]["new"][index[row["day"]]] = row["n"]
    open_at = {}
    for i, day in enumerate(days):
        end = _end_of(day, zone)
        open_at[f"d{i}"] = Count(
            "pk",
            filter=Q(first_seen_at__lt=end)
            & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=end))
            & (Q(acknowledged_at__isnull=True) | Q(acknowledged_at__gte=end)),
        )
    for row in findings.values("kind").annotate(**open_at).order_by():
        if row["kind"] in result:
            result[row["kind"]]["open"] = [row[f"d{i}"] for i in range(len(days))]
    return result


def report_view(model_admin, request, object_id):
    """The report of one connection (see the module docstring)."""
    connection = connection_or_404(model_admin, request, object_id)
    zone = connection.warehouse.tenant.zone
    now = timezone.now()
    days = _days(now, zone)
    findings = Finding.objects.filter(connection=connection)
    by_kind = counts(findings, _end_of(days[0] - datetime.timedelta(days=1), zone))
    series = trend(findings, days, zone)
    labels = [f"{day:%d}" for day in days]
    open_total = [sum(series[kind]["open"][i] for kind in Kind.values) for i in range(len(days))]
    can_operate = request.user.has_perm("hub.change_finding")
    newest = list(findings.filter(OPEN).select_related("order").order_by("-last_seen_at", "-pk")[:NEWEST_SHOWN])
    list_url = reverse("admin:hub_finding_changelist")
    by_connection = {"connection__id__exact": connection.pk}
    rows = [
        {
            "kind": kind,
            "label": label,
            **by_kind[kind],
            "new_total": sum(series[kind]["new"]),
            "new_chart": charts.sparkline(series[kind]["new"], title=f"{label}: first seen per day"),
            "open_chart": charts.sparkline(series[kind]["open"], title=f"{label}: open per day"),
            "open_url": list_url + "?" + urlencode({**by_connection, "kind": kind, "state": "open"}),
        }
        for kind, label in Kind.choices
    ]
    context = page_context(
        model_admin,
        request,
        connection,
        f"Reconciliation: {connection}",
        rows=rows,
        days=DAYS,
        open_now=sum(row["open"] for row in rows),
        open_chart=charts.bar_chart(
            labels, open_total, title=f"Open findings at the end of each day, last {DAYS} days"
        ),
        first_day=f"{days[0]:%Y-%m-%d}",
        newest=[
            {
                "finding": finding,
                "first_seen": local(finding.first_seen_at, zone),
                "last_seen": local(finding.last_seen_at, zone),
                "todo": finding_actions.WHAT_TO_DO.get(finding.kind, ""),
                "actions": finding_actions.offered(finding) if can_operate else [],
                "operate_url": reverse("admin:hub_finding_operate", args=[finding.pk]),
                "url": reverse("admin:hub_finding_change", args=[finding.pk]),
            }
            for finding in newest
        ],
        newest_shown=NEWEST_SHOWN,
        findings_url=list_url + "?" + urlencode(by_connection),
        open_url=list_url + "?" + urlencode({**by_connection, "state": "open"}),
        export_url=reverse("admin:hub_finding_export") + "?" + urlencode(by_connection),
        zone_name=zone.key,
    )
    return TemplateResponse(request, "admin/hub/findings_report.html", context)
