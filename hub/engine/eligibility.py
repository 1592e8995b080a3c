"""May this job run for this connection: the one rule, read by the runner, the schedule, the
dispatcher, the admin and the alerts.

- `blocked_reason(connection, job) -> str`: why `job` cannot run for `connection` from its settings,
  "" when it can: the tenant is archived (`tenants.removal`) or inactive, the connection was never
  activated (or was deactivated) by an operator, the job is turned off on the connection, or the
  job's own requirement is not met (`requirement_reason`: the warehouse system lacks the job's
  capability, Inventory Sync without a usable warehouse, Reconciliation with Order Download off). Manual runs (Run now, `manage.py sync`)
  and scheduled runs are refused alike.
- `is_schedulable(connection, job)`: no blocked reason; the schedule gives such a job a due time.
- `schedulable_q(now)`: the same rule as a filter on JobState, for the dispatcher's one-UPDATE
  claim, plus the circuit breaker (`hub.engine.circuit`): a scheduled run also needs its
  connection's circuit closed, where an operator's manual run may go ahead to test a fix.
  `tests/test_eligibility.py` proves the filter and `blocked_reason` agree on every combination.
"""

from __future__ import annotations

import datetime

from django.db.models import Q
from django.utils import timezone

from connectors.wms import systems
from hub.engine import circuit
from hub.models import Job
from tenants.models import OrderManagerConnection

# The switch of each job on OrderManagerConnection.
ENABLED_FIELDS = {
    Job.ORDER_DOWNLOAD: "order_download_enabled",
    Job.CANCEL_DOWNLOAD: "cancel_download_enabled",
    Job.SHIPMENT_CONFIRMATION: "shipment_confirmation_enabled",
    Job.INVENTORY_SYNC: "inventory_sync_enabled",
    Job.RECONCILIATION: "reconciliation_enabled",
}
# Reconciliation compares what Order Download moved: with Order Download off, every order waiting in
# Order Manager would be reported missed, so it also needs Order Download's switch on.
RECONCILIATION_NEEDS_ORDER_DOWNLOAD = (
    "Reconciliation checks what Order Download moved, and Order Download is turned off for this connection."
)
NOT_ACTIVATED = (
    "This connection is not activated: run Test connection, read the pre-flight report, choose where to "
    "start from, then Activate it on the pre-flight page."
)
# What each job needs of the warehouse system (Integration Manager's destination capabilities),
# declared with the job's switch on the connection.
CAPABILITY = {job: OrderManagerConnection.JOB_SWITCHES[flag][0] for job, flag in ENABLED_FIELDS.items()}
# Order Manager warehouses whose stock lives in named stock locations (the hub writes to GLOBAL).
DIRECT_FULFILLMENT = "DIRECT_FULFILLMENT"
DIRECT_FULFILLMENT_REASON = (
    "The Order Manager warehouse is of type DIRECT_FULFILLMENT, whose stock needs a named stock location; "
    "the hub syncs 3PL-type warehouses (stock location GLOBAL)."
)


def supports(connection, job: str) -> bool:
    """Whether the warehouse system of `connection` declares the capability `job` needs."""
    return connection.wms_system.supports(CAPABILITY[Job(job)])


def requirement_reason(connection, job: str) -> str:
    """What the job itself needs of the connection's settings, "" when met."""
    if not supports(connection, job):
        system = connection.wms_system
        return f"{system.label} does not support {CAPABILITY[Job(job)].label}, which {Job(job).label} needs."
    if Job(job) == Job.RECONCILIATION and not connection.order_download_enabled:
        return RECONCILIATION_NEEDS_ORDER_DOWNLOAD
    if Job(job) == Job.INVENTORY_SYNC:
        if connection.inventory_sync_blocked_reason:
            return connection.inventory_sync_blocked_reason
        if connection.om_warehouse_type == DIRECT_FULFILLMENT:
            return DIRECT_FULFILLMENT_REASON
    return ""


def blocked_reason(connection, job: str) -> str:
    """Why `job` cannot run for `connection`, or "" when it can (see the module docstring)."""
    job = Job(job)
    if connection.warehouse.tenant.is_archived:
        return f"Tenant “{connection.warehouse.tenant}” is archived: its jobs never run (unarchive it first)."
    if not connection.warehouse.tenant.active:
        return f"Tenant “{connection.warehouse.tenant}” is inactive."
    if not connection.is_activated:
        return NOT_ACTIVATED
    if not getattr(connection, ENABLED_FIELDS[job]):
        return f"{job.label} is turned off for this connection."
    return requirement_reason(connection, job)


def is_schedulable(connection, job: str) -> bool:
    return not blocked_reason(connection, job)


def _requirement_q(job: Job) -> Q:
    """`requirement_reason(connection, job) == ""` as a filter on OrderManagerConnection."""
    supported = [key for key, system in systems.SYSTEMS.items() if system.supports(CAPABILITY[job])]
    q = Q(warehouse__wms_system__in=supported)
    if job == Job.RECONCILIATION:
        q &= Q(order_download_enabled=True)
    if job == Job.INVENTORY_SYNC:
        # A name with a non-blank character (inventory_sync_blocked_reason strips it), not DIRECT_FULFILLMENT.
        q &= Q(warehouse_name__regex=r"\S") & ~Q(om_warehouse_type=DIRECT_FULFILLMENT)
    return q


def schedulable_q(now: datetime.datetime | None = None) -> Q:
    """JobStates that may run on schedule now: `is_schedulable` and the connection's circuit closed."""
    usable = OrderManagerConnection.objects.filter(
        circuit.closed_q(now or timezone.now()),
        warehouse__tenant__active=True,
        warehouse__tenant__archived_at__isnull=True,
        activated_at__isnull=False,
    )
    q = Q(pk__in=[])
    for job, flag in ENABLED_FIELDS.items():
        connections = usable.filter(_requirement_q(job), **{flag: True})
        q |= Q(job=job, connection_id__in=connections.values("pk"))
    return q
