"""hub.admin_site.HubAdminSite: the policy in the admin. With "required", an unenrolled superuser
who signs in reaches the enrolment page and "Log out" only, until enrolled; with "optional" the admin
is as it was; an enrolled user's session without its code is sent to the login."""

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from hub.admin_site import HubAdminSite
from hub.two_factor import policy
from tests import factories
from tests.two_factor_helpers import app_code, enrolled_user, sign_in

pytestmark = pytest.mark.django_db
ENROL = "/admin/two-factor/"
PAGES = (
    "/admin/",
    "/admin/hub/orderrecord/",
    "/admin/tenants/tenant/",
    "/admin/auth/user/",
    "/admin/password_change/",
    "/admin/two-factor/recovery-codes/",
)


def test_the_default_admin_site_is_the_hubs():
    assert isinstance(admin.site, HubAdminSite)
    assert admin.site.name == "admin"


def test_required_sends_an_unenrolled_superuser_from_the_sign_in_to_enrolment_and_nowhere_else(settings):
    settings.HUB_ADMIN_2FA = policy.REQUIRED_FOR_SUPERUSERS
    factories.UserFactory(username="root", is_superuser=True)
    client = Client()
    answer = sign_in(client, "root")  # the password alone signs in: there is no device yet
    assert answer.status_code == 302
    assert client.get(answer["Location"])["Location"] == ENROL
    for page in PAGES:
        blocked = client.get(page)
        assert blocked.status_code == 302 and blocked["Location"] == ENROL, page
    assert client.post("/admin/hub/orderrecord/", {"action": "x"})["Location"] == ENROL

    html = client.get(ENROL).content.decode()
    assert "must use two-factor sign-in before you can use the admin" in html
    assert 'id="nav-sidebar"' not in html  # no way into the rest of the admin from here


def test_an_unenrolled_superuser_can_log_out_under_required(settings):
    settings.HUB_ADMIN_2FA = policy.REQUIRED_FOR_SUPERUSERS
    factories.UserFactory(username="root", is_superuser=True)
    client = Client()
    sign_in(client, "root")
    assert client.post("/admin/logout/").status_code == 200
    assert "_auth_user_id" not in client.session


def test_required_lets_the_superuser_in_once_enrolled(settings):
    settings.HUB_ADMIN_2FA = policy.REQUIRED_FOR_SUPERUSERS
    user = factories.UserFactory(username="root", is_superuser=True)
    client = Client()
    sign_in(client, "root")
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=user)
    client.post(ENROL, {"code": app_code(device)})
    for page in PAGES[:-1]:
        assert client.get(page).status_code == 200, page


def test_required_for_superusers_leaves_other_staff_alone(settings, admin_client_for):
    settings.HUB_ADMIN_2FA = policy.REQUIRED_FOR_SUPERUSERS
    staff = admin_client_for(factories.tenant_staff(factories.TenantFactory()))
    assert staff.get("/admin/").status_code == 200


def test_required_for_staff_sends_tenant_staff_to_enrolment(settings, admin_client_for):
    settings.HUB_ADMIN_2FA = policy.REQUIRED_FOR_STAFF
    staff = admin_client_for(factories.tenant_staff(factories.TenantFactory()))
    assert staff.get("/admin/hub/orderrecord/")["Location"] == ENROL
    assert staff.get(ENROL).status_code == 200


def test_optional_leaves_the_admin_as_it_was(settings, admin_client_for, superuser):
    settings.HUB_ADMIN_2FA = policy.OPTIONAL
    client = admin_client_for(superuser)
    for page in PAGES[:-1]:
        assert client.get(page).status_code == 200, page
    html = client.get(ENROL).content.decode()
    assert "must use two-factor" not in html and 'id="two-factor-qr"' in html
    assert 'id="nav-sidebar"' in html


def test_an_enrolled_session_without_its_code_is_sent_to_the_login_whatever_the_policy(settings, admin_client_for):
    user, app, _ = enrolled_user(username="ops", is_superuser=True)
    for setting in policy.POLICIES:
        settings.HUB_ADMIN_2FA = setting
        client = admin_client_for(user)
        answer = client.get("/admin/hub/orderrecord/")
        assert answer.status_code == 302 and answer["Location"] == "/admin/login/?next=/admin/hub/orderrecord/"
        login = client.get(answer["Location"])
        assert (
            login.status_code == 200 and "You are signed in as ops, but this page needs more" in login.content.decode()
        )
    # Signing in again with the code opens the admin.
    client = Client()
    assert (
        sign_in(client, "ops", app_code(app), next_url="/admin/hub/orderrecord/")["Location"]
        == "/admin/hub/orderrecord/"
    )
    assert client.get("/admin/hub/orderrecord/").status_code == 200


def test_a_signed_in_user_who_lost_their_devices_is_back_to_the_policy(settings):
    settings.HUB_ADMIN_2FA = policy.REQUIRED_FOR_SUPERUSERS
    user, app, _ = enrolled_user(username="root", is_superuser=True)
    client = Client()
    sign_in(client, "root", app_code(app))
    assert client.get("/admin/").status_code == 200
    TOTPDevice.objects.filter(user=user).delete()  # otp_reset
    assert client.get("/admin/")["Location"] == ENROL


def test_the_login_page_itself_is_reachable_for_everyone(settings):
    settings.HUB_ADMIN_2FA = policy.REQUIRED_FOR_STAFF
    assert Client().get(reverse("admin:login")).status_code == 200
