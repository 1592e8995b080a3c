"""Admin of the per-connection mappings and rules (`tenants.mappings`), and their connection page.

Every ModelAdmin here is tenant-scoped (`TenantScopedAdminMixin`): tenant staff see, choose and
save only their own connections' rows. The carrier form offers and accepts only Order Manager's
carrier list (`connectors.om_enums.SHIPPING_CARRIERS`).

- Connection rules, SKU aliases (with CSV import and export: `<changelist>/import/` and
  `<changelist>/export/?connection=<id>`), ship-method mappings (the unmapped ones collected from
  orders are listed with blank targets, editable in the list), carrier mappings, item filter SKUs.
- "Mappings and rules" on a connection's page (`<connection id>/mappings/`): the rules in force
  and links to each list, filtered to that connection.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode

from connectors.om_enums import SHIPPING_CARRIERS
from tenants import alias_csv
from tenants.admin import ConnectionPage, add_connection_page
from tenants.mappings import CarrierMapping, ConnectionRules, ItemFilter, ShipMethodMapping, SkuAlias
from tenants.models import OrderManagerConnection
from tenants.scoping import TenantScopedAdminMixin, scope_queryset

CONNECTION_TENANT = "connection__warehouse__tenant"


def scoped_connections(request):
    return scope_queryset(
        OrderManagerConnection.objects.select_related("warehouse__tenant"), request.user, "warehouse__tenant"
    )


def filtered_changelist(model, connection) -> str:
    url = reverse(f"admin:tenants_{model._meta.model_name}_changelist")
    return f"{url}?{urlencode({'connection__id__exact': connection.pk})}"


class MappingAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    tenant_path = CONNECTION_TENANT
    list_filter = ["connection"]
    list_select_related = ["connection__warehouse__tenant"]
    list_per_page = 200


@admin.register(ConnectionRules)
class ConnectionRulesAdmin(MappingAdmin):
    list_display = [
        "connection",
        "reject_unmapped_ship_methods",
        "item_filter_mode",
        "item_filter_level",
        "inventory_minimum",
        "inventory_buffer",
        "subtract_pending_orders",
    ]
    fieldsets = [
        (None, {"fields": ["connection"]}),
        ("Orders", {"fields": ["reject_unmapped_ship_methods", "item_filter_mode", "item_filter_level"]}),
        ("Inventory Sync", {"fields": ["inventory_minimum", "inventory_buffer", "subtract_pending_orders"]}),
    ]


@admin.register(SkuAlias)
class SkuAliasAdmin(MappingAdmin):
    list_display = ["om_sku", "wms_sku", "connection"]
    search_fields = ["om_sku", "wms_sku"]
    change_list_template = "admin/tenants/skualias/change_list.html"

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="tenants_skualias_import"),
            path("export/", self.admin_site.admin_view(self.export_view), name="tenants_skualias_export"),
        ] + super().get_urls()

    def import_view(self, request):
        """Upload a CSV for one connection; the page shows each row's outcome."""
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        form = AliasImportForm(request.POST or None, request.FILES or None, connections=scoped_connections(request))
        report, error = None, ""
        if request.method == "POST" and form.is_valid():
            connection = form.cleaned_data["connection"]
            try:
                report = alias_csv.import_aliases(
                    connection,
                    form.cleaned_data["file"].read(),
                    dry_run=form.cleaned_data["dry_run"],
                )
            except alias_csv.CsvRejected as exc:
                error = str(exc)
                messages.error(request, f"Nothing imported: {exc}")
            else:
                level = messages.WARNING if report.count("rejected") else messages.SUCCESS
                messages.add_message(request, level, f"{connection}: {report.summary}")
        context = {
            **self.admin_site.each_context(request),
            "title": "Import SKU aliases from CSV",
            "opts": self.model._meta,
            "form": form,
            "report": report,
            "error": error,
            "columns": alias_csv.COLUMNS,
        }
        return TemplateResponse(request, "admin/tenants/skualias/import.html", context)

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        connection = (
            scoped_connections(request).filter(pk=request.GET.get("connection") or 0).first()
            if (request.GET.get("connection") or "").isdigit()
            else None
        )
        if connection is None:
            raise Http404("Choose one of your connections (?connection=<id>).")
        response = HttpResponse(alias_csv.export_aliases(connection), content_type="text/csv; charset=utf-8")
        name = f"sku-aliases-{connection.warehouse.tenant.slug}-{connection.pk}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def changelist_view(self, request, extra_context=None):
        connection_id = request.GET.get("connection__id__exact", "")
        export = reverse("admin:tenants_skualias_export")
        extra = {
            "import_url": reverse("admin:tenants_skualias_import"),
            "export_url": f"{export}?{urlencode({'connection': connection_id})}" if connection_id.isdigit() else "",
        }
        return super().changelist_view(request, {**extra, **(extra_context or {})})


