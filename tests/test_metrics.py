"""hub.ops.metrics: /metrics content read from the database, parsed back with prometheus_client; access control."""

import datetime

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from hub.models import Alert, Job, JobState, OrderRecord, SyncRun
from tenants.models import Tenant
from tests import factories

pytestmark = pytest.mark.django_db


def scrape(client, **extra) -> dict:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))


@pytest.fixture
def world(db):
    now = timezone.now()
    acme = factories.OrderManagerConnectionFactory(warehouse__tenant__slug="acme")
    bolt = factories.OrderManagerConnectionFactory(warehouse__tenant__slug="bolt")

    def run(connection, status, seconds, *, job=Job.ORDER_DOWNLOAD, ago=datetime.timedelta(hours=1), rate_limited=0):
        started = now - ago
        return factories.SyncRunFactory(
            connection=connection,
            job=job,
            status=status,
            started_at=started,
            finished_at=started + datetime.timedelta(seconds=seconds),
            rate_limited=rate_limited,
        )

    run(acme, SyncRun.Status.SUCCEEDED, 0.5)
    run(acme, SyncRun.Status.SUCCEEDED, 4, rate_limited=2)
    run(acme, SyncRun.Status.FAILED, 40, rate_limited=3)
    run(acme, SyncRun.Status.ABANDONED, 700)
    run(acme, SyncRun.Status.SUCCEEDED, 1, ago=datetime.timedelta(days=3))  # outside the window
    run(bolt, SyncRun.Status.PARTIAL, 100, job=Job.INVENTORY_SYNC)

    oldest = factories.OrderRecordFactory(connection=acme, status=OrderRecord.Status.NEW)
    OrderRecord.objects.filter(pk=oldest.pk).update(created_at=now - datetime.timedelta(hours=2))
    factories.OrderRecordFactory(connection=acme, status=OrderRecord.Status.ERROR)
    factories.OrderRecordFactory(connection=acme, status=OrderRecord.Status.CONFIRMED)
    confirmed_long_ago = factories.OrderRecordFactory(connection=bolt, status=OrderRecord.Status.CONFIRMED)
    OrderRecord.objects.filter(pk=confirmed_long_ago.pk).update(created_at=now - datetime.timedelta(days=5))

    factories.AlertFactory(connection=acme, cause=Alert.Cause.ORDER_ERROR, key="1")
    factories.AlertFactory(connection=acme, cause=Alert.Cause.ORDER_ERROR, key="2")
    factories.AlertFactory(connection=bolt, cause=Alert.Cause.AUTH_FAILED, cleared_at=now)  # cleared: not counted
    factories.FindingFactory(connection=acme)
    factories.FindingFactory(connection=acme, kind="export_mark_lost")
    factories.FindingFactory(connection=bolt, resolved_at=now)  # resolved: not counted
    factories.FindingFactory(connection=acme, acknowledged_at=now, acknowledged_by="alice")  # acknowledged: not open
    factories.FindingFactory(connection=acme, kind="stock_drift", acknowledged_at=now)  # its kind has none open
    JobState.objects.filter(connection=acme, job=Job.ORDER_DOWNLOAD).update(
        consecutive_failures=4, last_success_at=now - datetime.timedelta(minutes=30)
    )
    bolt.paused_until = now + datetime.timedelta(minutes=10)
    bolt.save(update_fields=["paused_until"])
    return {"now": now}


def test_runs_failures_and_429s_of_the_last_24_hours(client, world):
    s = scrape(client)
    assert value(s, "hub_sync_runs_24h", tenant="acme", job="orders", status="succeeded") == 2
    assert value(s, "hub_sync_runs_24h", tenant="acme", job="orders", status="failed") == 1
    assert value(s, "hub_sync_runs_24h", tenant="bolt", job="inventory", status="partial") == 1
    assert value(s, "hub_sync_run_failures_24h", tenant="acme", job="orders") == 2  # failed + abandoned
    assert value(s, "hub_sync_run_failures_24h", tenant="bolt", job="inventory") == 0
    assert value(s, "hub_rate_limited_responses_24h", tenant="acme", job="orders") == 5
    assert value(s, "hub_job_consecutive_failures", tenant="acme", job="orders") == 4
    assert 1790 <= value(s, "hub_job_last_success_age_seconds", tenant="acme", job="orders") <= 1900


