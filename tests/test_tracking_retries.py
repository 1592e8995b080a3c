"""hub.jobs.tracking_retries: the backoff of rejected tracking (the give-up is exercised end to end in
tests/test_shipment_confirmation.py, over a real socket)."""

import datetime

from hub.jobs.tracking_retries import MAX_BACKOFF, tracking_backoff


def test_backoff_starts_at_five_minutes_doubles_and_caps_at_six_hours():
    minutes = [tracking_backoff(n) / datetime.timedelta(minutes=1) for n in range(1, 9)]
    assert minutes == [5, 10, 20, 40, 80, 160, 320, 360]
    assert tracking_backoff(10_000) == MAX_BACKOFF  # no overflow however long it fails
