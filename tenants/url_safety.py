"""Rules for the base URLs an operator types into a connection, in plain words.

`base_url_problem(url) -> str` returns "" for a URL the hub may call, else why not:
- only http(s) URLs with a host;
- no credentials inside the URL (`https://user:pass@host`): they would be stored unencrypted,
  shown in the admin and written to logs; credentials have their own encrypted fields;
- no query string or fragment (the clients append their own paths and parameters);
- https only, unless insecure URLs are allowed (`insecure_urls_allowed()`: DEBUG or the sandbox);
- no literal address the hub may not connect to (`connectors.ip_policy.refused`: private,
  loopback, link-local, reserved, CGNAT, multicast, and IPv6 forms embedding such an IPv4
  address, e.g. `[::10.0.0.1]`), nor `localhost`, unless private addresses are allowed
  (`tenants.clients.allow_private_addresses()`).

The last rule only catches what the URL spells out; a public name that resolves to a private
address is refused at connect time by `connectors.transport.session` (requests-hardened), which is the real
guard. `validate_base_url` is the same check as a Django validator.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from connectors import ip_policy

from .clients import allow_private_addresses

LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def insecure_urls_allowed() -> bool:
    """http:// URLs are accepted only in development (DEBUG) or with the sandbox enabled."""
    return bool(settings.DEBUG or settings.SANDBOX_ENABLED)


def _is_local_host(host: str) -> bool:
    host = host.strip("[]").lower().rstrip(".")
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    # The connect-time guard's own rule, so both refuse the same addresses (IPv6 forms that
    # embed an IPv4 address included).
    return ip_policy.refused(address)


def base_url_problem(url: str) -> str:
    """Why `url` cannot be a connection's base URL, or "" when it can."""
    try:
        parts = urlsplit((url or "").strip())
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "This is not a valid URL."
    if parts.scheme not in ("http", "https") or not host:
        return "Enter a URL that starts with https:// and names a host, e.g. https://api.skubana.com."
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return (
            "Remove the user name and password from the URL (user:password@host): URLs are stored and shown "
            "unencrypted. Enter the credentials in their own fields."
        )
    if parts.query or parts.fragment:
        return "Remove the query string (?…) or fragment (#…): enter only the API's root URL."
    if parts.scheme == "http" and not insecure_urls_allowed():
        return "Use https://: credentials and orders must not travel unencrypted."
    if _is_local_host(host) and not allow_private_addresses():
        return (
            "This URL points to a private or local network address; the hub only connects to public "
            "services (local addresses are allowed only with the sandbox)."
        )
    return ""


def validate_base_url(value: str) -> None:
    problem = base_url_problem(value)
    if problem:
        raise ValidationError(problem, code="unsafe_url")
