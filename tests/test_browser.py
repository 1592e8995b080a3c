"""The operator's admin in a real browser: headless Chromium driven by Playwright for Python.

One scenario, from a blank admin to a successful first Order Download against the sandbox that
the live server serves: log in, onboard a tenant (tenant, warehouse, Order Manager connection),
"Test connection", read the pre-flight report, set "start from", activate, Run now the first
Order Download and follow its progress to the end, find the orders at the WMS in the order list,
then open the dashboard, the inventory page and an order's timeline. A second test follows a Run
now from the connection page through queued, running (with its counts) and finished; a third,
that the page stops asking after its bound and says so.

Queued tasks are run by `tests.queued_tasks.run_queued`, what a worker does with them, in this
process (the test database lives here): the live server's thread serves the browser meanwhile.

Chromium is Debian's (`/usr/bin/chromium`, or `HUB_CHROMIUM`), launched by executable path:
Playwright's own browser download is not available here. Without Chromium or Playwright the test
is skipped with the reason, except under CI=true, where it fails (`.ci/run` installs Chromium).

Screenshots (1280 px wide, full page) of the dashboard and the order page, plus the onboarding
form and the pre-flight report for docs/setup-guide.md, are written to docs/screenshots/ when
HUB_UPDATE_SCREENSHOTS=1 (so CI never dirties the tree), else to a temporary directory.
"""

import os
import pathlib
import re
import secrets

import pytest

from connectors.sandbox.control import account_setup, order_events, seeding
from hub.admin import run_now
from hub.engine.runner import run_job
from hub.jobs import order_download
from hub.models import Job, OrderRecord, SyncRun
from tenants.models import OrderManagerConnection
from tests import factories
from tests.queued_tasks import run_queued

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # the `browser` fixture says so (skip, or fail under CI=true)
    expect = sync_playwright = None

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("orm_broker")]

CHROMIUM = os.environ.get("HUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = pathlib.Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's
ORDERS, SKUS = 8, 12
TIMEOUT_MS = 20_000


def _unavailable() -> str:
    if not os.path.exists(CHROMIUM):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set HUB_CHROMIUM)"
    if sync_playwright is None:
        return "Playwright for Python is not installed (pip install -r requirements-dev.txt)"
    return ""


