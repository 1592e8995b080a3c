"""hub.engine.concurrent_calls: overlapping outside calls, database work in the calling thread."""

from __future__ import annotations

import threading
import time

import pytest

from hub.engine.concurrent_calls import DatabaseUseInWorker, Window, overlap, width_for
from hub.models import SyncRun
from tests import factories


class Crash(BaseException):
    """Stands for the process dying: not an Exception."""


def run(items, *, width, call=None, stop=lambda: False, window=None, finish=None):
    """overlap() recording what ran where; returns (started, finished, peak calls in flight)."""
    main = threading.get_ident()
    started, finished, in_flight, peak = [], [], [0], [0]
    lock = threading.Lock()

    def start(item):
        assert threading.get_ident() == main
        started.append(item)
        return None if item == "skip" else item

    def default_call(ticket):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.05)
        with lock:
            in_flight[0] -= 1
        return ticket * 10

    def default_finish(ticket, future):
        assert threading.get_ident() == main
        finished.append((ticket, future.result() if future.exception() is None else future.exception()))

    overlap(
        items,
        start=start,
        call=call or default_call,
        finish=finish or default_finish,
        width=width,
        stop=stop,
        window=window,
    )
    return started, finished, peak[0]


def test_calls_overlap_up_to_the_width_and_every_outcome_is_finished_in_the_calling_thread():
    began = time.monotonic()
    started, finished, peak = run(range(8), width=4)
    elapsed = time.monotonic() - began
    assert started == list(range(8))
    assert sorted(finished) == [(i, i * 10) for i in range(8)]
    assert peak == 4
    assert elapsed < 0.3  # 8 calls of 50 ms, 4 at once: ~0.1 s, against 0.4 s one after another


def test_width_one_calls_in_the_calling_thread_one_after_the_other():
    main = threading.get_ident()
    seen = []

    def call(ticket):
        seen.append(threading.get_ident())
        return ticket

    started, finished, _ = run([1, 2, 3], width=1, call=call)
    assert finished == [(1, 1), (2, 2), (3, 3)] and set(seen) == {main}


def test_a_start_returning_none_makes_no_call():
    started, finished, _ = run([1, "skip", 2], width=3)
    assert started == [1, "skip", 2] and sorted(finished) == [(1, 10), (2, 20)]


def test_stop_starts_nothing_new_but_finishes_every_call_in_flight():
    finished_count = []

    def finish(ticket, future):
        finished_count.append(ticket)

    started, _, _ = run(range(20), width=4, stop=lambda: len(finished_count) >= 1, finish=finish)
    # The first answer arrives with 3 more in flight: they are finished, nothing else starts.
    assert len(started) == 4 and sorted(finished_count) == [0, 1, 2, 3]


def test_a_call_error_reaches_finish_as_the_futures_exception():
    def call(ticket):
        if ticket == 2:
            raise ValueError("refused")
        return ticket

    _, finished, _ = run([1, 2, 3], width=2, call=call)
    errors = [outcome for _, outcome in finished if isinstance(outcome, ValueError)]
    assert len(finished) == 3 and [str(e) for e in errors] == ["refused"]


def test_a_finish_error_drains_the_calls_in_flight_then_is_raised():
    finished = []

    def finish(ticket, future):
        finished.append(ticket)
        if ticket == 0:
            raise PermissionError("credentials rejected")

    with pytest.raises(PermissionError):
        run(range(10), width=3, finish=finish, window=lambda: 3)
    assert sorted(finished) == [0, 1, 2]  # the two in flight were recorded, nothing new started


def test_a_crash_leaves_at_once_without_waiting_for_the_calls_in_flight():
    release = threading.Event()

    def call(ticket):
        if ticket:
            release.wait(5)
        return ticket

    def finish(ticket, future):
        raise Crash()

    began = time.monotonic()
    with pytest.raises(Crash):
        run([0, 1, 2], width=3, call=call, finish=finish)
    assert time.monotonic() - began < 2
    release.set()


@pytest.mark.django_db
def test_a_call_that_touches_the_database_fails_loudly():
    def call(ticket):
        return SyncRun.objects.count()  # the mistake under test

    _, finished, _ = run([1, 2], width=2, call=call)
    assert all(isinstance(outcome, DatabaseUseInWorker) for _, outcome in finished)


def test_the_window_starts_at_one_doubles_on_success_and_halves_on_failure():
    window = Window(8)
    sizes = [window()]
    for _ in range(4):
        window.succeeded()
        sizes.append(window())
    window.failed()
    sizes.append(window())
    for _ in range(5):
        window.failed()
    sizes.append(window())
    assert sizes == [1, 2, 4, 8, 8, 4, 1]


def test_overlap_follows_the_window():
    window = Window(4)
    peaks = []
    in_flight = [0]
    lock = threading.Lock()

    def call(ticket):
        with lock:
            in_flight[0] += 1
            peaks.append(in_flight[0])
        time.sleep(0.02)
        with lock:
            in_flight[0] -= 1
        return ticket

    def finish(ticket, future):
        window.succeeded()

    run(range(12), width=4, call=call, finish=finish, window=window)
    assert peaks[0] == 1 and max(peaks) == 4


@pytest.mark.django_db
def test_the_width_is_the_warehouses_setting_capped_hub_wide(settings):
    warehouse = factories.WarehouseFactory(send_concurrency=12)
    settings.HUB_WMS_CONCURRENCY_CAP = 8
    assert width_for(warehouse) == 8
    warehouse.send_concurrency = 3
    assert width_for(warehouse) == 3
    settings.HUB_WMS_CONCURRENCY_CAP = 0
    assert width_for(warehouse) == 1
