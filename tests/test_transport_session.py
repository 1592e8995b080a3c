"""connectors.transport.session: requests-hardened's session, with the hub's private-address guard."""

from __future__ import annotations

import time

import pytest
from requests_hardened import HTTPSession

from connectors.errors import MalformedResponse, NetworkError, PermanentError
from connectors.ip_policy import GuardedIPFilterAdapter
from connectors.transport import HttpClient
from tests.http_servers import SilentServer, free_port, make_client, scripted_server

TOKEN = "tok-abcdef123456"


@pytest.fixture
def connects(monkeypatch):
    """Every TCP connect urllib3 attempts, recorded and refused (nothing leaves the machine)."""
    import urllib3.util.connection

    attempted = []

    def refuse(address, *args, **kwargs):
        attempted.append(address)
        raise ConnectionRefusedError(f"test: no connect to {address}")

    monkeypatch.setattr(urllib3.util.connection, "create_connection", refuse)
    return attempted


@pytest.mark.parametrize(
    "host",
    [
        "[::10.0.0.1]",  # IPv4-compatible (deprecated, RFC 4291 2.5.5.1): the probe's finding
        "[::a00:1]",  # the same address in hex
        "[::127.0.0.1]",
        "[::169.254.169.254]",
        "[::ffff:0:10.0.0.1]",  # IPv4-translated (RFC 2765)
        "[::ffff:10.0.0.1]",  # IPv4-mapped (requests-hardened already refused it)
    ],
)
def test_ipv6_forms_of_a_private_ipv4_address_are_refused_before_any_connect(connects, host):
    blocked = HttpClient(f"https://{host}", block_private_addresses=True, timeout=2, max_retries=0)
    with pytest.raises(PermanentError, match="resolves to a private, loopback or link-local address"):
        blocked.json("GET", "/v1/warehouses", headers={"Authorization": f"Bearer {TOKEN}"})
    assert connects == []


def test_an_ipv4_compatible_form_of_a_public_address_is_judged_by_that_address(connects):
    # The rule refuses by the embedded address, not the whole deprecated range: the connect is
    # attempted (and refused by the test's stand-in for the network).
    allowed = HttpClient("https://[::8.8.8.8]", block_private_addresses=True, timeout=2, max_retries=0)
    with pytest.raises(NetworkError):
        allowed.json("GET", "/v1/warehouses")
    assert [address[0] for address in connects] == ["::808:808"]


# -- requests-hardened's configuration ------------------------------------------------------------
@pytest.fixture
def server():
    with scripted_server() as srv:
        yield srv


def test_the_session_is_requests_hardeneds_and_every_adapter_retries_by_the_policy():
    for block in (False, True):
        http = HttpClient("https://example.test", block_private_addresses=block)
        assert isinstance(http.session, HTTPSession)
        adapters = list(http.session.adapters.values())
        assert adapters and all(adapter.max_retries is http.retry for adapter in adapters)
        assert all(isinstance(adapter, GuardedIPFilterAdapter) for adapter in adapters) == block


def test_a_redirect_is_never_followed(server):
    server.script = [(302, {"Location": "/elsewhere"}, b"")]
    with pytest.raises(MalformedResponse, match="unexpected HTTP 302"):
        make_client(server.url).request("GET", "/x")
    assert [r["path"] for r in server.requests] == ["/x"]


def test_proxies_from_the_environment_are_ignored(server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "")
    assert make_client(server.url, max_retries=0).json("GET", "/x") == {"ok": True}
    assert len(server.requests) == 1


def test_every_call_gets_the_clients_timeout():
    silent = SilentServer()
    try:
        started = time.monotonic()
        with pytest.raises(NetworkError, match="within 0.3 s"):
            HttpClient(silent.url, timeout=(1.0, 0.3), max_retries=0).json("GET", "/x")
        assert time.monotonic() - started < 1.5
    finally:
        silent.close()


# -- pool size ----------------------------------------------------------------------------------
def test_the_pool_keeps_pool_maxsize_connections_per_host():
    default = HttpClient("https://wms.example.test")
    sized = HttpClient("https://wms.example.test", pool_maxsize=16)
    for adapter in default.session.adapters.values():
        assert adapter.poolmanager.connection_pool_kw["maxsize"] == 10
    for adapter in sized.session.adapters.values():
        assert adapter.poolmanager.connection_pool_kw["maxsize"] == 16
        assert adapter._pool_maxsize == 16
    pool = sized.session.get_adapter("https://wms.example.test").poolmanager.connection_from_url(
        "https://wms.example.test"
    )
    assert pool.pool.maxsize == 16


def test_a_guarded_session_keeps_its_pool_size():
    sized = HttpClient("https://wms.example.test", pool_maxsize=12, block_private_addresses=True)
    adapter = sized.session.get_adapter("https://wms.example.test")
    assert isinstance(adapter, GuardedIPFilterAdapter)
    assert adapter.poolmanager.connection_pool_kw["maxsize"] == 12


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "8"])
def test_a_bad_pool_size_is_refused(bad):
    with pytest.raises(ValueError, match="pool_maxsize"):
        HttpClient("https://wms.example.test", pool_maxsize=bad)
