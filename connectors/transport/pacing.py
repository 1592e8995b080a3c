"""Pacing of request starts, shared by every thread using one client.

Contract: ``RatePacer(rate, burst=1).acquire()`` returns once the caller may start a request,
at most ``rate`` starts a second with bursts of ``burst``; ``rate=None`` does not pace at all;
``set_rate`` changes it at any time (Order Manager's throttle limits are read at the start of a
run). ``acquire`` returns the seconds it waited.
"""

from __future__ import annotations

import threading
import time

__all__ = ["RatePacer"]


class RatePacer:
    """Thread-safe pacing of request starts: at most ``rate`` per second, bursts of ``burst``.

    A token bucket in its GCRA form: each caller reserves the next free slot under a lock and
    sleeps outside it, so concurrent threads are spaced out rather than serialised on the lock.
    """

    def __init__(self, rate: float | None = None, *, burst: int = 1) -> None:
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self._lock = threading.Lock()
        self._burst = burst
        self._interval: float | None = None
        self._next = 0.0
        self.set_rate(rate)

    @property
    def rate(self) -> float | None:
        return None if self._interval is None else 1.0 / self._interval

    def set_rate(self, rate: float | None) -> None:
        if rate is not None and not rate > 0:
            raise ValueError("requests_per_second must be a positive number or None")
        with self._lock:
            self._interval = None if rate is None else 1.0 / float(rate)

    def acquire(self) -> float:
        """Wait for a slot; returns the seconds waited."""
        with self._lock:
            if self._interval is None:
                return 0.0
            now = time.monotonic()
            slot = max(self._next, now - (self._burst - 1) * self._interval)
            self._next = slot + self._interval
        delay = slot - now
        if delay > 0:
            time.sleep(delay)
        return max(delay, 0.0)
