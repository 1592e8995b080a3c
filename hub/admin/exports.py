"""CSV export of the order, run and event lists (django-import-export): one Resource per model, and
`CsvExportMixin`, which gives an audit admin its **Export** button.

Contract:
- What is exported is the list the operator is looking at: the admin's own changelist query, so
  its filters, date ranges, search and sort, and its tenant scoping (tenant staff export only their
  tenants' rows), every row of it, not only the page shown (django-import-export's
  `ExportMixin.get_export_queryset`). Export only: nothing here imports.
- Who may export: whoever may view the list (`has_view_permission`, the model's Django "view"
  permission for these read-only admins); anyone else gets 403 on the export page.
- The one format is CSV (UTF-8 with a byte-order mark, so Excel reads names with accents), and no
  cell runs as a formula in a spreadsheet (`hub.admin.formula_safe_csv`). XLSX would need openpyxl.
- Columns are named in words (`COLUMNS` below lists them in order); times are ISO 8601 with their
  UTC offset, in the row's tenant's time zone (``2026-03-02T09:15:00-05:00``); error texts and
  messages are redacted (`redacted_line`) and on one line; raw payloads (the order as downloaded,
  the WMS body, what was sent and received, a run's outside calls) are never exported.
- Memory: rows are read with `QuerySet.iterator` in chunks of `CHUNK_ROWS`, loading only the
  columns exported (big JSON columns stay in the database); the library builds the file in memory
  from those rows (a tablib Dataset, then the CSV text), which for 10,000 orders is a few MB.
"""

from __future__ import annotations

from django.contrib.admin.options import IncorrectLookupParameters
from django.http import HttpResponseRedirect
from django.template.loader import select_template
from django.urls import reverse
from django.utils import timezone
from import_export import resources
from import_export.admin import ExportMixin
from import_export.fields import Field
from import_export.forms import SelectableFieldsExportForm

from hub.admin.base import redacted_line
from hub.admin.formula_safe_csv import FormulaSafeCSV

CHUNK_ROWS = 2000
TEXT_CHARS = 2000  # an error or message cell; stored texts are capped well below this anyway


class Column(Field):
    """A text or number column; empty when the value (or anything on its path) is missing."""

    def __init__(self, attribute: str, column_name: str):
        super().__init__(attribute=attribute, column_name=column_name, readonly=True)

    def export(self, instance, **kwargs):
        value = self.get_value(instance)
        return "" if value is None else str(value)


class YesNoColumn(Column):
    def export(self, instance, **kwargs):
        return "yes" if self.get_value(instance) else "no"


class RedactedColumn(Column):
    """Outside text (an error, a message): secrets masked, on one line (`redacted_line`)."""

    def export(self, instance, **kwargs):
        return redacted_line(self.get_value(instance), TEXT_CHARS)


class TimeColumn(Column):
    """A time as ISO 8601 with its offset, in the time zone of the row's tenant (`tenant_path`)."""

    def __init__(self, attribute: str, column_name: str, tenant_path: str):
        super().__init__(attribute, column_name)
        self.tenant = Field(attribute=tenant_path)

    def export(self, instance, **kwargs):
        value = self.get_value(instance)
        if value is None:
            return ""
        tenant = self.tenant.get_value(instance)
        zone = tenant.zone if tenant is not None else timezone.get_current_timezone()
        return value.astimezone(zone).isoformat(timespec="seconds")


class AuditResource(resources.Resource):
    """Base of the three resources: reads only `load` (with `related` joined), in chunks."""

    related: tuple[str, ...] = ()
    load: tuple[str, ...] = ()

    @classmethod
    def get_display_name(cls):
        # What the admin's export form calls the resource (ModelResource has it; Resource not).
        return cls._meta.name

    def export_resource(self, instance, selected_fields=None, **kwargs):
        # What the library's export_resource does, with each column's dehydrate method looked up
        # once per export instead of once per cell (it scans every field to find a field's name:
        # 25 x 25 steps an order row, a third of the export's time for 10,000 orders).
        plan = self._export_plan(tuple(selected_fields or ()))
        return [dehydrate(instance) if dehydrate else field.export(instance, **kwargs) for field, dehydrate in plan]

    def _export_plan(self, selected_fields: tuple[str, ...]):
        plans = self.__dict__.setdefault("_export_plans", {})
        if selected_fields not in plans:
            plan = []
            for field in self.get_export_fields(list(selected_fields) or None):
                method = field.get_dehydrate_method(self.get_field_name(field))
                plan.append((field, method if callable(method) else getattr(self, method, None)))
            plans[selected_fields] = plan
        return plans[selected_fields]

    def filter_export(self, queryset, **kwargs):
        # The changelist's query, narrowed to what the columns read, so a JSON column no column
        # needs is never fetched and one a column needs is not fetched row by row. `defer(None)`
        # first: `only` keeps the list's deferred columns (`list_defer`) deferred otherwise.
        return queryset.select_related(None).select_related(*self.related).defer(None).only(*self.load)


