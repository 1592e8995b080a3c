"""manage.py rotate_secrets: re-encryption under the newest key, --verify and --generate-key."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection as db

from tenants.fields import TOKEN_PREFIX
from tenants.management.commands.rotate_secrets import encrypted_fields
from tenants.models import OrderManagerConnection, Warehouse
from tests import factories

pytestmark = pytest.mark.django_db

KEY_A, KEY_B, KEY_C = (Fernet.generate_key().decode() for _ in range(3))


def run(*args, **options):
    out = io.StringIO()
    call_command("rotate_secrets", *args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def raw(model, field, pk):
    table, column = db.ops.quote_name(model._meta.db_table), db.ops.quote_name(model._meta.get_field(field).column)
    with db.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def set_raw(model, field, pk, value):
    table, column = db.ops.quote_name(model._meta.db_table), db.ops.quote_name(model._meta.get_field(field).column)
    with db.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk])


def readable_with(key, token):
    try:
        Fernet(key.encode()).decrypt(token[len(TOKEN_PREFIX) :].encode())
    except Exception:
        return False
    return True


@pytest.fixture
def secrets_under_a(settings):
    settings.HUB_ENCRYPTION_KEYS = [KEY_A]
    return [
        factories.OrderManagerConnectionFactory(
            access_token=f"om-pw-{n}",
            warehouse__client_secret=f"wms-{n}",
            warehouse__tpl_key="",
        )
        for n in range(3)
    ]


def test_discovers_every_encrypted_field_through_the_app_registry():
    found = {(model, field.name) for model, field in encrypted_fields()}
    assert {
        (Warehouse, "client_secret"),
        (Warehouse, "tpl_key"),
        (OrderManagerConnection, "access_token"),
    } <= found


def test_rotates_from_a_to_b_then_verifies_with_b_alone(settings, secrets_under_a):
    conn = secrets_under_a[1]
    before = raw(OrderManagerConnection, "access_token", conn.pk)
    assert readable_with(KEY_A, before)

    settings.HUB_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    report = run("--verify")
    assert "6 stored secrets checked: 0 under the newest key, 6 under an older key" in report

    out = run(batch_size=2)  # several batches per table
    assert "Done: 6 re-encrypted, 0 encrypted (was plaintext), 0 already current." in out
    assert "tenants.OrderManagerConnection access_token: 3 re-encrypted" in out
    after = raw(OrderManagerConnection, "access_token", conn.pk)
    assert after != before and readable_with(KEY_B, after) and not readable_with(KEY_A, after)

    settings.HUB_ENCRYPTION_KEYS = [KEY_B]
    assert "6 under the newest key, 0 under an older key" in run("--verify")
    for n, c in enumerate(secrets_under_a):
        fresh = OrderManagerConnection.objects.select_related("warehouse").get(pk=c.pk)
        assert (fresh.access_token, fresh.warehouse.client_secret) == (f"om-pw-{n}", f"wms-{n}")

    # Running again changes nothing that is already current.
    assert "0 re-encrypted, 0 encrypted (was plaintext), 6 already current" in run()
    assert raw(OrderManagerConnection, "access_token", conn.pk) == after


def test_verify_with_a_wrong_key_fails_naming_model_pk_and_field(settings, secrets_under_a):
    settings.HUB_ENCRYPTION_KEYS = [KEY_C]
    with pytest.raises(CommandError) as excinfo:
        run("--verify")
    message = str(excinfo.value)
    assert excinfo.value.returncode == 1
    assert "6 stored secrets cannot be decrypted with the configured HUB_ENCRYPTION_KEYS" in message
    conn = secrets_under_a[0]
    assert f"tenants.OrderManagerConnection pk={conn.pk} field access_token" in message
    assert f"tenants.Warehouse pk={conn.warehouse.pk} field client_secret" in message
    for n in range(3):
        assert f"om-pw-{n}" not in message and f"wms-{n}" not in message
    assert TOKEN_PREFIX not in message


def test_rotation_is_all_or_nothing(settings, secrets_under_a):
    settings.HUB_ENCRYPTION_KEYS = [KEY_C]
    stranger = factories.OrderManagerConnectionFactory(access_token="under-c")
    settings.HUB_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    untouched = raw(OrderManagerConnection, "access_token", secrets_under_a[0].pk)
    with pytest.raises(CommandError) as excinfo:
        run()
    assert f"tenants.OrderManagerConnection pk={stranger.pk} field access_token" in str(excinfo.value)
    assert "Nothing was changed." in str(excinfo.value)
    assert raw(OrderManagerConnection, "access_token", secrets_under_a[0].pk) == untouched


def test_plaintext_in_the_column_fails_verify_and_gets_encrypted(settings, secrets_under_a):
    conn = secrets_under_a[0]
    set_raw(OrderManagerConnection, "access_token", conn.pk, "written-around-the-field")
    with pytest.raises(CommandError, match=f"(?s)1 secrets are stored unencrypted.*pk={conn.pk} field access_token"):
        run("--verify")
    assert "1 encrypted (was plaintext)" in run()
    stored = raw(OrderManagerConnection, "access_token", conn.pk)
    assert stored.startswith(TOKEN_PREFIX) and "written-around-the-field" not in stored
    assert OrderManagerConnection.objects.get(pk=conn.pk).access_token == "written-around-the-field"
    run("--verify")


def test_without_keys_in_production_it_refuses(settings):
    settings.DEBUG = False
    settings.HUB_ENCRYPTION_KEYS = []
    with pytest.raises(CommandError, match="HUB_ENCRYPTION_KEYS is not set"):
        run()


def test_generate_key_prints_a_fernet_key():
    key = run("--generate-key").strip()
    Fernet(key.encode())  # raises if not a key
    assert run("--generate-key").strip() != key


def test_bad_batch_size_is_refused():
    with pytest.raises(CommandError, match="batch-size"):
        run(batch_size=0)
