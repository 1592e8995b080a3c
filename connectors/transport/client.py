"""``HttpClient``: a session to one service, the seam every connector client sends its calls through.

Contract:
- every call has a timeout, retries by ``transport.retry``, is paced by ``transport.pacing`` and
  goes through the hardened session of ``transport.session`` (no redirects, no environment
  proxies, the private-address guard when ``block_private_addresses``), whose pool keeps
  ``pool_maxsize`` connections per host (at least as many as the client's calls overlap);
- with a ``limiter`` (any object with ``acquire()``, e.g. the shared bucket of a WMS account,
  ``tenants.wms_limits``), ``limiter.acquire()`` is called once before every ``request()``, after
  the pacer and before anything is sent. It returns when the call may start or raises; what it
  raises (a ``connectors.errors.TransientError`` when the limit's wait is too long or its store is
  down) is raised by ``request()`` as is, with nothing sent and no ``CallRecord``. The HTTP layer's
  own retries inside one ``request()`` (``transport.retry``: connect errors, 5xx, 429 after its
  wait) take no further slot: they are spaced by their backoff or by the server's own wait;
- ``request()`` returns an ``Answer`` (``transport.answer``) whose body was read under the caps of
  ``transport.body_cap``, when its status is one of ``ok_statuses``; every failure raises one of
  the typed errors of ``connectors.errors`` (``transport.errors_mapping``);
- ``json()`` is ``request()`` and then the strict ``transport.json_body.parse_json``;
- ``on_call`` receives one redacted ``CallRecord`` per attempt, including the attempts urllib3
  retried internally; a failing hook never fails the call. No Authorization header value or
  secret body field ever reaches a record or an exception.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

from connectors.errors import ConnectorError, PermanentError
from connectors.redaction import strip_query
from connectors.transport import records
from connectors.transport.answer import Answer
from connectors.transport.body_cap import MAX_BODY_SECONDS, MAX_RESPONSE_BYTES, read_capped
from connectors.transport.errors_mapping import sentence_start, status_error, transport_error
from connectors.transport.json_body import parse_json
from connectors.transport.pacing import RatePacer
from connectors.transport.records import CallRecord
from connectors.transport.retry import hub_retry
from connectors.transport.session import DEFAULT_POOL_MAXSIZE, hardened_session

__all__ = ["CallLimiter", "HttpClient"]

logger = logging.getLogger(__name__)


def _normalise_timeout(timeout) -> tuple[float, float]:
    if timeout is None:
        raise ValueError("a timeout is required on every call")
    if isinstance(timeout, (int, float)):
        return (float(timeout), float(timeout))
    connect, read = timeout
    return (float(connect), float(read))


class CallLimiter(Protocol):
    """What ``HttpClient(limiter=...)`` needs: ``acquire()`` returns once one call may start."""

    def acquire(self) -> Any: ...


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
        limiter: CallLimiter | None = None,
        pool_maxsize: int = DEFAULT_POOL_MAXSIZE,
    ) -> None:
        if not base_url or urlsplit(base_url).scheme not in ("http", "https"):
            raise PermanentError(
                f"{service} base URL must start with http:// or https:// (got {strip_query(base_url)!r})"
            )
        self.base_url = base_url.rstrip("/")
        self.timeout = _normalise_timeout(timeout)
        self.service = service
        self.on_call = on_call
        self.max_rate_limit_wait = float(max_rate_limit_wait)
        self.max_response_bytes = int(max_response_bytes)
        self.max_body_seconds = float(max_body_seconds)
        self.block_private_addresses = bool(block_private_addresses)
        self._pacer = RatePacer(requests_per_second)
        if limiter is not None and not callable(getattr(limiter, "acquire", None)):
            raise TypeError(f"limiter must have an acquire() method (got {type(limiter).__name__})")
        self.limiter = limiter
        self.retry = hub_retry(
            max_retries=max_retries, backoff_factor=backoff_factor, max_wait=self.max_rate_limit_wait
        )
        self.session = hardened_session(
            timeout=self.timeout,
            retry=self.retry,
            block_private_addresses=self.block_private_addresses,
            headers={"User-Agent": user_agent, "Accept": "application/json", **(default_headers or {})},
            pool_maxsize=pool_maxsize,
        )

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
    ) -> Answer:
        """Send one call (plus the layer's own retries); its ``Answer`` when its status is ok.

        ``idempotent`` overrides the method-based rule for 5xx and read-timeout retries: True for
        a POST that is safe to repeat (an absolute inventory set), False for a PUT that is not
        (one that creates shipments). 429 and connect errors are retried either way.

        Raises NetworkError, ServerError, RateLimited, AuthenticationError (401/403: the caller
        decides whether to re-authenticate), NotFound, RequestRejected, MalformedResponse, and
        whatever the ``limiter`` raises.
        """
        method = method.upper()
        url = self.url_for(path)
        record_path = (
            urlsplit(url).path if path.startswith(("http://", "https://")) else "/" + strip_query(path).lstrip("/")
        )
        self._pacer.acquire()
        if self.limiter is not None:
            self.limiter.acquire()
        status: int | None = None
        answer: Answer | None = None
        failure: ConnectorError | None = None
        with records.recording(idempotent) as log:
            try:
                response = self.session.request(
                    method, url, params=params, json=json, data=data, headers=headers, stream=True
                )
                status = response.status_code
                body = read_capped(
                    response,
                    max_bytes=self.max_response_bytes,
                    max_seconds=self.max_body_seconds,
                    service=sentence_start(self.service),
                    method=method,
                    path=record_path,
                )
                answer = Answer(response.status_code, response.headers, body)
            except ConnectorError as exc:
                failure = exc
            except requests.RequestException as exc:
                failure = transport_error(
                    exc, service=self.service, method=method, path=record_path, url=url, timeout=self.timeout
                )
                failure.__cause__ = exc

        if answer is not None and answer.status_code not in ok_statuses:
            failure = status_error(answer, service=self.service, method=method, path=record_path, attempts=log.attempts)
        # A body refused after the headers arrived (too large, too slow) keeps its status.
        log.close_final(status, str(failure) if failure else "")
        self._emit(method, record_path, log)
        if failure is not None:
            raise failure
        assert answer is not None
        return answer

    def json(self, method: str, path: str, **kw: Any) -> Any:
        """``request()`` then the parsed JSON body (MalformedResponse when it is not JSON)."""
        answer = self.request(method, path, **kw)
        return parse_json(answer, service=self.service, method=method.upper(), path=path)

    # -- internals -----------------------------------------------------------------------
    def _emit(self, method: str, path: str, log: records.AttemptLog) -> None:
        if self.on_call is None:
            return
        for record in log.records(method, path):
            try:
                self.on_call(record)
            except Exception:  # a broken audit hook must not turn a good call into a failure
                logger.exception("on_call hook failed for %s %s", method, path)
