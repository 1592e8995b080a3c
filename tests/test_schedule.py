"""hub.engine.schedule: interval and inventory due times (DST in America/New_York), initial due, JobState upkeep."""

import datetime
import zoneinfo

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from hub.engine import eligibility, schedule
from hub.models import Job, JobState
from tenants.models import OrderManagerConnection, Tenant, Warehouse
from tests import factories

NY = zoneinfo.ZoneInfo("America/New_York")
UTC = datetime.UTC


def utc(*args):
    return datetime.datetime(*args, tzinfo=UTC)


def local(*args, fold=0):
    return datetime.datetime(*args, tzinfo=NY, fold=fold)


def make_connection(time_zone="America/New_York", active=True, **fields):
    """An unsaved connection with its tenant: next_due is pure computation, no database needed."""
    tenant = Tenant(name="T", slug="t", time_zone=time_zone, active=active)
    warehouse = Warehouse(tenant=tenant, name="W")
    fields.setdefault("warehouse_name", "Main 3PL")
    fields.setdefault("activated_at", datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC))
    return OrderManagerConnection(warehouse=warehouse, **fields)


def inventory(at, per_day=1, **fields):
    return make_connection(inventory_time=at, inventory_times_per_day=per_day, **fields)


def chain(connection, after, count):
    """`count` successive inventory due times starting after `after`."""
    out = []
    for _ in range(count):
        after = schedule.next_due(connection, Job.INVENTORY_SYNC, after)
        out.append(after)
    return out


# --- interval jobs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "job, field, minutes",
    [
        (Job.ORDER_DOWNLOAD, "order_download_interval", 5),
        (Job.CANCEL_DOWNLOAD, "cancel_download_interval", 7),
        (Job.SHIPMENT_CONFIRMATION, "shipment_confirmation_interval", 15),
    ],
)
def test_interval_jobs_are_due_interval_minutes_after(job, field, minutes):
    connection = make_connection(**{field: minutes})
    after = utc(2027, 3, 14, 6, 58)  # across the spring-forward change: elapsed minutes, not wall time
    assert schedule.next_due(connection, job, after) == after + datetime.timedelta(minutes=minutes)


def test_interval_result_is_utc_even_for_a_local_after():
    connection = make_connection(order_download_interval=5)
    due = schedule.next_due(connection, Job.ORDER_DOWNLOAD, local(2027, 11, 7, 1, 58))
    assert due == utc(2027, 11, 7, 6, 3)  # 01:58 EDT + 5 min = 01:03 EST: elapsed time
    assert due.utcoffset() == datetime.timedelta(0)


def test_naive_after_is_refused():
    with pytest.raises(ValueError):
        schedule.next_due(make_connection(), Job.ORDER_DOWNLOAD, datetime.datetime(2027, 1, 1))


# --- nothing due ----------------------------------------------------------------------------


@pytest.mark.parametrize("job", list(Job))
def test_disabled_job_is_never_due(job):
    connection = make_connection(**{eligibility.ENABLED_FIELDS[job]: False})
    now = utc(2027, 1, 1)
    assert schedule.next_due(connection, job, now) is None
    assert schedule.initial_due(connection, job, now) is None


@pytest.mark.parametrize("job", list(Job))
def test_inactive_tenant_is_never_due(job):
    connection = make_connection(active=False)
    assert schedule.next_due(connection, job, utc(2027, 1, 1)) is None


def test_inventory_without_warehouse_name_is_never_due_but_orders_are():
    connection = make_connection(warehouse_name="  ")
    now = utc(2027, 1, 1)
    assert schedule.next_due(connection, Job.INVENTORY_SYNC, now) is None
    assert schedule.next_due(connection, Job.ORDER_DOWNLOAD, now) == now + datetime.timedelta(minutes=5)


# --- inventory: ordinary days -------------------------------------------------------------------


