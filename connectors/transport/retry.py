"""The retry policy: which failed attempts urllib3 sends again, and after how long.

Contract (the tests in tests/test_transport_retry.py define it):
- connect errors are retried for every method (nothing reached the server);
- 500/502/503/504 and read errors are retried for idempotent methods only (GET, HEAD, PUT,
  DELETE, OPTIONS), with exponential backoff and jitter: a POST whose answer was lost is never
  re-sent blindly (the job looks the order up first). A call may say otherwise for itself
  (``HttpClient.request(idempotent=...)``: True for an absolute inventory set, False for a PUT
  that creates shipments);
- 429 is retried for every method (the server did not process the call) after the wait the
  server asks for: ``x-skubana-quota-retryAfter`` (milliseconds) or ``Retry-After`` (seconds or
  an HTTP date), 1 s when it names none;
- a requested wait longer than ``max_wait`` is not slept: the retries end and the last answer
  is handed back, to become ``RateLimited``/``ServerError`` with ``retry_after``, so the job can
  reschedule instead of holding a worker;
- unclassified errors (which may have reached the server) and redirects are never retried;
- every attempt is recorded on the call's ``AttemptLog`` (``transport.records``).

Built from urllib3 ``Retry``'s public configuration (``allowed_methods``, ``status_forcelist``,
``respect_retry_after_header``, ``backoff_*``) and its public hooks (``get_retry_after``,
``is_retry``, ``increment``, ``sleep``, ``new``); no private method is overridden.
"""

from __future__ import annotations

from typing import Any

from urllib3.exceptions import InvalidHeader, MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from connectors.transport import records

__all__ = [
    "DEFAULT_429_WAIT",
    "IDEMPOTENT_METHODS",
    "QUOTA_HEADER",
    "RETRY_STATUSES",
    "CallMethods",
    "HubRetry",
    "hub_retry",
    "retry_after_from_headers",
]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({500, 502, 503, 504})
QUOTA_HEADER = "x-skubana-quota-retryAfter"  # Order Manager: milliseconds
DEFAULT_429_WAIT = 1.0  # seconds, when a 429 names no wait at all


def retry_after_from_headers(headers) -> float | None:
    """Seconds the server asks us to wait: ``x-skubana-quota-retryAfter`` (ms) or ``Retry-After``.

    ``Retry-After`` may be seconds or an HTTP date; unparseable values count as absent.
    """
    raw = headers.get(QUOTA_HEADER)
    if raw not in (None, ""):
        try:
            return max(0.0, float(raw) / 1000.0)
        except ValueError:
            pass
    raw = headers.get("Retry-After")
    if raw in (None, ""):
        return None
    try:
        return float(Retry(retry_after_max=10**9).parse_retry_after(raw))
    except (InvalidHeader, ValueError, TypeError, OverflowError):
        return None


class CallMethods(frozenset):
    """``allowed_methods`` that the call under way may overrule: ``method in`` this collection is
    the call's ``idempotent`` when it set one, else whether the method is one of these.

    urllib3 asks ``method in retry.allowed_methods`` before retrying a read error or a status of
    ``status_forcelist``. The adapter (and so its ``Retry``) is shared by every call of a client,
    while idempotency can be a property of one call; the call's ``AttemptLog`` is in a context
    variable of the calling thread, where urllib3 runs its retries.
    """

    def __contains__(self, method: object) -> bool:
        log = records.current()
        if log is not None and log.idempotent is not None:
            return log.idempotent
        return super().__contains__(method)


class HubRetry(Retry):
    """urllib3 ``Retry`` that knows Order Manager's 429 protocol and records every attempt.

    ``max_wait``: the longest wait a server may ask for that is slept; ``default_429_wait``: the
    wait after a 429 that names none.
    """

    def __init__(self, *args: Any, max_wait: float = 60.0, default_429_wait: float = DEFAULT_429_WAIT, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.max_wait = max_wait
        self.default_429_wait = default_429_wait

    def new(self, **kw: Any) -> HubRetry:
        kw.setdefault("max_wait", self.max_wait)
        kw.setdefault("default_429_wait", self.default_429_wait)
        return super().new(**kw)

    def get_retry_after(self, response) -> float | None:
        wait = retry_after_from_headers(response.headers)
        if wait is None and getattr(response, "status", None) == 429:
            wait = self.default_429_wait
        return wait

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 429:
            # The server refused before doing anything, so even a POST is safe to send again.
            # (urllib3 retries 429 only for allowed_methods, and only with a Retry-After header.)
            return True
        return super().is_retry(method, status_code, has_retry_after)

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        log = records.current()
        status = getattr(response, "status", None) if response is not None else None
        if error is not None:
            outcome = records.describe_transport_error(error)
        else:
            outcome = f"HTTP {status}" if status else ""
        if response is not None and error is None:
            wait = self.get_retry_after(response)
            if wait is not None and wait > self.max_wait:
                # Retry-After is capped (retry_after_max), never refused, by urllib3 itself.
                if log is not None:
                    log.finish(status, outcome, another=False)
                raise MaxRetryError(_pool, url, ResponseError(f"server asked to wait {wait:.1f} s"))
        try:
            new_retry = super().increment(method, url, response, error, _pool, _stacktrace)
        except BaseException:
            if log is not None:
                log.finish(status, outcome, another=False)
            raise
        if log is not None:
            log.finish(status, outcome, another=True)
        return new_retry

    def sleep(self, response=None) -> None:
        super().sleep(response)
        log = records.current()
        if log is not None:
            log.restart()


def hub_retry(*, max_retries: int, backoff_factor: float, max_wait: float) -> HubRetry:
    """The policy of one client: ``max_retries`` retries at most, backoff ``backoff_factor`` with
    as much jitter, waits asked for by the server slept up to ``max_wait`` seconds."""
    return HubRetry(
        total=max_retries,
        connect=max_retries,
        read=max_retries,
        status=max_retries,
        other=0,  # unclassified errors may have reached the server: never retry them
        redirect=0,
        allowed_methods=CallMethods(IDEMPOTENT_METHODS),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff_factor,
        backoff_jitter=backoff_factor,
        backoff_max=max(max_wait, backoff_factor),
        raise_on_status=False,  # hand back the last 5xx/429 so it maps to a typed error with its body
        raise_on_redirect=False,
        respect_retry_after_header=True,
        max_wait=max_wait,
    )
