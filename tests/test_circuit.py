"""The per-connection circuit breaker: credentials rejected stop a connection, repeated temporary
failures pause it with a cool-off, the dispatcher skips it, and fixing it resumes."""

import datetime

import pytest
from django.utils import timezone

from connectors.errors import AuthenticationError, NetworkError
from hub.engine import circuit, dispatcher
from hub.models import Job, JobState
from tests.factories import OrderManagerConnectionFactory


@pytest.fixture
def conn(db):
    connection = OrderManagerConnectionFactory()
    JobState.objects.filter(connection=connection).update(next_due_at=timezone.now() - datetime.timedelta(minutes=1))
    return connection


def due_jobs(connection):
    return {job for cid, job, _ in dispatcher.claim_due(timezone.now()) if cid == connection.pk}


def test_rejected_credentials_stop_the_connection_until_cleared(conn):
    circuit.record_outcome(conn, AuthenticationError("Order Manager rejected the username or password"), 1)
    conn.refresh_from_db()
    assert conn.credentials_rejected_at is not None
    assert "Credentials rejected" in conn.pause_reason
    assert circuit.is_open(conn)
    assert due_jobs(conn) == set()
    conn.clear_circuit()
    conn.refresh_from_db()
    assert not circuit.is_open(conn)
    assert due_jobs(conn) == set(Job)


def test_transient_failures_pause_after_the_threshold_with_a_growing_cool_off(conn):
    circuit.record_outcome(conn, NetworkError("unreachable"), circuit.THRESHOLD - 1)
    conn.refresh_from_db()
    assert conn.paused_until is None
    circuit.record_outcome(conn, NetworkError("unreachable"), circuit.THRESHOLD)
    conn.refresh_from_db()
    first = conn.paused_until - timezone.now()
    assert datetime.timedelta(minutes=4) < first <= circuit.BASE_COOL_OFF
    assert due_jobs(conn) == set()
    assert circuit.cool_off(circuit.THRESHOLD + 2) == circuit.BASE_COOL_OFF * 4
    assert circuit.cool_off(50) == circuit.MAX_COOL_OFF


def test_pause_expires_by_itself_and_success_closes_it(conn, time_machine):
    circuit.record_outcome(conn, NetworkError("down"), circuit.THRESHOLD)
    time_machine.move_to(timezone.now() + circuit.BASE_COOL_OFF + datetime.timedelta(seconds=1))
    conn.refresh_from_db()
    assert not circuit.is_open(conn)
    assert Job.ORDER_DOWNLOAD in due_jobs(conn)
    circuit.record_outcome(conn, None, 0)
    conn.refresh_from_db()
    assert conn.paused_until is None and conn.pause_reason == ""


def test_changing_credentials_in_the_admin_resumes_the_connection(conn, admin_client_for, superuser):
    circuit.record_outcome(conn, AuthenticationError("rejected"), 1)
    client = admin_client_for(superuser)
    page = client.get(f"/admin/tenants/ordermanagerconnection/{conn.pk}/change/")
    assert b"stopped: credentials rejected" in page.content
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update({"warehouse": conn.warehouse_id, "access_token": "a-new-password", "inventory_time": "23:00"})
    for name in (
        "order_download_enabled",
        "cancel_download_enabled",
        "shipment_confirmation_enabled",
        "inventory_sync_enabled",
    ):
        data[name] = "on" if form.initial.get(name) else ""
    data = {k: v for k, v in data.items() if v != ""}
    response = client.post(f"/admin/tenants/ordermanagerconnection/{conn.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    conn.refresh_from_db()
    assert conn.credentials_rejected_at is None
    assert str(conn.access_token) == "a-new-password"


def test_a_run_rejected_for_credentials_opens_the_circuit(conn, monkeypatch):
    from hub.engine import runner
    from hub.jobs import order_download

    def refuse(ctx):
        raise AuthenticationError("Order Manager rejected the username or password")

    monkeypatch.setattr(order_download, "sync", refuse)
    run = runner.run_job(conn, Job.ORDER_DOWNLOAD)
    assert run.status == "failed" and "fix the credentials" in run.error
    conn.refresh_from_db()
    assert conn.credentials_rejected_at is not None


def test_three_transient_failed_runs_pause_the_connection(conn, monkeypatch):
    from hub.engine import runner
    from hub.jobs import order_download

    monkeypatch.setattr(order_download, "sync", lambda ctx: (_ for _ in ()).throw(NetworkError("WMS unreachable")))
    for _ in range(circuit.THRESHOLD):
        runner.run_job(conn, Job.ORDER_DOWNLOAD)
    conn.refresh_from_db()
    assert conn.paused_until is not None and "3 failed runs in a row" in conn.pause_reason
