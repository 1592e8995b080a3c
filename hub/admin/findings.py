"""Admin list of Reconciliation's findings (hub.jobs.reconciliation): read-only, tenant-scoped, CSV export.

Built on `hub.admin.base.AuditAdmin` (scoped by `TenantScopedAdminMixin`, no add/change/delete) and
`CsvExportMixin` (the **Export** button exports the filtered list). Filter by connection, kind and
state (open / resolved) for the report per connection; the heal applied, if any, is beside each row
and the order's timeline links from it.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from hub.admin.base import AuditAdmin, connection_filter, tenant_filter
from hub.admin.exports import CHUNK_ROWS, CONNECTION_LOAD, TENANT, AuditResource, Column, CsvExportMixin, TimeColumn
from hub.models import Finding


class FindingExport(AuditResource):
    finding_id = Column("pk", "finding id")
    tenant = Column(f"{TENANT}__name", "tenant")
    connection = Column("connection", "connection")
    kind = Column("get_kind_display", "kind")
    subject = Column("subject", "order id or SKU")
    om_value = Column("om_value", "Order Manager says")
    hub_value = Column("hub_value", "hub / WMS says")
    first_seen_at = TimeColumn("first_seen_at", "first seen", TENANT)
    last_seen_at = TimeColumn("last_seen_at", "last seen", TENANT)
    resolved_at = TimeColumn("resolved_at", "resolved", TENANT)
    healed_at = TimeColumn("healed_at", "healed", TENANT)
    heal = Column("heal", "heal applied")

    related = (TENANT,)
    load = (
        *CONNECTION_LOAD,
        *("kind", "subject", "om_value", "hub_value", "first_seen_at", "last_seen_at"),
        *("resolved_at", "healed_at", "heal"),
    )

    class Meta:
        name = "Reconciliation findings"
        chunk_size = CHUNK_ROWS


class FindingStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("resolved", "Resolved")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(Finding)
class FindingAdmin(CsvExportMixin, AuditAdmin):
    tenant_path = TENANT
    resource_classes = [FindingExport]
    export_file_stem = "findings"
    list_display = [
        "last_seen_at",
        "connection",
        "kind",
        "subject",
        "om_value",
        "hub_value",
        "state",
        "heal",
        "order_link",
    ]
    list_filter = [FindingStateFilter, "kind", tenant_filter(TENANT), connection_filter("connection"), "first_seen_at"]
    list_select_related = ["connection__warehouse__tenant", "order"]
    ordering = ["-last_seen_at", "-pk"]
    search_fields = ["subject"]
    search_help_text = "The Order Manager order id or the SKU."

    @admin.display(description="state", ordering="resolved_at")
    def state(self, obj):
        return "open" if obj.resolved_at is None else "resolved"

    @admin.display(description="order")
    def order_link(self, obj):
        if obj.order_id is None:
            return "—"
        url = reverse("admin:hub_orderrecord_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.order.order_number)