def test_inventory_next_slot_same_day_and_next_day():
    connection = inventory(datetime.time(23, 0))
    assert schedule.next_due(connection, Job.INVENTORY_SYNC, local(2027, 6, 1, 9, 0)) == local(2027, 6, 1, 23, 0)
    # Strictly after: a run at 23:00 sharp is next due tomorrow.
    assert schedule.next_due(connection, Job.INVENTORY_SYNC, local(2027, 6, 1, 23, 0)) == local(2027, 6, 2, 23, 0)


def test_inventory_uses_the_tenants_time_zone():
    connection = inventory(datetime.time(23, 0), time_zone="Europe/Berlin")
    due = schedule.next_due(connection, Job.INVENTORY_SYNC, utc(2027, 6, 1, 12, 0))
    assert due == utc(2027, 6, 1, 21, 0)  # 23:00 CEST


def test_slot_times_are_evenly_spaced_and_anchored():
    assert schedule.slot_times(datetime.time(23, 0), 4) == [
        datetime.time(5, 0),
        datetime.time(11, 0),
        datetime.time(17, 0),
        datetime.time(23, 0),
    ]
    assert schedule.slot_times(datetime.time(2, 30), 3) == [
        datetime.time(2, 30),
        datetime.time(10, 30),
        datetime.time(18, 30),
    ]
    assert len(schedule.slot_times(datetime.time(0, 0), 24)) == 24
    assert len(schedule.slot_times(datetime.time(0, 0), 7)) == 7  # 24h/7 rounds to the minute


# --- inventory: spring forward, 2027-03-14 (02:00 EST -> 03:00 EDT, at 07:00 UTC) -----------------


def test_spring_forward_missing_0230_runs_at_the_end_of_the_gap():
    connection = inventory(datetime.time(2, 30))
    assert chain(connection, local(2027, 3, 13, 2, 30), 2) == [
        utc(2027, 3, 14, 7, 0),  # 03:00 EDT: the first valid instant after the gap
        local(2027, 3, 15, 2, 30),  # back to 02:30 the day after (now EDT)
    ]
    assert local(2027, 3, 15, 2, 30) == utc(2027, 3, 15, 6, 30)


def test_spring_forward_2300_keeps_the_wall_clock_time():
    connection = inventory(datetime.time(23, 0))
    due = chain(connection, local(2027, 3, 12, 23, 0), 3)
    assert due == [local(2027, 3, 13, 23, 0), local(2027, 3, 14, 23, 0), local(2027, 3, 15, 23, 0)]
    assert due[1] - due[0] == datetime.timedelta(hours=23)
    assert due[2] - due[1] == datetime.timedelta(hours=24)


def test_spring_forward_0130_exists_and_runs_in_standard_time():
    connection = inventory(datetime.time(1, 30))
    due = chain(connection, local(2027, 3, 13, 12, 0), 2)
    assert due == [utc(2027, 3, 14, 6, 30), utc(2027, 3, 15, 5, 30)]  # 01:30 EST, then 01:30 EDT


def test_spring_forward_four_times_a_day_from_0230():
    connection = inventory(datetime.time(2, 30), per_day=4)
    due = chain(connection, local(2027, 3, 13, 20, 30), 5)
    assert due == [
        utc(2027, 3, 14, 7, 0),  # 02:30 does not exist: 03:00 EDT
        local(2027, 3, 14, 8, 30),
        local(2027, 3, 14, 14, 30),
        local(2027, 3, 14, 20, 30),
        local(2027, 3, 15, 2, 30),
    ]


def test_spring_forward_four_times_a_day_from_2300():
    connection = inventory(datetime.time(23, 0), per_day=4)
    due = chain(connection, local(2027, 3, 13, 17, 0), 5)
    assert [d.astimezone(NY).time() for d in due] == [datetime.time(h) for h in (23, 5, 11, 17, 23)]
    assert due[1] == utc(2027, 3, 14, 9, 0)  # 05:00 EDT, five hours after 23:00 EST
    assert due[1] - due[0] == datetime.timedelta(hours=5)


