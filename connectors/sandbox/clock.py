"""Time on the two wires: Order Manager speaks UTC with `Z`, the WMS local time without an offset.

All sandbox timestamps are whole seconds (what both APIs show), so a value read back from a
response and sent as a filter selects exactly the rows it came from.
"""

import datetime
import zoneinfo

from django.utils import timezone
from django.utils.dateparse import parse_datetime

UTC = datetime.UTC


def now() -> datetime.datetime:
    return timezone.now().replace(microsecond=0)


def om_format(value: datetime.datetime | None) -> str | None:
    """`2020-05-20T12:00:00Z`."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def om_parse(text: str) -> datetime.datetime:
    """An ISO-8601 date-time query value; without an offset it is read as UTC. ValueError if bad."""
    value = parse_datetime(text.strip().replace(" ", "+")) if text else None
    if value is None:
        raise ValueError(f"“{text}” is not an ISO-8601 date-time")
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value


def wms_format(value: datetime.datetime | None, zone: str) -> str | None:
    """`2016-12-25T23:00:00` in the facility's time zone, without an offset (as the WMS sends)."""
    if value is None:
        return None
    return value.astimezone(zoneinfo.ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M:%S")


def wms_parse(text: str, zone: str) -> datetime.datetime:
    """An RQL timestamp; without an offset it is facility-local time. ValueError if bad."""
    value = parse_datetime(text.strip()) if text else None
    if value is None:
        raise ValueError(f"“{text}” is not a date-time")
    if timezone.is_naive(value):
        value = value.replace(tzinfo=zoneinfo.ZoneInfo(zone))
    return value
