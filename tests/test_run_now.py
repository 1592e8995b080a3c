"""hub.admin.run_now: the Run now buttons, the POST that queues the run, the progress page and its JSON."""

import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ

from hub.admin import run_now
from hub.engine import eligibility, leases
from hub.jobs import order_download
from hub.models import Job, JobState, SyncRun
from tenants.models import OrderManagerConnection, TenantMembership
from tests import factories
from tests.queued_tasks import run_queued

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("orm_broker")]


@pytest.fixture
def su_client(superuser, admin_client_for):
    return admin_client_for(superuser)


def state_of(connection, job=Job.ORDER_DOWNLOAD) -> JobState:
    return JobState.objects.get(connection=connection, job=job)


def run_url(state):
    return reverse("admin:hub_jobstate_run", args=[state.pk])


def status_url(state, after):
    return reverse("admin:hub_jobstate_progress_status", args=[state.pk]) + f"?after={after}"


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def after_of(response) -> int:
    """The `after` of the progress page a Run now redirected to."""
    assert response.status_code == 302, response.status_code
    location = urlsplit(response["Location"])
    assert location.path.endswith("/progress/"), response["Location"]
    return int(parse_qs(location.query)["after"][0])


def test_run_now_queues_and_leads_to_the_progress_page(su_client, connection):
    state = state_of(connection)
    back = reverse("admin:tenants_ordermanagerconnection_preflight", args=[connection.pk])

    response = su_client.post(run_url(state), {"next": back})

    after = after_of(response)
    assert parse_qs(urlsplit(response["Location"]).query)["next"] == [back]
    [queued] = OrmQ.objects.all()
    assert queued.task["args"][:2] == (connection.pk, Job.ORDER_DOWNLOAD)
    page = su_client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200 and "Order Download: queued, waiting for a worker." in html
    assert f'data-status-url="{status_url(state, after)}"' in html and 'data-done="false"' in html
    assert "hub/run_progress.js" in html and "<noscript>" in html and f'href="{back}"' in html
    assert any(m.endswith(": queued.") for m in messages_of(page))


def test_status_goes_queued_running_finished_as_the_task_runs(su_client, connection, monkeypatch):
    state = state_of(connection)
    after = after_of(su_client.post(run_url(state)))
    seen = []

    def body(ctx):
        ctx.run.fetched, ctx.run.created = 4, 2
        ctx.run.save(update_fields=["fetched", "created"])
        seen.append(su_client.get(status_url(state, after)).json())

    monkeypatch.setattr(order_download, "sync", body)
    first = su_client.get(status_url(state, after))
    assert "no-store" in first["Cache-Control"]
    assert first.json()["state"] == "queued"

    [run_id] = run_queued()

    [during] = seen
    assert during["state"] == "running" and during["done"] is False
    assert during["run"]["id"] == run_id and during["run"]["counts"]["fetched"] == 4
    assert "so far fetched 4, created 2" in during["text"]
    final = su_client.get(status_url(state, after)).json()
    assert (final["state"], final["done"], final["level"]) == ("finished", True, "ok")
    assert final["run"]["url"] == reverse("admin:hub_syncrun_change", args=[run_id])
    assert final["run"]["status"] == SyncRun.Status.SUCCEEDED
    page = su_client.get(reverse("admin:hub_jobstate_progress", args=[state.pk]) + f"?after={after}")
    assert 'data-done="true"' in page.content.decode() and f"run #{run_id} finished" in page.content.decode()


def test_run_now_twice_while_running_makes_one_run(su_client, connection, monkeypatch):
    state = state_of(connection)
    monkeypatch.setattr(order_download, "sync", lambda ctx: None)

    first = after_of(su_client.post(run_url(state)))
    second = su_client.post(run_url(state), follow=True)

    assert any("already running" in m for m in messages_of(second))
    assert OrmQ.objects.count() == 1
    assert run_queued() and run_queued() == []
    assert SyncRun.objects.filter(connection=connection, job=Job.ORDER_DOWNLOAD).count() == 1
    assert SyncRun.objects.get().pk > first


