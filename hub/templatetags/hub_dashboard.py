"""`{% hub_dashboard as dash %}`: the admin index's dashboard, ready to render.

Takes the numbers from `hub.admin.dashboard.build` for the requesting user and adds what the template
needs and should not compute: links (each filtered to the connection), short relative times,
labels and the SVG charts. No query runs here beyond `build`'s, so the page's query count stays
constant (tests/test_dashboard.py).
"""

from __future__ import annotations

import datetime

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from hub import durations
from hub.admin import charts, dashboard
from hub.models import Job, OrderRecord, SyncRun

register = template.Library()

SHORT_JOB_LABELS = {
    Job.ORDER_DOWNLOAD: "Orders",
    Job.CANCEL_DOWNLOAD: "Cancels",
    Job.SHIPMENT_CONFIRMATION: "Shipments",
    Job.INVENTORY_SYNC: "Inventory",
    Job.RECONCILIATION: "Reconcile",
}
RUN_LABELS = {
    SyncRun.Status.RUNNING: "running",
    SyncRun.Status.SUCCEEDED: "succeeded",
    SyncRun.Status.PARTIAL: "partial",
    SyncRun.Status.FAILED: "failed",
    SyncRun.Status.ABANDONED: "abandoned",
}


def when(moment: datetime.datetime | None, now: datetime.datetime) -> str:
    """ "5 min ago", "in 3 h" or "now"."""
    if moment is None:
        return ""
    delta = moment - now
    if abs(delta) < datetime.timedelta(seconds=30):
        return "now"
    return f"in {durations.compact(delta)}" if delta > datetime.timedelta(0) else f"{durations.compact(-delta)} ago"


def _orders_url(connection_id: int, **filters) -> str:
    return (
        reverse("admin:hub_orderrecord_changelist")
        + "?"
        + urlencode({"connection__id__exact": connection_id, **filters})
    )


def _job_cell(cell: dashboard.JobCell, now: datetime.datetime) -> dict:
    run = cell.last_run
    if not cell.enabled:
        next_label = "off"
    elif cell.attention:
        next_label = "needs attention"
    elif cell.running(now):
        next_label = "running now"
    elif cell.next_due_at is None:
        next_label = "not scheduled"
    else:
        next_label = "due now" if cell.next_due_at <= now else f"next {when(cell.next_due_at, now)}"
    counts = ""
    if run is not None:
        parts = [f"{run.fetched} fetched", f"{run.created} new"]
        if run.updated:
            parts.append(f"{run.updated} updated")
        if run.failed:
            parts.append(f"{run.failed} failed")
        counts = " · ".join(parts)
    return {
        "label": cell.job.label,
        "short": SHORT_JOB_LABELS[cell.job],
        "enabled": cell.enabled,
        "level": cell.level,
        "run": run,
        "run_url": reverse("admin:hub_syncrun_change", args=[run.pk]) if run else "",
        "status": RUN_LABELS.get(run.status, run.status) if run else "never run",
        "ago": when(run.started_at, now) if run else "",
        "started": run.started_at if run else None,
        "counts": counts,
        "error": run.error if run else "",
        "next": next_label,
        "next_at": cell.next_due_at,
        "attention": cell.attention,
    }


def _row(row: dashboard.ConnectionRow, days: list, now: datetime.datetime) -> dict:
    connection = row.connection
    circuit_label, circuit_level = row.circuit(now)
    age = row.waiting_age(now)
    day_labels = [f"{day:%b %d}" for day in days]
    return {
        "connection": connection,
        "tenant": connection.warehouse.tenant,
        "tenant_url": reverse("admin:tenants_tenant_change", args=[connection.warehouse.tenant_id]),
        "connection_url": reverse("admin:tenants_ordermanagerconnection_change", args=[connection.pk]),
        "preflight_url": reverse("admin:tenants_ordermanagerconnection_preflight", args=[connection.pk]),
        "inventory_url": reverse("admin:tenants_ordermanagerconnection_inventory", args=[connection.pk]),
        "orders_url": _orders_url(connection.pk),
        "level": row.level(now),
        "circuit": circuit_label,
        "circuit_level": circuit_level,
        "pause_reason": connection.pause_reason,
        "jobs": [_job_cell(cell, now) for cell in row.jobs],
        "waiting": row.waiting,
        "waiting_age": durations.compact(age) if age is not None else "",
        "waiting_since": row.oldest_waiting_at,
        "waiting_warn": age is not None and age > dashboard.WAITING_WARN_AFTER,
        "waiting_url": _orders_url(connection.pk, status__in=",".join(dashboard.NOT_AT_WMS), o="8"),
        "errors": row.errors,
        "errors_url": _orders_url(connection.pk, status__exact=OrderRecord.Status.ERROR),
        "late_cancels": row.late_cancels,
        "late_url": _orders_url(connection.pk, status__exact=OrderRecord.Status.CANCEL_FAILED, cancel_handled__exact=0),
        "tracking_given_up": row.tracking_given_up,
        "tracking_url": _orders_url(
            connection.pk, status__exact=OrderRecord.Status.SHIPPED, tracking_given_up__exact=1
        ),
        "sent_total": row.sent_total,
        "sparkline": charts.sparkline(
            row.sent_per_day,
            title=f"{connection}: " + ", ".join(f"{label} {n}" for label, n in zip(day_labels, row.sent_per_day)),
        ),
    }


@register.simple_tag(takes_context=True)
def hub_dashboard(context, days: int = 14) -> dict:
    request = context["request"]
    board = dashboard.build(request.user, days=days)
    now = board.now
    labels = [f"{day:%d}" if i % 7 else f"{day:%b %d}" for i, day in enumerate(board.days)]
    return {
        "rows": [_row(row, board.days, now) for row in board.rows],
        "jobs": [{"short": SHORT_JOB_LABELS[job], "label": job.label} for job in Job],
        "chart": charts.bar_chart(
            labels,
            board.sent_per_day,
            width=760,
            height=170,
            title=f"Orders sent to the WMS per day, {board.days[0]:%b %d} to {board.days[-1]:%b %d}",
        ),
        "sent_total": board.sent_total,
        "days": len(board.days),
        "first_day": board.days[0],
        "last_day": board.days[-1],
        "connections": len(board.rows),
        "healthy": board.count(dashboard.OK),
        "warnings": board.count(dashboard.WARN),
        "problems": board.count(dashboard.BAD),
        "totals": board.totals,
        "zone": timezone.get_current_timezone_name(),
    }
