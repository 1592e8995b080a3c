"""Canary: the connection's credentials are set to unique strings, a full sync runs with failures
and exceptions (server errors, malformed answers, 401s, an internal error), the jobs also run as
django-q2 tasks through the ORM broker, and then the strings appear nowhere the hub writes or
shows: every row of every table of ours, django-q2's and the admin's (dumped to text), task
arguments and results, captured logs (every logger at DEBUG), e-mails, the HTML of every admin
page, and a 500 error page with DEBUG off.
"""

import logging

import pytest
from django.apps import apps
from django.contrib import admin
from django.core import mail, serializers
from django.test import Client
from django.urls import reverse

from connectors.order_manager.client import OrderManagerClient
from connectors.sandbox.control import fault_setup, order_events, seeding
from hub.engine import dispatcher
from hub.engine.runner import run_job
from hub.models import Job, JobState, SyncRun
from tests import factories
from tests.sandbox_helpers import accounts, sandbox_tenant

pytestmark = pytest.mark.django_db(transaction=True)

SLUG = "canary"
CANARIES = {
    "om_password": "CANARY-om-password-7f3a91",
    "access_token": "CANARY-access-token-b2c4d8",
    "client_secret": "CANARY-wms-secret-e5f6a7",
    "tpl_key": "CANARY-tpl-key-0c1d2e",
}
SKIPPED_APPS = {"sandbox"}  # the outside services' own storage, not the hub's


def leaks(text: str) -> list[str]:
    return [name for name, value in CANARIES.items() if value in text or value.lower() in text.lower()]


def dump_every_table() -> str:
    chunks = []
    for model in apps.get_models():
        if model._meta.app_label in SKIPPED_APPS:
            continue
        chunks.append(serializers.serialize("json", model.objects.all()))
    return "\n".join(chunks)


def admin_pages(client) -> dict[str, str]:
    pages = {"/admin/": client.get("/admin/").content.decode()}
    for model in admin.site._registry:
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        pages[url] = client.get(url).content.decode()
        for obj in model.objects.all()[:3]:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
            answer = client.get(change)
            pages[change] = answer.content.decode()
            assert answer.status_code in (200, 302), (change, answer.status_code)
    return pages


@pytest.fixture
def canary_connection(live_server):
    conn = sandbox_tenant(live_server, SLUG, orders=6, skus=6)
    om, wms = accounts(SLUG)
    om.set_password(CANARIES["om_password"])
    om.save()
    wms.set_secret(CANARIES["client_secret"])
    wms.save()
    warehouse = conn.warehouse
    warehouse.client_secret, warehouse.tpl_key = CANARIES["client_secret"], CANARIES["tpl_key"]
    warehouse.save()
    conn.access_token = CANARIES["access_token"]
    # The sandbox knows the canary as an app-install token of the account.
    from connectors.sandbox.credentials import hash_secret
    from connectors.sandbox.models import OmToken

    OmToken.objects.create(account=om, digest=hash_secret(CANARIES["access_token"]))
    conn.save()
    factories.AlertContactFactory(tenant=warehouse.tenant)  # alert e-mails are scanned too
    return type(conn).objects.select_related("warehouse__tenant").get(pk=conn.pk)


