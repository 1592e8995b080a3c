"""The admin's login form with the second factor, and the enrolment form.

`AdminLoginForm` is Django's admin login form (user name, password, staff only) plus one
"Authentication code" field, on django-otp's `OTPAuthenticationFormMixin`:
- a user who is not enrolled signs in with the password alone (then `hub.admin_site` sends those
  the policy requires to enrolment);
- an enrolled user must also give the app's current code or an unused recovery code; which device
  is tried follows from the code's shape (`devices.device_for_code`), so there is no device to pick
  and a wrong code counts against that device only;
- a wrong code is a failed login for django-axes too (`user_login_failed` with the user name, as
  Django sends it for a wrong password), so guessing codes with a known password runs into the same
  lockout as guessing passwords; a missing code is not counted (nothing was guessed);
- neither the password (django-otp's mixin would re-render it) nor the code is sent back into the
  page after a failed try: the user types both again.
"""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django_otp.forms import OTPAuthenticationFormMixin

from hub.two_factor import devices

CODE = "the 6-digit code from your authenticator app, or one of your recovery codes"


class CodeInput(forms.TextInput):
    """A one-time code is typed afresh on every try: never rendered back into the page."""

    def format_value(self, value):
        return None


class AdminLoginForm(OTPAuthenticationFormMixin, AdminAuthenticationForm):
    otp_token = forms.CharField(
        label="Authentication code",
        required=False,
        max_length=32,
        help_text=f"If you set up two-factor sign-in: {CODE}.",
        widget=CodeInput(attrs={"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "none"}),
    )

    otp_error_messages = dict(
        OTPAuthenticationFormMixin.otp_error_messages,
        token_required=f"This account has two-factor sign-in: enter {CODE}.",
        invalid_token="That authentication code is not valid. Enter the current code from your authenticator "
        "app, or a recovery code you have not used yet.",
    )

    def clean_otp_token(self) -> str:
        return devices.normalise(self.cleaned_data.get("otp_token"))

    def clean(self):
        cleaned = super().clean()  # user name and password; refuses inactive and non-staff users
        user = self.get_user()
        if user is None or not devices.is_enrolled(user):
            return cleaned
        code = cleaned.get("otp_token", "")
        device = devices.device_for_code(user, code) if code else None
        if code and device is None:
            self._code_refused()
            raise forms.ValidationError(self.otp_error_messages["invalid_token"], code="invalid_token")
        cleaned["otp_device"] = device.persistent_id if device else None
        try:
            self.clean_otp(user)  # verifies the code on that device; sets user.otp_device for django-otp's login
        except forms.ValidationError:
            if code:
                self._code_refused()
            raise
        finally:
            self.fields["password"].widget.render_value = False
        return cleaned

    def _code_refused(self) -> None:
        # The user name as typed, the key django-axes counts a wrong password under.
        user_login_failed.send(
            sender=type(self), credentials={"username": self.cleaned_data.get("username")}, request=self.request
        )


class EnrolForm(forms.Form):
    code = forms.CharField(
        label="Code from the app",
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "size": 10}
        ),
    )

    def clean_code(self) -> str:
        code = devices.normalise(self.cleaned_data["code"])
        if not code.isdigit():
            raise forms.ValidationError("Enter the digits the app shows for “Order Manager hub”.")
        return code
