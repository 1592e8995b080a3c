"""hub.admin: the audit pages render, filter, search, stay read-only, act, and stay cheap on big tables."""

import datetime
from urllib.parse import urlencode

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ

from hub import durations
from hub.admin import base as admin_base
from hub.admin import orders as admin_orders
from hub.models import InventoryLine, Job, JobState, OrderEvent, OrderRecord, SyncRun
from tests import factories

Status = OrderRecord.Status
pytestmark = pytest.mark.django_db


def url(model, view="changelist", *args):
    return reverse(f"admin:hub_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def su_client(superuser, admin_client_for):
    return admin_client_for(superuser)


@pytest.fixture
def orm_broker(monkeypatch):
    monkeypatch.setattr(Conf, "ORM", "default")
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "BROKER_CLASS", None)


def listed(response):
    assert response.status_code == 200, response.status_code
    return list(response.context["cl"].result_list)


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def job_state(connection, job, **fields):
    state, _ = JobState.objects.get_or_create(connection=connection, job=job)
    JobState.objects.filter(pk=state.pk).update(**fields)
    state.refresh_from_db()
    return state


# -- pages render ----------------------------------------------------------------------------------


@pytest.fixture
def audit_rows(connection):
    run = factories.SyncRunFactory(
        connection=connection,
        job=Job.ORDER_DOWNLOAD,
        status=SyncRun.Status.PARTIAL,
        fetched=3,
        created=2,
        failed=1,
        requests_made=7,
        rate_limited=2,
        error="1 order failed: WMS 400 unknown SKU",
        calls=[
            {"method": "GET", "path": "/v1.1/orders", "status": 200, "duration_ms": 41.5, "error": "", "attempt": 1},
            {"method": "POST", "path": "/orders", "status": 429, "duration_ms": 12.0, "error": "quota", "attempt": 1},
        ],
    )
    order = factories.OrderRecordFactory(
        connection=connection,
        status=Status.ERROR,
        last_error="WMS 400: unknown SKU",
        wms_order_id=None,
        lines=[{"sku": "MUG-RED", "quantity": 2}],
    )
    factories.OrderEventFactory(order=order, run=run, kind=OrderEvent.Kind.DOWNLOADED, message="Downloaded.")
    factories.OrderEventFactory(
        order=order,
        run=run,
        kind=OrderEvent.Kind.WMS_REJECTED,
        message="Unknown SKU",
        sent={"referenceNum": order.order_number},
        received={"error": "unknown SKU MUG-RED"},
    )
    inv_run = factories.SyncRunFactory(connection=connection, job=Job.INVENTORY_SYNC)
    line = factories.InventoryLineFactory(
        run=inv_run,
        sku="MUG-RED",
        result=InventoryLine.Result.NO_STARTING_INVENTORY,
        message="no starting inventory in Order Manager",
    )
    state = job_state(connection, Job.ORDER_DOWNLOAD, last_run=run, attention="Check the WMS credentials")
    return {"run": run, "order": order, "line": line, "state": state, "inv_run": inv_run}


@pytest.mark.parametrize("model", [SyncRun, OrderRecord, OrderEvent, InventoryLine, JobState])
def test_changelist_and_change_page_render_for_a_superuser(su_client, audit_rows, model):
    rows = listed(su_client.get(url(model)))
    assert rows
    response = su_client.get(url(model, "change", rows[0].pk))
    assert response.status_code == 200
    # View-only: no save button, no delete link.
    html = response.content.decode()
    assert 'name="_save"' not in html and "deletelink" not in html


def test_sync_run_list_columns(su_client, audit_rows):
    html = su_client.get(url(SyncRun)).content.decode()
    assert "3 / 2 / 0 / 0 / 1" in html
    assert "1 order failed: WMS 400 unknown SKU" in html


