"""Fault injection for sandbox API calls: 429, 500, slow answers, truncated JSON, and a real quota.

`apply(side, account_id, config, call, group=...)` wraps one authenticated API call of an endpoint
group (`latency.request_group`). With no config, or all rates at 0, no quota and no latency, it is
just `call()`. Otherwise, in this order:

1. quota: a per-account token bucket (`quota_per_second` tokens a second, burst of one second's
   worth); an empty bucket answers 429 with the real wait until the next token;
2. four independent draws from the account's RNG, always all four so the sequence is repeatable:
   rate_429 -> 429, rate_500 -> 500, timeout_rate -> sleep `timeout_seconds` then answer normally,
   malformed_rate -> the real answer with its body cut in half (invalid JSON);
3. the group's answer time (`latency`): every answer but a 429 (a refusal at the service's front
   door, before any work) waits it, after the call's database work, holding no connection.

`inject=False` (token endpoints of an account without `apply_to_token_endpoint`) skips 1 and 2.

The RNG is `random.Random(config.seed)`, recreated whenever the config row changes, so the same
seed and the same sequence of calls give the same faults. Buckets and RNGs live in this process's
memory: a quota is a rate, not state, and a restart starting with a full bucket is correct.

429 answers carry the wait the way each real service does: Order Manager
`x-skubana-quota-retryAfter` in milliseconds, the WMS a standard `Retry-After` in seconds. ShipHero
(side "shiphero") throttles by complexity credits inside a 200 GraphQL answer
(`connectors.shiphero.sandbox.credits`); its injected HTTP 429 and 500 are the sandbox's choice
(`Retry-After` in seconds, a JSON `errors` body; connectors/shiphero/sandbox/EVIDENCE.md, unverified).
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections.abc import Callable

from django.http import HttpResponse, JsonResponse

from connectors.sandbox import latency

OM = "om"
WMS = "wms"
SHIPHERO = "shiphero"

_lock = threading.Lock()
# The buckets' clock; a module attribute so tests can drive time by hand.
monotonic = time.monotonic
_buckets: dict[tuple[str, int], TokenBucket] = {}
_rngs: dict[tuple[str, int], tuple[tuple, random.Random]] = {}


class TokenBucket:
    """Classic token bucket; `take()` returns 0.0 when allowed, else the seconds until a token."""

    def __init__(self, rate: float, *, clock: Callable[[], float] | None = None):
        self.rate = float(rate)
        self.capacity = max(self.rate, 1.0)
        self.tokens = self.capacity
        self.clock = clock or (lambda: monotonic())
        self.stamp = self.clock()
        self._lock = threading.Lock()

    def take(self) -> float:
        with self._lock:
            now = self.clock()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return 0.0
            return (1.0 - self.tokens) / self.rate


def reset() -> None:
    """Forget every bucket and RNG (tests; a config change also resets its own RNG)."""
    with _lock:
        _buckets.clear()
        _rngs.clear()
    latency.reset()


def _bucket(side: str, account_id: int, rate: float) -> TokenBucket:
    with _lock:
        bucket = _buckets.get((side, account_id))
        if bucket is None or bucket.rate != rate:
            bucket = _buckets[(side, account_id)] = TokenBucket(rate)
        return bucket


def _draws(side: str, account_id: int, config) -> list[float]:
    version = (config.seed, config.updated_at)
    with _lock:
        entry = _rngs.get((side, account_id))
        if entry is None or entry[0] != version:
            entry = _rngs[(side, account_id)] = (version, random.Random(config.seed))
        rng = entry[1]
        return [rng.random() for _ in range(4)]


def rate_limited(side: str, wait_seconds: float) -> HttpResponse:
    """A 429 in the side's own dialect."""
    if side == OM:
        response = JsonResponse({"error": "quota_exceeded", "message": "API quota exceeded; retry later"}, status=429)
        response["x-skubana-quota-retryAfter"] = str(max(1, math.ceil(wait_seconds * 1000)))
    elif side == SHIPHERO:
        response = JsonResponse({"errors": [{"message": "Too many requests; retry later"}]}, status=429)
        response["Retry-After"] = str(max(1, math.ceil(wait_seconds)))
    else:
        response = JsonResponse({"Message": "Too many requests; retry later"}, status=429)
        response["Retry-After"] = str(max(1, math.ceil(wait_seconds)))
    return response


def server_error(side: str) -> HttpResponse:
    if side == OM:
        return JsonResponse(
            {"status": 500, "error": "Internal Server Error", "message": "Injected server error (sandbox)"}, status=500
        )
    if side == SHIPHERO:
        return JsonResponse({"errors": [{"message": "Internal server error (sandbox injected fault)"}]}, status=500)
    # The WMS answers a 500 in plain text, not JSON.
    return HttpResponse("An error has occurred (sandbox injected fault).", status=500, content_type="text/plain")


def truncate(response: HttpResponse) -> HttpResponse:
    """The same answer with its JSON cut in half, so no parser accepts it."""
    body = response.content or json.dumps({"truncated": True}).encode()
    response.content = body[: max(1, len(body) // 2)]
    if not response.has_header("Content-Type") or "json" not in response["Content-Type"]:
        response["Content-Type"] = "application/json"
    return response


def apply(
    side: str,
    account_id: int,
    config,
    call: Callable[[], HttpResponse],
    *,
    group: str | None = None,
    inject: bool = True,
) -> HttpResponse:
    """Answer one API call of endpoint `group` through the account's faults (see module docstring)."""
    if config is None:
        return call()
    if inject and config.quota_per_second:
        wait = _bucket(side, account_id, config.quota_per_second).take()
        if wait > 0:
            return rate_limited(side, wait)
    if inject and (config.rate_429 or config.rate_500 or config.timeout_rate or config.malformed_rate):
        d429, d500, dtimeout, dmalformed = _draws(side, account_id, config)
    else:
        d429 = d500 = dtimeout = dmalformed = 1.0  # rates are at most 1: no draw falls below one
    if d429 < config.rate_429:
        return rate_limited(side, config.retry_after_seconds)
    if d500 < config.rate_500:
        response = server_error(side)
    else:
        if dtimeout < config.timeout_rate:
            latency.release_connections()  # like an answer time: the sleep holds no connection
            time.sleep(config.timeout_seconds)
        response = call()
        if dmalformed < config.malformed_rate:
            response = truncate(response)
    latency.wait(latency.answer_time(side, account_id, config, group))
    return response
