"""ShipHero's access token: minted from the account's refresh token, cached per process.

Contract (docs/wire-protocols.md SH-1):
- `request_token(http, refresh_token)` sends `POST /auth/refresh` with `{"refresh_token": ...}`
  and returns an authlib `OAuth2Token` (`access_token`, `expires_in` in seconds). A refusal
  (401/403 or another 4xx) is `AuthenticationError` asking to check the refresh token; an answer
  without an `access_token` or with an unusable `expires_in` is `MalformedResponse`; none at all
  means `DEFAULT_TOKEN_LIFETIME`;
- `SharedTokens` keeps one token per (base URL, refresh token) for the whole process, keyed by a
  SHA-256 of the two (`cache_key`), so every client of one ShipHero account shares it instead
  of minting one per run. `current(key, mint)` returns the cached token, minting one (one mint at
  a time per key) when there is none or `RENEW_AT` of its lifetime has passed: it is renewed
  ahead of expiry, never used expired; `renew(key, mint)` mints one now whatever is cached (a
  connection test). `invalidate(key, token)` forgets a token the API refused
  (unless another thread has replaced it already). The clock is monotonic (`_clock`, moved by
  tests): a wall-clock jump neither expires nor extends a token.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from authlib.oauth2.rfc6749 import OAuth2Token

from connectors.errors import AuthenticationError, NotFound, RequestRejected
from connectors.transport import HttpClient
from connectors.transport.oauth import token_from_answer

__all__ = [
    "DEFAULT_TOKEN_LIFETIME",
    "REFRESH_PATH",
    "RENEW_AT",
    "TOKENS",
    "SharedTokens",
    "cache_key",
    "request_token",
]

REFRESH_PATH = "/auth/refresh"
# Public clients show expires_in 2419200 (28 days) in the refresh answer (docs/wire-protocols.md
# SH-1); used only when an answer names no lifetime. Unverified as a fixed number, hence read.
DEFAULT_TOKEN_LIFETIME = 2419200.0
RENEW_AT = 0.8  # share of a token's lifetime after which it is minted again

_clock = time.monotonic


def cache_key(base_url: str, refresh_token: str) -> str:
    """The cache's key for one account: a SHA-256, so no refresh token is ever kept as a key."""
    return hashlib.sha256(f"{base_url.rstrip('/')}\0{refresh_token}".encode()).hexdigest()


def request_token(http: HttpClient, refresh_token: str) -> OAuth2Token:
    """`POST /auth/refresh`: a new access token for `refresh_token`."""
    if not refresh_token or not refresh_token.strip():
        raise AuthenticationError("No ShipHero refresh token is configured for this warehouse.")
    try:
        response = http.request(
            "POST",
            REFRESH_PATH,
            json={"refresh_token": refresh_token},
            headers={"Accept": "application/json"},
            ok_statuses=(200,),
            idempotent=True,  # minting again is harmless: a lost answer may be asked for once more
        )
    except (AuthenticationError, RequestRejected, NotFound) as exc:
        raise AuthenticationError(
            f"ShipHero refused the refresh token (HTTP {exc.status}); create a new one under "
            "My Account > Third-Party Developer and save it in the warehouse settings.",
            status=exc.status,
            body_excerpt=exc.body_excerpt,
            method="POST",
            path=REFRESH_PATH,
        ) from exc
    return token_from_answer(response, service="ShipHero", path=REFRESH_PATH, default_lifetime=DEFAULT_TOKEN_LIFETIME)


@dataclass
class _Entry:
    token: OAuth2Token
    renew_after: float  # _clock() deadline


class SharedTokens:
    """The process's ShipHero tokens, one per account key (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._minting: dict[str, threading.Lock] = {}

    def current(self, key: str, mint: Callable[[], OAuth2Token]) -> OAuth2Token:
        entry = self._fresh(key)
        if entry is not None:
            return entry.token
        with self._minting_lock(key):  # one mint at a time per account; the others wait and take its token
            entry = self._fresh(key)
            if entry is not None:
                return entry.token
            return self._keep(key, mint())

    def renew(self, key: str, mint: Callable[[], OAuth2Token]) -> OAuth2Token:
        """Mint a new token now whatever is cached (a connection test), and keep it."""
        with self._minting_lock(key):
            return self._keep(key, mint())

    def _minting_lock(self, key: str) -> threading.Lock:
        with self._lock:
            return self._minting.setdefault(key, threading.Lock())

    def _keep(self, key: str, token: OAuth2Token) -> OAuth2Token:
        lifetime = float(token.get("expires_in") or DEFAULT_TOKEN_LIFETIME)
        with self._lock:
            self._entries[key] = _Entry(token, _clock() + lifetime * RENEW_AT)
        return token

    def invalidate(self, key: str, token: OAuth2Token) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.token.get("access_token") == token.get("access_token"):
                del self._entries[key]

    def clear(self) -> None:
        """Forget every token (tests; a process that must start over)."""
        with self._lock:
            self._entries.clear()

    def _fresh(self, key: str) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            return entry if entry is not None and _clock() < entry.renew_after else None

    def __repr__(self) -> str:  # never the tokens
        return f"SharedTokens({len(self._entries)} cached)"


TOKENS = SharedTokens()