def test_sync_run_page_shows_calls_and_links_to_its_events_and_lines(su_client, audit_rows):
    run = audit_rows["run"]
    html = su_client.get(url(SyncRun, "change", run.pk)).content.decode()
    assert "/v1.1/orders" in html and "429" in html and "quota" in html
    assert f'{url(OrderEvent)}?run__id__exact={run.pk}">2 order events<' in html
    assert f'{url(InventoryLine)}?run__id__exact={run.pk}">0 inventory lines<' in html
    # The links lead to the run's rows only.
    other = factories.OrderEventFactory(order=audit_rows["order"])
    events = listed(su_client.get(url(OrderEvent) + f"?run__id__exact={run.pk}"))
    assert len(events) == 2 and other not in events
    inv_run = audit_rows["inv_run"]
    lines = listed(su_client.get(url(InventoryLine) + f"?run__id__exact={inv_run.pk}"))
    assert lines == [audit_rows["line"]]


def test_order_page_shows_the_timeline_oldest_first_with_payloads_and_run_links(su_client, audit_rows):
    order, run = audit_rows["order"], audit_rows["run"]
    later = factories.OrderEventFactory(
        order=order,
        kind=OrderEvent.Kind.OPERATOR,
        message="Resend by ops",
        at=timezone.now() + datetime.timedelta(hours=1),
    )
    earliest = factories.OrderEventFactory(
        order=order, kind=OrderEvent.Kind.EXPORTED, at=timezone.now() - datetime.timedelta(days=1)
    )
    response = su_client.get(url(OrderRecord, "change", order.pk))

    timeline = [item["event"] for item in response.context["timeline"]]
    assert timeline[0] == earliest and timeline[-1] == later and len(timeline) == 4
    html = response.content.decode()
    assert html.index("Marked exported in Order Manager") < html.index("Downloaded.") < html.index("Resend by ops")
    assert f'href="{url(SyncRun, "change", run.pk)}">Order Download #{run.pk}<' in html
    assert "<details><summary>Sent</summary><pre>{\n  &quot;referenceNum&quot;" in html
    assert "unknown SKU MUG-RED" in html
    assert "MUG-RED × 2" in html


def test_order_page_offers_only_the_actions_of_its_status(su_client, connection):
    def offered(order):
        response = su_client.get(url(OrderRecord, "change", order.pk))
        return [op.name for op in response.context["operations"]]

    assert offered(factories.OrderRecordFactory(connection=connection, status=Status.ERROR)) == ["resend"]
    shipped = factories.OrderRecordFactory(connection=connection, status=Status.SHIPPED, tracking_numbers=["1Z9"])
    assert offered(shipped) == ["retry_tracking"]
    assert offered(factories.OrderRecordFactory(connection=connection, status=Status.CANCEL_FAILED)) == [
        "mark_cancel_handled"
    ]
    confirmed = factories.OrderRecordFactory(connection=connection, status=Status.CONFIRMED)
    assert offered(confirmed) == []
    assert 'name="operation"' not in su_client.get(url(OrderRecord, "change", confirmed.pk)).content.decode()


def test_order_page_shows_wms_id_and_tracking(su_client, connection):
    order = factories.OrderRecordFactory(
        connection=connection,
        status=Status.SHIPPED,
        wms_order_id=987654,
        tracking_numbers=["1ZA", "1ZB"],
        confirmed_tracking_numbers=["1ZA"],
    )
    html = su_client.get(url(OrderRecord, "change", order.pk)).content.decode()
    assert "987654" in html
    assert "1ZA (confirmed in Order Manager)" in html and "1ZB (not confirmed yet)" in html


def test_order_page_and_list_show_tracking_given_up(su_client, connection):
    given_up = factories.OrderRecordFactory(
        connection=connection, status=Status.SHIPPED, tracking_numbers=["1ZG"], tracking_given_up=True
    )
    factories.OrderRecordFactory(connection=connection, status=Status.SHIPPED, tracking_numbers=["1ZR"])
    html = su_client.get(url(OrderRecord, "change", given_up.pk)).content.decode()
    assert "Shipped (tracking given up)" in html
    assert "tracking_attempts" in html  # the tracking tries have their own field on the page
    assert [o.pk for o in listed(su_client.get(url(OrderRecord) + "?tracking_given_up__exact=1"))] == [given_up.pk]