def test_run_now_while_a_run_is_under_way_follows_that_run(su_client, connection):
    state = state_of(connection)
    running = factories.SyncRunFactory(
        connection=connection, job=Job.ORDER_DOWNLOAD, status=SyncRun.Status.RUNNING, finished_at=None
    )
    leases.claim(connection, Job.ORDER_DOWNLOAD, "the-worker-s")

    after = after_of(su_client.post(run_url(state)))

    assert OrmQ.objects.count() == 0
    assert su_client.get(status_url(state, after)).json()["run"]["id"] == running.pk


def test_run_now_of_a_connection_not_activated_is_refused_with_the_reason(su_client, connection):
    OrderManagerConnection.objects.filter(pk=connection.pk).update(activated_at=None)
    state = state_of(connection)
    back = reverse("admin:tenants_ordermanagerconnection_change", args=[connection.pk])

    response = su_client.post(run_url(state), {"next": back})

    assert response.status_code == 302 and response["Location"] == back
    assert OrmQ.objects.count() == 0 and state_of(connection).lease_token == ""
    page = su_client.get(back)
    [message] = [m for m in messages_of(page) if "not run" in m]
    assert eligibility.NOT_ACTIVATED in message


def test_staff_cannot_run_or_follow_another_tenants_job(connection, admin_client_for):
    state = state_of(connection)
    client = admin_client_for(factories.tenant_staff(factories.TenantFactory(), username="outsider"))

    assert client.post(run_url(state)).status_code == 404
    assert client.get(status_url(state, 0)).status_code == 404
    assert client.get(reverse("admin:hub_jobstate_progress", args=[state.pk]) + "?after=0").status_code == 404
    assert OrmQ.objects.count() == 0 and state_of(connection).lease_token == ""


def test_own_tenant_staff_can_run(connection, admin_client_for):
    client = admin_client_for(factories.tenant_staff(connection.warehouse.tenant, username="insider"))

    after_of(client.post(run_url(state_of(connection))))

    assert OrmQ.objects.count() == 1


def test_running_needs_the_change_job_state_permission(connection, admin_client_for):
    viewer = factories.UserFactory(is_staff=True)
    TenantMembership.objects.create(user=viewer, tenant=connection.warehouse.tenant)
    viewer.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client = admin_client_for(viewer)
    state = state_of(connection)

    assert client.post(run_url(state)).status_code == 403
    assert client.get(status_url(state, 0)).status_code == 200  # following needs only the view permission
    assert OrmQ.objects.count() == 0
    page = client.get(reverse("admin:tenants_ordermanagerconnection_change", args=[connection.pk]))
    assert run_url(state) not in page.content.decode()


def test_run_is_post_only_and_csrf_protected(superuser, connection):
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    state = state_of(connection)

    assert client.get(run_url(state)).status_code == 405
    assert client.post(run_url(state)).status_code == 403  # no CSRF token
    assert OrmQ.objects.count() == 0


def test_next_must_be_a_page_of_this_site(su_client, connection):
    OrderManagerConnection.objects.filter(pk=connection.pk).update(activated_at=None)
    state = state_of(connection)

    response = su_client.post(run_url(state), {"next": "https://elsewhere.example/phish"})

    assert response["Location"] == reverse("admin:hub_jobstate_change", args=[state.pk])


def test_status_and_progress_need_after(su_client, connection):
    state = state_of(connection)
    assert su_client.get(reverse("admin:hub_jobstate_progress_status", args=[state.pk])).status_code == 400
    assert su_client.get(reverse("admin:hub_jobstate_progress", args=[state.pk]) + "?after=x").status_code == 400


