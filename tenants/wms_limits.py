"""The shared request budget of one WMS account, held across threads, worker processes and clusters.

Several tenants or warehouses may sign in to the WMS with one login, and the WMS (3PL Warehouse
Manager publishes no limit: docs/wire-protocols.md, WMS rate limits) sees them as one caller. So
every call the hub makes with that login, from any thread, worker or cluster, draws on one bucket
of pyrate-limiter (a maintained limiter; the in-process ``connectors.transport.pacing`` is for
Order Manager's published throttle and stays as it is).

Contract:
- ``account_key(base_url, *identity, system=...)``: the bucket's name, a SHA-256 of the system's
  key, the base URL's host and port and the login's identity, so two systems never share a bucket.
  ``account_key_of(warehouse)`` gives the identity per system: 3PL Warehouse Manager's client id and
  user login; ShipHero's refresh token (ShipHero counts credits per account and names no account
  before a call; the token is the account as the hub knows it) and the customer account acted for.
  Never a secret, never the login in clear: only the digest is stored.
- ``account_rate(warehouse)``: the lowest ``Warehouse.wms_requests_per_second`` among the
  warehouses signing in with that login (why the lowest: see the function).
- ``window_rate(rps)``: the pyrate-limiter ``Rate`` for ``rps`` calls a second: at most
  ``max(1, floor(rps))`` calls in any sliding window of that many calls' worth of time (about one
  second; 2 s for 0.5/s). The same sliding-window log on every backend, so the limit means the
  same wherever the hub runs.
- ``limiter_for_warehouse(warehouse)`` (what ``tenants.clients`` passes to the WMS client):
  the process's ``AccountLimiter`` of the warehouse's login, at the current lowest rate.
  ``AccountLimiter.acquire()`` returns the seconds it waited once one call may start; it raises
  ``RateLimitWaitTooLong`` (a ``TransientError``: the call is retried next run) rather than wait
  more than ``settings.HUB_WMS_RATE_MAX_WAIT_SECONDS``, and ``RateLimitStoreUnavailable`` (also
  transient) when the bucket's store fails: never does a failing store let calls through unlimited.
- The store (``current_store()``), read from the settings when a limiter is built:
  Redis at ``settings.REDIS_URL`` when it is set (the scale-out deployment, whose clusters share
  it); else a table per account in the hub's own database when that is PostgreSQL (pyrate-limiter's
  PostgresBucket over a psycopg_pool pool); else a SQLite file beside the SQLite database
  (``settings.HUB_WMS_LIMITS_SQLITE_PATH`` overrides; a file lock makes it hold across the
  processes of the one host a SQLite deployment runs on).
- ``close_limiters()``: closes every limiter and pool of this process (tests, shutdown).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connections
from pyrate_limiter import (
    Limiter,
    PostgresBucket,
    Rate,
    RedisBucket,
    SingleBucketFactory,
    SQLiteBucket,
    SQLiteClock,
)

from connectors.errors import PermanentError, TransientError

__all__ = [
    "AccountLimiter",
    "RateLimitStoreUnavailable",
    "RateLimitWaitTooLong",
    "Store",
    "account_key",
    "account_key_of",
    "account_rate",
    "close_limiters",
    "current_store",
    "limiter_for_warehouse",
    "window_rate",
]

logger = logging.getLogger(__name__)

# Extra milliseconds pyrate-limiter sleeps past a computed wait before asking again: enough to absorb
# a scheduler's lateness, small against a window of about a second (it is also its poll step when a
# PostgreSQL bucket is locked by another writer).
BUFFER_MS = 10
# Old entries are deleted inline, at most this often per limiter, instead of by one pyrate-limiter
# Leaker thread per bucket (a hub with hundreds of WMS logins would run hundreds of threads).
LEAK_EVERY_SECONDS = 10.0
# Every store call has a bound of its own, so a store that hangs fails instead of hanging a worker.
STORE_TIMEOUT_SECONDS = 5.0


class RateLimitWaitTooLong(TransientError):
    """A call would have waited longer than HUB_WMS_RATE_MAX_WAIT_SECONDS for the account's bucket."""


class RateLimitStoreUnavailable(TransientError):
    """The store holding the account's bucket (Redis, the database, the SQLite file) failed."""


