"""Removing a tenant onboarded by mistake: delete it when nothing of it ever reached a WMS, else archive it.

Why two ways: the hub's order records are what keeps an order from being downloaded and sent to a
warehouse twice (one record per connection and Order Manager order id, looked up before any
resend). A tenant whose orders reached a WMS keeps its records, or onboarding it again would send,
and ship, those orders a second time: it is archived. A tenant that never sent anything has nothing
outside to protect and goes with everything it owns.

- `deletion_refusal(tenant) -> str`: why `tenant` may not be deleted, "" when it may. What "reached a
  WMS" means is the rule of the app that keeps those records: the hub registers it with
  `register_owned_records` (this app imports nothing of the hub). The guards lock what they read,
  so `delete` decides and deletes in one transaction.
- `owned_counts(tenant) -> {model label: rows}`: what `delete` would delete, counted without writing
  (the tenant and every row that reaches it through a CASCADE or PROTECT key, whatever app it is in).
- `delete(tenant) -> {model label: rows}`: in one transaction, asks the guards again (a run that
  records a send at that moment either commits first, and the deletion is refused, or waits and
  finds nothing to send), deletes the registered protected records (their PROTECT keys would refuse
  the deletion), then the tenant and, by cascade, its warehouses, connections, mappings, members,
  alert contacts, and the runs, job states, alerts and events hanging off its connections. Raises
  `DeletionRefused` with the reason when the tenant may not go.
- `archive(tenant, user)` / `unarchive(tenant)`: set / clear `archived_at` and `archived_by`. Saving
  them reschedules the tenant's jobs (hub.engine.schedule_signals): while it is archived none is
  due, dispatched or run (hub.engine.eligibility) and it raises no alerts; unarchived, the jobs of
  its activated connections are due again from now. A run already under way finishes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import Tenant

# How far a row may be from its tenant (row -> connection -> warehouse -> tenant is 3; runs' lines 4).
MAX_DEPTH = 6


class DeletionRefused(Exception):
    """The tenant may not be deleted; the message says why and what to do instead."""


@dataclass(frozen=True)
class OwnedRecords:
    """Another app's records of a tenant that decide whether it may be deleted.

    `refusal(tenant)`: why the tenant must be kept (archived instead), "" when it may be deleted;
    called inside a transaction, it locks what it reads. `protected(tenant)`: the tenant's rows
    behind a PROTECT key, deleted before the tenant once no guard refuses.
    """

    refusal: Callable[[Tenant], str]
    protected: Callable[[Tenant], QuerySet]


_OWNED_RECORDS: list[OwnedRecords] = []


def register_owned_records(records: OwnedRecords) -> None:
    """Add a guard (an app's `ready()` calls this once; a second registration of equal records is ignored)."""
    if records not in _OWNED_RECORDS:
        _OWNED_RECORDS.append(records)


def deletion_refusal(tenant: Tenant) -> str:
    """Why `tenant` may not be deleted, "" when it may (every registered guard is asked)."""
    with transaction.atomic():
        for records in _OWNED_RECORDS:
            reason = records.refusal(tenant)
            if reason:
                return reason
    return ""


def _owning_paths() -> dict[type[models.Model], list[str]]:
    """Every model whose rows go with a deleted tenant, and the lookups from it to the tenant."""
    paths: dict[type[models.Model], list[str]] = {Tenant: ["pk"]}
    frontier = [(Tenant, "")]
    for _ in range(MAX_DEPTH):
        next_frontier = []
        for model, path in frontier:
            # The relations Django's deletion follows (hidden ones too), of the kinds that delete or protect.
            for relation in model._meta.get_fields(include_hidden=True):
                if not (
                    relation.auto_created and not relation.concrete and (relation.one_to_one or relation.one_to_many)
                ):
                    continue
                if relation.on_delete not in (models.CASCADE, models.PROTECT):
                    continue
                lookup = f"{relation.field.name}__{path}" if path else relation.field.name
                paths.setdefault(relation.related_model, []).append(lookup)
                next_frontier.append((relation.related_model, lookup))
        frontier = next_frontier
    return paths


def owned_counts(tenant: Tenant) -> dict[str, int]:
    """Rows `delete(tenant)` would delete, per model label (e.g. "hub.SyncRun"), counted; none written."""
    counts = {}
    for model, lookups in _owning_paths().items():
        condition = Q()
        for lookup in lookups:
            condition |= Q(**{lookup: tenant.pk if lookup == "pk" else tenant})
        count = model._base_manager.filter(condition).count()
        if count:
            counts[model._meta.label] = count
    return counts


def describe(counts: dict[str, int]) -> str:
    """ "1 tenant, 2 warehouses, 40 sync runs" from `owned_counts` / `delete`'s answer."""
    parts = []
    for label, count in counts.items():
        opts = apps.get_model(label)._meta
        parts.append(f"{count} {opts.verbose_name if count == 1 else opts.verbose_name_plural}")
    return ", ".join(parts)


def delete(tenant: Tenant) -> dict[str, int]:
    """Delete `tenant` with everything it owns (see the module docstring); the rows deleted per model."""
    deleted: Counter[str] = Counter()
    with transaction.atomic():
        reason = deletion_refusal(tenant)
        if reason:
            raise DeletionRefused(reason)
        for records in _OWNED_RECORDS:
            deleted.update(records.protected(tenant).delete()[1])
        try:
            deleted.update(Tenant.objects.filter(pk=tenant.pk).delete()[1])
        except models.ProtectedError as exc:
            kinds = ", ".join(sorted({str(obj._meta.verbose_name_plural) for obj in exc.protected_objects}))
            raise DeletionRefused(
                f"Tenant “{tenant}” cannot be deleted: rows that must be kept refer to it ({kinds}). Archive it instead."
            ) from exc
    return {label: count for label, count in deleted.items() if count}


def archive(tenant: Tenant, user) -> bool:
    """Archive `tenant` (see the module docstring); False when it was archived already."""
    if tenant.is_archived:
        return False
    tenant.archived_at, tenant.archived_by = timezone.now(), user
    tenant.save(update_fields=["archived_at", "archived_by"])
    return True


def unarchive(tenant: Tenant) -> bool:
    """Bring `tenant` back into service; False when it was not archived."""
    if not tenant.is_archived:
        return False
    tenant.archived_at, tenant.archived_by = None, None
    tenant.save(update_fields=["archived_at", "archived_by"])
    return True
