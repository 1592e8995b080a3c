"""Answer times of the sandbox (connectors.sandbox.latency): endpoint groups, bounds, seeded jitter,
waiting without a database connection, and 8+ slow calls served at once over a real socket."""

import base64
import json
import threading
import time

import pytest
import requests
from django.db import connection, connections

from connectors.sandbox import latency
from connectors.sandbox import urls as sandbox_urls
from connectors.sandbox.control import account_setup, fault_setup, seeding
from connectors.sandbox.models import FaultConfig, WmsOrder
from tests.sandbox_helpers import om_install_token

OM = "/sandbox/order-manager"
WMS = "/sandbox/warehouse-manager"


# ------------------------------------------------------------------ endpoint groups

WMS_ENDPOINTS = {
    ("wms-token", "POST"): "token",
    ("wms-orders", "POST"): "create",
    ("wms-orders", "GET"): "read",
    ("wms-order", "GET"): "read",
    ("wms-canceler", "POST"): "cancel",
    ("wms-stock-summaries", "GET"): "stock",
    ("wms-customer-items", "GET"): "stock",
}
OM_ENDPOINTS = {
    ("om-token", "POST"): "token",
    ("om-warehouses", "GET"): "read",
    ("om-orders", "GET"): "read",
    ("om-order", "GET"): "read",
    ("om-send-to-fulfillment", "POST"): "write",
    ("om-external-shipment", "PUT"): "write",
    ("om-stock-totals", "GET"): "read",
    ("om-inventory", "GET"): "read",
    ("om-inventory-adjust", "POST"): "write",
    ("om-throttle-limits", "GET"): "read",
}


def test_every_sandbox_endpoint_has_its_group():
    """A new sandbox URL fails here until it is given a group (or, like the install page, none)."""
    # The webhook key is published by the event service, not answered by the customer's API: no group.
    assert {p.name for p in sandbox_urls.warehouse_manager} == {name for name, _ in WMS_ENDPOINTS} | {"wms-webhook-key"}
    assert {p.name for p in sandbox_urls.order_manager} == {name for name, _ in OM_ENDPOINTS} | {"om-authorize"}
    for (name, method), group in WMS_ENDPOINTS.items():
        assert latency.endpoint_group("wms", name, method) == group, name
        assert group in latency.WMS_GROUPS
    for (name, method), group in OM_ENDPOINTS.items():
        assert latency.endpoint_group("om", name, method) == group, name
        assert group in latency.OM_GROUPS
    assert latency.endpoint_group("om", "om-authorize", "POST") is None
    assert latency.endpoint_group("wms", "wms-webhook-key", "GET") is None
    assert latency.endpoint_group("wms", "wms-orders", "DELETE") is None  # answered 405, no group
    assert latency.endpoint_group("wms", None, "GET") is None


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    "side, value",
    [
        ("wms", {"create": [-1, 0]}),
        ("wms", {"create": [100, -5]}),
        ("wms", {"create": [100, 150]}),  # jitter above the latency
        ("wms", {"create": [30_000, 1]}),  # above the 30 s bound in all
        ("wms", {"create": [250.5, 0]}),  # whole milliseconds
        ("wms", {"create": [250]}),
        ("wms", {"create": "250"}),
        ("wms", {"create": [True, 0]}),
        ("wms", {"write": [100, 0]}),  # an Order Manager group
        ("om", {"create": [100, 0]}),  # a WMS group
        ("om", [100, 0]),
    ],
)
def test_answer_times_out_of_bounds_are_refused(side, value):
    with pytest.raises(ValueError):
        latency.validate_latency(side, value)


def test_answer_times_are_normalised():
    assert latency.validate_latency("wms", {"create": (250, 100), "read": [0, 0], "stock": [30_000, 0]}) == {
        "create": [250, 100],
        "stock": [30_000, 0],
    }
    assert latency.validate_latency("om", None) == {} == latency.validate_latency("om", "")


# ------------------------------------------------------------------ seeded jitter


