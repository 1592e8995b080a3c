"""Tenant scoping for the admin: one mixin used by every ModelAdmin that shows tenant data.

Contract: a superuser sees everything. A staff user sees only rows whose tenant (reached through
`tenant_path`, e.g. "warehouse__tenant") is one of the tenants they are a member of; foreign-key
choices and list filters offer only those; saving a row that points at another tenant is refused.

Archived tenants (`tenants.removal`) are out of sight: every scoped list hides their rows unless
its "archived" filter (`?archived=yes`: only theirs, `?archived=all`: everyone's) asks for them, and
the list's tenant and connection filters follow that filter (`archived_choice`, `listed_tenants`,
`by_archived`: the hub's audit filters use them too). That filter is shown on a list only while the
user can see an archived tenant. Foreign-key choices never offer an archived tenant's rows, and
those rows are view-only until the tenant is unarchived: their audit can be read, nothing of them
changed or deleted. The tenant's own page stays editable (a superuser may switch it inactive before
unarchiving it, so that its jobs stay stopped); deleting it is `tenants.removal`'s rule.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet

from .admin_times import TenantTimesAdminMixin
from .models import Tenant

ARCHIVED_PARAM = "archived"
ARCHIVED_CHOICES = {"no": "No", "yes": "Yes", "all": "All"}  # "no", the default, needs no parameter


def archived_choice(request) -> str:
    """The list's archived filter: "no" (archived tenants hidden, the default), "yes" or "all"."""
    value = request.GET.get(ARCHIVED_PARAM, "no")
    return value if value in ARCHIVED_CHOICES else "no"


def by_archived(queryset: QuerySet, tenant_path: str, choice: str) -> QuerySet:
    """`queryset` limited to rows of tenants in service ("no"), of archived ones ("yes"), or not ("all")."""
    if choice == "all":
        return queryset
    lookup = f"{tenant_path}__archived_at__isnull" if tenant_path else "archived_at__isnull"
    return queryset.filter(**{lookup: choice != "yes"})


def listed_tenants(request) -> QuerySet:
    """The tenants a list's filters offer: the user's, archived ones only under the archived filter."""
    return by_archived(scope_queryset(Tenant.objects.all(), request.user, ""), "", archived_choice(request))


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


def archived_filter(tenant_path: str):
    """The "archived" list filter of a scoped list whose rows reach their tenant through `tenant_path`."""

    class ArchivedFilter(admin.SimpleListFilter):
        title = "archived" if tenant_path == "" else "tenant archived"
        parameter_name = ARCHIVED_PARAM

        def lookups(self, request, model_admin):
            archived = Tenant.objects.filter(archived_at__isnull=False)
            return list(ARCHIVED_CHOICES.items()) if scope_queryset(archived, request.user, "").exists() else []

        def queryset(self, request, queryset):
            return by_archived(queryset, tenant_path, archived_choice(request))

        def choices(self, changelist):
            current = archived_choice(self.request)
            for value, label in ARCHIVED_CHOICES.items():
                yield {
                    "selected": value == current,
                    "query_string": changelist.get_query_string(remove=[ARCHIVED_PARAM])
                    if value == "no"
                    else changelist.get_query_string({ARCHIVED_PARAM: value}),
                    "display": label,
                }

    return ArchivedFilter


class ListedRelatedOnlyFilter(admin.RelatedOnlyFieldListFilter):
    """The values present in the rows the list shows: the user's tenants', archived ones only under
    the archived filter."""

    def field_choices(self, field, request, model_admin):
        rows = by_archived(model_admin.get_queryset(request), model_admin.tenant_path, archived_choice(request))
        pk_qs = rows.distinct().values_list(f"{self.field_path}__pk", flat=True)
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(include_blank=False, limit_choices_to={"pk__in": pk_qs}, ordering=ordering)


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
            field.queryset = by_archived(scope_queryset(field.queryset, request.user, path), path, "no")
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        path = _tenant_path_of(db_field.related_model)
        if field is not None and path is not None:
            field.queryset = by_archived(scope_queryset(field.queryset, request.user, path), path, "no")
        return field

    def get_list_filter(self, request):
        # A plain related filter lists every tenant's names; the related-only filter lists only the
        # values present in the (already scoped) rows the list shows.
        filters = []
        for item in super().get_list_filter(request):
            if isinstance(item, str) and self._is_relation(item):
                filters.append((item, ListedRelatedOnlyFilter))
            else:
                filters.append(item)
        return [*filters, archived_filter(self.tenant_path)]

    def _is_archived(self, obj: Model) -> bool:
        tenant = self.tenant_of(obj)
        return tenant is not None and tenant.is_archived

    def has_change_permission(self, request, obj=None):
        if obj is not None and self.tenant_path != "" and self._is_archived(obj):
            return False  # an archived tenant's rows are view-only (see the module docstring)
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and self.tenant_path != "" and self._is_archived(obj):
            return False
        return super().has_delete_permission(request, obj)

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
