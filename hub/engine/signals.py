"""Signals the engine sends, so the layers above it (alerts, metrics) listen instead of being called.

- `run_finished(sender=Job, connection=..., run=SyncRun)`: sent by `hub.engine.runner.run_job`
  after every run, once its lease is released. Receivers run in the worker that ran the job and
  are isolated from it: one that raises is logged and the run's outcome stands (`send_robust`).
"""

from django.dispatch import Signal

run_finished = Signal()
