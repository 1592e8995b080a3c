"""hub.two_factor.forms: the admin login asks enrolled users for a code (app or recovery code),
refuses a wrong one, counts it for django-axes, and leaves everyone else's login as it was."""

import datetime

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from hub.two_factor.forms import EnrolForm
from tests import factories
from tests.two_factor_helpers import PASSWORD, app_code, enrolled_user, sign_in

pytestmark = pytest.mark.django_db


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def wrong(code: str) -> str:
    return f"{(int(code) + 500_000) % 1_000_000:06d}"


def test_a_user_without_a_device_signs_in_with_the_password_alone():
    factories.UserFactory(username="ops", is_superuser=True)
    client = Client()
    answer = sign_in(client, "ops")
    assert answer.status_code == 302 and answer["Location"] == "/admin/"
    assert signed_in(client) and DEVICE_ID_SESSION_KEY not in client.session


def test_the_login_page_offers_the_code_field():
    html = Client().get("/admin/login/").content.decode()
    assert 'name="otp_token"' in html and "Authentication code" in html and 'autocomplete="one-time-code"' in html


def test_an_enrolled_user_needs_the_code():
    enrolled_user(username="ops")
    client = Client()
    answer = sign_in(client, "ops")
    assert answer.status_code == 200 and not signed_in(client)
    assert "This account has two-factor sign-in" in answer.content.decode()


def test_the_apps_code_signs_in_and_marks_the_session_verified():
    _, app, _ = enrolled_user(username="ops")
    client = Client()
    answer = sign_in(client, "ops", app_code(app))
    assert answer.status_code == 302 and signed_in(client)
    assert client.session[DEVICE_ID_SESSION_KEY] == app.persistent_id
    app.refresh_from_db()
    assert app.last_used_at is not None


def test_a_code_typed_with_a_space_is_accepted():
    _, app, _ = enrolled_user(username="ops")
    code = app_code(app)
    assert sign_in(Client(), "ops", f"{code[:3]} {code[3:]}").status_code == 302


def test_a_wrong_code_is_refused_without_echoing_the_password_or_the_code():
    _, app, _ = enrolled_user(username="ops")
    client = Client()
    refused = wrong(app_code(app))
    answer = sign_in(client, "ops", refused)
    html = answer.content.decode()
    assert answer.status_code == 200 and not signed_in(client)
    assert "That authentication code is not valid" in html
    assert PASSWORD not in html and refused not in html
    app.refresh_from_db()
    assert app.throttling_failure_count == 1


def test_a_code_already_used_is_refused():
    _, app, _ = enrolled_user(username="ops")
    code = app_code(app)
    assert sign_in(Client(), "ops", code).status_code == 302
    assert sign_in(Client(), "ops", code).status_code == 200


def test_a_recovery_code_signs_in_once():
    _, _, codes = enrolled_user(username="ops")
    first = Client()
    assert sign_in(first, "ops", codes[0].upper()).status_code == 302 and signed_in(first)
    again = Client()
    answer = sign_in(again, "ops", codes[0])
    assert answer.status_code == 200 and not signed_in(again)
    # django-otp throttles the recovery codes after the failure (1 s, doubling); then the next code works.
    assert "Verification temporarily disabled" in sign_in(Client(), "ops", codes[1]).content.decode()
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=2)):
        assert sign_in(Client(), "ops", codes[1]).status_code == 302


def test_a_code_does_not_rescue_a_wrong_password():
    _, app, _ = enrolled_user(username="ops")
    client = Client()
    answer = sign_in(client, "ops", app_code(app), password="wrong")
    assert answer.status_code == 200 and not signed_in(client)
    assert "Please enter the correct username and password" in answer.content.decode()
    app.refresh_from_db()
    assert app.throttling_failure_count == 0 and app.last_t == -1  # the code was never tried


def test_an_other_users_device_cannot_be_used():
    _, other_app, _ = enrolled_user(username="other")
    enrolled_user(username="ops")
    assert sign_in(Client(), "ops", app_code(other_app)).status_code == 200


def test_wrong_codes_count_as_failed_logins_for_axes_and_lock_out(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's own delay off: axes alone is tested here
    _, app, _ = enrolled_user(username="ops")
    client = Client()
    for _ in range(2):
        assert sign_in(client, "ops", wrong(app_code(app))).status_code == 200
    assert AccessAttempt.objects.get(username="ops").failures_since_start == 2
    assert sign_in(client, "ops", wrong(app_code(app))).status_code == 429
    assert sign_in(client, "ops", app_code(app)).status_code == 429  # locked: even the right code


def test_a_missing_code_is_not_counted_for_axes():
    enrolled_user(username="ops")
    sign_in(Client(), "ops")
    assert not AccessAttempt.objects.filter(username="ops").exists()


def test_a_good_sign_in_resets_the_axes_count(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    _, app, _ = enrolled_user(username="ops")
    client = Client()
    sign_in(client, "ops", wrong(app_code(app)))
    assert sign_in(client, "ops", app_code(app)).status_code == 302
    assert not AccessAttempt.objects.filter(username="ops", failures_since_start__gt=0).exists()


def test_non_staff_are_refused_before_any_code_is_asked():
    user, app, _ = enrolled_user(username="ops")
    user.is_staff = False
    user.save()
    answer = sign_in(Client(), "ops", app_code(app))
    assert answer.status_code == 200
    app.refresh_from_db()
    assert app.last_t == -1


@pytest.mark.parametrize(("typed", "valid"), [("123456", True), (" 123-456 ", True), ("abcdef", False), ("", False)])
def test_the_enrol_form_takes_digits(typed, valid):
    form = EnrolForm({"code": typed})
    assert form.is_valid() is valid
    if valid:
        assert form.cleaned_data["code"] == "123456"
