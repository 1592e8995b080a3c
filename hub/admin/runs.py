"""The sync-run and job-state admins: every run's audit row, and each job's state per connection.

A job state's page and the list's "Run now" action queue a run (`hub.admin.run_now`); a single one
queued from the list leads to its progress page, as the button does.
"""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from rangefilter.filters import DateRangeFilterBuilder

from hub import durations
from hub.admin import actions as admin_actions
from hub.admin import run_now as run_now_views
from hub.admin.base import (
    AuditAdmin,
    change_link,
    changelist_link,
    connection_filter,
    pretty_json,
    redacted_line,
    tenant_filter,
)
from hub.admin.exports import CsvExportMixin, RunExport
from hub.models import InventoryLine, JobState, OrderEvent, SyncRun
from hub.operators import operator_name
from tenants.admin_times import format_moment


@admin.register(SyncRun)
class SyncRunAdmin(CsvExportMixin, AuditAdmin):
    tenant_path = "connection__warehouse__tenant"
    resource_classes = [RunExport]
    export_file_stem = "runs"
    list_display = [
        "run_number",
        "connection",
        "job",
        "status",
        "trigger",
        "started_at",
        "duration_display",
        "counts",
        "requests_made",
        "rate_limited",
        "error_excerpt",
    ]
    list_filter = [
        tenant_filter("connection__warehouse__tenant"),
        connection_filter("connection"),
        "job",
        "status",
        "trigger",
        ("started_at", DateRangeFilterBuilder(title="started (from – to)")),
    ]
    list_select_related = ["connection__warehouse__tenant"]
    list_defer = ("calls",)
    fieldsets = [
        (None, {"fields": ["connection", "job", "trigger", "status", "started_at", "finished_at", "duration_display"]}),
        (
            "Counts",
            {
                "fields": [
                    "fetched",
                    "created",
                    "updated",
                    "skipped",
                    "failed",
                    "requests_made",
                    "rate_limited",
                ]
            },
        ),
        ("Window", {"fields": ["window_from", "window_to"]}),
        ("Error", {"fields": ["error"]}),
        ("What this run touched", {"fields": ["order_events_link", "inventory_lines_link"]}),
        ("Outside calls", {"fields": ["calls_log"]}),
    ]
    readonly_fields = ["duration_display", "order_events_link", "inventory_lines_link", "calls_log"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("connection__warehouse__tenant")

    @admin.display(description="run", ordering="pk")
    def run_number(self, obj):
        return f"#{obj.pk}"

    @admin.display(description="duration")
    def duration_display(self, obj):
        return durations.precise(obj.duration)

    @admin.display(description="fetched / created / updated / skipped / failed")
    def counts(self, obj):
        return f"{obj.fetched} / {obj.created} / {obj.updated} / {obj.skipped} / {obj.failed}"

    @admin.display(description="error")
    def error_excerpt(self, obj):
        return redacted_line(obj.error)

    @admin.display(description="order events")
    def order_events_link(self, obj):
        count = obj.events.count()
        return changelist_link(OrderEvent, f"{count} order event{'s' if count != 1 else ''}", run__id__exact=obj.pk)

    @admin.display(description="inventory lines")
    def inventory_lines_link(self, obj):
        count = obj.inventory_lines.count()
        return changelist_link(
            InventoryLine, f"{count} inventory line{'s' if count != 1 else ''}", run__id__exact=obj.pk
        )

    @admin.display(description="calls")
    def calls_log(self, obj):
        """The redacted call log as a table; entries that are not objects are shown as JSON."""
        calls = obj.calls or []
        if not calls:
            return "—"
        preferred = ["method", "path", "status", "duration_ms", "attempt", "error"]
        keys = [k for k in preferred if any(isinstance(c, dict) and k in c for c in calls)]
        extra = sorted({k for c in calls if isinstance(c, dict) for k in c} - set(keys))
        columns = keys + extra
        header = format_html_join("", "<th>{}</th>", ((k.replace("_", " "),) for k in columns))
        rows = format_html_join(
            "",
            "<tr>{}</tr>",
            (
                (
                    format_html_join("", "<td>{}</td>", ((self._cell(c.get(k)),) for k in columns))
                    if isinstance(c, dict)
                    else format_html('<td colspan="{}"><pre>{}</pre></td>', len(columns) or 1, pretty_json(c)),
                )
                for c in calls
            ),
        )
        return format_html('<table class="hub-calls"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>', header, rows)

    @staticmethod
    def _cell(value):
        if value is None or value == "":
            return ""
        return value if isinstance(value, (str, int, float)) else json.dumps(value, default=str)


# -- orders ------------------------------------------------------------------------------------


@admin.register(JobState)
class JobStateAdmin(AuditAdmin):
    tenant_path = "connection__warehouse__tenant"
    list_display = [
        "connection",
        "job",
        "next_due_at",
        "last_run_link",
        "last_run_status",
        "last_run_started",
        "last_run_counts",
        "lease_held_until",
        "attention_excerpt",
    ]
    list_filter = [tenant_filter("connection__warehouse__tenant"), connection_filter("connection"), "job"]
    list_select_related = ["connection__warehouse__tenant", "last_run"]
    list_defer = ("last_run__calls",)
    ordering = ["connection__warehouse__tenant__name", "connection__warehouse__name", "job"]
    actions = ["run_now", "clear_attention"]
    fields = [
        "connection",
        "job",
        "next_due_at",
        "watermark",
        "last_run_link",
        "last_success_at",
        "consecutive_failures",
        "claims_without_finish",
        "lease_held_until",
        "attention",
    ]
    readonly_fields = ["last_run_link", "lease_held_until"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("connection__warehouse__tenant", "last_run")

    def get_urls(self):
        return run_now_views.urls(self) + super().get_urls()

    @admin.display(description="last run")
    def last_run_link(self, obj):
        return change_link(obj.last_run, f"#{obj.last_run_id}") if obj.last_run_id else "—"

    @admin.display(description="last run status")
    def last_run_status(self, obj):
        return obj.last_run.get_status_display() if obj.last_run else "—"

    @admin.display(description="last run started")
    def last_run_started(self, obj):
        return format_moment(obj.last_run.started_at, self.zone_of(obj)) if obj.last_run else "—"

    @admin.display(description="last run fetched / created / updated / skipped / failed")
    def last_run_counts(self, obj):
        run = obj.last_run
        return f"{run.fetched} / {run.created} / {run.updated} / {run.skipped} / {run.failed}" if run else "—"

    @admin.display(description="lease held until")
    def lease_held_until(self, obj):
        if obj.lease_expires_at and obj.lease_expires_at > timezone.now():
            return format_moment(obj.lease_expires_at, self.zone_of(obj))
        return "free"

    @admin.display(description="attention")
    def attention_excerpt(self, obj):
        return redacted_line(obj.attention) or "—"

    @admin.action(description="Run now", permissions=["operate"])
    def run_now(self, request, queryset):
        followed = [
            (state, admin_actions.run_now(request, state.connection, state.job))
            for state in queryset.select_related("connection__warehouse__tenant")
        ]
        if len(followed) == 1 and followed[0][1].after is not None:
            state, requested = followed[0]
            return HttpResponseRedirect(run_now_views.progress_url(state, requested.after, request.get_full_path()))
        return None

    @admin.action(description="Clear attention", permissions=["operate"])
    def clear_attention(self, request, queryset):
        cleared = admin_actions.clear_attention(queryset.select_related("connection__warehouse__tenant"))
        for state in cleared:
            self.log_change(request, state, f"Cleared attention (by {operator_name(request.user)}).")
        if cleared:
            messages.success(request, f"Attention cleared for {len(cleared)} job(s): {', '.join(map(str, cleared))}.")
        else:
            messages.info(request, "None of the selected jobs needed attention.")
