"""Recording Reconciliation's sightings as `hub.models.Finding` rows (one per connection, kind and subject).

- `note(ctx, kind, subject, record, om_value=, hub_value=, heal=)`: a new finding, or the existing
  one updated: a repeat sighting moves `last_seen_at`; a resolved one reopens. A heal the job
  applied is recorded with its time and words. Each sighting counts as one `updated` on the run.
- `resolve_unseen(ctx, seen)`: open findings of the kinds a run checked completely (`seen` maps
  each such kind to the subjects it saw) that it did not see again are resolved. Kinds a run could
  not check completely are left out of `seen`, so nothing of theirs is resolved on partial evidence.
"""

from __future__ import annotations

from django.utils import timezone

from hub.models import Finding


def note(ctx, kind: str, subject, record, *, om_value: str, hub_value: str, heal: str) -> Finding:
    now = timezone.now()
    finding, _ = Finding.objects.get_or_create(
        connection=ctx.connection,
        kind=kind,
        subject=str(subject)[:200],
        defaults={"first_seen_at": now, "last_seen_at": now},
    )
    finding.order = record
    finding.om_value, finding.hub_value = str(om_value)[:500], str(hub_value)[:500]
    finding.last_seen_at, finding.resolved_at, finding.last_run = now, None, ctx.run
    if heal:
        finding.healed_at, finding.heal = now, heal[:500]
    finding.save()
    ctx.run.updated += 1
    return finding


def resolve_unseen(ctx, seen: dict[str, set]) -> None:
    now = timezone.now()
    for kind, subjects in seen.items():
        Finding.objects.filter(connection=ctx.connection, kind=kind, resolved_at__isnull=True).exclude(
            subject__in=subjects
        ).update(resolved_at=now)
