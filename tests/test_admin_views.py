"""hub.admin.views: the pre-flight report (after "Test connection"), "start from", activation, the
first run (Run now, queued) and the inventory page; plus the connection page's hooks
(tenants.admin.add_connection_page, add_connection_tool)."""

import datetime
import zoneinfo

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf

from hub.admin import inventory_page
from hub.admin import views as admin_views
from hub.models import InventoryLine, Job, JobState, OrderRecord, SyncRun
from tenants import connection_check
from tenants.admin import CONNECTION_PAGES
from tests import factories
from tests.queued_tasks import run_queued
from tests.sandbox_helpers import sandbox_tenant

pytestmark = pytest.mark.django_db
Result = InventoryLine.Result
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def page_url(connection, name):
    return reverse(f"admin:tenants_ordermanagerconnection_{name}", args=[connection.pk])


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def su_client(superuser, admin_client_for):
    return admin_client_for(superuser)


@pytest.fixture
def tested(connection):
    """A connection whose last "Test connection" passed, as check_order_manager stores it."""
    connection.last_tested_at = timezone.now()
    connection.last_test_report = {
        "ok": True,
        "authenticated": "yes",
        "warehouse": "Main 3PL (id 1001, THIRD_PARTY_LOGISTICS)",
        "throttle_limits": 3,
        "orders_waiting": 42,
        "wms_skus_in_stock": 5,
        "no_starting_inventory_in_order_manager": "MUG-BLUE, MUG-RED",
        "no_starting_inventory_count": 2,
        "no_starting_inventory_skus": ["MUG-BLUE", "MUG-RED"],
    }
    connection.save(update_fields=["last_tested_at", "last_test_report"])
    warehouse = connection.warehouse
    warehouse.last_test_report = {"ok": True, "authenticated": "yes", "skus_in_stock": 5}
    warehouse.save(update_fields=["last_test_report"])
    return connection


# -- the hook on the connection admin --------------------------------------------------------------


def test_pages_are_registered_and_linked_from_the_change_page(su_client, connection):
    assert {"preflight", "inventory"} <= set(CONNECTION_PAGES) and CONNECTION_PAGES["preflight"].after_test
    admin_views.register()  # idempotent
    assert list(CONNECTION_PAGES).count("preflight") == 1
    html = su_client.get(page_url(connection, "change")).content.decode()
    assert (
        f'href="{page_url(connection, "preflight")}"' in html and f'href="{page_url(connection, "inventory")}"' in html
    )
    assert f'action="{page_url(connection, "test")}"' in html


def test_connection_check_summary_leaves_out_the_sku_list(tested):
    text = connection_check.format_report(tested.last_test_report)
    assert "orders waiting: 42" in text and "MUG-BLUE, MUG-RED" in text
    assert "no starting inventory skus" not in text and "['MUG-BLUE'" not in text


# -- pre-flight report -------------------------------------------------------------------------------


def test_untested_connection(su_client, connection):
    response = su_client.get(page_url(connection, "preflight"))
    assert response.status_code == 200
    assert response.context["level"] == "bad" and "Not tested yet" in response.context["verdict"]


