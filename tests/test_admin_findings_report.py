"""hub.admin.findings_report: the Reconciliation report of one connection, as its operator sees it."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from hub.admin import findings_report
from hub.models import Finding, OrderRecord
from tests import factories

pytestmark = pytest.mark.django_db
Kind = Finding.Kind
DAY = datetime.timedelta(days=1)


@pytest.fixture
def operator_client(connection, admin_client_for):
    return admin_client_for(factories.tenant_staff(connection.warehouse.tenant, username="alpha-ops"))


def report_url(connection) -> str:
    return reverse("admin:tenants_ordermanagerconnection_findings", args=[connection.pk])


def at_noon(days_ago: int, zone) -> datetime.datetime:
    day = timezone.localtime(timezone.now(), zone).date() - datetime.timedelta(days=days_ago)
    return datetime.datetime.combine(day, datetime.time(12), tzinfo=zone)


@pytest.fixture
def world(connection):
    zone = connection.warehouse.tenant.zone
    now = timezone.now()
    order = factories.OrderRecordFactory(
        connection=connection, order_number="SO-CXL-9", status=OrderRecord.Status.AT_WMS, wms_order_id=99
    )
    made = {
        "cancel": factories.FindingFactory(
            connection=connection,
            kind=Kind.CANCELLED_OPEN,
            subject=str(order.om_order_id),
            order=order,
            first_seen_at=at_noon(3, zone),
            last_seen_at=now,
        ),
        "drift": factories.FindingFactory(
            connection=connection, kind=Kind.STOCK_DRIFT, subject="SKU-DRIFT", first_seen_at=at_noon(1, zone)
        ),
        "acked": factories.FindingFactory(
            connection=connection,
            kind=Kind.UNKNOWN_AT_WMS,
            subject="777001",
            first_seen_at=at_noon(5, zone),
            acknowledged_at=at_noon(2, zone),
            acknowledged_by="alice",
        ),
        "healed": factories.FindingFactory(
            connection=connection,
            kind=Kind.MISSED_ORDER,
            subject="888001",
            first_seen_at=at_noon(4, zone),
            healed_at=at_noon(4, zone),
            heal="Read again",
            resolved_at=at_noon(2, zone),
        ),
        "old": factories.FindingFactory(
            connection=connection,
            kind=Kind.MISSED_ORDER,
            subject="888002",
            first_seen_at=at_noon(60, zone),
            resolved_at=at_noon(45, zone),
        ),
    }
    return made


def test_counts_per_kind(connection, world):
    since = timezone.now() - findings_report.DAYS * DAY
    counts = findings_report.counts(Finding.objects.filter(connection=connection), since)
    assert counts[Kind.CANCELLED_OPEN] == {"open": 1, "acknowledged": 0, "healed": 0, "resolved": 0}
    assert counts[Kind.STOCK_DRIFT]["open"] == 1
    assert counts[Kind.UNKNOWN_AT_WMS] == {"open": 0, "acknowledged": 1, "healed": 0, "resolved": 0}
    assert counts[Kind.MISSED_ORDER] == {"open": 0, "acknowledged": 0, "healed": 1, "resolved": 1}  # "old" is older
    assert counts[Kind.TRACKING_MISSING] == {"open": 0, "acknowledged": 0, "healed": 0, "resolved": 0}


def test_trend_first_seen_and_open_at_each_days_end(connection, world):
    zone = connection.warehouse.tenant.zone
    days = findings_report._days(timezone.now(), zone)
    series = findings_report.trend(Finding.objects.filter(connection=connection), days, zone)
    last = len(days) - 1
    assert len(days) == 30 and days[-1] == timezone.localtime(timezone.now(), zone).date()
    assert series[Kind.CANCELLED_OPEN]["new"][last - 3] == 1 and sum(series[Kind.CANCELLED_OPEN]["new"]) == 1
    assert series[Kind.CANCELLED_OPEN]["open"][last - 4 :] == [0, 1, 1, 1, 1]
    # Unknown at the WMS: seen 5 days ago, acknowledged 2 days ago at noon: open 5, 4 and 3 days ago.
    assert series[Kind.UNKNOWN_AT_WMS]["open"][last - 6 :] == [0, 1, 1, 1, 0, 0, 0]
    # Missed order: seen 4 days ago, resolved 2 days ago; the one resolved 45 days ago is out of the window.
    assert series[Kind.MISSED_ORDER]["open"][last - 5 :] == [0, 1, 1, 0, 0, 0]
    assert sum(series[Kind.MISSED_ORDER]["new"]) == 1
    assert series[Kind.STOCK_DRIFT]["open"][-2:] == [1, 1]


def test_the_report_page_shows_counts_trend_newest_actions_export_and_run_now(operator_client, connection, world):
    response = operator_client.get(report_url(connection))
    assert response.status_code == 200
    html = response.content.decode()
    assert "2 open findings." in html
    assert 'id="findings-kind-cancelled_open"' in html and "hub-sparkline" in html and "hub-chart" in html
    # The newest open findings, each with its own action first and what to do; acknowledged/resolved ones not.
    newest = html[html.index('id="findings-newest"') :]
    assert world["cancel"].subject in newest and "SKU-DRIFT" in newest
    assert "777001" not in newest and "888001" not in newest
    assert 'value="cancel_at_wms"' in newest and 'value="run_inventory_sync"' in newest
    assert reverse("admin:hub_finding_operate", args=[world["cancel"].pk]) in newest
    assert reverse("admin:hub_finding_export") + f"?connection__id__exact={connection.pk}" in html
    assert 'id="run-now-reconciliation"' in html and "Run Reconciliation now" in html


def test_an_action_from_the_report_comes_back_to_it(operator_client, connection, world):
    url = report_url(connection)
    response = operator_client.post(
        reverse("admin:hub_finding_operate", args=[world["cancel"].pk]), {"action": "cancel_at_wms", "next": url}
    )
    assert response.status_code == 302 and response["Location"] == url
    assert OrderRecord.objects.get(pk=world["cancel"].order_id).cancel_requested
    assert 'value="cancel_at_wms"' not in operator_client.get(url).content.decode()  # queued: no longer offered


def test_the_connection_page_links_to_the_report(operator_client, connection):
    html = operator_client.get(reverse("admin:tenants_ordermanagerconnection_change", args=[connection.pk])).content
    assert report_url(connection) in html.decode()


def test_an_operator_of_another_tenant_is_refused(admin_client_for, connection, world):
    other = factories.tenant_staff(factories.TenantFactory(name="Bravo Freight"), username="bravo-ops")
    assert admin_client_for(other).get(report_url(connection)).status_code == 404


def test_a_viewer_sees_the_report_without_action_buttons(admin_client_for, connection, world):
    viewer = factories.tenant_staff(connection.warehouse.tenant, username="viewer")
    viewer.user_permissions.remove(*viewer.user_permissions.filter(codename__in=["change_finding", "change_jobstate"]))
    html = admin_client_for(viewer).get(report_url(connection)).content.decode()
    assert world["cancel"].subject in html and 'name="action"' not in html and "run-now-reconciliation" not in html


def test_the_report_costs_a_fixed_number_of_queries(operator_client, connection, world, django_assert_max_num_queries):
    operator_client.get(report_url(connection))  # warm: session, permissions
    for n in range(30):
        factories.FindingFactory(connection=connection, kind=Kind.STOCK_DRIFT, subject=f"SKU-{n}")
    with django_assert_max_num_queries(20) as captured:
        operator_client.get(report_url(connection))
    base = len(captured)
    for n in range(30, 60):
        factories.FindingFactory(connection=connection, kind=Kind.TRACKING_MISSING, subject=f"{n}")
    with django_assert_max_num_queries(base):
        operator_client.get(report_url(connection))
