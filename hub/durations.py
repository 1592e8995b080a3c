"""Lengths of time as an operator reads them: every place the hub prints a duration uses this module.

Four formats, because they answer different questions; they share one way of counting a span in
whole units (`_in_unit`), so a unit's name and rounding are the same everywhere:

- `precise(delta)`: a measured duration to the unit below its largest, "250 ms", "5s", "1m 05s",
  "2h 03m", and "—" for none (how long a run took, in the admin).
- `compact(delta)`: roughly how long, in one unit, for a table cell: "42 s", "12 min", "30 h", "3 d"
  (the dashboard's waiting ages and "5 min ago").
- `compact_fine(delta)`: the same, but a unit is used only from two of it on, "119 s", "7 min",
  "50 h": read against a threshold of a few minutes (the health checks), "1 min" could be 119 s.
- `interval(delta)`: a schedule interval in the largest unit it is a whole number of, "5 min",
  "2 h", "1 day(s)" (alert messages).

All round down; a negative span counts as zero, except in `interval` (schedule intervals are positive).
"""

from __future__ import annotations

import datetime

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR

# (name, seconds in one, shown from this many seconds on), largest first; the last one always fits.
_COMPACT = (("d", DAY, 2 * DAY), ("h", HOUR, HOUR), ("min", MINUTE, MINUTE), ("s", 1, 0))
_COMPACT_FINE = (("h", HOUR, 2 * HOUR), ("min", MINUTE, 2 * MINUTE), ("s", 1, 0))
_INTERVAL_UNITS = (("day(s)", DAY), ("h", HOUR), ("min", MINUTE))


def _in_unit(seconds: int, name: str, size: int) -> str:
    """`seconds` as a whole number of the unit `name` of `size` seconds, rounded down: "12 min"."""
    return f"{seconds // size} {name}"


def _whole_seconds(delta: datetime.timedelta) -> int:
    return max(0, int(delta.total_seconds()))


def _largest_shown(seconds: int, scale) -> str:
    """`seconds` in the first unit of `scale` whose "shown from" it reaches."""
    name, size = next((name, size) for name, size, shown_from in scale if seconds >= shown_from)
    return _in_unit(seconds, name, size)


def compact(delta: datetime.timedelta) -> str:
    """Roughly `delta` in one unit: "42 s", "12 min", "30 h" (hours up to two days), "3 d"."""
    return _largest_shown(_whole_seconds(delta), _COMPACT)


def compact_fine(delta: datetime.timedelta) -> str:
    """`delta` in one unit used from two of it on: "119 s", "2 min", "119 min", "50 h" (no days)."""
    return _largest_shown(_whole_seconds(delta), _COMPACT_FINE)


def interval(delta: datetime.timedelta) -> str:
    """A whole number of minutes in the largest unit it divides into: "90 min", "2 h", "1 day(s)"."""
    seconds = int(delta.total_seconds() // MINUTE) * MINUTE
    name, size = next((name, size) for name, size in _INTERVAL_UNITS if seconds % size == 0)
    return _in_unit(seconds, name, size)


def precise(delta: datetime.timedelta | None) -> str:
    """A measured duration: "250 ms" under a second, else its two largest units, "5s", "1m 05s", "2h 03m"."""
    if delta is None:
        return "—"
    seconds = delta.total_seconds()
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    whole = int(seconds)
    hours, minutes, seconds = whole // HOUR, whole % HOUR // MINUTE, whole % MINUTE
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"
