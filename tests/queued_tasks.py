"""Run what waits in django-q2's ORM broker the way a worker does, inside the test process.

`run_queued()` takes every queued task (oldest first) off the queue and calls its function with
its arguments, synchronously, so a test sees exactly what a cluster would do with each task.
`QueueWorker` does that in a thread every `every` seconds, for tests where a browser waits on
the live server while the run goes on (a real `qcluster` process cannot reach the test
database, which lives in this process).
"""

from __future__ import annotations

import threading

from django.db import close_old_connections, connections
from django.utils.module_loading import import_string
from django_q.models import OrmQ


def run_queued() -> list:
    """Run every task in the ORM broker's queue once, oldest first; returns their results."""
    results = []
    for row in OrmQ.objects.order_by("pk"):
        task = row.task
        if OrmQ.objects.filter(pk=row.pk).delete()[0] != 1:
            continue  # another worker took it
        func = import_string(task["func"]) if isinstance(task["func"], str) else task["func"]
        results.append(func(*task["args"], **task["kwargs"]))
    return results


class QueueWorker(threading.Thread):
    """`run_queued()` every `every` seconds until `stop()`; what the tasks returned is in `results`."""

    def __init__(self, every: float = 0.2):
        super().__init__(name="test-queue-worker", daemon=True)
        self.every = every
        self.results: list = []
        self.errors: list[BaseException] = []
        self._stop = threading.Event()

    def run(self) -> None:
        try:
            while not self._stop.wait(self.every):
                try:
                    self.results.extend(run_queued())
                except Exception as exc:  # kept for the test to report, the worker goes on
                    self.errors.append(exc)
                    close_old_connections()
        finally:
            connections.close_all()

    def stop(self) -> None:
        self._stop.set()
        self.join(timeout=10)
