"""The operator's day in a real browser (headless Chromium, Playwright; fixtures of tests/test_browser.py).

From a blank admin to a first confirmed order, in the admin alone: add a tenant, **Create sandbox
accounts** for it, **Test connection**, read the pre-flight report, set the start date, **Activate**,
**Run now** the Order Download and follow its progress to the end without a reload, see the orders
at the WMS; the sandbox warehouse ships some, **Run now** the Shipment Confirmation, see an order
confirmed. Then archive a tenant, and check the pages an operator reads every day at 1,400 px: the
order list fits, header links are visible.

Each step's wall time is printed (`-s`), for the issue's "operator's path" figures; the clicks are
the browser's, the worker is `tests.queued_tasks.run_queued` (what a cluster does with the task).
"""

import time

import pytest

from connectors.sandbox.control import order_events
from hub.models import OrderRecord, SyncRun
from tenants import sandbox_accounts as sandbox_lookup
from tenants.models import OrderManagerConnection, Tenant
from tests import factories
from tests.queued_tasks import run_queued
from tests.test_browser import PASSWORD, browser, message, page, shots, submit  # noqa: F401 (fixtures)

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails under CI=true)
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("orm_broker")]

SEEDED_ORDERS = 6


class Steps:
    """Wall time of each step of the path, printed at the end."""

    def __init__(self):
        self.started = self.last = time.monotonic()
        self.rows: list[tuple[str, float]] = []

    def done(self, what: str) -> None:
        now = time.monotonic()
        self.rows.append((what, now - self.last))
        self.last = now

    def report(self) -> str:
        lines = [f"{seconds:6.2f} s  {what}" for what, seconds in self.rows]
        return "\n".join([*lines, f"{time.monotonic() - self.started:6.2f} s  in all"])


def log_in(tab, base: str) -> None:
    tab.goto(f"{base}/admin/")
    tab.fill("#id_username", "ops")
    tab.fill("#id_password", PASSWORD)
    submit(tab, "input[type=submit]")


def run_now_and_follow(tab, button: str) -> SyncRun:
    """Click a Run now button, let a worker take the task, and see the page reach "finished" unreloaded."""
    submit(tab, button)
    assert message(tab).endswith(": queued."), message(tab)
    tab.evaluate("window.hubSamePage = true")  # gone if the page were reloaded
    [run_id] = run_queued()
    expect(tab.locator("#run-progress")).to_have_attribute("data-state", "finished")
    assert tab.evaluate("window.hubSamePage === true")
    return SyncRun.objects.get(pk=run_id)


def test_a_blank_admin_to_a_first_confirmed_order_in_the_admin_alone(live_server, page, shots):  # noqa: F811
    base = live_server.url
    factories.UserFactory(username="ops", is_staff=True, is_superuser=True)
    steps = Steps()

    log_in(page, base)
    page.get_by_text("No connections yet.").wait_for()
    steps.done("sign in: a blank dashboard")

    # A tenant: name, slug, time zone (the plain add form; its connection comes from the sandbox).
    page.goto(f"{base}/admin/tenants/tenant/add/")
    page.fill("#id_name", "Juniper Supply")  # the slug fills itself in from the name
    page.select_option("#id_time_zone", "America/Chicago")
    submit(page, "input[name=_continue]")
    assert "was added successfully" in message(page)
    tenant = Tenant.objects.get(name="Juniper Supply")
    steps.done("add the tenant")

    # Create sandbox accounts: a confirmation page saying what will be made, then the connection.
    page.click("#sandbox-accounts-link")
    expect(page.locator("#sandbox-accounts-plan")).to_contain_text(f"{base}/sandbox/")
    page.fill("#id_orders", str(SEEDED_ORDERS))
    page.screenshot(path=str(shots / "sandbox-accounts.png"), full_page=True)
    submit(page, "input[name=_create]")
    connection = OrderManagerConnection.objects.get(warehouse__tenant=tenant)
    assert not connection.is_activated  # nothing runs before Activate
    assert connection.base_url == f"{base}/sandbox/order-manager"  # the address served, not a setting
    assert sandbox_lookup.of_tenant(tenant) is not None
    steps.done("create sandbox accounts (Order Manager account with orders, WMS customer, connection)")

    # Test connection -> pre-flight: orders waiting, not activated, nothing due.
    page.click("#test-connection-link")
    page.locator("#preflight-verdict").wait_for()
    assert page.inner_text("#preflight-verdict").startswith("Connected")
    assert page.inner_text("#preflight-waiting").startswith(f"{SEEDED_ORDERS} in")
    assert "not activated" in page.inner_text("#preflight-jobs")
    assert page.locator("#run-now-orders").is_disabled()
    steps.done("test connection and read the pre-flight report")

    submit(page, page.get_by_role("button", name="From 7 days ago"))
    assert message(page).startswith("Start from set to")
    submit(page, "#activate")
    assert message(page).startswith("Activated:")
    steps.done("set the start date and activate")

    # Run now the first Order Download, followed to its end.
    run = run_now_and_follow(page, "#run-now-orders")
    assert run.status == SyncRun.Status.SUCCEEDED and run.created == SEEDED_ORDERS
    assert f"created {SEEDED_ORDERS}" in page.inner_text("#run-progress-state")
    steps.done("Run now the Order Download, progress to the end")

    page.goto(f"{base}/admin/hub/orderrecord/?connection__id__exact={connection.pk}")
    expect(page.locator("#result_list tbody tr")).to_have_count(SEEDED_ORDERS)
    assert all("At WMS" in text for text in page.locator("#result_list tbody tr").all_inner_texts())
    steps.done("see the orders at the WMS in the order list")

    # The warehouse ships two (the sandbox, as a real WMS would); Run now the Shipment Confirmation.
    order_events.ship(sandbox_lookup.of_tenant(tenant).wms, 2, seed=3)
    page.goto(f"{base}/admin/tenants/ordermanagerconnection/{connection.pk}/change/")
    run = run_now_and_follow(page, "#run-now-shipments")
    assert run.status == SyncRun.Status.SUCCEEDED
    confirmed = OrderRecord.objects.filter(connection=connection, status=OrderRecord.Status.CONFIRMED)
    assert confirmed.count() == 2
    page.goto(f"{base}/admin/hub/orderrecord/?connection__id__exact={connection.pk}&status__exact=confirmed")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    # Times in the tenant's zone, named (Chicago: CST in winter, CDT in summer).
    assert any(zone in page.inner_text("#result_list") for zone in ("CST", "CDT"))
    steps.done("ship at the WMS, Run now the Shipment Confirmation, see the orders confirmed")

    print("\nThe operator's path, step by step:\n" + steps.report())


