"""Run what waits in django-q2's ORM broker the way a worker does, inside the test process.

`run_queued()` takes every queued task (oldest first) off the queue and calls its function with
its arguments, synchronously, so a test sees exactly what a cluster would do with each task. A
real `qcluster` process cannot stand in: the test database (SQLite in memory) lives in this
process; with a live server, its thread serves the browser meanwhile.
"""

from __future__ import annotations

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
