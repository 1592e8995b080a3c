""" "Create sandbox accounts" in the tenant admin: onboarding against the built-in sandbox without
the command line.

`SandboxAccountsAdminMixin` (mixed into `tenants.admin.TenantAdmin`) adds, only while the sandbox
is served (`settings.SANDBOX_ENABLED`):

- the page `<tenant id>/sandbox-accounts/` (`admin:tenants_tenant_sandbox_accounts`): GET shows
  what will be created or updated (`tenants.sandbox_onboarding.plan`), POST does it
  (`sandbox_onboarding.set_up`, not activated) and leads to the connection with a message saying
  what comes next (Test connection, pre-flight, start date, Activate);
- a "Create sandbox accounts" button on the tenant's change page and an action on the tenant
  list (one tenant at a time; it leads to the same confirmation page).

The sandbox is served by this hub, so its address is taken from the request
(`request.build_absolute_uri("/")`: the scheme and host the operator reached the admin on, behind a
proxy through `SECURE_PROXY_SSL_HEADER`), never from `HUB_BASE_URL`, which may name another port.
Allowed to users who may change the tenant (tenant-scoped), add and change its warehouses and
connections, and add and change sandbox accounts (superusers; tenant staff have no sandbox
permissions).
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from . import sandbox_onboarding

PERMISSIONS = (
    "tenants.add_warehouse",
    "tenants.change_warehouse",
    "tenants.add_ordermanagerconnection",
    "tenants.change_ordermanagerconnection",
    "sandbox.add_omaccount",
    "sandbox.change_omaccount",
    "sandbox.add_wmsaccount",
    "sandbox.change_wmsaccount",
)
URL_NAME = "tenants_tenant_sandbox_accounts"


class SeedForm(forms.Form):
    """How much a new sandbox Order Manager account is seeded with (ignored once it has products)."""

    orders = forms.IntegerField(
        min_value=0,
        max_value=1000,
        initial=sandbox_onboarding.SEED_ORDERS,
        help_text="Orders waiting for pickup in Order Manager.",
    )
    skus = forms.IntegerField(
        min_value=1,
        max_value=1000,
        initial=sandbox_onboarding.SEED_SKUS,
        label="SKUs",
        help_text="Products with starting inventory in Order Manager and stock at the WMS.",
    )


def hub_address(request) -> str:
    """Where this hub, and so its sandbox, is served, as the request reached it (no trailing slash)."""
    return request.build_absolute_uri("/").rstrip("/")


class SandboxAccountsAdminMixin:
    """Mix into the tenant ModelAdmin (before `admin.ModelAdmin`); see the module docstring."""

    def has_sandbox_accounts_permission(self, request, tenant=None) -> bool:
        return (
            settings.SANDBOX_ENABLED
            and self.has_change_permission(request, tenant)
            and request.user.has_perms(PERMISSIONS)
        )

    def get_urls(self):
        page = path(
            "<path:object_id>/sandbox-accounts/",
            self.admin_site.admin_view(self.sandbox_accounts_view),
            name=URL_NAME,
        )
        return [page, *super().get_urls()]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if IS_POPUP_VAR not in request.GET and self.has_sandbox_accounts_permission(request):
            func, name, description = self.get_action("create_sandbox_accounts")
            actions[name] = (func, name, description)
        return actions

    @admin.action(description="Create sandbox accounts")
    def create_sandbox_accounts(self, request, queryset):
        tenants = list(queryset[:2])
        if len(tenants) != 1:
            self.message_user(request, "Create sandbox accounts works on one tenant at a time.", messages.WARNING)
            return None
        return HttpResponseRedirect(reverse(f"admin:{URL_NAME}", args=[tenants[0].pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        if self.has_sandbox_accounts_permission(request):
            extra["sandbox_accounts_url"] = reverse(f"admin:{URL_NAME}", args=[object_id])
        return super().change_view(request, object_id, form_url, extra)

    def sandbox_accounts_view(self, request, object_id):
        """GET: what will be created; POST: create or update it (not activated), then on to the connection."""
        if not settings.SANDBOX_ENABLED:
            raise Http404("The built-in sandbox is not served (HUB_SANDBOX_ENABLED is off).")
        tenant = self.get_object(request, object_id)
        if tenant is None:
            raise Http404("No such tenant.")
        if not self.has_sandbox_accounts_permission(request, tenant):
            raise PermissionDenied
        tenant_url = reverse("admin:tenants_tenant_change", args=[tenant.pk])
        base = hub_address(request)
        try:
            plan = sandbox_onboarding.plan(tenant, base)
        except sandbox_onboarding.SandboxSetupError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(tenant_url)
        form = SeedForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and (form.is_valid() or not plan.seeds):
            counts = form.cleaned_data if plan.seeds else {"orders": 0, "skus": 0}
            try:
                done = sandbox_onboarding.set_up(
                    tenant,
                    base,
                    activate=False,
                    user=request.user,
                    seed_orders=counts["orders"],
                    seed_skus=counts["skus"],
                )
            except sandbox_onboarding.SandboxSetupError as exc:
                self.message_user(request, f"Sandbox accounts not created: {exc}", messages.ERROR)
                return HttpResponseRedirect(tenant_url)
            return self._sandbox_accounts_done(request, done)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": tenant,
            "title": f"Create sandbox accounts for {tenant}",
            "plan": plan,
            "form": form if plan.seeds else None,
            "tenant_url": tenant_url,
        }
        return TemplateResponse(request, "admin/tenants/tenant/sandbox_accounts.html", context)

    def _sandbox_accounts_done(self, request, done):
        connection = done.connection
        what = "created" if done.created else "updated"
        self.log_change(
            request,
            done.tenant,
            f"Sandbox accounts {what}: Order Manager {done.om.username}, WMS {done.wms.client_id}, "
            f"connection {connection.pk} at {connection.base_url}",
        )
        seeded = (
            f" Seeded {done.seeded['orders_created']} orders and {done.seeded['skus']} SKUs." if done.seeded else ""
        )
        state = (
            "It is active."
            if connection.is_activated
            else "It is not active yet: Test connection, read the pre-flight report, set the start date, then Activate."
        )
        connection_url = reverse("admin:tenants_ordermanagerconnection_change", args=[connection.pk])
        self.message_user(
            request,
            format_html(
                "Sandbox accounts {} for {}: Order Manager account {}, WMS client {}; connection "
                '<a href="{}">{}</a>.{} {}',
                what,
                done.tenant,
                done.om.username,
                done.wms.client_id,
                connection_url,
                connection,
                seeded,
                state,
            ),
            messages.SUCCESS,
        )
        return HttpResponseRedirect(connection_url)
