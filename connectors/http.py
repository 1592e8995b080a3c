"""The shared HTTP layer every connector client sends its calls through.

What it guarantees (the calls it carries and their evidence: docs/wire-protocols.md):

- every call has a timeout (``requests`` has none by default);
- urllib3 ``Retry`` on a requests ``HTTPAdapter`` retries connect errors and 500/502/503/504
  with exponential backoff and jitter, for idempotent methods only: a POST whose answer was lost
  is never re-sent blindly (the job looks the order up first);
- 429 is retried for every method (the server did not process the call) after the wait the
  server asks for: ``x-skubana-quota-retryAfter`` (milliseconds) or ``Retry-After`` (seconds).
  A wait longer than ``max_rate_limit_wait`` is not slept: ``RateLimited`` is raised at once
  with ``retry_after`` set, so the job can reschedule instead of holding a worker;
- optional thread-safe pacing (``requests_per_second``) shared by every thread using the client;
- ``on_call`` receives one redacted ``CallRecord`` per attempt, including the attempts urllib3
  retried internally;
- every failure is one of the typed errors of ``connectors.errors``; no Authorization header
  value or secret body field ever reaches a record or an exception;
- bodies are read as a stream, at most ``max_response_bytes`` (default 5 MB) within
  ``max_body_seconds`` (checked after every socket read): a larger or endless answer is closed and
  refused (``ResponseTooLarge``, a ``MalformedResponse``: a paged read asks again for fewer
  items), a slower one too (``NetworkError``, transient), instead of
  filling memory or holding a worker;
- ``parse_json`` refuses NaN/Infinity and marks JSON objects that repeat a key
  (``duplicate_keys_in``), so a caller can refuse such a record instead of silently taking the
  last value;
- ``block_private_addresses=True`` refuses, at connect time, hosts that resolve to private,
  loopback or link-local addresses (requests-hardened's ``IPFilterAdapter`` with the hub's
  ``connectors.ip_policy`` rule on top, which also judges IPv6 forms embedding an IPv4 address
  by that address), so a tenant's base URL cannot reach the hub's own network.
"""

from __future__ import annotations

import contextvars
import json as jsonlib
import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests_hardened.ip_filter import InvalidIPAddress
from urllib3.exceptions import (
    DecodeError,
    InvalidHeader,
    MaxRetryError,
    NameResolutionError,
    ProtocolError,
    ReadTimeoutError,
    ResponseError,
)
from urllib3.exceptions import SSLError as urllib3_SSLError
from urllib3.util.retry import Retry

from connectors.errors import (
    AuthenticationError,
    ConnectorError,
    MalformedResponse,
    NetworkError,
    NotFound,
    PermanentError,
    RateLimited,
    RequestRejected,
    ResponseTooLarge,
    ServerError,
)
from connectors.ip_policy import GuardedIPFilterAdapter
from connectors.redaction import excerpt, strip_query

__all__ = [
    "CallRecord",
    "HttpClient",
    "HubRetry",
    "JsonObject",
    "RatePacer",
    "duplicate_keys_in",
    "parse_json",
    "retry_after_from_headers",
]

logger = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({500, 502, 503, 504})
QUOTA_HEADER = "x-skubana-quota-retryAfter"  # Order Manager: milliseconds
DEFAULT_429_WAIT = 1.0  # seconds, when a 429 names no wait at all
# The largest answer read. An Order Manager page of 100 orders or a WMS page of stock summaries
# is well under 1 MB; anything far larger is a broken or hostile server, not data.
MAX_RESPONSE_BYTES = 5 * 1024 * 1024
# Wall-clock budget for reading one body: the read timeout applies per socket read, so a server
# trickling a byte at a time would otherwise never time out.
MAX_BODY_SECONDS = 120.0
_CHUNK = 64 * 1024


