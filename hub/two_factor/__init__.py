"""Two-factor sign-in to the admin, on django-otp: an authenticator app (TOTP) and recovery codes.

- `policy`: who must have a second factor (`settings.HUB_ADMIN_2FA`) and what a signed-in staff
  user may do now (everything, sign in again with a code, or enrol first);
- `devices`: the user's authenticator app and recovery codes (django-otp's TOTP and static devices);
- `forms`: the admin login form (user name, password and, once enrolled, the code);
- `views`: the enrolment page (QR code, first code, recovery codes shown once) and new recovery codes;
- `checks`: the system checks on the policy (an unknown value; "optional" in production).

`hub.admin_site.HubAdminSite` wires them into the admin; `manage.py otp_reset USERNAME` removes a
user's devices (lost phone).
"""
