"""hub.ops.health: /healthz answers 200 when the database, the cluster and the dispatcher are fine, 503 naming the failing part."""

import datetime

import pytest
from django.db import OperationalError
from django.utils import timezone
from django_q.models import Schedule

from hub import tasks
from hub.models import Heartbeat
from hub.ops import health

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def healthy(settings):
    """A cluster that just fired hub.dispatch and a dispatcher that just ticked; the cluster is required."""
    settings.HUB_HEALTH_REQUIRE_CLUSTER = True
    now = timezone.now()
    tasks.install_dispatch_schedule()
    Schedule.objects.filter(name=tasks.DISPATCH_SCHEDULE_NAME).update(next_run=now + datetime.timedelta(seconds=40))
    health.record_heartbeat("dispatch", now - datetime.timedelta(seconds=20))


def get(client):
    response = client.get("/healthz")
    return response.status_code, response.json()


def test_all_good_is_200_without_login(client):
    status, body = get(client)
    assert status == 200
    assert body["status"] == "ok" and body["failing"] == []
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "cluster": True,
        "dispatcher": True,
    }
    assert response_headers_forbid_caching(client)


def response_headers_forbid_caching(client):
    return "no-cache" in client.get("/healthz")["Cache-Control"]


def test_no_cluster_running_the_scheduler_is_503_naming_the_cluster(client):
    Schedule.objects.filter(name=tasks.DISPATCH_SCHEDULE_NAME).update(
        next_run=timezone.now() - datetime.timedelta(minutes=10)
    )
    status, body = get(client)
    assert status == 503
    assert body["status"] == "fail" and body["failing"] == ["cluster"]
    assert "no django-q2 cluster" in body["checks"]["cluster"]["detail"]


def test_a_missing_dispatch_schedule_is_503(client):
    Schedule.objects.filter(name=tasks.DISPATCH_SCHEDULE_NAME).delete()
    status, body = get(client)
    assert status == 503 and body["failing"] == ["cluster"]
    assert "setup_schedules" in body["checks"]["cluster"]["detail"]


def test_a_stale_dispatcher_is_503_naming_the_dispatcher(client):
    Heartbeat.objects.filter(name="dispatch").update(at=timezone.now() - datetime.timedelta(minutes=7))
    status, body = get(client)
    assert status == 503 and body["failing"] == ["dispatcher"]
    assert "7 min ago" in body["checks"]["dispatcher"]["detail"]


def test_a_dispatcher_that_never_ticked_is_503(client):
    Heartbeat.objects.all().delete()
    status, body = get(client)
    assert status == 503 and body["failing"] == ["dispatcher"]


def test_an_unreachable_database_is_503_and_does_not_leak_the_error(client, monkeypatch):
    def down(now):
        raise OperationalError(
            'connection to server at "10.0.0.5" failed: password authentication failed for user "hub"'
        )

    monkeypatch.setitem(health.CHECKS, "database", down)
    status, body = get(client)
    assert status == 503
    assert body["failing"] == ["database"]
    assert body["checks"]["database"]["detail"] == "failed (OperationalError); see the hub's logs"
    assert body["checks"]["cluster"]["detail"].startswith("not checked")
    assert "10.0.0.5" not in str(body)


def test_without_the_cluster_requirement_a_stale_cluster_is_reported_but_healthy(client, settings):
    settings.HUB_HEALTH_REQUIRE_CLUSTER = False
    Heartbeat.objects.all().delete()
    status, body = get(client)
    assert status == 200 and body["status"] == "ok"
    assert body["checks"]["dispatcher"] == {
        "ok": False,
        "detail": "the dispatcher has never completed a tick",
        "required": False,
    }


def test_the_dispatch_tick_records_the_heartbeat():
    Heartbeat.objects.all().delete()
    before = timezone.now()
    assert tasks.dispatch_tick() == 0
    assert Heartbeat.objects.get(name="dispatch").at >= before
    tasks.dispatch_tick()
    assert Heartbeat.objects.count() == 1


def test_only_get(client):
    assert client.post("/healthz").status_code == 405
