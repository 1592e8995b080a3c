"""hub.durations: the four formats at their unit boundaries (the callers' own tests check them in place)."""

import datetime

from hub import durations


def span(**kwargs) -> datetime.timedelta:
    return datetime.timedelta(**kwargs)


def test_compact_switches_unit_at_one_of_it_and_to_days_at_two():
    assert [durations.compact(span(seconds=s)) for s in (59, 60, 3599, 3600)] == ["59 s", "1 min", "59 min", "1 h"]
    assert durations.compact(span(days=2) - span(seconds=1)) == "47 h"
    assert durations.compact(span(days=2)) == "2 d"
    assert durations.compact(span(seconds=-5)) == "0 s"


def test_compact_fine_switches_unit_at_two_of_it_and_has_no_days():
    assert [durations.compact_fine(span(seconds=s)) for s in (119, 120, 7199, 7200)] == [
        "119 s",
        "2 min",
        "119 min",
        "2 h",
    ]
    assert durations.compact_fine(span(days=3)) == "72 h"
    assert durations.compact_fine(span(seconds=-5)) == "0 s"


def test_interval_uses_the_largest_unit_it_is_a_whole_number_of():
    assert durations.interval(span(minutes=90)) == "90 min"
    assert durations.interval(span(hours=2)) == "2 h"
    assert durations.interval(span(hours=36)) == "36 h"
    assert durations.interval(span(days=1)) == "1 day(s)"
    assert durations.interval(span(minutes=5, seconds=30)) == "5 min"  # whole minutes


def test_precise_keeps_two_units_and_says_none():
    assert durations.precise(None) == "—"
    assert durations.precise(span(seconds=5.9)) == "5s"
    assert durations.precise(span(hours=26, minutes=1)) == "26h 01m"
