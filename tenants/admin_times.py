"""Times on tenant data are shown in the tenant's zone, with the zone named.

The rule, for every ModelAdmin of tenant data (mixed in by `tenants.scoping.TenantScopedAdminMixin`):
- a change page (read-only times, and the date-time inputs it shows and parses) runs in the zone
  of the object's tenant, so "start from 09:00" means 09:00 where the tenant is;
- a list shows each row's date-time columns in that row's tenant's zone (a list may hold rows of
  several tenants), sortable as the underlying column;
- the format is the hub's one format (hub/formats/en/formats.py): 2026-12-07 18:05 EST.
Pages that are not tenant data keep the hub's zone (UTC), also named.
"""

from __future__ import annotations

import zoneinfo

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db import models
from django.utils import formats, timezone

NO_BREAK = "\u00a0"


def format_moment(moment, zone: zoneinfo.ZoneInfo | None) -> str:
    """`moment` in `zone` (the current zone when None), in the hub's format; "" for no moment."""
    if moment is None:
        return ""
    return formats.date_format(timezone.localtime(moment, zone), "DATETIME_FORMAT")


def _datetime_field(model, name):
    try:
        field = model._meta.get_field(name)
    except Exception:
        return None
    return field if isinstance(field, models.DateTimeField) else None


class TenantTimesAdminMixin:
    """Needs `tenant_of(obj)` and `tenant_path` (both from TenantScopedAdminMixin)."""

    def zone_of(self, obj) -> zoneinfo.ZoneInfo | None:
        tenant = self.tenant_of(obj) if obj is not None else None
        return tenant.zone if tenant is not None else None

    def _zoned_column(self, name: str, field):
        def column(obj):
            text = format_moment(getattr(obj, name), self.zone_of(obj))
            # A narrow column may wrap after the date, never between the time and its zone.
            date, _, rest = text.partition(" ")
            return f"{date} {rest.replace(' ', NO_BREAK)}" if text else None

        column.__name__ = name  # keeps the column's CSS class (column-<name>) and a stable header
        return admin.display(description=field.verbose_name, ordering=name)(column)

    def get_list_display(self, request):
        columns = []
        for name in super().get_list_display(request):
            field = _datetime_field(self.model, name) if isinstance(name, str) else None
            columns.append(self._zoned_column(name, field) if field is not None else name)
        return columns

    def get_list_display_links(self, request, list_display):
        links = super().get_list_display_links(request, list_display)
        if not links:
            return links
        # A link named after a date-time column that `get_list_display` replaced by its zoned form.
        replaced = {item.__name__: item for item in list_display if callable(item)}
        return [replaced.get(link, link) if isinstance(link, str) else link for link in links]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        # The row's tenant (and its zone) without one query per row.
        return queryset.select_related(self.tenant_path) if self.tenant_path else queryset

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id)) if object_id else None
        zone = self.zone_of(obj)
        if zone is None:
            return super().changeform_view(request, object_id, form_url, extra_context)
        extra_context = {**(extra_context or {}), "tenant_time_zone": str(zone)}
        with timezone.override(zone):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            # A TemplateResponse renders after the view returns: render it while the zone holds.
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
        return response