# --- inventory: fall back, 2027-11-07 (02:00 EDT -> 01:00 EST, at 06:00 UTC) ----------------------


def test_fall_back_ambiguous_0130_runs_once_at_the_first_occurrence():
    connection = inventory(datetime.time(1, 30))
    due = chain(connection, local(2027, 11, 6, 1, 30), 2)
    assert due == [utc(2027, 11, 7, 5, 30), utc(2027, 11, 8, 6, 30)]  # 01:30 EDT, then 01:30 EST next day
    # A run that finished between the two occurrences is not run again at the second one.
    between = utc(2027, 11, 7, 6, 10)  # 01:10 EST, the repeated hour
    assert schedule.next_due(connection, Job.INVENTORY_SYNC, between) == utc(2027, 11, 8, 6, 30)


def test_fall_back_0230_and_2300_keep_the_wall_clock_time():
    at_0230 = inventory(datetime.time(2, 30))
    assert chain(at_0230, local(2027, 11, 6, 2, 30), 2) == [utc(2027, 11, 7, 7, 30), utc(2027, 11, 8, 7, 30)]
    at_2300 = inventory(datetime.time(23, 0))
    due = chain(at_2300, local(2027, 11, 6, 23, 0), 2)
    assert due == [local(2027, 11, 7, 23, 0), local(2027, 11, 8, 23, 0)]
    assert due[0] - local(2027, 11, 6, 23, 0) == datetime.timedelta(hours=25)


def test_fall_back_four_times_a_day_from_0130():
    connection = inventory(datetime.time(1, 30), per_day=4)
    due = chain(connection, local(2027, 11, 6, 19, 30), 4)
    assert due == [
        utc(2027, 11, 7, 5, 30),  # 01:30 EDT, once
        local(2027, 11, 7, 7, 30),  # 07:30 EST: 7 hours later, wall clock kept
        local(2027, 11, 7, 13, 30),
        local(2027, 11, 7, 19, 30),
    ]
    assert due[1] == utc(2027, 11, 7, 12, 30)


def test_fall_back_four_times_a_day_from_2300():
    connection = inventory(datetime.time(23, 0), per_day=4)
    due = chain(connection, local(2027, 11, 6, 23, 0), 4)
    assert due == [
        local(2027, 11, 7, 5, 0),
        local(2027, 11, 7, 11, 0),
        local(2027, 11, 7, 17, 0),
        local(2027, 11, 7, 23, 0),
    ]
    assert due[0] - local(2027, 11, 6, 23, 0) == datetime.timedelta(hours=7)


def test_wall_to_utc_gap_in_a_whole_skipped_day():
    # Samoa skipped 2011-12-30: any time that day runs at the first instant of 2011-12-31.
    apia = zoneinfo.ZoneInfo("Pacific/Apia")
    instant = schedule.wall_to_utc(apia, datetime.datetime(2011, 12, 30, 12, 0))
    assert instant == datetime.datetime(2011, 12, 31, 0, 0, tzinfo=apia)


@hsettings(max_examples=150, deadline=None)
@given(
    after=st.datetimes(min_value=datetime.datetime(2027, 1, 1), max_value=datetime.datetime(2027, 12, 31)),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 59]),
    per_day=st.integers(1, 24),
)
def test_inventory_property_next_slot_is_the_first_after(after, hour, minute, per_day):
    after = after.replace(tzinfo=UTC)
    connection = inventory(datetime.time(hour, minute), per_day=per_day)
    due = schedule.next_due(connection, Job.INVENTORY_SYNC, after)
    assert due > after
    slots = schedule.slot_times(datetime.time(hour, minute), per_day)
    wall = due.astimezone(NY)
    # Either a slot's wall time, or the end of a spring-forward gap that swallowed one.
    assert wall.time().replace(tzinfo=None) in slots or (wall.hour, wall.minute) == (3, 0)
    # No slot instant is skipped between `after` and `due` (checked on the neighbouring days).
    for day_offset in (-1, 0, 1):
        day = after.astimezone(NY).date() + datetime.timedelta(days=day_offset)
        for slot in slots:
            instant = schedule.wall_to_utc(NY, datetime.datetime.combine(day, slot))
            assert not (after < instant < due)


