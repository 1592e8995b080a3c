"""What a job's body gets from the runner: `RunContext`, and `JobRefused` for a body that must not go on.

`RunContext` declares everything a run carries, so a job reads its inputs here instead of adding
attributes on the fly:
- the connection, its `SyncRun` row, the run's start (`now`) and its window (`window_from`, None
  on a first run with no "start from", to `window_to`);
- the clients, opened on first use and closed by the runner: `order_manager` (paced by Order
  Manager's published throttle limits) and `warehouse`, the `connectors.wms` client of the
  warehouse's system (`wms_system`); every call they make is counted by `recorder` for the run's row;
- `rules`: the connection's mappings and rules, loaded once per run on first use;
- what the body leaves for the runner: `new_watermark` (None keeps the old one), `errors` (run-level
  problems, first 20), `unmapped_methods` (ship methods seen without a mapping);
- the stop signals: `out_of_time()` once the time budget (`HUB_RUN_TIME_BUDGET_SECONDS`) is used or
  the lease was lost (`heartbeat`, hub.engine.leases.Heartbeat).
"""

from __future__ import annotations

import datetime
import logging
import time
from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings

from connectors.redaction import excerpt, redact
from connectors.wms import systems
from connectors.wms.base import WarehouseClient, WmsSystem
from hub.mapping.rules import Rules
from hub.models import OrderEvent, OrderRecord, SyncRun
from tenants import clients

logger = logging.getLogger("hub.engine.runner")
MAX_RUN_ERRORS = 20


def wms_system_of(connection) -> WmsSystem:
    """The warehouse system the connection's tenant warehouse runs."""
    return systems.system_of(connection.warehouse.wms_system)


class JobRefused(Exception):
    """Raised by a job's body when the connection's settings do not allow it to run; the message says why."""


@dataclass
class RunContext:
    """One run of one job for one connection (see the module docstring)."""

    connection: object
    run: SyncRun
    now: datetime.datetime
    window_from: datetime.datetime | None
    window_to: datetime.datetime
    recorder: clients.CallRecorder = field(default_factory=clients.CallRecorder)
    new_watermark: datetime.datetime | None = None
    errors: list[str] = field(default_factory=list)
    # Ship methods seen without a mapping: normalised key -> the method as the order carried it.
    unmapped_methods: dict[str, str] = field(default_factory=dict)
    # time.monotonic(), not the wall clock: unaffected by clock changes (or tests moving time).
    deadline: float = field(default_factory=lambda: time.monotonic() + settings.HUB_RUN_TIME_BUDGET)
    # The lease renewer (hub.engine.leases.Heartbeat); its `lost` flag ends the run like the time budget.
    heartbeat: object = None

    @cached_property
    def order_manager(self):
        client = clients.order_manager(self.connection, self.recorder)
        # Paced from the published throttle limits: under a quota, waiting beats a 429.
        clients.apply_throttle_limits(client)
        return client

    @cached_property
    def warehouse(self) -> WarehouseClient:
        """The warehouse's client, of the system its tenant warehouse runs (`connectors.wms`)."""
        return clients.warehouse(self.connection, self.recorder)

    @property
    def wms_system(self) -> WmsSystem:
        return wms_system_of(self.connection)

    @cached_property
    def rules(self) -> Rules:
        return Rules.for_connection(self.connection)

    @property
    def log(self) -> logging.LoggerAdapter:
        return logging.LoggerAdapter(
            logger,
            {
                "tenant": self.connection.warehouse.tenant.slug,
                "connection": self.connection.pk,
                "job": self.run.job,
                "run": self.run.pk,
            },
        )

    def event(self, order: OrderRecord, kind: str, message: str = "", *, sent=None, received=None) -> OrderEvent:
        """Append one step to an order's timeline (payloads redacted and capped)."""
        return OrderEvent.objects.create(
            order=order,
            run=self.run,
            kind=kind,
            message=message[:4000],
            sent=redact(sent) if sent is not None else None,
            received=redact(received) if received is not None else None,
        )

    def close(self) -> None:
        """Close the clients this run opened (their pooled connections), if any."""
        for name in ("order_manager", "warehouse"):
            close = getattr(self.__dict__.get(name), "close", None)
            if close is not None:
                close()

    def out_of_time(self) -> bool:
        """Whether the run must start no new outside work: its time budget is used up, or it lost its
        lease (another run took the pair over), and leaves the rest to the next run."""
        if self.lease_lost():
            return True
        return time.monotonic() >= self.deadline

    def lease_lost(self) -> bool:
        return self.heartbeat is not None and self.heartbeat.lost.is_set()

    def note_budget_stop(self, left: int, what: str) -> None:
        """Record on the run that it stopped at its time budget with `left` `what` still to do."""
        if self.lease_lost():
            self.note_error(
                f"Stopped with {left} {what} still to do: this run lost its lease (its renewals failed "
                "and another run took over); that run continues."
            )
            return
        self.note_error(
            f"Stopped after {settings.HUB_RUN_TIME_BUDGET} s (the run's time budget) with {left} {what} "
            "still to do; the next run continues."
        )

    def note_error(self, text: str) -> None:
        """Keep a run-level problem for the run's error summary (first MAX_RUN_ERRORS kept)."""
        if len(self.errors) < MAX_RUN_ERRORS:
            self.errors.append(excerpt(text, 500))
