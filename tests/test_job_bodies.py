"""hub.engine.job_bodies: the runner finds every job's body, installed by hub.jobs.registry."""

import pytest

from hub.engine import job_bodies
from hub.jobs import order_download, registry
from hub.models import Job


def test_every_job_has_its_modules_sync_installed_when_django_starts():
    assert {job: job_bodies.body_of(job) for job in Job} == {job: m.sync for job, m in registry.JOB_MODULES.items()}
    assert job_bodies.body_of(Job.ORDER_DOWNLOAD) is order_download.sync


def test_a_job_nobody_installed_fails_loudly(monkeypatch):
    monkeypatch.setattr(job_bodies, "_MODULES", {})
    with pytest.raises(LookupError, match="hub.jobs.registry was not imported"):
        job_bodies.body_of(Job.INVENTORY_SYNC)