# -- the account: key and rate ----------------------------------------------------------------
def _host(base_url: str) -> str:
    parts = urlsplit(base_url or "")
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


THREEPL_SYSTEM = "3pl_warehouse_manager"


def account_key(base_url: str, *identity: str, system: str = THREEPL_SYSTEM) -> str:
    """The bucket name of one WMS login of ``system``: a hash, so no login detail is readable in the store."""
    material = "\x1f".join((system, _host(base_url), *((part or "").strip() for part in identity)))
    return "wms_" + hashlib.sha256(material.encode()).hexdigest()[:32]


def _identity(warehouse) -> tuple[str, ...]:
    """What names the WMS login of ``warehouse`` within its system (see the module docstring)."""
    if warehouse.wms_system == THREEPL_SYSTEM:
        return (warehouse.client_id, warehouse.user_login)
    if warehouse.wms_system == "shiphero":
        return (str(warehouse.shiphero_refresh_token or ""), warehouse.shiphero_customer_account_id)
    raise LookupError(f"No WMS login is defined for the warehouse system {warehouse.wms_system!r}")


def account_key_of(warehouse) -> str:
    return account_key(warehouse.wms_base_url, *_identity(warehouse), system=warehouse.wms_system)


def account_rate(warehouse) -> float:
    """The lowest requests-per-second among the warehouses signing in with ``warehouse``'s login.

    The lowest, not the sum, the highest or this warehouse's own: the WMS counts calls per login, so
    the limit is a property of the login, and any warehouse's setting may be the one the 3PL gave for
    it. Taking the lowest keeps every warehouse's promise at once; a higher one alone would break
    the others' (and a sum would multiply the login's budget by the number of warehouses).
    """
    from tenants.models import Warehouse  # the model module imports nothing of this one; no cycle

    key = account_key_of(warehouse)
    sharing = Warehouse.objects.filter(wms_system=warehouse.wms_system).exclude(pk=warehouse.pk)
    if warehouse.wms_system == THREEPL_SYSTEM:  # narrowed in SQL; a ShipHero token is encrypted, so compared here
        sharing = sharing.filter(client_id=warehouse.client_id, user_login=warehouse.user_login)
    rates = [w.wms_requests_per_second for w in sharing if account_key_of(w) == key]
    rates.append(warehouse.wms_requests_per_second)  # as edited, even before it is saved
    return min(float(r) for r in rates)


def window_rate(requests_per_second: float) -> Rate:
    """``rps`` as a sliding-window Rate: ``max(1, floor(rps))`` calls per ``calls / rps`` seconds,
    the window rounded up to the millisecond (never faster than asked)."""
    try:
        rps = float(requests_per_second)
    except (TypeError, ValueError):
        rps = math.nan
    if not math.isfinite(rps) or rps <= 0:
        raise PermanentError(f"WMS requests per second must be a positive number (got {requests_per_second!r})")
    calls = max(1, math.floor(rps))
    return Rate(calls, math.ceil(calls * 1000 / rps))


# -- the stores -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Store:
    """Where the buckets live: ``kind`` is redis, postgres or sqlite; ``location`` names it without
    a secret (shown in errors); ``target`` is what connects (a URL, a path, Django's alias)."""

    kind: str
    location: str
    target: str

    def bucket(self, key: str, rate: Rate):
        if self.kind == "redis":
            client = _shared("redis", self.target, lambda: _redis_client(self.target))
            return _ServerClockRedisBucket.init([rate], client, f"hub:wms-rate:{key}")
        if self.kind == "postgres":
            pool = _shared("postgres", self.target, lambda: _postgres_pool(self.target))
            return _SharedPoolPostgresBucket(pool, key, [rate])
        return _SQLiteBucket.init_from_file([rate], table=key, db_path=self.target, use_file_lock=True)