def test_the_audit_trail_cannot_be_edited_added_or_deleted(su_client, audit_rows):
    order = audit_rows["order"]
    response = su_client.post(url(OrderRecord, "change", order.pk), {"status": "confirmed", "_save": "1"})
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == Status.ERROR
    for model in (SyncRun, OrderRecord, OrderEvent, InventoryLine, JobState):
        assert su_client.get(url(model, "add")).status_code == 403
    assert su_client.post(url(OrderRecord, "delete", order.pk), {"post": "yes"}).status_code == 403
    assert OrderRecord.objects.filter(pk=order.pk).exists()


# -- filters and search ----------------------------------------------------------------------------


def test_order_filters(su_client, connection):
    other = factories.OrderManagerConnectionFactory()
    error = factories.OrderRecordFactory(connection=connection, status=Status.ERROR, given_up=True)
    permanent = factories.OrderRecordFactory(connection=connection, status=Status.ERROR, error_permanent=True)
    elsewhere = factories.OrderRecordFactory(connection=other, status=Status.AT_WMS)
    old = factories.OrderRecordFactory(connection=other, status=Status.CONFIRMED)
    OrderRecord.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=400))
    tenant = connection.warehouse.tenant

    def pks(query):
        return {o.pk for o in listed(su_client.get(url(OrderRecord) + "?" + query))}

    assert pks(f"connection__warehouse__tenant__id__exact={tenant.pk}") == {error.pk, permanent.pk}
    assert pks(f"connection__id__exact={other.pk}") == {elsewhere.pk, old.pk}
    assert pks("status__exact=error") == {error.pk, permanent.pk}
    assert pks("given_up__exact=1") == {error.pk}
    assert pks("error_permanent__exact=1") == {permanent.pk}
    # An aware timestamp, as the admin's own date filter links carry (a bare date warns "naive").
    since = urlencode({"created_at__gte": str(timezone.now() - datetime.timedelta(days=7))})
    assert old.pk not in pks(since) and elsewhere.pk in pks(since)


def test_sync_run_filters(su_client, connection):
    orders = factories.SyncRunFactory(connection=connection, job=Job.ORDER_DOWNLOAD, status=SyncRun.Status.FAILED)
    inventory = factories.SyncRunFactory(connection=connection, job=Job.INVENTORY_SYNC)
    other = factories.SyncRunFactory(job=Job.INVENTORY_SYNC)

    def pks(query):
        return {r.pk for r in listed(su_client.get(url(SyncRun) + "?" + query))}

    assert pks("job__exact=inventory") == {inventory.pk, other.pk}
    assert pks("status__exact=failed") == {orders.pk}
    assert pks(f"connection__id__exact={connection.pk}") == {orders.pk, inventory.pk}
    assert pks(f"connection__warehouse__tenant__id__exact={other.connection.warehouse.tenant_id}") == {other.pk}


def test_inventory_line_filters_and_sku_search(su_client, connection):
    run = factories.SyncRunFactory(connection=connection, job=Job.INVENTORY_SYNC)
    mug = factories.InventoryLineFactory(run=run, sku="MUG-RED")
    missing = factories.InventoryLineFactory(run=run, sku="CUP-1", result=InventoryLine.Result.NO_STARTING_INVENTORY)
    other = factories.InventoryLineFactory(sku="MUG-BLUE")

    def pks(query):
        return {line.pk for line in listed(su_client.get(url(InventoryLine) + "?" + query))}

    assert pks("result__exact=no_starting_inventory") == {missing.pk}
    assert pks(f"run__connection__warehouse__tenant__id__exact={connection.warehouse.tenant_id}") == {
        mug.pk,
        missing.pk,
    }
    assert pks("q=mug") == {mug.pk, other.pk}
    assert pks("q=MUG-RED") == {mug.pk}