def format_size(size: int) -> str:
    """``5 MB``, ``128 KB``: a byte count in the unit people read (the cap can be lowered below 1 MB)."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:g} {unit}"
    return f"{size} bytes"


def _available_chunks(response: requests.Response):
    """The streamed body, decoded, in pieces of whatever each socket read brought (at most _CHUNK).

    requests' `iter_content(n)` blocks until n bytes arrived, so a server trickling one byte per
    read timeout kept a call going for hours and the body's time limit was checked only between
    full chunks; `read1` returns after every read. The urllib3 errors are wrapped as
    `iter_content` wraps them, so the caller maps them the same way.
    """
    if response._content_consumed:  # read already (a response hook did): as iter_content does
        if response.content:
            yield response.content
        return
    raw = response.raw
    try:
        while chunk := raw.read1(_CHUNK, decode_content=True):
            yield chunk
    except ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    except DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from exc
    except ReadTimeoutError as exc:
        raise requests.exceptions.ConnectionError(exc) from exc
    except urllib3_SSLError as exc:
        raise requests.exceptions.SSLError(exc) from exc


@dataclass(frozen=True)
class CallRecord:
    """One HTTP attempt. ``path`` has no host and no query; ``error`` is "" on success."""

    method: str
    path: str
    status: int | None
    duration_ms: float
    error: str
    attempt: int = 1  # 1 for the first attempt of a request(), 2 for urllib3's first retry...


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


class _AttemptLog:
    """Timing and outcome of each attempt of one ``request()``, filled in by ``HubRetry``.

    urllib3 runs its retries synchronously in the calling thread, so a context variable set
    around the call reaches the ``Retry`` objects it creates; ``response.raw.retries.history``
    alone would lose the attempts of a call that ends in an exception.
    """

    def __init__(self, idempotent: bool | None = None) -> None:
        self.entries: list[tuple[int | None, str, float]] = []
        self._started: float | None = time.monotonic()
        self.idempotent = idempotent  # per-call override of the method-based rule

    @property
    def open(self) -> bool:
        return self._started is not None

    def finish(self, status: int | None, error: str, *, another: bool) -> None:
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
        # Called after a backoff sleep, so the sleep is not counted in the next attempt.
        if self._started is not None:
            self._started = time.monotonic()


_ATTEMPTS: contextvars.ContextVar[_AttemptLog | None] = contextvars.ContextVar("hub_http_attempts", default=None)


class HubRetry(Retry):
    """urllib3 ``Retry`` that knows Order Manager's 429 protocol.

    - 429 is retryable for every method; 5xx only for ``allowed_methods`` (idempotent ones);
    - the wait comes from ``x-skubana-quota-retryAfter`` (ms) or ``Retry-After`` (s), with a
      short default for a bare 429;
    - a requested wait above ``max_wait`` ends the retries (the response is handed back and
      becomes ``RateLimited``/``ServerError`` with ``retry_after``), rather than sleeping for it.
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

    def _is_method_retryable(self, method: str) -> bool:
        log = _ATTEMPTS.get()
        if log is not None and log.idempotent is not None:
            return log.idempotent
        return super()._is_method_retryable(method)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 429:
            # The server refused before doing anything, so even a POST is safe to send again.
            return True
        return super().is_retry(method, status_code, has_retry_after)

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        log = _ATTEMPTS.get()
        status = getattr(response, "status", None) if response is not None else None
        outcome = _describe_urllib3_error(error) if error is not None else (f"HTTP {status}" if status else "")
        if response is not None and error is None:
            wait = self.get_retry_after(response)
            if wait is not None and wait > self.max_wait:
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
        log = _ATTEMPTS.get()
        if log is not None:
            log.restart()


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


def _normalise_timeout(timeout) -> tuple[float, float]:
    if timeout is None:
        raise ValueError("a timeout is required on every call")
    if isinstance(timeout, (int, float)):
        return (float(timeout), float(timeout))
    connect, read = timeout
    return (float(connect), float(read))


