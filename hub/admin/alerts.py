"""Admin list of alerts (hub.ops.alerts): read-only, tenant-scoped, open ones first.

Registered when hub.admin is imported and built on `hub.admin.base.AuditAdmin`, so it shares the
audit admins' contract: scoped by `TenantScopedAdminMixin`, no add/change/delete, capped counts.
Alerts open and clear themselves; there is nothing to edit.
"""

from django.contrib import admin
from django.utils.html import format_html

from hub.admin.base import AuditAdmin, connection_filter, redacted_line, tenant_filter
from hub.models import Alert


class AlertStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("cleared", "Cleared")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(cleared_at__isnull=True)
        if self.value() == "cleared":
            return queryset.filter(cleared_at__isnull=False)
        return queryset


@admin.register(Alert)
class AlertAdmin(AuditAdmin):
    tenant_path = "connection__warehouse__tenant"
    list_display = ["opened_at", "connection", "cause", "message_excerpt", "where", "state", "told", "notified_at"]
    list_filter = [
        AlertStatusFilter,
        "cause",
        tenant_filter("connection__warehouse__tenant"),
        connection_filter("connection"),
        "opened_at",
    ]
    list_select_related = ["connection__warehouse__tenant"]
    ordering = ["-opened_at", "-pk"]
    search_fields = ["message"]
    search_help_text = "Words of the alert's message (an order number, a SKU)."
    fields = [
        "connection",
        "cause",
        "key",
        "message",
        "where",
        "opened_at",
        "last_seen_at",
        "cleared_at",
        "notified_at",
        "clear_notified_at",
    ]
    readonly_fields = ["where"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("connection__warehouse__tenant")

    @admin.display(description="message")
    def message_excerpt(self, obj):
        return redacted_line(obj.message, 160)

    @admin.display(description="look at")
    def where(self, obj):
        return format_html('<a href="{}">open</a>', obj.link) if obj.link else "—"

    @admin.display(description="state", ordering="cleared_at")
    def state(self, obj):
        return "open" if obj.cleared_at is None else "cleared"