def test_report_shows_warehouse_waiting_orders_missing_skus_and_next_due_times(su_client, tested):
    tested.warehouse.tenant.time_zone = "America/New_York"
    tested.warehouse.tenant.save()
    due = datetime.datetime(2031, 7, 1, 3, 0, tzinfo=datetime.UTC)
    JobState.objects.filter(connection=tested, job=Job.INVENTORY_SYNC).update(next_due_at=due)
    JobState.objects.filter(connection=tested, job=Job.CANCEL_DOWNLOAD).update(attention="Worker died")

    response = su_client.get(page_url(tested, "preflight"))

    html = response.content.decode()
    assert response.context["level"] == "warn" and "2 WMS SKUs will not sync" in response.context["verdict"]
    assert "id <strong>1001</strong>, type <strong>THIRD_PARTY_LOGISTICS</strong>" in html
    assert "<strong>42</strong> in “Awaiting 3PL Export”" in html
    assert "<li>MUG-BLUE</li><li>MUG-RED</li>" in html
    jobs = {row["job"]: row for row in response.context["jobs"]}
    assert jobs[Job.INVENTORY_SYNC]["next"] == "2031-06-30 23:00 EDT"  # the tenant's local time
    assert jobs[Job.INVENTORY_SYNC]["schedule"] == "daily at 23:00 (America/New_York)"
    assert jobs[Job.ORDER_DOWNLOAD]["schedule"] == "every 5 min" and jobs[Job.ORDER_DOWNLOAD]["next"].startswith(
        "due now"
    )
    assert jobs[Job.CANCEL_DOWNLOAD]["next"] == "needs attention: Worker died" and not jobs[Job.CANCEL_DOWNLOAD]["ok"]
    # Run now on each row: offered, except for the job that needs attention.
    assert '<button type="submit" class="button default" id="run-now-orders">Run now</button>' in html
    assert 'id="run-now-cancellations" disabled title="Needs attention (Worker died)' in html


def test_jobs_that_cannot_run_say_why(su_client, tested):
    type(tested).objects.filter(pk=tested.pk).update(
        warehouse_name="", inventory_sync_enabled=True, shipment_confirmation_enabled=False
    )
    jobs = {row["job"]: row["next"] for row in su_client.get(page_url(tested, "preflight")).context["jobs"]}
    assert jobs[Job.INVENTORY_SYNC].startswith("not scheduled: Inventory Sync needs the Order Manager warehouse name")
    assert jobs[Job.SHIPMENT_CONFIRMATION] == "not scheduled: Shipment Confirmation is turned off for this connection."


def test_failed_test_is_the_verdict(su_client, connection):
    connection.last_test_report = {"ok": False, "error": "Order Manager rejected the credentials"}
    connection.save(update_fields=["last_test_report"])
    response = su_client.get(page_url(connection, "preflight"))
    assert response.context["level"] == "bad" and "rejected the credentials" in response.context["verdict"]


# -- start from ---------------------------------------------------------------------------------------


@pytest.fixture
def new_york(tested):
    tenant = tested.warehouse.tenant
    tenant.time_zone = "America/New_York"
    tenant.save()
    return tested


def test_start_from_is_read_in_the_tenant_time_zone_and_logged(su_client, new_york):
    response = su_client.post(
        page_url(new_york, "preflight"), {"action": "start_from", "start_from": "2026-03-01T08:30"}, follow=True
    )

    new_york.refresh_from_db()
    assert new_york.start_from == datetime.datetime(2026, 3, 1, 13, 30, tzinfo=datetime.UTC)
    assert any("Start from set to 2026-03-01 08:30 EST" in m for m in messages_of(response))
    assert LogEntry.objects.filter(object_id=str(new_york.pk), change_message__startswith="Start from set").exists()
    # Shown back in the same zone, in the form and as text.
    assert 'value="2026-03-01T08:30"' in response.content.decode()


def test_start_from_presets_and_clearing(su_client, new_york):
    su_client.post(page_url(new_york, "preflight"), {"action": "start_from", "start_from": "", "preset": "today"})
    new_york.refresh_from_db()
    local = new_york.start_from.astimezone(NEW_YORK)
    assert (local.date(), local.hour, local.minute) == (timezone.now().astimezone(NEW_YORK).date(), 0, 0)

    su_client.post(page_url(new_york, "preflight"), {"action": "start_from", "start_from": "", "preset": "week"})
    new_york.refresh_from_db()
    assert new_york.start_from.astimezone(NEW_YORK).date() == timezone.now().astimezone(
        NEW_YORK
    ).date() - datetime.timedelta(days=7)

    su_client.post(page_url(new_york, "preflight"), {"action": "start_from", "start_from": "", "preset": "all"})
    new_york.refresh_from_db()
    assert new_york.start_from is None


