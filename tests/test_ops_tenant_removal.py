"""hub.ops.tenant_removal: which orders reached a WMS, and a run in progress, keep a tenant from deletion."""

import datetime

import pytest
from django.utils import timezone

from hub.jobs import reprocess
from hub.models import Job, JobState, OrderRecord
from hub.ops import tenant_removal
from tenants import removal
from tests import factories

pytestmark = pytest.mark.django_db

Status = OrderRecord.Status


def test_the_hub_registers_its_rule_with_the_tenants_app():
    assert any(records.refusal is tenant_removal.refusal for records in removal._OWNED_RECORDS)


@pytest.mark.parametrize(
    "fields",
    [
        {"status": Status.NEW},
        {"status": Status.SKIPPED},
        {"status": Status.ERROR, "error_permanent": True, "last_error": "unmapped ship method X"},
        {"status": Status.CANCELLED, "cancel_requested": True, "cancel_handled": True},
    ],
    ids=["new", "skipped", "held before any send", "cancelled before its send"],
)
def test_orders_that_never_reached_a_wms_do_not_keep_the_tenant(fields):
    record = factories.OrderRecordFactory(**fields)
    assert tenant_removal.refusal(record.connection.warehouse.tenant) == ""


def test_an_error_order_with_a_send_attempt_counts_as_sent_like_everywhere_else():
    # Re-processing refuses it as "already sent" for the same reason: the WMS may hold it.
    record = factories.OrderRecordFactory(status=Status.ERROR, attempts=1, last_error="read timed out")
    assert "already sent" in reprocess.refusal(record)
    assert "1 of its orders reached a WMS" in tenant_removal.refusal(record.connection.warehouse.tenant)


def test_the_refusal_names_a_few_orders_and_counts_the_rest():
    connection = factories.OrderManagerConnectionFactory(warehouse__tenant__name="Acme")
    for n in range(7):
        factories.OrderRecordFactory(
            connection=connection, order_number=f"SO-{n}", status=Status.CONFIRMED, wms_order_id=900 + n
        )
    factories.OrderRecordFactory(connection=connection, status=Status.NEW)
    reason = tenant_removal.refusal(connection.warehouse.tenant)
    assert reason.startswith("Tenant “Acme” cannot be deleted: 7 of its orders reached a WMS")
    assert "(SO-0, SO-1, SO-2, SO-3, SO-4 and 2 more)" in reason
    assert "Archive the tenant instead" in reason


def test_a_run_in_progress_keeps_the_tenant_until_it_ends():
    connection = factories.OrderManagerConnectionFactory()
    tenant = connection.warehouse.tenant
    state = JobState.objects.get(connection=connection, job=Job.ORDER_DOWNLOAD)
    JobState.objects.filter(pk=state.pk).update(
        lease_token="t", lease_expires_at=timezone.now() + datetime.timedelta(minutes=2)
    )
    assert "one of its jobs is running or queued" in tenant_removal.refusal(tenant)
    JobState.objects.filter(pk=state.pk).update(lease_expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert tenant_removal.refusal(tenant) == ""
