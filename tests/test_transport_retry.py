"""connectors.transport.retry over real sockets on 127.0.0.1: which attempts are sent again, and when."""

from __future__ import annotations

import time

import pytest

from connectors.errors import NetworkError, RateLimited, ServerError
from connectors.transport import retry
from connectors.transport.retry import retry_after_from_headers
from tests.http_servers import SilentServer, free_port, make_client, scripted_server


@pytest.fixture
def server():
    with scripted_server() as srv:
        yield srv


@pytest.fixture
def records():
    return []


# -- 429 ------------------------------------------------------------------------------------
def test_429_waits_the_quota_header_in_milliseconds_then_succeeds_even_for_post(server, records):
    server.script = [(429, {"x-skubana-quota-retryAfter": "200"}, b'{"message": "quota"}')]
    started = time.monotonic()
    assert make_client(server.url, records).json("POST", "/v1.1/inventory/adjust", json=[]) == {"ok": True}
    elapsed = time.monotonic() - started
    assert 0.18 <= elapsed < 1.0
    gap = server.requests[1]["at"] - server.requests[0]["at"]
    assert 0.18 <= gap < 1.0
    assert [(r.status, r.attempt) for r in records] == [(429, 1), (200, 2)]
    assert records[0].error and not records[1].error


def test_429_honours_retry_after_seconds(server):
    server.script = [(429, {"Retry-After": "1"}, b"{}")]
    started = time.monotonic()
    make_client(server.url).json("GET", "/x")
    assert 0.95 <= time.monotonic() - started < 2.5


def test_429_without_a_wait_header_waits_one_second(server):
    server.script = [(429, {}, b"{}")]
    started = time.monotonic()
    make_client(server.url).json("GET", "/x")
    assert 0.95 <= time.monotonic() - started < 2.5
    assert len(server.requests) == 2


def test_429_longer_than_the_cap_is_not_slept_but_raised_with_retry_after(server):
    server.script = [(429, {"x-skubana-quota-retryAfter": "30000"}, b"{}")]
    started = time.monotonic()
    with pytest.raises(RateLimited) as info:
        make_client(server.url, max_rate_limit_wait=5).json("GET", "/x")
    assert time.monotonic() - started < 1.0
    assert info.value.transient and info.value.retry_after == pytest.approx(30.0)
    assert len(server.requests) == 1


def test_429_that_persists_becomes_rate_limited(server):
    server.script = [(429, {"x-skubana-quota-retryAfter": "10"}, b"{}")] * 10
    with pytest.raises(RateLimited) as info:
        make_client(server.url, max_retries=2).json("GET", "/x")
    assert len(server.requests) == 3
    assert "after 3 attempts" in str(info.value)


def test_retry_after_parsing():
    assert retry_after_from_headers({"x-skubana-quota-retryAfter": "1500"}) == 1.5
    assert retry_after_from_headers({"Retry-After": "7"}) == 7.0
    assert retry_after_from_headers({"Retry-After": "soon"}) is None
    assert retry_after_from_headers({}) is None


# -- 5xx and idempotency --------------------------------------------------------------------
def test_5xx_on_get_is_retried_then_server_error_transient(server, records):
    server.script = [(503, {}, b'{"message": "down"}')] * 10
    with pytest.raises(ServerError) as info:
        make_client(server.url, records, max_retries=2).json("GET", "/v1/warehouses")
    assert len(server.requests) == 3
    assert info.value.transient and info.value.status == 503
    assert "down" in str(info.value)
    assert [r.attempt for r in records] == [1, 2, 3] and all(r.status == 503 for r in records)


def test_5xx_then_success_on_get(server):
    server.script = [(502, {}, b"bad gateway"), (500, {}, b"{}")]
    assert make_client(server.url).json("GET", "/x") == {"ok": True}
    assert len(server.requests) == 3


def test_post_is_not_resent_after_a_500(server, records):
    server.script = [(500, {}, b'{"message": "boom"}')] * 5
    with pytest.raises(ServerError):
        make_client(server.url, records).json("POST", "/v1/orders/sendtofulfillment")
    assert len(server.requests) == 1
    assert len(records) == 1 and records[0].status == 500


def test_idempotent_override_both_ways(server):
    server.script = [(500, {}, b"{}")]
    assert make_client(server.url).json("POST", "/adjust", idempotent=True) == {"ok": True}
    assert len(server.requests) == 2
    server.script = [(500, {}, b"{}")] * 3
    with pytest.raises(ServerError):
        make_client(server.url).json("PUT", "/shipment", idempotent=False)
    assert len(server.requests) == 3


# -- network errors -------------------------------------------------------------------------
def test_connection_refused_is_network_error(records):
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(NetworkError) as info:
        make_client(url, records, max_retries=1).json("POST", "/v1/orders")
    assert info.value.transient
    assert "connection refused" in str(info.value)
    assert len(records) == 2 and all(r.status is None and r.error for r in records)


def test_read_timeout_is_network_error_and_post_is_not_resent():
    silent = SilentServer()
    try:
        http = make_client(silent.url, timeout=(1.0, 0.3))
        started = time.monotonic()
        with pytest.raises(NetworkError) as info:
            http.json("POST", "/v1/orders/sendtofulfillment")
        assert time.monotonic() - started < 1.5
        assert "did not answer" in str(info.value)
        time.sleep(0.1)
        assert len(silent.accepted) == 1  # one connection, never a second POST

        with pytest.raises(NetworkError):
            make_client(silent.url, timeout=(1.0, 0.2), max_retries=1).json("GET", "/v1/warehouses")
        time.sleep(0.1)
        assert len(silent.accepted) == 3  # the GET was tried twice
    finally:
        silent.close()


def test_the_policy_overrides_no_private_method_of_urllib3():
    """Only urllib3's public hooks are subclassed: a private one may change in any release."""
    private = [name for name in vars(retry.HubRetry) if name.startswith("_") and not name.startswith("__")]
    assert private == []


def test_an_idempotent_override_is_the_calls_own(server):
    """Calls of one client share its adapter and Retry: one call's override must not leak to another."""
    http = make_client(server.url)
    server.script = [(500, {}, b"{}")]
    assert http.json("POST", "/adjust", idempotent=True) == {"ok": True}
    server.script = [(500, {}, b"{}")] * 3
    with pytest.raises(ServerError):
        http.json("POST", "/sendtofulfillment")
    assert len(server.requests) == 3  # two for the first call, one for the second