def test_start_from_does_not_touch_the_schedule(su_client, tested):
    due = timezone.now() + datetime.timedelta(minutes=3)
    JobState.objects.filter(connection=tested).update(next_due_at=due)
    su_client.post(page_url(tested, "preflight"), {"action": "start_from", "start_from": "2026-01-01T00:00"})
    assert set(JobState.objects.filter(connection=tested).values_list("next_due_at", flat=True)) == {due}


def test_start_from_is_refused_after_the_first_run_and_invalid_input_is_shown(su_client, tested):
    response = su_client.post(page_url(tested, "preflight"), {"action": "start_from", "start_from": "next tuesday"})
    assert response.status_code == 200 and response.context["form"].errors
    JobState.objects.filter(connection=tested, job=Job.ORDER_DOWNLOAD).update(watermark=timezone.now())

    response = su_client.post(
        page_url(tested, "preflight"), {"action": "start_from", "start_from": "2026-01-01T00:00"}, follow=True
    )

    tested.refresh_from_db()
    assert tested.start_from is None
    assert any("already ran" in m for m in messages_of(response))
    assert 'id="start-from-form"' not in response.content.decode()


def test_view_only_staff_cannot_change_start_from_or_run(tested, admin_client_for):
    viewer = factories.tenant_staff(tested.warehouse.tenant)
    viewer.user_permissions.remove(
        *viewer.user_permissions.filter(codename__in=["change_ordermanagerconnection", "change_jobstate"])
    )
    client = admin_client_for(viewer)

    page = client.get(page_url(tested, "preflight"))
    assert (
        page.status_code == 200
        and 'id="start-from-form"' not in page.content.decode()
        and 'id="run-now-orders"' not in page.content.decode()
    )
    assert (
        client.post(
            page_url(tested, "preflight"), {"action": "start_from", "start_from": "2026-01-01T00:00"}
        ).status_code
        == 403
    )
    state = JobState.objects.get(connection=tested, job=Job.ORDER_DOWNLOAD)
    assert client.post(reverse("admin:hub_jobstate_run", args=[state.pk])).status_code == 403
    assert client.post(page_url(tested, "test")).status_code == 403
    assert not SyncRun.objects.exists()


# -- running the first Order Download ----------------------------------------------------------------


# Refusals (not activated, already running, needs attention) are tested with Run now itself, in
# tests/test_run_now.py and tests/test_hub_admin_actions.py.


@pytest.fixture
def orm_broker(monkeypatch):
    """Queue django-q2 tasks in the test database (the ORM broker), whatever the settings say."""
    monkeypatch.setattr(Conf, "ORM", "default")
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "BROKER_CLASS", None)


@pytest.mark.django_db(transaction=True)
def test_test_button_leads_to_the_report_and_the_first_run_reaches_the_wms(live_server, admin_client_for, orm_broker):
    connection = sandbox_tenant(live_server, "preflight-co", orders=5, skus=10)
    client = admin_client_for(factories.UserFactory(is_superuser=True))

    response = client.post(page_url(connection, "test"), follow=True)

    assert response.redirect_chain[-1][0] == page_url(connection, "preflight")
    assert response.context["level"] == "warn", response.context["verdict"]  # SKU-3 has no starting inventory
    assert response.context["missing_skus"] == ["SKU-3"]
    assert response.context["report"]["orders_waiting"] == 5

    # Run now on the Order Download row: queued, then a worker runs it; the progress page follows it.
    state = JobState.objects.get(connection=connection, job=Job.ORDER_DOWNLOAD)
    assert f'action="{reverse("admin:hub_jobstate_run", args=[state.pk])}"' in response.content.decode()
    response = client.post(
        reverse("admin:hub_jobstate_run", args=[state.pk]), {"next": page_url(connection, "preflight")}
    )
    progress_page = response["Location"]
    assert client.get(progress_page).context["progress"]["state"] == "queued"
    run_queued()

    run = SyncRun.objects.get(connection=connection, job=Job.ORDER_DOWNLOAD)
    assert (run.status, run.trigger, run.created) == (SyncRun.Status.SUCCEEDED, SyncRun.Trigger.MANUAL, 5)
    done = client.get(progress_page).context["progress"]
    assert done["state"] == "finished" and done["run"]["id"] == run.pk
    assert done["text"].endswith("fetched 5, created 5, updated 5, skipped 0, failed 0.")
    assert OrderRecord.objects.filter(connection=connection, status=OrderRecord.Status.AT_WMS).count() == 5
    response = client.get(page_url(connection, "preflight"))
    assert response.context["last_orders_run"] == run and response.context["first_run_done"] is True

    # The list action does the same for one connection.
    response = client.post(
        reverse("admin:tenants_ordermanagerconnection_changelist"),
        {"action": "test_connection", "_selected_action": [connection.pk]},
    )
    assert response.status_code == 302 and response["Location"] == page_url(connection, "preflight")


