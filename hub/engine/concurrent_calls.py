"""Overlapping a run's outside calls, while every database write stays in the run's own thread.

Real services answer in hundreds of milliseconds; a run that waits for each answer before making
the next call spends its time waiting. `overlap` keeps up to `width` calls in flight and leaves
the rest of the run's rules exactly where they were:

    overlap(items, start=claim, call=send, finish=record, width=4, stop=ctx.out_of_time)

Contract:
- `start(item)` runs in the calling thread, one item at a time and in order: the claim (database
  work done *before* the outside call, e.g. counting the attempt). It returns a ticket, or None when
  there is nothing to call (the item was skipped or settled without the outside system).
- `call(ticket)` runs in a worker thread and makes the outside calls only. It must not touch the
  database: the run's transactions and SQLite's single writer belong to the calling thread, and a
  thread that opens its own connection would hold it past the run. A call that tries gets a
  `DatabaseUseInWorker` error (loud, never a silent second connection).
- `finish(ticket, future)` runs in the calling thread for each call as it completes (completion
  order, not item order), with the `concurrent.futures.Future` holding the call's value or its
  exception; it records the outcome.
- `stop()` is asked before each `start`: once True no new item is started. Every call already
  started is still waited for and finished, so a claimed item is never left without its recorded
  outcome while the process lives. `items` may be a generator: it is read lazily, in the calling
  thread, as slots free up (a page of items can be prepared while the previous page is in flight).
- An exception raised by `finish` (e.g. rejected credentials: the whole run fails) stops new
  starts; the calls in flight are finished (their outcomes are known and belong in the audit), and
  then the first such exception is raised. Further exceptions from `finish` while draining are
  logged, not raised over the first.
- A `BaseException` that is not an `Exception` (a crash: SystemExit, KeyboardInterrupt, a test's
  simulated power cut) propagates at once, as it would from a sequential loop: what was claimed and
  not recorded is found again by the next run's look-up before any re-send.
- `window()`, when given, is asked before each start: how many calls may be in flight now (at
  least 1, at most `width`), so a caller can open up after successes and close down after failures
  (`Window`); without it, `width` calls are in flight whenever there are items.
- `width` 1 makes the calls in the calling thread, one after the other, with no thread at all: the
  behaviour of the jobs before calls overlapped, kept for warehouses set to one call at a time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections

__all__ = ["DatabaseUseInWorker", "Window", "overlap", "width_for"]

logger = logging.getLogger(__name__)

Item = TypeVar("Item")
Ticket = TypeVar("Ticket")


class Window:
    """How many calls may be in flight, opened up by successes and closed down by temporary failures.

    It starts at one call, doubles after each success up to `width`, and halves after each
    temporary failure (TCP's slow start and multiplicative decrease): a run against a WMS that is
    down makes one call at a time, so it stops after its few failures in a row as before calls
    overlapped instead of sending `width` orders into an outage; a healthy WMS is at full width
    after log2(width) answers."""

    def __init__(self, width: int) -> None:
        self.width = max(1, width)
        self.size = 1

    def __call__(self) -> int:
        return self.size

    def succeeded(self) -> None:
        self.size = min(self.width, self.size * 2)

    def failed(self) -> None:
        self.size = max(1, self.size // 2)


class DatabaseUseInWorker(RuntimeError):
    """A call running in a worker thread tried to use the database (see the module docstring)."""


def width_for(warehouse) -> int:
    """How many calls one run keeps in flight for `warehouse`: its setting, capped hub-wide."""
    cap = max(1, int(settings.HUB_WMS_CONCURRENCY_CAP))
    return max(1, min(int(getattr(warehouse, "send_concurrency", 1) or 1), cap))


def overlap(
    items: Iterable[Item],
    *,
    start: Callable[[Item], Ticket | None],
    call: Callable[[Ticket], Any],
    finish: Callable[[Ticket, Future], None],
    width: int,
    stop: Callable[[], bool] = lambda: False,
    window: Callable[[], int] | None = None,
) -> None:
    """Start, call and finish every item, up to `width` calls at once (see the module docstring)."""
    if width <= 1:
        _one_at_a_time(items, start=start, call=call, finish=finish, stop=stop)
        return

    def allowed() -> int:
        return width if window is None else max(1, min(width, window()))

    pool = ThreadPoolExecutor(max_workers=width, thread_name_prefix="hub-call", initializer=_refuse_database)
    in_flight: dict[Future, Any] = {}
    failure: Exception | None = None
    source = iter(items)
    try:
        exhausted = False
        while True:
            # Fill the free slots; after a failure, at the time budget or at the end of the items
            # nothing new starts and the loop only drains what is in flight.
            while not exhausted and failure is None and len(in_flight) < allowed() and not stop():
                item = next(source, _END)
                if item is _END:
                    exhausted = True
                    break
                ticket = start(item)
                if ticket is not None:
                    in_flight[pool.submit(call, ticket)] = ticket
            if not in_flight:
                break
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                ticket = in_flight.pop(future)
                try:
                    finish(ticket, future)
                except Exception as exc:
                    if failure is None:
                        failure = exc
                    else:
                        logger.exception("a further failure while finishing the calls in flight")
    except BaseException:
        # A crash: leave at once, as a sequential loop would; the threads end with their calls.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    if failure is not None:
        raise failure


_END = object()


def _one_at_a_time(items, *, start, call, finish, stop) -> None:
    for item in items:
        if stop():
            return
        ticket = start(item)
        if ticket is None:
            continue
        future: Future = Future()
        try:
            future.set_result(call(ticket))
        except Exception as exc:
            future.set_exception(exc)
        finish(ticket, future)


def _refuse_database() -> None:
    """Worker threads get database connections that refuse to connect (see DatabaseUseInWorker)."""
    thread = threading.current_thread().name

    def refuse(*args, **kwargs):
        raise DatabaseUseInWorker(
            f"{thread}: an outside call tried to use the database; database work belongs in start or finish, "
            "in the run's own thread (hub.engine.concurrent_calls)."
        )

    for alias in connections:
        connections[alias].ensure_connection = refuse
