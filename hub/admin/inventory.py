"""The inventory-line admin: what each Inventory Sync run sent for each SKU."""

from __future__ import annotations

from django.contrib import admin

from hub.admin.base import (
    AuditAdmin,
    change_link,
    connection_filter,
    redacted_line,
    tenant_filter,
)
from hub.models import InventoryLine


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
        return redacted_line(obj.message)


# -- job states ------------------------------------------------------------------------------------
