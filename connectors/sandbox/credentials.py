"""Sandbox credentials: new random tokens, and the digests the tables keep instead of secrets.

Every password, app secret, install code and token of both sandbox services is stored as
`hash_secret(value)` and checked with `secret_matches`; a token is found by its digest.
"""

import hashlib
import hmac
import secrets


def hash_secret(value: str) -> str:
    """A keyed digest of a sandbox password, secret or token: the table never holds them in clear.

    Plain SHA-256 (not a slow password hash) on purpose: sandbox credentials are generated, random
    and printed by the `sandbox` command anyway, and every API call looks its token up by digest.
    """
    return hashlib.sha256(value.encode()).hexdigest()


def secret_matches(value: str, digest: str) -> bool:
    """Whether `value` is the secret of `digest`, compared in constant time."""
    return hmac.compare_digest(hash_secret(value), digest)


def new_token() -> str:
    """A new random token, code or secret (URL-safe, 32 random bytes)."""
    return secrets.token_urlsafe(32)
