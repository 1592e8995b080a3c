"""connectors.shiphero.credits: pacing by complexity credits on a fake clock (no real sleeping)."""

import threading

import pytest

from connectors.errors import RateLimited
from connectors.shiphero import credits


class FakeTime:
    def __init__(self):
        self.now = 100.0
        self.slept: list[float] = []
        self.lock = threading.Lock()

    def clock(self):
        return self.now

    def sleep(self, seconds):
        with self.lock:
            self.slept.append(seconds)
            self.now += seconds


def bucket(fake, **kw):
    options = dict(capacity=1000, refill_per_second=10, clock=fake.clock, sleep=fake.sleep)
    options.update(kw)
    return credits.CreditBucket(**options)


def test_a_full_bucket_does_not_wait_and_settles_to_the_reported_complexity():
    fake = FakeTime()
    b = bucket(fake)
    reserved = b.acquire("Orders")
    assert reserved == credits.FIRST_ESTIMATE and fake.slept == []
    b.settle("Orders", reserved, 300)
    assert b.credits == pytest.approx(700)
    assert b.estimate("Orders") == 300, "the next call is expected to cost what this one did"


def test_an_empty_bucket_waits_for_the_refill():
    fake = FakeTime()
    b = bucket(fake, max_wait=120)
    b.settle("Big", b.acquire("Big"), 950)  # 50 left
    b.settle("Big", 0, None)  # unreported: nothing changes
    reserved = b.acquire("Big")  # needs 950: waits (950 - 50) / 10 = 90 s
    assert fake.slept == [pytest.approx(90.0)] and reserved == 950
    fake.slept.clear()


def test_a_throttled_answer_waits_exactly_the_announced_time():
    fake = FakeTime()
    b = bucket(fake)
    b.throttled("Orders", required=500, wait=12.0)
    b.acquire("Orders")
    assert fake.slept == [pytest.approx(12.0)]


def test_a_wait_past_max_wait_is_rate_limited_not_slept():
    fake = FakeTime()
    b = bucket(fake, max_wait=30)
    b.throttled("Orders", required=900, wait=45.0)
    with pytest.raises(RateLimited) as caught:
        b.acquire("Orders")
    assert caught.value.transient and caught.value.retry_after == 45 and fake.slept == []


def test_calibrate_adopts_the_accounts_numbers():
    fake = FakeTime()
    b = bucket(fake)
    b.calibrate(remaining=40, max_available=2002, increment_rate=30)
    assert (b.capacity, b.refill_per_second) == (2002, 30) and b.credits == pytest.approx(40)
    b.calibrate(remaining=None, max_available=0, increment_rate=None)  # unusable numbers are kept
    assert (b.capacity, b.refill_per_second) == (2002, 30)


def test_concurrent_callers_queue_instead_of_overspending():
    fake = FakeTime()
    fake.sleep = fake.slept.append  # sleeping threads overlap: the clock stands still meanwhile
    b = bucket(fake, capacity=200, refill_per_second=100)
    b.settle("Op", b.acquire("Op"), 100)  # estimate 100; 100 credits left
    threads = [threading.Thread(target=b.acquire, args=("Op",)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    # 100 in the bucket: one goes at once, the next reserve 1 s and 2 s ahead (virtual time).
    assert sorted(round(s, 6) for s in fake.slept) == [1.0, 2.0]


def test_one_bucket_per_account():
    credits.forget_buckets()
    assert credits.bucket_for("a") is credits.bucket_for("a")
    assert credits.bucket_for("a") is not credits.bucket_for("b")
    credits.forget_buckets()


def test_refund_gives_an_unspent_reservation_back():
    fake = FakeTime()
    b = bucket(fake)
    reserved = b.acquire("Op")
    b.refund(reserved)
    assert b.credits == pytest.approx(1000)


def test_a_bucket_needs_positive_numbers():
    with pytest.raises(ValueError):
        credits.CreditBucket(capacity=0)
