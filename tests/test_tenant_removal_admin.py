"""tenants.removal_admin: a superuser deletes a tenant that never sent an order, is told to archive one
that did; Archive and Unarchive are confirmed list actions; tenant staff may archive, never delete."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from hub.models import Job, JobState, OrderEvent, OrderRecord, SyncRun
from tenants.models import OrderManagerConnection, Tenant, Warehouse
from tests import factories

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:tenants_tenant_changelist")
Status = OrderRecord.Status


def delete_url(tenant):
    return reverse("admin:tenants_tenant_delete", args=[tenant.pk])


def change_url(tenant):
    return reverse("admin:tenants_tenant_change", args=[tenant.pk])


def connection_of(tenant):
    return OrderManagerConnection.objects.get(warehouse__tenant=tenant)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def action(client, name, tenants, *, confirm: bool, query: str = ""):
    """The list action `name` on `tenants`: its confirmation page, or (confirm) the confirmed action."""
    data = {"action": name, "_selected_action": [t.pk for t in tenants]}
    data.update({"post": "yes"} if confirm else {"index": 0})
    return client.post(CHANGELIST + query, data, follow=confirm)


def listed(client, query: str = "") -> set[int]:
    response = client.get(CHANGELIST + query)
    assert response.status_code == 200
    return {t.pk for t in response.context["cl"].result_list}


@pytest.fixture
def su(superuser, admin_client_for):
    return admin_client_for(superuser)


@pytest.fixture
def unsent():
    """A tenant with a connection, a run, events and orders, none of which reached a WMS."""
    connection = factories.OrderManagerConnectionFactory(warehouse__tenant__name="Mistake Inc")
    run = factories.SyncRunFactory(connection=connection)
    for status in (Status.NEW, Status.SKIPPED, Status.ERROR):
        factories.OrderEventFactory(order__connection=connection, order__status=status, run=run)
    return connection.warehouse.tenant


@pytest.fixture
def sent():
    connection = factories.OrderManagerConnectionFactory(warehouse__tenant__name="Real Customer")
    factories.OrderRecordFactory(connection=connection, status=Status.NEW)
    factories.OrderRecordFactory(connection=connection, order_number="SO-AT-WMS", status=Status.AT_WMS, wms_order_id=7)
    return connection.warehouse.tenant


# -- delete ---------------------------------------------------------------------------------------


def test_a_superuser_deletes_a_tenant_that_never_sent_an_order_with_everything_it_owns(su, unsent):
    """Issue 17: even a superuser was told they lacked the permission to delete the audit rows."""
    other = factories.OrderRecordFactory(status=Status.NEW)  # another tenant's
    counts = {model: model.objects.count() for model in (Warehouse, OrderManagerConnection, SyncRun, JobState)}
    counts |= {OrderRecord: OrderRecord.objects.count(), OrderEvent: OrderEvent.objects.count()}
    assert counts[OrderRecord] == 4 and counts[OrderEvent] == 3

    page = su.get(delete_url(unsent))
    assert page.status_code == 200
    html = page.content.decode()
    assert "permission" not in html and "protected" not in html
    assert "Order records: 3" in html and "Sync runs: 1" in html and f"Job states: {len(Job)}" in html

    response = su.post(delete_url(unsent), {"post": "yes"}, follow=True)
    assert response.redirect_chain[-1][0] == CHANGELIST
    assert not Tenant.objects.filter(pk=unsent.pk).exists()
    assert {model: model.objects.count() for model in counts} == {
        Warehouse: counts[Warehouse] - 1,
        OrderManagerConnection: counts[OrderManagerConnection] - 1,
        SyncRun: counts[SyncRun] - 1,
        JobState: counts[JobState] - len(Job),
        OrderRecord: 1,
        OrderEvent: 0,
    }
    assert OrderRecord.objects.filter(pk=other.pk).exists()
    [said] = [m for m in messages_of(response) if m.startswith("Deleted: ")]
    assert "3 order records" in said and "1 sync run" in said
    assert LogEntry.objects.filter(object_id=str(unsent.pk), action_flag=3).exists()


def test_deleting_a_tenant_with_an_order_at_the_wms_is_refused_with_archive_instead(su, sent):
    page = su.get(delete_url(sent), follow=True)
    assert page.redirect_chain[-1][0] == change_url(sent)
    [said] = messages_of(page)
    assert "cannot be deleted: 1 of its orders reached a WMS (SO-AT-WMS)" in said
    assert "Archive the tenant instead" in said
    response = su.post(delete_url(sent), {"post": "yes"}, follow=True)
    assert response.redirect_chain[-1][0] == change_url(sent)
    assert Tenant.objects.filter(pk=sent.pk).exists()
    assert OrderRecord.objects.filter(connection__warehouse__tenant=sent).count() == 2
    assert not LogEntry.objects.filter(object_id=str(sent.pk), action_flag=3).exists()


def test_an_order_sent_while_the_confirmation_page_was_open_still_refuses(su, unsent):
    assert su.get(delete_url(unsent)).status_code == 200
    OrderRecord.objects.filter(connection__warehouse__tenant=unsent, status=Status.NEW).update(attempts=1)
    response = su.post(delete_url(unsent), {"post": "yes"}, follow=True)
    assert "1 of its orders reached a WMS" in " ".join(messages_of(response))
    assert Tenant.objects.filter(pk=unsent.pk).exists()
    assert not LogEntry.objects.filter(object_id=str(unsent.pk), action_flag=3).exists()


def test_no_bulk_delete_and_no_delete_for_tenant_staff(su, unsent, admin_client_for):
    assert 'value="delete_selected"' not in su.get(CHANGELIST).content.decode()
    staff = admin_client_for(factories.tenant_staff(unsent))
    assert staff.get(delete_url(unsent)).status_code == 403
    assert staff.post(delete_url(unsent), {"post": "yes"}).status_code == 403
    assert Tenant.objects.filter(pk=unsent.pk).exists()


# -- archive / unarchive --------------------------------------------------------------------------


def test_archive_asks_first_then_hides_the_tenant_and_unarchive_restores_it(su, sent, superuser):
    kept = factories.TenantFactory(name="Still Served")
    confirmation = action(su, "archive_tenants", [sent], confirm=False)
    assert confirmation.status_code == 200
    html = confirmation.content.decode()
    assert "Archive tenants" in html and "Real Customer" in html and "running; its jobs stop" in html
    sent.refresh_from_db()
    assert not sent.is_archived  # nothing happens before the confirmation

    done = action(su, "archive_tenants", [sent], confirm=True)
    assert "Archived 1 tenant(s): Real Customer." in messages_of(done)
    sent.refresh_from_db()
    assert sent.is_archived and sent.archived_by == superuser
    assert OrderRecord.objects.filter(connection__warehouse__tenant=sent).count() == 2  # records kept
    assert set(JobState.objects.filter(connection__warehouse__tenant=sent).values_list("next_due_at", flat=True)) == {
        None
    }
    assert listed(su) == {kept.pk}
    assert listed(su, "?archived=yes") == {sent.pk}
    assert listed(su, "?archived=all") == {sent.pk, kept.pk}
    archived_list = su.get(CHANGELIST + "?archived=yes").content.decode()
    assert "Archived at" in archived_list and ("EST<" in archived_list or "EDT<" in archived_list)
    assert LogEntry.objects.filter(object_id=str(sent.pk), change_message="Archived.").exists()

    # Its page says when and by whom; it stays editable, so it can be set inactive before unarchiving.
    page = su.get(change_url(sent))
    assert page.status_code == 200 and page.context["has_change_permission"]
    html = page.content.decode()
    assert "field-archived_at" in html and f">{superuser.username}</a>" in html
    connection_page = su.get(reverse("admin:tenants_ordermanagerconnection_change", args=[connection_of(sent).pk]))
    assert not connection_page.context["has_change_permission"]  # its rows are view-only

    confirmation = action(su, "unarchive_tenants", [sent], confirm=False, query="?archived=yes")
    assert "activated: its jobs run again at once" in confirmation.content.decode()
    done = action(su, "unarchive_tenants", [sent], confirm=True, query="?archived=yes")
    assert "Unarchived 1 tenant(s): Real Customer." in messages_of(done)
    sent.refresh_from_db()
    assert not sent.is_archived
    assert None not in set(
        JobState.objects.filter(connection__warehouse__tenant=sent).values_list("next_due_at", flat=True)
    )
    assert listed(su) == {sent.pk, kept.pk}


def test_tenant_staff_with_the_change_permission_archive_their_tenant_but_never_unarchive(admin_client_for, sent):
    staff_user = factories.tenant_staff(sent)
    staff = admin_client_for(staff_user)
    html = staff.get(CHANGELIST).content.decode()
    assert 'value="archive_tenants"' in html and 'value="unarchive_tenants"' not in html
    action(staff, "archive_tenants", [sent], confirm=True)
    sent.refresh_from_db()
    assert sent.is_archived and sent.archived_by == staff_user
    assert listed(staff) == set() and listed(staff, "?archived=yes") == {sent.pk}
    assert 'value="unarchive_tenants"' not in staff.get(CHANGELIST + "?archived=yes").content.decode()
    action(staff, "unarchive_tenants", [sent], confirm=True, query="?archived=yes")
    sent.refresh_from_db()
    assert sent.is_archived


def test_tenant_staff_without_the_change_permission_cannot_archive(admin_client_for, sent):
    staff_user = factories.tenant_staff(sent)
    staff_user.user_permissions.remove(Permission.objects.get(codename="change_tenant"))
    staff = admin_client_for(staff_user)
    assert 'value="archive_tenants"' not in staff.get(CHANGELIST).content.decode()
    action(staff, "archive_tenants", [sent], confirm=True)
    sent.refresh_from_db()
    assert not sent.is_archived


def test_staff_cannot_archive_another_tenant(admin_client_for, sent):
    staff = admin_client_for(factories.tenant_staff(factories.TenantFactory()))
    action(staff, "archive_tenants", [sent], confirm=True)
    sent.refresh_from_db()
    assert not sent.is_archived


def test_a_tenant_set_inactive_on_its_page_is_unarchived_without_running(su, sent, superuser, django_app):
    action(su, "archive_tenants", [sent], confirm=True)
    form = django_app.get(change_url(sent), user=superuser).forms["tenant_form"]
    assert "warehouses-0-name" not in form.fields  # its warehouses are view-only here as on their pages
    form["active"] = False
    assert form.submit("_save").status_code == 302
    action(su, "unarchive_tenants", [sent], confirm=True, query="?archived=yes")
    sent.refresh_from_db()
    assert not sent.is_archived and not sent.active
    assert set(JobState.objects.filter(connection__warehouse__tenant=sent).values_list("next_due_at", flat=True)) == {
        None
    }
