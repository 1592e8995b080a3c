"""Admin list of Reconciliation's findings (hub.jobs.reconciliation): read-only, tenant-scoped, CSV export.

Built on `hub.admin.base.AuditAdmin` (scoped by `TenantScopedAdminMixin`, no add/change/delete) and
`CsvExportMixin` (the **Export** button exports the filtered list). Filter by connection, kind and
state (open / acknowledged / resolved); the heal applied, if any, is beside each row and the
order's timeline links from it. Filtered by one connection, the list links to that connection's
report (hub.admin.findings_report).

The operator's actions (hub.admin.finding_actions) are admin actions on the list and buttons on a
finding's page (`<id>/operate/`, POST); both need the "change finding" permission, act only on
findings the user's tenants own (the admin's scoped queryset) and log who and when (a LogEntry per
finding, and an OPERATOR event on the order).
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme

from hub.admin import finding_actions
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
    acknowledged_at = TimeColumn("acknowledged_at", "acknowledged", TENANT)
    acknowledged_by = Column("acknowledged_by", "acknowledged by")

    related = (TENANT,)
    load = (
        *CONNECTION_LOAD,
        *("kind", "subject", "om_value", "hub_value", "first_seen_at", "last_seen_at"),
        *("resolved_at", "healed_at", "heal", "acknowledged_at", "acknowledged_by"),
    )

    class Meta:
        name = "Reconciliation findings"
        chunk_size = CHUNK_ROWS


class FindingStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("acknowledged", "Acknowledged"), ("resolved", "Resolved")]

    def queryset(self, request, queryset):
        # "open" is what the alerts and /metrics count: unresolved and not acknowledged.
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True, acknowledged_at__isnull=True)
        if self.value() == "acknowledged":
            return queryset.filter(resolved_at__isnull=True, acknowledged_at__isnull=False)
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
    actions = ["cancel_at_wms", "resend_tracking", "run_inventory_sync", "acknowledge"]

    @admin.display(description="state", ordering="resolved_at")
    def state(self, obj):
        if obj.resolved_at is not None:
            return "resolved"
        return f"acknowledged by {obj.acknowledged_by}" if obj.acknowledged_at else "open"

    @admin.display(description="order")
    def order_link(self, obj):
        if obj.order_id is None:
            return "—"
        url = reverse("admin:hub_orderrecord_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.order.order_number)

    # -- the operator's actions: buttons on the finding's page, actions on the list

    def get_urls(self):
        return [
            path(
                "<path:object_id>/operate/", self.admin_site.admin_view(self.operate_view), name="hub_finding_operate"
            ),
        ] + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        connection_id = request.GET.get("connection__id__exact", "")
        report = (
            reverse("admin:tenants_ordermanagerconnection_findings", args=[connection_id])
            if connection_id.isdigit()
            else ""
        )
        return super().changelist_view(request, {**(extra_context or {}), "report_url": report})

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["finding_actions"] = (
                finding_actions.offered(obj) if self.has_operate_permission(request, obj) else []
            )
            context["what_to_do"] = finding_actions.WHAT_TO_DO.get(obj.kind, "")
            context["operate_url"] = reverse("admin:hub_finding_operate", args=[obj.pk])
            context["report_url"] = reverse("admin:tenants_ordermanagerconnection_findings", args=[obj.connection_id])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def operate_view(self, request, object_id):
        """POST `action=<name>`: apply one action to this finding, then back to `next` or its page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        finding = self.get_object(request, object_id)  # tenant-scoped: another tenant's is None
        if finding is None:
            raise Http404("No such finding.")
        if not self.has_operate_permission(request, finding):
            raise PermissionDenied
        action = finding_actions.FINDING_ACTIONS.get(request.POST.get("action", ""))
        if action is None:
            messages.error(request, "Unknown action.")
        else:
            self._perform(request, action, [finding])
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = reverse("admin:hub_finding_change", args=[finding.pk])
        return HttpResponseRedirect(back)

    def _perform(self, request, action, findings):
        outcome = finding_actions.perform(action, findings, request)
        for finding, text in zip(outcome.done, outcome.messages):
            self.log_change(request, finding, text)
        if outcome.done and action is not finding_actions.RUN_INVENTORY_SYNC:  # Run now says it itself
            names = ", ".join(finding.subject for finding in outcome.done[:20])
            more = f" and {len(outcome.done) - 20} more" if len(outcome.done) > 20 else ""
            messages.success(request, f"{action.label}: done for {len(outcome.done)} finding(s): {names}{more}.")
        if outcome.refused:
            details = "; ".join(f"{finding.subject}: {reason}" for finding, reason in outcome.refused[:20])
            more = f"; and {len(outcome.refused) - 20} more" if len(outcome.refused) > 20 else ""
            messages.warning(
                request, f"{action.label}: refused for {len(outcome.refused)} finding(s) ({details}{more})."
            )

    def _run_action(self, request, queryset, name):
        # Read in full before writing: a read cursor left open while writing locks SQLite.
        findings = list(queryset.select_related("order", "connection__warehouse__tenant"))
        self._perform(request, finding_actions.FINDING_ACTIONS[name], findings)

    @admin.action(
        description="Cancel at the WMS (cancelled in Order Manager, open at the WMS)", permissions=["operate"]
    )
    def cancel_at_wms(self, request, queryset):
        self._run_action(request, queryset, "cancel_at_wms")

    @admin.action(description="Re-send tracking (tracking not in Order Manager)", permissions=["operate"])
    def resend_tracking(self, request, queryset):
        self._run_action(request, queryset, "resend_tracking")

    @admin.action(description="Run Inventory Sync now (stock drift)", permissions=["operate"])
    def run_inventory_sync(self, request, queryset):
        self._run_action(request, queryset, "run_inventory_sync")

    @admin.action(description="Acknowledge (no longer alerted; any kind)", permissions=["operate"])
    def acknowledge(self, request, queryset):
        self._run_action(request, queryset, "acknowledge")
