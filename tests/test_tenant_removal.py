"""tenants.removal: a tenant that never sent an order goes with everything it owns; one that did is
refused (archive instead); archiving stops its jobs and unarchiving brings them back."""

import datetime

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone

from hub.models import Alert, InventoryLine, Job, JobState, OrderEvent, OrderRecord, SyncRun
from tenants import removal
from tenants.models import OrderManagerConnection, Tenant
from tests import factories

pytestmark = pytest.mark.django_db

Status = OrderRecord.Status


def populate(tenant):
    """A row of every kind that hangs off `tenant`, none of its orders sent: two warehouses with a
    connection each, runs and their lines, job states, alerts, mappings, members, contacts, and
    orders new, skipped, held in error before any send and cancelled before their send."""
    staff = factories.tenant_staff(tenant)
    factories.AlertContactFactory(tenant=tenant)
    for n in range(2):
        connection = factories.OrderManagerConnectionFactory(warehouse__tenant=tenant)
        run = factories.SyncRunFactory(connection=connection)
        factories.InventoryLineFactory(run__connection=connection)
        JobState.objects.filter(connection=connection, job=Job.ORDER_DOWNLOAD).update(last_run=run)
        factories.AlertFactory(connection=connection, key=f"k{n}")
        factories.ConnectionRulesFactory(connection=connection)
        factories.SkuAliasFactory(connection=connection)
        factories.ShipMethodMappingFactory(connection=connection)
        factories.CarrierMappingFactory(connection=connection)
        factories.ItemFilterFactory(connection=connection)
        factories.OmInstallStateFactory(connection=connection, user=staff)
        for status in (Status.NEW, Status.SKIPPED, Status.ERROR, Status.CANCELLED):
            record = factories.OrderRecordFactory(connection=connection, status=status)
            factories.OrderEventFactory(order=record, run=run)
    return staff


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._base_manager.count() for model in apps.get_models()}


def test_a_tenant_that_never_sent_an_order_is_deleted_with_everything_it_owns():
    doomed, kept = factories.TenantFactory(), factories.TenantFactory()
    staff = populate(doomed)
    populate(kept)
    before = row_counts()
    expected = removal.owned_counts(doomed)
    assert row_counts() == before  # counting writes nothing
    assert removal.deletion_refusal(doomed) == ""

    deleted = removal.delete(doomed)

    after = row_counts()
    gone = {label: before[label] - after[label] for label in before if before[label] != after[label]}
    assert deleted == gone == expected
    assert gone == {
        "tenants.Tenant": 1,
        "tenants.TenantMembership": 1,
        "tenants.AlertContact": 1,
        "tenants.Warehouse": 2,
        "tenants.OrderManagerConnection": 2,
        "tenants.OmInstallState": 2,
        "tenants.ConnectionRules": 2,
        "tenants.SkuAlias": 2,
        "tenants.ShipMethodMapping": 2,
        "tenants.CarrierMapping": 2,
        "tenants.ItemFilter": 2,
        "hub.SyncRun": 4,  # one each, and one behind each inventory line
        "hub.InventoryLine": 2,
        "hub.JobState": 2 * len(Job),
        "hub.Alert": 2,
        "hub.OrderRecord": 8,
        "hub.OrderEvent": 8,
    }
    assert not Tenant.objects.filter(pk=doomed.pk).exists()
    # The other tenant keeps everything; people are not deleted with a tenant they worked for.
    assert OrderManagerConnection.objects.filter(warehouse__tenant=kept).count() == 2
    assert OrderRecord.objects.filter(connection__warehouse__tenant=kept).count() == 8
    assert get_user_model().objects.filter(pk=staff.pk).exists()
    words = removal.describe(deleted).split(", ")
    assert {"1 tenant", "2 warehouses", "2 Order Manager connections", "8 order records", "4 sync runs"} <= set(words)


SENT = {
    "at the WMS": {"status": Status.AT_WMS, "wms_order_id": 501, "attempts": 1},
    "shipped": {"status": Status.SHIPPED, "wms_order_id": 502, "attempts": 1},
    "confirmed": {"status": Status.CONFIRMED, "wms_order_id": 503, "attempts": 1},
    "cancelled at the WMS": {"status": Status.CANCELLED, "wms_order_id": 504, "attempts": 1},
    "linked, never sent by this hub": {"status": Status.AT_WMS, "wms_order_id": 505},
    "send outcome unknown": {"status": Status.ERROR, "attempts": 1, "last_error": "read timed out"},
}


@pytest.mark.parametrize("fields", SENT.values(), ids=SENT.keys())
def test_a_tenant_with_an_order_that_reached_a_wms_is_refused_and_kept(fields):
    connection = factories.OrderManagerConnectionFactory()
    tenant = connection.warehouse.tenant
    populate(tenant)
    record = factories.OrderRecordFactory(connection=connection, order_number="SO-SENT-1", **fields)
    before = row_counts()

    reason = removal.deletion_refusal(tenant)
    assert "1 of its orders reached a WMS (SO-SENT-1)" in reason and "Archive the tenant instead" in reason
    with pytest.raises(removal.DeletionRefused, match="Archive the tenant instead"):
        removal.delete(tenant)
    assert row_counts() == before
    assert OrderRecord.objects.filter(pk=record.pk).exists()


def test_another_apps_protected_rows_refuse_rather_than_fail(monkeypatch):
    # A PROTECT key no guard accounts for: the deletion says so instead of a server error.
    connection = factories.OrderManagerConnectionFactory()
    factories.OrderRecordFactory(connection=connection)
    tenant = connection.warehouse.tenant
    monkeypatch.setattr(removal, "_OWNED_RECORDS", [])
    with pytest.raises(removal.DeletionRefused, match=r"rows that must be kept refer to it \(order records\)"):
        removal.delete(tenant)
    assert Tenant.objects.filter(pk=tenant.pk).exists()


def test_the_paths_follow_cascades_and_protections_only():
    paths = removal._owning_paths()
    assert paths[OrderEvent] == ["order__connection__warehouse__tenant"]  # not through its run (SET_NULL)
    assert paths[InventoryLine] == ["run__connection__warehouse__tenant"]
    assert paths[SyncRun] == ["connection__warehouse__tenant"]
    assert paths[Alert] == ["connection__warehouse__tenant"]
    assert get_user_model() not in paths
    for model in paths:
        assert issubclass(model, models.Model)


def test_archiving_stops_the_jobs_and_unarchiving_brings_them_back(superuser):
    connection = factories.OrderManagerConnectionFactory()
    tenant = connection.warehouse.tenant
    assert JobState.objects.filter(connection=connection, next_due_at__isnull=False).count() == len(Job)

    assert removal.archive(tenant, superuser) is True
    tenant.refresh_from_db()
    assert tenant.is_archived and tenant.archived_by == superuser
    assert tenant.archived_at > timezone.now() - datetime.timedelta(minutes=1)
    assert not JobState.objects.filter(connection=connection, next_due_at__isnull=False).exists()
    assert removal.archive(tenant, superuser) is False  # already archived: nothing changes

    assert removal.unarchive(tenant) is True
    tenant.refresh_from_db()
    assert not tenant.is_archived and tenant.archived_by is None
    due = dict(JobState.objects.filter(connection=connection).values_list("job", "next_due_at"))
    assert None not in due.values() and due[Job.ORDER_DOWNLOAD] <= timezone.now()  # due again at once
    assert removal.unarchive(tenant) is False
