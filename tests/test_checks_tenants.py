"""tenants.checks: the encryption-key and SECRET_KEY system checks."""

from cryptography.fernet import Fernet
from django.core import checks

from tenants.checks import check_encryption_keys, check_production_secret_key


def ids(messages):
    return [m.id for m in messages]


def test_configured_keys_pass(settings):
    settings.HUB_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), Fernet.generate_key().decode()]
    assert check_encryption_keys(None) == []


def test_missing_keys_are_an_error_in_production(settings):
    settings.DEBUG = False
    settings.HUB_ENCRYPTION_KEYS = ["", "  "]
    [message] = check_encryption_keys(None)
    assert message.id == "tenants.E001" and message.level == checks.ERROR
    assert "rotate_secrets --generate-key" in message.hint


def test_missing_keys_are_a_warning_in_debug(settings):
    settings.DEBUG = True
    settings.HUB_ENCRYPTION_KEYS = []
    [message] = check_encryption_keys(None)
    assert message.id == "tenants.W001" and message.level == checks.WARNING


def test_a_malformed_key_is_named_by_position(settings):
    settings.HUB_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), "not-a-fernet-key"]
    [message] = check_encryption_keys(None)
    assert message.id == "tenants.E002"
    assert "entry 2" in message.msg
    assert "not-a-fernet-key" not in message.msg  # never echo key material


def test_the_check_is_registered_for_every_run(settings):
    settings.DEBUG = False
    settings.HUB_ENCRYPTION_KEYS = []
    assert "tenants.E001" in ids(checks.run_checks(tags=[checks.Tags.security]))


def test_embedded_secret_key_is_refused_in_production(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = settings.DEV_SECRET_KEY
    assert ids(check_production_secret_key(None)) == ["tenants.E003"]
    settings.SECRET_KEY = "a-real-secret-key-from-the-environment-" + "x" * 20
    assert check_production_secret_key(None) == []
    settings.DEBUG = True
    settings.SECRET_KEY = settings.DEV_SECRET_KEY
    assert check_production_secret_key(None) == []


def test_production_without_the_order_manager_app_warns(settings):
    from tenants.checks import check_order_manager_app

    settings.DEBUG = False
    settings.HUB_OM_APP_KEY, settings.HUB_OM_APP_SECRET = "", "s"
    assert [m.id for m in check_order_manager_app(None)] == ["tenants.W002"]
    assert "HUB_OM_APP_KEY" in check_order_manager_app(None)[0].msg
    settings.HUB_OM_APP_KEY = "k"
    assert check_order_manager_app(None) == []
