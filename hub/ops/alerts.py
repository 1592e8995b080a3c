"""Alerts: problems of a connection that its tenant's alert contacts must hear about, once.

`evaluate(connection, now=None)` / `evaluate_all(now=None)` recompute every cause from the hub's
tables, open an `Alert` for each new problem, bump `last_seen_at` of those still there and clear
those whose cause is gone. The number of queries is fixed (a handful of reads, a few writes in
chunks), whatever the number of connections, orders or SKUs. Causes, each keyed so that one
problem is one alert (`Alert.key`):

- `order_error` (key: order record id): an order in `error` that needs someone: a permanent
  error or one given up at once; a transient one (retried automatically with backoff) only when
  it has been failing for `TRANSIENT_GRACE`, so a WMS hiccup that the next retry fixes is quiet
  (a service that stays down pauses the connection, which is its own alert).
- `cancel_too_late` (key: order record id): `cancel_failed` and not marked handled.
- `tracking_given_up`: the connection has shipped orders whose tracking Order Manager kept
  rejecting for HUB_TRACKING_GIVE_UP_HOURS (`OrderRecord.tracking_given_up`, set by
  hub.jobs.shipment_confirmation); one alert listing them, open while any is left.
- `auth_failed`: the connection's credentials were rejected (hub.engine.circuit).
- `connection_paused`: the circuit is open after repeated temporary failures (hub.engine.circuit).
- `no_starting_inventory`: the connection's last completed Inventory Sync run skipped SKUs that
  have no starting inventory in Order Manager (one alert listing the SKUs).
- `stock_held`: the connection's last completed Inventory Sync run held implausible WMS quantities
  (`hub.jobs.inventory_sync`: above the bound or a jump; one alert listing the SKUs).
- `job_stale` (key: job): an enabled, runnable job that has not succeeded for more than three of
  its intervals (Inventory Sync: 24 h / times a day) and is not simply idle: its last run failed,
  or it is overdue by more than an interval (no cluster, attention flag, crash loop, paused).
Inactive tenants are not monitored: their alerts clear.

`send_due(now=None, tenant_ids=None)` e-mails the tenants' active `AlertContact`s: tenants with
`alert_frequency` "immediate" get everything pending at once; "hourly" and "daily" tenants get one
digest per hour (at the top of the hour) / per day (08:00 in the tenant's time zone) listing the
alerts opened and cleared before that boundary. Each opening and each clearing is sent once
(`notified_at`, `clear_notified_at`, claimed with conditional UPDATEs so two senders never send
the same alert twice); a failed send is released and retried by the next call. A tenant with no
active contact has its alerts marked handled without an e-mail (the admin lists them).

`after_run(connection)`: run after every run (the runner's `run_finished` signal); never raises.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Left
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from connectors.redaction import excerpt
from hub import durations
from hub.engine import circuit, eligibility
from hub.engine.batching import chunked
from hub.engine.schedule import INTERVAL_FIELDS, wall_to_utc
from hub.engine.signals import run_finished
from hub.models import Alert, InventoryLine, Job, JobState, OrderRecord, SyncRun
from tenants.models import AlertContact, AlertFrequency, OrderManagerConnection, Tenant

logger = logging.getLogger(__name__)

Cause = Alert.Cause
TRANSIENT_GRACE = datetime.timedelta(hours=1)
STALE_INTERVALS = 3
DAILY_DIGEST_AT = datetime.time(8, 0)
MAX_SKUS_LISTED = 50
MAX_ITEMS_PER_SECTION = 50
CHUNK = 500  # ids per IN (...) list: far below every backend's parameter limit
SUBJECT_PREFIX = "[Order Manager hub] "


@dataclass(frozen=True)
class Finding:
    """A problem present now."""

    connection_id: int
    cause: str
    key: str
    message: str
    link: str

    @property
    def name(self) -> tuple[int, str, str]:
        return (self.connection_id, self.cause, self.key)


@dataclass
class Changes:
    """What one evaluation did: names (connection id, cause, key) opened and cleared."""

    opened: list[tuple[int, str, str]] = field(default_factory=list)
    cleared: list[tuple[int, str, str]] = field(default_factory=list)
    still_open: int = 0


# -- evaluation --------------------------------------------------------------------------------------


def evaluate(connection, now: datetime.datetime | None = None) -> Changes:
    """Recompute the alerts of one connection."""
    return _evaluate(now or timezone.now(), connection.pk)


def evaluate_all(now: datetime.datetime | None = None) -> Changes:
    """Recompute the alerts of every connection."""
    return _evaluate(now or timezone.now(), None)


def _scoped(queryset, connection_id: int | None, path: str = "connection_id"):
    return queryset if connection_id is None else queryset.filter(**{path: connection_id})


def _evaluate(now: datetime.datetime, connection_id: int | None) -> Changes:
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
        for c in _scoped(
            OrderManagerConnection.objects.select_related("warehouse__tenant")
            .filter(warehouse__tenant__active=True)
            .annotate(last_inventory_run_id=Subquery(last_inventory)),
            connection_id,
            "pk",
        )
    }
    findings: dict[tuple, Finding] = {}
    if connections:
        for finder in (
            _order_errors,
            _cancels_too_late,
            _tracking_given_up,
            _circuit,
            _no_starting_inventory,
            _stock_held,
            _stale_jobs,
        ):
            for finding in finder(connections, connection_id, now):
                findings[finding.name] = finding
    return _apply(findings, connection_id, now)


def _order_errors(connections, connection_id, now):
    grace_start = now - TRANSIENT_GRACE
    needs_someone = (
        Q(error_permanent=True)
        | Q(given_up=True)
        | Q(first_attempt_at__lte=grace_start)
        | Q(first_attempt_at__isnull=True, created_at__lte=grace_start)
    )
    rows = _scoped(
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
    rows = _scoped(
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
        _scoped(OrderRecord.objects.filter(status=OrderRecord.Status.SHIPPED, tracking_given_up=True), connection_id)
        .order_by("connection_id", "order_number")
        .values_list("connection_id", "order_number", Left("last_error", 500))
    )
    orders = defaultdict(list)
    for conn_id, number, last_error in rows:
        if conn_id in connections:
            orders[conn_id].append((number, last_error))
    for conn_id, listed in orders.items():
        shown = ", ".join(number for number, _ in listed[:MAX_SKUS_LISTED]) + (
            f" and {len(listed) - MAX_SKUS_LISTED} more" if len(listed) > MAX_SKUS_LISTED else ""
        )
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
        shown = ", ".join(listed[:MAX_SKUS_LISTED]) + (
            f" and {len(listed) - MAX_SKUS_LISTED} more" if len(listed) > MAX_SKUS_LISTED else ""
        )
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
    return datetime.timedelta(minutes=getattr(connection, INTERVAL_FIELDS[Job(job)][1]))


def _stale_jobs(connections, connection_id, now):
    rows = _scoped(JobState.objects.all(), connection_id).values_list(
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


def _apply(findings: dict[tuple, Finding], connection_id: int | None, now) -> Changes:
    open_alerts = {
        (a.connection_id, a.cause, a.key): a
        for a in _scoped(Alert.objects.filter(cleared_at__isnull=True), connection_id).only(
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


# -- notification --------------------------------------------------------------------------------


def digest_boundary(tenant: Tenant, now: datetime.datetime) -> datetime.datetime:
    """Everything that happened up to this instant is due for `tenant` now."""
    if tenant.alert_frequency == AlertFrequency.HOURLY:
        local = timezone.localtime(now, tenant.zone)
        return wall_to_utc(tenant.zone, local.replace(minute=0, second=0, microsecond=0, tzinfo=None))
    if tenant.alert_frequency == AlertFrequency.DAILY:
        local = timezone.localtime(now, tenant.zone)
        boundary = wall_to_utc(tenant.zone, datetime.datetime.combine(local.date(), DAILY_DIGEST_AT))
        if boundary > now:
            boundary = wall_to_utc(
                tenant.zone, datetime.datetime.combine(local.date() - datetime.timedelta(days=1), DAILY_DIGEST_AT)
            )
        return boundary
    return now


def _pending_q() -> Q:
    return Q(notified_at__isnull=True) | Q(cleared_at__isnull=False, clear_notified_at__isnull=True)


def send_due(now: datetime.datetime | None = None, tenant_ids: list[int] | None = None) -> int:
    """Send what is due (see the module docstring); returns the number of e-mails sent."""
    now = now or timezone.now()
    pending = Alert.objects.filter(_pending_q(), connection__warehouse__tenant__active=True)
    if tenant_ids is not None:
        pending = pending.filter(connection__warehouse__tenant_id__in=tenant_ids)
    by_tenant = defaultdict(list)
    for alert in pending.select_related("connection__warehouse__tenant").order_by("opened_at", "pk"):
        by_tenant[alert.connection.warehouse.tenant].append(alert)
    if not by_tenant:
        return 0
    contacts = defaultdict(list)
    for tenant_id, email in (
        AlertContact.objects.filter(tenant__in=list(by_tenant), active=True)
        .order_by("email")
        .values_list("tenant_id", "email")
    ):
        contacts[tenant_id].append(email)
    sent = 0
    for tenant, alerts in sorted(by_tenant.items(), key=lambda item: item[0].pk):
        boundary = digest_boundary(tenant, now)
        new = [a for a in alerts if a.notified_at is None and a.opened_at <= boundary]
        cleared = [
            a for a in alerts if a.notified_at is not None and a.cleared_at is not None and a.cleared_at <= boundary
        ]
        if not new and not cleared:
            continue
        claimed_new, claimed_cleared = _claim(new, cleared, now)
        if not claimed_new and not claimed_cleared:
            continue  # another sender took them
        recipients = contacts.get(tenant.pk, [])
        if not recipients:
            logger.info("alerts for %s marked handled: the tenant has no active alert contact", tenant.slug)
            continue
        try:
            message = build_email(tenant, claimed_new, claimed_cleared, recipients, now)
            message.send(fail_silently=False)
        except Exception:
            logger.exception("alert e-mail to %s's contacts failed; retried on the next call", tenant.slug)
            _release(claimed_new, claimed_cleared, now)
            continue
        sent += 1
    return sent


def _claim(new: list[Alert], cleared: list[Alert], stamp) -> tuple[list[Alert], list[Alert]]:
    """Take the notices with conditional UPDATEs; returns the alerts this call now owns."""
    new_ids = [a.pk for a in new]
    # An alert opened and cleared before its opening was sent is told as both, once.
    clear_ids = [a.pk for a in cleared] + [a.pk for a in new if a.cleared_at is not None]
    for ids in chunked(new_ids, CHUNK):
        Alert.objects.filter(pk__in=ids, notified_at__isnull=True).update(notified_at=stamp)
    for ids in chunked(clear_ids, CHUNK):
        Alert.objects.filter(pk__in=ids, clear_notified_at__isnull=True).update(clear_notified_at=stamp)
    owned_new, owned_clear = set(), set()
    for ids in chunked(new_ids + clear_ids, CHUNK):
        for pk, notified_at, clear_notified_at in Alert.objects.filter(pk__in=ids).values_list(
            "pk", "notified_at", "clear_notified_at"
        ):
            if notified_at == stamp:
                owned_new.add(pk)
            if clear_notified_at == stamp:
                owned_clear.add(pk)
    return (
        [a for a in new if a.pk in owned_new],
        [a for a in cleared if a.pk in owned_clear],
    )


def _release(new: list[Alert], cleared: list[Alert], stamp) -> None:
    ids = [a.pk for a in new] + [a.pk for a in cleared]
    for chunk in chunked(ids, CHUNK):
        Alert.objects.filter(pk__in=chunk, notified_at=stamp).update(notified_at=None)
        Alert.objects.filter(pk__in=chunk, clear_notified_at=stamp).update(clear_notified_at=None)


def absolute(path: str) -> str:
    return settings.HUB_BASE_URL.rstrip("/") + path if path.startswith("/") else path


FREQUENCY_WORDS = {
    AlertFrequency.IMMEDIATE: "as soon as they happen",
    AlertFrequency.HOURLY: "in an hourly digest",
    AlertFrequency.DAILY: "in a daily digest",
}


def build_email(tenant: Tenant, new: list[Alert], cleared: list[Alert], recipients: list[str], now) -> EmailMessage:
    """The plain-text e-mail telling `recipients` about `new` and `cleared` alerts of `tenant`."""
    zone = tenant.zone

    def when(moment) -> str:
        return timezone.localtime(moment, zone).strftime("%Y-%m-%d %H:%M %Z")

    def item(number: int, alert: Alert, *, clearing: bool) -> str:
        lines = [
            f"{number}. {alert.get_cause_display()} — {alert.connection}",
            f"   {alert.message}",
        ]
        state = f"   Opened {when(alert.opened_at)}"
        if alert.cleared_at is not None:
            state += f", cleared {when(alert.cleared_at)}" + ("" if clearing else " (the cause is already gone)")
        lines.append(state)
        if alert.link:
            lines.append(f"   {absolute(alert.link)}")
        return "\n".join(lines)

    def section(title: str, alerts: list[Alert], clearing: bool) -> list[str]:
        if not alerts:
            return []
        shown = [item(i, a, clearing=clearing) for i, a in enumerate(alerts[:MAX_ITEMS_PER_SECTION], 1)]
        if len(alerts) > MAX_ITEMS_PER_SECTION:
            shown.append(f"… and {len(alerts) - MAX_ITEMS_PER_SECTION} more (see the admin).")
        return [f"{title} ({len(alerts)})", "", *("\n\n".join(shown).splitlines()), ""]

    counts = ", ".join(filter(None, [f"{len(new)} new" if new else "", f"{len(cleared)} cleared" if cleared else ""]))
    if tenant.alert_frequency == AlertFrequency.IMMEDIATE:
        subject = f"{SUBJECT_PREFIX}{tenant.name}: {counts} alert(s)"
    else:
        subject = (
            f"{SUBJECT_PREFIX}{tenant.name}: {tenant.get_alert_frequency_display().split(' (')[0].lower()} — {counts}"
        )
    open_url = absolute(
        reverse("admin:hub_alert_changelist")
        + "?"
        + urlencode({"status": "open", "connection__warehouse__tenant__id__exact": tenant.pk})
    )
    body = [
        f"The Order Manager hub has alerts for {tenant.name} ({when(now)}).",
        "",
        *section("NEW PROBLEMS", new, clearing=False),
        *section("CLEARED (the cause is gone)", cleared, clearing=True),
        f"All open alerts: {open_url}",
        "",
        f"You get this e-mail because you are an alert contact of {tenant.name}, {FREQUENCY_WORDS[tenant.alert_frequency]}. "
        f"Contacts and frequency: {absolute(reverse('admin:tenants_tenant_change', args=[tenant.pk]))}",
    ]
    return EmailMessage(
        subject=subject[:250],
        body="\n".join(body) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )


# -- after every run ---------------------------------------------------------------------------------


@receiver(run_finished, dispatch_uid="hub.ops.alerts.after_run")
def on_run_finished(sender, connection, run, **kwargs) -> None:
    """The runner's `run_finished` signal (hub.engine.signals): re-evaluate the run's connection."""
    after_run(connection)


def after_run(connection) -> None:
    """Re-evaluate `connection` after a run and, for an "immediate" tenant, send at once. Never raises:
    an alerting problem must not fail or retry the run."""
    try:
        evaluate(connection)
        tenant = connection.warehouse.tenant
        if tenant.alert_frequency == AlertFrequency.IMMEDIATE:
            send_due(tenant_ids=[tenant.pk])
    except Exception:
        logger.exception("alert evaluation after the run failed")
