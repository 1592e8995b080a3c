"""`EncryptedTextField`: a model field that stores a Fernet token and hands out a `Secret`.

The database column holds only ciphertext. In Python the value is a `Secret`, a `str` whose
`repr()` is masked, so a secret that slips into a log line, an exception or a debugger shows as
`Secret('***')`. `str(secret)` and string operations give the plaintext, which is what the HTTP
clients need.
"""

import base64
import binascii

from django.db import models

from . import crypto

# Marks a value already encrypted, so saving twice never encrypts the ciphertext.
TOKEN_PREFIX = "fernet:"
# A Fernet token: version byte 0x80, 8-byte timestamp, 16-byte IV, AES blocks, 32-byte HMAC.
_FERNET_VERSION, _FERNET_OVERHEAD, _AES_BLOCK = 0x80, 1 + 8 + 16 + 32, 16


def is_stored_token(value: str) -> bool:
    """Whether `value` is what this field stores (the prefix and a Fernet token), rather than a
    secret that merely starts with "fernet:" (a password may): only a stored token is decrypted."""
    if not value.startswith(TOKEN_PREFIX):
        return False
    try:
        data = base64.urlsafe_b64decode(value[len(TOKEN_PREFIX) :].encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return False
    body = len(data) - _FERNET_OVERHEAD
    return bool(data) and data[0] == _FERNET_VERSION and body >= _AES_BLOCK and body % _AES_BLOCK == 0


class Secret(str):
    """A string that never shows itself in `repr()`."""

    def __repr__(self) -> str:
        return "Secret('***')" if self else "Secret('')"

    def __reduce__(self):
        # Refuse to be pickled into task arguments or caches: pass ids, never secrets.
        raise TypeError("Secrets are not picklable; pass the owning object's id instead.")


class EncryptedTextField(models.TextField):
    description = "Text encrypted at rest with the hub's Fernet keys"

    def from_db_value(self, value, expression, connection):
        # From the column a prefixed value is always a token: a damaged one raises, never passes
        # itself off as the secret.
        if value is not None and value.startswith(TOKEN_PREFIX):
            return Secret(crypto.decrypt(value[len(TOKEN_PREFIX) :]))
        return self.to_python(value)

    def to_python(self, value):
        if value is None or isinstance(value, Secret):
            return value
        if is_stored_token(value):
            return Secret(crypto.decrypt(value[len(TOKEN_PREFIX) :]))
        return Secret(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return None
        if value == "":
            return ""
        return TOKEN_PREFIX + crypto.encrypt(str(value))

    def value_to_string(self, obj):
        # Serialisers (dumpdata) get the ciphertext, never the plaintext.
        value = self.value_from_object(obj)
        return self.get_prep_value(value) or ""