def _causes(exc: BaseException | None):
    """The exception, its wrapped reasons and causes (requests -> MaxRetryError -> socket error)."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen or len(seen) > 20:
            continue
        seen.add(id(current))
        yield current
        stack.extend([getattr(current, "reason", None), current.__cause__, current.__context__])
        stack.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))


def _describe_urllib3_error(error: BaseException) -> str:
    """A short, secret-free description of a transport error (no URL, no query string)."""
    for cause in _causes(error):
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, NameResolutionError):
            return "host name could not be resolved"
        if isinstance(cause, ConnectionResetError):
            return "connection reset"
    names = {type(cause).__name__ for cause in _causes(error)}
    if names & {"ConnectTimeoutError", "ConnectTimeout"}:
        return "timed out connecting"
    if names & {"ReadTimeoutError", "ReadTimeout"}:
        return "timed out waiting for the answer"
    if names & {"SSLError"}:
        return "TLS/SSL failure"
    if any(isinstance(cause, ProtocolError) for cause in _causes(error)):
        return "connection dropped before the answer"
    return f"transport error ({type(error).__name__})"


def parse_json(response: requests.Response, *, service: str = "the server", method: str = "", path: str = "") -> Any:
    """The JSON body of ``response``, or ``MalformedResponse`` saying plainly what came instead."""
    where = f"{method} {strip_query(path)}".strip()
    service = service[:1].upper() + service[1:]
    content = response.content or b""
    content_type = response.headers.get("Content-Type", "")
    common = {"status": response.status_code, "method": method or None, "path": path or None}
    if not content.strip():
        raise MalformedResponse(f"{service} sent an empty answer to {where} where JSON was expected", **common)
    head = content.lstrip()[:1]
    if "html" in content_type.lower() or head == b"<":
        raise MalformedResponse(
            f"{service} sent an HTML page instead of JSON for {where} (is the base URL right?)",
            body_excerpt=excerpt(response.text),
            **common,
        )

    def reject_constant(name: str):
        raise ValueError(f"{name} is not valid JSON")

    try:
        return jsonlib.loads(content, parse_constant=reject_constant, object_pairs_hook=_json_object)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedResponse(
            f"{service} sent invalid JSON for {where} ({type(exc).__name__})",
            body_excerpt=excerpt(response.text),
            **common,
        ) from None


class JsonObject(dict):
    """A JSON object whose text repeated some keys: ``duplicate_keys`` names them (the value kept is
    the last, as ``json`` does). Only such objects get this type; every other object is a plain dict."""

    duplicate_keys: tuple[str, ...] = ()


def _json_object(pairs: list[tuple[str, Any]]) -> dict:
    result = dict(pairs)
    if len(result) == len(pairs):
        return result
    seen: set[str] = set()
    repeated = [key for key, _ in pairs if key in seen or seen.add(key)]
    flagged = JsonObject(result)
    flagged.duplicate_keys = tuple(dict.fromkeys(repeated))
    return flagged


def duplicate_keys_in(value: Any, *, path: str = "") -> list[str]:
    """Dotted paths of every repeated key inside ``value`` as parsed by ``parse_json`` (``[]`` when none)."""
    found: list[str] = []
    if isinstance(value, dict):
        found.extend(f"{path}{key}" for key in getattr(value, "duplicate_keys", ()))
        for key, item in value.items():
            found.extend(duplicate_keys_in(item, path=f"{path}{key}."))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(duplicate_keys_in(item, path=f"{path}{index}."))
    return found


def _server_message(details: Any) -> str:
    """A short human message from an error body such as ``{"message": "..."}``, if any."""
    if isinstance(details, dict):
        for key in ("message", "error_description", "error", "Message", "ErrorMessage", "detail"):
            value = details.get(key)
            if isinstance(value, str) and value.strip():
                return excerpt(value.strip(), 200)
    return ""


class HttpClient:
    """A session to one service: base URL, timeouts, retries, pacing and call records.

    ``path`` arguments are joined to ``base_url`` (which may carry a prefix such as
    ``/sandbox/order-manager``); an absolute ``http(s)://`` URL is used as is (e.g. a token
    endpoint on another host) and shares the same pacing and records.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout=(5.0, 30.0),
        max_retries: int = 3,
        backoff_factor: float = 0.5,
        max_rate_limit_wait: float = 60.0,
        requests_per_second: float | None = None,
        on_call: Callable[[CallRecord], None] | None = None,
        user_agent: str = "order-manager-hub/1.0",
        service: str = "the server",
        default_headers: dict[str, str] | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        max_body_seconds: float = MAX_BODY_SECONDS,
        block_private_addresses: bool = False,
    ) -> None:
        if not base_url or urlsplit(base_url).scheme not in ("http", "https"):
            raise PermanentError(
                f"{service} base URL must start with http:// or https:// (got {strip_query(base_url)!r})"
            )
        self.base_url = base_url.rstrip("/")
        self.timeout = _normalise_timeout(timeout)
        self.service = service
        self._Service = service[:1].upper() + service[1:]  # at the start of a sentence
        self.on_call = on_call
        self.max_rate_limit_wait = float(max_rate_limit_wait)
        self.max_response_bytes = int(max_response_bytes)
        self.max_body_seconds = float(max_body_seconds)
        self.block_private_addresses = bool(block_private_addresses)
        self._pacer = RatePacer(requests_per_second)
        self.retry = HubRetry(
            total=max_retries,
            connect=max_retries,
            read=max_retries,
            status=max_retries,
            other=0,  # unclassified errors may have reached the server: never retry them
            redirect=0,
            allowed_methods=IDEMPOTENT_METHODS,
            status_forcelist=RETRY_STATUSES,
            backoff_factor=backoff_factor,
            backoff_jitter=backoff_factor,
            backoff_max=max(self.max_rate_limit_wait, backoff_factor),
            raise_on_status=False,  # hand back the last 5xx/429 so it maps to a typed error with its body
            raise_on_redirect=False,
            respect_retry_after_header=True,
            max_wait=self.max_rate_limit_wait,
        )
        self.session = requests.Session()
        # No proxies, .netrc credentials or CA overrides picked up from the environment.
        self.session.trust_env = False
        if self.block_private_addresses:
            # requests-hardened resolves the host itself and connects to the checked address
            # (keeping Host and TLS SNI), so DNS cannot answer differently between check and connect.
            for scheme, https in (("http://", False), ("https://", True)):
                adapter = GuardedIPFilterAdapter(is_https_proto=https, allow_loopback=False)
                adapter.max_retries = self.retry
                self.session.mount(scheme, adapter)
        else:
            adapter = HTTPAdapter(max_retries=self.retry, pool_connections=4, pool_maxsize=16)
            self.session.mount("http://", adapter)
            self.session.mount("https://", adapter)
        self.session.headers.update({"User-Agent": user_agent, "Accept": "application/json"})
        if default_headers:
            self.session.headers.update(default_headers)

    # -- configuration -------------------------------------------------------------------
    def set_rate(self, requests_per_second: float | None) -> None:
        """Change the pacing, e.g. from Order Manager's throttle limits; None removes it."""
        self._pacer.set_rate(requests_per_second)

    @property
    def requests_per_second(self) -> float | None:
        return self._pacer.rate

    def url_for(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- calls ---------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params=None,
        json=None,
        data=None,
        headers=None,
        ok_statuses: Collection[int] = (200, 201, 202, 204),
        idempotent: bool | None = None,
    ) -> requests.Response:
        """Send one call (plus the layer's own retries); the response when its status is ok.

        ``idempotent`` overrides the method-based rule for 5xx and read-timeout retries: True for
        a POST that is safe to repeat (an absolute inventory set), False for a PUT that is not
        (one that creates shipments). 429 and connect errors are retried either way.

        Raises NetworkError, ServerError, RateLimited, AuthenticationError (401/403: the caller
        decides whether to re-authenticate), NotFound, RequestRejected, MalformedResponse.
        """
        method = method.upper()
        url = self.url_for(path)
        record_path = (
            urlsplit(url).path if path.startswith(("http://", "https://")) else "/" + strip_query(path).lstrip("/")
        )
        self._pacer.acquire()
        log = _AttemptLog(idempotent)
        token = _ATTEMPTS.set(log)
        response: requests.Response | None = None
        failure: ConnectorError | None = None
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=json,
                data=data,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,
            )
            self._read_body(response, method, record_path)
        except ConnectorError as exc:
            failure = exc
        except requests.RequestException as exc:
            failure = self._transport_error(exc, method, record_path, url)
            failure.__cause__ = exc
        finally:
            _ATTEMPTS.reset(token)

        if failure is None:
            assert response is not None
            if response.status_code not in ok_statuses:
                attempts = len(log.entries) + (1 if log.open else 0)
                failure = self._status_error(response, method, record_path, attempts=attempts)
            log.close_final(response.status_code, str(failure) if failure else "")
        else:
            # A body refused after the headers arrived (too large, too slow) keeps its status.
            log.close_final(response.status_code if response is not None else None, str(failure))
        self._emit(method, record_path, log)
        if failure is not None:
            raise failure
        return response

    def json(self, method: str, path: str, **kw: Any) -> Any:
        """``request()`` then the parsed JSON body (MalformedResponse when it is not JSON)."""
        response = self.request(method, path, **kw)
        return parse_json(response, service=self.service, method=method.upper(), path=path)

    # -- internals -----------------------------------------------------------------------
    def _read_body(self, response: requests.Response, method: str, path: str) -> None:
        """Read the streamed body into ``response.content``, refusing one too large or too slow."""
        declared = response.headers.get("Content-Length", "")
        too_big = ResponseTooLarge(
            f"{self._Service} sent an answer larger than {format_size(self.max_response_bytes)} "
            f"for {method} {path}; it was not read",
            status=response.status_code,
            method=method,
            path=path,
        )
        if declared.isdigit() and int(declared) > self.max_response_bytes:
            response.close()
            raise too_big
        deadline = time.monotonic() + self.max_body_seconds
        chunks, size = [], 0
        try:
            for chunk in _available_chunks(response):
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise too_big
                if time.monotonic() > deadline:
                    raise NetworkError(
                        f"{self._Service} took more than {self.max_body_seconds:g} s to send its answer to {method} {path}",
                        status=response.status_code,
                        method=method,
                        path=path,
                    )
                chunks.append(chunk)
        except ConnectorError:
            response.close()
            raise
        response._content = b"".join(chunks)  # what requests itself does when not streaming
        response._content_consumed = True

    def _emit(self, method: str, path: str, log: _AttemptLog) -> None:
        if self.on_call is None:
            return
        for number, (status, error, duration_ms) in enumerate(log.entries, start=1):
            record = CallRecord(method, path, status, round(duration_ms, 3), excerpt(error, 300), number)
            try:
                self.on_call(record)
            except Exception:  # a broken audit hook must not turn a good call into a failure
                logger.exception("on_call hook failed for %s %s", method, path)

    def _transport_error(self, exc: requests.RequestException, method: str, path: str, url: str) -> ConnectorError:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        where = f"{host}:{parts.port}" if parts.port else host
        common = {"method": method, "path": path}
        if any(isinstance(c, InvalidIPAddress) for c in _causes(exc)):
            return PermanentError(
                f"Refused to connect to {self.service} at {host}: it resolves to a private, loopback or "
                "link-local address (allowed only for the sandbox)",
                **common,
            )
        if isinstance(
            exc,
            (
                requests.exceptions.InvalidURL,
                requests.exceptions.MissingSchema,
                requests.exceptions.InvalidSchema,
                requests.exceptions.InvalidHeader,
            ),
        ):
            return PermanentError(f"Invalid request to {self.service}: {type(exc).__name__}", **common)
        if isinstance(exc, requests.exceptions.ContentDecodingError):
            return MalformedResponse(
                f"{self._Service} sent a body that could not be decoded for {method} {path}", **common
            )
        if isinstance(exc, requests.exceptions.RetryError):
            return ServerError(f"{self._Service} kept failing on {method} {path}", **common)
        # A GET whose read timeouts used up its retries arrives as ConnectionError(MaxRetryError(ReadTimeoutError)).
        if isinstance(exc, requests.exceptions.ReadTimeout) or any(
            isinstance(c, ReadTimeoutError) for c in _causes(exc)
        ):
            return NetworkError(
                f"{self._Service} at {where} did not answer {method} {path} within {self.timeout[1]:g} s", **common
            )
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return NetworkError(f"Timed out connecting to {self.service} at {where} ({self.timeout[0]:g} s)", **common)
        reason = _describe_urllib3_error(exc)
        return NetworkError(f"Could not reach {self.service} at {where} for {method} {path}: {reason}", **common)

    def _status_error(self, response: requests.Response, method: str, path: str, *, attempts: int) -> ConnectorError:
        status = response.status_code
        try:
            details = jsonlib.loads(response.content) if response.content else None
        except ValueError:
            details = None
        server_says = _server_message(details)
        suffix = f": {server_says}" if server_says else ""
        common = {"status": status, "method": method, "path": path, "body_excerpt": response.text or ""}
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        if status in (401, 403):
            return AuthenticationError(
                f"{self._Service} refused the credentials for {method} {path} (HTTP {status}){suffix}", **common
            )
        if status == 404:
            return NotFound(f"{self._Service} has nothing at {method} {path} (HTTP 404){suffix}", **common)
        if status == 429:
            wait = retry_after_from_headers(response.headers)
            wait_text = f"; it asks to wait {wait:g} s" if wait is not None else ""
            return RateLimited(
                f"{self._Service} is rate limiting {method} {path} (HTTP 429){tries}{wait_text}",
                retry_after=wait if wait is not None else DEFAULT_429_WAIT,
                **common,
            )
        if status >= 500:
            return ServerError(
                f"{self._Service} failed on {method} {path} with HTTP {status}{tries}{suffix}",
                retry_after=retry_after_from_headers(response.headers),
                **common,
            )
        if 400 <= status < 500:
            return RequestRejected(
                f"{self._Service} rejected {method} {path} (HTTP {status}){suffix}", details=details, **common
            )
        return MalformedResponse(f"{self._Service} answered {method} {path} with unexpected HTTP {status}", **common)
