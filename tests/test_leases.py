"""hub.leases: one conditional UPDATE claims (connection, job); tokens renew and release; expiry frees."""
import datetime

import pytest
import time_machine
from django.utils import timezone

from hub import leases
from hub.models import Job, JobState

pytestmark = pytest.mark.django_db

JOB = Job.SHIPMENT_CONFIRMATION


def test_claim_is_exclusive_until_released(connection):
    assert leases.claim(connection, JOB, "a")
    assert not leases.claim(connection, JOB, "b")
    assert leases.holds(connection, JOB, "a") and not leases.holds(connection, JOB, "b")
    assert not leases.release(connection, JOB, "b")  # only the holder releases
    assert leases.holds(connection, JOB, "a")
    assert leases.release(connection, JOB, "a")
    assert not leases.holds(connection, JOB, "a")
    assert leases.claim(connection, JOB, "b")


def test_leases_are_per_connection_and_job(connection):
    from tests.factories import OrderManagerConnectionFactory

    other = OrderManagerConnectionFactory()
    assert leases.claim(connection, JOB, "a")
    assert leases.claim(connection, Job.ORDER_DOWNLOAD, "b")
    assert leases.claim(other, JOB, "c")
    assert JobState.objects.filter(lease_token__in=["a", "b", "c"]).count() == 3


def test_an_expired_lease_can_be_taken_over(connection):
    assert leases.claim(connection, JOB, "dead-worker", ttl=datetime.timedelta(minutes=30))
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=31)):
        assert not leases.holds(connection, JOB, "dead-worker")
        assert leases.claim(connection, JOB, "new-worker")
        assert not leases.renew(connection, JOB, "dead-worker")  # the presumed-dead holder cannot come back
        assert leases.holds(connection, JOB, "new-worker")


def test_renew_extends_the_lease(connection):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert leases.claim(connection, JOB, "a", ttl=datetime.timedelta(minutes=10))
    with time_machine.travel(start + datetime.timedelta(minutes=9), tick=False):
        assert leases.renew(connection, JOB, "a", ttl=datetime.timedelta(minutes=10))
    with time_machine.travel(start + datetime.timedelta(minutes=15), tick=False):
        assert leases.holds(connection, JOB, "a")
        assert not leases.claim(connection, JOB, "b")


def test_claim_is_one_conditional_update(connection, django_assert_num_queries):
    leases.state_for(connection, JOB)
    # get_or_create's SELECT, then the single UPDATE ... WHERE lease is free.
    with django_assert_num_queries(2) as captured:
        assert leases.claim(connection, JOB, "a")
    update = captured.captured_queries[-1]["sql"]
    assert update.startswith("UPDATE") and "lease_expires_at" in update.split("WHERE", 1)[1]


def test_new_tokens_are_unique():
    assert len({leases.new_token() for _ in range(100)}) == 100
