"""hub.two_factor.checks: an unknown policy is an error; "optional" in production is a deploy warning."""

from django.core import checks

from hub.two_factor import policy
from hub.two_factor.checks import check_policy, check_policy_in_production
from tests.test_settings import production_env, run


def ids(messages):
    return [m.id for m in messages]


def test_every_known_policy_passes(settings):
    for value in policy.POLICIES:
        settings.HUB_ADMIN_2FA = value
        assert check_policy(None) == []


def test_an_unknown_policy_is_an_error(settings):
    settings.HUB_ADMIN_2FA = "required"
    [message] = check_policy(None)
    assert message.id == "hub.E101" and message.level == checks.ERROR
    assert "required_for_superusers" in message.hint


def test_optional_warns_in_production_only(settings):
    settings.HUB_ADMIN_2FA = policy.OPTIONAL
    settings.DEBUG = False
    [message] = check_policy_in_production(None)
    assert message.id == "hub.W101" and message.level == checks.WARNING
    settings.DEBUG = True
    assert check_policy_in_production(None) == []
    settings.DEBUG = False
    for value in (policy.REQUIRED_FOR_SUPERUSERS, policy.REQUIRED_FOR_STAFF):
        settings.HUB_ADMIN_2FA = value
        assert check_policy_in_production(None) == []


def test_the_warning_is_a_deploy_check_and_the_error_an_every_run_check(settings):
    settings.DEBUG = False
    settings.HUB_ADMIN_2FA = policy.OPTIONAL
    assert "hub.W101" not in ids(checks.run_checks(tags=[checks.Tags.security]))
    assert "hub.W101" in ids(checks.run_checks(tags=[checks.Tags.security], include_deployment_checks=True))
    settings.HUB_ADMIN_2FA = "nonsense"
    assert "hub.E101" in ids(checks.run_checks(tags=[checks.Tags.security]))


def test_the_production_deploy_check_fails_on_optional_two_factor():
    """As `.ci/run` runs it: `check --deploy --fail-level WARNING` in a production environment."""
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **production_env(HUB_ADMIN_2FA="optional")
    )
    assert result.returncode != 0 and "hub.W101" in result.stdout + result.stderr