@pytest.mark.django_db(transaction=True)
def test_a_failed_test_stays_on_the_connection_page(live_server, admin_client_for):
    connection = sandbox_tenant(live_server, "wrong-password-co")
    connection.access_token = "not-the-token"
    connection.save()
    warehouse = connection.warehouse
    warehouse.client_secret = "not-the-secret"
    warehouse.save()
    client = admin_client_for(factories.UserFactory(is_superuser=True))

    response = client.post(page_url(connection, "test"), follow=True)

    assert response.redirect_chain[-1][0] == page_url(connection, "change")
    text = " ".join(messages_of(response))
    assert "Order Manager rejected the credentials" in text and "3PL Warehouse Manager rejected the credentials" in text
    preflight = client.get(page_url(connection, "preflight"))
    assert preflight.context["level"] == "bad"


# -- inventory page ------------------------------------------------------------------------------------


@pytest.fixture
def inventory_run(connection):
    older = factories.SyncRunFactory(
        connection=connection, job=Job.INVENTORY_SYNC, started_at=timezone.now() - datetime.timedelta(days=1)
    )
    factories.InventoryLineFactory(run=older, sku="OLD-1")
    run = factories.SyncRunFactory(
        connection=connection, job=Job.INVENTORY_SYNC, status=SyncRun.Status.PARTIAL, failed=1
    )
    factories.InventoryLineFactory(run=run, sku="A-1", wms_available=10, om_locked=4, om_on_hand=9, on_hand_written=14)
    factories.InventoryLineFactory(run=run, sku="A-2", result=Result.UNCHANGED, on_hand_written=None)
    factories.InventoryLineFactory(
        run=run, sku="B-1", result=Result.NO_STARTING_INVENTORY, om_locked=None, on_hand_written=None
    )
    factories.InventoryLineFactory(
        run=run, sku="B-2", result=Result.UNKNOWN_PRODUCT, om_locked=None, on_hand_written=None
    )
    factories.InventoryLineFactory(run=run, sku="B-3", result=Result.FAILED, message="ERR053 product is a bundle")
    factories.SyncRunFactory(connection=connection, job=Job.ORDER_DOWNLOAD)  # not an inventory run
    return run


def test_inventory_page_shows_the_last_run_and_what_needs_the_operator_first(su_client, inventory_run):
    response = su_client.get(page_url(inventory_run.connection, "inventory"))

    assert response.status_code == 200 and response.context["run"] == inventory_run
    needs = [(item["line"].sku, item["todo"].split(":")[0].split(";")[0]) for item in response.context["needs"]]
    assert [sku for sku, _ in needs] == ["B-3", "B-1", "B-2"]  # grouped by result
    assert response.context["needs_total"] == 3
    assert [line.sku for line in response.context["page"].object_list] == ["A-1", "A-2", "B-1", "B-2", "B-3"]
    counts = {item["value"]: item["count"] for item in response.context["counts"]}
    assert counts == {"updated": 1, "unchanged": 1, "no_starting_inventory": 1, "unknown_product": 1, "failed": 1}
    html = response.content.decode()
    assert (
        '<td class="hub-sku">A-1</td><td class="hub-num">10</td><td class="hub-num">4</td><td class="hub-num">9</td><td class="hub-num">14</td>'
        in html
    )
    assert "Assign starting inventory" in html and "ERR053 product is a bundle" in html


