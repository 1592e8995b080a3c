"""Fault matrix: the real Order Download job (and Shipment Confirmation / Inventory Sync where a
fault is specific to them) against the live sandbox, with one fault at a time.

Two seams:
- HTTP seam (`responses`, everything else passed through to the live sandbox): status codes,
  bodies and transport exceptions on Order Manager's order listing or the WMS's POST /orders;
- real socket (`tests.fault_proxy.FaultProxy` in front of the sandbox, `BlackHole` for connect
  timeouts): connection reset, a stalled read, a 10 MB page (with and without Content-Length),
  an endless body, HTML, an empty body, 401 mid-run, a page that repeats forever.

For each fault the table states what the run records (status, error text), what is retried
(attempts of the faulted call, waits asked of urllib3, transient vs permanent, circuit) and then
the fault is removed and the job run again: every order is at the WMS exactly once.
Backoff sleeps are recorded instead of slept (`waits`), so the table runs in seconds.

Which rows run for which WMS system (`tests.wms_sandboxes.SYSTEMS`):
- both systems (the `wms` fixture, parametrised): a WMS outage (its stock read answering 503 for
  three runs) pausing the connection, then resuming; the WMS's create call answering 500 / 429 /
  timing out (the three-temporary-failures rule stops sending, each order retried when due, once),
  401 on the create (a new token, created once), a truncated answer to the create (retried,
  looked up and linked), one unusable WMS stock quantity (that SKU fails only). The seam is each
  system's create call: POST /orders, or ShipHero's POST /graphql with operationName CreateOrder
  (`wms_sandboxes.wms_create_match`); the sandbox still does the work where the row needs it
  (`wms_sandboxes.forward`);
- ShipHero only (its GraphQL taxonomy): a code-30 (credits) answer mid-run is waited for and sent
  again, no order failing; a document the schema refuses is a permanent, named error per order;
- system-specific, 3PL tenant only: every Order Manager-side row (the listing over the HTTP seam
  and a real socket, connect timeout, the three-failures pause on the listing, the tracking PUT's
  500 and malformed answer): the fault is on Order Manager, not on the WMS; and the 3PL's own
  paging and ETag behaviour is covered in its client tests.
"""

from __future__ import annotations

import datetime
import json
import re
import time
from dataclasses import dataclass

import pytest
import requests
import responses
import time_machine
from django.utils import timezone

from connectors.order_manager.paging import MAX_OVERSIZE_IN_A_ROW
from connectors.transport import records as transport_records
from connectors.transport.retry import HubRetry
from hub.engine import circuit
from hub.engine.runner import run_job
from hub.jobs import order_download
from hub.models import Alert, InventoryLine, Job, JobState, OrderEvent, OrderRecord, SyncRun
from tests import wms_sandboxes
from tests.fault_proxy import BlackHole, FaultProxy
from tests.sandbox_helpers import accounts, sandbox_tenant, status

pytestmark = pytest.mark.django_db(transaction=True)

SLUG = "fm"
ORDERS = 4
OM = "/sandbox/order-manager"
LISTING = "/v1.1/orders"


@pytest.fixture
def waits(monkeypatch):
    """urllib3's retry sleeps, recorded instead of slept: the wait each retry asked for."""
    asked: list[float] = []

    def sleep(self, response=None):
        wait = self.get_retry_after(response) if response is not None else None
        asked.append(round(wait if wait is not None else self.get_backoff_time(), 3))
        log = transport_records.current()
        if log is not None:
            log.restart()

    monkeypatch.setattr(HubRetry, "sleep", sleep)
    return asked


# Generous by default so a loaded CI machine never times out for real; the stalled-read case
# shortens the read timeout to STALL_READ_TIMEOUT (the proxy stalls longer than that).
TIMEOUTS = (1.0, 10.0)
STALL_READ_TIMEOUT = 0.75


