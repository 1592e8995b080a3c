"""Admin of WMS webhooks: per warehouse, turn them on, copy the URL for the WMS, rotate the token,
see the accepted and refused counts by reason and the last event; the deliveries as an audit list.

Tenant staff see their tenants' endpoints only (`TenantScopedAdminMixin`); the URL is built from
`HUB_BASE_URL` (the address the WMS reaches the hub at).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from hub.admin.base import AuditAdmin
from hub.webhook_models import WebhookCount, WebhookDelivery, WebhookEndpoint
from hub.webhooks.admin_actions import rotate_token, url_of
from hub.webhooks.counts import counts_of
from tenants.scoping import TenantScopedAdminMixin

REASON_LABELS = dict(WebhookCount.Reason.choices)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    tenant_path = "warehouse__tenant"
    list_display = ["warehouse", "enabled", "accepted", "refused", "last_event_at"]
    list_select_related = ["warehouse__tenant"]
    fields = ["warehouse", "enabled", "url", "key_url", "public_key_pem", "counts", "last_event_at", "key_fetched_at"]
    readonly_fields = ["url", "counts", "last_event_at", "key_fetched_at"]
    actions = ["rotate_tokens"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields + (["warehouse"] if obj else [])

    @admin.display(description="URL to paste into the WMS (Customers → Event Notifications)")
    def url(self, obj):
        return url_of(obj, settings.HUB_BASE_URL) if obj and obj.pk else "(saved first)"

    @admin.display(description="requests by outcome")
    def counts(self, obj):
        rows = sorted(counts_of(obj).items()) if obj and obj.pk else []
        if not rows:
            return "none yet"
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}: {}</li>", ((REASON_LABELS[r], n) for r, n in rows))
        )

    def accepted(self, obj):
        return counts_of(obj).get(WebhookCount.Reason.ACCEPTED, 0)

    def refused(self, obj):
        return sum(n for r, n in counts_of(obj).items() if r != WebhookCount.Reason.ACCEPTED)

    @admin.action(description="Rotate the URL token (the old URL stops working at once)")
    def rotate_tokens(self, request, queryset):
        for endpoint in queryset:
            rotate_token(endpoint)
            messages.success(request, f"{endpoint.warehouse}: new URL {url_of(endpoint, settings.HUB_BASE_URL)}")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(AuditAdmin):
    tenant_path = "endpoint__warehouse__tenant"
    list_display = ["received_at", "endpoint", "event_type", "wms_event_id", "event_at", "outcome"]
    list_filter = ["outcome", "event_type"]
    list_select_related = ["endpoint__warehouse__tenant"]
    search_fields = ["wms_event_id"]
