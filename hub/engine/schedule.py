"""When each (connection, job) is due next: the only place due times are computed.

- Interval jobs (Order Download, Order Cancel Download, Shipment Confirmation) are due
  `interval` minutes after the time they are computed from.
- Inventory Sync runs at local times of day in the TENANT's time zone: `inventory_time`, plus
  `inventory_times_per_day - 1` more slots spaced 24 h / n apart (to the minute) anchored on it.
  Slots are wall-clock times, so they stay at the same local time across a DST change. A slot
  that does not exist that day (spring forward, e.g. 02:30) runs at the first valid instant
  after the gap (03:00); a slot that exists twice (fall back, e.g. 01:30) runs once, at its
  first occurrence (fold=0).
- Reconciliation runs once a day at the connection's `reconciliation_time`, local time in the
  TENANT's time zone, under the same slot rules as Inventory Sync.
- Nothing is due (None) when the job may not run (`hub.engine.eligibility`: turned off, tenant
  inactive, or the job's own requirement unmet, e.g. Inventory Sync without a warehouse name).

Due times are stored on `JobState.next_due_at`; the runner sets the next one after each run
(`next_due`), and saving a connection or tenant recomputes them (`reschedule`, via
`hub.engine.schedule_signals`), so editing the schedule in the admin is the only place a schedule is set.
All returned datetimes are aware and in UTC.
"""

from __future__ import annotations

import datetime
import zoneinfo

from django.utils import timezone

from hub.engine.eligibility import is_schedulable
from hub.models import Job, JobState

UTC = datetime.UTC

# job -> (enabled flag, interval in minutes) on OrderManagerConnection.
INTERVAL_FIELDS = {
    Job.ORDER_DOWNLOAD: ("order_download_enabled", "order_download_interval"),
    Job.CANCEL_DOWNLOAD: ("cancel_download_enabled", "cancel_download_interval"),
    Job.SHIPMENT_CONFIRMATION: ("shipment_confirmation_enabled", "shipment_confirmation_interval"),
}
MINUTES_PER_DAY = 24 * 60
DAILY = (Job.INVENTORY_SYNC, Job.RECONCILIATION)
# The dispatcher's tick claims what falls due before the next tick could see it: a due time a few
# seconds after a tick would otherwise wait a whole minute (and, anchored there, every later one
# too). Half the tick: a run starts at most this early, never a minute late.
DISPATCH_LOOKAHEAD = datetime.timedelta(seconds=30)


def next_due(connection, job: str, after: datetime.datetime) -> datetime.datetime | None:
    """The next time `job` is due for `connection`, strictly after `after` (aware), or None."""
    if timezone.is_naive(after):
        raise ValueError("next_due needs an aware datetime")
    if not is_schedulable(connection, job):
        return None
    if job == Job.INVENTORY_SYNC:
        return next_inventory_slot(
            connection.tenant.zone, connection.inventory_time, connection.inventory_times_per_day, after
        )
    if job == Job.RECONCILIATION:
        return next_inventory_slot(connection.tenant.zone, connection.reconciliation_time, 1, after)
    interval = getattr(connection, INTERVAL_FIELDS[Job(job)][1])
    # In UTC: Python adds to an aware local datetime in wall-clock time, which is wrong by the
    # DST shift across a change.
    return after.astimezone(UTC) + datetime.timedelta(minutes=interval)


def next_after_run(
    connection, job: str, due_at: datetime.datetime | None, started_at: datetime.datetime
) -> datetime.datetime | None:
    """The next due time after a run that started at `started_at` for the slot due at `due_at`.

    Counted from the due time the run was claimed for, not from the run's start a moment after the
    dispatcher's tick: counting from the start would put every next due time just after the next
    tick, so a 1-minute job would run every 2 minutes. After downtime (due more than one interval
    before the start), or for a run started by hand before its due time, it counts from the start;
    a run the tick claimed up to `DISPATCH_LOOKAHEAD` early counts from its due time.
    """
    anchor = started_at
    if due_at is not None and started_at < due_at <= started_at + DISPATCH_LOOKAHEAD:
        anchor = due_at  # claimed by the tick just before it fell due
    elif due_at is not None and due_at <= started_at:
        if job in DAILY:
            anchor = due_at
        else:
            interval = datetime.timedelta(minutes=getattr(connection, INTERVAL_FIELDS[Job(job)][1]))
            if started_at - due_at < interval:
                anchor = due_at
    return next_due(connection, job, anchor)


