"""Tenant scoping for the admin: one mixin used by every ModelAdmin that shows tenant data.

Contract: a superuser sees everything. A staff user sees only rows whose tenant (reached through
`tenant_path`, e.g. "warehouse__tenant") is one of the tenants they are a member of; foreign-key
choices and list filters offer only those; saving a row that points at another tenant is refused.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet

from .admin_times import TenantTimesAdminMixin
from .models import Tenant


def tenant_ids_for(user) -> list[int] | None:
    """Ids of the tenants `user` may see; None means all (superuser)."""
    if user.is_superuser:
        return None
    cache = getattr(user, "_tenant_ids_cache", None)
    if cache is None:
        cache = list(user.tenant_memberships.values_list("tenant_id", flat=True))
        user._tenant_ids_cache = cache
    return cache


def scope_queryset(queryset: QuerySet, user, tenant_path: str) -> QuerySet:
    ids = tenant_ids_for(user)
    if ids is None:
        return queryset
    lookup = "id__in" if tenant_path == "" else f"{tenant_path}__in"
    return queryset.filter(**{lookup: ids})


def _tenant_path_of(model, max_depth: int = 5) -> str | None:
    """How to reach the tenant from `model`, for foreign-key choices; None if not tenant data.

    Found by a breadth-first walk over forward foreign keys (shortest path wins), so models added
    later (an order's events, a run's lines) are scoped without being listed here.
    """
    frontier, seen = [(model, "")], set()
    for _ in range(max_depth + 1):
        next_frontier = []
        for current, path in frontier:
            if current is Tenant:
                return path
            if current in seen:
                continue
            seen.add(current)
            for field in current._meta.get_fields():
                if field.concrete and (field.many_to_one or field.one_to_one) and field.related_model is not None:
                    next_frontier.append((field.related_model, f"{path}__{field.name}" if path else field.name))
        frontier = next_frontier
    return None


class TenantScopedAdminMixin(TenantTimesAdminMixin):
    """Mix into a ModelAdmin and set `tenant_path` ("" when the model is Tenant itself).

    Also shows its times in the tenant's zone (`tenants.admin_times`)."""

    tenant_path: str = "tenant"

    def get_queryset(self, request):
        return scope_queryset(super().get_queryset(request), request.user, self.tenant_path)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        path = _tenant_path_of(db_field.related_model)
        if field is not None and path is not None:
            field.queryset = scope_queryset(field.queryset, request.user, path)
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        path = _tenant_path_of(db_field.related_model)
        if field is not None and path is not None:
            field.queryset = scope_queryset(field.queryset, request.user, path)
        return field

    def get_list_filter(self, request):
        # A plain related filter lists every tenant's names; RelatedOnlyFieldListFilter lists only
        # the values present in the (already scoped) queryset.
        filters = []
        for item in super().get_list_filter(request):
            if isinstance(item, str) and self._is_relation(item):
                filters.append((item, admin.RelatedOnlyFieldListFilter))
            else:
                filters.append(item)
        return filters

    def _is_relation(self, path: str) -> bool:
        model = self.model
        field = None
        for part in path.split("__"):
            try:
                field = model._meta.get_field(part)
            except Exception:
                return False
            model = field.related_model
            if model is None:
                return False
        return field is not None and field.is_relation

    def tenant_of(self, obj: Model) -> Tenant | None:
        if self.tenant_path == "":
            return obj
        target = obj
        for part in self.tenant_path.split("__"):
            target = getattr(target, part, None)
            if target is None:
                return None
        return target

    def save_model(self, request, obj, form, change):
        ids = tenant_ids_for(request.user)
        if ids is not None:
            tenant = self.tenant_of(obj)
            if tenant is None or tenant.pk not in ids:
                raise PermissionDenied("You can only change your own tenant's data.")
        super().save_model(request, obj, form, change)

    def has_add_permission(self, request, *args):
        if self.tenant_path == "" and not request.user.is_superuser:
            return False  # tenant staff cannot create tenants
        return super().has_add_permission(request, *args)