TENANT = "connection__warehouse__tenant"
# What str(connection) reads (tenant / Order Manager warehouse → WMS warehouse), and the tenant's zone.
CONNECTION_LOAD = (
    "connection__warehouse_name",
    "connection__warehouse__name",
    "connection__warehouse__tenant__name",
    f"{TENANT}__time_zone",
)


class OrderExport(AuditResource):
    order_number = Column("order_number", "order number")
    tenant = Column(f"{TENANT}__name", "tenant")
    connection = Column("connection", "connection")
    status = Column("get_status_display", "status")
    held = YesNoColumn("error_permanent", "held for the operator")
    given_up = YesNoColumn("given_up", "given up (WMS send)")
    om_order_id = Column("om_order_id", "Order Manager order id")
    wms_order_id = Column("wms_order_id", "WMS order id")
    sales_channel = Column("sales_channel", "sales channel")
    ship_to = Column("ship_to", "ship to")
    ship_method = Column("ship_method", "ship method")
    lines = Column("lines", "lines (SKU × quantity)")
    attempts = Column("attempts", "send attempts")
    last_error = RedactedColumn("last_error", "last error")
    cancel_requested = YesNoColumn("cancel_requested", "cancelled in Order Manager")
    cancel_handled = YesNoColumn("cancel_handled", "cancellation handled")
    tracking_numbers = Column("tracking_numbers", "tracking numbers")
    tracking_given_up = YesNoColumn("tracking_given_up", "tracking given up")
    carrier = Column("carrier", "carrier")
    service = Column("service", "service")
    ship_date = TimeColumn("ship_date", "ship date", TENANT)
    om_modified_at = TimeColumn("om_modified_at", "modified in Order Manager", TENANT)
    om_exported_at = TimeColumn("om_exported_at", "marked exported in Order Manager", TENANT)
    created_at = TimeColumn("created_at", "first seen by the hub", TENANT)
    updated_at = TimeColumn("updated_at", "last changed in the hub", TENANT)

    related = (TENANT,)
    load = (
        *CONNECTION_LOAD,
        *("order_number", "status", "error_permanent", "given_up", "om_order_id", "wms_order_id"),
        *("sales_channel", "ship_to", "ship_method", "lines", "attempts", "last_error"),
        *("cancel_requested", "cancel_handled", "tracking_numbers", "tracking_given_up"),
        *("carrier", "service", "ship_date", "om_modified_at", "om_exported_at", "created_at", "updated_at"),
    )

    class Meta:
        name = "Orders"
        chunk_size = CHUNK_ROWS

    def dehydrate_lines(self, order):
        lines = order.lines or []
        return ", ".join(
            f"{line.get('sku', '?')} × {line.get('quantity', '?')}" if isinstance(line, dict) else str(line)
            for line in lines
        )

    def dehydrate_tracking_numbers(self, order):
        return ", ".join(order.tracking_numbers or [])