def current_store() -> Store:
    """The store the settings choose now (see the module docstring)."""
    redis_url = getattr(settings, "REDIS_URL", "")
    if redis_url:
        parts = urlsplit(redis_url)
        return Store("redis", f"Redis at {parts.hostname}:{parts.port or 6379}{parts.path}", redis_url)
    database = connections["default"].settings_dict
    if database["ENGINE"] == "django.db.backends.postgresql":
        return Store("postgres", f"PostgreSQL database {database['NAME']}", "default")
    path = getattr(settings, "HUB_WMS_LIMITS_SQLITE_PATH", "") or _beside_sqlite_database(str(database["NAME"]))
    return Store("sqlite", f"SQLite file {path}", path)


def _beside_sqlite_database(name: str) -> str:
    if name == ":memory:" or "mode=memory" in name or not name:
        # An in-memory database (the test suite) is private to its process, and so is this file.
        return os.path.join(tempfile.gettempdir(), f"hub-wms-limits-{os.getpid()}.sqlite3")
    return f"{name}-wms-limits"


class _StampedAtPut:
    """Stamps each entry with the store's clock when it is written, not when the caller began.

    pyrate-limiter's Limiter stamps an item once, then adds the milliseconds it meant to sleep before
    each retry: the time spent waiting for the lock (other threads' and processes' writes) and any
    oversleep are not counted, so an entry could be written as older than it is and leave the window
    early. Stamped when written (under the store's lock for SQLite), an entry is as old as it is.
    """

    def put(self, item):
        item.timestamp = self.now()
        return super().put(item)


class _SQLiteBucket(_StampedAtPut, SQLiteBucket):
    """SQLiteBucket on SQLite's own clock (the host's, read in C: the query of pyrate-limiter's
    SQLiteClock), shared by the processes of the host. Not Python's ``time``: tests travel it
    (time-machine), and entries stamped in a travelled future filled the bucket for real time."""

    def now(self) -> int:
        with self.lock:
            cursor = self.conn.execute(SQLiteClock.time_query)
            (now,) = cursor.fetchone()
            cursor.close()
        return int(now)


class _ServerClockRedisBucket(_StampedAtPut, RedisBucket):
    """RedisBucket on Redis's clock (``TIME``) instead of each host's: clusters on several hosts
    compare timestamps in one sorted set, and a host whose clock ran ahead would write entries the
    others' windows do not yet count. pyrate-limiter's own source marks this as a TODO."""

    def now(self) -> int:
        seconds, microseconds = self.redis.time()
        return int(seconds) * 1000 + int(microseconds) // 1000


class _SharedPoolPostgresBucket(_StampedAtPut, PostgresBucket):
    """PostgresBucket (on the database's clock) whose ``close()`` leaves the process's pool open for
    the other accounts."""

    def close(self) -> None:
        pass


def _redis_client(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=STORE_TIMEOUT_SECONDS, socket_connect_timeout=STORE_TIMEOUT_SECONDS)


def _postgres_pool(alias: str):
    from psycopg_pool import ConnectionPool

    params = connections[alias].get_connection_params()
    for django_only in ("cursor_factory", "context"):
        params.pop(django_only, None)
    # Buckets store TIMESTAMP without zone: every hub process must convert in the same zone.
    params["options"] = f"{params.get('options', '')} -c TimeZone=UTC".strip()
    params["connect_timeout"] = int(STORE_TIMEOUT_SECONDS)
    # One connection per overlapping call at most; none kept open while the hub makes no WMS call.
    return ConnectionPool(
        kwargs=params,
        min_size=0,
        max_size=max(1, int(settings.HUB_WMS_CONCURRENCY_CAP)),
        timeout=STORE_TIMEOUT_SECONDS,
        max_idle=60,
        name="hub-wms-limits",
        open=True,
    )


_shared_lock = threading.Lock()
_shared_resources: dict[tuple[str, str], object] = {}


def _shared(kind: str, target: str, build):
    with _shared_lock:
        resource = _shared_resources.get((kind, target))
        if resource is None:
            resource = _shared_resources[(kind, target)] = build()
        return resource