def test_inventory_page_of_an_earlier_run_and_of_someone_elses(su_client, inventory_run):
    connection = inventory_run.connection
    older = SyncRun.objects.filter(connection=connection, job=Job.INVENTORY_SYNC).exclude(pk=inventory_run.pk).get()
    response = su_client.get(page_url(connection, "inventory"), {"run": older.pk})
    assert [line.sku for line in response.context["page"].object_list] == ["OLD-1"]
    foreign = factories.SyncRunFactory(job=Job.INVENTORY_SYNC)
    assert su_client.get(page_url(connection, "inventory"), {"run": foreign.pk}).status_code == 404


def test_inventory_page_pages_and_caps_the_needs_section(su_client, connection, monkeypatch):
    monkeypatch.setattr(inventory_page, "LINES_PER_PAGE", 2)
    monkeypatch.setattr(inventory_page, "NEEDS_OPERATOR_SHOWN", 1)
    run = factories.SyncRunFactory(connection=connection, job=Job.INVENTORY_SYNC)
    for n in range(5):
        factories.InventoryLineFactory(run=run, sku=f"S-{n}", result=Result.NO_STARTING_INVENTORY)

    response = su_client.get(page_url(connection, "inventory"), {"page": 3})

    assert [line.sku for line in response.context["page"].object_list] == ["S-4"]
    assert len(response.context["needs"]) == 1 and response.context["needs_total"] == 5
    assert f"run__id__exact={run.pk}" in response.context["needs_more_url"]
    assert [n for n, _ in response.context["page_urls"]] == [1, 2, 3]


def test_inventory_page_without_runs(su_client, connection):
    response = su_client.get(page_url(connection, "inventory"))
    assert response.status_code == 200 and "No Inventory Sync has run" in response.content.decode()


def test_inventory_page_query_count_does_not_grow_with_lines(su_client, connection):
    run = factories.SyncRunFactory(connection=connection, job=Job.INVENTORY_SYNC)
    InventoryLine.objects.bulk_create(
        [InventoryLine(run=run, sku=f"S-{n}", wms_available=1, result=Result.UPDATED) for n in range(5)]
    )
    url = page_url(connection, "inventory")
    su_client.get(url)
    with CaptureQueriesContext(db_connection) as few:
        su_client.get(url)
    InventoryLine.objects.bulk_create(
        [InventoryLine(run=run, sku=f"T-{n}", wms_available=1, result=Result.UNKNOWN_PRODUCT) for n in range(2000)]
    )
    with CaptureQueriesContext(db_connection) as many:
        su_client.get(url)
    assert len(many) == len(few) <= 15


# -- tenant scoping -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, method", [("preflight", "get"), ("inventory", "get"), ("test", "post"), ("preflight", "post")]
)
def test_staff_of_another_tenant_get_404(tested, admin_client_for, name, method):
    outsider = factories.tenant_staff(factories.TenantFactory())
    response = getattr(admin_client_for(outsider), method)(page_url(tested, name), {"action": "activate"})
    assert response.status_code == 404
    assert not SyncRun.objects.exists()


def test_staff_see_their_own_pages(tested, admin_client_for):
    staff = factories.tenant_staff(tested.warehouse.tenant)
    client = admin_client_for(staff)
    assert client.get(page_url(tested, "preflight")).status_code == 200
    assert client.get(page_url(tested, "inventory")).status_code == 200


# -- activation ------------------------------------------------------------------------------------


@pytest.fixture
def inactive(tested):
    tested.activated_at = None
    tested.save(update_fields=["activated_at"])
    return tested


def test_activate_is_offered_after_a_successful_test_with_the_orders_waiting(su_client, inactive):
    html = su_client.get(page_url(inactive, "preflight")).content.decode()
    assert 'id="activate-form"' in html and "<strong>42</strong> orders waiting" in html
    # No run before activation: every Run now button is disabled, and the page says why.
    assert "“Run now” is available once the connection is activated." in html
    assert 'id="run-now-orders" disabled title="This connection is not activated' in html


