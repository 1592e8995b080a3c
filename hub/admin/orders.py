"""The order admins: every synced order with its timeline, and the timeline's events."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.db.models import Q
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from rangefilter.filters import DateRangeFilterBuilder

from hub.admin import actions as admin_actions
from hub.admin.actions import ORDER_OPERATIONS
from hub.admin.base import (
    AuditAdmin,
    change_link,
    connection_filter,
    pretty_json,
    redacted_line,
    tenant_filter,
)
from hub.admin.exports import CsvExportMixin, EventExport, OrderExport
from hub.models import OrderEvent, OrderRecord

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
class OrderRecordAdmin(CsvExportMixin, AuditAdmin):
    tenant_path = "connection__warehouse__tenant"
    resource_classes = [OrderExport]
    export_file_stem = "orders"
    list_display = [
        "order_number",
        "connection",
        "status_display",
        "wms_order_id",
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
        "tracking_given_up",
        ("created_at", DateRangeFilterBuilder(title="created (from – to)")),
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
                    "held_display",
                    "next_retry_at",
                    "given_up_display",
                ]
            },
        ),
        ("Cancellation", {"fields": ["cancel_requested_display", "cancel_handled_display"]}),
        (
            "Shipment",
            {
                "fields": [
                    "tracking_display",
                    "carrier",
                    "service",
                    "ship_date",
                    "tracking_attempts",
                    "tracking_failing_since",
                    "tracking_given_up_display",
                ]
            },
        ),
        ("As downloaded from Order Manager", {"classes": ["collapse"], "fields": ["source_display"]}),
    ]
    readonly_fields = [
        "status_display",
        "held_display",
        "given_up_display",
        "tracking_given_up_display",
        "cancel_requested_display",
        "cancel_handled_display",
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
        flags = [
            name
            for name, on in (
                ("permanent", obj.error_permanent),
                ("given up", obj.given_up),
                ("tracking given up", obj.tracking_given_up),
            )
            if on
        ]
        if obj.status == OrderRecord.Status.CANCEL_FAILED and obj.cancel_handled:
            flags.append("handled")
        label = obj.get_status_display()
        return f"{label} ({', '.join(flags)})" if flags else label

    # Flags in words, not the admin's red-cross icons: "no" on a healthy order is good news, and
    # an icon in red read as a problem on every order.
    @admin.display(description="held for the operator")
    def held_display(self, obj):
        return "yes: not retried automatically" if obj.error_permanent else "no"

    @admin.display(description="given up (WMS send)")
    def given_up_display(self, obj):
        return "yes: no more automatic retries" if obj.given_up else "no"

    @admin.display(description="tracking given up")
    def tracking_given_up_display(self, obj):
        return "yes: until “Retry tracking”" if obj.tracking_given_up else "no"

    @admin.display(description="cancelled in Order Manager")
    def cancel_requested_display(self, obj):
        return "yes" if obj.cancel_requested else "no"

    @admin.display(description="cancellation handled")
    def cancel_handled_display(self, obj):
        if not obj.cancel_requested:
            return "—"
        return "yes" if obj.cancel_handled else "not yet"

    @admin.display(description="last error")
    def last_error_excerpt(self, obj):
        return redacted_line(obj.last_error)

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
            "tracking_given_up",
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
        from hub.jobs.reprocess import reprocess_many  # fetches from Order Manager: see hub/jobs/reprocess.py

        outcomes = reprocess_many(queryset.select_related("connection__warehouse__tenant").iterator(), request.user)
        for outcome in outcomes[:50]:
            level = messages.SUCCESS if outcome.queued else messages.WARNING
            messages.add_message(request, level, f"{outcome.order.order_number}: {outcome.message}")


# -- order events --------------------------------------------------------------------------------


@admin.register(OrderEvent)
class OrderEventAdmin(CsvExportMixin, AuditAdmin):
    tenant_path = "order__connection__warehouse__tenant"
    resource_classes = [EventExport]
    export_file_stem = "order-events"
    list_display = ["at", "order_link", "connection", "kind", "message_excerpt", "run_link"]
    list_filter = [
        tenant_filter("order__connection__warehouse__tenant"),
        connection_filter("order__connection"),
        "kind",
        ("at", DateRangeFilterBuilder(title="at (from – to)")),
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
        return redacted_line(obj.message)

    @admin.display(description="sent")
    def sent_display(self, obj):
        return format_html("<pre>{}</pre>", pretty_json(obj.sent)) if obj.sent is not None else "—"

    @admin.display(description="received")
    def received_display(self, obj):
        return format_html("<pre>{}</pre>", pretty_json(obj.received)) if obj.received is not None else "—"


# -- inventory lines -----------------------------------------------------------------------------
