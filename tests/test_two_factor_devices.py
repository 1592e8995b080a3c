"""hub.two_factor.devices: the authenticator app and the recovery codes on django-otp's models."""

import base64
import re

import pytest
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from hub.two_factor import devices
from tests import factories
from tests.two_factor_helpers import app_code, enrolled_user

pytestmark = pytest.mark.django_db


def test_the_pending_device_is_the_same_on_every_page_load_until_confirmed():
    user = factories.UserFactory()
    first = devices.pending_device(user)
    assert not first.confirmed and not devices.is_enrolled(user)
    assert devices.pending_device(user).pk == first.pk
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_a_first_code_from_the_app_confirms_it_and_issues_ten_recovery_codes():
    user = factories.UserFactory()
    device = devices.pending_device(user)
    codes = devices.confirm(device, app_code(device))
    assert devices.is_enrolled(user)
    assert len(codes) == devices.RECOVERY_CODES == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-7]{8}", code) for code in codes)
    assert sorted(StaticToken.objects.filter(device__user=user).values_list("token", flat=True)) == sorted(codes)


def test_a_wrong_first_code_confirms_nothing_and_is_throttled():
    user = factories.UserFactory()
    device = devices.pending_device(user)
    right = app_code(device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    assert devices.confirm(device, wrong) is None
    device.refresh_from_db()
    assert not device.confirmed and device.throttling_failure_count == 1
    assert not devices.is_enrolled(user) and not StaticDevice.objects.filter(user=user).exists()


def test_a_code_cannot_confirm_a_device_twice():
    user = factories.UserFactory()
    device = devices.pending_device(user)
    code = app_code(device)
    assert devices.confirm(device, code) is not None
    assert devices.confirm(device, code) is None


def test_confirming_keeps_one_app_per_user():
    user, old_app, _ = enrolled_user()
    device = TOTPDevice.objects.create(user=user, name="new phone", confirmed=False)
    assert devices.confirm(device, app_code(device))
    assert list(TOTPDevice.objects.filter(user=user).values_list("pk", flat=True)) == [device.pk]


def test_new_recovery_codes_replace_the_old_ones():
    user, _, old = enrolled_user()
    new = devices.issue_recovery_codes(user)
    assert set(new).isdisjoint(old)
    assert StaticDevice.objects.filter(user=user).count() == 1
    assert devices.recovery_codes_left(user) == 10
    assert not StaticToken.objects.filter(token__in=old).exists()


def test_a_code_goes_to_the_device_its_shape_belongs_to():
    user, app, codes = enrolled_user()
    assert devices.device_for_code(user, "123456") == app
    assert isinstance(devices.device_for_code(user, codes[0]), StaticDevice)
    assert isinstance(devices.device_for_code(user, "12345"), StaticDevice)  # not the app's length
    assert devices.device_for_code(factories.UserFactory(), "123456") is None


@pytest.mark.parametrize(("typed", "kept"), [(" 123 456 ", "123456"), ("ABCD-EFGH", "abcdefgh"), (None, "")])
def test_codes_are_normalised_as_typed(typed, kept):
    assert devices.normalise(typed) == kept


def test_reset_removes_every_device_of_the_user_only():
    user, _, _ = enrolled_user()
    other, _, _ = enrolled_user()
    devices.pending_device(user)  # an unconfirmed one too
    assert devices.reset(user) == 3  # the app, the pending app, the recovery codes
    assert not TOTPDevice.objects.filter(user=user).exists() and not StaticDevice.objects.filter(user=user).exists()
    assert devices.is_enrolled(other)


def test_the_secret_is_the_devices_key_in_base32_and_the_qr_code_an_svg_made_here():
    device = devices.pending_device(factories.UserFactory(username="olivia"))
    secret = devices.secret_text(device)
    assert base64.b32decode(secret.replace(" ", "")) == device.bin_key
    assert all(len(group) == 4 for group in secret.split())
    uri = devices.qr_code_data_uri(device)
    assert uri.startswith("data:image/svg+xml;base64,")
    svg = base64.b64decode(uri.split(",", 1)[1]).decode()
    assert "<svg" in svg and "http" not in svg.replace("http://www.w3.org", "")
    assert "otpauth://totp/Order%20Manager%20hub%3Aolivia?" in device.config_url
