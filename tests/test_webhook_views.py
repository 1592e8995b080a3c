"""The webhook endpoint: what it refuses (and counts), what it records and queues, fast."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection as db_connection
from django.test import Client
from django.utils import timezone
from django_q.models import OrmQ

from hub.models import WebhookCount, WebhookDelivery
from hub.webhooks.counts import counts_of
from tests import webhook_signing as ws
from tests.factories import OrderManagerConnectionFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint():
    conn = OrderManagerConnectionFactory()
    return WebhookEndpointFactory(warehouse=conn.warehouse)


def test_signed_event_is_recorded_queued_and_answered_202(client, endpoint):
    response = ws.post(client, endpoint, ws.event_body(event_id=7))
    assert response.status_code == 202
    delivery = WebhookDelivery.objects.get()
    assert (delivery.tpl_id, delivery.wms_event_id, delivery.event_type) == ("42", "7", "OrderConfirm")
    assert delivery.outcome == WebhookDelivery.Outcome.QUEUED  # processed by the queued task, not here
    assert [row.func() for row in OrmQ.objects.all()] == ["hub.webhooks.tasks.process_delivery"]
    assert counts_of(endpoint) == {"accepted": 1}


@pytest.mark.parametrize(
    "signature, key, reason",
    [
        ("", ws.PRIVATE_KEY, "unsigned"),
        (None, ws.OTHER_KEY, "bad_signature"),
        ("bm90IGEgc2ln", None, "bad_signature"),
        ("***not base64***", None, "bad_signature"),
    ],
)
def test_unsigned_or_wrongly_signed_is_refused_401_and_counted(client, endpoint, signature, key, reason):
    response = ws.post(client, endpoint, ws.event_body(), signature=signature, key=key or ws.PRIVATE_KEY)
    assert response.status_code == 401
    assert response.json()["reason"] == reason
    assert not WebhookDelivery.objects.exists() and not OrmQ.objects.exists()
    assert counts_of(endpoint) == {reason: 1}


def test_tampered_body_is_refused(client, endpoint):
    body = ws.event_body(event_id=8)
    signature = ws.sign(body)
    response = ws.post(client, endpoint, body.replace(b'"wmsEventId": 8', b'"wmsEventId": 9'), signature=signature)
    assert response.status_code == 401
    assert counts_of(endpoint) == {"bad_signature": 1}


def test_replayed_event_id_is_answered_200_counted_and_not_queued_again(client, endpoint):
    body = ws.event_body(event_id=11)
    assert ws.post(client, endpoint, body).status_code == 202
    again = ws.post(client, endpoint, body)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert WebhookDelivery.objects.count() == 1 and OrmQ.objects.count() == 1
    assert counts_of(endpoint) == {"accepted": 1, "replayed": 1}


def test_stale_event_is_refused(client, endpoint, settings):
    old = timezone.now() - datetime.timedelta(seconds=settings.HUB_WEBHOOK_MAX_AGE_SECONDS + 60)
    response = ws.post(client, endpoint, ws.event_body(at=old))
    assert response.status_code == 400 and response.json()["reason"] == "stale"
    assert counts_of(endpoint) == {"stale": 1}


def test_oversized_body_is_refused_before_reading(client, endpoint, settings):
    settings.HUB_WEBHOOK_MAX_BYTES = 500
    body = ws.event_body(padding="x" * 600)
    response = ws.post(client, endpoint, body)
    assert response.status_code == 413
    assert counts_of(endpoint) == {"oversized": 1}


def test_wrong_token_is_404_and_counted_hub_wide(client, endpoint):
    response = client.post("/webhooks/wms/not-a-token/", data=b"{}", content_type="application/json")
    assert response.status_code == 404
    assert WebhookCount.objects.get(endpoint=None).count == 1


def test_rotated_token_makes_the_old_url_404(client, endpoint):
    from hub.webhooks.admin_actions import rotate_token

    old_path = endpoint.path
    rotate_token(endpoint)
    assert client.post(old_path, data=b"{}", content_type="application/json").status_code == 404
    assert ws.post(client, endpoint, ws.event_body()).status_code == 202


def test_disabled_endpoint_is_404(client, endpoint):
    endpoint.enabled = False
    endpoint.save()
    assert ws.post(client, endpoint, ws.event_body()).status_code == 404
    assert counts_of(endpoint) == {"disabled": 1}


def test_archived_tenant_is_refused_and_counted(client, endpoint):
    tenant = endpoint.warehouse.tenant
    tenant.archived_at = timezone.now()
    tenant.save()
    assert ws.post(client, endpoint, ws.event_body()).status_code == 403
    assert counts_of(endpoint) == {"tenant_archived": 1}


def test_unknown_event_type_is_recorded_counted_and_not_queued(client, endpoint):
    response = ws.post(client, endpoint, ws.event_body("SomethingNew"))
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert WebhookDelivery.objects.get().outcome == WebhookDelivery.Outcome.UNKNOWN_TYPE
    assert not OrmQ.objects.exists()
    assert counts_of(endpoint) == {"unknown_type": 1}


@pytest.mark.parametrize(
    "body", [b"not json", b"[]", b'{"eventType": "OrderConfirm"}', b'{"tplId": 1, "wmsEventId": 2, "eventType": "X"}']
)
def test_signed_but_malformed_is_refused_400(client, endpoint, body):
    response = ws.post(client, endpoint, body)
    assert response.status_code == 400 and response.json()["reason"] == "malformed"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_twice_at_once_is_recorded_once(endpoint):
    if db_connection.vendor != "postgresql":
        pytest.skip("two writers at once need PostgreSQL (SQLite's in-memory test database locks the table)")
    body = ws.event_body(event_id=77)
    barrier = threading.Barrier(2)
    answers = []

    def deliver():
        barrier.wait()
        answers.append(ws.post(Client(), endpoint, body).status_code)
        db_connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [200, 202]
    assert WebhookDelivery.objects.count() == 1
    assert OrmQ.objects.count() == 1


def test_counts_are_in_metrics(client, endpoint):
    ws.post(client, endpoint, ws.event_body(), signature="")
    ws.post(client, endpoint, ws.event_body())
    client.post("/webhooks/wms/nope/", data=b"{}", content_type="application/json")
    text = client.get("/metrics").content.decode()
    slug = endpoint.warehouse.tenant.slug
    assert f'hub_webhook_requests_total{{reason="unsigned",tenant="{slug}"}} 1.0' in text
    assert f'hub_webhook_requests_total{{reason="accepted",tenant="{slug}"}} 1.0' in text
    assert 'hub_webhook_requests_total{reason="unknown_token",tenant=""} 1.0' in text


def test_admin_shows_url_counts_and_rotates(admin_client, endpoint, settings):
    ws.post(Client(), endpoint, ws.event_body(), signature="")
    page = admin_client.get(f"/admin/hub/webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert settings.HUB_BASE_URL.rstrip("/") + endpoint.path in page
    assert "Refused: no Signature header: 1" in page
    old = endpoint.token
    admin_client.post("/admin/hub/webhookendpoint/", {"action": "rotate_tokens", "_selected_action": [endpoint.pk]})
    endpoint.refresh_from_db()
    assert endpoint.token != old