@pytest.fixture
def conn(live_server, settings, waits):
    settings.HUB_HTTP_TIMEOUT = TIMEOUTS
    return sandbox_tenant(live_server, SLUG, orders=ORDERS, skus=5)


def attempts(run, method: str, path_end: str) -> list:
    """The recorded attempts of one call (one entry per HTTP attempt, retries included)."""
    return [c for c in run.calls if c["method"] == method and c["path"].endswith(path_end)]


def assert_all_at_wms_exactly_once(conn) -> None:
    wms = status(SLUG)["warehouse_manager"]
    assert wms["duplicate_reference_nums"] == {}
    assert wms["orders_total"] == ORDERS
    records = OrderRecord.objects.filter(connection=conn)
    assert records.count() == ORDERS
    assert set(records.values_list("status", flat=True)) == {OrderRecord.Status.AT_WMS}
    assert set(wms["orders_per_reference_num"]) == set(records.values_list("order_number", flat=True))


def state(conn, job=Job.ORDER_DOWNLOAD) -> JobState:
    return JobState.objects.get(connection=conn, job=job)


# ------------------------------------------------------------------ HTTP seam: Order Manager listing


@dataclass(frozen=True)
class Fault:
    name: str
    stub: dict  # keyword arguments of responses.add
    error: str  # in the run's error
    transient: bool
    tries: int  # attempts recorded for the faulted call


