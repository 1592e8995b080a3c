"""Onboarding admin: tenants, their staff, warehouses (WMS) and Order Manager connections.

Every ModelAdmin here is tenant-scoped (`TenantScopedAdminMixin`). "Onboard a tenant" creates the
tenant, its first warehouse and its Order Manager connection from one page in one transaction;
"Create sandbox accounts" on a tenant connects it to the built-in sandbox (`sandbox_admin`); a
tenant onboarded by mistake is deleted or archived (`removal_admin`).
Other apps add pages under a connection's admin URL with `add_connection_page` (tenants cannot
import hub, so hub registers its pre-flight and inventory pages here); "Test connection" leads to
the page registered with `after_test=True` when the test succeeds. `add_connection_tool` likewise
adds HTML to the connection's page (the hub's Run now buttons).
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from connectors.wms import systems as wms_systems

from . import connection_check, om_connect
from .forms import ConnectionChangeForm, OnboardConnectionForm, OnboardTenantForm, OnboardWarehouseForm, show_warnings
from .models import AlertContact, OrderManagerConnection, Tenant, TenantMembership, TokenSource
from .removal_admin import TenantRemovalAdminMixin
from .sandbox_admin import SandboxAccountsAdminMixin
from .scoping import TenantScopedAdminMixin
from .secret_destinations import SecretDestinationsAdminMixin
from .warehouse_admin import WarehouseInline, warehouse_system_of_request


@dataclass(frozen=True)
class ConnectionPage:
    """A page at `<connection id>/<name>/`, URL name `admin:tenants_ordermanagerconnection_<name>`.

    `view(model_admin, request, object_id)` gets the connection through `model_admin.get_object`
    (tenant-scoped) and checks its own permissions; `label` is its link on the change page.
    """

    name: str
    label: str
    view: Callable
    after_test: bool = False


CONNECTION_PAGES: dict[str, ConnectionPage] = {}


def add_connection_page(page: ConnectionPage) -> None:
    """Register (or replace) a connection page; call it when the admin modules load."""
    CONNECTION_PAGES[page.name] = page


# name -> render(request, connection) -> safe HTML, drawn above the connection's change form.
CONNECTION_TOOLS: dict[str, Callable] = {}


def add_connection_tool(name: str, render: Callable) -> None:
    """Register (or replace) a tool on the connection's page; call it when the admin modules load."""
    CONNECTION_TOOLS[name] = render


# Changing any of these gives a connection whose credentials were rejected another chance.
CREDENTIAL_FIELDS = {"access_token"}


class MembershipInline(admin.TabularInline):
    model = TenantMembership
    extra = 0
    autocomplete_fields = ["user"]


class AlertContactInline(admin.TabularInline):
    """Who gets the tenant's alert e-mails; scoped by the tenant page it sits on."""

    model = AlertContact
    extra = 0
    fields = ["email", "name", "active"]