@pytest.fixture
def searchable(connection):
    return {
        "a": factories.OrderRecordFactory(
            connection=connection,
            order_number="SHOP-1001",
            om_order_id=555001,
            wms_order_id=777001,
            lines=[{"sku": "SKU-1", "quantity": 1}, {"sku": "Tasse-Grün", "quantity": 2}],
        ),
        "b": factories.OrderRecordFactory(
            connection=connection,
            order_number="SHOP-2002",
            om_order_id=555002,
            lines=[{"sku": "SKU-10", "quantity": 1}],
        ),
        "c": factories.OrderRecordFactory(
            connection=connection,
            order_number="AMZ-3003",
            om_order_id=1001,
            lines=[{"sku": "quantity", "quantity": 5}],
        ),
    }


@pytest.mark.parametrize(
    "term, expected",
    [
        ("SHOP-1001", {"a"}),
        ("shop", {"a", "b"}),  # part of an order number
        ("555002", {"b"}),  # Order Manager order id
        ("777001", {"a"}),  # WMS order id
        ("SKU-1", {"a"}),  # exact SKU: not SKU-10
        ("sku-10", {"b"}),  # case-insensitive
        ("tasse-grün", {"a"}),  # non-ASCII SKU, stored escaped on SQLite, raw on PostgreSQL
        ("quantity", {"c"}),  # a SKU, not the key name of every line
        ("1001", {"a", "c"}),  # order number part, and an Order Manager id
        ("NOPE", set()),
    ],
)
def test_order_search(su_client, searchable, term, expected):
    found = {o.pk for o in listed(su_client.get(url(OrderRecord), {"q": term}))}
    assert found == {searchable[key].pk for key in expected}


def test_order_search_stays_within_the_tenant(connection, admin_client_for):
    mine = factories.OrderRecordFactory(connection=connection, lines=[{"sku": "SHARED", "quantity": 1}])
    factories.OrderRecordFactory(lines=[{"sku": "SHARED", "quantity": 1}], om_order_id=42)
    factories.OrderRecordFactory(om_order_id=43, order_number="SHARED-9")
    staff = factories.tenant_staff(connection.warehouse.tenant, username="own-staff")
    client = admin_client_for(staff)
    assert listed(client.get(url(OrderRecord), {"q": "SHARED"})) == [mine]
    assert listed(client.get(url(OrderRecord), {"q": "42"})) == []


def test_filters_offer_only_the_users_tenants_and_connections(connection, admin_client_for):
    factories.OrderRecordFactory(connection=connection)
    other = factories.OrderRecordFactory()
    staff = factories.tenant_staff(connection.warehouse.tenant, username="filter-staff")
    response = admin_client_for(staff).get(url(OrderRecord))
    cl = response.context["cl"]
    shown = {str(choice.get("display", "")) for spec in cl.filter_specs for choice in spec.choices(cl)}
    assert connection.warehouse.tenant.name in shown and str(connection) in shown
    assert other.connection.warehouse.tenant.name not in shown and str(other.connection) not in shown


# -- actions on the list and buttons on the order page ----------------------------------------------


def post_action(client, model, action, objs):
    return client.post(
        url(model), {"action": action, "_selected_action": [o.pk for o in objs], "index": 0}, follow=True
    )


def test_resend_action_on_the_list(su_client, superuser, connection):
    error = factories.OrderRecordFactory(connection=connection, status=Status.ERROR, given_up=True)
    confirmed = factories.OrderRecordFactory(connection=connection, status=Status.CONFIRMED)

    response = post_action(su_client, OrderRecord, "resend_to_wms", [error, confirmed])

    error.refresh_from_db()
    assert error.given_up is False and error.next_retry_at <= timezone.now()
    [event] = error.events.filter(kind=OrderEvent.Kind.OPERATOR)
    assert f"by {superuser.username}" in event.message
    assert not confirmed.events.exists()
    msgs = messages_of(response)
    assert any(f"done for 1 order(s): {error.order_number}" in m for m in msgs)
    assert any(f"refused for 1 order(s) ({confirmed.order_number}: status is “Confirmed”" in m for m in msgs)


