"""Answer times of the sandbox APIs: per account and per endpoint group, with seeded jitter.

Real services answer in hundreds of milliseconds; the sandbox on loopback in ~10 ms. An account's
`FaultConfig.latency` makes its answers take as long as a real service's, per endpoint group:

- Order Manager (`OM_GROUPS`): ``token`` (the code exchange), ``read`` (every GET), ``write``;
- WMS (`WMS_GROUPS`): ``token``, ``create`` (POST /orders), ``read`` (GET /orders, /orders/{id}),
  ``cancel`` (POST /orders/{id}/canceler), ``stock`` (stock summaries, the item master).
- ShipHero (`SHIPHERO_GROUPS`, the same names): ``token`` (auth/refresh); a GraphQL document's group
  is chosen by its top-level fields (`connectors.shiphero.sandbox.documents.endpoint_group`):
  ``create`` (order_create), ``cancel`` (order_cancel), ``stock`` (warehouse products, products),
  ``read`` (everything else).

`latency` maps a group to ``[latency_ms, jitter_ms]``: each answer of that group takes a time drawn
uniformly from [latency - jitter, latency + jitter] ms (`answer_time`), from an RNG of its own per
account seeded with the account's fault `seed` (so a seed gives the same answer times for the same
sequence of calls, and turning latency on does not change the sequence of injected faults). A
group not named answers at once. `validate_latency` states the bounds: whole milliseconds, not
negative, jitter at most the latency, and at most `MAX_ANSWER_MS` in all.

The wait must not slow the sandbox down for anyone else (`wait`): the view's database work is done
and its connections are closed before the sleep, so a slow answer holds no database connection;
it holds the thread answering it, so the server must give each request a thread of its own or have
threads to spare (runserver and the test live server start one thread per request; gunicorn needs
the gthread worker with ``--threads`` above the callers' concurrency).
"""

from __future__ import annotations

import random
import threading
import time

from django.db import connections

OM_GROUPS = ("token", "read", "write")
WMS_GROUPS = ("token", "create", "read", "cancel", "stock")
SHIPHERO_GROUPS = ("token", "create", "read", "cancel", "stock")
GROUPS = {"om": OM_GROUPS, "wms": WMS_GROUPS, "shiphero": SHIPHERO_GROUPS}  # keyed like `faults.OM`, ...
ALL_GROUPS = tuple(dict.fromkeys(OM_GROUPS + WMS_GROUPS + SHIPHERO_GROUPS))
MAX_ANSWER_MS = 30_000

# Endpoint groups by URL name (connectors/sandbox/urls.py), then by method where one URL is two
# endpoints. Order Manager groups by method: every GET reads, everything else writes.
_WMS_BY_URL = {
    "wms-token": "token",
    "wms-orders": {"POST": "create", "GET": "read"},
    "wms-order": "read",
    "wms-canceler": "cancel",
    "wms-stock-summaries": "stock",
    "wms-customer-items": "stock",
}
_OM_NOT_API = {"om-authorize"}  # the install page, a browser's, not an API call

# The sleep; a module attribute so a test can watch what happens before it.
sleep = time.sleep
_lock = threading.Lock()
_rngs: dict[tuple[str, int], tuple[tuple, random.Random]] = {}


def reset() -> None:
    """Forget every account's RNG (tests; `faults.reset`, called on every config change)."""
    with _lock:
        _rngs.clear()


def endpoint_group(side: str, url_name: str | None, method: str) -> str | None:
    """The group of the endpoint named `url_name` called with `method`; None for no group."""
    if side == "shiphero":
        # The GraphQL endpoint is one URL for every operation: its view names the group itself.
        return "token" if url_name == "shiphero-auth-refresh" else None
    if side == "om":
        if not url_name or url_name in _OM_NOT_API:
            return None
        return "token" if url_name == "om-token" else ("read" if method in ("GET", "HEAD") else "write")
    group = _WMS_BY_URL.get(url_name or "")
    return group.get(method) if isinstance(group, dict) else group


def request_group(side: str, request) -> str | None:
    """The endpoint group of a routed request (None when it was not routed, e.g. a RequestFactory's)."""
    match = getattr(request, "resolver_match", None)
    return endpoint_group(side, match.url_name if match else None, request.method)


def validate_latency(side: str, latency) -> dict[str, list[int]]:
    """`latency` checked and normalised: ``{group: [latency_ms, jitter_ms]}`` with groups of `side`
    only, whole non-negative milliseconds, jitter at most the latency, latency + jitter at most
    `MAX_ANSWER_MS`; groups at [0, 0] are dropped. Raises ValueError naming what is wrong."""
    if latency in (None, ""):
        return {}
    if not isinstance(latency, dict):
        raise ValueError('latency must be an object like {"create": [250, 100]}')
    groups = GROUPS[side]
    clean = {}
    for group, value in latency.items():
        if group not in groups:
            raise ValueError(f"“{group}” is not an endpoint group of this service; its groups: {', '.join(groups)}")
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ValueError(f"latency of {group} must be [latency_ms, jitter_ms]")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and float(v).is_integer() for v in value):
            raise ValueError(f"latency of {group}: milliseconds are whole numbers")
        ms, jitter = int(value[0]), int(value[1])
        if ms < 0 or jitter < 0:
            raise ValueError(f"latency of {group}: milliseconds must not be negative")
        if jitter > ms:
            raise ValueError(f"latency of {group}: the jitter ({jitter} ms) may not exceed the latency ({ms} ms)")
        if ms + jitter > MAX_ANSWER_MS:
            raise ValueError(f"latency of {group}: latency + jitter is at most {MAX_ANSWER_MS} ms")
        if ms:
            clean[group] = [ms, jitter]
    return clean


def answer_time(side: str, account_id: int, config, group: str | None) -> float:
    """Seconds the answer of `group` waits for this account: 0 when the group has no latency."""
    if config is None or not group or not config.latency or group not in config.latency:
        return 0.0
    ms, jitter = config.latency[group]
    if not jitter:
        return ms / 1000
    version = (config.seed, config.updated_at)
    with _lock:
        entry = _rngs.get((side, account_id))
        if entry is None or entry[0] != version:
            # A stream of its own (string seed), not the faults' RNG: latency on or off leaves the
            # sequence of injected faults of a seed as it was.
            entry = _rngs[(side, account_id)] = (version, random.Random(f"latency:{config.seed}"))
        return entry[1].uniform(ms - jitter, ms + jitter) / 1000


def release_connections() -> None:
    """Close this thread's database connections, so a sleeping answer holds none.

    A connection inside an atomic block (a test's transaction) is left alone: closing it would roll
    the block back. In-memory SQLite ignores close() (Django keeps the test database alive); the
    live server shares that one connection across its threads, with no transaction open here."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


def wait(seconds: float) -> None:
    """Sleep `seconds` without holding a database connection (none is opened again until needed)."""
    if seconds <= 0:
        return
    release_connections()
    sleep(seconds)
