"""Removing a tenant in the admin (`tenants.removal`): the tenant list's Archive and Unarchive actions
and the tenant's Delete page. Mixed into `TenantAdmin` after `TenantScopedAdminMixin` (whose times
mixin then shows the "archived at" column in the tenant's zone).

Who may do what:
- Delete: superusers only, from the tenant's page; the list's bulk "Delete selected" is not offered,
  so every deletion goes through the check. When `tenants.removal` refuses (an order reached a WMS,
  a run is under way), the page says why and to archive instead; otherwise the confirmation page
  counts every kind of row that goes with the tenant, and the message after it what went.
- Archive: superusers, and tenant staff with the "change tenant" permission for their own tenants:
  archiving only stops things.
- Unarchive: superusers only. It resumes the jobs of the tenant's activated connections at once
  (unless the tenant is inactive), like the tenant's "active" switch, which only superusers change.
Both actions ask for confirmation on a page naming the tenants, their connections and what happens.
An archived tenant is found under the list's "Archived: Yes" filter (`tenants.scoping`), where the
"archived at" column shows; its rows are view-only (its own page is not: a superuser switches it
inactive there to unarchive it without running its jobs).
"""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from . import removal
from .scoping import archived_choice

CONFIRMATION_TEMPLATE = "admin/tenants/tenant/removal_confirmation.html"
ARCHIVED_FIELDS = ["archived_at", "archived_by"]


def _no(request, obj=None) -> bool:
    return False


