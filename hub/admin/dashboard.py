"""The numbers of the admin dashboard, computed with a fixed number of queries.

`build(user, now=None, days=14) -> Dashboard` returns one `ConnectionRow` per Order Manager
connection the user may see (superusers: all; tenant staff: their tenants' only; archived tenants'
never, `tenants.removal`) and the orders sent to the WMS per day over the last `days` days, per
connection and in total.

Query budget (constant, whatever the number of orders, events or connections):
1. the connections with their warehouse and tenant;
2. their job states with each job's last run (the run's big `calls` column deferred);
3. one GROUP BY over the orders that need an eye (not yet at the WMS, in error, cancel too late,
   shipped with tracking given up), per connection; it reads only rows in those statuses (the
   (connection, status) index);
4. one GROUP BY (connection, day) over the "sent to WMS" / "found at WMS" events of the window.
Plus one query for a staff user's tenant ids (`tenants.scoping.tenant_ids_for`).

"Sent per day" counts distinct orders that reached the WMS that day (an order sent and then
linked again counts once a day), by day in the current Django time zone.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Min, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from hub.engine.eligibility import ENABLED_FIELDS
from hub.models import Job, JobState, OrderEvent, OrderRecord, SyncRun
from tenants.models import OrderManagerConnection
from tenants.scoping import tenant_ids_for

Status = OrderRecord.Status
NOT_AT_WMS = (Status.NEW, Status.ERROR)
SENT_KINDS = (OrderEvent.Kind.SENT_TO_WMS, OrderEvent.Kind.LINKED_AT_WMS)
# An order waiting longer than this for the WMS makes its connection's row a warning.
WAITING_WARN_AFTER = datetime.timedelta(hours=1)
RUN_FAILED = {SyncRun.Status.FAILED, SyncRun.Status.ABANDONED}
# Shipped orders whose tracking Order Manager kept rejecting: no longer retried (the operator's turn).
TRACKING_GIVEN_UP = Q(status=Status.SHIPPED, tracking_given_up=True)

OK, WARN, BAD = "ok", "warn", "bad"


@dataclass
class JobCell:
    """One job of one connection: its last run and when it runs next."""

    job: Job
    enabled: bool
    state: JobState | None = None

    @property
    def last_run(self) -> SyncRun | None:
        return self.state.last_run if self.state else None

    @property
    def next_due_at(self) -> datetime.datetime | None:
        return self.state.next_due_at if self.state else None

    @property
    def attention(self) -> str:
        return self.state.attention if self.state else ""

    def running(self, now: datetime.datetime) -> bool:
        return bool(self.state and self.state.lease_expires_at and self.state.lease_expires_at > now)

    @property
    def level(self) -> str:
        if self.attention or (self.last_run and self.last_run.status in RUN_FAILED):
            return BAD
        if self.last_run and self.last_run.status == SyncRun.Status.PARTIAL:
            return WARN
        return OK


@dataclass
class ConnectionRow:
    connection: OrderManagerConnection
    jobs: list[JobCell]
    waiting: int = 0
    oldest_waiting_at: datetime.datetime | None = None
    errors: int = 0
    late_cancels: int = 0
    tracking_given_up: int = 0
    sent_per_day: list[int] = field(default_factory=list)

    @property
    def sent_total(self) -> int:
        return sum(self.sent_per_day)

    def circuit(self, now: datetime.datetime) -> tuple[str, str]:
        """(label, level) of the connection's run state (`OrderManagerConnection.run_state`)."""
        return self.connection.run_state(now)  # its levels are this module's OK, WARN, BAD

    def waiting_age(self, now: datetime.datetime) -> datetime.timedelta | None:
        return now - self.oldest_waiting_at if self.oldest_waiting_at else None

    def level(self, now: datetime.datetime) -> str:
        """The row's overall health: the worst of its circuit, jobs and orders."""
        levels = {self.circuit(now)[1], *(cell.level for cell in self.jobs)}
        if self.errors or self.late_cancels or self.tracking_given_up:
            levels.add(BAD)
        age = self.waiting_age(now)
        if age is not None and age > WAITING_WARN_AFTER:
            levels.add(WARN)
        return BAD if BAD in levels else WARN if WARN in levels else OK


