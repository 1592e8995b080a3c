"""The audit admin: sync runs, orders with their timeline, order events, inventory lines, job states.

Contract:
- Every ModelAdmin is tenant-scoped (`TenantScopedAdminMixin`, first in the bases).
- Everything is read-only: no add, no change, no delete. An operator changes hub state only
  through the operations of `hub.admin_actions` (admin actions on the lists, buttons on the order
  page), which need the model's Django "change" permission and write an OPERATOR event.
- Large tables stay fast: list columns read only selected-related rows (no N+1), big JSON
  columns are deferred on lists, counts are capped (`CappedCountPaginator`, no full count),
  tenant/connection filters list the small tenant tables instead of scanning the big ones,
  and date filters are plain ranges on indexed columns.
"""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from tenants.models import OrderManagerConnection, Tenant
from tenants.scoping import TenantScopedAdminMixin, scope_queryset

from . import admin_actions, admin_views
from .admin_actions import ORDER_OPERATIONS, operator_name
from .models import InventoryLine, JobState, OrderEvent, OrderRecord, SyncRun

# The pre-flight report and inventory page under each Order Manager connection (hub/admin_views.py).
admin_views.register()
from . import mapping_admin  # noqa: E402,F401  (registers the mappings admins and their connection page)

# The admin is the product's face: its name on every page, and the index is the dashboard
# (templates/admin/index.html).
admin.site.site_header = "Order Manager hub"
admin.site.site_title = "Order Manager hub"
admin.site.index_title = "Dashboard"

EXCERPT_CHARS = 80
PRETTY_JSON_CHARS = 20_000
# Timeline steps shown as problems on the order page.
PROBLEM_KINDS = {
    OrderEvent.Kind.WMS_REJECTED,
    OrderEvent.Kind.SEND_FAILED,
    OrderEvent.Kind.CANCEL_TOO_LATE,
    OrderEvent.Kind.CANCEL_FAILED,
    OrderEvent.Kind.TRACKING_REJECTED,
    OrderEvent.Kind.GAVE_UP,
}


# -- helpers shared by the audit admins -----------------------------------------------------------


def excerpt(text: str | None, limit: int = EXCERPT_CHARS) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pretty_json(value, limit: int = PRETTY_JSON_CHARS) -> str:
    """Indented JSON for a <pre>, cut at `limit` characters (payloads are capped, but not tiny)."""
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= limit else text[:limit] + "\n… (cut)"


def format_duration(delta) -> str:
    if delta is None:
        return "—"
    seconds = delta.total_seconds()
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


def changelist_link(model, label: str, **params) -> str:
    url = reverse(f"admin:hub_{model._meta.model_name}_changelist") + "?" + urlencode(params)
    return format_html('<a href="{}">{}</a>', url, label)


def change_link(obj, label: str | None = None) -> str:
    if obj is None:
        return "—"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label if label is not None else str(obj))


class CappedCountPaginator(Paginator):
    """A paginator whose count is one bounded query: exact up to `count_cap` rows, else the cap.

    `SELECT COUNT(*) FROM (SELECT id ... LIMIT cap+1)` stops reading after cap+1 rows, where a
    plain COUNT(*) reads the whole (filtered) table on every page view. Past the cap the list
    shows "more than N" (see templates/admin/hub/pagination.html) and offers the first
    `count_cap / per_page` pages: operators narrow a huge list with filters, not by paging.
    """

    count_cap = 10_000

    @cached_property
    def count(self) -> int:
        object_list = self.object_list
        if not hasattr(object_list, "query"):
            return len(object_list)
        counted = object_list.order_by().values("pk")[: self.count_cap + 1].count()
        return min(counted, self.count_cap)

    @cached_property
    def count_is_capped(self) -> bool:
        return self.count >= self.count_cap


class DeferringChangeList(ChangeList):
    """Leaves the admin's `list_defer` columns (big JSON) out of list queries."""

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        return queryset.defer(*self.model_admin.list_defer) if self.model_admin.list_defer else queryset


