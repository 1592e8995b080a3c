"""Findings: what is wrong now with each connection, one `Finding` per problem, per cause.

`current(now, connection_id=None)` recomputes every cause from the hub's tables and returns the
findings by name (connection id, cause, key): one name is one alert (`Alert.key`). It only reads,
with a fixed number of queries whatever the number of connections, orders or SKUs; opening and
clearing alerts is hub.ops.alerts.lifecycle's. Inactive and archived tenants' connections have no
findings (an archived tenant's open alerts are cleared by the next evaluation).

Causes:
- `order_error` (key: order record id): an order in `error` that needs someone: a permanent
  error or one given up at once; a transient one (retried automatically with backoff) only when
  it has been failing for `TRANSIENT_GRACE`, so a WMS hiccup that the next retry fixes is quiet
  (a service that stays down pauses the connection, which is its own alert).
- `cancel_too_late` (key: order record id): `cancel_failed` and not marked handled.
- `tracking_given_up`: the connection has shipped orders whose tracking Order Manager kept
  rejecting for HUB_TRACKING_GIVE_UP_HOURS (`OrderRecord.tracking_given_up`, set by
  hub.jobs.shipment_confirmation); one finding listing them, present while any is left.
- `auth_failed`: the connection's credentials were rejected (hub.engine.circuit).
- `connection_paused`: the circuit is open after repeated temporary failures (hub.engine.circuit).
- `no_starting_inventory`: the connection's last completed Inventory Sync run skipped SKUs that
  have no starting inventory in Order Manager (one finding listing the SKUs).
- `stock_held`: the connection's last completed Inventory Sync run held implausible WMS quantities
  (`hub.jobs.inventory_sync`: above the bound or a jump; one finding listing the SKUs).
- `reconciliation` (key: the finding's kind): the connection has open Reconciliation findings of
  that kind (hub.jobs.reconciliation); one alert a kind, listing the subjects and how many the job
  healed itself; it clears when the next complete run resolves them or an operator acknowledges
  them (hub.admin.finding_actions; acknowledged findings are not open).
- `job_stale` (key: job): an enabled, runnable job that has not succeeded for more than three of
  its intervals (Inventory Sync: 24 h / times a day) and is not simply idle: its last run failed,
  or it is overdue by more than an interval (no cluster, attention flag, crash loop, paused).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Left
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from connectors.redaction import excerpt
from hub import durations
from hub.engine import circuit, eligibility
from hub.engine.schedule import INTERVAL_FIELDS
from hub.models import Alert, InventoryLine, Job, JobState, OrderRecord, SyncRun
from hub.models import Finding as Discrepancy
from tenants.models import OrderManagerConnection

Cause = Alert.Cause
TRANSIENT_GRACE = datetime.timedelta(hours=1)
STALE_INTERVALS = 3
MAX_SKUS_LISTED = 50

Name = tuple[int, str, str]  # (connection id, cause, key): one problem, one alert


@dataclass(frozen=True)
class Finding:
    """A problem present now."""

    connection_id: int
    cause: str
    key: str
    message: str
    link: str

    @property
    def name(self) -> Name:
        return (self.connection_id, self.cause, self.key)


def scoped(queryset, connection_id: int | None, path: str = "connection_id"):
    """`queryset` limited to one connection, or all of them when `connection_id` is None."""
    return queryset if connection_id is None else queryset.filter(**{path: connection_id})


def current(now: datetime.datetime, connection_id: int | None = None) -> dict[Name, Finding]:
    """Every problem present at `now`, of one connection or (None) of all, by name."""
    last_inventory = (
        SyncRun.objects.filter(
            connection=OuterRef("pk"),
            job=Job.INVENTORY_SYNC,
            status__in=[SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL],
        )
        .order_by("-started_at")
        .values("pk")[:1]
    )
    connections = {
        c.pk: c
        for c in scoped(
            OrderManagerConnection.objects.select_related("warehouse__tenant")
            .filter(warehouse__tenant__active=True, warehouse__tenant__archived_at__isnull=True)
            .annotate(last_inventory_run_id=Subquery(last_inventory)),
            connection_id,
            "pk",
        )
    }
    findings: dict[Name, Finding] = {}
    if connections:
        for finder in (
            _order_errors,
            _cancels_too_late,
            _tracking_given_up,
            _circuit,
            _no_starting_inventory,
            _stock_held,
            _discrepancies,
            _stale_jobs,
        ):
            for finding in finder(connections, connection_id, now):
                findings[finding.name] = finding
    return findings


def _listed(values: list[str]) -> str:
    """The first MAX_SKUS_LISTED of `values`, and how many more."""
    return ", ".join(values[:MAX_SKUS_LISTED]) + (
        f" and {len(values) - MAX_SKUS_LISTED} more" if len(values) > MAX_SKUS_LISTED else ""
    )


def _order_errors(connections, connection_id, now):
    grace_start = now - TRANSIENT_GRACE
    needs_someone = (
        Q(error_permanent=True)
        | Q(given_up=True)
        | Q(first_attempt_at__lte=grace_start)
        | Q(first_attempt_at__isnull=True, created_at__lte=grace_start)
    )
    rows = scoped(
        OrderRecord.objects.filter(needs_someone, status=OrderRecord.Status.ERROR), connection_id
    ).values_list("pk", "connection_id", "order_number", "last_error", "error_permanent", "given_up", "attempts")
    for pk, conn_id, number, last_error, permanent, given_up, attempts in rows:
        if conn_id not in connections:
            continue
        if permanent:
            why = "a permanent error: it is not retried until you fix the cause and resend it"
        elif given_up:
            why = "retries gave up after 15 days: resend it once the cause is fixed"
        else:
            why = f"still failing after {attempts} attempt(s); retried automatically"
        yield Finding(
            conn_id,
            Cause.ORDER_ERROR,
            str(pk),
            f"Order {number} is in error ({why}). Reason: {excerpt(last_error or 'not recorded', 500)}",
            reverse("admin:hub_orderrecord_change", args=[pk]),
        )


def _cancels_too_late(connections, connection_id, now):
    rows = scoped(
        OrderRecord.objects.filter(status=OrderRecord.Status.CANCEL_FAILED, cancel_handled=False), connection_id
    ).values_list("pk", "connection_id", "order_number")
    for pk, conn_id, number in rows:
        if conn_id in connections:
            yield Finding(
                conn_id,
                Cause.CANCEL_TOO_LATE,
                str(pk),
                f"Order {number} was cancelled in Order Manager after the warehouse had shipped it: the cancellation "
                "came too late. Arrange a return or recall with the warehouse, then mark the cancel handled.",
                reverse("admin:hub_orderrecord_change", args=[pk]),
            )


def _tracking_given_up(connections, connection_id, now):
    rows = (
        scoped(OrderRecord.objects.filter(status=OrderRecord.Status.SHIPPED, tracking_given_up=True), connection_id)
        .order_by("connection_id", "order_number")
        .values_list("connection_id", "order_number", Left("last_error", 500))
    )
    orders = defaultdict(list)
    for conn_id, number, last_error in rows:
        if conn_id in connections:
            orders[conn_id].append((number, last_error))
    for conn_id, listed in orders.items():
        shown = _listed([number for number, _ in listed])
        number, last_error = listed[0]
        yield Finding(
            conn_id,
            Cause.TRACKING_GIVEN_UP,
            "",
            f"Order Manager kept rejecting the tracking of {len(listed)} shipped order(s) for "
            f"{settings.HUB_TRACKING_GIVE_UP_HOURS} h; the hub stopped retrying them: {shown}. "
            f"Reason ({number}): {excerpt(last_error or 'not recorded', 300)} "
            "Fix the cause in Order Manager, then select the orders and use “Retry tracking”.",
            reverse("admin:hub_orderrecord_changelist")
            + "?"
            + urlencode({"connection__id__exact": conn_id, "tracking_given_up__exact": 1}),
        )


def _discrepancies(connections, connection_id, now):
    rows = (
        scoped(Discrepancy.objects.filter(resolved_at__isnull=True, acknowledged_at__isnull=True), connection_id)
        .order_by("connection_id", "kind", "subject")
        .values_list("connection_id", "kind", "subject", "healed_at")
    )
    open_ = defaultdict(list)
    for conn_id, kind, subject, healed_at in rows:
        if conn_id in connections:
            open_[(conn_id, kind)].append((subject, healed_at is not None))
    for (conn_id, kind), listed in open_.items():
        healed = sum(1 for _, was_healed in listed if was_healed)
        yield Finding(
            conn_id,
            Cause.RECONCILIATION,
            kind,
            f"Reconciliation found {len(listed)} × {Discrepancy.Kind(kind).label}: "
            f"{_listed([subject for subject, _ in listed])}. {healed} healed automatically; "
            "the next complete run resolves what no longer differs.",
            reverse("admin:hub_finding_changelist")
            + "?"
            + urlencode({"connection__id__exact": conn_id, "kind": kind, "state": "open"}),
        )


def _circuit(connections, connection_id, now):
    for connection in connections.values():
        link = reverse("admin:tenants_ordermanagerconnection_change", args=[connection.pk])
        if connection.credentials_rejected_at is not None:
            yield Finding(
                connection.pk,
                Cause.AUTH_FAILED,
                "",
                connection.pause_reason
                or "Order Manager or the WMS rejected the credentials. Fix them on the "
                "connection, then use “Test connection”.",
                link,
            )
        elif circuit.is_open(connection, now):
            yield Finding(
                connection.pk,
                Cause.CONNECTION_PAUSED,
                "",
                f"Scheduled runs are paused: {connection.pause_reason or 'repeated temporary failures'} "
                "They resume by themselves after the cool-off; a successful run closes the pause.",
                link,
            )


def _inventory_line_findings(connections, result: str, cause: str, describe):
    """One finding per connection whose last Inventory Sync has lines with `result`;
    `describe(run_id, count, shown)` words it, linking to those lines."""
    run_of = {c.last_inventory_run_id: c.pk for c in connections.values() if c.last_inventory_run_id}
    if not run_of:
        return
    skus = defaultdict(list)
    rows = (
        InventoryLine.objects.filter(run_id__in=list(run_of), result=result)
        .order_by("run_id", "sku")
        .values_list("run_id", "sku")
    )
    for run_id, sku in rows:
        skus[run_id].append(sku)
    for run_id, listed in skus.items():
        shown = _listed(listed)
        yield Finding(
            run_of[run_id],
            cause,
            "",
            describe(run_id, len(listed), shown),
            reverse("admin:hub_inventoryline_changelist")
            + "?"
            + urlencode({"run__id__exact": run_id, "result": result}),
        )


def _no_starting_inventory(connections, connection_id, now):
    return _inventory_line_findings(
        connections,
        InventoryLine.Result.NO_STARTING_INVENTORY,
        Cause.NO_STARTING_INVENTORY,
        lambda run_id, count, shown: (
            f"The last Inventory Sync (run #{run_id}) skipped {count} SKU(s) that have no starting inventory in "
            f"Order Manager: {shown}. Assign starting inventory to them in Order Manager; the hub never creates it."
        ),
    )


def _stock_held(connections, connection_id, now):
    return _inventory_line_findings(
        connections,
        InventoryLine.Result.HELD,
        Cause.STOCK_HELD,
        lambda run_id, count, shown: (
            f"The last Inventory Sync (run #{run_id}) held {count} SKU(s) whose WMS quantity is implausible "
            f"(too large, or a sudden jump): {shown}. Order Manager keeps their quantity; check them at the warehouse."
        ),
    )


def job_interval(connection, job: str) -> datetime.timedelta:
    """The interval between two runs of `job` on `connection`."""
    if job == Job.INVENTORY_SYNC:
        return datetime.timedelta(days=1) / max(1, connection.inventory_times_per_day)
    if job == Job.RECONCILIATION:
        return datetime.timedelta(days=1)
    return datetime.timedelta(minutes=getattr(connection, INTERVAL_FIELDS[Job(job)][1]))


def _stale_jobs(connections, connection_id, now):
    rows = scoped(JobState.objects.all(), connection_id).values_list(
        "pk", "connection_id", "job", "last_success_at", "next_due_at", "last_run__status"
    )
    for pk, conn_id, job, last_success_at, next_due_at, last_status in rows:
        connection = connections.get(conn_id)
        if connection is None or job not in Job.values or not eligibility.is_schedulable(connection, job):
            continue
        interval = job_interval(connection, job)
        since = last_success_at or connection.created_at
        if now - since <= STALE_INTERVALS * interval:
            continue
        last_failed = last_status is not None and last_status not in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL)
        overdue = next_due_at is not None and now - next_due_at > interval
        if not (last_failed or overdue or last_success_at is None):
            continue  # idle, e.g. just turned on again after a long pause: its next run is on time
        last = (
            f"last success {timezone.localtime(last_success_at, connection.tenant.zone):%Y-%m-%d %H:%M %Z}"
            if last_success_at
            else "it never succeeded"
        )
        yield Finding(
            conn_id,
            Cause.JOB_STALE,
            job,
            f"{Job(job).label} has not succeeded for more than {STALE_INTERVALS} of its intervals "
            f"({durations.interval(interval)} each); {last}. See its last runs and any attention flag.",
            reverse("admin:hub_jobstate_change", args=[pk]),
        )