def test_duration_histogram(client, world):
    s = scrape(client)
    buckets = {
        le: value(s, "hub_sync_run_duration_seconds_24h_bucket", job="orders", le=le)
        for le in ("1.0", "5.0", "60.0", "600.0", "+Inf")
    }
    assert buckets == {"1.0": 1, "5.0": 2, "60.0": 3, "600.0": 3, "+Inf": 4}
    assert value(s, "hub_sync_run_duration_seconds_24h_gcount", job="orders") == 4
    assert value(s, "hub_sync_run_duration_seconds_24h_gsum", job="orders") == pytest.approx(744.5)
    assert value(s, "hub_sync_run_duration_seconds_24h_bucket", job="inventory", le="120.0") == 1


def test_orders_oldest_unsent_alerts_and_connections(client, world):
    s = scrape(client)
    assert value(s, "hub_orders", tenant="acme", status="new") == 1
    assert value(s, "hub_orders", tenant="acme", status="error") == 1
    assert value(s, "hub_orders", tenant="bolt", status="confirmed") == 1
    assert 7190 <= value(s, "hub_oldest_order_not_at_wms_age_seconds", tenant="acme") <= 7300
    assert value(s, "hub_oldest_order_not_at_wms_age_seconds", tenant="bolt") is None  # nothing waiting
    assert value(s, "hub_open_alerts", tenant="acme", cause="order_error") == 2
    assert value(s, "hub_open_alerts", tenant="bolt", cause="auth_failed") is None
    assert value(s, "hub_open_findings", tenant="acme", kind="missed_order") == 1
    assert value(s, "hub_open_findings", tenant="acme", kind="export_mark_lost") == 1
    assert value(s, "hub_open_findings", tenant="bolt", kind="missed_order") is None
    assert value(s, "hub_open_findings", tenant="acme", kind="stock_drift") is None
    assert value(s, "hub_connections", tenant="acme", state="running") == 1
    assert value(s, "hub_connections", tenant="bolt", state="paused") == 1


def test_an_archived_tenant_is_in_no_series(client, world):
    before = scrape(client)
    assert any(dict(labels).get("tenant") == "bolt" for _, labels in before)
    Tenant.objects.filter(slug="bolt").update(archived_at=timezone.now())
    after = scrape(client)
    assert not [key for key in after if dict(key[1]).get("tenant") in ("bolt", "")]
    assert {key for key in before if dict(key[1]).get("tenant") == "acme"} <= set(after)
    # The durations (per job, no tenant label) no longer count bolt's inventory run.
    assert value(after, "hub_sync_run_duration_seconds_24h_gcount", job="inventory") is None
    assert value(before, "hub_sync_run_duration_seconds_24h_gcount", job="inventory") == 1


def test_a_scrape_costs_a_fixed_number_of_queries(client, world, django_assert_max_num_queries):
    for _ in range(5):
        connection = factories.OrderManagerConnectionFactory()
        factories.SyncRunFactory(connection=connection)
        factories.OrderRecordFactory(connection=connection)
    # One query per family read from the database (webhook counts and open findings included),
    # whatever the number of connections.
    with django_assert_max_num_queries(9):
        scrape(client)


def test_refused_outside_the_allowed_networks_without_the_token(client, settings, world):
    settings.HUB_METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    scrape(client, REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-token")
    scrape(client, REMOTE_ADDR="::ffff:127.0.0.1")  # IPv4 loopback seen by a dual-stack listener
    settings.HUB_METRICS_ALLOWED_NETWORKS = ["203.0.113.0/24", "not-a-network"]
    scrape(client, REMOTE_ADDR="203.0.113.9")
    settings.HUB_METRICS_ALLOWED_NETWORKS = []
    settings.HUB_METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 403  # no token set: "Bearer " never matches
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_openmetrics_when_asked_for(client, world):
    response = client.get("/metrics", HTTP_ACCEPT="application/openmetrics-text; version=1.0.0")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.decode().rstrip().endswith("# EOF")