# -- the limiter ------------------------------------------------------------------------------
class AccountLimiter:
    """One WMS account's bucket as seen by this process; thread-safe; ``acquire()`` per call.

    The bucket object is built on first use and rebuilt after a store failure (a restarted Redis
    has lost the bucket's script, a PostgreSQL connection may be gone), so a failure costs the
    calls made while it lasts, not the process's limiter for good.
    """

    def __init__(self, key: str, requests_per_second: float, store: Store, *, max_wait: float) -> None:
        self.key = key
        self.store = store
        self.max_wait = float(max_wait)
        self._lock = threading.Lock()
        self._limiter: Limiter | None = None
        self._next_leak = 0.0
        self.set_rate(requests_per_second)

    def set_rate(self, requests_per_second: float) -> None:
        rate = window_rate(requests_per_second)
        with self._lock:
            self.requests_per_second = float(requests_per_second)
            if self._limiter is not None and repr(self.rate) != repr(rate):
                self._drop()  # rebuilt at the new rate on the next acquire; the stored entries stay
            self.rate = rate

    def acquire(self) -> float:
        """Wait for one call's slot; the seconds waited. Raises RateLimitWaitTooLong or
        RateLimitStoreUnavailable (both transient) instead of waiting unbounded or unlimited."""
        started = time.monotonic()
        try:
            limiter = self._current()
            admitted = limiter.try_acquire(self.key, timeout=self.max_wait)
            if admitted:
                self._leak_if_due(limiter)
        except Exception as exc:  # any failure of the store: loud and transient, never unlimited
            with self._lock:
                self._drop()
            logger.warning("WMS rate limit store failed (%s): %s: %s", self.store.location, type(exc).__name__, exc)
            raise RateLimitStoreUnavailable(
                f"The WMS rate limit could not be checked ({self.store.location}: {type(exc).__name__}); "
                "no call was made and the run will try again."
            ) from exc
        waited = time.monotonic() - started
        if not admitted:
            raise RateLimitWaitTooLong(
                f"The WMS login's rate limit ({self.requests_per_second:g} requests a second, shared by every "
                f"warehouse and worker using it) had no free slot within {self.max_wait:g} s; no call was made "
                "and the run will try again.",
                retry_after=self.max_wait,
            )
        return waited

    def close(self) -> None:
        with self._lock:
            self._drop()

    # -- internals ------------------------------------------------------------------------
    def _current(self) -> Limiter:
        with self._lock:
            if self._limiter is None:
                bucket = self.store.bucket(self.key, self.rate)
                self._limiter = Limiter(SingleBucketFactory(bucket, schedule_leak=False), buffer_ms=BUFFER_MS)
            return self._limiter

    def _leak_if_due(self, limiter: Limiter) -> None:
        now = time.monotonic()
        with self._lock:
            if now < self._next_leak:
                return
            self._next_leak = now + LEAK_EVERY_SECONDS
        bucket = limiter.bucket_factory.bucket
        bucket.leak(bucket.now())

    def _drop(self) -> None:
        limiter, self._limiter = self._limiter, None
        if limiter is not None:
            try:
                limiter.close()
            except (OSError, sqlite3.Error) as exc:  # closing a broken store must not hide the failure
                logger.debug("closing a WMS rate limiter failed: %s", exc)


_limiters_lock = threading.Lock()
_limiters: dict[tuple[Store, str], AccountLimiter] = {}


def limiter_for_warehouse(warehouse) -> AccountLimiter:
    """The process's limiter of the warehouse's WMS login, at the login's current lowest rate."""
    store = current_store()
    key = account_key_of(warehouse)
    rate = account_rate(warehouse)
    max_wait = float(settings.HUB_WMS_RATE_MAX_WAIT_SECONDS)
    with _limiters_lock:
        limiter = _limiters.get((store, key))
        if limiter is None:
            limiter = _limiters[(store, key)] = AccountLimiter(key, rate, store, max_wait=max_wait)
            return limiter
    if limiter.requests_per_second != rate:
        limiter.set_rate(rate)
    limiter.max_wait = max_wait
    return limiter


def close_limiters() -> None:
    """Close every limiter, Redis client and PostgreSQL pool of this process."""
    with _limiters_lock:
        limiters = list(_limiters.values())
        _limiters.clear()
    for limiter in limiters:
        limiter.close()
    with _shared_lock:
        resources = list(_shared_resources.values())
        _shared_resources.clear()
    for resource in resources:
        try:
            resource.close()
        except Exception as exc:  # a pool or client already broken has nothing left to close
            logger.debug("closing a WMS rate limit store failed: %s", exc)
