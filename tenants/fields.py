"""`EncryptedTextField`: a model field that stores a Fernet token and hands out a `Secret`.

The database column holds only ciphertext. In Python the value is a `Secret`, a `str` whose
`repr()` is masked, so a secret that slips into a log line, an exception or a debugger shows as
`Secret('***')`. `str(secret)` and string operations give the plaintext, which is what the HTTP
clients need.
"""
from django.db import models

from . import crypto

# Marks a value already encrypted, so saving twice never encrypts the ciphertext.
TOKEN_PREFIX = "fernet:"


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
        return self.to_python(value)

    def to_python(self, value):
        if value is None or isinstance(value, Secret):
            return value
        if value.startswith(TOKEN_PREFIX):
            return Secret(crypto.decrypt(value[len(TOKEN_PREFIX):]))
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