def test_retry_tracking_and_mark_cancel_handled_actions(su_client, connection):
    shipped = factories.OrderRecordFactory(connection=connection, status=Status.SHIPPED, tracking_numbers=["1Z"])
    late = factories.OrderRecordFactory(connection=connection, status=Status.CANCEL_FAILED)

    post_action(su_client, OrderRecord, "retry_tracking", [shipped, late])
    post_action(su_client, OrderRecord, "mark_cancel_handled", [shipped, late])

    shipped.refresh_from_db()
    late.refresh_from_db()
    assert shipped.next_retry_at is not None and shipped.cancel_handled is False
    assert late.cancel_handled is True and late.next_retry_at is None
    assert shipped.events.get(kind=OrderEvent.Kind.OPERATOR).message.startswith("Retry tracking by")
    assert late.events.get(kind=OrderEvent.Kind.OPERATOR).message.startswith("Mark cancel handled by")


def test_order_page_button_applies_its_operation(su_client, connection):
    order = factories.OrderRecordFactory(connection=connection, status=Status.ERROR, error_permanent=True)
    operate = reverse("admin:hub_orderrecord_operate", args=[order.pk])

    assert su_client.get(operate).status_code == 405
    response = su_client.post(operate, {"operation": "resend"}, follow=True)

    assert response.redirect_chain[-1][0] == url(OrderRecord, "change", order.pk)
    order.refresh_from_db()
    assert order.error_permanent is False
    assert [i["event"].kind for i in response.context["timeline"]] == [OrderEvent.Kind.OPERATOR]
    # The same button again: refused, nothing written.
    again = su_client.post(operate, {"operation": "mark_cancel_handled"}, follow=True)
    assert any("refused" in m for m in messages_of(again))
    assert order.events.count() == 1


def test_tenant_staff_cannot_act_on_another_tenants_orders(connection, admin_client_for):
    mine = factories.OrderRecordFactory(connection=connection, status=Status.ERROR)
    theirs = factories.OrderRecordFactory(status=Status.ERROR)
    staff = factories.tenant_staff(connection.warehouse.tenant, username="acting-staff")
    client = admin_client_for(staff)

    post_action(client, OrderRecord, "resend_to_wms", [mine, theirs])
    button = client.post(reverse("admin:hub_orderrecord_operate", args=[theirs.pk]), {"operation": "resend"})

    assert button.status_code == 404
    theirs.refresh_from_db()
    assert theirs.next_retry_at is None and not theirs.events.exists()
    mine.refresh_from_db()
    assert mine.next_retry_at is not None and mine.events.filter(kind=OrderEvent.Kind.OPERATOR).count() == 1


def test_staff_with_view_permission_only_cannot_act(connection, admin_client_for):
    order = factories.OrderRecordFactory(connection=connection, status=Status.ERROR)
    viewer = factories.tenant_staff(connection.warehouse.tenant, username="viewer")
    viewer.user_permissions.remove(*viewer.user_permissions.filter(codename="change_orderrecord"))
    client = admin_client_for(viewer)

    page = client.get(url(OrderRecord, "change", order.pk))
    assert page.status_code == 200 and page.context["operations"] == []
    assert "resend_to_wms" not in client.get(url(OrderRecord)).content.decode()
    post_action(client, OrderRecord, "resend_to_wms", [order])
    assert (
        client.post(reverse("admin:hub_orderrecord_operate", args=[order.pk]), {"operation": "resend"}).status_code
        == 403
    )
    assert not order.events.exists()


