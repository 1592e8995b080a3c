"""tenants.wms_limits: one pyrate-limiter bucket per WMS login, shared by clients, warehouses and
processes, at the lowest rate of the warehouses sharing the login; bounded waits; a failing store
raises a transient error instead of letting calls through."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import uuid

import pytest
from django.db import connection as db_connection

from connectors.errors import TransientError
from tenants import wms_limits
from tenants.wms_limits import AccountLimiter, RateLimitStoreUnavailable, RateLimitWaitTooLong, Store
from tests import factories

REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def unique_key():
    return f"wms_test_{uuid.uuid4().hex[:16]}"


@pytest.fixture
def sqlite_store(tmp_path):
    return Store("sqlite", "SQLite file (test)", str(tmp_path / "limits.sqlite3"))


@pytest.fixture
def redis_store():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL} ({exc})")
    return Store("redis", "Redis (test)", REDIS_URL)


def stamps_of(limiters, calls_each):
    """Call acquire() from one thread per limiter; the times each call was let through."""
    stamps, lock = [], threading.Lock()

    def run(limiter):
        for _ in range(calls_each):
            limiter.acquire()
            with lock:
                stamps.append(time.monotonic())

    errors: list[BaseException] = []

    def guarded(limiter):
        try:
            run(limiter)
        except BaseException as exc:  # a thread's failure must fail the test with its reason
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return sorted(stamps)


def assert_held_at_20_a_second(stamps, started):
    # 40 calls at 20/s (20 per sliding second): 20 at once, the next 20 a second later. Counted
    # before a deadline, not in a sliding window: a thread stamps its time after acquire() returns,
    # and under load (2 cores, a full suite beside it) a stamp of the first 20 came 0.25 s late and
    # shared a window with the next 20. Lateness only moves stamps later, so at most 20 stamps
    # before `started` + 0.95 s holds whatever the load, and it fails for a limiter letting more through.
    assert len(stamps) == 40
    assert sum(stamp < started + 0.95 for stamp in stamps) <= 20
    assert 1.0 <= stamps[-1] - started < 1.6


# -- key and rate ---------------------------------------------------------------------------
def test_key_is_a_hash_of_host_client_and_login_and_names_no_secret():
    key = wms_limits.account_key("https://Secure-WMS.com/api", "client-7", "integration")
    assert key == wms_limits.account_key("https://secure-wms.com", "client-7", "integration")
    assert key != wms_limits.account_key("https://secure-wms.com:8443", "client-7", "integration")
    assert key != wms_limits.account_key("https://secure-wms.com", "client-8", "integration")
    assert key != wms_limits.account_key("https://secure-wms.com", "client-7", "other")
    assert "client-7" not in key and "integration" not in key and "secure" not in key
    assert key.startswith("wms_") and len(key) == 36


def test_two_systems_never_share_a_bucket_even_with_the_same_identity():
    threepl = wms_limits.account_key("https://wms.example.com", "same", "same")
    assert threepl == wms_limits.account_key("https://wms.example.com", "same", "same", system="3pl_warehouse_manager")
    assert threepl != wms_limits.account_key("https://wms.example.com", "same", "same", system="shiphero")


@pytest.mark.django_db
def test_a_shiphero_account_is_its_refresh_token_and_customer_account_never_in_clear(shiphero_system):
    first = factories.ShipHeroWarehouseFactory(shiphero_refresh_token="tok-A", wms_requests_per_second=10)
    same = factories.ShipHeroWarehouseFactory(shiphero_refresh_token="tok-A", wms_requests_per_second=3)
    for_customer = factories.ShipHeroWarehouseFactory(
        shiphero_refresh_token="tok-A", shiphero_customer_account_id="Q3VzdG9tZXI6MQ==", wms_requests_per_second=1
    )
    other = factories.ShipHeroWarehouseFactory(shiphero_refresh_token="tok-B", wms_requests_per_second=0.5)
    # A 3PL warehouse whose identity fields happen to read the same shares nothing with ShipHero.
    threepl = factories.WarehouseFactory(wms_base_url=first.wms_base_url, client_id="", user_login="")
    keys = {w.pk: wms_limits.account_key_of(w) for w in (first, same, for_customer, other, threepl)}
    assert keys[first.pk] == keys[same.pk]
    assert len({keys[first.pk], keys[for_customer.pk], keys[other.pk], keys[threepl.pk]}) == 4
    assert all("tok-" not in key for key in keys.values())
    assert wms_limits.account_rate(first) == 3  # the lowest of the two on token A without a customer
    assert wms_limits.account_rate(for_customer) == 1
    assert wms_limits.account_rate(other) == 0.5
    assert wms_limits.limiter_for_warehouse(first) is wms_limits.limiter_for_warehouse(same)
    assert wms_limits.limiter_for_warehouse(first) is not wms_limits.limiter_for_warehouse(other)


@pytest.mark.django_db
def test_lowest_rate_of_the_warehouses_sharing_the_login_wins():
    first = factories.WarehouseFactory(client_id="shared", user_login="api", wms_requests_per_second=10)
    factories.WarehouseFactory(client_id="shared", user_login="api", wms_requests_per_second=2.5)
    other_host = factories.WarehouseFactory(
        client_id="shared", user_login="api", wms_base_url="https://other.example.com", wms_requests_per_second=1
    )
    other_login = factories.WarehouseFactory(client_id="shared", user_login="else", wms_requests_per_second=0.5)
    assert wms_limits.account_rate(first) == 2.5
    assert wms_limits.account_rate(other_host) == 1
    assert wms_limits.account_rate(other_login) == 0.5
    first.wms_requests_per_second = 2  # edited, not yet saved
    assert wms_limits.account_rate(first) == 2


@pytest.mark.parametrize(
    ("rps", "limit", "interval_ms"), [(10, 10, 1000), (20, 20, 1000), (2.5, 2, 800), (0.5, 1, 2000), (0.3, 1, 3334)]
)
def test_window_rate(rps, limit, interval_ms):
    rate = wms_limits.window_rate(rps)
    assert (rate.limit, rate.interval) == (limit, interval_ms)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "fast", None])
def test_window_rate_refuses_what_is_not_a_positive_number(bad):
    with pytest.raises(wms_limits.PermanentError, match="positive number"):
        wms_limits.window_rate(bad)


# -- sharing --------------------------------------------------------------------------------
def test_two_workers_share_one_bucket_on_the_sqlite_file(sqlite_store):
    key = unique_key()
    workers = [AccountLimiter(key, 20, sqlite_store, max_wait=5) for _ in range(2)]
    started = time.monotonic()
    assert_held_at_20_a_second(stamps_of(workers + workers, 10), started)


def test_different_logins_do_not_share(sqlite_store):
    one, two = (AccountLimiter(unique_key(), 5, sqlite_store, max_wait=5) for _ in range(2))
    started = time.monotonic()
    for _ in range(5):
        one.acquire()
        two.acquire()
    assert time.monotonic() - started < 0.5  # each had its own 5 a second
    with pytest.raises(RateLimitWaitTooLong):
        AccountLimiter(one.key, 5, sqlite_store, max_wait=0.2).acquire()  # but the first is spent


@pytest.mark.django_db
def test_warehouses_with_one_login_get_one_limiter_and_other_logins_another(settings, tmp_path):
    settings.REDIS_URL = ""
    settings.HUB_WMS_LIMITS_SQLITE_PATH = str(tmp_path / "limits.sqlite3")
    if db_connection.vendor != "sqlite":
        pytest.skip("the SQLite file store is chosen on SQLite only")
    a = factories.WarehouseFactory(client_id="c-1", user_login="api", wms_requests_per_second=20)
    b = factories.WarehouseFactory(client_id="c-1", user_login="api", wms_requests_per_second=20)
    c = factories.WarehouseFactory(client_id="c-2", user_login="api", wms_requests_per_second=20)
    assert wms_limits.limiter_for_warehouse(a) is wms_limits.limiter_for_warehouse(b)
    assert wms_limits.limiter_for_warehouse(a) is not wms_limits.limiter_for_warehouse(c)
    assert wms_limits.limiter_for_warehouse(a).store.kind == "sqlite"
    b.wms_requests_per_second = 5
    b.save()
    assert wms_limits.limiter_for_warehouse(a).requests_per_second == 5


def test_the_lowest_rate_is_what_the_bucket_holds(sqlite_store):
    limiter = AccountLimiter(unique_key(), 20, sqlite_store, max_wait=0.3)
    limiter.set_rate(3)
    for _ in range(3):
        limiter.acquire()
    with pytest.raises(RateLimitWaitTooLong, match="3 requests a second"):
        limiter.acquire()


# -- bounds and failures --------------------------------------------------------------------
def test_a_wait_beyond_the_bound_raises_a_transient_error_naming_the_limit(sqlite_store):
    limiter = AccountLimiter(unique_key(), 2, sqlite_store, max_wait=0.25)
    limiter.acquire()
    limiter.acquire()
    started = time.monotonic()
    with pytest.raises(RateLimitWaitTooLong) as caught:
        limiter.acquire()
    assert 0.2 <= time.monotonic() - started < 0.6
    assert caught.value.transient and isinstance(caught.value, TransientError)
    assert "2 requests a second" in str(caught.value) and "0.25 s" in str(caught.value)


def test_redis_unreachable_is_a_transient_error_not_unlimited():
    store = Store("redis", "Redis at 127.0.0.1:1", "redis://127.0.0.1:1/0")
    limiter = AccountLimiter(unique_key(), 1000, store, max_wait=1)
    for _ in range(2):  # and again: a failed store is retried, never skipped
        with pytest.raises(RateLimitStoreUnavailable, match="Redis at 127.0.0.1:1") as caught:
            limiter.acquire()
        assert caught.value.transient


def test_an_unwritable_sqlite_file_is_a_transient_error(tmp_path):
    (tmp_path / "a-folder").mkdir()
    store = Store("sqlite", "SQLite file (a folder)", str(tmp_path / "a-folder"))
    with pytest.raises(RateLimitStoreUnavailable):
        AccountLimiter(unique_key(), 10, store, max_wait=1).acquire()


# -- across processes -----------------------------------------------------------------------
def _worker(store, key, calls, start_at, out):
    limiter = AccountLimiter(key, 20, store, max_wait=5)
    while time.time() < start_at:
        time.sleep(0.005)
    for _ in range(calls):
        limiter.acquire()
        out.put(time.time())
    limiter.close()


def run_two_processes(store):
    key = unique_key()
    context = multiprocessing.get_context("spawn" if os.name != "posix" else "fork")
    out = context.Queue()
    start_at = time.time() + 0.5
    workers = [context.Process(target=_worker, args=(store, key, 20, start_at, out)) for _ in range(2)]
    for worker in workers:
        worker.start()
    stamps = sorted(out.get(timeout=10) for _ in range(40))
    for worker in workers:
        worker.join(timeout=5)
        assert worker.exitcode == 0
    return stamps, start_at


def test_two_processes_share_the_sqlite_file(sqlite_store):
    stamps, started = run_two_processes(sqlite_store)
    assert_held_at_20_a_second(stamps, started)


def test_two_processes_share_redis(redis_store):
    stamps, started = run_two_processes(redis_store)
    assert_held_at_20_a_second(stamps, started)


def test_two_workers_share_redis(redis_store):
    key = unique_key()
    workers = [AccountLimiter(key, 20, redis_store, max_wait=5) for _ in range(2)]
    started = time.monotonic()
    assert_held_at_20_a_second(stamps_of(workers + workers, 10), started)


@pytest.mark.django_db(transaction=True)
def test_two_workers_share_the_postgresql_table(settings):
    if db_connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...); the SQLite path covers it otherwise")
    settings.REDIS_URL = ""
    store = wms_limits.current_store()
    assert store.kind == "postgres"
    key = unique_key()
    # A generous wait: under a full suite's load a PostgreSQL round trip can take seconds.
    workers = [AccountLimiter(key, 20, store, max_wait=30) for _ in range(2)]
    started = time.monotonic()
    assert_held_at_20_a_second(stamps_of(workers + workers, 10), started)
