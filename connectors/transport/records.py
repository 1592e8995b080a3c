"""What each HTTP attempt was: one secret-free ``CallRecord`` per attempt, retries included.

Contract:
- ``CallRecord`` is what ``HttpClient(on_call=...)`` receives: method, path (no host, no query),
  status (None when no answer came), duration, a short error text ("" on success) and the
  attempt number within one ``request()`` (1, then 2 for urllib3's first retry, ...);
- ``recording(idempotent)`` opens the ``AttemptLog`` of one call for the calling thread and
  context; ``current()`` is that log (None outside a call). urllib3 runs its retries
  synchronously in the calling thread, so the retry policy (``transport.retry``) reaches the log
  of the call it is retrying through this context variable: ``response.raw.retries.history``
  alone would lose the attempts of a call that ends in an exception;
- ``describe_transport_error`` words a transport failure without URL, query string or secret.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator
from dataclasses import dataclass

from urllib3.exceptions import NameResolutionError, ProtocolError

from connectors.redaction import excerpt

__all__ = ["AttemptLog", "CallRecord", "causes", "current", "describe_transport_error", "recording"]


@dataclass(frozen=True)
class CallRecord:
    """One HTTP attempt. ``path`` has no host and no query; ``error`` is "" on success."""

    method: str
    path: str
    status: int | None
    duration_ms: float
    error: str
    attempt: int = 1  # 1 for the first attempt of a request(), 2 for urllib3's first retry...


class AttemptLog:
    """Timing and outcome of each attempt of one ``request()``, filled in by the retry policy.

    ``idempotent`` is the call's own answer to "may a 5xx or a read timeout be retried?" (None:
    decide by the method); the retry policy reads it from here.
    """

    def __init__(self, idempotent: bool | None = None) -> None:
        self.entries: list[tuple[int | None, str, float]] = []
        self._started: float | None = time.monotonic()
        self.idempotent = idempotent

    @property
    def open(self) -> bool:
        """True while an attempt is under way (started, not yet recorded)."""
        return self._started is not None

    @property
    def attempts(self) -> int:
        """Attempts so far, the one under way included."""
        return len(self.entries) + (1 if self.open else 0)

    def finish(self, status: int | None, error: str, *, another: bool) -> None:
        """Record the attempt under way; ``another`` starts the next one's clock at once."""
        if self._started is None:
            return
        now = time.monotonic()
        self.entries.append((status, error, (now - self._started) * 1000.0))
        self._started = now if another else None

    def close_final(self, status: int | None, error: str) -> None:
        """Record the last attempt; if urllib3 already recorded it, give it the final message."""
        if self._started is not None:
            self.finish(status, error, another=False)
        elif self.entries and error:
            last_status, _, duration = self.entries[-1]
            self.entries[-1] = (last_status, error, duration)

    def restart(self) -> None:
        """Called after a backoff sleep, so the sleep is not counted in the next attempt."""
        if self._started is not None:
            self._started = time.monotonic()

    def records(self, method: str, path: str) -> list[CallRecord]:
        return [
            CallRecord(method, path, status, round(duration_ms, 3), excerpt(error, 300), number)
            for number, (status, error, duration_ms) in enumerate(self.entries, start=1)
        ]


_CURRENT: contextvars.ContextVar[AttemptLog | None] = contextvars.ContextVar("hub_http_attempts", default=None)


def current() -> AttemptLog | None:
    """The attempt log of the call under way in this context, or None."""
    return _CURRENT.get()


@contextlib.contextmanager
def recording(idempotent: bool | None = None) -> Iterator[AttemptLog]:
    """Open the attempt log of one call for the code (and the urllib3 retries) inside the block."""
    log = AttemptLog(idempotent)
    token = _CURRENT.set(log)
    try:
        yield log
    finally:
        _CURRENT.reset(token)


def causes(exc: BaseException | None) -> Iterator[BaseException]:
    """The exception, its wrapped reasons and causes (requests -> MaxRetryError -> socket error)."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen or len(seen) > 20:
            continue
        seen.add(id(item))
        yield item
        stack.extend([getattr(item, "reason", None), item.__cause__, item.__context__])
        stack.extend(arg for arg in getattr(item, "args", ()) if isinstance(arg, BaseException))


def describe_transport_error(error: BaseException) -> str:
    """A short, secret-free description of a transport error (no URL, no query string)."""
    for cause in causes(error):
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, NameResolutionError):
            return "host name could not be resolved"
        if isinstance(cause, ConnectionResetError):
            return "connection reset"
    names = {type(cause).__name__ for cause in causes(error)}
    if names & {"ConnectTimeoutError", "ConnectTimeout"}:
        return "timed out connecting"
    if names & {"ReadTimeoutError", "ReadTimeout"}:
        return "timed out waiting for the answer"
    if names & {"SSLError"}:
        return "TLS/SSL failure"
    if any(isinstance(cause, ProtocolError) for cause in causes(error)):
        return "connection dropped before the answer"
    return f"transport error ({type(error).__name__})"
