"""hub.models: the behaviour the models carry themselves (here: a finding's acknowledgement on reopening)."""

import datetime

import pytest
from django.utils import timezone

from hub.models import Finding
from tests import factories

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def sighting(finding: Finding) -> Finding:
    """What Reconciliation's `note` does on a sighting: the row read, seen now, unresolved, saved."""
    row = Finding.objects.get(connection=finding.connection, kind=finding.kind, subject=finding.subject)
    row.last_seen_at, row.resolved_at = timezone.now(), None
    row.save()
    return Finding.objects.get(pk=finding.pk)


def test_an_acknowledgement_survives_repeat_sightings_of_an_open_finding():
    finding = factories.FindingFactory(acknowledged_at=NOW, acknowledged_by="alice")
    again = sighting(finding)
    assert again.acknowledged_at == NOW and again.acknowledged_by == "alice"
    assert not again.is_open


def test_a_reopened_finding_is_open_again_until_acknowledged_after_it_reopened():
    finding = factories.FindingFactory(
        acknowledged_at=NOW - datetime.timedelta(days=2), acknowledged_by="alice", resolved_at=NOW
    )
    reopened = sighting(finding)
    assert reopened.resolved_at is None and reopened.acknowledged_at is None and reopened.acknowledged_by == ""
    assert reopened.is_open

    reopened.acknowledged_at, reopened.acknowledged_by = NOW, "bob"
    reopened.save(update_fields=["acknowledged_at", "acknowledged_by"])
    assert sighting(reopened).acknowledged_by == "bob"  # acknowledged after it reopened: it stays


def test_resolving_keeps_the_acknowledgement_on_record():
    finding = factories.FindingFactory(acknowledged_at=NOW, acknowledged_by="alice")
    finding.resolved_at = NOW
    finding.save()
    assert Finding.objects.get(pk=finding.pk).acknowledged_by == "alice"


def test_a_reopening_saved_with_update_fields_clears_the_acknowledgement_too():
    finding = factories.FindingFactory(acknowledged_at=NOW, acknowledged_by="alice", resolved_at=NOW)
    row = Finding.objects.get(pk=finding.pk)
    row.resolved_at = None
    row.save(update_fields=["resolved_at"])
    assert Finding.objects.get(pk=finding.pk).acknowledged_at is None


def test_reconciliation_seeing_a_resolved_finding_again_reopens_it_unacknowledged(connection):
    """Through the job's own recording of a sighting (hub.jobs.findings.note)."""
    from types import SimpleNamespace

    from hub.jobs.findings import note

    finding = factories.FindingFactory(
        connection=connection, kind="cancelled_open", acknowledged_at=NOW, acknowledged_by="alice", resolved_at=NOW
    )
    ctx = SimpleNamespace(connection=connection, run=factories.SyncRunFactory(connection=connection))
    note(ctx, finding.kind, finding.subject, None, om_value="CANCELLED", hub_value="open at the WMS", heal="")
    reopened = Finding.objects.get(pk=finding.pk)
    assert reopened.resolved_at is None and reopened.acknowledged_at is None and reopened.is_open