def _config(latency_value, seed=7):
    return FaultConfig(latency=latency_value, seed=seed)


def test_answer_times_stay_within_latency_plus_or_minus_jitter_and_repeat_with_the_seed():
    config = _config({"create": [250, 100], "read": [40, 0]})
    first = [latency.answer_time("wms", 1, config, "create") for _ in range(200)]
    assert all(0.150 <= t <= 0.350 for t in first)
    assert max(first) - min(first) > 0.15  # really spread over the range, not one value
    assert abs(sum(first) / len(first) - 0.250) < 0.02
    latency.reset()
    assert [latency.answer_time("wms", 1, config, "create") for _ in range(200)] == first
    latency.reset()
    other_seed = [latency.answer_time("wms", 1, _config({"create": [250, 100]}, seed=8), "create") for _ in range(5)]
    assert other_seed != first[:5]
    assert latency.answer_time("wms", 1, config, "read") == 0.040  # no jitter: exactly the latency
    assert latency.answer_time("wms", 1, config, "stock") == 0.0  # a group without latency
    assert latency.answer_time("wms", 1, None, "create") == 0.0
    assert latency.answer_time("wms", 1, config, None) == 0.0


# ------------------------------------------------------------------ no connection held while waiting


def _watch_close_and_sleep(monkeypatch):
    events = []
    default = connections["default"]
    real_close = default.close

    def close():
        events.append(f"close {default.alias}")
        return real_close()

    monkeypatch.setattr(default, "close", close)
    monkeypatch.setattr(latency, "sleep", lambda seconds: events.append(f"sleep {seconds}"))
    return events


@pytest.mark.django_db(transaction=True)
def test_the_wait_closes_the_threads_connections_before_sleeping(monkeypatch):
    FaultConfig.objects.count()  # the connection is open, outside any transaction
    events = _watch_close_and_sleep(monkeypatch)
    latency.wait(0.25)
    assert events == ["close default", "sleep 0.25"]
    latency.wait(0)
    assert events == ["close default", "sleep 0.25"]  # no answer time: nothing closed, no sleep


def test_the_wait_leaves_a_connection_inside_a_transaction_alone(db, monkeypatch):
    """Closing inside an atomic block would roll it back (here: the test's own transaction)."""
    account_setup.ensure_om_account("acme@sandbox", "pw", warehouse_name="W")
    events = _watch_close_and_sleep(monkeypatch)
    latency.wait(0.1)
    assert events == ["sleep 0.1"]
    assert connection.in_atomic_block


# ------------------------------------------------------------------ through the views (test client)


@pytest.fixture
def accounts(db):
    om = account_setup.ensure_om_account("acme@sandbox", "pw", warehouse_name="Main 3PL")
    wms = account_setup.ensure_wms_account("acme-wms", "secret", customer_id=7, facility_id=3, user_login="acme")
    seeding.seed(om, wms, orders=2, skus=4, seed=5)
    return om, wms


def _wms_token(post):
    return post(
        f"{WMS}/AuthServer/api/Token",
        json.dumps({"grant_type": "client_credentials", "user_login": "acme"}),
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"acme-wms:secret").decode(),
    )


def _timed(do):
    started = time.monotonic()
    response = do()
    return response, time.monotonic() - started


