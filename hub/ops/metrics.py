"""`/metrics`: Prometheus text exposition of the hub's state, read from the database at scrape time.

Why from the database: runs happen in django-q2 workers (other processes, other machines), so
in-process counters in the web process would see none of them, and several web workers would
each report a different part. `HubCollector` instead runs a fixed handful of aggregate queries
per scrape (GROUP BY on indexed columns, whatever the number of tenants, runs or orders).

Archived tenants (`tenants.removal`) are left out of every series: their runs, orders, alerts and
connections count nowhere. The aggregates grouped by connection drop theirs in Python, against the
one list of connections in service; the two grouped by job or slug filter on the tenant.

Series (labels: `tenant` = tenant slug; never per order or per connection, to bound cardinality):
- `hub_sync_runs_24h{tenant,job,status}`: runs started in the last 24 hours. A window, not an
  ever-growing counter: retention deletes old runs, which a `_total` counter would show as a
  reset every day.
- `hub_sync_run_failures_24h{tenant,job}`: of those, failed or abandoned.
- `hub_job_consecutive_failures{tenant,job}`: the worst connection's failed runs in a row.
- `hub_job_last_success_age_seconds{tenant,job}`: age of the oldest "last success" among the
  tenant's connections (jobs that never succeeded are left out).
- `hub_sync_run_duration_seconds_24h{job}`: gauge histogram of the durations of runs finished
  in the last 24 hours (`histogram_quantile` works on it as on any histogram).
- `hub_rate_limited_responses_24h{tenant,job}`: 429 answers received by runs of the last 24 h.
- `hub_orders{tenant,status}`: order records by status.
- `hub_oldest_order_not_at_wms_age_seconds{tenant}`: age of the oldest order in `new`/`error`.
- `hub_open_alerts{tenant,cause}`: open alerts (hub.ops.alerts).
- `hub_open_findings{tenant,kind}`: Reconciliation's findings neither resolved nor acknowledged by an
  operator (hub.jobs.reconciliation, hub.admin.finding_actions).
- `hub_connections{tenant,state}`: connections running / paused / credentials_rejected.
- `hub_webhook_requests_total{tenant,reason}`: WMS webhook requests accepted or refused, by reason
  (`hub.webhooks.counts`; tenant "" for requests to a token no endpoint has).

Access: a request with `Authorization: Bearer <HUB_METRICS_TOKEN>` (when a token is set), or from
an address inside `HUB_METRICS_ALLOWED_NETWORKS` (REMOTE_ADDR: behind a proxy, use the token);
anyone else gets 403.
"""

from __future__ import annotations

import datetime
import hmac
import ipaddress
from collections import defaultdict

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Min, Q, Sum
from django.http import HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, GaugeHistogramMetricFamily, GaugeMetricFamily

from hub.models import Alert, Finding, JobState, OrderRecord, SyncRun, WebhookCount
from tenants.models import OrderManagerConnection

WINDOW = datetime.timedelta(hours=24)
DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800)
FAILED_STATUSES = {SyncRun.Status.FAILED, SyncRun.Status.ABANDONED}
NOT_AT_WMS = [OrderRecord.Status.NEW, OrderRecord.Status.ERROR]


