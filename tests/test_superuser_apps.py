"""hub.admin.superuser_apps: the queue, login lockouts and sandbox are for superusers only."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db
HIDDEN = ("axes", "django_q", "sandbox", "otp_totp", "otp_static")


def apps_shown(client) -> set[str]:
    return set(re.findall(r'href="/admin/([a-z_]+)/"', client.get(reverse("admin:index")).content.decode()))


def test_staff_given_every_permission_still_see_only_their_tenants_apps(admin_client_for):
    """Issue 17: tenant staff saw the Axes, django-q and sandbox apps in the index and the sidebar."""
    user = factories.tenant_staff(factories.TenantFactory())
    user.user_permissions.set(Permission.objects.all())
    client = admin_client_for(user)
    assert apps_shown(client).isdisjoint(HIDDEN)
    assert client.get(reverse("admin:django_q_ormq_changelist")).status_code == 403
    assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 403
    assert client.get("/admin/sandbox/").status_code in (403, 404)


def test_the_superuser_keeps_them(admin_client_for, superuser):
    client = admin_client_for(superuser)
    assert set(HIDDEN) <= apps_shown(client)
    assert client.get(reverse("admin:django_q_ormq_changelist")).status_code == 200


def test_the_two_factor_apps_are_named_in_words(admin_client_for, superuser):
    page = admin_client_for(superuser).get(reverse("admin:index")).content.decode()
    assert "Two-factor: authenticator apps" in page and "Two-factor: recovery codes" in page
    assert ">Otp_Totp<" not in page and ">Otp_Static<" not in page  # Django's fallback from the label
