"""Keep JobState due times in step with the settings they come from.

Saving an OrderManagerConnection (its job switches, intervals, inventory time, warehouse name),
a Tenant (time zone, active, archived) or a Warehouse (its tenant) creates the connection's four
JobState rows if missing and recomputes their due times (`hub.engine.schedule`). This is what makes editing a
schedule in the admin the only place a schedule is set. Saves that name `update_fields` none of
which affect scheduling (e.g. "Test connection" storing its report) are ignored, as are raw saves
(loaddata).
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from hub.engine import schedule
from hub.engine.eligibility import ENABLED_FIELDS
from tenants.models import OrderManagerConnection, Tenant, Warehouse

CONNECTION_FIELDS = frozenset(
    {
        "warehouse",
        "warehouse_id",
        "warehouse_name",
        "inventory_time",
        "inventory_times_per_day",
        "reconciliation_time",
        "order_download_enabled",  # Reconciliation needs it on as well as its own switch
        "om_warehouse_type",
        "activated_at",
        *ENABLED_FIELDS.values(),
        *(fields[1] for fields in schedule.INTERVAL_FIELDS.values()),
    }
)
TENANT_FIELDS = frozenset({"time_zone", "active", "archived_at"})
WAREHOUSE_FIELDS = frozenset({"tenant", "tenant_id", "wms_system"})  # the system decides which jobs may run


def _affects(update_fields, fields: frozenset) -> bool:
    return update_fields is None or not fields.isdisjoint(update_fields)


def refresh(connection) -> None:
    """Create missing JobState rows of `connection` and recompute their due times."""
    schedule.ensure_job_states(connection)
    schedule.reschedule(connection)


def _connections_of(**lookup):
    return OrderManagerConnection.objects.filter(**lookup).select_related("warehouse__tenant")


@receiver(post_save, sender=OrderManagerConnection, dispatch_uid="hub.engine.schedule.connection_saved")
def connection_saved(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or not _affects(update_fields, CONNECTION_FIELDS):
        return
    refresh(instance)


@receiver(post_save, sender=Tenant, dispatch_uid="hub.engine.schedule.tenant_saved")
def tenant_saved(sender, instance, created=False, raw=False, update_fields=None, **kwargs):
    if raw or created or not _affects(update_fields, TENANT_FIELDS):
        return
    for connection in _connections_of(warehouse__tenant=instance):
        refresh(connection)


@receiver(post_save, sender=Warehouse, dispatch_uid="hub.engine.schedule.warehouse_saved")
def warehouse_saved(sender, instance, created=False, raw=False, update_fields=None, **kwargs):
    if raw or created or not _affects(update_fields, WAREHOUSE_FIELDS):
        return
    for connection in _connections_of(warehouse=instance):
        refresh(connection)