# --- initial due, JobState rows, reschedule -----------------------------------------------------


def test_initial_due_interval_now_inventory_next_slot():
    connection = inventory(datetime.time(23, 0))
    now = local(2027, 6, 1, 9, 0)
    assert schedule.initial_due(connection, Job.ORDER_DOWNLOAD, now) == now
    assert schedule.initial_due(connection, Job.INVENTORY_SYNC, now) == local(2027, 6, 1, 23, 0)


def states_of(connection):
    return {s.job: s for s in JobState.objects.filter(connection=connection)}


@pytest.mark.django_db
def test_ensure_job_states_creates_four_rows_idempotently(connection):
    JobState.objects.filter(connection=connection).delete()
    schedule.ensure_job_states(connection)
    schedule.ensure_job_states(connection)
    states = states_of(connection)
    assert set(states) == set(Job)
    assert states[Job.ORDER_DOWNLOAD].next_due_at is not None


@pytest.mark.django_db
def test_ensure_job_states_keeps_existing_rows(connection):
    kept = timezone.now() + datetime.timedelta(days=3)
    JobState.objects.filter(connection=connection, job=Job.ORDER_DOWNLOAD).update(next_due_at=kept, lease_token="x")
    schedule.ensure_job_states(connection)
    state = states_of(connection)[Job.ORDER_DOWNLOAD]
    assert (state.next_due_at, state.lease_token) == (kept, "x")


@pytest.mark.django_db
def test_reschedule_rules(connection):
    now = timezone.now()
    run = factories.SyncRunFactory(
        connection=connection, job=Job.SHIPMENT_CONFIRMATION, started_at=now - datetime.timedelta(minutes=10)
    )
    lease_expiry = now + datetime.timedelta(minutes=20)
    JobState.objects.filter(connection=connection, job=Job.ORDER_DOWNLOAD).update(
        next_due_at=now - datetime.timedelta(minutes=1), lease_token="held", lease_expires_at=lease_expiry
    )
    JobState.objects.filter(connection=connection, job=Job.CANCEL_DOWNLOAD).update(next_due_at=None)
    JobState.objects.filter(connection=connection, job=Job.SHIPMENT_CONFIRMATION).update(
        next_due_at=now + datetime.timedelta(minutes=5), last_run=run
    )
    JobState.objects.filter(connection=connection, job=Job.INVENTORY_SYNC).update(
        next_due_at=now + datetime.timedelta(days=5)
    )
    OrderManagerConnection.objects.filter(pk=connection.pk).update(shipment_confirmation_interval=60)
    connection.refresh_from_db()

    schedule.reschedule(connection, now=now)
    states = states_of(connection)

    due = states[Job.ORDER_DOWNLOAD]
    assert due.next_due_at == now - datetime.timedelta(minutes=1)  # already due: stays due
    assert (due.lease_token, due.lease_expires_at) == ("held", lease_expiry)  # lease untouched
    assert states[Job.CANCEL_DOWNLOAD].next_due_at == now  # newly schedulable: at once
    assert states[Job.SHIPMENT_CONFIRMATION].next_due_at == run.started_at + datetime.timedelta(minutes=60)
    assert states[Job.INVENTORY_SYNC].next_due_at == schedule.next_due(connection, Job.INVENTORY_SYNC, now)