def test_credentials_appear_nowhere(canary_connection, caplog, monkeypatch, settings):
    conn = canary_connection
    caplog.set_level(logging.DEBUG)
    om_account, wms_account = accounts(SLUG)

    # 1. Runs with temporary faults (5xx, malformed answers) on both sides.
    fault_setup.configure_faults(om_account=om_account, rate_500=0.3, malformed_rate=0.1, seed=7)
    fault_setup.configure_faults(wms_account=wms_account, rate_500=0.3, malformed_rate=0.1, seed=8)
    for _ in range(3):
        run_job(conn, Job.ORDER_DOWNLOAD)
    fault_setup.configure_faults(om_account=om_account, clear=True)
    fault_setup.configure_faults(wms_account=wms_account, clear=True)
    run_job(conn, Job.ORDER_DOWNLOAD)
    order_events.ship(wms_account, 3, seed=1)
    order_events.cancel(om_account, 2, wms_account=wms_account)
    run_job(conn, Job.SHIPMENT_CONFIRMATION)
    run_job(conn, Job.CANCEL_DOWNLOAD)
    run_job(conn, Job.INVENTORY_SYNC)

    # 2. An internal error whose message includes the clients (their repr must hide secrets).
    real_get_orders = OrderManagerClient.get_orders

    def buggy(self, ids):
        raise TypeError(f"unexpected answer in {self!r} for {ids!r} with {conn.warehouse!r}")

    seeding.seed(om_account, wms_account, orders=2, skus=0, seed=3)
    monkeypatch.setattr(OrderManagerClient, "get_orders", buggy)
    crashed = run_job(conn, Job.ORDER_DOWNLOAD)
    assert crashed.status == SyncRun.Status.FAILED and "Internal error (TypeError)" in crashed.error
    monkeypatch.setattr(OrderManagerClient, "get_orders", real_get_orders)

    # 3. 401s: the app is uninstalled in Order Manager (the hub's token is now revoked), and on the WMS.
    from connectors.sandbox.credentials import hash_secret
    from connectors.sandbox.models import OmToken

    OmToken.objects.filter(digest=hash_secret(CANARIES["access_token"])).delete()
    rejected = run_job(conn, Job.ORDER_DOWNLOAD)
    assert rejected.status == SyncRun.Status.FAILED and "rejected the access token" in rejected.error
    wms_account.set_secret("changed-elsewhere")
    wms_account.save()
    type(conn).objects.filter(pk=conn.pk).update(credentials_rejected_at=None)
    OmToken.objects.create(account=om_account, digest=hash_secret(CANARIES["access_token"]))
    conn.refresh_from_db()
    refused = run_job(conn, Job.SHIPMENT_CONFIRMATION)
    assert refused.status == SyncRun.Status.FAILED and "refused the client id" in refused.error
    wms_account.set_secret(CANARIES["client_secret"])
    wms_account.save()
    type(conn).objects.filter(pk=conn.pk).update(credentials_rejected_at=None)

    # 4. The same jobs as django-q2 tasks (ORM broker, run synchronously): arguments and results stored.
    from django_q.conf import Conf
    from django_q.models import Task

    monkeypatch.setattr(Conf, "SYNC", True)
    from django.utils import timezone

    JobState.objects.filter(connection=conn).update(next_due_at=timezone.now(), lease_token="", lease_expires_at=None)
    dispatched = dispatcher.dispatch()
    assert {job for _, job, _ in dispatched} == set(Job)
    assert Task.objects.count() >= len(Job)
    tasks_text = "\n".join(f"{t.args!r} {t.kwargs!r} {t.result!r}" for t in Task.objects.all())
    assert leaks(tasks_text) == []

    # 5. Every table, every log line, every e-mail.
    assert SyncRun.objects.filter(status=SyncRun.Status.FAILED).count() >= 3
    assert leaks(dump_every_table()) == []
    log_text = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''} {getattr(r, '__dict__', {})!r}" for r in caplog.records
    )
    assert len(caplog.records) > 50
    assert leaks(log_text) == []
    assert leaks("\n".join(f"{m.subject}\n{m.body}" for m in mail.outbox)) == []

    # 6. The HTML of every admin page, as a superuser.
    superuser = factories.UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(superuser)
    pages = admin_pages(client)
    assert len(pages) > 20
    for url, html in pages.items():
        assert leaks(html) == [], url

    # 7. A 500 page with DEBUG off, for an error raised while the connection's objects are in scope.
    from hub.admin import orders as hub_admin

    real_queryset = hub_admin.OrderRecordAdmin.get_queryset

    def explode(self, request):
        raise RuntimeError(f"admin crashed near {conn!r} {conn.warehouse!r} {real_queryset(self, request).first()!r}")

    settings.DEBUG = False
    monkeypatch.setattr(hub_admin.OrderRecordAdmin, "get_queryset", explode)
    crashing = Client(raise_request_exception=False)
    crashing.force_login(superuser)
    answer = crashing.get("/admin/hub/orderrecord/")
    assert answer.status_code == 500
    assert leaks(answer.content.decode()) == []
    error_logs = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records if r.levelno >= logging.ERROR)
    assert "admin crashed near" in error_logs
    assert leaks(error_logs) == []
