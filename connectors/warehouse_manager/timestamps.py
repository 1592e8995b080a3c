"""Warehouse Manager's timestamps: offset-less wall-clock time of the facility, read and written.

Contract (docs/wire-protocols.md, "WMS: time zone of timestamps"):
- ``facility_zone(name)`` is the facility's IANA time zone (blank: UTC); an unknown name is
  ``ValueError`` saying what to use instead;
- ``wms_timestamp(value, tz)`` reads a WMS timestamp as an aware UTC datetime (null and "" are
  no timestamp; anything else that is not one is ``ValueError``);
- ``filter_timestamp(moment, tz)`` writes an aware moment in the facility-local form an RQL
  filter must use, rounded so a ``=ge=`` filter never misses an order (it may return a few extra).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["facility_zone", "filter_timestamp", "wms_timestamp"]


def facility_zone(name: str) -> ZoneInfo:
    """The facility's time zone ``name`` (an IANA name; blank is UTC)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"Unknown facility time zone {name!r} (use an IANA name such as America/Chicago)") from exc


def wms_timestamp(value: Any, tz: tzinfo) -> datetime | None:
    """A WMS timestamp as an aware UTC datetime; ``ValueError`` when it is not one.

    The WMS sends timestamps without an offset (e.g. ``2016-12-25T23:00:00``); they are read as
    wall-clock time in the facility's time zone ``tz`` and converted to UTC. An ambiguous wall
    time (the repeated hour when DST ends) is taken as its first occurrence (fold=0). A timestamp
    that does carry an offset is honoured as is. Null and "" are no timestamp.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("not text")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # .NET may send 7 fractional digits; Python reads at most 6.
    head, dot, rest = text.partition(".")
    if dot:
        digits = "".join(ch for ch in rest if ch.isdigit())
        text = f"{head}.{digits[:6]}{rest[len(digits) :]}"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


def filter_timestamp(moment: datetime, tz: tzinfo) -> str:
    """``moment`` (aware) as the facility-local wall-clock text the WMS compares timestamps with.

    The WMS stores offset-less facility-local times, so an RQL filter must use the same form.
    Within the repeated hour when DST ends, wall-clock order differs from real order: for the
    first occurrence the filter is lowered by the DST shift so a ``=ge=`` filter cannot miss
    orders modified during the second occurrence (it only returns a few extra ones).
    Seconds precision, rounded down, for the same reason.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("since must be a timezone-aware datetime")
    local = moment.astimezone(tz)
    wall = local.replace(tzinfo=None, microsecond=0)
    if local.fold == 0:
        other = local.replace(fold=1)
        shift = (local.utcoffset() or timedelta(0)) - (other.utcoffset() or timedelta(0))
        if shift > timedelta(0):  # ambiguous wall time: this is its first occurrence
            wall -= shift
    return wall.isoformat(timespec="seconds")
