"""Leases on (connection, job): one conditional UPDATE claims a run, so the same connection's job
never runs twice at once, whichever worker, cluster or command asks (SQLite and PostgreSQL alike).

A lease is a random token plus an expiry. Claiming succeeds only when no unexpired lease is held;
the holder renews or releases it with its token. An expired lease can be taken over: the worker
that held it is presumed dead (its `running` SyncRun is then closed as abandoned by the runner).
"""
import datetime
import secrets

from django.db.models import Q
from django.utils import timezone

from .models import JobState

# Longer than any healthy run; shorter than the time an operator would tolerate a stuck job.
DEFAULT_LEASE = datetime.timedelta(minutes=30)


def new_token() -> str:
    return secrets.token_hex(16)


def state_for(connection, job: str) -> JobState:
    state, _ = JobState.objects.get_or_create(connection=connection, job=job)
    return state


def free_q(now: datetime.datetime) -> Q:
    """Rows whose lease is free: never taken, released, or expired."""
    return Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)


def claim(connection, job: str, token: str, *, ttl: datetime.timedelta = DEFAULT_LEASE) -> bool:
    """Take the lease of (connection, job) for `token`; False when someone else holds it."""
    now = timezone.now()
    state_for(connection, job)
    updated = JobState.objects.filter(free_q(now), connection=connection, job=job).update(
        lease_token=token, lease_expires_at=now + ttl
    )
    return updated == 1


def holds(connection, job: str, token: str) -> bool:
    """True while `token` still holds an unexpired lease (checked before writing results)."""
    return JobState.objects.filter(
        connection=connection, job=job, lease_token=token, lease_expires_at__gte=timezone.now()
    ).exists()


def renew(connection, job: str, token: str, *, ttl: datetime.timedelta = DEFAULT_LEASE) -> bool:
    now = timezone.now()
    return JobState.objects.filter(connection=connection, job=job, lease_token=token).update(
        lease_expires_at=now + ttl
    ) == 1


def release(connection, job: str, token: str) -> bool:
    return JobState.objects.filter(connection=connection, job=job, lease_token=token).update(
        lease_token="", lease_expires_at=None
    ) == 1
