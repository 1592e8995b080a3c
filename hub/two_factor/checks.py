"""System checks on the two-factor policy (`settings.HUB_ADMIN_2FA`, `hub.two_factor.policy`).

- hub.E101: an unknown policy (a typo would otherwise leave the admin on "optional" unnoticed);
- hub.W101, with `check --deploy` only: "optional" in production, where a stolen superuser
  password alone would open the admin. `.ci/run`'s deploy check fails on warnings.
"""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from hub.two_factor import policy


@register(Tags.security)
def check_policy(app_configs=None, **kwargs):
    value = getattr(settings, "HUB_ADMIN_2FA", None)
    if value in policy.POLICIES:
        return []
    return [
        Error(
            f"HUB_ADMIN_2FA is {value!r}, not a known two-factor policy.",
            hint="Use one of: " + ", ".join(policy.POLICIES) + ".",
            id="hub.E101",
        )
    ]


@register(Tags.security, deploy=True)
def check_policy_in_production(app_configs=None, **kwargs):
    if settings.DEBUG or getattr(settings, "HUB_ADMIN_2FA", None) != policy.OPTIONAL:
        return []
    return [
        Warning(
            "Two-factor sign-in to the admin is optional in production (HUB_ADMIN_2FA=optional).",
            hint="Leave HUB_ADMIN_2FA unset (required_for_superusers) or set it to required_for_staff.",
            id="hub.W101",
        )
    ]
