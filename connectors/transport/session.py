"""The ``requests`` session under every client: requests-hardened's, configured by its ``Config``.

Contract of ``hardened_session(...)``:
- a ``requests_hardened.HTTPSession`` whose ``Config`` never follows redirects and gives every
  call the client's timeout (``requests`` has none by default);
- no proxies, ``.netrc`` credentials or CA overrides picked up from the environment;
- every adapter retries by the client's policy (``transport.retry``);
- ``block_private_addresses=True`` (``Config.ip_filter_enable``) refuses, at connect time, hosts
  that resolve to addresses ``connectors.ip_policy.refused`` refuses (private, loopback,
  link-local, ... and IPv6 forms embedding such an IPv4 address), raising requests-hardened's
  ``InvalidIPAddress``. The host is resolved once and the connection pinned to the checked
  address (keeping Host and TLS SNI), so DNS cannot answer differently between check and connect.
- every adapter keeps up to ``pool_maxsize`` connections per host (requests' default is 10): a
  client whose calls overlap more than that would open a connection per extra call and discard it
  afterwards ("Connection pool is full"), paying a new TCP and TLS handshake each time.
"""

from __future__ import annotations

import dataclasses

from requests_hardened import Config, HTTPSession
from urllib3.util.retry import Retry

from connectors.ip_policy import GuardedIPFilterAdapter

__all__ = ["DEFAULT_POOL_MAXSIZE", "GuardedHTTPSession", "hardened_session"]

# requests.adapters.DEFAULT_POOLSIZE, spelled out: the floor the hub never goes below.
DEFAULT_POOL_MAXSIZE = 10


class GuardedHTTPSession(HTTPSession):
    """requests-hardened's ``HTTPSession`` with the hub's stricter IP rule.

    With ``ip_filter_enable`` the parent mounts requests-hardened's ``IPFilterAdapter``, which
    lets IPv4-compatible and -translated IPv6 forms of private addresses through (see
    ``connectors.ip_policy``); this session mounts ``GuardedIPFilterAdapter`` (the same adapter,
    re-checking the address it pinned) from the same ``Config`` fields instead.
    """

    def __init__(self, config: Config, **kwargs) -> None:
        super().__init__(dataclasses.replace(config, ip_filter_enable=False), **kwargs)
        if config.ip_filter_enable:
            for prefix, https in (("http://", False), ("https://", True)):
                adapter = GuardedIPFilterAdapter(
                    is_https_proto=https,
                    allow_loopback=config.ip_filter_allow_loopback_ips,
                    tls_sni_support=config.ip_filter_tls_sni_support,
                )
                self.mount(prefix, adapter)


def hardened_session(
    *,
    timeout: tuple[float, float],
    retry: Retry,
    block_private_addresses: bool,
    headers: dict[str, str],
    pool_maxsize: int = DEFAULT_POOL_MAXSIZE,
) -> GuardedHTTPSession:
    """A session for one client (see the module docstring); ``headers`` go on every call,
    ``pool_maxsize`` connections per host are kept for reuse."""
    if isinstance(pool_maxsize, bool) or not isinstance(pool_maxsize, int) or pool_maxsize < 1:
        raise ValueError(f"pool_maxsize must be a whole number of at least 1 (got {pool_maxsize!r})")
    session = GuardedHTTPSession(
        Config(
            ip_filter_enable=block_private_addresses,
            ip_filter_allow_loopback_ips=False,
            never_redirect=True,
            default_timeout=timeout,
        )
    )
    session.trust_env = False
    for adapter in session.adapters.values():
        adapter.max_retries = retry
        if adapter._pool_maxsize != pool_maxsize:
            # requests-hardened builds its adapters with requests' defaults and no way to pass a size;
            # init_poolmanager is HTTPAdapter's documented hook for this. No pool exists yet, so
            # nothing is dropped. _pool_maxsize is what HTTPAdapter itself re-reads when unpickled.
            adapter._pool_maxsize = pool_maxsize
            adapter.init_poolmanager(adapter._pool_connections, pool_maxsize, block=adapter._pool_block)
    session.headers.update(headers)
    return session
