"""A user's second factors, on django-otp's models: one authenticator app (a confirmed
`TOTPDevice`) and one set of recovery codes (a `StaticDevice` holding one-time `StaticToken`s).

- A user is *enrolled* once they hold a confirmed TOTP device; only then does the sign-in ask for a code.
- Enrolment: `pending_device(user)` is the user's one unconfirmed TOTP device, the same on every
  page load (a QR code scanned before a reload stays good); `confirm(device, code)` confirms it with
  a first code from the app and issues the recovery codes.
- `issue_recovery_codes(user)`: `RECOVERY_CODES` new one-time codes; the earlier ones stop working.
- `device_for_code(user, code)`: the device a sign-in code is meant for, by its shape: the app's
  digits, else a recovery code. A wrong code then counts (django-otp throttles) on that device only.
- `reset(user)`: every device of the user removed (a lost phone); they enrol again.
"""

from __future__ import annotations

import base64
import io

from django.db import transaction
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.qr import write_qrcode_image

RECOVERY_CODES = 10
APP_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"


def normalise(code: str | None) -> str:
    """A code as typed: spaces and dashes dropped ("123 456", "abcd-efgh"), recovery codes in lower case."""
    return "".join((code or "").split()).replace("-", "").lower()


def is_enrolled(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def app_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def pending_device(user) -> TOTPDevice:
    """The user's unconfirmed TOTP device, made on first use."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=APP_NAME, confirmed=False)


def confirm(device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm a pending device with the app's current code; its recovery codes, or None when the
    code is wrong (counted by django-otp's throttling, so guessing slows down)."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if device.confirmed or not device.verify_token(normalise(code)):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        # One app per user: an earlier enrolment's leftovers go.
        TOTPDevice.objects.filter(user_id=device.user_id).exclude(pk=device.pk).delete()
        return issue_recovery_codes(device.user)


def issue_recovery_codes(user) -> list[str]:
    """New recovery codes for the user, replacing every earlier one (shown once, never again)."""
    with transaction.atomic():
        devices = list(StaticDevice.objects.select_for_update().filter(user=user).order_by("pk"))
        device = devices[0] if devices else StaticDevice.objects.create(user=user, name=RECOVERY_NAME)
        StaticDevice.objects.filter(pk__in=[d.pk for d in devices[1:]]).delete()
        device.token_set.all().delete()
        codes = []
        while (
            len(codes) < RECOVERY_CODES
        ):  # 40 random bits each: a repeat is as good as impossible, but cheap to rule out
            code = StaticToken.random_token()
            if code not in codes:
                codes.append(code)
        StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
        device.throttle_reset()
        return codes


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def device_for_code(user, code: str):
    """The confirmed device `code` (normalised) is meant for, or None: the authenticator app for a
    code of its digits, the recovery codes for anything else."""
    app = app_device(user)
    if app is not None and code.isdigit() and len(code) == app.digits:
        return app
    return StaticDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def reset(user) -> int:
    """Remove every django-otp device of the user (any plugin, confirmed or not); how many there were."""
    removed = 0
    with transaction.atomic():
        for device in list(devices_for_user(user, confirmed=None)):
            device.delete()
            removed += 1
    return removed


def secret_text(device: TOTPDevice) -> str:
    """The TOTP secret as authenticator apps take it typed in: base32, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_data_uri(device: TOTPDevice) -> str:
    """The device's otpauth:// URL as a QR code, an SVG drawn here (no outside service sees the secret)."""
    svg = io.BytesIO()
    write_qrcode_image(device.config_url, svg)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.getvalue()).decode()