def test_the_list_action_on_one_job_leads_to_its_progress(su_client, connection):
    state = state_of(connection, Job.SHIPMENT_CONFIRMATION)

    response = su_client.post(
        reverse("admin:hub_jobstate_changelist"), {"action": "run_now", "_selected_action": [state.pk]}
    )

    assert reverse("admin:hub_jobstate_progress", args=[state.pk]) in response["Location"]
    after_of(response)


# -- the buttons -------------------------------------------------------------------------------------


def buttons_in(html: str) -> dict[str, bool]:
    """job -> whether its Run now button is enabled, for every Run now button on the page."""
    found = {}
    for job in Job:
        marker = f'id="run-now-{job.value}"'
        if marker in html:
            tag = html[html.index(marker) : html.index(">", html.index(marker))]
            found[job.value] = " disabled" not in tag
    return found


def test_connection_page_offers_every_job(su_client, connection):
    html = su_client.get(reverse("admin:tenants_ordermanagerconnection_change", args=[connection.pk])).content.decode()

    assert buttons_in(html) == {job.value: True for job in Job}
    assert f'action="{run_url(state_of(connection))}"' in html
    assert 'name="next" value="/admin/tenants/ordermanagerconnection/' in html


def test_buttons_of_jobs_that_may_not_run_are_disabled_with_the_reason(su_client, connection):
    OrderManagerConnection.objects.filter(pk=connection.pk).update(activated_at=None)

    html = su_client.get(reverse("admin:tenants_ordermanagerconnection_change", args=[connection.pk])).content.decode()

    assert buttons_in(html) == {job.value: False for job in Job}
    assert html.count(eligibility.NOT_ACTIVATED) == 1 + len(Job)  # said once, and in each button's title


def test_a_job_that_needs_attention_or_is_turned_off_says_so(su_client, connection):
    JobState.objects.filter(connection=connection, job=Job.ORDER_DOWNLOAD).update(attention="Crashed 3 times")
    OrderManagerConnection.objects.filter(pk=connection.pk).update(cancel_download_enabled=False)

    html = su_client.get(reverse("admin:tenants_ordermanagerconnection_change", args=[connection.pk])).content.decode()

    assert buttons_in(html) == {
        "orders": False,
        "cancellations": False,
        "shipments": True,
        "inventory": True,
        "reconciliation": True,
    }
    assert "Needs attention (Crashed 3 times)" in html and "Order Cancel Download is turned off" in html


def test_preflight_inventory_and_job_state_pages_have_their_buttons(su_client, connection):
    preflight = su_client.get(reverse("admin:tenants_ordermanagerconnection_preflight", args=[connection.pk]))
    inventory = su_client.get(reverse("admin:tenants_ordermanagerconnection_inventory", args=[connection.pk]))
    state = su_client.get(
        reverse("admin:hub_jobstate_change", args=[state_of(connection, Job.SHIPMENT_CONFIRMATION).pk])
    )

    assert buttons_in(preflight.content.decode()) == {job.value: True for job in Job}
    assert buttons_in(inventory.content.decode()) == {"inventory": True}
    assert "Run Inventory Sync now" in inventory.content.decode()
    assert buttons_in(state.content.decode()) == {"shipments": True}


def test_a_running_job_says_its_button_shows_the_progress(su_client, connection):
    JobState.objects.filter(connection=connection, job=Job.ORDER_DOWNLOAD).update(
        lease_token="x", lease_expires_at=timezone.now() + datetime.timedelta(minutes=2)
    )

    html = run_now.render_buttons(
        _request(su_client, connection), connection, [Job.ORDER_DOWNLOAD], single_label="Run now"
    )

    assert "running now: the button shows its progress" in html and buttons_in(html) == {"orders": True}


def _request(client, connection):
    """A real admin request of `client`'s user (for render_buttons' permission check and CSRF token)."""
    response = client.get(reverse("admin:tenants_ordermanagerconnection_change", args=[connection.pk]))
    return response.wsgi_request