def tenant_filter(tenant_path: str):
    """List filter on the tenant, listing only the tenants the user may see.

    Reads the small tenant table, where `RelatedOnlyFieldListFilter` would run a DISTINCT over
    the whole audit table on every page view; the parameter name is the one Django's related
    filter uses, so links built elsewhere (`?connection__warehouse__tenant__id__exact=3`) work.
    """

    class TenantFilter(admin.SimpleListFilter):
        title = "tenant"
        parameter_name = f"{tenant_path}__id__exact"

        def lookups(self, request, model_admin):
            tenants = scope_queryset(Tenant.objects.only("pk", "name"), request.user, "")
            return [(str(t.pk), t.name) for t in tenants]

        def queryset(self, request, queryset):
            return queryset.filter(**{f"{tenant_path}__id": self.value()}) if self.value() else queryset

    return TenantFilter


def connection_filter(connection_path: str):
    """List filter on the Order Manager connection, listing only the user's tenants' connections."""

    class ConnectionFilter(admin.SimpleListFilter):
        title = "connection"
        parameter_name = f"{connection_path}__id__exact"

        def lookups(self, request, model_admin):
            connections = scope_queryset(
                OrderManagerConnection.objects.select_related("warehouse__tenant").order_by(
                    "warehouse__tenant__name", "warehouse__name"
                ),
                request.user,
                "warehouse__tenant",
            )
            return [(str(c.pk), str(c)) for c in connections]

        def queryset(self, request, queryset):
            return queryset.filter(**{f"{connection_path}__id": self.value()}) if self.value() else queryset

    return ConnectionFilter


class AuditAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    """Base of the audit admins: read-only, scoped, cheap lists."""

    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 100
    list_defer: tuple[str, ...] = ()

    def get_changelist(self, request, **kwargs):
        return DeferringChangeList

    def lookup_allowed(self, lookup, value, request=None):
        # Django matches a SimpleListFilter's parameter against the relation path without its
        # "__id__exact" tail, so the tenant/connection filters' own parameters are allowed here.
        own = {
            item.parameter_name
            for item in self.list_filter
            if isinstance(item, type) and issubclass(item, admin.SimpleListFilter)
        }
        return lookup in own or super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        # View-only pages: the audit trail is never edited by hand (see `has_operate_permission`).
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_operate_permission(self, request, obj=None) -> bool:
        """Operator actions need the model's Django "change" permission."""
        opts = self.model._meta
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")


# -- sync runs ---------------------------------------------------------------------------------


@admin.register(SyncRun)
class SyncRunAdmin(AuditAdmin):
    tenant_path = "connection__warehouse__tenant"
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
        "started_at",
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
        return format_duration(obj.duration)

    @admin.display(description="fetched / created / updated / skipped / failed")
    def counts(self, obj):
        return f"{obj.fetched} / {obj.created} / {obj.updated} / {obj.skipped} / {obj.failed}"

    @admin.display(description="error")
    def error_excerpt(self, obj):
        return excerpt(obj.error)

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


def _search_orders(queryset, term: str):
    """Orders matching `term` besides the order number: Order Manager / WMS order id, or a SKU.

    SKU search reads the `lines` JSON ([{"sku": ..., "quantity": ...}]) as text with
    `lines__icontains`, which is `UPPER(lines::text) LIKE` on PostgreSQL and `LIKE` on the JSON
    text on SQLite. The pattern is the whole `"sku": "<term>"` member, so "SKU-1" finds the SKU
    "sku-1" but not "SKU-10", and a quantity or another key never matches. Both backends print
    members as `"key": value`; PostgreSQL prints non-ASCII characters as they are while Django
    stores them \\u-escaped on SQLite, hence the per-backend `ensure_ascii`. No index serves a
    LIKE '%…%'; the list stays cheap because the count is capped and the page is LIMITed.
    """
    conditions = Q()
    if term.isdigit():
        number = int(term)
        conditions |= Q(om_order_id=number) | Q(wms_order_id=number)
    ensure_ascii = connections[queryset.db].vendor != "postgresql"
    member = json.dumps({"sku": term}, ensure_ascii=ensure_ascii)[1:-1]
    conditions |= Q(lines__icontains=member)
    return queryset.filter(conditions)


