"""hub.admin.dashboard and the admin index that shows it: the numbers, the scoping, the links, the chart."""

import datetime

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from hub.admin import dashboard
from hub.durations import compact
from hub.models import Job, JobState, OrderEvent, OrderRecord, SyncRun
from hub.templatetags.hub_dashboard import hub_dashboard, when
from tests import factories

Status = OrderRecord.Status
Kind = OrderEvent.Kind
pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 20, 15, 0, tzinfo=datetime.UTC)


def order(connection, status, *, age=datetime.timedelta(0), **fields):
    record = factories.OrderRecordFactory(connection=connection, status=status, **fields)
    # created_at is auto_now_add: set the age with an UPDATE.
    OrderRecord.objects.filter(pk=record.pk).update(created_at=NOW - age)
    return record


def sent(record, at, kind=Kind.SENT_TO_WMS):
    return factories.OrderEventFactory(order=record, kind=kind, at=at)


def state(connection, job, **fields):
    row, _ = JobState.objects.get_or_create(connection=connection, job=job)
    JobState.objects.filter(pk=row.pk).update(**fields)
    return row


@pytest.fixture
def two_tenants():
    mine = factories.OrderManagerConnectionFactory(warehouse__tenant__name="Alpha", warehouse__name="Reno")
    theirs = factories.OrderManagerConnectionFactory(warehouse__tenant__name="Bravo", warehouse__name="Sparks")
    return mine, theirs


def test_rows_count_orders_waiting_errors_and_late_cancels(two_tenants, superuser):
    mine, theirs = two_tenants
    order(mine, Status.NEW, age=datetime.timedelta(hours=3))
    order(mine, Status.ERROR, age=datetime.timedelta(minutes=10))
    order(mine, Status.AT_WMS, age=datetime.timedelta(days=5))  # at the WMS: not waiting
    order(mine, Status.CANCEL_FAILED)
    order(mine, Status.CANCEL_FAILED, cancel_handled=True)
    order(theirs, Status.CONFIRMED)

    board = dashboard.build(superuser, now=NOW)

    assert [row.connection for row in board.rows] == [mine, theirs]
    row = board.rows[0]
    assert (row.waiting, row.errors, row.late_cancels) == (2, 1, 1)
    assert row.waiting_age(NOW) == datetime.timedelta(hours=3)
    assert row.level(NOW) == dashboard.BAD
    other = board.rows[1]
    assert (other.waiting, other.errors, other.late_cancels, other.oldest_waiting_at) == (0, 0, 0, None)
    assert other.level(NOW) == dashboard.OK
    assert board.totals == {"waiting": 2, "errors": 1, "late_cancels": 1, "tracking_given_up": 0}


def test_orders_whose_tracking_was_given_up_make_the_row_a_problem(two_tenants, superuser):
    mine, theirs = two_tenants
    order(mine, Status.SHIPPED, tracking_given_up=True, tracking_numbers=["1ZG"])
    order(mine, Status.SHIPPED, tracking_numbers=["1ZR"])  # still retried: not counted
    order(theirs, Status.CONFIRMED)

    board = dashboard.build(superuser, now=NOW)

    row, other = board.rows
    assert (row.tracking_given_up, other.tracking_given_up) == (1, 0)
    assert row.level(NOW) == dashboard.BAD and other.level(NOW) == dashboard.OK
    assert board.totals["tracking_given_up"] == 1


def test_sent_per_day_counts_orders_reaching_the_wms_per_local_day(two_tenants, superuser, settings):
    mine, theirs = two_tenants
    a, b, c = (order(mine, Status.AT_WMS) for _ in range(3))
    sent(a, NOW - datetime.timedelta(hours=1))
    sent(a, NOW - datetime.timedelta(minutes=30), Kind.LINKED_AT_WMS)  # same order, same day: once
    sent(b, NOW - datetime.timedelta(days=1))
    sent(c, NOW - datetime.timedelta(days=13, hours=14))  # first day of the window (Mar 7, 01:00 UTC)
    sent(c, NOW - datetime.timedelta(days=15))  # before the window
    factories.OrderEventFactory(order=b, kind=Kind.DOWNLOADED, at=NOW)  # not a send
    sent(order(theirs, Status.AT_WMS), NOW)

    board = dashboard.build(superuser, now=NOW)

    assert board.days[0] == datetime.date(2026, 3, 7) and board.days[-1] == datetime.date(2026, 3, 20)
    assert board.sent_per_day == [1] + [0] * 11 + [1, 2]
    assert board.rows[0].sent_per_day == [1] + [0] * 11 + [1, 1]
    assert board.rows[1].sent_total == 1