class HubCollector:
    """A prometheus_client collector whose `collect()` reads the hub's tables (see the module docstring)."""

    def __init__(self, now: datetime.datetime | None = None):
        self.now = now

    def collect(self):
        now = self.now or timezone.now()
        since = now - WINDOW
        tenant_of, connection_states = self._connections(now)
        yield from self._runs(since, tenant_of)
        yield self._durations(since)
        yield from self._job_states(now)
        yield from self._orders(now, tenant_of)
        yield self._alerts(tenant_of)
        yield self._findings(tenant_of)
        yield connection_states
        yield self._webhooks()

    # -- one query each ------------------------------------------------------------------------

    def _connections(self, now):
        tenant_of = {}
        states = defaultdict(int)
        rows = OrderManagerConnection.objects.filter(warehouse__tenant__archived_at__isnull=True).values_list(
            "pk", "warehouse__tenant__slug", "credentials_rejected_at", "paused_until"
        )
        for pk, slug, rejected_at, paused_until in rows:
            tenant_of[pk] = slug
            if rejected_at is not None:
                state = "credentials_rejected"
            elif paused_until is not None and paused_until > now:
                state = "paused"
            else:
                state = "running"
            states[(slug, state)] += 1
        family = GaugeMetricFamily(
            "hub_connections", "Order Manager connections by circuit state.", labels=["tenant", "state"]
        )
        for (slug, state), count in sorted(states.items()):
            family.add_metric([slug, state], count)
        return tenant_of, family

    def _runs(self, since, tenant_of):
        runs = GaugeMetricFamily(
            "hub_sync_runs_24h",
            "Sync runs started in the last 24 hours, by status.",
            labels=["tenant", "job", "status"],
        )
        failures = GaugeMetricFamily(
            "hub_sync_run_failures_24h",
            "Sync runs started in the last 24 hours that failed or were abandoned.",
            labels=["tenant", "job"],
        )
        limited = GaugeMetricFamily(
            "hub_rate_limited_responses_24h",
            "HTTP 429 answers received by sync runs started in the last 24 hours.",
            labels=["tenant", "job"],
        )
        failed, rate_limited = defaultdict(int), defaultdict(int)
        rows = (
            SyncRun.objects.filter(started_at__gte=since)
            .order_by()
            .values_list("connection_id", "job", "status")
            .annotate(n=Count("pk"), limited=Sum("rate_limited"))
        )
        per_status = defaultdict(int)
        for connection_id, job, status, count, limited_count in rows:
            if connection_id not in tenant_of:
                continue  # an archived tenant's
            slug = tenant_of[connection_id]
            per_status[(slug, job, status)] += count
            failed[(slug, job)] += count if status in FAILED_STATUSES else 0
            rate_limited[(slug, job)] += limited_count or 0
        for labels, count in sorted(per_status.items()):
            runs.add_metric(list(labels), count)
        for labels, count in sorted(failed.items()):
            failures.add_metric(list(labels), count)
        for labels, count in sorted(rate_limited.items()):
            limited.add_metric(list(labels), count)
        return runs, failures, limited

    def _durations(self, since):
        duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
        buckets = {
            f"le_{i}": Count("pk", filter=Q(duration__lte=datetime.timedelta(seconds=bound)))
            for i, bound in enumerate(DURATION_BUCKETS)
        }
        rows = (
            SyncRun.objects.filter(
                started_at__gte=since,
                finished_at__isnull=False,
                connection__warehouse__tenant__archived_at__isnull=True,
            )
            .order_by()
            .annotate(duration=duration)
            .values("job")
            .annotate(total=Count("pk"), seconds=Sum("duration"), **buckets)
        )
        family = GaugeHistogramMetricFamily(
            "hub_sync_run_duration_seconds_24h", "Durations of sync runs started in the last 24 hours.", labels=["job"]
        )
        for row in sorted(rows, key=lambda r: r["job"]):
            family.add_metric(
                [row["job"]],
                [(str(float(bound)), row[f"le_{i}"]) for i, bound in enumerate(DURATION_BUCKETS)]
                + [("+Inf", row["total"])],
                _seconds(row["seconds"]),
            )
        return family

    def _job_states(self, now):
        consecutive = GaugeMetricFamily(
            "hub_job_consecutive_failures",
            "Failed runs in a row of the tenant's worst connection.",
            labels=["tenant", "job"],
        )
        age = GaugeMetricFamily(
            "hub_job_last_success_age_seconds",
            "Seconds since the last success of the tenant's most behind connection.",
            labels=["tenant", "job"],
        )
        rows = (
            JobState.objects.filter(connection__warehouse__tenant__archived_at__isnull=True)
            .order_by()
            .values_list("connection__warehouse__tenant__slug", "job")
            .annotate(worst=Max("consecutive_failures"), oldest=Min("last_success_at"))
        )
        for slug, job, worst, oldest in sorted(rows, key=lambda r: (r[0], r[1])):
            consecutive.add_metric([slug, job], worst or 0)
            if oldest is not None:
                age.add_metric([slug, job], max(0.0, (now - oldest).total_seconds()))
        return consecutive, age

    def _orders(self, now, tenant_of):
        by_status = defaultdict(int)
        for connection_id, status, count in (
            OrderRecord.objects.order_by().values_list("connection_id", "status").annotate(n=Count("pk"))
        ):
            if connection_id in tenant_of:
                by_status[(tenant_of[connection_id], status)] += count
        orders = GaugeMetricFamily("hub_orders", "Order records by status.", labels=["tenant", "status"])
        for labels, count in sorted(by_status.items()):
            orders.add_metric(list(labels), count)

        oldest = {}
        for connection_id, created_at in (
            OrderRecord.objects.filter(status__in=NOT_AT_WMS)
            .order_by()
            .values_list("connection_id")
            .annotate(oldest=Min("created_at"))
        ):
            if connection_id not in tenant_of:
                continue
            slug = tenant_of[connection_id]
            oldest[slug] = min(created_at, oldest.get(slug, created_at))
        age = GaugeMetricFamily(
            "hub_oldest_order_not_at_wms_age_seconds",
            "Age of the oldest order not yet at the WMS (new or error).",
            labels=["tenant"],
        )
        for slug, created_at in sorted(oldest.items()):
            age.add_metric([slug], max(0.0, (now - created_at).total_seconds()))
        return orders, age

    def _alerts(self, tenant_of):
        counts = defaultdict(int)
        for connection_id, cause, count in (
            Alert.objects.filter(cleared_at__isnull=True)
            .order_by()
            .values_list("connection_id", "cause")
            .annotate(n=Count("pk"))
        ):
            if connection_id in tenant_of:
                counts[(tenant_of[connection_id], cause)] += count
        family = GaugeMetricFamily("hub_open_alerts", "Open alerts by cause.", labels=["tenant", "cause"])
        for labels, count in sorted(counts.items()):
            family.add_metric(list(labels), count)
        return family

    def _webhooks(self):
        # Counters kept in the database (hub.webhooks.counts), never pruned: a true `_total`.
        family = CounterMetricFamily(
            "hub_webhook_requests",
            "WMS webhook requests by outcome (accepted, or the refusal's reason); tenant '' = unknown token.",
            labels=["tenant", "reason"],
        )
        rows = (
            WebhookCount.objects.exclude(endpoint__warehouse__tenant__archived_at__isnull=False)
            .values_list("endpoint__warehouse__tenant__slug", "reason")
            .annotate(n=Sum("count"))
            .order_by("endpoint__warehouse__tenant__slug", "reason")
        )
        for slug, reason, count in rows:
            family.add_metric([slug or "", reason], count)
        return family

    def _findings(self, tenant_of):
        counts = defaultdict(int)
        for connection_id, kind, count in (
            Finding.objects.filter(resolved_at__isnull=True, acknowledged_at__isnull=True)
            .order_by()
            .values_list("connection_id", "kind")
            .annotate(n=Count("pk"))
        ):
            if connection_id in tenant_of:
                counts[(tenant_of[connection_id], kind)] += count
        family = GaugeMetricFamily(
            "hub_open_findings", "Open Reconciliation findings by kind.", labels=["tenant", "kind"]
        )
        for labels, count in sorted(counts.items()):
            family.add_metric(list(labels), count)
        return family


def _seconds(value) -> float:
    if value is None:
        return 0.0
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    return float(value) / 1_000_000  # SQLite sums durations as microseconds


def exposition(accept_header: str = "", now: datetime.datetime | None = None) -> tuple[bytes, str]:
    """The scrape body and its content type (Prometheus text, or OpenMetrics when asked for)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HubCollector(now))
    encoder, content_type = choose_encoder(accept_header)
    return encoder(registry), content_type


def is_allowed(request) -> bool:
    token = settings.HUB_METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip().encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped:  # ::ffff:127.0.0.1 from a dual-stack listener
        address = address.ipv4_mapped
    for network in settings.HUB_METRICS_ALLOWED_NETWORKS:
        try:
            if address in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            continue  # a malformed entry allows nothing
    return False


@never_cache
@require_GET
def metrics(request):
    if not is_allowed(request):
        return HttpResponseForbidden(
            "Metrics need the bearer token or an allowed network.\n", content_type="text/plain"
        )
    body, content_type = exposition(request.headers.get("Accept", ""))
    return HttpResponse(body, content_type=content_type)