@admin.register(Tenant)
class TenantAdmin(SandboxAccountsAdminMixin, TenantScopedAdminMixin, TenantRemovalAdminMixin, admin.ModelAdmin):
    tenant_path = ""
    list_display = ["name", "slug", "time_zone", "alert_frequency", "active"]
    list_filter = ["active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [WarehouseInline, AlertContactInline, MembershipInline]

    def get_inlines(self, request, obj):
        # Only superusers manage who belongs to a tenant.
        return self.inlines if request.user.is_superuser else [WarehouseInline, AlertContactInline]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))  # an archived tenant's (removal_admin)
        fields += [] if request.user.is_superuser else ["name", "slug", "active"]
        if obj is not None and self._has_connections(obj):
            fields.append("time_zone_and_schedule")
        return fields

    def get_fields(self, request, obj=None):
        fields = [f for f in super().get_fields(request, obj) if f != "time_zone_and_schedule"]
        if obj is not None and self._has_connections(obj) and "time_zone" in fields:
            # Edited with the inventory schedule it governs, on the connection page (one place).
            fields[fields.index("time_zone")] = "time_zone_and_schedule"
        return fields

    @staticmethod
    def _has_connections(tenant) -> bool:
        return TenantAdmin._first_connection(tenant) is not None

    @staticmethod
    def _first_connection(tenant):
        """The tenant's first connection, read once per page (the admin asks for fields several times)."""
        if not hasattr(tenant, "_first_connection"):
            connections = OrderManagerConnection.objects.filter(warehouse__tenant=tenant).order_by("pk")
            tenant._first_connection = connections.only("pk").first()
        return tenant._first_connection

    @admin.display(description="time zone")
    def time_zone_and_schedule(self, obj):
        link = reverse("admin:tenants_ordermanagerconnection_change", args=[self._first_connection(obj).pk])
        return format_html(
            '{} <span class="help">(set with the inventory schedule on the <a href="{}">connection '
            "page</a>; every time on this tenant's pages is shown in it)</span>",
            obj.time_zone,
            link,
        )

    def has_delete_permission(self, request, obj=None):
        # Like creating one, deleting a tenant (and with it every connection and its audit trail)
        # is for superusers only, and only one that never sent an order (tenants.removal_admin).
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def get_prepopulated_fields(self, request, obj=None):
        # Prepopulating the read-only slug of tenant staff would crash their change page.
        return self.prepopulated_fields if request.user.is_superuser else {}

    def get_urls(self):
        return [
            path("onboard/", self.admin_site.admin_view(self.onboard_view), name="tenants_tenant_onboard"),
        ] + super().get_urls()

    def onboard_view(self, request):
        """One page: tenant, warehouse (WMS), Order Manager connection; saved together or not at all."""
        if not self.has_add_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        forms = {
            "tenant": OnboardTenantForm(request.POST or None, prefix="tenant"),
            "warehouse": OnboardWarehouseForm(
                request.POST or None, prefix="warehouse", system=warehouse_system_of_request(request)
            ),
            "connection": OnboardConnectionForm(request.POST or None, prefix="connection"),
        }
        if request.method == "POST" and all(form.is_valid() for form in forms.values()):
            with transaction.atomic():
                tenant = forms["tenant"].save()
                warehouse = forms["warehouse"].save(commit=False)
                warehouse.tenant = tenant
                warehouse.save()
                connection = forms["connection"].save(commit=False)
                connection.warehouse = warehouse
                connection.save()
            show_warnings(request, forms["connection"])
            messages.success(request, f"Tenant “{tenant}” onboarded. Next: run “Test connection” on its connections.")
            return HttpResponseRedirect(reverse("admin:tenants_ordermanagerconnection_change", args=[connection.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Onboard a tenant",
            "forms": forms,
            "systems": [(key, system.label) for key, system in wms_systems.SYSTEMS.items()],
            "system": forms["warehouse"].system,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/tenants/onboard.html", context)


@admin.register(OrderManagerConnection)
class OrderManagerConnectionAdmin(SecretDestinationsAdminMixin, TenantScopedAdminMixin, admin.ModelAdmin):
    form = ConnectionChangeForm
    tenant_path = "warehouse__tenant"
    list_display = [
        "__str__",
        "warehouse_name",
        "om_warehouse_id",
        "order_download_enabled",
        "cancel_download_enabled",
        "shipment_confirmation_enabled",
        "inventory_sync_enabled",
        "circuit",
        "last_tested_at",
    ]
    list_filter = ["warehouse__tenant", "inventory_sync_enabled"]
    list_select_related = ["warehouse__tenant"]
    search_fields = ["warehouse__name", "warehouse__tenant__name", "warehouse_name", "connected_account"]
    readonly_fields = [
        "om_warehouse_id",
        "om_warehouse_type",
        "last_tested_at",
        "test_report",
        "circuit",
        "paused_until",
        "credentials_rejected_at",
        "pause_reason",
        "token_source",
        "connected_by",
        "connected_at",
        "connected_account",
    ]
    actions = ["test_connection"]
    change_form_template = "admin/tenants/ordermanagerconnection/change_form.html"
    fieldsets = [
        (None, {"fields": ["warehouse", "circuit"]}),
        (
            "Order Manager account",
            {
                "description": "Connect to Order Manager (the button above) installs the hub's app: the tenant signs in "
                "on Order Manager's own page with the account username and password, which the hub never "
                "stores. Or paste the access token of an app installed by hand.",
                "fields": [
                    "warehouse_name",
                    "access_token",
                    "token_source",
                    "connected_by",
                    "connected_at",
                    "connected_account",
                ],
            },
        ),
        ("Endpoints", {"classes": ["collapse"], "fields": ["base_url", "auth_base_url"]}),
        (
            "Resolved by Test connection",
            {"fields": ["om_warehouse_id", "om_warehouse_type", "last_tested_at", "test_report"]},
        ),
        (
            "Circuit breaker",
            {"classes": ["collapse"], "fields": ["paused_until", "credentials_rejected_at", "pause_reason"]},
        ),
        ("Orders", {"fields": ["pickup_status", "start_from"]}),
        (
            "Functions",
            {
                "fields": [
                    "order_download_enabled",
                    "cancel_download_enabled",
                    "shipment_confirmation_enabled",
                    "inventory_sync_enabled",
                    "reconciliation_enabled",
                ]
            },
        ),
        (
            "Schedule",
            {
                "fields": [
                    "order_download_interval",
                    "cancel_download_interval",
                    "shipment_confirmation_interval",
                    "inventory_time",
                    "time_zone",
                    "inventory_times_per_day",
                    "reconciliation_time",
                ]
            },
        ),
    ]

    def get_fieldsets(self, request, obj=None):
        """Only the jobs the warehouse's system supports (Integration Manager's destination capabilities)."""
        fieldsets = super().get_fieldsets(request, obj)
        hidden = obj.unsupported_job_fields() if obj is not None else set()
        if not hidden:
            return fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in hidden]})
            for name, options in fieldsets
            if [f for f in options["fields"] if f not in hidden]
        ]

    @admin.display(description="last test")
    def test_report(self, obj):
        return connection_check.format_report(obj.last_test_report)

    @admin.display(description="state")
    def circuit(self, obj):
        return obj.run_state(timezone.now())[0]

    def save_model(self, request, obj, form, change):
        if "access_token" in form.changed_data and str(obj.access_token or ""):
            # A pasted token (an app installed by hand): record who pasted it and when.
            obj.token_source, obj.connected_by, obj.connected_at = TokenSource.PASTED, request.user, timezone.now()
            obj.connected_account = ""
        super().save_model(request, obj, form, change)
        tenant = obj.warehouse.tenant
        if form.cleaned_data.get("time_zone") and form.cleaned_data["time_zone"] != tenant.time_zone:
            tenant.time_zone = form.cleaned_data["time_zone"]
            tenant.save(update_fields=["time_zone"])  # reschedules the tenant's jobs (hub.engine.schedule_signals)
        if change and set(form.changed_data) & CREDENTIAL_FIELDS:
            obj.clear_circuit()  # new credentials: scheduled runs resume
        show_warnings(request, form)

    @admin.action(description="Test connection")
    def test_connection(self, request, queryset):
        tested = []
        for connection in queryset.select_related("warehouse__tenant"):
            tested.append((connection, self._test(request, connection)))
        if len(tested) == 1 and tested[0][1]:
            return self._after_test_redirect(tested[0][0])
        return None

    def _test(self, request, connection) -> bool:
        """Test both sides of `connection`, tell the user, return True when Order Manager's test passed."""
        report = connection_check.check_order_manager(connection)
        level = messages.SUCCESS if report.get("ok") else messages.ERROR
        self.message_user(request, f"{connection}: {connection_check.format_report(report)}", level)
        wms = connection_check.check_warehouse(connection.warehouse)
        if not wms.get("ok"):
            self.message_user(
                request, f"{connection.warehouse} (WMS): {connection_check.format_report(wms)}", messages.ERROR
            )
        return bool(report.get("ok"))

    def _after_test_redirect(self, connection):
        page = next((p for p in CONNECTION_PAGES.values() if p.after_test), None)
        name = (
            f"admin:tenants_ordermanagerconnection_{page.name}"
            if page
            else "admin:tenants_ordermanagerconnection_change"
        )
        return HttpResponseRedirect(reverse(name, args=[connection.pk]))

    def test_view(self, request, object_id):
        """POST: the change page's "Test connection" button; on success, on to the after-test page."""
        connection = self.get_object(request, object_id)
        if connection is None:
            raise Http404("No such connection.")
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request, connection):
            raise PermissionDenied
        if self._test(request, connection):
            return self._after_test_redirect(connection)
        return HttpResponseRedirect(reverse("admin:tenants_ordermanagerconnection_change", args=[connection.pk]))

    def get_urls(self):
        pages = [
            path(
                f"<path:object_id>/{page.name}/",
                self.admin_site.admin_view(partial(page.view, self)),
                name=f"tenants_ordermanagerconnection_{page.name}",
            )
            for page in CONNECTION_PAGES.values()
        ]
        test = path(
            "<path:object_id>/test/",
            self.admin_site.admin_view(self.test_view),
            name="tenants_ordermanagerconnection_test",
        )
        connect = path(
            "<path:object_id>/connect/",
            self.admin_site.admin_view(partial(om_connect.start_view, self)),
            name="tenants_ordermanagerconnection_connect",
        )
        return [test, connect, *pages, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        pages = [
            {"label": page.label, "url": reverse(f"admin:tenants_ordermanagerconnection_{page.name}", args=[object_id])}
            for page in CONNECTION_PAGES.values()
        ]
        extra = {
            "connection_pages": pages,
            "test_url": reverse("admin:tenants_ordermanagerconnection_test", args=[object_id]),
            "connect_url": reverse("admin:tenants_ordermanagerconnection_connect", args=[object_id]),
        }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["connection_tools"] = [render(request, obj) for render in CONNECTION_TOOLS.values()]
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(TenantMembership)
class TenantMembershipAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    tenant_path = "tenant"
    list_display = ["user", "tenant"]
    list_filter = ["tenant"]
    list_select_related = ["user", "tenant"]
    autocomplete_fields = ["user"]

    # Only superusers manage who belongs to a tenant: hiding the module from the index is not
    # enough, its URLs must refuse tenant staff too (they hold the tenants app's permissions).
    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request, *args):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
