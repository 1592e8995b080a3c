"""hub.two_factor.policy: who must have a second factor, and what a signed-in staff user may do."""

import pytest
from django.contrib.auth.models import AnonymousUser

from hub.two_factor import policy
from hub.two_factor.policy import Access
from tests import factories

pytestmark = pytest.mark.django_db


def verified(user, device):
    """The user as django-otp's middleware leaves it after a sign-in with `device`."""
    user.otp_device = device
    user.is_verified = lambda: True
    return user


def fresh(user):
    """The user as the next request loads it (no per-request cache, no second factor)."""
    return type(user).objects.get(pk=user.pk)


@pytest.mark.parametrize(
    ("setting", "staff", "superuser"),
    [
        (policy.OPTIONAL, False, False),
        (policy.REQUIRED_FOR_SUPERUSERS, False, True),
        (policy.REQUIRED_FOR_STAFF, True, True),
    ],
)
def test_who_the_policy_requires(settings, setting, staff, superuser):
    settings.HUB_ADMIN_2FA = setting
    assert policy.required_for(factories.UserFactory(is_staff=True)) is staff
    assert policy.required_for(factories.UserFactory(is_staff=True, is_superuser=True)) is superuser


def test_defaults_are_optional_with_debug_and_required_for_superusers_in_production():
    from tests.test_settings import production_env, run

    code = "import hub.settings as s; print(s.HUB_ADMIN_2FA)"
    assert run(["-c", code], DJANGO_DEBUG="true").stdout.strip() == policy.OPTIONAL
    assert run(["-c", code], **production_env()).stdout.strip() == policy.REQUIRED_FOR_SUPERUSERS


def test_an_unenrolled_superuser_must_enrol_only_where_the_policy_says_so(settings):
    user = factories.UserFactory(is_staff=True, is_superuser=True)
    settings.HUB_ADMIN_2FA = policy.OPTIONAL
    assert policy.access(fresh(user)) is Access.FULL
    settings.HUB_ADMIN_2FA = policy.REQUIRED_FOR_SUPERUSERS
    assert policy.access(fresh(user)) is Access.ENROL


def test_an_enrolled_user_signs_in_with_a_code_whatever_the_policy(settings):
    user = factories.UserFactory(is_staff=True)
    device = factories.TOTPDeviceFactory(user=user)
    for setting in policy.POLICIES:
        settings.HUB_ADMIN_2FA = setting
        assert policy.access(fresh(user)) is Access.SIGN_IN, setting
        assert policy.access(verified(fresh(user), device)) is Access.FULL, setting


def test_an_unconfirmed_device_does_not_count_as_enrolled(settings):
    settings.HUB_ADMIN_2FA = policy.REQUIRED_FOR_STAFF
    user = factories.UserFactory(is_staff=True)
    factories.TOTPDeviceFactory(user=user, confirmed=False)
    assert policy.access(fresh(user)) is Access.ENROL


def test_anonymous_users_are_left_to_the_admins_own_login_check(settings):
    settings.HUB_ADMIN_2FA = policy.REQUIRED_FOR_STAFF
    assert policy.access(AnonymousUser()) is Access.FULL


def test_enrolment_is_read_once_per_user_object(settings, django_assert_num_queries):
    user = fresh(factories.UserFactory(is_staff=True))
    with django_assert_num_queries(1):
        for _ in range(5):
            policy.access(user)