@pytest.fixture(scope="module")
def browser():
    reason = _unavailable()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    expect.set_options(timeout=TIMEOUT_MS)

    # Playwright's sync API keeps an asyncio loop running on this thread, which Django takes for
    # an async context; the ORM calls made here between browser steps (database set-up, data,
    # assertions) are plain synchronous code all the same.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US", timezone_id="UTC")
    # The admin's navigation sidebar is sticky, which a full-page screenshot draws mid-page; closed
    # (the admin's own toggle, kept in localStorage), the pages also get the full width.
    context.add_init_script("window.localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def shots(tmp_path):
    """Where screenshots go: docs/screenshots/ only when asked to update them."""
    if os.environ.get("HUB_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path


@pytest.fixture
def sandbox_accounts(live_server, settings):
    """Sandbox accounts as a real tenant would hold them, with orders waiting and stock at the WMS,
    and the hub's Order Manager app registered with the sandbox."""
    settings.HUB_OM_APP_KEY, settings.HUB_OM_APP_SECRET = "hub-browser-app", "hub-browser-secret"
    settings.HUB_OM_REDIRECT_URL = f"{live_server.url}/om/connect/callback"
    account_setup.ensure_om_app("hub-browser-app", "hub-browser-secret", redirect_uris=[settings.HUB_OM_REDIRECT_URL])
    om_password, wms_secret = secrets.token_urlsafe(12), secrets.token_urlsafe(16)
    om = account_setup.ensure_om_account("acme@sandbox", om_password, warehouse_name="Reno 3PL")
    wms = account_setup.ensure_wms_account(
        "acme-client",
        wms_secret,
        customer_id=41,
        facility_id=2,
        user_login="acme-integration",
        customer_name="Acme Outdoor",
        facility_name="Reno",
        facility_time_zone="America/Los_Angeles",
    )
    seeded = seeding.seed(om, wms, orders=ORDERS, skus=SKUS, seed=7)
    return {"om_password": om_password, "wms_secret": wms_secret, "wms": wms, "seeded": seeded}


def submit(page, target) -> None:
    """Click something that posts a form and wait for the page it leads to (not the old one)."""
    with page.expect_navigation():
        (page.locator(target) if isinstance(target, str) else target).click()


def message(page) -> str:
    """The text of the first admin message on the page that just loaded."""
    first = page.locator(".messagelist li").first
    first.wait_for()
    return first.inner_text()


def fill(page, values: dict[str, str]) -> None:
    for field_id, value in values.items():
        element = page.locator(f"#{field_id}")
        if element.evaluate("e => e.tagName") == "SELECT":
            element.select_option(value)
        else:
            element.fill(value)


def test_onboard_test_preflight_first_run_dashboard_and_order_page(live_server, page, shots, sandbox_accounts):
    base = live_server.url
    factories.UserFactory(username="ops", is_staff=True, is_superuser=True, first_name="Olivia", last_name="Ops")

    # Log in: the dashboard of a blank admin offers onboarding.
    page.goto(f"{base}/admin/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.get_by_text("No connections yet.").wait_for()
    page.get_by_role("link", name="Onboard a tenant").first.click()

    # Onboard: tenant, warehouse (WMS), Order Manager connection, on one page.
    fill(
        page,
        {
            "id_tenant-name": "Acme Outdoor",
            "id_tenant-slug": "acme-outdoor",
            "id_tenant-time_zone": "America/Los_Angeles",
            "id_warehouse-name": "Reno",
            "id_warehouse-wms_base_url": f"{base}/sandbox/warehouse-manager",
            "id_warehouse-client_id": "acme-client",
            "id_warehouse-client_secret": sandbox_accounts["wms_secret"],
            "id_warehouse-user_login": "acme-integration",
            "id_warehouse-customer_id": "41",
            "id_warehouse-facility_id": "2",
            "id_warehouse-facility_time_zone": "America/Los_Angeles",
            "id_connection-base_url": f"{base}/sandbox/order-manager",
            "id_connection-auth_base_url": f"{base}/sandbox/order-manager",
            "id_connection-warehouse_name": "Reno 3PL",
        },
    )
    page.screenshot(path=str(shots / "onboard.png"), full_page=True)
    submit(page, "input[name=_save]")
    assert "Tenant “Acme Outdoor” onboarded" in message(page)
    connection = OrderManagerConnection.objects.get(warehouse__tenant__slug="acme-outdoor")
    assert not str(connection.access_token)

    # Connect to Order Manager: the sandbox's install page, sign in there, approve, back to the hub.
    page.click("#om-connect-link")
    page.wait_for_url(re.compile(r"/sandbox/order-manager/oauth/authorize\?"))
    page.fill("#id_username", "acme@sandbox")
    page.fill("#id_password", sandbox_accounts["om_password"])
    page.screenshot(path=str(shots / "om-install.png"), full_page=True)
    submit(page, "#approve")
    assert "connected to Order Manager" in message(page)
    connection.refresh_from_db()
    assert str(connection.access_token) and connection.token_source == "app_install"

    # Test connection -> the pre-flight report.
    page.click("#test-connection-link")
    page.wait_for_url(re.compile(rf"/admin/tenants/ordermanagerconnection/{connection.pk}/preflight/$"))
    verdict = page.inner_text("#preflight-verdict")
    assert verdict.startswith("Connected"), verdict
    warehouse = sandbox_accounts["seeded"]["warehouse"]
    assert f"id {warehouse['warehouseId']}, type {warehouse['type']}" in page.inner_text("#preflight-warehouse")
    assert page.inner_text("#preflight-waiting").startswith(f"{ORDERS} in")
    missing = sandbox_accounts["seeded"]["no_starting_inventory_skus"]
    assert f"{missing} WMS SKU" in page.inner_text("#preflight-missing")
    assert page.locator("#preflight-missing-skus li").count() == missing
    assert page.locator("#preflight-jobs tbody tr").count() == len(Job)  # one row per job
    # A new connection does nothing until activated: no job is due, the report says why.
    assert "not activated" in page.inner_text("#preflight-jobs") and "due now" not in page.inner_text("#preflight-jobs")
    assert page.locator("#run-now-orders").is_disabled()  # not activated yet
    assert f"{ORDERS} orders waiting" in page.inner_text("#activation-waiting")

    # Start from: the seeded orders were modified just now, so a week back keeps them all.
    submit(page, page.get_by_role("button", name="From 7 days ago"))
    assert message(page).startswith("Start from set to")
    connection.refresh_from_db()
    assert connection.start_from is not None
    page.screenshot(path=str(shots / "preflight.png"), full_page=True)

    # Activate (the start-from field carries what was just set): the jobs become due.
    submit(page, "#activate")
    assert message(page).startswith("Activated:")
    connection.refresh_from_db()
    assert connection.is_activated and connection.activated_by.username == "ops"
    assert "due now" in page.inner_text("#preflight-jobs")
    page.screenshot(path=str(shots / "preflight-active.png"), full_page=True)

    # Run now the first Order Download: queued, a worker runs it, the page follows it to the end.
    submit(page, "#run-now-orders")
    assert message(page).endswith(": queued.")
    expect(page.locator("#run-progress-state")).to_have_text("Order Download: queued, waiting for a worker.")
    page.evaluate("window.hubSamePage = true")  # gone if the page were reloaded
    assert run_queued()
    expect(page.locator("#run-progress")).to_have_attribute("data-state", "finished")
    run = SyncRun.objects.get(connection=connection, job="orders")
    assert run.status == SyncRun.Status.SUCCEEDED and run.trigger == SyncRun.Trigger.MANUAL
    finished = page.inner_text("#run-progress-state")
    assert finished.startswith(f"Order Download run #{run.pk} finished: Succeeded"), finished
    assert f"fetched {ORDERS}, created {ORDERS}" in finished and finished.endswith("failed 0.")
    assert page.evaluate("window.hubSamePage === true")
    assert page.get_attribute("#run-progress-run-link", "href") == f"/admin/hub/syncrun/{run.pk}/change/"
    submit(page, "#run-progress-back")  # back to the pre-flight report
    assert "Start from" in page.inner_text("#preflight-start-from") and page.locator("#start-from-form").count() == 0
    page.get_by_role("link", name="Orders at the WMS").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(ORDERS)
    assert all("At WMS" in text for text in rows.all_inner_texts())
    assert OrderRecord.objects.filter(connection=connection, status=OrderRecord.Status.AT_WMS).count() == ORDERS

    # Some orders ship; the other jobs run as the scheduler would run them.
    order_events.ship(sandbox_accounts["wms"], 3, seed=7)
    connection.refresh_from_db()
    assert run_job(connection, Job.SHIPMENT_CONFIRMATION).status == SyncRun.Status.SUCCEEDED
    assert run_job(connection, Job.INVENTORY_SYNC).status == SyncRun.Status.SUCCEEDED

    # The dashboard: the connection's row with its last runs and the orders sent today.
    page.goto(f"{base}/admin/")
    row = page.locator(f"tr[data-connection='{connection.pk}']")
    row.wait_for()
    row_text = row.inner_text()
    assert "Acme Outdoor" in row_text and "Reno" in row_text
    assert row_text.count("succeeded") == 3, row_text  # orders, shipments, inventory; cancels never ran
    assert page.locator(".hub-chart rect").count() == 14
    assert f"{ORDERS}\norders sent in 14 days" in page.inner_text(".hub-tiles")
    page.screenshot(path=str(shots / "dashboard.png"), full_page=True)

    # The inventory page: lines, and the SKUs that need starting inventory first.
    row.get_by_role("link", name="inventory").click()
    expect(page.locator("#inventory-needs tbody tr")).to_have_count(missing)
    expect(page.locator("#inventory-lines tbody tr")).to_have_count(SKUS)

    # An order that went all the way: its timeline, oldest first, with runs and tracking.
    confirmed = (
        OrderRecord.objects.filter(connection=connection, status=OrderRecord.Status.CONFIRMED).order_by("pk").first()
    )
    assert confirmed is not None
    page.goto(f"{base}/admin/hub/orderrecord/?connection__id__exact={connection.pk}&status__exact=confirmed")
    page.get_by_role("link", name=confirmed.order_number).click()
    expect(page.locator("#order-summary")).to_contain_text(confirmed.order_number)
    kinds = page.locator("#order-timeline td.hub-kind").all_inner_texts()
    assert kinds[0] == "Downloaded from Order Manager" and kinds[-1] == "Tracking sent to Order Manager", kinds
    summary = page.inner_text("#order-summary")
    assert str(confirmed.wms_order_id) in summary and confirmed.tracking_numbers[0] in summary
    page.screenshot(path=str(shots / "order.png"), full_page=True)


def test_run_now_on_the_connection_page_shows_queued_running_and_finished_without_reloading(
    live_server, page, shots, monkeypatch
):
    base = live_server.url
    factories.UserFactory(username="ops", is_staff=True, is_superuser=True)
    connection = factories.OrderManagerConnectionFactory()
    page.goto(f"{base}/admin/tenants/ordermanagerconnection/{connection.pk}/change/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", PASSWORD)
    submit(page, "input[type=submit]")
    assert [page.locator(f"#run-now-{job.value}").is_enabled() for job in Job] == [True] * len(Job)
    page.screenshot(path=str(shots / "connection-run-now.png"))

    submit(page, "#run-now-orders")
    progress = page.locator("#run-progress")
    expect(page.locator("#run-progress-state")).to_have_text("Order Download: queued, waiting for a worker.")
    page.evaluate("window.hubSamePage = true")  # gone if the page were reloaded

    def body(ctx):
        """Order Download's body, stood in for: counts saved part-way, and the page shows them meanwhile."""
        ctx.run.fetched, ctx.run.created = 5, 2
        ctx.run.save(update_fields=["fetched", "created"])
        expect(progress).to_have_attribute("data-state", "running")
        expect(page.locator("#run-progress-state")).to_contain_text("so far fetched 5, created 2")
        page.screenshot(path=str(shots / "run-now-progress.png"), full_page=True)
        ctx.run.created = 5
        ctx.run.save(update_fields=["created"])

    monkeypatch.setattr(order_download, "sync", body)
    [run_id] = run_queued()

    expect(progress).to_have_attribute("data-state", "finished")
    assert page.inner_text("#run-progress-state").startswith(f"Order Download run #{run_id} finished: Succeeded")
    assert "fetched 5, created 5" in page.inner_text("#run-progress-state")
    assert page.evaluate("window.hubSamePage === true")
    page.click("#run-progress-run-link")
    page.wait_for_url(f"{base}/admin/hub/syncrun/{run_id}/change/")


def test_progress_stops_asking_after_its_bound_and_says_so(live_server, page, monkeypatch):
    monkeypatch.setattr(run_now, "POLL_INTERVAL_MS", 200)
    monkeypatch.setattr(run_now, "POLL_LIMIT_SECONDS", 2)
    base = live_server.url
    factories.UserFactory(username="ops", is_staff=True, is_superuser=True)
    connection = factories.OrderManagerConnectionFactory()
    page.goto(f"{base}/admin/tenants/ordermanagerconnection/{connection.pk}/change/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", PASSWORD)
    submit(page, "input[type=submit]")
    asked = []
    page.on("request", lambda request: asked.append(request.url) if "/progress/status/" in request.url else None)

    submit(page, "#run-now-orders")  # queued, and no worker runs it

    expect(page.locator("#run-progress-note")).to_have_text(
        "Stopped checking after 2 seconds; the run may still be going: reload this page to check again."
    )
    assert page.locator("#run-progress").get_attribute("data-state") == "queued" and asked
    count = len(asked)
    page.wait_for_timeout(600)  # three intervals
    assert len(asked) == count
