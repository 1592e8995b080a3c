"""hub.admin.run_progress: where a Run now stands, from queued to its end."""

import datetime

import pytest
from django.utils import timezone

from hub.admin.run_progress import QUEUED_HINT, progress
from hub.engine import eligibility, leases
from hub.models import Job, JobState, SyncRun
from tenants.models import OrderManagerConnection
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def state(connection):
    return JobState.objects.select_related("connection__warehouse__tenant").get(
        connection=connection, job=Job.ORDER_DOWNLOAD
    )


def hold_lease(state, seconds=60):
    JobState.objects.filter(pk=state.pk).update(
        lease_token="t", lease_expires_at=timezone.now() + datetime.timedelta(seconds=seconds)
    )


def test_queued_while_the_lease_is_held_and_no_run_started(state):
    hold_lease(state)

    answer = progress(state, after=0)

    assert (answer["state"], answer["done"], answer["run"]) == ("queued", False, None)
    assert answer["text"] == "Order Download: queued, waiting for a worker." and answer["hint"] == QUEUED_HINT


def test_running_shows_the_counts_saved_so_far(state):
    hold_lease(state)
    run = factories.SyncRunFactory(
        connection=state.connection,
        job=Job.ORDER_DOWNLOAD,
        status=SyncRun.Status.RUNNING,
        finished_at=None,
        fetched=8,
        created=3,
        failed=1,
    )

    answer = progress(state, after=run.pk - 1)

    assert (answer["state"], answer["done"]) == ("running", False)
    assert answer["run"]["id"] == run.pk and answer["run"]["url"] == f"/admin/hub/syncrun/{run.pk}/change/"
    assert answer["run"]["counts"] == {"fetched": 8, "created": 3, "updated": 0, "skipped": 0, "failed": 1}
    assert answer["text"].startswith(f"Order Download run #{run.pk}: running for ")
    assert answer["text"].endswith("so far fetched 8, created 3, updated 0, skipped 0, failed 1.")


@pytest.mark.parametrize(
    "status, level",
    [(SyncRun.Status.SUCCEEDED, "ok"), (SyncRun.Status.PARTIAL, "warn"), (SyncRun.Status.FAILED, "bad")],
)
def test_finished_with_its_outcome_and_a_link_to_the_run(state, status, level):
    started = timezone.now() - datetime.timedelta(seconds=5)
    run = factories.SyncRunFactory(
        connection=state.connection,
        job=Job.ORDER_DOWNLOAD,
        status=status,
        started_at=started,
        finished_at=started + datetime.timedelta(seconds=5),
        fetched=2,
        created=2,
        error="Order Manager answered 500 Authorization: Bearer abc.def.ghi",
    )

    answer = progress(state, after=run.pk - 1)

    assert (answer["state"], answer["done"], answer["level"]) == ("finished", True, level)
    assert answer["text"] == (
        f"Order Download run #{run.pk} finished: {run.get_status_display()} in 5s; "
        "fetched 2, created 2, updated 0, skipped 0, failed 0."
    )
    assert answer["run"]["status"] == status and "abc.def.ghi" not in answer["run"]["error"]
    zone = state.connection.warehouse.tenant.zone
    assert answer["run"]["finished"] == timezone.localtime(run.finished_at, zone).strftime("%Y-%m-%d %H:%M %Z")


def test_stopped_when_the_run_says_running_but_its_lease_expired(state):
    hold_lease(state, seconds=-1)
    run = factories.SyncRunFactory(
        connection=state.connection, job=Job.ORDER_DOWNLOAD, status=SyncRun.Status.RUNNING, finished_at=None
    )

    answer = progress(state, after=run.pk - 1)

    assert (answer["state"], answer["done"], answer["level"]) == ("stopped", True, "bad")
    assert "worker went away" in answer["text"]


def test_not_run_when_the_lease_was_given_back_without_a_run(state):
    answer = progress(state, after=0)

    assert (answer["state"], answer["done"]) == ("not_run", True)
    assert answer["text"] == "Order Download did not start: a worker dropped the queued run. The queue lost it."


def test_not_run_says_why_the_job_may_not_run_now(state):
    OrderManagerConnection.objects.filter(pk=state.connection_id).update(activated_at=None)
    state = JobState.objects.select_related("connection__warehouse__tenant").get(pk=state.pk)

    answer = progress(state, after=0)

    assert answer["state"] == "not_run" and eligibility.NOT_ACTIVATED in answer["text"]


def test_only_the_pairs_runs_after_the_request_count(state):
    before = factories.SyncRunFactory(connection=state.connection, job=Job.ORDER_DOWNLOAD)
    factories.SyncRunFactory(connection=state.connection, job=Job.SHIPMENT_CONFIRMATION)
    factories.SyncRunFactory(job=Job.ORDER_DOWNLOAD)  # another connection
    hold_lease(state)

    assert progress(state, after=before.pk)["state"] == "queued"

    ours = factories.SyncRunFactory(connection=state.connection, job=Job.ORDER_DOWNLOAD)
    later = factories.SyncRunFactory(connection=state.connection, job=Job.ORDER_DOWNLOAD)
    assert progress(state, after=before.pk)["run"]["id"] == ours.pk != later.pk


def test_the_lease_is_read_fresh_on_each_call(state):
    hold_lease(state)
    assert progress(state, after=0)["state"] == "queued"

    leases.release(state.connection, state.job, "t")

    assert progress(state, after=0)["state"] == "not_run"