class RunExport(AuditResource):
    run_id = Column("pk", "run id")
    tenant = Column(f"{TENANT}__name", "tenant")
    connection = Column("connection", "connection")
    job = Column("get_job_display", "job")
    status = Column("get_status_display", "status")
    trigger = Column("get_trigger_display", "trigger")
    started_at = TimeColumn("started_at", "started at", TENANT)
    finished_at = TimeColumn("finished_at", "finished at", TENANT)
    duration = Column("duration", "duration in seconds")
    fetched = Column("fetched", "fetched")
    created = Column("created", "created")
    updated = Column("updated", "updated")
    skipped = Column("skipped", "skipped")
    failed = Column("failed", "failed")
    requests_made = Column("requests_made", "requests made")
    rate_limited = Column("rate_limited", "429s received")
    window_from = TimeColumn("window_from", "window from", TENANT)
    window_to = TimeColumn("window_to", "window to", TENANT)
    error = RedactedColumn("error", "error")

    related = (TENANT,)
    load = (
        *CONNECTION_LOAD,
        *("job", "status", "trigger", "started_at", "finished_at", "fetched", "created", "updated"),
        *("skipped", "failed", "requests_made", "rate_limited", "window_from", "window_to", "error"),
    )

    class Meta:
        name = "Runs"
        chunk_size = CHUNK_ROWS

    def dehydrate_duration(self, run):
        return "" if run.duration is None else f"{run.duration.total_seconds():.3f}"


EVENT_TENANT = f"order__{TENANT}"


class EventExport(AuditResource):
    event_id = Column("pk", "event id")
    at = TimeColumn("at", "at", EVENT_TENANT)
    tenant = Column(f"{EVENT_TENANT}__name", "tenant")
    connection = Column("order__connection", "connection")
    order_number = Column("order__order_number", "order number")
    kind = Column("get_kind_display", "event")
    message = RedactedColumn("message", "message")
    run_id = Column("run_id", "run id")

    related = (EVENT_TENANT,)
    load = (
        *(f"order__{field}" for field in CONNECTION_LOAD),
        *("order__order_number", "at", "kind", "message", "run"),
    )

    class Meta:
        name = "Order events"
        chunk_size = CHUNK_ROWS


# The documented columns, in file order (docs/setup-guide.md, "Exporting"; tests check the headers).
COLUMNS = {
    resource: [field.column_name for field in resource().get_export_fields()]
    for resource in (OrderExport, RunExport, EventExport)
}


class ColumnNamesExportForm(SelectableFieldsExportForm):
    """The export page's column check boxes labelled with the column names as the file has them."""

    def _get_field_label(self, resource, field_name):
        return resource.fields[field_name].column_name


class CsvExportMixin(ExportMixin):
    """Mix into an audit admin before `AuditAdmin`, and set `resource_classes` and `export_file_stem`.

    Adds the **Export** button to the list (its link carries the list's query string) and the export
    page at ``<list>/export/`` (choose the columns, then download the CSV).
    """

    export_formats = [FormulaSafeCSV]
    to_encoding = "utf-8-sig"
    export_form_class = ColumnNamesExportForm
    export_file_stem = "export"

    def has_export_permission(self, request):
        # Seeing the list is what lets one export it. The same as django-import-export's
        # IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view" for these read-only admins, without
        # depending on that setting (left unset, the library lets every staff user export).
        return self.has_view_permission(request)

    def export_action(self, request):
        try:
            return super().export_action(request)
        except IncorrectLookupParameters:
            # A hand-edited filter in the query string: back to the list, as the list does itself.
            opts = self.model._meta
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist") + "?e=1")

    def get_export_filename(self, request, queryset, file_format):
        return f"{self.export_file_stem}-{timezone.now():%Y-%m-%d-%H%M}.{file_format.get_extension()}"

    # The library swaps the list's template for its own, which extends `ie_base_change_list_template`:
    # "admin/change_list.html" unless the admin names a template. Resolved here as Django resolves a
    # list's template (the model's, then the app's, then the admin's), so a project template such as
    # templates/admin/hub/<model>/change_list.html keeps rendering, with the Export button.
    @property
    def ie_base_change_list_template(self):
        if self._named_change_list_template:
            return self._named_change_list_template
        opts = self.model._meta
        return select_template(
            [
                f"admin/{opts.app_label}/{opts.model_name}/change_list.html",
                f"admin/{opts.app_label}/change_list.html",
                "admin/change_list.html",
            ]
        )

    @ie_base_change_list_template.setter
    def ie_base_change_list_template(self, value):
        # Set once by the library's __init__: the admin's own change_list_template, or its default.
        self._named_change_list_template = None if value == "admin/change_list.html" else value
