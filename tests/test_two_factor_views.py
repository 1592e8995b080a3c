"""hub.two_factor.views: enrolment with a real code from the app's maths, recovery codes shown once,
new recovery codes, and the state page."""

import base64
import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from hub.two_factor import devices
from tests import factories
from tests.two_factor_helpers import app_code, enrolled_user, sign_in

pytestmark = pytest.mark.django_db
PAGE = "/admin/two-factor/"
NEW_CODES = "/admin/two-factor/recovery-codes/"


def codes_on(html: str) -> list[str]:
    listing = re.search(r'<ol class="hub-recovery-codes" id="two-factor-recovery-codes">(.*?)</ol>', html, re.S)
    return re.findall(r"<code>([a-z2-7]{8})</code>", listing.group(1)) if listing else []


def secret_on(html: str) -> bytes:
    secret = re.search(r'<code id="two-factor-secret" class="hub-secret">([A-Z2-7 ]+)</code>', html).group(1)
    return base64.b32decode(secret.replace(" ", ""))


@pytest.fixture
def ops(admin_client_for):
    user = factories.UserFactory(username="ops", is_superuser=True)
    return user, admin_client_for(user)


def test_the_urls_are_the_admins():
    assert reverse("admin:two_factor") == PAGE and reverse("admin:two_factor_recovery_codes") == NEW_CODES


def test_enrolment_shows_the_secret_as_qr_code_and_text_and_a_first_code_turns_it_on(ops):
    user, client = ops
    page = client.get(PAGE)
    html = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert 'id="two-factor-qr"' in html and 'src="data:image/svg+xml;base64,' in html
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert secret_on(html) == device.bin_key
    assert client.get(PAGE).content.decode().count(devices.secret_text(device)) == 1  # the same secret on reload

    answer = client.post(PAGE, {"code": app_code(device)})
    html = answer.content.decode()
    assert answer.status_code == 200 and "Two-factor sign-in is on" in html
    codes = codes_on(html)
    assert len(codes) == 10
    assert sorted(codes) == sorted(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert "shown only this once" in html and "no-store" in answer["Cache-Control"]
    device.refresh_from_db()
    assert device.confirmed and client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id

    # Shown once: the page now shows the state, never the codes again.
    again = client.get(PAGE).content.decode()
    assert codes_on(again) == [] and not any(code in again for code in codes)
    assert "10 unused" in again


def test_a_wrong_first_code_is_refused(ops):
    user, client = ops
    client.get(PAGE)
    device = TOTPDevice.objects.get(user=user)
    wrong = f"{(int(app_code(device)) + 1) % 1_000_000:06d}"
    answer = client.post(PAGE, {"code": wrong})
    assert answer.status_code == 200 and "not the app&#x27;s current one" in answer.content.decode()
    assert not devices.is_enrolled(user)


def test_after_enrolment_the_next_sign_in_asks_for_the_code(ops):
    user, client = ops
    client.get(PAGE)
    device = TOTPDevice.objects.get(user=user)
    client.post(PAGE, {"code": app_code(device)})
    assert sign_in(Client(), "ops").status_code == 200
    assert sign_in(Client(), "ops", app_code(device, steps=1)).status_code == 302


def test_new_recovery_codes_replace_the_old_and_are_shown_once():
    user, app, old = enrolled_user(username="ops")
    client = Client()
    assert sign_in(client, "ops", app_code(app)).status_code == 302
    assert "10 unused" in client.get(PAGE).content.decode()
    assert client.get(NEW_CODES).status_code == 405
    answer = client.post(NEW_CODES)
    new = codes_on(answer.content.decode())
    assert len(new) == 10 and set(new).isdisjoint(old)
    assert "Two-factor sign-in is on. From now on" not in answer.content.decode()  # not an enrolment
    assert devices.recovery_codes_left(user) == 10 and not StaticToken.objects.filter(token__in=old).exists()


def test_a_used_recovery_code_is_counted_on_the_state_page():
    _, _, codes = enrolled_user(username="ops")
    client = Client()
    sign_in(client, "ops", codes[0])
    assert "9 unused" in client.get(PAGE).content.decode()


def test_new_recovery_codes_need_an_enrolled_user(ops):
    _, client = ops
    answer = client.post(NEW_CODES)
    assert answer.status_code == 302 and answer["Location"] == PAGE
    assert not StaticToken.objects.exists()


def test_an_enrolled_session_without_its_code_cannot_see_or_change_anything(admin_client_for):
    user, _, _ = enrolled_user(username="ops")
    client = admin_client_for(user)  # password only: as if enrolled from another session
    for answer in (client.get(PAGE), client.post(NEW_CODES)):
        assert answer.status_code == 302 and answer["Location"].startswith("/admin/login/")
    assert devices.recovery_codes_left(user) == 10


def test_the_pages_are_for_signed_in_staff_only(admin_client_for):
    assert Client().get(PAGE)["Location"].startswith("/admin/login/")
    not_staff = admin_client_for(factories.UserFactory(is_staff=False))
    assert not_staff.get(PAGE)["Location"].startswith("/admin/login/")
    assert not TOTPDevice.objects.exists()


def test_every_admin_page_links_to_two_factor_sign_in(ops):
    _, client = ops
    assert f'href="{PAGE}" id="two-factor-link"' in client.get("/admin/").content.decode()
