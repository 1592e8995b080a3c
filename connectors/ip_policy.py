"""Which IP addresses the hub may connect to: one rule for the base-URL check and the connect-time guard.

`refused(address) -> bool` is True for every address that is not a public unicast address:
private, loopback, link-local, unspecified, reserved, documentation, shared (CGNAT), multicast,
and the extra ranges requests-hardened blocks (NAT64, 6to4, segment routing, ORCHIDv2, ...).

IPv6 forms that carry an IPv4 address inside them are judged by that IPv4 address
(`embedded_ipv4`), because the network may deliver them to it:

- IPv4-compatible `::a.b.c.d` (`::/96`, deprecated by RFC 4291 section 2.5.5.1), except `::` and
  `::1`, which are the unspecified and loopback addresses themselves (and refused as such);
- IPv4-mapped `::ffff:a.b.c.d` (`::ffff:0:0/96`, RFC 4291 section 2.5.5.2);
- IPv4-translated `::ffff:0:a.b.c.d` (`::ffff:0:0:0/96`, RFC 2765 section 2.1).

requests-hardened 1.3.0 unwraps only the mapped form (`ip_filter.get_ip_address`), so
`https://[::10.0.0.1]/` passed it and a connect to `::a00:1` was attempted. `GuardedIPFilterAdapter`
is its adapter with this rule applied to the address it resolved and is about to connect to (no
second DNS lookup, so the answer cannot change between check and connect).
"""

from __future__ import annotations

import ipaddress
import logging

from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES, InvalidIPAddress
from requests_hardened.ip_filter_adapter import IPFilterAdapter

__all__ = ["GuardedIPFilterAdapter", "embedded_ipv4", "refused"]

logger = logging.getLogger(__name__)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
NOT_EMBEDDING = (ipaddress.IPv6Address("::"), ipaddress.IPv6Address("::1"))


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-compatible, -mapped or -translated IPv6 address carries, else None."""
    if address.version != 6:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NOT_EMBEDDING:
        return None
    if address in IPV4_COMPATIBLE or address in IPV4_TRANSLATED:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refused(address: Address) -> bool:
    """True when the hub must not connect to `address` (see the module docstring)."""
    address = embedded_ipv4(address) or address
    return (
        not address.is_global
        or address.is_multicast
        or any(address in network for network in EXTRA_BLOCKED_NET_RANGES if network.version == address.version)
    )


class GuardedIPFilterAdapter(IPFilterAdapter):
    """requests-hardened's `IPFilterAdapter`, also refusing what `refused` refuses.

    The parent resolves the host, refuses what its own filter refuses and pins the connection to
    the address it checked (keeping Host and TLS SNI); this re-checks that same pinned address
    before any connection is opened, raising requests-hardened's own `InvalidIPAddress`.
    """

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        pinned = ipaddress.ip_address(host_params["host"].strip("[]"))
        if self._allow_loopback and (embedded_ipv4(pinned) or pinned).is_loopback:
            return host_params, pool_kwargs  # the parent's own switch, honoured the same way
        if refused(pinned):
            logger.warning("Forbidden IP address: %s (embedded IPv4 %s)", pinned, embedded_ipv4(pinned))
            raise InvalidIPAddress(pinned)
        return host_params, pool_kwargs
