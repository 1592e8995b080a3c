"""Leases on (connection, job): one conditional UPDATE claims a run, so the same connection's job
never runs twice at once, whichever worker, cluster or command asks (SQLite and PostgreSQL alike).

A lease is a random token plus an expiry. Claiming succeeds only when no unexpired lease is held;
the holder renews or releases it with its token. An expired lease can be taken over: the worker
that held it is presumed dead (its `running` SyncRun is then closed as abandoned by the runner).

Two lengths (settings, in seconds):
- a queued claim (`QUEUED_LEASE`, the dispatcher's) covers the wait in the broker before a worker
  starts the task, so a busy queue never makes the next tick claim the same pair again;
- a running run holds a short lease (`RUN_LEASE`, 2 minutes) renewed by a `Heartbeat` every
  `HEARTBEAT_EVERY` (30 s) while it works: a killed holder (SIGKILL, OOM, lost host) frees the pair
  within `RUN_LEASE`, a slow live run is renewed for as long as it lives. A renewal is a conditional
  UPDATE on the token; when it matches no row the run has lost its lease (it was taken over after
  an expiry) and `Heartbeat.lost` tells the runner to start no new outside work.
"""

import datetime
import logging
import secrets
import threading

from django.conf import settings
from django.db import close_old_connections, connections
from django.db.models import Q
from django.utils import timezone

from hub.models import JobState

logger = logging.getLogger(__name__)

# Queue wait plus start-up: longer than a task waits in a busy broker, shorter than an operator waits.
QUEUED_LEASE = datetime.timedelta(seconds=settings.HUB_QUEUED_LEASE_SECONDS)
# A running run's lease: a dead holder frees the pair within this long.
RUN_LEASE = datetime.timedelta(seconds=settings.HUB_RUN_LEASE_SECONDS)
# Renewal period: four renewals per lease, so one slow or failed renewal never loses it.
HEARTBEAT_EVERY = settings.HUB_LEASE_HEARTBEAT_SECONDS
DEFAULT_LEASE = RUN_LEASE


def new_token() -> str:
    return secrets.token_hex(16)


def state_for(connection, job: str) -> JobState:
    state, _ = JobState.objects.get_or_create(connection=connection, job=job)
    return state


def free_q(now: datetime.datetime) -> Q:
    """Rows whose lease is free: never taken, released, or expired."""
    return Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)


def claim(connection, job: str, token: str, *, ttl: datetime.timedelta = DEFAULT_LEASE) -> bool:
    """Take the lease of (connection, job) for `token`; False when someone else holds it."""
    now = timezone.now()
    state_for(connection, job)
    updated = JobState.objects.filter(free_q(now), connection=connection, job=job).update(
        lease_token=token, lease_expires_at=now + ttl
    )
    return updated == 1


def holds(connection, job: str, token: str) -> bool:
    """True while `token` still holds an unexpired lease (checked before writing results)."""
    return JobState.objects.filter(
        connection=connection, job=job, lease_token=token, lease_expires_at__gte=timezone.now()
    ).exists()


def renew(connection, job: str, token: str, *, ttl: datetime.timedelta = DEFAULT_LEASE) -> bool:
    """Extend `token`'s lease by `ttl` from now; False when `token` no longer holds it."""
    now = timezone.now()
    return (
        JobState.objects.filter(connection=connection, job=job, lease_token=token).update(lease_expires_at=now + ttl)
        == 1
    )


def release(connection, job: str, token: str) -> bool:
    return (
        JobState.objects.filter(connection=connection, job=job, lease_token=token).update(
            lease_token="", lease_expires_at=None
        )
        == 1
    )


class Heartbeat:
    """Renew (connection, job)'s lease for `token` every `every` seconds from a daemon thread.

    The thread uses its own database connection (Django's connections are per thread) and closes
    it when it stops, so it works the same on SQLite and PostgreSQL and inside a django-q2 worker.
    A renewal that raises (database busy or briefly down) is logged and retried at the next beat: the
    lease outlives several missed beats. A renewal that matches no row means the lease was lost:
    `lost` is set and the thread stops. Use as a context manager around the run's body.
    """

    def __init__(
        self, connection, job: str, token: str, *, ttl: datetime.timedelta | None = None, every: float | None = None
    ):
        self.connection_id = getattr(connection, "pk", connection)
        self.job, self.token = job, token
        self.ttl = ttl or RUN_LEASE
        self.every = HEARTBEAT_EVERY if every is None else every
        self.lost = threading.Event()
        self.beats = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lease-{job}-{self.connection_id}", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=max(self.every, 5) + 5)
        return False

    def _loop(self) -> None:
        try:
            while not self._stop.wait(self.every):
                try:
                    renewed = renew(self.connection_id, self.job, self.token, ttl=self.ttl)
                except Exception:  # the database is busy or down: the lease still has time
                    logger.warning(
                        "could not renew the lease of %s on connection %s", self.job, self.connection_id, exc_info=True
                    )
                    close_old_connections()
                    continue
                self.beats += 1
                if not renewed:
                    logger.error(
                        "lost the lease of %s on connection %s; the run stops starting new work",
                        self.job,
                        self.connection_id,
                    )
                    self.lost.set()
                    return
        finally:
            connections.close_all()