class AliasImportForm(forms.Form):
    connection = forms.ModelChoiceField(queryset=OrderManagerConnection.objects.none())
    file = forms.FileField(label="CSV file", help_text="Header row: om_sku,wms_sku. UTF-8.")
    dry_run = forms.BooleanField(label="Dry run (report only, change nothing)", required=False)

    def __init__(self, *args, connections, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["connection"].queryset = connections


class MappedFilter(admin.SimpleListFilter):
    title = "mapped"
    parameter_name = "mapped"

    def lookups(self, request, model_admin):
        return [("no", "Not mapped yet"), ("yes", "Mapped")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(wms_carrier="")
        if self.value() == "yes":
            return queryset.exclude(wms_carrier="")
        return queryset


@admin.register(ShipMethodMapping)
class ShipMethodMappingAdmin(MappingAdmin):
    # The connection second: the same ship method of two connections must not look like a duplicate row.
    list_display = ["ship_method", "connection", "wms_carrier", "wms_mode", "wms_scac", "mapped", "last_seen_at"]
    list_editable = ["wms_carrier", "wms_mode", "wms_scac"]
    list_filter = [MappedFilter, "connection"]
    search_fields = ["ship_method", "wms_carrier", "wms_mode"]
    readonly_fields = ["first_seen_at", "last_seen_at"]

    @admin.display(boolean=True)
    def mapped(self, obj):
        return obj.is_mapped


class CarrierMappingForm(forms.ModelForm):
    om_carrier = forms.ChoiceField(
        label="Order Manager carrier",
        choices=[(c, c) for c in sorted(SHIPPING_CARRIERS)],
        help_text="Order Manager's shippingCarrier value sent with the tracking number.",
    )

    class Meta:
        model = CarrierMapping
        fields = ["connection", "wms_carrier", "om_carrier"]


@admin.register(CarrierMapping)
class CarrierMappingAdmin(MappingAdmin):
    form = CarrierMappingForm
    list_display = ["wms_carrier", "om_carrier", "connection"]
    search_fields = ["wms_carrier", "om_carrier"]


@admin.register(ItemFilter)
class ItemFilterAdmin(MappingAdmin):
    list_display = ["sku", "connection", "created_at"]
    search_fields = ["sku"]


# -- the connection page --------------------------------------------------------------------------


def mappings_view(model_admin, request, object_id):
    """What shapes this connection's orders and stock, with links to change each."""
    connection = model_admin.get_object(request, object_id)
    if connection is None:
        raise Http404("No such connection.")
    if not model_admin.has_view_permission(request, connection):
        raise PermissionDenied
    rules = ConnectionRules.objects.filter(connection=connection).first()
    if rules is not None:
        rules_url = reverse("admin:tenants_connectionrules_change", args=[rules.pk])
    else:
        rules_url = f"{reverse('admin:tenants_connectionrules_add')}?{urlencode({'connection': connection.pk})}"
    methods = ShipMethodMapping.objects.filter(connection=connection)
    sections = [
        {
            "label": "SKU aliases",
            "count": SkuAlias.objects.filter(connection=connection).count(),
            "url": filtered_changelist(SkuAlias, connection),
            "extra": [
                ("Import CSV", reverse("admin:tenants_skualias_import")),
                (
                    "Export CSV",
                    f"{reverse('admin:tenants_skualias_export')}?{urlencode({'connection': connection.pk})}",
                ),
            ],
        },
        {
            "label": "Ship-method mappings",
            "count": methods.count(),
            "url": filtered_changelist(ShipMethodMapping, connection),
            "unmapped": methods.filter(wms_carrier="").count(),
            "unmapped_url": filtered_changelist(ShipMethodMapping, connection) + "&mapped=no",
        },
        {
            "label": "Carrier mappings (tracking)",
            "count": CarrierMapping.objects.filter(connection=connection).count(),
            "url": filtered_changelist(CarrierMapping, connection),
        },
        {
            "label": "Item filter SKUs",
            "count": ItemFilter.objects.filter(connection=connection).count(),
            "url": filtered_changelist(ItemFilter, connection),
        },
    ]
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Mappings and rules: {connection}",
        "opts": model_admin.model._meta,
        "original": connection,
        "rules": rules or ConnectionRules(connection=connection),
        "rules_saved": rules is not None,
        "rules_url": rules_url,
        "sections": sections,
    }
    return TemplateResponse(request, "admin/hub/mappings.html", context)


add_connection_page(ConnectionPage("mappings", "Mappings and rules", mappings_view))