@dataclass
class Dashboard:
    rows: list[ConnectionRow]
    days: list[datetime.date]
    sent_per_day: list[int]
    now: datetime.datetime

    @property
    def sent_total(self) -> int:
        return sum(self.sent_per_day)

    def count(self, level: str) -> int:
        return sum(1 for row in self.rows if row.level(self.now) == level)

    @property
    def totals(self) -> dict[str, int]:
        return {
            "waiting": sum(row.waiting for row in self.rows),
            "errors": sum(row.errors for row in self.rows),
            "late_cancels": sum(row.late_cancels for row in self.rows),
            "tracking_given_up": sum(row.tracking_given_up for row in self.rows),
        }


def build(user, now: datetime.datetime | None = None, days: int = 14) -> Dashboard:
    """The dashboard as `user` may see it (see the module docstring for the queries)."""
    now = now or timezone.now()
    tenant_ids = tenant_ids_for(user)

    def scoped(queryset, tenant_path: str):
        return queryset if tenant_ids is None else queryset.filter(**{f"{tenant_path}__in": tenant_ids})

    connections = list(
        scoped(
            OrderManagerConnection.objects.select_related("warehouse__tenant").filter(
                warehouse__tenant__archived_at__isnull=True
            ),
            "warehouse__tenant",
        ).order_by("warehouse__tenant__name", "warehouse__name", "pk")
    )
    day_list = _days(now, days)
    if not connections:
        return Dashboard(rows=[], days=day_list, sent_per_day=[0] * len(day_list), now=now)

    states: dict[tuple[int, str], JobState] = {
        (state.connection_id, state.job): state
        for state in scoped(
            JobState.objects.select_related("last_run").defer("last_run__calls"), "connection__warehouse__tenant"
        )
    }
    rows = {
        c.pk: ConnectionRow(
            connection=c,
            jobs=[
                JobCell(job=job, enabled=bool(getattr(c, ENABLED_FIELDS[job])), state=states.get((c.pk, job)))
                for job in Job
            ],
            sent_per_day=[0] * len(day_list),
        )
        for c in connections
    }

    order_stats = (
        scoped(
            OrderRecord.objects.filter(Q(status__in=[*NOT_AT_WMS, Status.CANCEL_FAILED]) | TRACKING_GIVEN_UP),
            "connection__warehouse__tenant",
        )
        .values("connection_id")
        .annotate(
            waiting=Count("pk", filter=Q(status__in=NOT_AT_WMS)),
            oldest=Min("created_at", filter=Q(status__in=NOT_AT_WMS)),
            errors=Count("pk", filter=Q(status=Status.ERROR)),
            late=Count("pk", filter=Q(status=Status.CANCEL_FAILED, cancel_handled=False)),
            tracking=Count("pk", filter=TRACKING_GIVEN_UP),
        )
        .order_by()
    )
    for stat in order_stats:
        row = rows.get(stat["connection_id"])
        if row is not None:
            row.waiting, row.oldest_waiting_at = stat["waiting"], stat["oldest"]
            row.errors, row.late_cancels = stat["errors"], stat["late"]
            row.tracking_given_up = stat["tracking"]

    index = {day: i for i, day in enumerate(day_list)}
    start = _start_of(day_list[0])
    sent = (
        scoped(OrderEvent.objects.filter(kind__in=SENT_KINDS, at__gte=start), "order__connection__warehouse__tenant")
        .annotate(day=TruncDate("at", tzinfo=timezone.get_current_timezone()))
        .values("order__connection_id", "day")
        .annotate(orders=Count("order_id", distinct=True))
        .order_by()
    )
    totals = [0] * len(day_list)
    for item in sent:
        position = index.get(item["day"])
        row = rows.get(item["order__connection_id"])
        if position is None or row is None:
            continue
        row.sent_per_day[position] += item["orders"]
        totals[position] += item["orders"]
    return Dashboard(rows=list(rows.values()), days=day_list, sent_per_day=totals, now=now)


def _days(now: datetime.datetime, days: int) -> list[datetime.date]:
    """The last `days` local dates, oldest first, today last."""
    today = timezone.localtime(now).date()
    return [today - datetime.timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min), timezone.get_current_timezone())
