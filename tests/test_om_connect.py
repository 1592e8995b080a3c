"""Connect to Order Manager (tenants.om_connect) over a real socket against the sandbox.

The hub side (the admin's Connect button, the callback) runs in the Django test client as the
operator's browser would reach it; the sandbox install page is fetched over the live server's
socket, and the hub's code exchange goes to the sandbox's token endpoint over that socket too.
"""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.urls import reverse
from django.utils import timezone

from hub.engine.runner import run_job
from hub.models import Job, SyncRun
from tenants.models import OmInstallState, OrderManagerConnection, TokenSource
from tests import factories
from tests.sandbox_helpers import sandbox_tenant

APP_KEY, APP_SECRET = "hub-test-app", "hub-test-secret"


@pytest.fixture
def hub_app(settings, live_server):
    settings.HUB_OM_APP_KEY, settings.HUB_OM_APP_SECRET = APP_KEY, APP_SECRET
    settings.HUB_OM_REDIRECT_URL = f"{live_server.url}/om/connect/callback"
    return settings


@pytest.fixture
def onboarded(hub_app, live_server):
    """A sandbox tenant whose connection then forgets its token: it must be connected again."""
    connection = sandbox_tenant(live_server, "acme", orders=3, skus=2)
    OrderManagerConnection.objects.filter(pk=connection.pk).update(access_token="", token_source="")
    connection.refresh_from_db()
    return connection


@pytest.fixture
def operator(onboarded, admin_client_for):
    user = factories.UserFactory(is_staff=True, is_superuser=True)
    return user, admin_client_for(user)


def press_connect(client, connection) -> str:
    """The Connect button: POST, answered by a redirect to the sandbox's install page."""
    page = client.get(reverse("admin:tenants_ordermanagerconnection_change", args=[connection.pk]))
    assert b"Connect to Order Manager" in page.content
    response = client.post(reverse("admin:tenants_ordermanagerconnection_connect", args=[connection.pk]))
    assert response.status_code == 302
    return response["Location"]


