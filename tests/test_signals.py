"""hub.engine.schedule_signals: saving a connection, tenant or warehouse keeps JobState due times in step."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from hub.engine import schedule
from hub.models import Job, JobState
from tests import factories

pytestmark = pytest.mark.django_db

NOON = datetime.datetime(2027, 6, 1, 16, 0, tzinfo=datetime.UTC)  # 12:00 in New York


@pytest.fixture
def at_noon():
    """The clock stopped at NOON for the whole test, so the connection is created then too."""
    with time_machine.travel(NOON, tick=False):
        yield


def due(connection):
    return dict(JobState.objects.filter(connection=connection).values_list("job", "next_due_at"))


@time_machine.travel(NOON, tick=False)
def test_new_connection_gets_a_state_per_job_due_by_its_schedule():
    connection = factories.OrderManagerConnectionFactory()
    assert due(connection) == {
        Job.ORDER_DOWNLOAD: NOON,
        Job.CANCEL_DOWNLOAD: NOON,
        Job.SHIPMENT_CONFIRMATION: NOON,
        Job.INVENTORY_SYNC: datetime.datetime(2027, 6, 2, 3, 0, tzinfo=datetime.UTC),  # 23:00 EDT
        Job.RECONCILIATION: datetime.datetime(2027, 6, 2, 8, 0, tzinfo=datetime.UTC),  # 04:00 EDT
    }


def test_disabling_and_reenabling_a_job_in_the_admin(connection):
    connection.inventory_sync_enabled = False
    connection.order_download_enabled = False
    connection.save()
    assert due(connection)[Job.INVENTORY_SYNC] is None
    assert due(connection)[Job.ORDER_DOWNLOAD] is None
    assert due(connection)[Job.CANCEL_DOWNLOAD] is not None

    connection.order_download_enabled = True
    connection.save()
    assert due(connection)[Job.ORDER_DOWNLOAD] <= timezone.now()


def test_the_reconciliation_time_and_switches_reschedule_it(at_noon, connection):
    connection.reconciliation_time = datetime.time(13, 30)
    connection.save(update_fields=["reconciliation_time"])
    assert due(connection)[Job.RECONCILIATION] == NOON + datetime.timedelta(hours=1, minutes=30)
    connection.reconciliation_enabled = False
    connection.save(update_fields=["reconciliation_enabled"])
    assert due(connection)[Job.RECONCILIATION] is None
    connection.reconciliation_enabled = True
    connection.save(update_fields=["reconciliation_enabled"])
    assert due(connection)[Job.RECONCILIATION] == NOON + datetime.timedelta(hours=1, minutes=30)
    connection.order_download_enabled = False  # Reconciliation checks what Order Download moved
    connection.save(update_fields=["order_download_enabled"])
    assert due(connection)[Job.RECONCILIATION] is None


def test_changing_the_inventory_time_recomputes_it(at_noon, connection):
    connection.inventory_time = datetime.time(14, 0)
    connection.save()
    assert due(connection)[Job.INVENTORY_SYNC] == NOON + datetime.timedelta(hours=2)
    connection.inventory_times_per_day = 4  # 14:00, 20:00, 02:00, 08:00
    connection.save()
    assert due(connection)[Job.INVENTORY_SYNC] == NOON + datetime.timedelta(hours=2)
    connection.inventory_time = datetime.time(13, 0)
    connection.save()
    assert due(connection)[Job.INVENTORY_SYNC] == NOON + datetime.timedelta(hours=1)


def test_tenant_deactivation_and_reactivation(connection):
    tenant = connection.tenant
    other = factories.OrderManagerConnectionFactory(warehouse=factories.WarehouseFactory(tenant=tenant))
    tenant.active = False
    tenant.save()
    assert set(due(connection).values()) == {None}
    assert set(due(other).values()) == {None}
    tenant.active = True
    tenant.save()
    assert due(connection)[Job.ORDER_DOWNLOAD] <= timezone.now()
    assert due(other)[Job.INVENTORY_SYNC] > timezone.now()


def test_tenant_time_zone_change_moves_inventory(at_noon, connection):
    tenant = connection.tenant
    tenant.time_zone = "Europe/Berlin"
    tenant.save()
    assert due(connection)[Job.INVENTORY_SYNC] == datetime.datetime(2027, 6, 1, 21, 0, tzinfo=datetime.UTC)


def test_moving_a_warehouse_to_another_tenant_follows_its_time_zone(at_noon, connection):
    warehouse = connection.warehouse
    warehouse.tenant = factories.TenantFactory(time_zone="Asia/Tokyo")
    warehouse.save()
    # 23:00 JST on 2027-06-02 (it is already 01:00 on 2027-06-02 in Tokyo).
    assert due(connection)[Job.INVENTORY_SYNC] == datetime.datetime(2027, 6, 2, 14, 0, tzinfo=datetime.UTC)


def test_saves_of_unrelated_fields_do_not_touch_states(connection, django_assert_num_queries):
    connection.last_test_report = {"ok": True}
    with django_assert_num_queries(1):
        connection.save(update_fields=["last_test_report"])
    tenant = connection.tenant
    with django_assert_num_queries(1):
        tenant.save(update_fields=["name"])


def test_a_save_keeps_a_running_lease(connection):
    expiry = timezone.now() + datetime.timedelta(minutes=10)
    JobState.objects.filter(connection=connection, job=Job.ORDER_DOWNLOAD).update(
        lease_token="t", lease_expires_at=expiry
    )
    connection.save()
    state = JobState.objects.get(connection=connection, job=Job.ORDER_DOWNLOAD)
    assert (state.lease_token, state.lease_expires_at) == ("t", expiry)


def test_deleted_rows_are_recreated_on_save(connection):
    JobState.objects.filter(connection=connection).delete()
    with time_machine.travel(NOON, tick=False):
        connection.save()
    assert due(connection) == {
        Job.ORDER_DOWNLOAD: NOON,
        Job.CANCEL_DOWNLOAD: NOON,
        Job.SHIPMENT_CONFIRMATION: NOON,
        Job.INVENTORY_SYNC: schedule.next_due(connection, Job.INVENTORY_SYNC, NOON),
        Job.RECONCILIATION: schedule.next_due(connection, Job.RECONCILIATION, NOON),
    }