def test_job_state_run_now_and_clear_attention(su_client, orm_broker, connection):
    free = job_state(connection, Job.SHIPMENT_CONFIRMATION)
    busy = job_state(
        connection, Job.ORDER_DOWNLOAD, lease_token="x", lease_expires_at=timezone.now() + datetime.timedelta(minutes=5)
    )
    flagged = job_state(connection, Job.INVENTORY_SYNC, attention="Warehouse name missing")

    response = post_action(su_client, JobState, "run_now", [free, busy, flagged])

    msgs = messages_of(response)
    assert any(m.endswith("Shipment Confirmation for " + str(connection) + ": queued.") for m in msgs)
    assert any("Order Download" in m and "already running" in m for m in msgs)
    assert any("Inventory Sync" in m and "needs attention" in m for m in msgs)
    assert [q.task["args"][:2] for q in OrmQ.objects.all()] == [(connection.pk, Job.SHIPMENT_CONFIRMATION)]

    response = post_action(su_client, JobState, "clear_attention", [flagged, free])
    flagged.refresh_from_db()
    assert flagged.attention == ""
    assert any("Attention cleared for 1 job(s)" in m for m in messages_of(response))
    assert LogEntry.objects.filter(object_id=str(flagged.pk), change_message__startswith="Cleared attention").exists()


def test_job_state_list_shows_lease_and_last_run(su_client, audit_rows):
    state = audit_rows["state"]
    JobState.objects.filter(pk=state.pk).update(
        lease_token="t", lease_expires_at=timezone.now() + datetime.timedelta(minutes=9)
    )
    html = su_client.get(url(JobState)).content.decode()
    assert "Partial (some items failed)" in html and "3 / 2 / 0 / 0 / 1" in html
    assert "Check the WMS credentials" in html
    assert "free" in html  # the other jobs' leases


def test_tenant_staff_cannot_run_another_tenants_jobs(connection, orm_broker, admin_client_for):
    theirs = job_state(connection, Job.ORDER_DOWNLOAD, attention="flagged")
    staff = factories.tenant_staff(factories.TenantFactory(), username="other-staff")
    client = admin_client_for(staff)

    post_action(client, JobState, "run_now", [theirs])
    post_action(client, JobState, "clear_attention", [theirs])

    assert OrmQ.objects.count() == 0
    theirs.refresh_from_db()
    assert theirs.attention == "flagged" and theirs.lease_token == ""


# -- big tables stay cheap ---------------------------------------------------------------------------


