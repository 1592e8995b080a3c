"""The findings list (hub.admin.findings): the report per connection, its filters and its CSV export."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from hub.admin.findings import FindingExport
from hub.models import Finding
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
