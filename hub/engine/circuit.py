"""Per-connection circuit breaker.

- Credentials rejected (`AuthenticationError` from Order Manager or the WMS): the connection stops
  (`credentials_rejected_at`); a wrong password retried every few minutes could lock the tenant's
  account. It resumes when its credentials are changed or "Test connection" succeeds
  (`OrderManagerConnection.clear_circuit`, which the tenants app calls).
- Repeated temporary failures (network, 5xx, 429): after `THRESHOLD` failed runs in a row of the
  same job the connection pauses with a growing cool-off (`paused_until`), so a down service is
  not hammered; it resumes by itself when the cool-off ends, and a successful run closes it.
The dispatcher skips paused connections (`closed_q`, in `hub.engine.dispatcher.eligible_q`); manual
runs are allowed.
"""

from __future__ import annotations

import datetime

from django.db.models import Q
from django.utils import timezone

from connectors.errors import AuthenticationError, ConnectorError
from tenants.models import OrderManagerConnection

THRESHOLD = 3
BASE_COOL_OFF = datetime.timedelta(minutes=5)
MAX_COOL_OFF = datetime.timedelta(hours=1)


def cool_off(consecutive_failures: int) -> datetime.timedelta:
    # Capped exponent: timedelta overflows long before a connection fails 50 times in a row.
    return min(MAX_COOL_OFF, BASE_COOL_OFF * 2 ** min(10, max(0, consecutive_failures - THRESHOLD)))


def record_outcome(
    connection, error: BaseException | None, consecutive_failures: int, *, succeeded: bool | None = None
) -> None:
    """Open, extend or close the circuit after a run (`consecutive_failures` of this job, this run included).

    `succeeded` defaults to "no error"; a run refused for its settings passes False with no error."""
    if succeeded is None:
        succeeded = error is None
    now = timezone.now()
    if isinstance(error, AuthenticationError):
        reason = f"Credentials rejected: {error}. Fix them on the connection, then use “Test connection”."
        OrderManagerConnection.objects.filter(pk=connection.pk).update(credentials_rejected_at=now, pause_reason=reason)
        connection.credentials_rejected_at, connection.pause_reason = now, reason
    elif isinstance(error, ConnectorError) and error.transient and consecutive_failures >= THRESHOLD:
        until = now + cool_off(consecutive_failures)
        reason = f"{consecutive_failures} failed runs in a row ({error}); paused until {until:%Y-%m-%d %H:%M} UTC."
        OrderManagerConnection.objects.filter(pk=connection.pk).update(paused_until=until, pause_reason=reason)
        connection.paused_until, connection.pause_reason = until, reason
    elif succeeded and connection.paused_until is not None:
        OrderManagerConnection.objects.filter(pk=connection.pk).update(paused_until=None, pause_reason="")
        connection.paused_until, connection.pause_reason = None, ""


def is_open(connection, now=None) -> bool:
    now = now or timezone.now()
    return connection.credentials_rejected_at is not None or (
        connection.paused_until is not None and connection.paused_until > now
    )


def closed_q(now, prefix: str = "") -> Q:
    """Connections whose circuit is closed (schedulable), as a filter on OrderManagerConnection (or via `prefix`)."""
    return Q(**{f"{prefix}credentials_rejected_at__isnull": True}) & (
        Q(**{f"{prefix}paused_until__isnull": True}) | Q(**{f"{prefix}paused_until__lte": now})
    )
