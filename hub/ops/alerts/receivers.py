"""The alerts' receiver of the runner's `run_finished` signal (hub.engine.signals).

Imported by `HubConfig.ready` for the connection it makes. After every run, `after_run(connection)`
re-evaluates the run's connection (hub.ops.alerts.lifecycle) and, for a tenant whose alert
frequency is "immediate", sends its due alerts at once (hub.ops.alerts.sending). It never raises:
an alerting problem must not fail or retry the run; it is logged.
"""

from __future__ import annotations

import logging

from django.dispatch import receiver

from hub.engine.signals import run_finished
from hub.ops.alerts import lifecycle, sending
from tenants.models import AlertFrequency

logger = logging.getLogger(__name__)


@receiver(run_finished, dispatch_uid="hub.ops.alerts.after_run")
def on_run_finished(sender, connection, run, **kwargs) -> None:
    """The runner's `run_finished` signal: re-evaluate the run's connection."""
    after_run(connection)


def after_run(connection) -> None:
    """Re-evaluate `connection` after a run and, for an "immediate" tenant, send at once. Never raises."""
    try:
        lifecycle.evaluate(connection)
        tenant = connection.warehouse.tenant
        if tenant.alert_frequency == AlertFrequency.IMMEDIATE:
            sending.send_due(tenant_ids=[tenant.pk])
    except Exception:
        logger.exception("alert evaluation after the run failed")
