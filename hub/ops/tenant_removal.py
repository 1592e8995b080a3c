"""What the hub's records say about deleting a tenant (`tenants.removal`; registered in `hub.apps`).

A tenant may be deleted only when none of its orders ever reached a WMS. An order *reached a WMS*
(`REACHED_WMS`) when its `OrderRecord` has

- a `wms_order_id`: the WMS answered the create with its order id, or the order was found there and
  linked (statuses at_wms, shipped, confirmed, and a cancel sent or too late after that), or
- `attempts` above 0: a send was made, and its outcome may be unknown (the run stopped between
  counting the attempt and writing the answer, or the answer was garbled): the WMS may hold the
  order. The hub treats such an order as possibly at the WMS everywhere (it is looked up there
  before any resend or cancel; `hub.jobs.reprocess.refusal` calls it "already sent").

Deleting such a record would lose that memory: the order, downloaded again after a new onboarding,
would be sent, and shipped, a second time. Orders new, skipped, held in error before any send, or
cancelled before their send never reached a WMS and go with the tenant.

A run in progress (an unexpired lease on one of the tenant's job states) refuses too: it may be
sending at this moment. Both are read with the job states locked (SELECT ... FOR UPDATE on
PostgreSQL; SQLite's IMMEDIATE transactions serialise every writer), so no run can claim a job or
count a send between the check and the deletion.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from hub.engine import leases
from hub.models import JobState, OrderRecord
from tenants.removal import OwnedRecords, register_owned_records

REACHED_WMS = Q(wms_order_id__isnull=False) | Q(attempts__gt=0)
NAMED = 5  # orders named in the refusal


def orders_of(tenant):
    return OrderRecord.objects.filter(connection__warehouse__tenant=tenant)


def refusal(tenant) -> str:
    """Why `tenant` must be archived rather than deleted, "" when it may be deleted (see the docstring)."""
    states = JobState.objects.filter(connection__warehouse__tenant=tenant)
    list(states.select_for_update(of=("self",)).values_list("pk", flat=True))
    if states.exclude(leases.free_q(timezone.now())).exists():
        return (
            f"Tenant “{tenant}” cannot be deleted now: one of its jobs is running or queued, and it may be "
            "sending orders. Deactivate its connections (or archive the tenant), wait a minute, and try again."
        )
    sent = orders_of(tenant).filter(REACHED_WMS)
    count = sent.count()
    if not count:
        return ""
    numbers = list(sent.order_by("pk").values_list("order_number", flat=True)[:NAMED])
    more = f" and {count - len(numbers)} more" if count > len(numbers) else ""
    return (
        f"Tenant “{tenant}” cannot be deleted: {count} of its orders reached a WMS ({', '.join(numbers)}{more}). "
        "Their records are what keeps those orders from being downloaded and sent to the warehouse again. "
        "Archive the tenant instead: its records are kept, its jobs stop, and it leaves the lists, the "
        "dashboard and the metrics."
    )


def register() -> None:
    register_owned_records(OwnedRecords(refusal=refusal, protected=orders_of))