class TenantRemovalAdminMixin:
    """Archive / Unarchive actions and the checked Delete of a tenant (see the module docstring)."""

    # -- who may -----------------------------------------------------------------------------------

    def has_archive_permission(self, request) -> bool:
        return self.has_change_permission(request)

    def has_unarchive_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deleting is checked per tenant, on its own page
        if IS_POPUP_VAR in request.GET:
            return actions
        allowed = {
            "archive_tenants": self.has_archive_permission(request),
            "unarchive_tenants": self.has_unarchive_permission(request),
        }
        for name, may in allowed.items():
            if may:
                actions[name] = self.get_action(name)
        return actions

    # -- the list and the page ---------------------------------------------------------------------

    def get_list_display(self, request):
        shown = list(super().get_list_display(request))
        return shown if archived_choice(request) == "no" else [*shown, "archived_at"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, *ARCHIVED_FIELDS] if obj is not None and obj.is_archived else fields

    def get_inline_instances(self, request, obj=None):
        inlines = super().get_inline_instances(request, obj)
        if obj is not None and obj.is_archived:
            # Its warehouses, contacts and members are its rows: view-only on its page too, as on their own.
            for inline in inlines:
                inline.max_num = 0
                inline.has_add_permission = inline.has_change_permission = inline.has_delete_permission = _no
        return inlines

    # -- archive / unarchive -----------------------------------------------------------------------

    @admin.action(description="Archive selected tenants (keep their records, stop their jobs, hide them)")
    def archive_tenants(self, request, queryset):
        if not self.has_archive_permission(request):
            raise PermissionDenied
        tenants = list(queryset.filter(archived_at__isnull=True))
        if request.POST.get("post") != "yes":
            explanation = [
                "Archiving keeps every record of these tenants: their orders stay known, so none is downloaded "
                "or sent to a warehouse again.",
                "Their jobs stop (a run under way finishes): nothing is scheduled, dispatched or run for them, "
                "and they raise no alerts. They leave the lists, the list filters, the dashboard and /metrics; "
                "a superuser finds them under the filter “Archived: Yes” and can unarchive them.",
            ]
            return self._confirm(request, "archive_tenants", "Archive tenants", explanation, tenants, "Archive")
        done = [tenant for tenant in tenants if removal.archive(tenant, request.user)]
        for tenant in done:
            self.log_change(request, tenant, "Archived.")
        self.message_user(request, f"Archived {len(done)} tenant(s): {', '.join(map(str, done)) or 'none'}.")
        return None

    @admin.action(description="Unarchive selected tenants (their activated connections run again)")
    def unarchive_tenants(self, request, queryset):
        if not self.has_unarchive_permission(request):
            raise PermissionDenied
        tenants = list(queryset.filter(archived_at__isnull=False))
        if request.POST.get("post") != "yes":
            explanation = [
                "Unarchiving brings these tenants back into the lists, the dashboard, /metrics and the alerts.",
                "The jobs of their activated connections are due again at once and send orders waiting in Order "
                "Manager to the warehouse. To bring a tenant back without running them, first untick “active” on "
                "its page.",
            ]
            return self._confirm(request, "unarchive_tenants", "Unarchive tenants", explanation, tenants, "Unarchive")
        done = [tenant for tenant in tenants if removal.unarchive(tenant)]
        for tenant in done:
            self.log_change(request, tenant, "Unarchived.")
        self.message_user(request, f"Unarchived {len(done)} tenant(s): {', '.join(map(str, done)) or 'none'}.")
        return None

    def _confirm(self, request, action, title, explanation, tenants, button):
        if not tenants:
            self.message_user(request, "None of the selected tenants can be changed that way.", messages.WARNING)
            return None
        now = timezone.now()
        rows = []
        for tenant in tenants:
            connections = [
                f"{connection}: {self._connection_outcome(action, connection, now)}"
                for warehouse in tenant.warehouses.select_related("order_manager").order_by("name")
                if (connection := getattr(warehouse, "order_manager", None)) is not None
            ]
            rows.append((tenant, connections))
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "explanation": explanation,
            "tenants": rows,
            "action": action,
            "button": button,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
            "media": self.media,
        }
        return TemplateResponse(request, CONFIRMATION_TEMPLATE, context)

    @staticmethod
    def _connection_outcome(action, connection, now) -> str:
        if action == "archive_tenants":
            return f"now {connection.run_state(now)[0]}; its jobs stop"
        if connection.is_activated:
            return "activated: its jobs run again at once"
        return "not activated: it stays stopped until it is activated"

    # -- delete ------------------------------------------------------------------------------------

    def delete_view(self, request, object_id, extra_context=None):
        tenant = self.get_object(request, unquote(object_id))
        if tenant is not None and self.has_delete_permission(request, tenant):
            reason = removal.deletion_refusal(tenant)
            if reason:
                return self._refuse(request, tenant, reason)
        try:
            return super().delete_view(request, object_id, extra_context)
        except removal.DeletionRefused as refused:  # something reached a WMS since the page was shown
            return self._refuse(request, tenant, str(refused))

    def _refuse(self, request, tenant, reason):
        self.message_user(request, reason, messages.ERROR)
        return HttpResponseRedirect(reverse("admin:tenants_tenant_change", args=[tenant.pk]))

    def get_deleted_objects(self, objs, request):
        """The confirmation page's lists: the tenant with its warehouses and connections, and a count of
        every kind of row that goes with it. No per-model permission is asked: a superuser deleting a
        tenant that never sent anything deletes its audit trail with it."""
        tenant = objs[0]
        url = reverse("admin:tenants_tenant_change", args=[tenant.pk])
        children = [str(warehouse) for warehouse in tenant.warehouses.order_by("name")]
        to_delete = [format_html('Tenant: <a href="{}">{}</a>', url, tenant), children]
        counts = {
            apps.get_model(label)._meta.verbose_name_plural: count
            for label, count in removal.owned_counts(tenant).items()
        }
        return to_delete, counts, set(), []

    def delete_model(self, request, obj):
        deleted = removal.delete(obj)
        self.message_user(request, f"Deleted: {removal.describe(deleted)}.")

    def delete_queryset(self, request, queryset):
        for tenant in queryset:
            self.delete_model(request, tenant)
