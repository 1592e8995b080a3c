"""Admin login protection (django-axes): after AXES_FAILURE_LIMIT wrong passwords for a user name
from one address that pair is locked out, even with the right password, until the cool-off ends;
a good login before the limit resets the count. A wrong password says nothing about the account."""

import datetime

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from tests import factories

LOGIN = "/admin/login/"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff(db):
    return factories.UserFactory(username="ops", is_staff=True, is_superuser=True, password=PASSWORD)


def attempt(client, password, username="ops"):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR="203.0.113.7"
    )


def test_axes_is_the_first_authentication_backend_and_its_middleware_is_installed():
    assert django_settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert "axes.middleware.AxesMiddleware" in django_settings.MIDDLEWARE
    assert django_settings.AXES_FAILURE_LIMIT >= 3


def test_lockout_after_the_failure_limit_even_with_the_right_password(staff, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(2):
        answer = attempt(client, "wrong")
        assert answer.status_code == 200 and b"Please enter the correct username and password" in answer.content
    locked = attempt(client, "wrong")
    assert locked.status_code == 429
    assert b"locked" in locked.content.lower()
    assert attempt(client, PASSWORD).status_code == 429  # the right password does not help now
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.get(username="ops").failures_since_start >= 3

    # Another address may still log in with the right password: the lock is per (user name, address).
    other = Client()
    answer = other.post(LOGIN, {"username": "ops", "password": PASSWORD, "next": "/admin/"}, REMOTE_ADDR="198.51.100.9")
    assert answer.status_code == 302

    with time_machine.travel(timezone.now() + datetime.timedelta(hours=django_settings.AXES_COOLOFF_TIME, minutes=1)):
        later = attempt(Client(), PASSWORD)
    assert later.status_code == 302 and later["Location"] == "/admin/"


def test_a_good_login_resets_the_failure_count(staff, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    attempt(client, "wrong")
    attempt(client, "wrong")
    assert attempt(client, PASSWORD).status_code == 302
    client.logout()
    for _ in range(2):
        assert attempt(client, "wrong").status_code == 200  # counting starts again
    assert attempt(client, PASSWORD).status_code == 302


def test_unknown_user_names_are_locked_out_too(db, settings):
    settings.AXES_FAILURE_LIMIT = 2
    client = Client()
    assert attempt(client, "x", username="nobody").status_code == 200
    assert attempt(client, "x", username="nobody").status_code == 429