def test_archive_a_tenant_that_sent_orders(live_server, page, shots):  # noqa: F811
    base = live_server.url
    factories.UserFactory(username="ops", is_staff=True, is_superuser=True)
    kept = factories.TenantFactory(name="Kept Goods")
    order = factories.OrderRecordFactory(
        connection__warehouse__tenant__name="Mistake Inc", wms_order_id="123", status=OrderRecord.Status.AT_WMS
    )
    mistake = order.connection.warehouse.tenant

    log_in(page, base)
    page.goto(f"{base}/admin/tenants/tenant/")
    page.locator(f"input[name=_selected_action][value='{mistake.pk}']").check()
    page.select_option("select[name=action]", "archive_tenants")
    submit(page, "button[name=index], .actions button[type=submit]")
    expect(page.locator("#content")).to_contain_text("Archiving keeps every record")
    page.screenshot(path=str(shots / "archive-tenant.png"), full_page=True)
    submit(page, "input[value=Archive]")
    assert message(page).startswith("Archived 1 tenant(s): Mistake Inc")
    mistake.refresh_from_db()
    assert mistake.archived_at is not None and OrderRecord.objects.filter(pk=order.pk).exists()

    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    assert kept.name in rows.first.inner_text()
    page.goto(f"{base}/admin/tenants/tenant/?archived=yes")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    assert "Mistake Inc" in page.inner_text("#result_list")


def test_daily_pages_fit_1400_pixels_and_header_links_show(live_server, browser):  # noqa: F811
    base = live_server.url
    factories.UserFactory(username="ops", is_staff=True, is_superuser=True)
    connection = factories.OrderManagerConnectionFactory(warehouse__tenant__name="Wide Tenant With A Long Name")
    for n in range(5):
        factories.OrderRecordFactory(
            connection=connection,
            order_number=f"SO-2026-{n:06d}",
            wms_order_id=str(9000 + n),
            status=OrderRecord.Status.SHIPPED,
            tracking_numbers=[f"1Z999AA1012345678{n}"],
            last_error="The WMS answered 503 Service Unavailable; retried later",
        )
    run = factories.SyncRunFactory(connection=connection, job="inventory")
    factories.InventoryLineFactory(run=run)
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    tab = context.new_page()
    try:
        log_in(tab, base)
        tab.goto(f"{base}/admin/hub/orderrecord/")
        widths = tab.evaluate(
            "() => { const r = document.querySelector('#changelist .results'); return [r.scrollWidth, r.clientWidth]; }"
        )
        assert widths[0] <= widths[1], f"the order list overflows at 1,400 px: {widths}"
        tab.goto(f"{base}/admin/tenants/ordermanagerconnection/{connection.pk}/inventory/?run={run.pk}")
        link = tab.locator(".module h2 a").first
        colours = link.evaluate("a => [getComputedStyle(a).color, getComputedStyle(a.closest('h2')).backgroundColor]")
        assert colours[0] != colours[1] and colours[0] in ("rgb(255, 255, 255)", "rgb(255, 255, 204)"), colours
    finally:
        context.close()