def queries_for(client, path) -> int:
    client.get(path)  # warm per-process caches (content types, session) so only the page is measured
    with CaptureQueriesContext(db_connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def make_rows(model, count, connections):
    for i in range(count):
        conn = connections[i % len(connections)]
        if model is SyncRun:
            factories.SyncRunFactory(connection=conn, calls=[{"method": "GET", "path": "/x"}] * 5)
        elif model is OrderRecord:
            factories.OrderRecordFactory(connection=conn, tracking_numbers=["1Z"])
        elif model is OrderEvent:
            factories.OrderEventFactory(order__connection=conn, run=factories.SyncRunFactory(connection=conn))
        elif model is InventoryLine:
            factories.InventoryLineFactory(run__connection=conn)
        elif model is JobState:
            run = factories.SyncRunFactory(connection=conn)
            job_state(
                factories.OrderManagerConnectionFactory(warehouse__tenant=conn.warehouse.tenant),
                Job.ORDER_DOWNLOAD,
                last_run=run,
            )


@pytest.mark.parametrize("model", [SyncRun, OrderRecord, OrderEvent, InventoryLine, JobState])
@pytest.mark.parametrize("who", ["superuser", "staff"])
def test_changelist_query_count_does_not_grow_with_rows(model, who, admin_client_for, superuser):
    tenant = factories.TenantFactory()
    connections = [factories.OrderManagerConnectionFactory(warehouse__tenant=tenant) for _ in range(3)]
    user = superuser if who == "superuser" else factories.tenant_staff(tenant, username="big-staff")
    client = admin_client_for(user)
    make_rows(model, 20, connections)
    few = queries_for(client, url(model))
    make_rows(model, 180, connections)
    many = queries_for(client, url(model))
    assert many == few, f"{model.__name__}: {few} queries for 20 rows, {many} for 200"
    assert many <= 15


def test_order_page_query_count_does_not_grow_with_events(su_client, connection):
    order = factories.OrderRecordFactory(connection=connection, status=Status.ERROR)
    for _ in range(3):
        factories.OrderEventFactory(order=order, run=factories.SyncRunFactory(connection=connection))
    few = queries_for(su_client, url(OrderRecord, "change", order.pk))
    for _ in range(30):
        factories.OrderEventFactory(order=order, run=factories.SyncRunFactory(connection=connection), sent={"a": 1})
    assert queries_for(su_client, url(OrderRecord, "change", order.pk)) == few


def test_lists_do_not_load_big_json_columns(su_client, audit_rows):
    with CaptureQueriesContext(db_connection) as ctx:
        su_client.get(url(SyncRun))
        su_client.get(url(OrderRecord))
    listing = [q["sql"] for q in ctx.captured_queries if "LIMIT" in q["sql"] and "COUNT" not in q["sql"]]
    assert listing
    assert not [sql for sql in listing if '"calls"' in sql or '"source"' in sql]


def test_counts_are_capped(su_client, connection, monkeypatch):
    monkeypatch.setattr(admin_base.CappedCountPaginator, "count_cap", 5)
    factories.OrderRecordFactory.create_batch(8, connection=connection)
    monkeypatch.setattr(admin_orders.OrderRecordAdmin, "list_per_page", 2)

    response = su_client.get(url(OrderRecord))

    assert response.context["cl"].result_count == 5
    assert "more than 5 order records" in response.content.decode()
    assert "Select all order records that match (more than 5)" in response.content.decode()
    with CaptureQueriesContext(db_connection) as ctx:
        su_client.get(url(OrderRecord))
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT" in sql for sql in counts), counts


def test_uncapped_counts_are_exact(su_client, connection):
    factories.OrderRecordFactory.create_batch(3, connection=connection)
    html = su_client.get(url(OrderRecord)).content.decode()
    assert "3 order records" in html and "more than" not in html


def test_paginator_unit():
    paginator = admin_base.CappedCountPaginator(list(range(7)), 3)
    assert paginator.count == 7 and paginator.num_pages == 3
    assert durations.precise(datetime.timedelta(seconds=0.25)) == "250 ms"
    assert durations.precise(datetime.timedelta(seconds=65)) == "1m 05s"
    assert durations.precise(datetime.timedelta(hours=2, minutes=3)) == "2h 03m"
    assert admin_base.redacted_line("a  b\n c" + "x" * 100, 10) == "a b cxxxx…"
    # masked line by line before the lines are joined: the header's line only, not what follows
    assert admin_base.redacted_line("Authorization: Bearer abc\nnext line") == "Authorization: *** next line"


def test_a_healthy_orders_page_shows_its_flags_in_words_without_red_crosses(su_client):
    """Issue 17: red crosses on healthy orders for "error permanent" and "given up"; "Om modified at"."""
    order = factories.OrderRecordFactory(status=OrderRecord.Status.AT_WMS)
    html = su_client.get(url(OrderRecord, "change", order.pk)).content.decode()
    assert "icon-no.svg" not in html
    assert "Held for the operator" in html and "Given up (WMS send)" in html and "Tracking given up" in html
    assert "Modified in Order Manager" in html and "Om modified at" not in html


def test_orders_runs_and_events_filter_by_a_date_range(su_client):
    """Issue 17: date-range filters on orders, runs and events (django-admin-rangefilter)."""
    import datetime

    from django.utils import timezone

    old, new = factories.OrderRecordFactory(), factories.OrderRecordFactory()
    OrderRecord.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=40))
    since = (timezone.now() - datetime.timedelta(days=7)).date().isoformat()
    response = su_client.get(url(OrderRecord, "changelist"), {"created_at__range__gte": since})
    shown = {o.pk for o in response.context["cl"].result_list}
    assert new.pk in shown and old.pk not in shown
    for model, field in ((SyncRun, "started_at"), (OrderEvent, "at")):
        page = su_client.get(url(model, "changelist"), {f"{field}__range__gte": since})
        assert page.status_code == 200 and f'name="{field}__range__gte"' in page.content.decode()
