"""`manage.py sync JOB [--tenant SLUG] [--connection ID]`: prints each run's summary, fails loudly."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hub.engine import leases
from hub.models import Job, SyncRun
from tests import factories
from tests.sandbox_helpers import sandbox_tenant, status


def sync(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("sync", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db(transaction=True)
def test_orders_for_a_tenant_prints_the_summary(live_server):
    connection = sandbox_tenant(live_server, "cmd", orders=3, skus=3)
    other = factories.OrderManagerConnectionFactory()  # another tenant: not touched

    out, _ = sync("orders", "--tenant", "cmd")
    run = SyncRun.objects.get()
    assert (run.connection, run.job, run.trigger, run.status) == (
        connection,
        Job.ORDER_DOWNLOAD,
        SyncRun.Trigger.COMMAND,
        SyncRun.Status.SUCCEEDED,
    )
    assert out.strip() == run.summary()
    assert f"Order Download run #{run.pk} for Cmd / Sandbox 3PL → Sandbox WMS: succeeded; fetched 3, created 3" in out
    assert not SyncRun.objects.filter(connection=other).exists()
    assert status("cmd")["warehouse_manager"]["orders_total"] == 3


@pytest.mark.django_db(transaction=True)
def test_all_runs_the_five_jobs_in_order(live_server):
    connection = sandbox_tenant(live_server, "cmd", orders=2, skus=3)
    out, _ = sync("all", "--connection", str(connection.pk))
    runs = list(SyncRun.objects.order_by("pk"))
    assert [r.job for r in runs] == [
        Job.ORDER_DOWNLOAD,
        Job.CANCEL_DOWNLOAD,
        Job.SHIPMENT_CONFIRMATION,
        Job.INVENTORY_SYNC,
        Job.RECONCILIATION,
    ]
    assert all(r.status == SyncRun.Status.SUCCEEDED for r in runs), [r.error for r in runs]
    assert out.splitlines() == [line for r in runs for line in r.summary().splitlines()]


@pytest.mark.django_db
def test_a_failed_run_exits_non_zero_after_printing_it():
    connection = factories.OrderManagerConnectionFactory(order_download_enabled=False)  # refused: no outside call
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"1 run\(s\) failed or could not start"):
        call_command("sync", "orders", "--connection", str(connection.pk), stdout=out)
    run = SyncRun.objects.get()
    assert run.status == SyncRun.Status.FAILED
    assert "failed" in out.getvalue() and "Order Download is turned off for this connection." in out.getvalue()


@pytest.mark.django_db
def test_a_job_already_running_exits_non_zero():
    connection = factories.OrderManagerConnectionFactory()
    assert leases.claim(connection, Job.SHIPMENT_CONFIRMATION, "another-worker")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "sync", "shipments", "--tenant", connection.warehouse.tenant.slug, stderr=err, stdout=io.StringIO()
        )
    assert "Shipment Confirmation is already running" in err.getvalue()
    assert not SyncRun.objects.exists()


@pytest.mark.django_db
def test_no_matching_connection():
    with pytest.raises(CommandError, match="No Order Manager connection matches"):
        call_command("sync", "inventory", "--tenant", "nobody")


@pytest.mark.django_db
def test_unknown_job_is_refused():
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("sync", "everything")
