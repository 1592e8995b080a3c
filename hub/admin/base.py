"""Shared pieces of the audit admins: the read-only, tenant-scoped `AuditAdmin` base, capped counts,
deferred JSON columns, the tenant and connection filters and the small formatting helpers
(`redacted_line` for any outside text a page shows).

Contract of `AuditAdmin`:
- tenant-scoped (`TenantScopedAdminMixin`, first in the bases): archived tenants' rows are hidden
  unless the list's "archived" filter asks for them, and the tenant and connection filters below
  follow it;
- read-only: no add, no change, no delete. An operator changes hub state only through the operations
  of `hub.admin.actions` (admin actions on the lists, buttons on the order page), which need the
  model's Django "change" permission and write an OPERATOR event;
- large tables stay fast: list columns read only selected-related rows (no N+1), big JSON columns are
  deferred on lists, counts are capped (`CappedCountPaginator`, no full count), tenant/connection
  filters list the small tenant tables instead of scanning the big ones, and date filters are plain
  ranges on indexed columns.
"""

from __future__ import annotations

import json

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.http import urlencode

from connectors.redaction import redact_text
from tenants.models import OrderManagerConnection
from tenants.scoping import TenantScopedAdminMixin, archived_choice, by_archived, listed_tenants, scope_queryset

EXCERPT_CHARS = 80
PRETTY_JSON_CHARS = 20_000


def redacted_line(text: str | None, limit: int = EXCERPT_CHARS) -> str:
    """Stored outside text (an error, an alert or event message) as one line for a list cell or an
    operator message: secrets masked, white space folded, at most `limit` characters ("…" where cut).

    What the hub stores from outside answers is mostly redacted already, but not everything that ends
    up in a message went through `connectors.redaction` (a pause reason, an exception's text), and
    an admin page is shown to every operator of the tenant. Masking runs first, on the text as it
    is, so line-bound patterns (an ``Authorization:`` header) see their lines and a secret is never
    half-shown at the cut.
    """
    text = " ".join(redact_text(text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pretty_json(value, limit: int = PRETTY_JSON_CHARS) -> str:
    """Indented JSON for a <pre>, cut at `limit` characters (payloads are capped, but not tiny)."""
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= limit else text[:limit] + "\n… (cut)"


def changelist_link(model, label: str, **params) -> str:
    url = reverse(f"admin:hub_{model._meta.model_name}_changelist") + "?" + urlencode(params)
    return format_html('<a href="{}">{}</a>', url, label)


def change_link(obj, label: str | None = None) -> str:
    if obj is None:
        return "—"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label if label is not None else str(obj))


class CappedCountPaginator(Paginator):
    """A paginator whose count is one bounded query: exact up to `count_cap` rows, else the cap.

    `SELECT COUNT(*) FROM (SELECT id ... LIMIT cap+1)` stops reading after cap+1 rows, where a
    plain COUNT(*) reads the whole (filtered) table on every page view. Past the cap the list
    shows "more than N" (see templates/admin/hub/pagination.html) and offers the first
    `count_cap / per_page` pages: operators narrow a huge list with filters, not by paging.
    """

    count_cap = 10_000

    @cached_property
    def count(self) -> int:
        object_list = self.object_list
        if not hasattr(object_list, "query"):
            return len(object_list)
        counted = object_list.order_by().values("pk")[: self.count_cap + 1].count()
        return min(counted, self.count_cap)

    @cached_property
    def count_is_capped(self) -> bool:
        return self.count >= self.count_cap


class DeferringChangeList(ChangeList):
    """Leaves the admin's `list_defer` columns (big JSON) out of list queries."""

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        return queryset.defer(*self.model_admin.list_defer) if self.model_admin.list_defer else queryset


def tenant_filter(tenant_path: str):
    """List filter on the tenant, listing only the tenants the user may see (archived ones only under
    the list's archived filter, `tenants.scoping`).

    Reads the small tenant table, where `RelatedOnlyFieldListFilter` would run a DISTINCT over
    the whole audit table on every page view; the parameter name is the one Django's related
    filter uses, so links built elsewhere (`?connection__warehouse__tenant__id__exact=3`) work.
    """

    class TenantFilter(admin.SimpleListFilter):
        title = "tenant"
        parameter_name = f"{tenant_path}__id__exact"

        def lookups(self, request, model_admin):
            return [(str(t.pk), t.name) for t in listed_tenants(request).only("pk", "name")]

        def queryset(self, request, queryset):
            return queryset.filter(**{f"{tenant_path}__id": self.value()}) if self.value() else queryset

    return TenantFilter


def connection_filter(connection_path: str):
    """List filter on the Order Manager connection, listing only the user's tenants' connections (archived
    tenants' only under the list's archived filter)."""

    class ConnectionFilter(admin.SimpleListFilter):
        title = "connection"
        parameter_name = f"{connection_path}__id__exact"

        def lookups(self, request, model_admin):
            connections = by_archived(
                scope_queryset(
                    OrderManagerConnection.objects.select_related("warehouse__tenant").order_by(
                        "warehouse__tenant__name", "warehouse__name"
                    ),
                    request.user,
                    "warehouse__tenant",
                ),
                "warehouse__tenant",
                archived_choice(request),
            )
            return [(str(c.pk), str(c)) for c in connections]

        def queryset(self, request, queryset):
            return queryset.filter(**{f"{connection_path}__id": self.value()}) if self.value() else queryset

    return ConnectionFilter


class AuditAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    """Base of the audit admins: read-only, scoped, cheap lists."""

    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 100
    list_defer: tuple[str, ...] = ()

    def get_changelist(self, request, **kwargs):
        return DeferringChangeList

    def lookup_allowed(self, lookup, value, request=None):
        # Django matches a SimpleListFilter's parameter against the relation path without its
        # "__id__exact" tail, so the tenant/connection filters' own parameters are allowed here.
        own = {
            item.parameter_name
            for item in self.list_filter
            if isinstance(item, type) and issubclass(item, admin.SimpleListFilter)
        }
        return lookup in own or super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        # View-only pages: the audit trail is never edited by hand (see `has_operate_permission`).
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_operate_permission(self, request, obj=None) -> bool:
        """Operator actions need the model's Django "change" permission."""
        opts = self.model._meta
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")


# -- sync runs ---------------------------------------------------------------------------------
