"""The alert lifecycle: open an `Alert` once per problem, keep it while the problem lasts, clear it
when the problem is gone.

`evaluate(connection, now=None)` / `evaluate_all(now=None)` take the findings of now
(hub.ops.alerts.findings) and bring the open alerts in line: a finding without an open alert
opens one; an open alert still found has its `last_seen_at` (and its message and link, when they
changed) brought up to date; an open alert no longer found is cleared (`cleared_at`). An
evaluation of one connection touches only that connection's alerts. The writes go in chunks of
`CHUNK` ids, so their number is fixed whatever the number of alerts. Two concurrent evaluations
never open the same alert twice (the partial unique constraint on open alerts keeps one).
Notifying anyone is hub.ops.alerts.sending's.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.utils import timezone

from hub.engine.batching import chunked
from hub.models import Alert
from hub.ops.alerts.findings import Finding, Name, current, scoped

logger = logging.getLogger(__name__)

CHUNK = 500  # ids per IN (...) list: far below every backend's parameter limit


@dataclass
class Changes:
    """What one evaluation did: names (connection id, cause, key) opened and cleared."""

    opened: list[Name] = field(default_factory=list)
    cleared: list[Name] = field(default_factory=list)
    still_open: int = 0


def evaluate(connection, now: datetime.datetime | None = None) -> Changes:
    """Recompute the alerts of one connection."""
    now = now or timezone.now()
    return _apply(current(now, connection.pk), connection.pk, now)


def evaluate_all(now: datetime.datetime | None = None) -> Changes:
    """Recompute the alerts of every connection."""
    now = now or timezone.now()
    return _apply(current(now), None, now)


def _apply(findings: dict[Name, Finding], connection_id: int | None, now) -> Changes:
    open_alerts = {
        (a.connection_id, a.cause, a.key): a
        for a in scoped(Alert.objects.filter(cleared_at__isnull=True), connection_id).only(
            "pk", "connection_id", "cause", "key", "message", "link"
        )
    }
    changes = Changes()
    gone = [a.pk for name, a in open_alerts.items() if name not in findings]
    changed, unchanged = [], []
    for name, alert in open_alerts.items():
        finding = findings.get(name)
        if finding is None:
            continue
        if (alert.message, alert.link) != (finding.message, finding.link):
            alert.message, alert.link, alert.last_seen_at = finding.message, finding.link, now
            changed.append(alert)
        else:
            unchanged.append(alert.pk)
    for ids in chunked(gone, CHUNK):
        Alert.objects.filter(pk__in=ids, cleared_at__isnull=True).update(cleared_at=now)
    for ids in chunked(unchanged, CHUNK):
        Alert.objects.filter(pk__in=ids).update(last_seen_at=now)
    if changed:
        Alert.objects.bulk_update(changed, ["message", "link", "last_seen_at"], batch_size=CHUNK)
    new = [f for name, f in findings.items() if name not in open_alerts]
    # ignore_conflicts: a concurrent evaluation may open the same alert first; the partial unique
    # constraint keeps one.
    Alert.objects.bulk_create(
        [
            Alert(
                connection_id=f.connection_id,
                cause=f.cause,
                key=f.key,
                message=f.message,
                link=f.link,
                opened_at=now,
                last_seen_at=now,
            )
            for f in new
        ],
        batch_size=CHUNK,
        ignore_conflicts=True,
    )
    changes.opened = [f.name for f in new]
    changes.cleared = [name for name, a in open_alerts.items() if name not in findings]
    changes.still_open = len(findings)
    if changes.opened or changes.cleared:
        logger.info("alerts: %d opened, %d cleared", len(changes.opened), len(changes.cleared))
    return changes
