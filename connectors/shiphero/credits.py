"""Pacing by ShipHero's credits: it throttles by query complexity, not by number of calls.

What is documented (docs/wire-protocols.md SH-9): each account has a bucket of credits; every
query or mutation costs its complexity, which every answer reports (`complexity` beside
`request_id`); the bucket refills continuously; a call that needs more credits than are left is
refused with a GraphQL error of code 30 saying how many credits it needed
(`required_credits`), how many are left (`remaining_credits`) and how long to wait
(`time_remaining`, e.g. "10 seconds"); `user_quota` reports the account's
`credits_remaining`, `max_available` and `increment_rate`.

Contract:
- `CreditBucket` is one account's bucket as the hub sees it (thread-safe: every client and
  thread of the account shares it through `bucket_for(key)`). `acquire(operation)` reserves
  the credits the operation is expected to cost (its last reported complexity, `FIRST_ESTIMATE`
  before any) and sleeps until the bucket, refilling at `refill_per_second`, has them; a wait
  longer than `max_wait` is not slept but raised as `RateLimited` with `retry_after`, so the job
  reschedules instead of holding a worker. Reservations queue: concurrent callers wait in turn;
- `settle(operation, reserved, complexity)` corrects the reservation to what the answer says it
  cost and remembers it as the operation's next estimate;
- `throttled(required, wait)` records a code-30 refusal: the server will have `required`
  credits in `wait` seconds, so the next reservation of that size waits exactly `wait`;
- `calibrate(remaining, max_available, increment_rate)` adopts what `user_quota` reports;
- the clock and the sleep are the bucket's (`clock`, `sleep`), so tests measure waits on a
  fake clock.

The bucket size and refill rate below are what the evidence says today; they are not settings
because `calibrate` replaces them with the account's own numbers whenever the client signs in.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from connectors.errors import RateLimited

__all__ = [
    "BUCKET_SIZE",
    "FIRST_ESTIMATE",
    "MAX_WAIT",
    "REFILL_PER_SECOND",
    "CreditBucket",
    "bucket_for",
]

# Unverified numbers (two public sources disagree; see docs/wire-protocols.md SH-9): a 2019
# ShipHero community post announced 1001 credits restored at 15 a second; the 2026 rate-limit
# description of api-evangelist/shiphero (rate-limits/shiphero-rate-limits.yml) and a client's
# quota manager say 4004 at 60 a second. The newer pair is used until `calibrate` reads the
# account's own numbers from `user_quota`; a wrong guess only costs a code-30 answer, whose
# announced wait is then honoured.
BUCKET_SIZE = 4004.0
REFILL_PER_SECOND = 60.0
# Expected cost of an operation never answered yet: a connection page of 100 nodes costs about
# 101 (unverified: the complexity of our documents has not been seen from the real API).
FIRST_ESTIMATE = 101.0
MAX_WAIT = 60.0  # seconds slept at most inside one call; longer is RateLimited for the job


class CreditBucket:
    """One account's credits (see the module docstring)."""

    def __init__(
        self,
        *,
        capacity: float | None = None,
        refill_per_second: float | None = None,
        max_wait: float = MAX_WAIT,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        # Built on the documented guesses (no numbers given), the bucket still has to ask the
        # account for its own (GraphQLSession does, once per process before the first operation).
        self.calibrated = capacity is not None or refill_per_second is not None
        capacity = BUCKET_SIZE if capacity is None else capacity
        refill_per_second = REFILL_PER_SECOND if refill_per_second is None else refill_per_second
        if capacity <= 0 or refill_per_second <= 0:
            raise ValueError("a credit bucket needs a positive capacity and refill rate")
        self.capacity = float(capacity)
        self.refill_per_second = float(refill_per_second)
        self.max_wait = float(max_wait)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._credits = self.capacity
        self._at = clock()
        self._estimates: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"CreditBucket(capacity={self.capacity:g}, refill_per_second={self.refill_per_second:g})"

    # -- the bucket ----------------------------------------------------------------------------
    def _refill(self) -> None:
        """Credits restored since the last look (the caller holds the lock)."""
        now = self._clock()
        self._credits = min(self.capacity, self._credits + (now - self._at) * self.refill_per_second)
        self._at = now

    @property
    def credits(self) -> float:
        """Credits the hub believes the account has now (negative: reserved ahead)."""
        with self._lock:
            self._refill()
            return self._credits

    def estimate(self, operation: str) -> float:
        with self._lock:
            return self._estimates.get(operation, FIRST_ESTIMATE)

    # -- pacing --------------------------------------------------------------------------------
    def acquire(self, operation: str) -> float:
        """Reserve the operation's expected cost, sleeping until it is there; returns the
        reservation (for `settle`). Raises `RateLimited` instead of sleeping past `max_wait`."""
        with self._lock:
            self._refill()
            cost = min(self._estimates.get(operation, FIRST_ESTIMATE), self.capacity)
            wait = max(0.0, (cost - self._credits) / self.refill_per_second)
            if wait > self.max_wait:
                raise RateLimited(
                    f"ShipHero's credits for this account are spent: {operation} would have to wait "
                    f"{wait:.0f} s for {cost:.0f} credits.",
                    retry_after=math.ceil(wait),
                )
            self._credits -= cost
        if wait > 0:
            self._sleep(wait)
        return cost

    def settle(self, operation: str, reserved: float, complexity: int | None) -> None:
        """The answer said what the call cost: give back or take the difference, and remember it."""
        if complexity is None or complexity < 0:
            return  # not reported (an error answer): the reservation stands as the cost
        with self._lock:
            self._refill()
            self._credits = min(self.capacity, self._credits + reserved - complexity)
            self._estimates[operation] = float(complexity) if complexity > 0 else 1.0

    def refund(self, reserved: float) -> None:
        """A reservation that was never spent (nothing reached ShipHero)."""
        with self._lock:
            self._refill()
            self._credits = min(self.capacity, self._credits + reserved)

    def throttled(self, operation: str, *, required: float | None, wait: float) -> None:
        """A code-30 refusal: `required` credits will be there in `wait` seconds."""
        with self._lock:
            self._refill()
            need = float(required) if required is not None else self._estimates.get(operation, FIRST_ESTIMATE)
            self._estimates[operation] = need
            self._credits = min(self._credits, need - max(0.0, wait) * self.refill_per_second)

    def calibrate(self, *, remaining: int | None, max_available: int | None, increment_rate: int | None) -> None:
        """Adopt the account's own numbers (`user_quota`); absent or unusable ones are kept."""
        with self._lock:
            self.calibrated = True
            self._refill()
            if isinstance(max_available, int) and max_available > 0:
                self.capacity = float(max_available)
            if isinstance(increment_rate, int) and increment_rate > 0:
                self.refill_per_second = float(increment_rate)
            if isinstance(remaining, int) and remaining >= 0:
                self._credits = min(self.capacity, float(remaining))
            self._credits = min(self._credits, self.capacity)


_BUCKETS: dict[str, CreditBucket] = {}
_BUCKETS_LOCK = threading.Lock()


def bucket_for(key: str, factory: Callable[[], CreditBucket] = CreditBucket) -> CreditBucket:
    """The one bucket of the account `key` (`connectors.shiphero.token.cache_key`) in this process."""
    with _BUCKETS_LOCK:
        bucket = _BUCKETS.get(key)
        if bucket is None:
            bucket = _BUCKETS[key] = factory()
        return bucket


def forget_buckets() -> None:
    """Drop every account's bucket (tests)."""
    with _BUCKETS_LOCK:
        _BUCKETS.clear()
