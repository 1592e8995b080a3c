"""connectors.transport.pacing: request starts spaced out, shared between threads."""

from __future__ import annotations

import threading
import time

import pytest

from connectors.transport import RatePacer
from tests.http_servers import make_client, scripted_server


@pytest.fixture
def server():
    with scripted_server() as srv:
        yield srv


def test_requests_per_second_caps_the_rate(server):
    http = make_client(server.url, requests_per_second=20)
    started = time.monotonic()
    for _ in range(6):
        http.json("GET", "/x")
    assert time.monotonic() - started >= 5 / 20 - 0.01
    starts = [r["at"] for r in server.requests]
    assert min(b - a for a, b in zip(starts, starts[1:])) >= 1 / 20 - 0.02


def test_pacing_is_shared_between_threads(server):
    http = make_client(server.url, requests_per_second=40)
    started = time.monotonic()
    threads = [threading.Thread(target=lambda: [http.json("GET", "/x") for _ in range(4)]) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(server.requests) == 12
    assert time.monotonic() - started >= 11 / 40 - 0.01


def test_set_rate_changes_and_removes_pacing():
    pacer = RatePacer(None)
    assert pacer.acquire() == 0.0
    pacer.set_rate(10)
    pacer.acquire()
    assert pacer.acquire() == pytest.approx(0.1, abs=0.03)
    pacer.set_rate(None)
    assert pacer.acquire() == 0.0
    with pytest.raises(ValueError):
        pacer.set_rate(0)
