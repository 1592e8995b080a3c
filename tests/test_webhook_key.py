"""The WMS webhook key: fetched from the key URL (answer checked), cached, re-fetched on rotation."""

from __future__ import annotations

import json

import pytest
import responses
from cryptography.hazmat.primitives import serialization
from django.test import Client

from connectors.warehouse_manager.webhook_key import WebhookKeyError, fetch_public_key, verify
from hub.webhook_models import DEFAULT_KEY_URL
from tests import webhook_signing as ws
from tests.factories import OrderManagerConnectionFactory, WebhookEndpointFactory


def pem_of(key):
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_verify_is_pkcs1v15_sha256_over_the_raw_bytes():
    body = b'{"a": 1}'
    assert verify(ws.PUBLIC_PEM, body, ws.sign(body))
    assert not verify(ws.PUBLIC_PEM, body + b" ", ws.sign(body))
    assert not verify(ws.PUBLIC_PEM, body, ws.sign(body, ws.OTHER_KEY))
    assert not verify(ws.PUBLIC_PEM, body, "%%%")


@responses.activate
@pytest.mark.parametrize(
    "status, body, message",
    [
        (500, "{}", "HTTP 500"),
        (200, "not json", "did not answer JSON"),
        (200, "{}", "without a publicKey"),
        (200, json.dumps({"publicKey": "junk"}), "not a PEM"),
    ],
)
def test_a_bad_key_answer_fails_loudly(status, body, message):
    responses.get(DEFAULT_KEY_URL, status=status, body=body)
    with pytest.raises(WebhookKeyError, match=message):
        fetch_public_key(DEFAULT_KEY_URL)


@responses.activate
@pytest.mark.django_db
def test_the_endpoint_fetches_caches_and_refetches_a_rotated_key(freezer=None):
    endpoint = WebhookEndpointFactory(warehouse=OrderManagerConnectionFactory().warehouse, public_key_pem="")
    responses.get(DEFAULT_KEY_URL, json={"publicKey": pem_of(ws.OTHER_KEY), "retrievalDateISO": "2026-12-07"})
    client = Client()
    # Signed by the key the URL does not (yet) publish, and the key was fetched just now: refused.
    assert ws.post(client, endpoint, ws.event_body()).status_code == 401
    assert ws.post(client, endpoint, ws.event_body(), key=ws.OTHER_KEY).status_code == 202
    assert len(responses.calls) == 1  # cached on the endpoint
    # The WMS rotates its key; the cached one is older than the re-fetch pause: fetched again, accepted.
    from django.utils import timezone

    from hub.webhook_models import WebhookEndpoint

    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(key_fetched_at=timezone.now() - timezone.timedelta(hours=1))
    responses.replace(responses.GET, DEFAULT_KEY_URL, json={"publicKey": ws.PUBLIC_PEM})
    endpoint.refresh_from_db()
    assert ws.post(client, endpoint, ws.event_body()).status_code == 202
    assert len(responses.calls) == 2


@responses.activate
@pytest.mark.django_db
def test_no_key_is_503_so_the_sender_retries():
    endpoint = WebhookEndpointFactory(warehouse=OrderManagerConnectionFactory().warehouse, public_key_pem="")
    responses.get(DEFAULT_KEY_URL, status=503)
    response = ws.post(Client(), endpoint, ws.event_body())
    assert response.status_code == 503 and response.json()["reason"] == "no_key"
