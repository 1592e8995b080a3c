"""hub.engine.eligibility: the one rule of "may this job run", and its filter form for the dispatcher."""

import datetime
import itertools

import pytest
from django.utils import timezone

from hub.engine import eligibility, schedule
from hub.models import Job, JobState
from tests.factories import OrderManagerConnectionFactory

VARIANTS = {
    "tenant_active": [True, False],
    "tenant_archived": [False, True],
    "activated": [True, False],
    "enabled": [True, False],
    "warehouse_name": ["Main 3PL", "", "   "],
    "om_warehouse_type": ["THIRD_PARTY_LOGISTICS", "DIRECT_FULFILLMENT", ""],
}


def make(job, tenant_active, tenant_archived, activated, enabled, warehouse_name, om_warehouse_type):
    switches = {
        **dict.fromkeys(eligibility.ENABLED_FIELDS.values(), False),
        eligibility.ENABLED_FIELDS[job]: enabled,
    }
    connection = OrderManagerConnectionFactory(
        warehouse_name=warehouse_name,
        om_warehouse_type=om_warehouse_type,
        activated_at=timezone.now() if activated else None,
        **switches,
    )
    tenant = connection.warehouse.tenant
    if not tenant_active:
        type(tenant).objects.filter(pk=tenant.pk).update(active=False)
        tenant.active = False
    if tenant_archived:
        tenant.archived_at = timezone.now()
        type(tenant).objects.filter(pk=tenant.pk).update(archived_at=tenant.archived_at)
    return connection


@pytest.mark.django_db
@pytest.mark.parametrize("job", list(Job))
def test_the_dispatchers_filter_and_the_rule_agree_on_every_combination(job):
    cases = [dict(zip(VARIANTS, values)) for values in itertools.product(*VARIANTS.values())]
    connections = [make(job, **case) for case in cases]
    states = {c.pk: JobState.objects.get_or_create(connection=c, job=job)[0] for c in connections}
    eligible = set(JobState.objects.filter(eligibility.schedulable_q(timezone.now())).values_list("pk", flat=True))
    for case, connection in zip(cases, connections):
        assert (states[connection.pk].pk in eligible) == eligibility.is_schedulable(connection, job), case


@pytest.mark.django_db
def test_a_direct_fulfillment_warehouse_gets_no_inventory_schedule_and_says_why():
    connection = OrderManagerConnectionFactory(inventory_sync_enabled=True, om_warehouse_type="DIRECT_FULFILLMENT")
    assert eligibility.blocked_reason(connection, Job.INVENTORY_SYNC) == eligibility.DIRECT_FULFILLMENT_REASON
    assert schedule.next_due(connection, Job.INVENTORY_SYNC, timezone.now()) is None
    assert eligibility.blocked_reason(connection, Job.ORDER_DOWNLOAD) == ""


@pytest.mark.django_db
def test_an_open_circuit_stops_scheduled_runs_but_not_the_rule_for_manual_ones():
    connection = OrderManagerConnectionFactory(paused_until=timezone.now() + datetime.timedelta(minutes=5))
    state, _ = JobState.objects.get_or_create(connection=connection, job=Job.ORDER_DOWNLOAD)
    assert not JobState.objects.filter(eligibility.schedulable_q(timezone.now()), pk=state.pk).exists()
    assert eligibility.blocked_reason(connection, Job.ORDER_DOWNLOAD) == ""
    later = timezone.now() + datetime.timedelta(minutes=6)
    assert JobState.objects.filter(eligibility.schedulable_q(later), pk=state.pk).exists()


@pytest.mark.django_db
def test_the_reasons_name_what_to_change():
    connection = OrderManagerConnectionFactory(order_download_enabled=False)
    assert (
        eligibility.blocked_reason(connection, Job.ORDER_DOWNLOAD)
        == "Order Download is turned off for this connection."
    )
    tenant = connection.warehouse.tenant
    tenant.active = False
    assert eligibility.blocked_reason(connection, Job.ORDER_DOWNLOAD) == f"Tenant “{tenant}” is inactive."


@pytest.mark.django_db
def test_an_archived_tenant_runs_nothing_and_says_so():
    connection = OrderManagerConnectionFactory()
    tenant = connection.warehouse.tenant
    tenant.archived_at = timezone.now()
    assert eligibility.blocked_reason(connection, Job.ORDER_DOWNLOAD) == (
        f"Tenant “{tenant}” is archived: its jobs never run (unarchive it first)."
    )
    assert schedule.next_due(connection, Job.ORDER_DOWNLOAD, timezone.now()) is None


@pytest.mark.django_db
@pytest.mark.parametrize("reconciliation", [True, False])
@pytest.mark.parametrize("order_download", [True, False])
def test_reconciliation_needs_its_own_switch_and_order_downloads(reconciliation, order_download):
    connection = OrderManagerConnectionFactory(
        reconciliation_enabled=reconciliation, order_download_enabled=order_download
    )
    state = JobState.objects.get_or_create(connection=connection, job=Job.RECONCILIATION)[0]
    reason = eligibility.blocked_reason(connection, Job.RECONCILIATION)
    if not reconciliation:
        assert reason == "Reconciliation is turned off for this connection."
    elif not order_download:
        assert reason == eligibility.RECONCILIATION_NEEDS_ORDER_DOWNLOAD
    else:
        assert reason == ""
    eligible = JobState.objects.filter(eligibility.schedulable_q(timezone.now()), pk=state.pk).exists()
    assert eligible == (reason == "")
    # Order Download's own eligibility does not depend on Reconciliation's switch.
    assert eligibility.is_schedulable(connection, Job.ORDER_DOWNLOAD) == order_download