def test_days_follow_the_current_time_zone(connection, superuser):
    record = order(connection, Status.AT_WMS)
    sent(record, datetime.datetime(2026, 3, 20, 2, 0, tzinfo=datetime.UTC))  # Mar 19 in New York
    with timezone.override("America/New_York"):
        board = dashboard.build(superuser, now=NOW)
    assert board.days[-1] == datetime.date(2026, 3, 20)
    assert board.sent_per_day[-2:] == [1, 0]


def test_job_cells_show_last_run_next_due_and_attention(connection, superuser):
    run = factories.SyncRunFactory(
        connection=connection, job=Job.ORDER_DOWNLOAD, status=SyncRun.Status.PARTIAL, failed=1
    )
    state(connection, Job.ORDER_DOWNLOAD, last_run=run, next_due_at=NOW + datetime.timedelta(minutes=4))
    state(connection, Job.SHIPMENT_CONFIRMATION, attention="Crashed three times")
    type(connection).objects.filter(pk=connection.pk).update(cancel_download_enabled=False)

    cells = {cell.job: cell for cell in dashboard.build(superuser, now=NOW).rows[0].jobs}

    assert cells[Job.ORDER_DOWNLOAD].last_run == run and cells[Job.ORDER_DOWNLOAD].level == dashboard.WARN
    assert cells[Job.ORDER_DOWNLOAD].next_due_at == NOW + datetime.timedelta(minutes=4)
    assert cells[Job.SHIPMENT_CONFIRMATION].level == dashboard.BAD
    assert cells[Job.CANCEL_DOWNLOAD].enabled is False
    assert [cell.job for cell in dashboard.build(superuser, now=NOW).rows[0].jobs] == list(Job)


@pytest.mark.parametrize(
    "fields, label, level",
    [
        ({}, "running", dashboard.OK),
        ({"credentials_rejected_at": NOW}, "stopped: credentials rejected", dashboard.BAD),
        ({"paused_until": NOW + datetime.timedelta(minutes=20)}, "paused until", dashboard.WARN),
        ({"paused_until": NOW - datetime.timedelta(minutes=1)}, "running", dashboard.OK),
    ],
)
def test_circuit_state(connection, superuser, fields, label, level):
    type(connection).objects.filter(pk=connection.pk).update(**fields)
    row = dashboard.build(superuser, now=NOW).rows[0]
    assert row.circuit(NOW)[0].startswith(label) and row.circuit(NOW)[1] == level
    assert row.level(NOW) == level


def test_inactive_tenant_is_a_warning(connection, superuser):
    type(connection.warehouse.tenant).objects.filter(pk=connection.warehouse.tenant_id).update(active=False)
    assert dashboard.build(superuser, now=NOW).rows[0].circuit(NOW) == ("tenant inactive", dashboard.WARN)


def test_staff_see_only_their_tenants_rows_and_sends(two_tenants):
    mine, theirs = two_tenants
    sent(order(mine, Status.AT_WMS), NOW)
    sent(order(theirs, Status.AT_WMS), NOW)
    sent(order(theirs, Status.AT_WMS), NOW)
    order(theirs, Status.ERROR)
    staff = factories.tenant_staff(mine.warehouse.tenant)

    board = dashboard.build(staff, now=NOW)

    assert [row.connection for row in board.rows] == [mine]
    assert board.sent_total == 1 and board.totals["errors"] == 0


def test_an_archived_tenant_leaves_the_dashboard(two_tenants, superuser, admin_client_for):
    mine, theirs = two_tenants
    sent(order(mine, Status.AT_WMS), NOW)
    sent(order(theirs, Status.AT_WMS), NOW)
    order(theirs, Status.ERROR)
    type(theirs.warehouse.tenant).objects.filter(pk=theirs.warehouse.tenant_id).update(archived_at=NOW)

    board = dashboard.build(superuser, now=NOW)

    assert [row.connection for row in board.rows] == [mine]
    assert board.sent_total == 1 and board.totals["errors"] == 0
    html = admin_client_for(superuser).get(reverse("admin:index")).content.decode()
    dashboard_html = html.split('id="hub-dashboard"')[1].split('class="hub-below"')[0]
    assert "Alpha" in dashboard_html and "Bravo" not in dashboard_html


