"""Build the connector clients of one connection, wired to a run's call recorder.

The only place where a connection's decrypted credentials meet a client. Jobs ask for
`order_manager(connection, recorder)` and `warehouse(connection, recorder)` (the client of whichever
system the tenant warehouse runs: 3PL Warehouse Manager or ShipHero); they never build HTTP
requests themselves.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from django.conf import settings

from connectors.errors import AuthenticationError, ConnectorError, TransientError
from connectors.order_manager.client import OrderManagerClient
from connectors.order_manager.wire_answers import throttle_rate
from connectors.transport import CallRecord
from connectors.warehouse_manager.client import WarehouseManagerClient
from connectors.warehouse_manager.system import SYSTEM as THREEPL_WAREHOUSE_MANAGER
from connectors.wms import systems
from connectors.wms.base import WarehouseClient
from tenants import wms_limits
from tenants.models.warehouse import SHIPHERO

logger = logging.getLogger(__name__)

# How many calls a run keeps in its audit log; counts keep going past it.
MAX_CALLS_KEPT = 200


@dataclass
class CallRecorder:
    """Counts every outside call of a run and keeps the first MAX_CALLS_KEPT (already redacted).

    Thread-safe: a run's WMS calls overlap, and every client of the run reports to one recorder
    from whichever thread made the call (``+=`` on an attribute is a read and a write, not atomic).
    """

    requests: int = 0
    rate_limited: int = 0
    calls: list[dict] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def __call__(self, record: CallRecord) -> None:
        entry = {
            "method": record.method,
            "path": record.path,
            "status": record.status,
            "ms": round(record.duration_ms, 1),
            **({"error": record.error} if record.error else {}),
        }
        with self._lock:
            self.requests += 1
            if record.status == 429:
                self.rate_limited += 1
            if len(self.calls) < MAX_CALLS_KEPT:
                self.calls.append(entry)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_lock", None)  # a lock does not pickle; a copy gets its own
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


def allow_private_addresses() -> bool:
    """Whether base URLs may reach private/loopback addresses: only with the sandbox (which lives
    on the hub's own host) or when HUB_ALLOW_PRIVATE_ADDRESSES says so explicitly."""
    return bool(getattr(settings, "HUB_ALLOW_PRIVATE_ADDRESSES", settings.SANDBOX_ENABLED))


def http_options(recorder: CallRecorder | None, overrides: dict | None = None) -> dict:
    return {
        "timeout": tuple(settings.HUB_HTTP_TIMEOUT),
        "on_call": recorder,
        "block_private_addresses": not allow_private_addresses(),
        **(overrides or {}),
    }


def order_manager(connection, recorder: CallRecorder | None = None, **overrides) -> OrderManagerClient:
    """`overrides` adjust the HTTP layer (e.g. `max_retries=1` for an interactive test)."""
    return OrderManagerClient(
        connection.base_url,
        access_token=str(connection.access_token or ""),
        **http_options(recorder, overrides),
    )


def warehouse(connection, recorder: CallRecorder | None = None, **overrides) -> WarehouseClient:
    """The client of the warehouse system the connection's tenant warehouse runs (`connectors.wms`)."""
    if connection.warehouse.wms_system == THREEPL_WAREHOUSE_MANAGER.key:
        return warehouse_manager(connection, recorder, **overrides)  # the 3PL seam tests stand in at
    return warehouse_for_warehouse(connection.warehouse, recorder, **overrides)


def warehouse_for_warehouse(warehouse, recorder: CallRecorder | None = None, **overrides) -> WarehouseClient:
    """The client of `warehouse`'s system, built from that system's credentials on the row."""
    system = systems.system_of(warehouse.wms_system)
    if system is THREEPL_WAREHOUSE_MANAGER:
        return warehouse_manager_for_warehouse(warehouse, recorder, **overrides)
    if system.key == SHIPHERO:
        return shiphero_for_warehouse(warehouse, recorder, **overrides)
    raise LookupError(f"No client is configured for the warehouse system {system.label}.")


def warehouse_manager(connection, recorder: CallRecorder | None = None, **overrides) -> WarehouseManagerClient:
    return warehouse_manager_for_warehouse(connection.warehouse, recorder, **overrides)


def wms_pool_size() -> int:
    """Connections the WMS client's pool keeps per host: at least as many as a run's calls overlap
    (HUB_WMS_CONCURRENCY_CAP), and never fewer than requests' default of 10."""
    return max(10, int(settings.HUB_WMS_CONCURRENCY_CAP))


def warehouse_manager_for_warehouse(
    warehouse, recorder: CallRecorder | None = None, **overrides
) -> WarehouseManagerClient:
    """The warehouse's WMS client; every call takes a slot of the WMS login's shared bucket
    (``tenants.wms_limits.limiter_for_warehouse``) first. ``overrides`` may replace ``limiter``."""
    overrides = {"limiter": wms_limits.limiter_for_warehouse(warehouse), "pool_maxsize": wms_pool_size(), **overrides}
    return WarehouseManagerClient(
        warehouse.wms_base_url,
        client_id=warehouse.client_id,
        client_secret=str(warehouse.client_secret or ""),
        user_login=warehouse.user_login,
        login_kind=warehouse.wms_login_kind,
        tpl_key=str(warehouse.tpl_key or ""),
        customer_id=warehouse.customer_id,
        facility_id=warehouse.facility_id,
        facility_time_zone=warehouse.facility_time_zone,
        **http_options(recorder, overrides),
    )


def shiphero_for_warehouse(warehouse, recorder: CallRecorder | None = None, **overrides):
    """The warehouse's ShipHero client, on the same shared bucket and pool size as any WMS client."""
    from connectors.shiphero.client import ShipHeroClient  # only a ShipHero warehouse needs the adapter loaded

    overrides = {"limiter": wms_limits.limiter_for_warehouse(warehouse), "pool_maxsize": wms_pool_size(), **overrides}
    return ShipHeroClient(
        warehouse.wms_base_url,
        refresh_token=str(warehouse.shiphero_refresh_token or ""),
        warehouse_id=warehouse.shiphero_warehouse_id,
        customer_account_id=warehouse.shiphero_customer_account_id,
        **http_options(recorder, overrides),
    )


def apply_throttle_limits(client) -> float | None:
    """Pace `client` (an OrderManagerClient) at the rate its account's throttle limits publish
    (`connectors.order_manager.wire_answers.throttle_rate`), so a run stays under the quota instead of
    hammering and backing off on 429; returns the rate set.

    Costs one `GET /v1/throttlelimits` at the start of a run. Limits the service does not offer or
    answers badly (404, 4xx, malformed) leave the client unpaced: 429 answers are still honoured by
    the HTTP layer. Rejected credentials and transient failures (unreachable, 5xx, 429) raise, as
    the run's first call would: no second failed sign-in, no second round of timeouts.
    """
    if not isinstance(client, OrderManagerClient):
        return None  # a stand-in client (tests) has no limits to read
    try:
        rate = throttle_rate(client.throttle_limits())
    except (AuthenticationError, TransientError):
        raise
    except ConnectorError as exc:
        logger.info("throttle limits not read (%s); the run is paced by 429 answers only", exc)
        return None
    if rate:
        client.http.set_rate(rate)
    return rate