def test_each_group_waits_its_own_time_and_faults_keep_their_rules(client, accounts):
    om, wms = accounts
    token = _wms_token(client.post).json()["access_token"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    fault_setup.configure_faults(wms_account=wms, latency={"stock": [300, 0]})
    read, read_time = _timed(lambda: client.get(f"{WMS}/orders", **auth))
    stock, stock_time = _timed(lambda: client.get(f"{WMS}/inventory/stocksummaries", **auth))
    assert read.status_code == stock.status_code == 200
    assert stock_time >= 0.3 and read_time < 0.2
    # An injected 500 takes the answer time too; a 429 (refused at the front door) does not.
    fault_setup.configure_faults(wms_account=wms, rate_500=1.0)
    failed, failed_time = _timed(lambda: client.get(f"{WMS}/inventory/stocksummaries", **auth))
    assert failed.status_code == 500 and failed_time >= 0.3
    fault_setup.configure_faults(wms_account=wms, rate_500=0.0, rate_429=1.0)
    limited, limited_time = _timed(lambda: client.get(f"{WMS}/inventory/stocksummaries", **auth))
    assert limited.status_code == 429 and limited_time < 0.2


def test_the_token_group_waits_even_where_token_faults_are_off(client, accounts):
    om, wms = accounts
    fault_setup.configure_faults(wms_account=wms, rate_500=1.0, latency={"token": [250, 0]})
    fault_setup.configure_faults(om_account=om, rate_500=1.0, latency={"token": [250, 0]})
    wms_token, wms_time = _timed(lambda: _wms_token(client.post))
    assert wms_token.status_code == 200 and wms_time >= 0.25  # faults spared, answer time kept
    om_token, om_time = _timed(lambda: om_install_token(client, "acme@sandbox", "pw"))
    assert om_token.status_code == 200 and om_time >= 0.25


def test_latency_leaves_the_sequence_of_faults_of_a_seed_as_it_was(client, accounts):
    om, _ = accounts
    token = om_install_token(client, "acme@sandbox", "pw").json()["access_token"]

    def statuses(answer_times):
        fault_setup.configure_faults(om_account=om, rate_500=0.5, seed=1234, latency=answer_times)
        return [client.get(f"{OM}/v1.1/orders", HTTP_AUTHORIZATION=f"Bearer {token}").status_code for _ in range(10)]

    plain = statuses({})
    assert {200, 500} <= set(plain)
    assert statuses({"read": [20, 10]}) == plain


# ------------------------------------------------------------------ over a real socket (live server)


def _order(reference):
    return {
        "customerIdentifier": {"id": 7},
        "facilityIdentifier": {"id": 3},
        "referenceNum": reference,
        "shipTo": {"name": "Ada", "address1": "1 Main St", "city": "Springfield", "zip": "62701", "country": "US"},
        "orderItems": [{"itemIdentifier": {"sku": "SKU-1"}, "qty": 1}],
    }


@pytest.fixture
def live_wms(live_server):
    """The sandbox WMS of one seeded account over a real socket: (base URL, bearer headers, account)."""
    om = account_setup.ensure_om_account("acme@sandbox", "pw", warehouse_name="Main 3PL")
    wms = account_setup.ensure_wms_account("acme-wms", "secret", customer_id=7, facility_id=3, user_login="acme")
    seeding.seed(om, wms, orders=0, skus=3, seed=5)
    base = f"{live_server.url}{WMS}"
    answer = requests.post(
        f"{base}/AuthServer/api/Token",
        json={"grant_type": "client_credentials", "user_login": "acme"},
        auth=("acme-wms", "secret"),
        timeout=10,
    )
    headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    return base, headers, wms


class SleepWatch:
    """Counts the answers now waiting their answer time (the live server runs in this process)."""

    def __init__(self, monkeypatch):
        self.waiting = self.started = 0
        self.changed = threading.Condition()
        real_sleep = latency.sleep

        def sleep(seconds):
            with self.changed:
                self.waiting += 1
                self.started += 1
                self.changed.notify_all()
            try:
                real_sleep(seconds)
            finally:
                with self.changed:
                    self.waiting -= 1

        monkeypatch.setattr(latency, "sleep", sleep)

    def until_started(self, count, timeout=10.0) -> bool:
        """Wait until `count` answers have started their wait (some may be done since)."""
        with self.changed:
            return self.changed.wait_for(lambda: self.started >= count, timeout)


def _slow_creates(base, headers, count, watch: SleepWatch):
    """`count` order creates, each from its own thread and connection, each started once the one
    before is waiting its answer time: their database work never overlaps (the live server's
    threads share one in-memory SQLite connection, where overlapping writes and reads can fail
    with "table is locked"), their waits all do. The threads, and a dict filled with each one's
    (status, started, finished)."""
    done: dict = {}

    def create(k):
        started = time.monotonic()
        status = requests.post(f"{base}/orders", json=_order(f"LAT-{k}"), headers=headers, timeout=20).status_code
        done[k] = (status, started, time.monotonic())

    threads = []
    for k in range(count):
        threads.append(threading.Thread(target=create, args=(k,)))
        threads[-1].start()
        assert watch.until_started(k + 1), f"create {k} never reached its wait"
    return threads, done


@pytest.mark.django_db(transaction=True)
def test_eight_slow_creates_are_answered_at_once_and_a_read_is_not_held_up(live_wms, monkeypatch):
    base, headers, wms = live_wms
    # 700 ms: room for the eight creates' database work one after the other on a loaded machine.
    fault_setup.configure_faults(wms_account=wms, latency={"create": [700, 0]})
    watch = SleepWatch(monkeypatch)
    started = time.monotonic()
    threads, done = _slow_creates(base, headers, 8, watch)
    waiting_at_read = watch.waiting
    read, read_time = _timed(lambda: requests.get(f"{base}/orders", headers=headers, timeout=10))
    read_done = time.monotonic()
    for thread in threads:
        thread.join(20)
    wall = time.monotonic() - started
    timeline = {k: (round(b - started, 3), round(f - started, 3)) for k, (_, b, f) in done.items()}
    assert read.status_code == 200 and read.json()["TotalResults"] == 8
    assert read_time < 0.3, read_time  # served at once, by a thread of its own
    # The read passed all eight while they waited.
    assert waiting_at_read == 8
    assert all(finished > read_done for _, _, finished in done.values()), (round(read_done - started, 3), timeline)
    assert sorted(status for status, _, _ in done.values()) == [201] * 8
    assert all(finished - began >= 0.7 for _, began, finished in done.values())
    assert wall < 2.0, timeline  # one after the other they would take 8 x 700 ms = 5.6 s
    assert WmsOrder.objects.filter(account=wms).count() == 8


@pytest.mark.django_db(transaction=True)
def test_answer_times_over_the_socket_are_the_seeded_draws(live_wms):
    base, headers, wms = live_wms
    config = fault_setup.configure_faults(wms_account=wms, latency={"read": [300, 100]}, seed=42)
    times = [_timed(lambda: requests.get(f"{base}/orders", headers=headers, timeout=10))[1] for _ in range(6)]
    latency.reset()
    expected = [latency.answer_time("wms", wms.pk, config, "read") for _ in range(6)]
    assert all(0.2 <= t <= 0.4 for t in expected)
    for measured, drawn in zip(times, expected):
        assert drawn <= measured < drawn + 0.2  # the drawn wait, once, plus a loaded machine's GET


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_waiting_answers_hold_no_database_connection(live_wms, monkeypatch):
    """On PostgreSQL each live-server thread has a connection of its own: while eight creates wait
    their answer time, none of them holds one (without the release: eight)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... (.ci/run does)")
    base, headers, wms = live_wms
    fault_setup.configure_faults(wms_account=wms, latency={"create": [1500, 0]})
    # Sessions open before the creates (the set-up's own requests: a finished live-server thread's
    # connection stays open until it is collected) are not held by a waiting answer.
    before = {pid for pid, _, _ in _client_sessions()}
    watch = SleepWatch(monkeypatch)
    threads, done = _slow_creates(base, headers, 8, watch)
    assert watch.waiting == 8
    held = [session for session in _client_sessions() if session[0] not in before]
    for thread in threads:
        thread.join(20)
    assert WmsOrder.objects.filter(account=wms).count() == 8
    assert not any(finished - began < 1.5 for _, began, finished in done.values())
    assert held == []


def _client_sessions() -> list[tuple]:
    """(pid, state, last query) of the other client sessions on the test database. Client sessions
    only: an autovacuum worker on the test database is no one's connection."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, state, query FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        return cursor.fetchall()