def initial_due(connection, job: str, now: datetime.datetime) -> datetime.datetime | None:
    """Due time of a pair that is new or was just (re-)enabled: interval jobs at once, inventory at its next slot."""
    if timezone.is_naive(now):
        raise ValueError("initial_due needs an aware datetime")
    if not is_schedulable(connection, job):
        return None
    if job in DAILY:
        return next_due(connection, job, now)
    return now.astimezone(UTC)


def slot_times(first: datetime.time, times_per_day: int) -> list[datetime.time]:
    """The local times of day of `times_per_day` slots spaced evenly (to the minute) from `first`."""
    n = max(1, int(times_per_day))
    start = first.hour * 60 + first.minute
    minutes = sorted({(start + k * MINUTES_PER_DAY // n) % MINUTES_PER_DAY for k in range(n)})
    return [datetime.time(m // 60, m % 60, first.second) for m in minutes]


def next_inventory_slot(
    zone: zoneinfo.ZoneInfo, first: datetime.time, times_per_day: int, after: datetime.datetime
) -> datetime.datetime:
    """The earliest slot instant strictly after `after` (see the module docstring for DST rules)."""
    after = after.astimezone(UTC)
    local_day = after.astimezone(zone).date()
    times = slot_times(first, times_per_day)
    candidates = []
    # The day before and two days after cover offsets near midnight and gaps of up to a day
    # (e.g. Samoa skipped 2011-12-30 entirely).
    for day_offset in (-1, 0, 1, 2):
        day = local_day + datetime.timedelta(days=day_offset)
        for time_of_day in times:
            instant = wall_to_utc(zone, datetime.datetime.combine(day, time_of_day))
            if instant > after:
                candidates.append(instant)
    return min(candidates)


def wall_to_utc(zone: zoneinfo.ZoneInfo, wall: datetime.datetime) -> datetime.datetime:
    """The instant of naive local time `wall` in `zone`: first occurrence if ambiguous, end of the gap if missing."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    # `wall` falls in a gap. fold=0 reads it with the offset before the change, fold=1 with the
    # offset after; the change itself (the first valid instant) lies between the two readings.
    late = first
    early = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if early > late:
        early, late = late, early
    return _transition_between(zone, early, late)


def _transition_between(zone, early: datetime.datetime, late: datetime.datetime) -> datetime.datetime:
    """The first instant in (early, late] whose UTC offset differs from early's (bisection to the second)."""
    before = early.astimezone(zone).utcoffset()
    low, high = early, late
    while high - low > datetime.timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle <= low:
            middle = low + datetime.timedelta(seconds=1)
        if middle.astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    return high


def ensure_job_states(connection) -> None:
    """Create the JobState rows (one per job) of `connection` if missing (one bulk INSERT; idempotent)."""
    now = timezone.now()
    JobState.objects.bulk_create(
        [JobState(connection=connection, job=job, next_due_at=initial_due(connection, job, now)) for job in Job],
        ignore_conflicts=True,
    )


def reschedule(connection, now: datetime.datetime | None = None) -> None:
    """Recompute next_due_at of all the jobs of `connection` after its (or its tenant's) settings changed.

    Only `next_due_at` is written: a lease held by a running job is left alone (the runner sets
    the next due time again when it finishes).
    - not schedulable (disabled, tenant inactive, no warehouse name) -> None;
    - newly schedulable (was None) -> `initial_due`;
    - already due (<= now) -> stays due, so saving unrelated settings never skips a pending run;
    - due in the future -> interval jobs: interval after the last run started (now if none);
      inventory: the next slot after now by the current time zone and times.
    """
    now = now or timezone.now()
    states = list(JobState.objects.filter(connection=connection).select_related("last_run"))
    changed = []
    for state in states:
        if not is_schedulable(connection, state.job):
            due = None
        elif state.next_due_at is None:
            due = initial_due(connection, state.job, now)
        elif state.next_due_at <= now:
            due = state.next_due_at
        elif state.job in DAILY:
            due = next_due(connection, state.job, now)
        else:
            base = state.last_run.started_at if state.last_run else now
            due = next_due(connection, state.job, base)
        if due != state.next_due_at:
            state.next_due_at = due
            changed.append(state)
    if changed:
        JobState.objects.bulk_update(changed, ["next_due_at"])
