"""The warehouse admin: one tenant warehouse, showing the fields of its WMS system only.

Which system a page is for: a saved row's own (fixed once saved); on the add page the submitted
`wms_system`, else the page's `?wms_system=` (the small script on the select reloads with it).
`get_fields` keeps that system's credential fields (`tenants.models.warehouse.SYSTEM_FIELDS`) and
drops the others', so the form neither shows nor validates nor saves another system's fields.
"""

from django.contrib import admin, messages

from connectors.wms import systems as wms_systems

from . import connection_check
from .forms import SYSTEM_PARAM, WarehouseForm, chosen_system, warehouse_fields
from .models import OrderManagerConnection, Warehouse
from .models.warehouse import CREDENTIAL_FIELDS
from .scoping import TenantScopedAdminMixin
from .secret_destinations import SecretDestinationsAdminMixin


def warehouse_system_of_request(request, obj=None) -> str:
    """The system the page is for (see the module docstring)."""
    if obj is not None:
        return obj.wms_system  # fixed once saved (tenants.forms.WarehouseForm)
    fallback = wms_systems.DEFAULT
    if request.method == "POST":
        return chosen_system(request.POST, None, fallback)
    return chosen_system(request.GET, None, fallback)


class WarehouseInline(admin.TabularInline):
    model = Warehouse
    extra = 0
    fields = ["name", "system", "customer_id", "facility_id", "facility_time_zone"]
    readonly_fields = ["system"]
    show_change_link = True

    @admin.display(description="warehouse system")
    def system(self, obj):
        found = wms_systems.SYSTEMS.get(obj.wms_system) if obj is not None else None
        return found.label if found else (obj.wms_system if obj is not None else "")


@admin.register(Warehouse)
class WarehouseAdmin(SecretDestinationsAdminMixin, TenantScopedAdminMixin, admin.ModelAdmin):
    form = WarehouseForm
    tenant_path = "tenant"
    list_display = ["name", "tenant", "system", "last_tested_at"]
    list_filter = ["tenant", "wms_system"]
    list_select_related = ["tenant"]
    search_fields = ["name", "tenant__name"]
    readonly_fields = ["last_tested_at", "test_report"]
    actions = ["test_connection"]

    class Media:
        js = ["tenants/wms_system.js"]

    @admin.display(description="warehouse system", ordering="wms_system")
    def system(self, obj):
        found = wms_systems.SYSTEMS.get(obj.wms_system)
        return found.label if found else obj.wms_system

    def get_fields(self, request, obj=None):
        return warehouse_fields(warehouse_system_of_request(request, obj), super().get_fields(request, obj))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        system = warehouse_system_of_request(request, obj)
        return type(form.__name__, (form,), {"requested_system": system})

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.pop(SYSTEM_PARAM, None)  # set by the form from `requested_system`, with its base URL
        return initial

    @admin.display(description="last test")
    def test_report(self, obj):
        return connection_check.format_report(obj.last_test_report)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        connection = OrderManagerConnection.objects.filter(warehouse=obj).first()
        if change and connection is not None and set(form.changed_data) & CREDENTIAL_FIELDS:
            connection.clear_circuit()  # new WMS credentials: scheduled runs resume

    @admin.action(description="Test connection")
    def test_connection(self, request, queryset):
        for warehouse in queryset:
            report = connection_check.check_warehouse(warehouse)
            level = messages.SUCCESS if report.get("ok") else messages.ERROR
            self.message_user(request, f"{warehouse}: {connection_check.format_report(report)}", level)
