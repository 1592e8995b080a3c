"""Encryption of credentials at rest: MultiFernet over keys from `HUB_ENCRYPTION_KEYS`.

Contract:
- `encrypt(text)` always uses the newest key (the first in the list).
- `decrypt(token)` accepts a token made with any configured key and raises `DecryptionError`
  when none fits; it never returns the ciphertext or an empty string in its place.
- `rotate(token)` re-encrypts under the newest key (used by `manage.py rotate_secrets`).

The keys are separate from SECRET_KEY. In DEBUG with no key configured, a fixed development key
is used so the embedded demo runs out of the box; the `tenants.E001` check refuses that in
production.
"""

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

# Derived from a public constant: it protects nothing and exists only so DEBUG runs need no set-up.
DEVELOPMENT_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"order-manager-hub development key").digest()).decode()


class DecryptionError(Exception):
    """A stored secret could not be decrypted with any configured key."""


def configured_keys() -> list[str]:
    """Keys from settings, newest first; the development key when none is set in DEBUG."""
    keys = [k.strip() for k in settings.HUB_ENCRYPTION_KEYS if k and k.strip()]
    if not keys and settings.DEBUG:
        keys = [DEVELOPMENT_KEY]
    return keys


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    keys = configured_keys()
    if not keys:
        raise DecryptionError("HUB_ENCRYPTION_KEYS is not set: credentials cannot be encrypted or read.")
    return MultiFernet([Fernet(k.encode()) for k in keys])


@receiver(setting_changed)
def _reset_on_settings_change(setting, **kwargs):
    if setting in ("HUB_ENCRYPTION_KEYS", "DEBUG"):
        _fernet.cache_clear()


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError, UnicodeError) as exc:
        raise DecryptionError(
            "A stored secret cannot be decrypted with the configured HUB_ENCRYPTION_KEYS "
            "(was a key removed before `rotate_secrets` ran?)."
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt a token under the newest key; raises DecryptionError like `decrypt`."""
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, ValueError) as exc:
        raise DecryptionError("A stored secret cannot be decrypted with the configured keys.") from exc


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")
