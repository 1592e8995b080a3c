"""tenants.crypto: MultiFernet over HUB_ENCRYPTION_KEYS, newest first; failures raise."""

import pytest
from cryptography.fernet import Fernet, InvalidToken

from tenants import crypto


@pytest.fixture
def keys():
    return Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_round_trip_and_fresh_tokens(settings):
    token = crypto.encrypt("s3cret ünïcode")
    assert "s3cret" not in token
    assert crypto.decrypt(token) == "s3cret ünïcode"
    # A fresh IV each time: equal secrets do not give equal ciphertext.
    assert crypto.encrypt("s3cret ünïcode") != token


def test_encrypts_with_the_newest_key_and_still_reads_older_ones(settings, keys):
    new, old = keys
    settings.HUB_ENCRYPTION_KEYS = [old]
    old_token = crypto.encrypt("pw")

    settings.HUB_ENCRYPTION_KEYS = [new, old]
    assert crypto.decrypt(old_token) == "pw"
    new_token = crypto.encrypt("pw")
    # Made with the first key: readable with it alone, not with the old one alone.
    assert Fernet(new.encode()).decrypt(new_token.encode()) == b"pw"
    with pytest.raises(InvalidToken):
        Fernet(old.encode()).decrypt(new_token.encode())


def test_rotate_moves_a_token_to_the_newest_key(settings, keys):
    new, old = keys
    settings.HUB_ENCRYPTION_KEYS = [old]
    token = crypto.encrypt("pw")
    settings.HUB_ENCRYPTION_KEYS = [new, old]
    rotated = crypto.rotate(token)
    settings.HUB_ENCRYPTION_KEYS = [new]
    assert crypto.decrypt(rotated) == "pw"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)


@pytest.mark.parametrize("bad", ["not a token", "gAAAAABbroken", "ü-not-ascii", ""])
def test_undecryptable_input_raises_and_never_returns_the_input(bad):
    with pytest.raises(crypto.DecryptionError) as excinfo:
        crypto.decrypt(bad)
    assert "HUB_ENCRYPTION_KEYS" in str(excinfo.value)
    with pytest.raises(crypto.DecryptionError):
        crypto.rotate(bad)


def test_a_token_from_an_unknown_key_raises(settings, keys):
    settings.HUB_ENCRYPTION_KEYS = [keys[0]]
    token = crypto.encrypt("pw")
    settings.HUB_ENCRYPTION_KEYS = [keys[1]]
    with pytest.raises(crypto.DecryptionError) as excinfo:
        crypto.decrypt(token)
    assert token not in str(excinfo.value)


def test_no_keys_in_production_refuses_to_work(settings):
    settings.DEBUG = False
    settings.HUB_ENCRYPTION_KEYS = []
    with pytest.raises(crypto.DecryptionError, match="not set"):
        crypto.encrypt("pw")


def test_debug_without_keys_uses_the_development_key(settings):
    settings.DEBUG = True
    settings.HUB_ENCRYPTION_KEYS = [" ", ""]
    assert crypto.configured_keys() == [crypto.DEVELOPMENT_KEY]
    assert crypto.decrypt(crypto.encrypt("demo")) == "demo"


def test_keys_are_stripped_and_blank_entries_ignored(settings, keys):
    settings.HUB_ENCRYPTION_KEYS = [f" {keys[0]} ", "", keys[1]]
    assert crypto.configured_keys() == [keys[0], keys[1]]


def test_generate_key_gives_a_usable_fernet_key():
    key = crypto.generate_key()
    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"x")) == b"x"
    assert crypto.generate_key() != key