def test_activate_is_refused_until_test_connection_passed(su_client, inactive):
    inactive.last_test_report = {"ok": False, "error": "401"}
    inactive.save(update_fields=["last_test_report"])
    html = su_client.get(page_url(inactive, "preflight")).content.decode()
    assert 'id="activate-form"' not in html and "Run “Test connection” successfully first" in html
    response = su_client.post(page_url(inactive, "preflight"), {"action": "activate", "start_from": ""}, follow=True)
    inactive.refresh_from_db()
    assert not inactive.is_activated
    assert any("successfully first" in m for m in messages_of(response))


def test_activating_sets_start_from_records_who_and_makes_the_jobs_due(su_client, superuser, inactive):
    assert JobState.objects.filter(connection=inactive, next_due_at__isnull=False).count() == 0
    response = su_client.post(
        page_url(inactive, "preflight"), {"action": "activate", "start_from": "2024-05-01T08:30"}, follow=True
    )
    inactive.refresh_from_db()
    assert inactive.is_activated and inactive.activated_by == superuser
    assert inactive.start_from == datetime.datetime(2024, 5, 1, 8, 30, tzinfo=NEW_YORK)
    assert JobState.objects.filter(connection=inactive, next_due_at__lte=timezone.now()).count() >= 3
    assert any(m.startswith("Activated:") for m in messages_of(response))
    assert LogEntry.objects.filter(object_id=str(inactive.pk), change_message__startswith="Activated").exists()


def test_deactivating_stops_the_jobs_and_reactivating_keeps_the_watermark(su_client, tested):
    watermark = timezone.now() - datetime.timedelta(hours=3)
    JobState.objects.filter(connection=tested, job=Job.ORDER_DOWNLOAD).update(watermark=watermark)
    su_client.post(page_url(tested, "preflight"), {"action": "deactivate"})
    tested.refresh_from_db()
    assert not tested.is_activated
    assert set(JobState.objects.filter(connection=tested).values_list("next_due_at", flat=True)) == {None}
    su_client.post(page_url(tested, "preflight"), {"action": "activate", "start_from": "2020-01-01T00:00"})
    tested.refresh_from_db()
    state = JobState.objects.get(connection=tested, job=Job.ORDER_DOWNLOAD)
    assert tested.is_activated and state.watermark == watermark
    assert tested.start_from is None  # the first run had happened: "start from" no longer applies


def test_tenant_staff_without_change_permission_cannot_activate(admin_client_for, inactive):
    from django.contrib.auth.models import Permission

    user = factories.tenant_staff(inactive.warehouse.tenant)
    user.user_permissions.remove(Permission.objects.get(codename="change_ordermanagerconnection"))
    response = admin_client_for(user).post(page_url(inactive, "preflight"), {"action": "activate", "start_from": ""})
    inactive.refresh_from_db()
    assert response.status_code == 403 and not inactive.is_activated


def test_preflight_shows_zero_orders_waiting_as_zero_not_unknown(su_client, tested):
    """Issue 17: "Orders waiting: ?" under a banner that said "orders waiting: 0"."""
    tested.last_test_report = {**tested.last_test_report, "orders_waiting": 0}
    tested.save(update_fields=["last_test_report"])
    html = su_client.get(page_url(tested, "preflight")).content.decode()
    assert '<dd id="preflight-waiting"><strong>0</strong>' in html


def test_preflight_of_a_shiphero_connection_names_its_warehouse_and_read(su_client, shiphero_system):
    warehouse = factories.ShipHeroWarehouseFactory(
        shiphero_warehouse_id="V2FyZWhvdXNlOjQy",
        last_test_report={"ok": True, "authenticated": "yes", "orders_readable": "yes"},
    )
    connection = factories.OrderManagerConnectionFactory(
        warehouse=warehouse, last_test_report={"ok": True, "authenticated": "yes", "orders_waiting": 0}
    )
    html = su_client.get(page_url(connection, "preflight")).content.decode()
    assert "signed in to ShipHero" in html and "warehouse V2FyZWhvdXNlOjQy" in html
    assert "orders readable: yes" in html and "customer None" not in html
