"""Shared by the two-factor tests: codes an authenticator app would show, computed with django-otp's
own RFC 6238 maths (not the device's verify path), and the admin login with a code."""

import time

from django_otp.oath import TOTP

from hub.two_factor import devices
from tests import factories

LOGIN = "/admin/login/"
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's
ADDRESS = "203.0.113.7"


def app_code(device, steps: int = 0) -> str:
    """The code the app shows now, or `steps` time steps (30 s) later; zero-padded like the app."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    totp.time = time.time() + steps * device.step
    return f"{totp.token():0{device.digits}d}"


def enrolled_user(**user_fields):
    """A staff user with a confirmed authenticator app and recovery codes: (user, app, codes)."""
    user = factories.UserFactory(**{"is_staff": True, **user_fields})
    app = factories.TOTPDeviceFactory(user=user)
    return user, app, devices.issue_recovery_codes(user)


def sign_in(client, username: str, code: str = "", password: str = PASSWORD, next_url: str = "/admin/"):
    return client.post(
        LOGIN,
        {"username": username, "password": password, "otp_token": code, "next": next_url},
        REMOTE_ADDR=ADDRESS,
    )
