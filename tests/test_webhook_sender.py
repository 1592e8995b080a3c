"""The sandbox WMS's webhook sender, and the whole path over a real socket: ship → signed webhook →
hub endpoint → queued run → tracking accepted by the sandbox Order Manager; with the sender down,
polling alone delivers."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from django_q.models import OrmQ

from connectors.sandbox import webhook_outbox
from connectors.sandbox.control import order_events, webhook_sender
from connectors.sandbox.models import WmsWebhookEvent, WmsWebhookSubscription
from connectors.warehouse_manager.webhook_key import verify
from hub.engine import dispatcher
from hub.engine.runner import run_job
from hub.models import Job, JobState, OrderRecord, SyncRun, WebhookDelivery
from hub.webhooks import sandbox_link
from tests.queued_tasks import run_queued
from tests.sandbox_helpers import accounts, sandbox_tenant, status


def shipped_to_order_manager(slug: str) -> int:
    return status(slug)["order_manager"]["shipments"]["count"]


def at_wms(live_server, slug: str, orders: int = 3):
    connection = sandbox_tenant(live_server, slug, orders=orders, skus=3)
    assert run_job(connection, Job.ORDER_DOWNLOAD).status == SyncRun.Status.SUCCEEDED
    _, wms = accounts(slug)
    sandbox_link.connect(connection.warehouse, wms, live_server.url)
    return connection, wms


def test_ship_sends_a_signed_webhook_that_the_hub_turns_into_confirmed_tracking(live_server):
    connection, wms = at_wms(live_server, "hooks")
    order_events.ship(wms)
    events = list(WmsWebhookEvent.objects.filter(account=wms, event_type="OrderConfirm"))
    assert len(events) == 3
    assert webhook_sender.deliver_due() == {"delivered": 3, "failed": 0, "dead": 0}
    assert WebhookDelivery.objects.filter(outcome="queued").count() == 3  # recorded; the work is queued
    assert shipped_to_order_manager("hooks") == 0
    run_queued()  # the three webhook tasks: one run queued, two pending on its lease
    assert [row.func() for row in OrmQ.objects.all()] == ["hub.tasks.run_job_task"]
    run_queued()  # the run
    run = SyncRun.objects.get(job=Job.SHIPMENT_CONFIRMATION)
    assert run.trigger == SyncRun.Trigger.WEBHOOK and run.status == SyncRun.Status.SUCCEEDED, run.error
    assert OrderRecord.objects.filter(connection=connection, status=OrderRecord.Status.CONFIRMED).count() == 3
    assert shipped_to_order_manager("hooks") == 3
    assert not OrmQ.objects.exists()


def test_with_the_sender_down_polling_alone_delivers(live_server):
    connection, wms = at_wms(live_server, "nohooks")
    WmsWebhookSubscription.objects.filter(account=wms).update(sender_down=True)
    order_events.ship(wms)
    assert webhook_sender.deliver_due() == {"delivered": 0, "failed": 0, "dead": 0}
    assert not WebhookDelivery.objects.exists()
    # The existing schedule: Shipment Confirmation falls due, the dispatcher claims and queues it.
    JobState.objects.filter(connection=connection).exclude(job=Job.SHIPMENT_CONFIRMATION).update(
        next_due_at=timezone.now() + datetime.timedelta(hours=1)
    )
    JobState.objects.filter(connection=connection, job=Job.SHIPMENT_CONFIRMATION).update(next_due_at=timezone.now())
    assert [job for _, job, _ in dispatcher.dispatch()] == [Job.SHIPMENT_CONFIRMATION]
    run_queued()
    assert SyncRun.objects.get(job=Job.SHIPMENT_CONFIRMATION).trigger == SyncRun.Trigger.SCHEDULE
    assert shipped_to_order_manager("nohooks") == 3
    # The sender comes back: the late events are delivered and change nothing.
    WmsWebhookSubscription.objects.filter(account=wms).update(sender_down=False)
    assert webhook_sender.deliver_due()["delivered"] == 3
    run_queued()
    run_queued()
    assert shipped_to_order_manager("nohooks") == 3
    assert status("nohooks")["order_manager"]["shipments"]["duplicates"] == 0


@pytest.mark.django_db
def test_a_failed_delivery_is_retried_with_backoff_then_dead_after_six_hours():
    from connectors.sandbox.control.account_setup import ensure_wms_account

    wms = ensure_wms_account("hook-client", "secret", customer_id=5, facility_id=6)
    WmsWebhookSubscription.objects.create(account=wms, url="http://127.0.0.1:9/unreachable")
    event = webhook_outbox.record(wms, "OrderConfirm", order_id=1)
    now = event.created_at
    assert webhook_sender.deliver_due(now=now)["failed"] == 1
    event.refresh_from_db()
    assert event.attempts == 1 and event.next_attempt_at == now + datetime.timedelta(seconds=1)
    assert webhook_sender.deliver_due(now=now)["failed"] == 0  # not due yet
    later = now + webhook_sender.RETRY_FOR
    assert webhook_sender.deliver_due(now=later) == {"delivered": 0, "failed": 0, "dead": 1}


@pytest.mark.django_db
def test_the_payload_is_signed_with_the_published_key(client):
    from connectors.sandbox.control.account_setup import ensure_wms_account

    wms = ensure_wms_account("hook-client-2", "secret", customer_id=5, facility_id=6)
    WmsWebhookSubscription.objects.create(account=wms, url="http://127.0.0.1:9/")
    body = webhook_outbox.payload(webhook_outbox.record(wms, "OrderCancel", order_id=9))
    published = client.get("/sandbox/warehouse-manager/events/webhook/key").json()["publicKey"]
    assert verify(published, body, webhook_outbox.sign(body))
    assert not verify(published, body + b" ", webhook_outbox.sign(body))
