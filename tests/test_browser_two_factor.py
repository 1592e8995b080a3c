"""Two-factor sign-in in a real browser (headless Chromium, Playwright; fixtures of tests/test_browser.py).

With HUB_ADMIN_2FA=required_for_superusers, as in production: a superuser signs in with the password,
is held on the enrolment page, adds the hub to an "authenticator app" (the secret read off the page,
codes computed with django-otp's RFC 6238 maths), sees the ten recovery codes once, then signs in
again with a code: a wrong one refused, the right one accepted; finally with a recovery code.

Screenshots of the enrolment page, the recovery codes and the login go to docs/screenshots/ with
HUB_UPDATE_SCREENSHOTS=1 (see tests/test_browser.py).
"""

import base64
import re
import time

import pytest
from django_otp.oath import TOTP

from hub.two_factor import policy
from tests import factories
from tests.test_browser import PASSWORD, browser, page, shots  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def app_code(secret: str, steps: int = 0) -> str:
    """What an authenticator app shows for the secret typed in from the page."""
    totp = TOTP(base64.b32decode(secret.replace(" ", "")), step=30, digits=6)
    totp.time = time.time() + steps * 30
    return f"{totp.token():06d}"


def log_in(tab, base, code="") -> None:
    tab.goto(f"{base}/admin/login/")
    tab.fill("#id_username", "root")
    tab.fill("#id_password", PASSWORD)
    tab.fill("#id_otp_token", code)
    with tab.expect_navigation():
        tab.click("#login-form input[type=submit]")


def log_out(tab) -> None:
    with tab.expect_navigation():
        tab.locator("#logout-form button, form[action$='/logout/'] button").first.click()


def test_enrol_then_sign_in_with_a_second_factor(live_server, page, shots, settings):  # noqa: F811
    settings.HUB_ADMIN_2FA = policy.REQUIRED_FOR_SUPERUSERS
    factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    base = live_server.url

    # The password alone signs in, but only to enrolment: every other page leads back there.
    log_in(page, base)
    page.wait_for_url(f"{base}/admin/two-factor/")
    assert "must use two-factor sign-in" in page.inner_text("#two-factor-required")
    page.goto(f"{base}/admin/hub/orderrecord/")
    page.wait_for_url(f"{base}/admin/two-factor/")
    assert page.locator("#two-factor-qr").evaluate("img => img.complete && img.naturalWidth > 0")
    page.screenshot(path=str(shots / "two-factor-enrol.png"), full_page=True)

    # The authenticator app: the secret as the page shows it, and its current code.
    secret = page.inner_text("#two-factor-secret")
    page.fill("#id_code", app_code(secret))
    with page.expect_navigation():
        page.get_by_role("button", name="Turn on two-factor sign-in").click()
    codes = page.locator("#two-factor-recovery-codes li").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-7]{8}", code) for code in codes)
    assert "shown only this once" in page.inner_text("#two-factor-codes")
    page.screenshot(path=str(shots / "two-factor-recovery-codes.png"), full_page=True)
    with page.expect_navigation():
        page.get_by_role("link", name="I have stored them: continue to the admin").click()
    assert page.url == f"{base}/admin/"
    assert page.locator("#user-tools #two-factor-link").count() == 1

    # Signing in again needs the code: a wrong one is refused, the app's (next step's) opens the admin.
    log_out(page)
    wrong = f"{(int(app_code(secret, steps=1)) + 1) % 1_000_000:06d}"
    log_in(page, base, wrong)
    assert "That authentication code is not valid" in page.inner_text(".errornote")
    assert page.input_value("#id_password") == page.input_value("#id_otp_token") == ""  # typed afresh
    page.screenshot(path=str(shots / "two-factor-login.png"), full_page=True)
    time.sleep(1.1)  # django-otp's throttle after one wrong code: 1 s
    log_in(page, base, app_code(secret, steps=1))
    page.wait_for_url(f"{base}/admin/")
    page.goto(f"{base}/admin/two-factor/")
    assert page.inner_text("#two-factor-codes-left") == "10 unused"

    # Without the phone: a recovery code, once.
    log_out(page)
    log_in(page, base, codes[0])
    page.wait_for_url(f"{base}/admin/")
    page.goto(f"{base}/admin/two-factor/")
    assert page.inner_text("#two-factor-codes-left") == "9 unused"
