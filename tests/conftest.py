"""Shared fixtures: a per-session encryption key, users, tenants, and admin clients."""
import pytest
from cryptography.fernet import Fernet

from tests import factories

TEST_KEY = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def _encryption_key(settings):
    """Tests run with DEBUG off (pytest-django), so a real key is configured explicitly."""
    settings.HUB_ENCRYPTION_KEYS = [TEST_KEY]
    # Hashing every factory user's password with PBKDF2 costs ~0.25 s; tests need no strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def tenant(db):
    return factories.TenantFactory()


@pytest.fixture
def connection(db):
    return factories.OrderManagerConnectionFactory()


@pytest.fixture
def superuser(db):
    return factories.UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client_for():
    """Log a user into a fresh test client: `admin_client_for(user)`."""
    from django.test import Client

    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make
