"""connectors.ip_policy: which addresses the hub may connect to, IPv6 forms of IPv4 addresses included."""

import ipaddress

import pytest
from requests_hardened.ip_filter import filter_host

from connectors.ip_policy import embedded_ipv4, refused


@pytest.mark.parametrize(
    "text, embedded",
    [
        ("::10.0.0.1", "10.0.0.1"),  # IPv4-compatible, RFC 4291 2.5.5.1 (deprecated)
        ("::a00:1", "10.0.0.1"),  # the same, written in hex
        ("::1", None),  # loopback and unspecified are themselves, not 0.0.0.x
        ("::", None),
        ("::ffff:10.0.0.1", "10.0.0.1"),  # IPv4-mapped, RFC 4291 2.5.5.2
        ("::ffff:0:10.0.0.1", "10.0.0.1"),  # IPv4-translated, RFC 2765 2.1
        ("::1:10.0.0.1", None),  # outside all three prefixes
        ("2606:4700::1111", None),
        ("10.0.0.1", None),  # IPv4 itself
    ],
)
def test_embedded_ipv4(text, embedded):
    found = embedded_ipv4(ipaddress.ip_address(text))
    assert (str(found) if found else None) == embedded


@pytest.mark.parametrize(
    "text",
    [
        "::10.0.0.1",
        "::a00:1",
        "::127.0.0.1",
        "::169.254.169.254",
        "::192.168.1.1",
        "::100.64.0.1",
        "::ffff:10.0.0.1",
        "::ffff:0:10.0.0.1",
        "::ffff:0:7f00:1",
        "::",
        "::1",
        "10.0.0.1",
        "127.0.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "192.0.2.1",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "2001:db8::1",
        "64:ff9b::8.8.8.8",
        "64:ff9b:1::1",
        "2002:808:808::1",
        "5f00::1",  # refused whole by requests-hardened
    ],
)
def test_refused(text):
    assert refused(ipaddress.ip_address(text))


@pytest.mark.parametrize("text", ["8.8.8.8", "::8.8.8.8", "::ffff:8.8.8.8", "::ffff:0:8.8.8.8", "2606:4700::1111"])
def test_public_addresses_are_allowed_whatever_their_form(text):
    assert not refused(ipaddress.ip_address(text))


@pytest.mark.parametrize("host", ["::a00:1", "::ffff:0:a00:1"])
def test_canary_requests_hardened_itself_lets_these_forms_through(host):
    """The gap `GuardedIPFilterAdapter` closes, in the pinned requests-hardened (1.3.0). When this
    fails, the library refuses them itself and the adapter's extra check may go."""
    assert filter_host(host, 443, allow_loopback=False) == f"[{host}]"


def test_the_adapter_honours_requests_hardeneds_loopback_switch():
    """allow_loopback=True lets loopback through (the hub never sets it; the contract is the library's)."""
    import requests

    from connectors.ip_policy import GuardedIPFilterAdapter

    prepared = requests.Request("GET", "http://127.0.0.1:9/").prepare()
    loopback_allowed = GuardedIPFilterAdapter(is_https_proto=False, allow_loopback=True)
    host_params, _ = loopback_allowed.build_connection_pool_key_attributes(prepared, True)
    assert host_params["host"] == "127.0.0.1"
    prepared_v6 = requests.Request("GET", "http://[::1]:9/").prepare()
    assert loopback_allowed.build_connection_pool_key_attributes(prepared_v6, True)[0]["host"] == "[::1]"
    with pytest.raises(requests.RequestException):
        GuardedIPFilterAdapter(is_https_proto=False).build_connection_pool_key_attributes(prepared, True)
