"""Shared fixtures: a per-session encryption key, users, tenants, and admin clients."""

import pytest
from cryptography.fernet import Fernet
from django.test.testcases import QuietWSGIRequestHandler

from tests import factories

TEST_KEY = Fernet.generate_key().decode()

# The live server (pytest-django `live_server`) writes a response's headers and body in two
# send() calls; with Nagle's algorithm on, the body waits for the client's delayed ACK, ~40 ms per
# call on loopback (measured: 44.8 ms -> 3.7 ms per keep-alive GET). `disable_nagle_algorithm` is
# socketserver.StreamRequestHandler's own switch (TCP_NODELAY on each accepted socket); gunicorn,
# which the benchmarks use, sets TCP_NODELAY itself.
QuietWSGIRequestHandler.disable_nagle_algorithm = True


def pytest_collection_modifyitems(items):
    """Slow tests first: under pytest-xdist the soak (minutes) then starts at once on one worker
    while the other works through the rest, instead of starting last and running alone."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def _encryption_key(settings):
    """Tests run with DEBUG off (pytest-django), so a real key is configured explicitly."""
    settings.HUB_ENCRYPTION_KEYS = [TEST_KEY]
    # Hashing every factory user's password with PBKDF2 costs ~0.25 s; tests need no strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _wms_limiters():
    """Each test builds its WMS limiters afresh (tests change the store's settings) and leaves no
    PostgreSQL pool connected to the test database, which could not be dropped at the end."""
    yield
    from tenants import wms_limits

    wms_limits.close_limiters()


@pytest.fixture
def shiphero_system():
    """The ShipHero `WmsSystem` as registered in `connectors.wms.systems` (the adapter's own)."""
    from connectors.wms import systems

    return systems.system_of("shiphero")


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


@pytest.fixture
def orm_broker(monkeypatch):
    """Queue django-q2 tasks in the test database (the ORM broker), whatever the settings say, where
    `tests.queued_tasks.run_queued` takes them as a worker would (Run now, the dispatcher)."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "ORM", "default")
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "BROKER_CLASS", None)


@pytest.fixture(autouse=True)
def fresh_sandbox_faults():
    """Every test starts with the sandbox's in-memory fault state (quota buckets, seeded RNGs, answer
    times) forgotten, whatever an earlier test in the same process left."""
    from connectors.sandbox import faults

    faults.reset()
    yield
    faults.reset()
