"""The findings list (hub.admin.findings): the report per connection, its filters and its CSV export."""

import csv
import io

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ

from hub.admin.findings import FindingExport
from hub.models import Finding, Job, OrderEvent, OrderRecord
from tests import factories


@pytest.fixture
def su_client(superuser, admin_client_for):
    return admin_client_for(superuser)


@pytest.fixture
def findings(connection):
    record = factories.OrderRecordFactory(connection=connection, order_number="SO-LOST-1")
    lost = factories.FindingFactory(
        connection=connection,
        kind=Finding.Kind.EXPORT_MARK_LOST,
        subject=str(record.om_order_id),
        order=record,
        heal="Export mark cleared",
    )
    missed = factories.FindingFactory(connection=connection, subject="424242")
    resolved = factories.FindingFactory(connection=connection, subject="515151", resolved_at=timezone.now())
    return lost, missed, resolved


def test_the_list_shows_each_finding_with_its_heal_and_order(su_client, findings):
    html = su_client.get(reverse("admin:hub_finding_changelist")).content.decode()
    assert "424242" in html and "515151" in html and "Export mark cleared" in html
    assert reverse("admin:hub_orderrecord_change", args=[findings[0].order_id]) in html


def test_open_and_kind_filters_give_the_report_per_kind(su_client, findings, connection):
    url = reverse("admin:hub_finding_changelist")
    html = su_client.get(f"{url}?state=open&kind=missed_order").content.decode()
    assert "424242" in html and "515151" not in html and "SO-LOST-1" not in html


def test_csv_export_has_both_sides_and_the_times(su_client, findings):
    names = FindingExport().get_export_order()
    data = {"format": "0", "resource": "0", **{f"findingexport_{name}": "on" for name in names}}
    response = su_client.post(reverse("admin:hub_finding_export") + "?state=open", data)
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    header, *rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header[:5] == ["finding id", "tenant", "connection", "kind", "order id or SKU"]
    by_subject = {row[4]: dict(zip(header, row)) for row in rows}
    assert set(by_subject) == {"424242", findings[0].subject}
    assert by_subject["424242"]["Order Manager says"] == "AWAITING_3PL_EXPORT"
    assert by_subject["424242"]["hub / WMS says"] == "no record"
    assert by_subject[findings[0].subject]["heal applied"] == "Export mark cleared"
    assert by_subject["424242"]["resolved"] == ""


def test_findings_are_read_only(su_client, findings):
    assert su_client.get(reverse("admin:hub_finding_add")).status_code == 403


# -- the operator's actions: buttons on the finding's page, actions on the list -------------------


@pytest.fixture
def other_tenant_client(db, admin_client_for):
    return admin_client_for(factories.tenant_staff(factories.TenantFactory(name="Bravo Freight")))


@pytest.fixture
def operator_client(connection, admin_client_for):
    return admin_client_for(factories.tenant_staff(connection.warehouse.tenant, username="alpha-ops"))


@pytest.fixture
def cancelled_open(connection):
    order = factories.OrderRecordFactory(
        connection=connection, order_number="SO-CXL-1", status=OrderRecord.Status.AT_WMS, wms_order_id=4242
    )
    return factories.FindingFactory(
        connection=connection,
        kind=Finding.Kind.CANCELLED_OPEN,
        subject=str(order.om_order_id),
        order=order,
        om_value="CANCELLED",
        hub_value="open at the WMS as 4242",
    )


def operate(client, finding, action, **extra):
    return client.post(reverse("admin:hub_finding_operate", args=[finding.pk]), {"action": action, **extra})


def test_the_finding_page_offers_its_actions_and_what_to_do(operator_client, cancelled_open):
    html = operator_client.get(reverse("admin:hub_finding_change", args=[cancelled_open.pk])).content.decode()
    assert 'value="cancel_at_wms"' in html and 'value="acknowledge"' in html and 'value="resend_tracking"' not in html
    assert "queues the cancel for the next Order Cancel Download" in html
    assert reverse("admin:tenants_ordermanagerconnection_findings", args=[cancelled_open.connection_id]) in html


def test_cancel_at_the_wms_from_the_finding_page_queues_it_and_logs_who(operator_client, cancelled_open):
    response = operate(operator_client, cancelled_open, "cancel_at_wms")
    assert response.status_code == 302 and response["Location"].endswith(f"/finding/{cancelled_open.pk}/change/")
    order = OrderRecord.objects.get(pk=cancelled_open.order_id)
    assert order.cancel_requested and order.status == OrderRecord.Status.AT_WMS
    [event] = order.events.filter(kind=OrderEvent.Kind.OPERATOR)
    assert "Cancel at the WMS queued by alpha-ops" in event.message
    [entry] = LogEntry.objects.filter(object_id=str(cancelled_open.pk))
    assert entry.user.username == "alpha-ops" and "Cancel at the WMS queued" in entry.get_change_message()
    again = operate(operator_client, cancelled_open, "cancel_at_wms", next="/admin/")
    assert again["Location"] == "/admin/"
    assert order.events.filter(kind=OrderEvent.Kind.OPERATOR).count() == 1  # refused: queued already