def install(authorize_url: str, username="acme@sandbox", password=None) -> str:
    """The tenant signs in on the sandbox install page and approves; returns the redirect target."""
    session = requests.Session()
    form = session.get(authorize_url, timeout=10)
    assert form.status_code == 200 and "Sign in and install" in form.text
    answer = session.post(
        authorize_url,
        data={"username": username, "password": password, "approve": "1"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text[:300]
    return answer.headers["Location"]


def sandbox_password(connection) -> str:
    from connectors.sandbox.models import OmAccount

    account = OmAccount.objects.get(username="acme@sandbox")
    account.set_password("typed-on-the-install-page")
    account.save()
    return "typed-on-the-install-page"


def follow_callback(client, location: str):
    parts = urlsplit(location)
    return client.get(parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}, follow=True)


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def test_the_whole_install_flow_then_a_first_order_download(onboarded, operator):
    user, client = operator
    authorize = press_connect(client, onboarded)
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(f"{onboarded.auth_base_url}/oauth/authorize?")
    assert query["client_id"] == [APP_KEY] and query["response_type"] == ["code"] and query["state"]
    location = install(authorize, password=sandbox_password(onboarded))
    redirect = parse_qs(urlsplit(location).query)
    assert set(redirect) == {"code", "cid", "state"}
    page = follow_callback(client, location)
    assert "connected to Order Manager" in messages_of(page)
    connection = OrderManagerConnection.objects.get(pk=onboarded.pk)
    token = str(connection.access_token)
    assert token and connection.token_source == TokenSource.APP_INSTALL
    assert connection.connected_by == user and connection.connected_at is not None
    assert connection.connected_account == f"cid {redirect['cid'][0]}"
    from django.db import connection as db

    with db.cursor() as cursor:
        cursor.execute("SELECT access_token FROM tenants_ordermanagerconnection WHERE id = %s", [connection.pk])
        stored = cursor.fetchone()[0]
    assert token not in stored and stored.startswith("fernet:gAAAA")  # Fernet ciphertext in the database
    run = run_job(connection, Job.ORDER_DOWNLOAD)
    assert run.status == SyncRun.Status.SUCCEEDED and run.created == 3


def test_a_replayed_state_is_refused_and_nothing_is_stored(onboarded, operator):
    _, client = operator
    location = install(press_connect(client, onboarded), password=sandbox_password(onboarded))
    assert "connected" in messages_of(follow_callback(client, location))
    OrderManagerConnection.objects.filter(pk=onboarded.pk).update(access_token="")
    page = follow_callback(client, location)
    assert "already used" in messages_of(page)
    assert str(OrderManagerConnection.objects.get(pk=onboarded.pk).access_token) == ""


def test_an_expired_state_is_refused(onboarded, operator):
    _, client = operator
    location = install(press_connect(client, onboarded), password=sandbox_password(onboarded))
    OmInstallState.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert "expired" in messages_of(follow_callback(client, location))
    assert str(OrderManagerConnection.objects.get(pk=onboarded.pk).access_token) == ""


def test_a_callback_without_state_is_refused_even_with_an_install_pending(onboarded, operator):
    """A forged callback with someone else's code and no state must not bind to the pending install."""
    _, client = operator
    location = install(press_connect(client, onboarded), password=sandbox_password(onboarded))
    parts = urlsplit(location)
    without_state = {k: v[0] for k, v in parse_qs(parts.query).items() if k != "state"}
    page = client.get(parts.path, without_state, follow=True)
    assert "carried no state parameter" in messages_of(page)
    assert str(OrderManagerConnection.objects.get(pk=onboarded.pk).access_token) == ""
    assert OmInstallState.objects.filter(used_at__isnull=True).count() == 1  # the real install can still finish
    assert "connected" in messages_of(follow_callback(client, location))


def test_another_operators_state_is_refused(onboarded, operator, admin_client_for):
    _, client = operator
    location = install(press_connect(client, onboarded), password=sandbox_password(onboarded))
    other = admin_client_for(factories.UserFactory(is_staff=True, is_superuser=True))
    assert "another operator" in messages_of(follow_callback(other, location))
    assert str(OrderManagerConnection.objects.get(pk=onboarded.pk).access_token) == ""


def test_a_reused_code_is_refused(onboarded, operator):
    _, client = operator
    location = install(press_connect(client, onboarded), password=sandbox_password(onboarded))
    follow_callback(client, location)
    OrderManagerConnection.objects.filter(pk=onboarded.pk).update(access_token="")
    # A fresh state, the old code: the sandbox answers invalid_grant.
    fresh = parse_qs(urlsplit(press_connect(client, onboarded)).query)["state"][0]
    replay = re.sub(r"state=[^&]+", f"state={fresh}", location)
    page = follow_callback(client, replay)
    assert "already used or has expired" in messages_of(page)
    assert str(OrderManagerConnection.objects.get(pk=onboarded.pk).access_token) == ""


def test_a_wrong_app_secret_is_refused(onboarded, operator, settings):
    _, client = operator
    location = install(press_connect(client, onboarded), password=sandbox_password(onboarded))
    settings.HUB_OM_APP_SECRET = "not-the-secret"
    page = follow_callback(client, location)
    assert "refused the hub's app credentials" in messages_of(page)
    assert str(OrderManagerConnection.objects.get(pk=onboarded.pk).access_token) == ""


def test_a_wrong_password_on_the_install_page_issues_no_code(onboarded, operator):
    _, client = operator
    authorize = press_connect(client, onboarded)
    answer = requests.post(
        authorize, data={"username": "acme@sandbox", "password": "wrong"}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 200 and "Bad credentials" in answer.text


def test_tenant_staff_cannot_connect_another_tenants_connection(onboarded, admin_client_for):
    staff = factories.tenant_staff(factories.TenantFactory())
    client = admin_client_for(staff)
    response = client.post(reverse("admin:tenants_ordermanagerconnection_connect", args=[onboarded.pk]))
    assert response.status_code in (302, 403, 404)
    assert not OmInstallState.objects.exists()


def test_a_password_grant_gets_unsupported_grant_type(onboarded, live_server):
    answer = requests.post(
        f"{onboarded.auth_base_url}/oauth/token",
        auth=(APP_KEY, APP_SECRET),
        data={"grant_type": "password", "username": "acme@sandbox", "password": "x"},
        timeout=10,
    )
    assert answer.status_code == 400 and answer.json()["error"] == "unsupported_grant_type"


def test_an_encrypted_app_secret_is_decrypted_when_used(settings):
    from tenants import crypto, om_connect

    settings.HUB_OM_APP_KEY, settings.HUB_OM_APP_SECRET = APP_KEY, "fernet:" + crypto.encrypt(APP_SECRET)
    assert om_connect.app_credentials() == (APP_KEY, APP_SECRET)
    settings.HUB_OM_APP_SECRET = APP_SECRET
    assert om_connect.app_credentials() == (APP_KEY, APP_SECRET)
