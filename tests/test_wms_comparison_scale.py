"""Reconciliation's WMS-side comparisons (`hub.jobs.wms_comparison`) at the size of a real window,
thousands of confirmed orders (found by benchmarks/bench_reconciliation.py):

- Order Manager is read by id with the ids in the query string, so each call's request line must
  stay within what common servers accept (gunicorn 4 KB, Tomcat 8 KB: HTTP 414 past it), as Order
  Download's `sendtofulfillment` batches do. Stubbed at the client seam with `responses`, answering
  414 as gunicorn does past its limit (1,000 ids a call were answered 414 by the sandbox).
- The hub's records of the window's WMS orders are compared, never their stored order bodies
  (`source`, `wms_payload`, `lines`: the largest columns): a run must not read them for every
  order of the window (it read them twice, once per kind). Over a real socket (live_server).
"""

import datetime
import json
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
import time_machine
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from connectors.order_manager.client import OrderManagerClient
from connectors.sandbox.control import order_events
from hub.engine.runner import run_job
from hub.jobs import wms_comparison
from hub.models import Finding, Job, OrderRecord, SyncRun
from tests.sandbox_helpers import accounts, sandbox_tenant

BASE = "http://127.0.0.1:9/sandbox/order-manager"
GUNICORN_LIMIT_REQUEST_LINE = 4094  # gunicorn's default `limit_request_line`


def answer(request):
    line = f"{request.method} {urlsplit(request.url).path}?{urlsplit(request.url).query} HTTP/1.1"
    if len(line) > GUNICORN_LIMIT_REQUEST_LINE:
        return 414, {}, "Request-URI Too Long"
    ids = parse_qs(urlsplit(request.url).query)["orderId"]
    body = [{"orderId": int(i), "orderNumber": f"SO-{i}", "orderStatus": "SHIPPED", "shipments": []} for i in ids]
    return 200, {"Content-Type": "application/json"}, json.dumps(body)


@responses.activate
def test_a_window_of_confirmed_orders_is_read_by_id_in_calls_every_server_accepts():
    responses.add_callback("GET", f"{BASE}/v1.1/orders", callback=answer)
    errors = []
    client = OrderManagerClient(BASE, access_token="t", backoff_factor=0)
    ctx = SimpleNamespace(order_manager=client, note_error=errors.append)
    ids = [9_000_000_000 + n for n in range(1_000)]  # ten-digit ids, as a real account's grow to

    states = wms_comparison.om_states(ctx, ids)

    assert errors == [] and states is not None, errors
    assert sorted(states) == ids
    assert all(call.response.status_code == 200 for call in responses.calls)


@pytest.mark.django_db(transaction=True)
def test_a_run_compares_the_window_without_reading_the_stored_order_bodies(live_server):
    connection = sandbox_tenant(live_server, "bodies", orders=4, skus=3)
    assert run_job(connection, Job.ORDER_DOWNLOAD).status == SyncRun.Status.SUCCEEDED
    order_events.ship(accounts("bodies")[1])
    assert run_job(connection, Job.SHIPMENT_CONFIRMATION).status == SyncRun.Status.SUCCEEDED
    assert OrderRecord.objects.filter(connection=connection, status=OrderRecord.Status.CONFIRMED).count() == 4

    with time_machine.travel(timezone.now() + datetime.timedelta(hours=1)), CaptureQueriesContext(db) as queries:
        done = run_job(connection, Job.RECONCILIATION)
    assert done.status == SyncRun.Status.SUCCEEDED, done.error
    assert done.fetched >= 4  # the WMS orders of the window were read and compared
    assert not Finding.objects.filter(connection=connection).exists()
    bodies = [q["sql"] for q in queries.captured_queries if '"hub_orderrecord"."wms_payload"' in q["sql"]]
    assert bodies == [], bodies
