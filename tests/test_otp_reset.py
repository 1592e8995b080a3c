"""manage.py otp_reset USERNAME (hub/management/commands/otp_reset.py): a lost phone."""

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from hub.two_factor import policy
from tests.two_factor_helpers import app_code, enrolled_user, sign_in

pytestmark = pytest.mark.django_db


def test_reset_removes_the_app_and_the_recovery_codes_and_says_so(capsys):
    user, _, _ = enrolled_user(username="ops")
    other, _, _ = enrolled_user(username="other")
    call_command("otp_reset", "ops")
    out = capsys.readouterr().out
    assert "Removed 2 two-factor devices of ops" in out
    assert not TOTPDevice.objects.filter(user=user).exists() and not StaticDevice.objects.filter(user=user).exists()
    assert TOTPDevice.objects.filter(user=other).exists()
    call_command("otp_reset", "ops")
    assert "ops had no two-factor devices" in capsys.readouterr().out


def test_after_a_reset_the_user_signs_in_with_the_password_and_must_enrol_again(settings):
    settings.HUB_ADMIN_2FA = policy.REQUIRED_FOR_SUPERUSERS
    _, app, _ = enrolled_user(username="root", is_superuser=True)
    signed_in = Client()
    assert sign_in(signed_in, "root", app_code(app)).status_code == 302
    call_command("otp_reset", "root")
    assert signed_in.get("/admin/")["Location"] == "/admin/two-factor/"  # the old session lost its factor
    client = Client()
    assert sign_in(client, "root").status_code == 302
    assert client.get("/admin/")["Location"] == "/admin/two-factor/"


def test_an_unknown_user_is_an_error():
    with pytest.raises(CommandError, match='No user "nobody"'):
        call_command("otp_reset", "nobody")