def test_a_next_off_site_is_not_followed(operator_client, cancelled_open):
    response = operate(operator_client, cancelled_open, "acknowledge", next="https://evil.example/")
    assert response["Location"].endswith(f"/finding/{cancelled_open.pk}/change/")


def test_acknowledge_on_the_list_takes_findings_out_of_open(operator_client, findings):
    lost, missed, resolved = findings
    response = operator_client.post(
        reverse("admin:hub_finding_changelist"),
        {"action": "acknowledge", "_selected_action": [lost.pk, missed.pk, resolved.pk]},
    )
    assert response.status_code == 302
    assert set(Finding.objects.filter(acknowledged_at__isnull=False).values_list("pk", flat=True)) == {
        lost.pk,
        missed.pk,
    }
    assert Finding.objects.get(pk=missed.pk).acknowledged_by == "alpha-ops"
    assert LogEntry.objects.filter(object_id__in=[str(lost.pk), str(missed.pk)]).count() == 2
    # The order's timeline says so; the list's "open" no longer shows them, "acknowledged" does.
    assert lost.order.events.filter(kind=OrderEvent.Kind.OPERATOR, message__startswith="Acknowledged by").exists()
    url, row = reverse("admin:hub_finding_changelist"), reverse("admin:hub_finding_change", args=[missed.pk])
    assert row not in operator_client.get(f"{url}?state=open").content.decode()
    assert row in operator_client.get(f"{url}?state=acknowledged").content.decode()


def test_another_tenants_operator_is_refused(other_tenant_client, cancelled_open):
    assert other_tenant_client.get(reverse("admin:hub_finding_change", args=[cancelled_open.pk])).status_code == 302
    assert operate(other_tenant_client, cancelled_open, "cancel_at_wms").status_code == 404
    response = other_tenant_client.post(
        reverse("admin:hub_finding_changelist"), {"action": "acknowledge", "_selected_action": [cancelled_open.pk]}
    )
    assert response.status_code == 302  # "no items selected": the row is outside their list
    cancelled_open.refresh_from_db()
    assert cancelled_open.acknowledged_at is None and not cancelled_open.order.cancel_requested


def test_a_viewer_without_the_change_permission_gets_no_buttons_and_is_refused(
    connection, admin_client_for, cancelled_open
):
    viewer = factories.tenant_staff(connection.warehouse.tenant, username="viewer")
    viewer.user_permissions.remove(*viewer.user_permissions.filter(codename="change_finding"))
    client = admin_client_for(viewer)
    html = client.get(reverse("admin:hub_finding_change", args=[cancelled_open.pk])).content.decode()
    assert 'value="cancel_at_wms"' not in html
    assert operate(client, cancelled_open, "cancel_at_wms").status_code == 403


def test_the_list_filtered_by_connection_links_to_its_report(su_client, findings, connection):
    url = reverse("admin:hub_finding_changelist")
    html = su_client.get(f"{url}?connection__id__exact={connection.pk}").content.decode()
    assert reverse("admin:tenants_ordermanagerconnection_findings", args=[connection.pk]) in html
    assert "findings-report-link" not in su_client.get(url).content.decode()


def test_run_inventory_sync_on_stock_drift_queues_one_run_per_connection(orm_broker, operator_client, connection):
    drifts = [
        factories.FindingFactory(connection=connection, kind=Finding.Kind.STOCK_DRIFT, subject=f"SKU-{n}")
        for n in range(3)
    ]
    response = operator_client.post(
        reverse("admin:hub_finding_changelist"),
        {"action": "run_inventory_sync", "_selected_action": [d.pk for d in drifts]},
    )
    assert response.status_code == 302
    assert [q.task["args"][:2] for q in OrmQ.objects.all()] == [(connection.pk, Job.INVENTORY_SYNC)]
    assert LogEntry.objects.filter(object_id__in=[str(d.pk) for d in drifts]).count() == 3
    assert Finding.objects.filter(acknowledged_at__isnull=False).count() == 0  # still open until a run resolves it


def test_csv_export_says_who_acknowledged(su_client, connection):
    factories.FindingFactory(
        connection=connection, subject="616161", acknowledged_at=timezone.now(), acknowledged_by="alice"
    )
    names = FindingExport().get_export_order()
    data = {"format": "0", "resource": "0", **{f"findingexport_{name}": "on" for name in names}}
    response = su_client.post(reverse("admin:hub_finding_export") + "?state=acknowledged", data)
    header, *rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    [row] = [dict(zip(header, row)) for row in rows]
    assert row["order id or SKU"] == "616161" and row["acknowledged by"] == "alice" and row["acknowledged"]