@pytest.mark.django_db
def test_reschedule_clears_disabled_and_restores_on_enable(connection):
    connection.order_download_enabled = False
    OrderManagerConnection.objects.filter(pk=connection.pk).update(order_download_enabled=False)
    schedule.reschedule(connection)
    assert states_of(connection)[Job.ORDER_DOWNLOAD].next_due_at is None
    connection.order_download_enabled = True
    now = timezone.now()
    schedule.reschedule(connection, now=now)
    assert states_of(connection)[Job.ORDER_DOWNLOAD].next_due_at == now


class TestNextAfterRun:
    """Interval jobs keep their cadence: counted from the claimed due time, not the run's start."""

    def test_counted_from_the_due_time_when_the_run_starts_just_after_the_tick(self, db):
        from hub.engine.schedule import next_after_run

        connection = factories.OrderManagerConnectionFactory(order_download_interval=1)
        due = datetime.datetime(2027, 1, 5, 12, 0, 0, tzinfo=UTC)
        started = due + datetime.timedelta(seconds=0.8)
        assert next_after_run(connection, Job.ORDER_DOWNLOAD, due, started) == due + datetime.timedelta(minutes=1)

    def test_counted_from_the_start_after_downtime_or_a_manual_early_run(self, db):
        from hub.engine.schedule import next_after_run

        connection = factories.OrderManagerConnectionFactory(order_download_interval=5)
        due = datetime.datetime(2027, 1, 5, 12, 0, 0, tzinfo=UTC)
        late = due + datetime.timedelta(hours=2)
        assert next_after_run(connection, Job.ORDER_DOWNLOAD, due, late) == late + datetime.timedelta(minutes=5)
        early = due - datetime.timedelta(minutes=3)
        assert next_after_run(connection, Job.ORDER_DOWNLOAD, due, early) == early + datetime.timedelta(minutes=5)
        assert next_after_run(connection, Job.ORDER_DOWNLOAD, None, early) == early + datetime.timedelta(minutes=5)


def test_reconciliation_runs_daily_at_its_local_time_and_follows_order_download():
    connection = make_connection()
    first = schedule.next_due(connection, Job.RECONCILIATION, local(2027, 3, 1, 12, 0))
    assert first == local(2027, 3, 2, 4, 0)
    # A day later, at the same wall-clock time across the DST change (2027-03-14 in New York).
    assert schedule.next_due(connection, Job.RECONCILIATION, local(2027, 3, 14, 4, 0)) == local(2027, 3, 15, 4, 0)
    assert schedule.initial_due(connection, Job.RECONCILIATION, local(2027, 3, 1, 12, 0)) == first
    connection.order_download_enabled = False
    assert schedule.next_due(connection, Job.RECONCILIATION, local(2027, 3, 1, 12, 0)) is None


def test_reconciliation_runs_at_the_connections_own_local_time_and_only_when_switched_on():
    connection = make_connection(time_zone="Europe/Berlin", reconciliation_time=datetime.time(2, 30))
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    noon = datetime.datetime(2027, 3, 27, 12, 0, tzinfo=berlin)
    # 02:30 does not exist in Berlin on 2027-03-28 (02:00 CET -> 03:00 CEST): the end of the gap.
    assert schedule.next_due(connection, Job.RECONCILIATION, noon) == datetime.datetime(
        2027, 3, 28, 1, 0, tzinfo=datetime.UTC
    )
    later = datetime.datetime(2027, 3, 28, 12, 0, tzinfo=berlin)
    assert schedule.next_due(connection, Job.RECONCILIATION, later) == datetime.datetime(
        2027, 3, 29, 0, 30, tzinfo=datetime.UTC
    )
    assert schedule.initial_due(connection, Job.RECONCILIATION, noon) == schedule.next_due(
        connection, Job.RECONCILIATION, noon
    )
    connection.reconciliation_enabled = False
    assert schedule.next_due(connection, Job.RECONCILIATION, noon) is None
    assert schedule.next_due(connection, Job.ORDER_DOWNLOAD, noon) is not None  # its own switch only
