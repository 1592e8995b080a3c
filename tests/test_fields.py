"""tenants.fields: EncryptedTextField stores only ciphertext and hands out masked `Secret`s."""

import json
import pickle

import pytest
from cryptography.fernet import Fernet
from django.core import serializers
from django.db import connection as db

from tenants import crypto
from tenants.fields import TOKEN_PREFIX, EncryptedTextField, Secret
from tenants.models import OrderManagerConnection, Warehouse
from tests import factories

pytestmark = pytest.mark.django_db


def raw_column(model, field_name, pk):
    """The value as stored, read with a plain cursor (no field converters)."""
    field = model._meta.get_field(field_name)
    table = db.ops.quote_name(model._meta.db_table)
    with db.cursor() as cursor:
        cursor.execute(f"SELECT {db.ops.quote_name(field.column)} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_round_trip_gives_secrets_with_the_plaintext():
    conn = factories.OrderManagerConnectionFactory(access_token="hunter2")
    fresh = OrderManagerConnection.objects.get(pk=conn.pk)
    assert isinstance(fresh.access_token, Secret)
    assert fresh.access_token == "hunter2"
    assert fresh.warehouse.client_secret == conn.warehouse.client_secret


def test_nothing_is_stored_in_plaintext():
    conn = factories.OrderManagerConnectionFactory(
        access_token="tok-plain-2",
        warehouse__client_secret="wms-plain-3",
        warehouse__tpl_key="tpl-plain-4",
    )
    stored = {
        "access_token": raw_column(OrderManagerConnection, "access_token", conn.pk),
        "client_secret": raw_column(Warehouse, "client_secret", conn.warehouse.pk),
        "tpl_key": raw_column(Warehouse, "tpl_key", conn.warehouse.pk),
    }
    for plaintext, raw in zip(["tok-plain-2", "wms-plain-3", "tpl-plain-4"], stored.values()):
        assert plaintext not in raw
        assert raw.startswith(TOKEN_PREFIX)
        assert crypto.decrypt(raw[len(TOKEN_PREFIX) :]) == plaintext


def test_blank_and_null_are_stored_as_they_are():
    conn = factories.OrderManagerConnectionFactory(access_token="")
    assert raw_column(OrderManagerConnection, "access_token", conn.pk) == ""
    assert OrderManagerConnection.objects.get(pk=conn.pk).access_token == ""
    field = EncryptedTextField()
    assert field.get_prep_value(None) is None
    assert field.to_python(None) is None


def test_a_value_that_cannot_be_decrypted_raises_instead_of_returning_ciphertext(settings):
    conn = factories.OrderManagerConnectionFactory(access_token="hunter2")
    settings.HUB_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.DecryptionError):
        OrderManagerConnection.objects.get(pk=conn.pk)


def test_a_corrupted_token_raises():
    conn = factories.OrderManagerConnectionFactory(access_token="hunter2")
    raw = raw_column(OrderManagerConnection, "access_token", conn.pk)
    with db.cursor() as cursor:
        cursor.execute(
            f"UPDATE {db.ops.quote_name(OrderManagerConnection._meta.db_table)} SET access_token = %s WHERE id = %s",
            [raw[:-4] + "AAAA", conn.pk],
        )
    with pytest.raises(crypto.DecryptionError):
        OrderManagerConnection.objects.values_list("access_token", flat=True).get(pk=conn.pk)


def test_repr_shows_no_secret():
    conn = factories.OrderManagerConnectionFactory(access_token="hunter2")
    fresh = OrderManagerConnection.objects.select_related("warehouse").get(pk=conn.pk)
    assert repr(fresh.access_token) == "Secret('***')"
    assert repr(Secret("")) == "Secret('')"
    for text in (repr(fresh), str(fresh), repr(fresh.warehouse), str(fresh.warehouse), repr(vars(fresh))):
        assert "hunter2" not in text
        assert "hunter2" not in text
    assert conn.warehouse.client_secret not in repr(vars(fresh.warehouse))


def test_secret_refuses_pickling():
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(Secret("hunter2"))
    conn = factories.OrderManagerConnectionFactory(access_token="hunter2")
    with pytest.raises(TypeError):
        pickle.dumps(OrderManagerConnection.objects.get(pk=conn.pk))


def test_saving_twice_does_not_double_encrypt():
    conn = factories.OrderManagerConnectionFactory(access_token="hunter2")
    conn.save()
    fresh = OrderManagerConnection.objects.get(pk=conn.pk)
    fresh.save()
    fresh.save()
    again = OrderManagerConnection.objects.get(pk=conn.pk)
    assert again.access_token == "hunter2"
    raw = raw_column(OrderManagerConnection, "access_token", conn.pk)
    assert crypto.decrypt(raw[len(TOKEN_PREFIX) :]) == "hunter2"


def test_assigning_a_stored_token_keeps_the_plaintext():
    # What loaddata does: the field gets the ciphertext back and must not encrypt it a second time.
    conn = factories.OrderManagerConnectionFactory(access_token="hunter2")
    conn.access_token = raw_column(OrderManagerConnection, "access_token", conn.pk)
    conn.save()
    assert OrderManagerConnection.objects.get(pk=conn.pk).access_token == "hunter2"


def test_value_to_string_and_dumpdata_give_ciphertext_that_loads_back():
    conn = factories.OrderManagerConnectionFactory(access_token="hunter2")
    field = OrderManagerConnection._meta.get_field("access_token")
    dumped = field.value_to_string(conn)
    assert dumped.startswith(TOKEN_PREFIX) and "hunter2" not in dumped
    assert crypto.decrypt(dumped[len(TOKEN_PREFIX) :]) == "hunter2"

    text = serializers.serialize("json", OrderManagerConnection.objects.filter(pk=conn.pk))
    assert "hunter2" not in text
    fields = json.loads(text)[0]["fields"]
    assert fields["access_token"].startswith(TOKEN_PREFIX)

    OrderManagerConnection.objects.filter(pk=conn.pk).update(access_token="changed")
    for obj in serializers.deserialize("json", text):
        obj.save()
    assert OrderManagerConnection.objects.get(pk=conn.pk).access_token == "hunter2"


def test_queryset_update_encrypts_too():
    conn = factories.OrderManagerConnectionFactory()
    OrderManagerConnection.objects.filter(pk=conn.pk).update(access_token="via-update")
    assert "via-update" not in raw_column(OrderManagerConnection, "access_token", conn.pk)
    assert OrderManagerConnection.objects.get(pk=conn.pk).access_token == "via-update"


@pytest.mark.parametrize("password", ["fernet:", "fernet:hunter2", "fernet:gAAAAA", "fernet:" + "A" * 100, "fernet:ü"])
def test_a_secret_that_starts_like_a_stored_token_is_kept_as_typed(password):
    """A password may start with "fernet:"; only a real token after the prefix is decrypted."""
    conn = factories.OrderManagerConnectionFactory(access_token="hunter2")
    conn.access_token = password
    conn.full_clean()  # what the admin form does: the model field's to_python
    conn.save()
    assert OrderManagerConnection.objects.get(pk=conn.pk).access_token == password
    raw = raw_column(OrderManagerConnection, "access_token", conn.pk)
    assert crypto.decrypt(raw[len(TOKEN_PREFIX) :]) == password