@admin.register(OrderRecord)
class OrderRecordAdmin(AuditAdmin):
    tenant_path = "connection__warehouse__tenant"
    list_display = [
        "order_number",
        "connection",
        "status_display",
        "wms_order_id",
        "attempts",
        "last_error_excerpt",
        "tracking",
        "created_at",
        "updated_at",
    ]
    list_filter = [
        tenant_filter("connection__warehouse__tenant"),
        connection_filter("connection"),
        "status",
        "given_up",
        "error_permanent",
        "created_at",
    ]
    list_select_related = ["connection__warehouse__tenant"]
    list_defer = ("source", "lines", "tracking_in_flight")
    search_fields = ["order_number"]
    search_help_text = "Order number (or part of it), Order Manager or WMS order id, or an exact SKU."
    actions = ["resend_to_wms", "retry_tracking", "mark_cancel_handled", "reprocess_from_order_manager"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "order_number",
                    "om_order_id",
                    "connection",
                    "status_display",
                    "sales_channel",
                    "ship_to",
                    "ship_method",
                    "lines_display",
                    "om_modified_at",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
        ("Warehouse (WMS)", {"fields": ["wms_order_id", "om_exported_at"]}),
        (
            "Errors and retries",
            {
                "fields": [
                    "attempts",
                    "first_attempt_at",
                    "last_error",
                    "error_permanent",
                    "next_retry_at",
                    "given_up",
                ]
            },
        ),
        ("Cancellation", {"fields": ["cancel_requested", "cancel_handled"]}),
        ("Shipment", {"fields": ["tracking_display", "carrier", "service", "ship_date"]}),
        ("As downloaded from Order Manager", {"classes": ["collapse"], "fields": ["source_display"]}),
    ]
    readonly_fields = [
        "status_display",
        "lines_display",
        "tracking_display",
        "source_display",
        "created_at",
        "updated_at",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("connection__warehouse__tenant")

    def get_search_results(self, request, queryset, search_term):
        """Order number through `search_fields`, plus ids and SKU (`_search_orders`), OR-ed."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            results = results | _search_orders(queryset, term)
        return results, may_have_duplicates

    # -- columns

    @admin.display(description="status", ordering="status")
    def status_display(self, obj):
        flags = [name for name, on in (("permanent", obj.error_permanent), ("given up", obj.given_up)) if on]
        if obj.status == OrderRecord.Status.CANCEL_FAILED and obj.cancel_handled:
            flags.append("handled")
        label = obj.get_status_display()
        return f"{label} ({', '.join(flags)})" if flags else label

    @admin.display(description="last error")
    def last_error_excerpt(self, obj):
        return excerpt(obj.last_error)

    @admin.display(description="tracking")
    def tracking(self, obj):
        return ", ".join(obj.tracking_numbers or []) or "—"

    @admin.display(description="tracking numbers")
    def tracking_display(self, obj):
        numbers = obj.tracking_numbers or []
        if not numbers:
            return "—"
        confirmed = set(obj.confirmed_tracking_numbers or [])
        return format_html_join(
            ", ",
            "{} ({})",
            ((n, "confirmed in Order Manager" if n in confirmed else "not confirmed yet") for n in numbers),
        )

    @admin.display(description="lines")
    def lines_display(self, obj):
        lines = obj.lines or []
        if not lines:
            return "—"
        return format_html_join(
            ", ",
            "{} × {}",
            (
                (line.get("sku", "?"), line.get("quantity", "?")) if isinstance(line, dict) else (line, "?")
                for line in lines
            ),
        )

    @admin.display(description="order")
    def source_display(self, obj):
        return format_html("<pre>{}</pre>", pretty_json(obj.source))

    # -- order page: timeline and operation buttons

    def get_urls(self):
        return [
            path(
                "<path:object_id>/operate/",
                self.admin_site.admin_view(self.operate_view),
                name="hub_orderrecord_operate",
            ),
        ] + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            events = obj.events.select_related("run").defer("run__calls").order_by("at", "pk")
            context["timeline"] = [
                {
                    "event": event,
                    "problem": event.kind in PROBLEM_KINDS,
                    "sent": pretty_json(event.sent) if event.sent is not None else None,
                    "received": pretty_json(event.received) if event.received is not None else None,
                }
                for event in events
            ]
            context["operations"] = (
                [op for op in ORDER_OPERATIONS.values() if op.applies_to(obj)]
                if self.has_operate_permission(request, obj)
                else []
            )
            context["operate_url"] = reverse("admin:hub_orderrecord_operate", args=[obj.pk])
            # The runs that touched the order, oldest first, from the events already loaded.
            runs = {item["event"].run_id: item["event"].run for item in context["timeline"] if item["event"].run_id}
            context["order_runs"] = list(runs.values())
            context["order_status"] = self.status_display(obj)
            context["connection_url"] = reverse("admin:tenants_ordermanagerconnection_change", args=[obj.connection_id])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def operate_view(self, request, object_id):
        """POST `operation=<name>`: apply one operation to this order, then back to its page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        order = self.get_object(request, object_id)
        if order is None:
            raise Http404("No such order.")
        if not self.has_operate_permission(request, order):
            raise PermissionDenied
        operation = ORDER_OPERATIONS.get(request.POST.get("operation", ""))
        if operation is None:
            messages.error(request, "Unknown operation.")
        else:
            self._report(request, operation, admin_actions.perform(operation, [order], request.user))
        return HttpResponseRedirect(reverse("admin:hub_orderrecord_change", args=[order.pk]))

    # -- list actions

    def _run_action(self, request, queryset, name):
        operation = ORDER_OPERATIONS[name]
        orders = queryset.select_related(None).only(
            "pk",
            "order_number",
            "status",
            "last_error",
            "cancel_handled",
            "tracking_numbers",
            "confirmed_tracking_numbers",
        )
        self._report(request, operation, admin_actions.perform(operation, orders.iterator(), request.user))

    def _report(self, request, operation, outcome):
        if outcome.done:
            names = ", ".join(order.order_number for order in outcome.done[:20])
            more = f" and {len(outcome.done) - 20} more" if len(outcome.done) > 20 else ""
            messages.success(request, f"{operation.label}: done for {len(outcome.done)} order(s): {names}{more}.")
        if outcome.refused:
            details = "; ".join(f"{order.order_number}: {reason}" for order, reason in outcome.refused[:20])
            more = f"; and {len(outcome.refused) - 20} more" if len(outcome.refused) > 20 else ""
            messages.warning(
                request, f"{operation.label}: refused for {len(outcome.refused)} order(s) ({details}{more})."
            )

    @admin.action(description="Resend to WMS (orders in error)", permissions=["operate"])
    def resend_to_wms(self, request, queryset):
        self._run_action(request, queryset, "resend")

    @admin.action(description="Retry tracking (shipped, tracking not confirmed)", permissions=["operate"])
    def retry_tracking(self, request, queryset):
        self._run_action(request, queryset, "retry_tracking")

    @admin.action(description="Mark cancel handled (cancel too late)", permissions=["operate"])
    def mark_cancel_handled(self, request, queryset):
        self._run_action(request, queryset, "mark_cancel_handled")

    @admin.action(description="Re-process from Order Manager (orders held at download)", permissions=["operate"])
    def reprocess_from_order_manager(self, request, queryset):
        from .reprocess import reprocess_many  # fetches from Order Manager: see hub/reprocess.py

        outcomes = reprocess_many(queryset.select_related("connection__warehouse__tenant").iterator(), request.user)
        for outcome in outcomes[:50]:
            level = messages.SUCCESS if outcome.queued else messages.WARNING
            messages.add_message(request, level, f"{outcome.order.order_number}: {outcome.message}")


# -- order events --------------------------------------------------------------------------------


@admin.register(OrderEvent)
class OrderEventAdmin(AuditAdmin):
    tenant_path = "order__connection__warehouse__tenant"
    list_display = ["at", "order_link", "connection", "kind", "message_excerpt", "run_link"]
    list_filter = [
        tenant_filter("order__connection__warehouse__tenant"),
        connection_filter("order__connection"),
        "kind",
        "at",
    ]
    list_select_related = ["order__connection__warehouse__tenant", "run"]
    list_defer = ("sent", "received", "order__source", "order__lines", "order__tracking_in_flight", "run__calls")
    # Newest first by primary key: the (order, at) index serves timelines, the pk serves this list.
    ordering = ["-pk"]
    search_fields = ["=order__order_number"]
    search_help_text = "Exact order number."
    fields = ["order_link", "kind", "at", "run_link", "message", "sent_display", "received_display"]
    readonly_fields = ["order_link", "run_link", "sent_display", "received_display"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order__connection__warehouse__tenant", "run")

    @admin.display(description="order", ordering="order__order_number")
    def order_link(self, obj):
        return change_link(obj.order, obj.order.order_number)

    @admin.display(description="connection")
    def connection(self, obj):
        return str(obj.order.connection)

    @admin.display(description="run")
    def run_link(self, obj):
        return change_link(obj.run)

    @admin.display(description="message")
    def message_excerpt(self, obj):
        return excerpt(obj.message)

    @admin.display(description="sent")
    def sent_display(self, obj):
        return format_html("<pre>{}</pre>", pretty_json(obj.sent)) if obj.sent is not None else "—"

    @admin.display(description="received")
    def received_display(self, obj):
        return format_html("<pre>{}</pre>", pretty_json(obj.received)) if obj.received is not None else "—"


# -- inventory lines -----------------------------------------------------------------------------


@admin.register(InventoryLine)
class InventoryLineAdmin(AuditAdmin):
    tenant_path = "run__connection__warehouse__tenant"
    list_display = [
        "sku",
        "run_link",
        "wms_available",
        "om_locked",
        "om_on_hand",
        "on_hand_written",
        "result",
        "message_excerpt",
    ]
    list_filter = ["result", tenant_filter("run__connection__warehouse__tenant"), connection_filter("run__connection")]
    list_select_related = ["run__connection__warehouse__tenant"]
    list_defer = ("run__calls",)
    search_fields = ["^sku"]
    search_help_text = "SKU (or its beginning)."
    readonly_fields = ["run_link"]
    fields = ["run_link", "sku", "wms_available", "om_on_hand", "om_locked", "on_hand_written", "result", "message"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("run__connection__warehouse__tenant")

    @admin.display(description="run", ordering="run")
    def run_link(self, obj):
        return change_link(obj.run, f"{obj.run} · {obj.run.connection}")

    @admin.display(description="message")
    def message_excerpt(self, obj):
        return excerpt(obj.message)


# -- job states ------------------------------------------------------------------------------------


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

    @admin.display(description="last run")
    def last_run_link(self, obj):
        return change_link(obj.last_run, f"#{obj.last_run_id}") if obj.last_run_id else "—"

    @admin.display(description="last run status")
    def last_run_status(self, obj):
        return obj.last_run.get_status_display() if obj.last_run else "—"

    @admin.display(description="last run started")
    def last_run_started(self, obj):
        return timezone.localtime(obj.last_run.started_at).strftime("%Y-%m-%d %H:%M") if obj.last_run else "—"

    @admin.display(description="last run fetched / created / updated / skipped / failed")
    def last_run_counts(self, obj):
        run = obj.last_run
        return f"{run.fetched} / {run.created} / {run.updated} / {run.skipped} / {run.failed}" if run else "—"

    @admin.display(description="lease held until")
    def lease_held_until(self, obj):
        if obj.lease_expires_at and obj.lease_expires_at > timezone.now():
            return timezone.localtime(obj.lease_expires_at).strftime("%Y-%m-%d %H:%M:%S")
        return "free"

    @admin.display(description="attention")
    def attention_excerpt(self, obj):
        return excerpt(obj.attention) or "—"

    @admin.action(description="Run now", permissions=["operate"])
    def run_now(self, request, queryset):
        for state in queryset.select_related("connection__warehouse__tenant"):
            admin_actions.run_now(request, state.connection, state.job)

    @admin.action(description="Clear attention", permissions=["operate"])
    def clear_attention(self, request, queryset):
        cleared = admin_actions.clear_attention(queryset.select_related("connection__warehouse__tenant"))
        for state in cleared:
            self.log_change(request, state, f"Cleared attention (by {operator_name(request.user)}).")
        if cleared:
            messages.success(request, f"Attention cleared for {len(cleared)} job(s): {', '.join(map(str, cleared))}.")
        else:
            messages.info(request, "None of the selected jobs needed attention.")


from . import alert_admin  # noqa: E402,F401  (registers AlertAdmin, built on AuditAdmin above)