BIG = b"[" + b'{"orderId": 1},' * (11 * 1024 * 1024 // 15) + b"{}]"

SEAM_FAULTS = [
    Fault(
        "429 quota header, long wait",
        {"status": 429, "json": {"message": "quota"}, "headers": {"x-skubana-quota-retryAfter": "120000"}},
        "is rate limiting GET /v1.1/orders (HTTP 429); it asks to wait 120 s",
        True,
        1,
    ),
    Fault(
        "429 quota header, short wait",
        {"status": 429, "json": {"message": "quota"}, "headers": {"x-skubana-quota-retryAfter": "250"}},
        "(HTTP 429) after 4 attempts; it asks to wait 0.25 s",
        True,
        4,
    ),
    Fault("500", {"status": 500, "json": {"message": "boom"}}, "with HTTP 500 after 4 attempts: boom", True, 4),
    Fault("502", {"status": 502, "body": "Bad Gateway"}, "with HTTP 502 after 4 attempts", True, 4),
    Fault("503", {"status": 503, "body": ""}, "with HTTP 503 after 4 attempts", True, 4),
    Fault("504", {"status": 504, "body": "Gateway Timeout"}, "with HTTP 504 after 4 attempts", True, 4),
    Fault(
        "malformed JSON",
        {"status": 200, "body": '[{"orderId": 1, "orderNu', "content_type": "application/json"},
        "sent invalid JSON for GET /v1.1/orders",
        False,
        1,
    ),
    Fault(
        "NaN in JSON",
        {"status": 200, "body": '[{"orderId": NaN}]', "content_type": "application/json"},
        "sent invalid JSON for GET /v1.1/orders",
        False,
        1,
    ),
    Fault(
        "empty body",
        {"status": 200, "body": "", "content_type": "application/json"},
        "sent an empty answer to GET /v1.1/orders",
        False,
        1,
    ),
    Fault(
        "HTML instead of JSON",
        {"status": 200, "body": "<html><body>Login</body></html>", "content_type": "text/html"},
        "sent an HTML page instead of JSON for GET /v1.1/orders",
        False,
        1,
    ),
    # Read again in smaller pages first (a real page of large orders fits that way), then given up.
    Fault(
        "10 MB page",
        {"status": 200, "body": BIG, "content_type": "application/json"},
        f"sent an answer larger than 5 MB for GET /v1.1/orders; it was not read: over the size cap {MAX_OVERSIZE_IN_A_ROW} times in a row",
        False,
        MAX_OVERSIZE_IN_A_ROW,
    ),
    Fault(
        "wrong shape (object)",
        {"status": 200, "json": {"orders": []}},
        "GET /v1.1/orders is malformed: orders: expected a list, got an object",
        False,
        1,
    ),
    Fault(
        "connect timeout",
        {"body": requests.exceptions.ConnectTimeout("connect timed out")},
        "Timed out connecting to Order Manager",
        True,
        1,
    ),
    Fault(
        "read timeout",
        {"body": requests.exceptions.ReadTimeout("read timed out")},
        f"did not answer GET /v1.1/orders within {TIMEOUTS[1]:g} s",
        True,
        1,
    ),
    Fault(
        "connection reset",
        {"body": requests.exceptions.ConnectionError(ConnectionResetError(104, "reset"))},
        "connection reset",
        True,
        1,
    ),
    Fault(
        "401 mid-run",
        {"status": 401, "json": {"error": "invalid_token"}},
        "rejected the access token for GET /v1.1/orders (HTTP 401)",
        False,
        1,
    ),
]


@pytest.mark.parametrize("fault", SEAM_FAULTS, ids=[f.name for f in SEAM_FAULTS])
def test_order_listing_fault_at_the_http_seam(conn, live_server, fault):
    listing = re.compile(re.escape(f"{live_server.url}{OM}{LISTING}") + r"\?(?!.*orderId=)")
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.add_passthru(live_server.url)
        rsps.add(responses.GET, listing, **fault.stub)
        run = run_job(conn, Job.ORDER_DOWNLOAD)

    assert run.status == SyncRun.Status.FAILED
    assert fault.error in run.error, run.error
    tried = attempts(run, "GET", LISTING)
    assert len(tried) == fault.tries, run.calls
    if fault.stub.get("status"):
        assert {c["status"] for c in tried} == {fault.stub["status"]}
    assert ("temporary; the next run retries" in run.error) == fault.transient
    assert OrderRecord.objects.count() == 0 and status(SLUG)["warehouse_manager"]["orders_total"] == 0
    js = state(conn)
    assert js.consecutive_failures == 1 and js.watermark is None  # the window is read again
    conn.refresh_from_db()
    if fault.name.startswith("401"):
        assert conn.credentials_rejected_at is not None and "Credentials rejected" in conn.pause_reason
        conn.clear_circuit()  # what the operator's fix (new credentials / Test connection) does
    else:
        assert conn.credentials_rejected_at is None and conn.paused_until is None

    cleared = run_job(conn, Job.ORDER_DOWNLOAD)  # the fault is gone
    assert cleared.status == SyncRun.Status.SUCCEEDED, cleared.error
    assert_all_at_wms_exactly_once(conn)


def test_three_transient_failures_in_a_row_pause_the_connection_then_it_resumes(conn, live_server):
    listing = re.compile(re.escape(f"{live_server.url}{OM}{LISTING}") + r"\?(?!.*orderId=)")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_passthru(live_server.url)
        rsps.add(responses.GET, listing, status=503, body="")
        for _ in range(circuit.THRESHOLD):
            run_job(conn, Job.ORDER_DOWNLOAD)
    conn.refresh_from_db()
    assert conn.paused_until is not None and "3 failed runs in a row" in conn.pause_reason
    assert circuit.is_open(conn)
    with time_machine.travel(conn.paused_until + datetime.timedelta(seconds=1)):
        assert not circuit.is_open(conn)
        run = run_job(conn, Job.ORDER_DOWNLOAD)
    assert run.status == SyncRun.Status.SUCCEEDED
    conn.refresh_from_db()
    assert conn.paused_until is None
    assert_all_at_wms_exactly_once(conn)


# ------------------------------------------------------------------ HTTP seam: the WMS's create call (both systems)


@pytest.fixture(params=wms_sandboxes.SYSTEMS)
def wms(request, live_server, settings, waits) -> wms_sandboxes.SandboxTenant:
    """A tenant on each WMS system (the fault is at that system's create call or stock)."""
    settings.HUB_HTTP_TIMEOUT = TIMEOUTS
    return wms_sandboxes.tenant(live_server, SLUG, request.param, orders=ORDERS, skus=5)


def assert_all_at_the_wms_exactly_once(t: wms_sandboxes.SandboxTenant) -> None:
    at_wms = t.orders_per_reference()
    assert t.duplicates() == {} and sum(at_wms.values()) == ORDERS
    records = OrderRecord.objects.filter(connection=t.connection)
    assert records.count() == ORDERS
    assert set(records.values_list("status", flat=True)) == {OrderRecord.Status.AT_WMS}
    assert set(at_wms) == set(records.values_list("order_number", flat=True))


def test_a_wms_outage_three_runs_in_a_row_pauses_the_connection_then_it_resumes(wms, live_server):
    """The WMS's stock read answering 503 (its retries too) for three Inventory Sync runs in a row
    pauses the connection (the three-transient-failures rule); after the pause it runs again."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.add_passthru(live_server.url)
        rsps.add(**wms_sandboxes.wms_stock_match(live_server, wms.system), status=503, body="")
        runs = [run_job(wms.connection, Job.INVENTORY_SYNC) for _ in range(circuit.THRESHOLD)]
    assert {run.status for run in runs} == {SyncRun.Status.FAILED}, [r.error for r in runs]
    assert all("temporary; the next run retries" in run.error for run in runs), runs[0].error
    conn = wms.connection
    conn.refresh_from_db()
    assert conn.paused_until is not None and "3 failed runs in a row" in conn.pause_reason
    assert circuit.is_open(conn)
    with time_machine.travel(conn.paused_until + datetime.timedelta(seconds=1)):
        assert not circuit.is_open(conn)
        run = run_job(conn, Job.INVENTORY_SYNC)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    conn.refresh_from_db()
    assert conn.paused_until is None


WMS_FAULTS = [
    # name, stub, reason on the order ({call}: the system's create call), minimum delay before the retry
    (
        "500 on the create (never re-sent blindly)",
        {"status": 500, "body": "An error has occurred."},
        "failed on {call} with HTTP 500",
        datetime.timedelta(minutes=1),
    ),
    (
        "429 asking 10 minutes",
        {"status": 429, "json": {"Message": "slow down"}, "headers": {"Retry-After": "600"}},
        "rate limiting {call} (HTTP 429); it asks to wait 600 s",
        datetime.timedelta(minutes=10),
    ),
    (
        "read timeout on the create",
        {"body": requests.exceptions.ReadTimeout("read timed out")},
        "did not answer {call}",
        datetime.timedelta(minutes=1),
    ),
]


@pytest.mark.parametrize("name, stub, reason, delay", WMS_FAULTS, ids=[f[0] for f in WMS_FAULTS])
def test_wms_send_fault_is_retried_per_order_when_due(wms, live_server, name, stub, reason, delay):
    reason = reason.format(call=wms_sandboxes.WMS_CREATE_CALL[wms.system])
    start = timezone.now()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.add_passthru(live_server.url)
        create = rsps.add(**wms_sandboxes.wms_create_match(live_server, wms.system), **stub)
        run = run_job(wms.connection, Job.ORDER_DOWNLOAD)
    assert run.status == SyncRun.Status.PARTIAL, run.error
    # The WMS is presumed down after three temporary failures in a row: the 4th is not tried.
    assert "Stopped sending after 3 temporary failures in a row" in run.error
    assert create.call_count == 3  # a create is never retried by the HTTP layer
    failed = OrderRecord.objects.filter(status=OrderRecord.Status.ERROR)
    assert failed.count() == 3
    for record in failed:
        assert reason in record.last_error and not record.error_permanent, record.last_error
        assert record.next_retry_at >= start + delay
        assert record.events.filter(kind=OrderEvent.Kind.SEND_FAILED, message__contains=reason).exists()
    assert OrderRecord.objects.get(status=OrderRecord.Status.NEW)  # untried, waits for the next run
    assert sum(wms.orders_per_reference().values()) == 0

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_passthru(live_server.url)
        sent = rsps.add_callback(
            **wms_sandboxes.wms_create_match(live_server, wms.system),
            callback=lambda request: wms_sandboxes.forward(live_server, request),
        )
        lookups = None
        if wms.system == wms_sandboxes.SHIPHERO:
            lookups = rsps.add_callback(
                **wms_sandboxes.wms_operation_match(live_server, "OrdersByReference"),
                callback=lambda request: wms_sandboxes.forward(live_server, request),
            )
        soon = run_job(wms.connection, Job.ORDER_DOWNLOAD)  # cleared, but the failed ones are not due yet
        assert OrderRecord.objects.filter(status=OrderRecord.Status.ERROR).count() == 3
        assert sent.call_count == 1
        with time_machine.travel(timezone.now() + delay + datetime.timedelta(minutes=1)):
            later = run_job(wms.connection, Job.ORDER_DOWNLOAD)
    assert soon.status == SyncRun.Status.SUCCEEDED, soon.error
    assert later.status == SyncRun.Status.SUCCEEDED, later.error
    assert sent.call_count == 1 + 3  # each failed order sent once more, none twice
    # The retries look the order up first (an earlier attempt may have reached the WMS).
    if wms.system == wms_sandboxes.THREEPL:
        assert len(attempts(later, "GET", "/orders")) >= 3
    else:
        assert lookups.call_count >= 3
    assert_all_at_the_wms_exactly_once(wms)


def test_401_on_the_create_mints_a_new_token_and_creates_once(wms, live_server):
    """The WMS drops the token mid-run (401 on one create): a new token is minted, the order is
    created once, and the run succeeds without pausing the connection."""
    refused = []

    def once_401(request):
        if not refused:
            refused.append(request)
            return 401, {"Content-Type": "application/json"}, b'{"errors": [{"message": "Invalid token", "code": 401}]}'
        return wms_sandboxes.forward(live_server, request)

    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.add_passthru(live_server.url)
        create = rsps.add_callback(**wms_sandboxes.wms_create_match(live_server, wms.system), callback=once_401)
        run = run_job(wms.connection, Job.ORDER_DOWNLOAD)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert len(refused) == 1 and create.call_count == ORDERS + 1
    wms.connection.refresh_from_db()
    assert wms.connection.credentials_rejected_at is None and wms.connection.paused_until is None
    assert_all_at_the_wms_exactly_once(wms)


# ------------------------------------------------------------------ real socket


SOCKET_FAULTS = [
    # name, proxy fault, error text, transient, attempts of the listing call
    ("connection reset", "reset", "connection reset", True, 4),
    ("stalled read", "stall", "did not answer GET /v1.1/orders within 0.75 s", True, 4),
    ("10 MB page, no Content-Length", "huge", "sent an answer larger than 5 MB", False, MAX_OVERSIZE_IN_A_ROW),
    ("10 MB page, Content-Length", "huge_declared", "sent an answer larger than 5 MB", False, MAX_OVERSIZE_IN_A_ROW),
    ("endless body", "endless", "sent an answer larger than 5 MB", False, MAX_OVERSIZE_IN_A_ROW),
    ("HTML page", "html", "sent an HTML page instead of JSON", False, 1),
    ("empty body", "empty", "sent an empty answer", False, 1),
    ("401 mid-run", "401", "rejected the access token for GET /v1.1/orders (HTTP 401)", False, 1),
    ("page that repeats forever", "repeat_page", "returned the same orders for page 2 as for page 1", False, 2),
]


@pytest.mark.parametrize("name, fault, error, transient, tries", SOCKET_FAULTS, ids=[f[0] for f in SOCKET_FAULTS])
def test_order_listing_fault_over_a_real_socket(
    conn, live_server, monkeypatch, settings, name, fault, error, transient, tries
):
    monkeypatch.setattr(order_download, "PAGE_SIZE", 2)  # 4 orders = two full pages, so paging matters
    if fault == "stall":
        settings.HUB_HTTP_TIMEOUT = (TIMEOUTS[0], STALL_READ_TIMEOUT)
    with FaultProxy(live_server.url, stall_seconds=2 * STALL_READ_TIMEOUT) as proxy:
        type(conn).objects.filter(pk=conn.pk).update(base_url=proxy.url + OM, auth_base_url=proxy.url + OM)
        conn.refresh_from_db()
        proxy.rule = lambda method, path, query: (
            fault
            if method == "GET"
            and path.endswith(LISTING)
            and "orderId=" not in query
            and (fault != "repeat_page" or "page=2" in query)
            else None
        )
        run = run_job(conn, Job.ORDER_DOWNLOAD)
        assert proxy.hits[fault] >= 1
        assert run.status == SyncRun.Status.FAILED
        assert error in run.error, run.error
        assert ("temporary; the next run retries" in run.error) == transient
        assert len(attempts(run, "GET", LISTING)) == tries, run.calls
        if fault == "repeat_page":
            # The first page was stored; nothing was sent: a run that fails while listing sends nothing.
            assert OrderRecord.objects.count() == 2
        else:
            assert OrderRecord.objects.count() == 0
        assert status(SLUG)["warehouse_manager"]["orders_total"] == 0
        if fault == "401":
            conn.refresh_from_db()
            assert conn.credentials_rejected_at is not None
            conn.clear_circuit()

        proxy.rule = None
        cleared = run_job(conn, Job.ORDER_DOWNLOAD)
    assert cleared.status == SyncRun.Status.SUCCEEDED, cleared.error
    assert_all_at_wms_exactly_once(conn)


def test_connect_timeout_over_a_real_socket(conn, live_server, settings):
    settings.HUB_HTTP_TIMEOUT = (0.3, TIMEOUTS[1])
    hole = BlackHole()
    try:
        type(conn).objects.filter(pk=conn.pk).update(base_url=hole.url + OM, auth_base_url=hole.url + OM)
        conn.refresh_from_db()
        run = run_job(conn, Job.ORDER_DOWNLOAD)
    finally:
        hole.close()
    assert run.status == SyncRun.Status.FAILED
    assert "Timed out connecting to Order Manager at 127.0.0.1" in run.error, run.error
    assert "temporary; the next run retries" in run.error
    assert len(attempts(run, "GET", "/v1/throttlelimits")) == 4  # connect errors are retried
    type(conn).objects.filter(pk=conn.pk).update(base_url=live_server.url + OM, auth_base_url=live_server.url + OM)
    conn.refresh_from_db()
    assert run_job(conn, Job.ORDER_DOWNLOAD).status == SyncRun.Status.SUCCEEDED
    assert_all_at_wms_exactly_once(conn)


# ------------------------------------------------------------------ job-specific faults


def test_inventory_one_negative_wms_quantity_fails_that_sku_only(wms):
    """Negative stock for one SKU at the WMS: that SKU gets a FAILED line, the others are written."""
    wms_sandboxes.set_wms_available(wms, "SKU-4", -3)
    run = run_job(wms.connection, Job.INVENTORY_SYNC)
    assert run.status == SyncRun.Status.PARTIAL, run.error
    bad = InventoryLine.objects.get(run=run, sku="SKU-4")
    assert bad.result == InventoryLine.Result.FAILED and bad.on_hand_written is None
    assert wms_sandboxes.UNUSABLE_STOCK_WORDS[wms.system].format(sku="SKU-4", value=-3) in bad.message, bad.message
    others = InventoryLine.objects.filter(run=run).exclude(sku="SKU-4")
    assert others.count() == 4 and not others.filter(result=InventoryLine.Result.FAILED).exists()
    om_stock, wms_stock = wms.order_manager()["stock"], wms_sandboxes.stock_available(wms)
    for line in others.filter(result__in=[InventoryLine.Result.UPDATED, InventoryLine.Result.UNCHANGED]):
        assert om_stock[line.sku]["on_hand"] == wms_stock[line.sku] + om_stock[line.sku]["locked"]


def test_shipment_confirmation_500_on_the_put_is_not_resent_blindly(conn, live_server):
    """A 500 on PUT /v1.1/shipment/external (it creates shipments) is not retried by the HTTP layer;
    the numbers stay in flight and the next run checks Order Manager before sending again."""
    from connectors.sandbox.control import order_events

    run_job(conn, Job.ORDER_DOWNLOAD)
    _, wms = accounts(SLUG)
    order_events.ship(wms, seed=3)
    put = f"{live_server.url}{OM}/v1.1/shipment/external"
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.add_passthru(live_server.url)
        rsps.add(responses.PUT, put, status=500, json={"message": "boom"})
        run = run_job(conn, Job.SHIPMENT_CONFIRMATION)
    assert run.status == SyncRun.Status.PARTIAL, run.error
    assert len(attempts(run, "PUT", "/shipment/external")) == 1
    shipped = OrderRecord.objects.filter(status=OrderRecord.Status.SHIPPED)
    assert shipped.count() == ORDERS
    assert all(r.tracking_in_flight for r in shipped)
    assert all("HTTP 500" in r.last_error for r in shipped)
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=7)):
        again = run_job(conn, Job.SHIPMENT_CONFIRMATION)
    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    assert OrderRecord.objects.filter(status=OrderRecord.Status.CONFIRMED).count() == ORDERS
    shipments = status(SLUG)["order_manager"]["shipments"]
    assert shipments["count"] == ORDERS and shipments["duplicates"] == 0


# ------------------------------------------------------------------ malformed answers to writes


def test_malformed_answer_to_the_tracking_put_is_not_resent(conn):
    """Order Manager recorded the shipments but its answer came back truncated: the numbers stay in
    flight, so the next run checks Order Manager instead of sending them again (no duplicates)."""
    from connectors.sandbox.control import fault_setup, order_events

    run_job(conn, Job.ORDER_DOWNLOAD)
    om, wms = accounts(SLUG)
    order_events.ship(wms, seed=4)
    fault_setup.configure_faults(om_account=om, malformed_rate=1.0, seed=1)
    run = run_job(conn, Job.SHIPMENT_CONFIRMATION)
    fault_setup.configure_faults(om_account=om, clear=True)
    assert run.status == SyncRun.Status.PARTIAL, run.error
    assert status(SLUG)["order_manager"]["shipments"]["count"] == ORDERS  # it did reach Order Manager
    for record in OrderRecord.objects.filter(status=OrderRecord.Status.SHIPPED):
        assert record.tracking_in_flight and "invalid JSON" in record.last_error
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=7)):
        again = run_job(conn, Job.SHIPMENT_CONFIRMATION)
    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    assert not attempts(again, "PUT", "/shipment/external")  # found in Order Manager: not sent again
    assert OrderRecord.objects.filter(status=OrderRecord.Status.CONFIRMED).count() == ORDERS
    shipments = status(SLUG)["order_manager"]["shipments"]
    assert shipments["count"] == ORDERS and shipments["duplicates"] == 0


def test_malformed_answer_to_the_wms_create_is_retried_and_linked(wms, live_server):
    """The WMS created the order but its answer came back truncated: the outcome is unknown, so the
    order is retried (looked up first and linked), not held as rejected while it sits at the WMS."""

    def truncated(request):
        status, headers, body = wms_sandboxes.forward(live_server, request)  # the WMS does create it
        return status, headers, body[: len(body) // 2]

    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.add_passthru(live_server.url)
        rsps.add_callback(**wms_sandboxes.wms_create_match(live_server, wms.system), callback=truncated)
        first = run_job(wms.connection, Job.ORDER_DOWNLOAD)
    assert sum(wms.orders_per_reference().values()) >= 1
    failed = OrderRecord.objects.filter(status=OrderRecord.Status.ERROR)
    assert failed.exists()
    for record in failed:
        assert not record.error_permanent and record.next_retry_at is not None, record.last_error
        assert "invalid JSON" in record.last_error
    assert first.status == SyncRun.Status.PARTIAL
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5)):
        again = run_job(wms.connection, Job.ORDER_DOWNLOAD)
    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    assert_all_at_the_wms_exactly_once(wms)
    assert OrderRecord.objects.filter(events__kind=OrderEvent.Kind.LINKED_AT_WMS).distinct().count() >= 1


# ------------------------------------------------------------------ ShipHero's own taxonomy (GraphQL answers)


@pytest.fixture
def shiphero(live_server, settings, waits) -> wms_sandboxes.SandboxTenant:
    settings.HUB_HTTP_TIMEOUT = TIMEOUTS
    return wms_sandboxes.tenant(live_server, SLUG, wms_sandboxes.SHIPHERO, orders=ORDERS, skus=5)


def test_shiphero_out_of_credits_mid_run_is_waited_for_and_retried(shiphero, live_server):
    """A GraphQL code-30 answer (not enough credits) to a create is a wait, not a failure: the
    mutation was not run, so it is sent again after the announced time and no order fails."""
    throttled = []

    def once_out_of_credits(request):
        if not throttled:
            throttled.append(request)
            error = {
                "message": "There are not enough credits to perform the requested operation",
                "code": 30,
                "required_credits": 31,
                "remaining_credits": 0,
                "time_remaining": "1 seconds",
            }
            return 200, {"Content-Type": "application/json"}, json.dumps({"errors": [error], "data": None}).encode()
        return wms_sandboxes.forward(live_server, request)

    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.add_passthru(live_server.url)
        create = rsps.add_callback(
            **wms_sandboxes.wms_create_match(live_server, shiphero.system), callback=once_out_of_credits
        )
        began = time.monotonic()
        run = run_job(shiphero.connection, Job.ORDER_DOWNLOAD)
        took = time.monotonic() - began
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert took >= 0.9  # the announced "1 seconds" was waited before sending again
    assert len(throttled) == 1 and create.call_count == ORDERS + 1
    assert not OrderEvent.objects.filter(kind=OrderEvent.Kind.SEND_FAILED).exists()
    assert state(shiphero.connection).consecutive_failures == 0
    assert_all_at_the_wms_exactly_once(shiphero)


def test_shiphero_refusing_the_document_by_its_schema_is_permanent_and_loud(shiphero, monkeypatch):
    """A create document the (real) schema refuses fails the same way every time: each order is a
    permanent error naming the schema, never retried as if ShipHero were down, nothing is created."""
    from graphql import parse

    from connectors.shiphero import operations

    text = operations.CREATE_ORDER.text.replace("request_id", "request_id no_such_field", 1)
    refused = operations.Operation("CreateOrder", text, parse(text), True, "order_create")
    monkeypatch.setattr(operations, "CREATE_ORDER", refused)
    run = run_job(shiphero.connection, Job.ORDER_DOWNLOAD)
    assert run.status in (SyncRun.Status.PARTIAL, SyncRun.Status.FAILED), run.error
    assert run.failed == ORDERS
    assert "Stopped sending" not in (run.error or "")  # not taken for an outage: every order tried
    failed = OrderRecord.objects.filter(status=OrderRecord.Status.ERROR)
    assert failed.count() == ORDERS
    for record in failed:
        assert record.error_permanent and record.next_retry_at is None, record.last_error
        assert "refused the query" in record.last_error and "no_such_field" in record.last_error
    assert sum(shiphero.orders_per_reference().values()) == 0
    # Loud: each held order is an open alert for the operator (the run itself ends PARTIAL).
    open_alerts = Alert.objects.filter(connection=shiphero.connection, cause=Alert.Cause.ORDER_ERROR, cleared_at=None)
    assert open_alerts.count() == ORDERS