def test_no_connections(superuser):
    board = dashboard.build(superuser, now=NOW)
    assert board.rows == [] and board.sent_per_day == [0] * 14


# -- the admin index --------------------------------------------------------------------------


def test_index_shows_the_dashboard_then_the_app_list(two_tenants, superuser, admin_client_for):
    mine, _ = two_tenants
    record = order(mine, Status.ERROR)
    sent(record, timezone.now())
    html = admin_client_for(superuser).get(reverse("admin:index")).content.decode()
    assert html.index('id="hub-dashboard"') < html.index('id="hub-connections"') < html.index("app-hub")
    assert "Alpha" in html and "Bravo" in html
    assert '<svg class="hub-chart"' in html and html.count('<svg class="hub-sparkline"') == 2
    assert reverse("admin:tenants_ordermanagerconnection_preflight", args=[mine.pk]) in html
    assert reverse("admin:tenants_ordermanagerconnection_inventory", args=[mine.pk]) in html
    assert "recent-actions-module" in html
    assert "<script" not in html.split('id="hub-dashboard"')[1].split('class="hub-below"')[0]


def test_index_for_staff_shows_only_their_tenant(two_tenants, admin_client_for):
    mine, theirs = two_tenants
    staff = factories.tenant_staff(mine.warehouse.tenant)
    html = admin_client_for(staff).get(reverse("admin:index")).content.decode()
    assert "Alpha" in html and "Reno" in html
    assert "Bravo" not in html and "Sparks" not in html
    assert f'data-connection="{theirs.pk}"' not in html


def test_index_without_connections_offers_onboarding(superuser, admin_client_for):
    html = admin_client_for(superuser).get(reverse("admin:index")).content.decode()
    assert "No connections yet." in html and reverse("admin:tenants_tenant_onboard") in html


def test_row_links_open_the_matching_orders(connection, superuser, admin_client_for):
    client = admin_client_for(superuser)
    old_new = order(connection, Status.NEW, age=datetime.timedelta(days=2))
    young_error = order(connection, Status.ERROR, age=datetime.timedelta(hours=1))
    late = order(connection, Status.CANCEL_FAILED)
    order(connection, Status.CANCEL_FAILED, cancel_handled=True)
    order(connection, Status.AT_WMS)
    order(factories.OrderManagerConnectionFactory(), Status.ERROR)
    request = RequestFactory().get(reverse("admin:index"))
    request.user = superuser
    [row] = [r for r in hub_dashboard({"request": request})["rows"] if r["connection"] == connection]
    assert row["waiting_url"] in client.get(reverse("admin:index")).content.decode().replace("&amp;", "&")

    def listed(url):
        page = client.get(url)
        assert page.status_code == 200, url
        return list(page.context["cl"].result_list)

    assert listed(row["waiting_url"]) == [old_new, young_error]  # oldest first
    assert listed(row["errors_url"]) == [young_error]
    assert listed(row["late_url"]) == [late]
    assert len(listed(row["orders_url"])) == 5


def test_index_links_the_orders_whose_tracking_was_given_up(connection, superuser, admin_client_for):
    given_up = order(connection, Status.SHIPPED, tracking_given_up=True, tracking_numbers=["1ZG"])
    order(connection, Status.SHIPPED, tracking_numbers=["1ZR"])
    client = admin_client_for(superuser)
    html = client.get(reverse("admin:index")).content.decode().replace("&amp;", "&")
    request = RequestFactory().get(reverse("admin:index"))
    request.user = superuser
    [row] = hub_dashboard({"request": request})["rows"]
    assert row["tracking_given_up"] == 1 and row["tracking_url"] in html
    assert "tracking given up" in html
    assert list(client.get(row["tracking_url"]).context["cl"].result_list) == [given_up]


def test_relative_times():
    assert compact(datetime.timedelta(seconds=42)) == "42 s"
    assert compact(datetime.timedelta(minutes=12, seconds=59)) == "12 min"
    assert compact(datetime.timedelta(hours=30)) == "30 h"
    assert compact(datetime.timedelta(days=3, hours=2)) == "3 d"
    assert when(NOW + datetime.timedelta(minutes=5), NOW) == "in 5 min"
    assert when(NOW - datetime.timedelta(hours=2), NOW) == "2 h ago"
    assert when(NOW + datetime.timedelta(seconds=10), NOW) == "now"
    assert when(None, NOW) == ""
