"""Who must sign in to the admin with a second factor, and what a signed-in staff user may do now.

`settings.HUB_ADMIN_2FA` is one of `POLICIES`:
- "optional" (the default with DEBUG): nobody must enrol; whoever enrolled signs in with a code;
- "required_for_superusers" (the default in production): superusers must enrol;
- "required_for_staff": every staff user must enrol.

`access(user)` is what two-factor sign-in leaves a signed-in user of the admin:
- `Access.FULL`: the admin as their permissions allow (signed in with a code, or neither enrolled
  nor required to be);
- `Access.SIGN_IN`: enrolled, but this session was not signed in with a code (another session
  enrolled, the device was added by hand): they sign in again, with the code;
- `Access.ENROL`: required to enrol and not enrolled: the enrolment page (and log out) only.
"""

from __future__ import annotations

import enum

from django.conf import settings

from hub.two_factor import devices

OPTIONAL = "optional"
REQUIRED_FOR_SUPERUSERS = "required_for_superusers"
REQUIRED_FOR_STAFF = "required_for_staff"
POLICIES = (OPTIONAL, REQUIRED_FOR_SUPERUSERS, REQUIRED_FOR_STAFF)

# `access` is asked several times a page (each admin view, the page's context); whether the user is
# enrolled is read once per user object, and the admin's user object lives for one request.
_ENROLLED = "_hub_two_factor_enrolled"


class Access(enum.Enum):
    FULL = "full"
    SIGN_IN = "sign in with a code"
    ENROL = "enrol first"


def required_for(user) -> bool:
    """Whether the policy requires this user to have a second factor."""
    policy = settings.HUB_ADMIN_2FA
    if policy == REQUIRED_FOR_STAFF:
        return bool(user.is_staff or user.is_superuser)
    if policy == REQUIRED_FOR_SUPERUSERS:
        return bool(user.is_superuser)
    return False


def is_verified(user) -> bool:
    """Signed in with a second factor in this session (django-otp's OTPMiddleware sets `is_verified`)."""
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def is_enrolled(user) -> bool:
    if not hasattr(user, _ENROLLED):
        setattr(user, _ENROLLED, devices.is_enrolled(user))
    return getattr(user, _ENROLLED)


def access(user) -> Access:
    """What two-factor sign-in leaves this user of the admin (see the module's docstring).

    Anonymous users get `FULL`: two-factor sign-in adds nothing to the admin's own login check.
    """
    if not user.is_authenticated or is_verified(user):
        return Access.FULL
    if is_enrolled(user):
        return Access.SIGN_IN
    return Access.ENROL if required_for(user) else Access.FULL
