"""What a WMS event must carry for the hub to act on it (docs/wire-protocols.md WMS-W4, WMS-W5).

`parse(body) -> Event` or raises `BadEvent` with the field at fault. Fields read: `tplId` and
`wmsEventId` (together the event's identity), `eventType`, and the event's time from
`eventDateTimeUtc`, else the deprecated `dateTime`; a time without an offset is read as UTC
(unverified: guarded by the staleness window, which is hours wide). Nothing else of the payload
is trusted: the queued run reads the WMS itself.

`EVENT_JOBS` maps the event types the hub knows to the job the event makes due (None: recorded,
no job). Any other type is counted as unknown and logged, never treated as a known one.
"""

from __future__ import annotations

import dataclasses
import datetime
import json

from hub.models import Job

ORDER_CONFIRM = "OrderConfirm"
ORDER_CANCEL = "OrderCancel"
INVENTORY_SUMMARY_UPDATE = "InventorySummaryUpdate"  # unverified spelling (WMS-W5)

# Why each: docs/wire-protocols.md, "WMS webhooks: what each event does".
EVENT_JOBS: dict[str, Job | None] = {
    ORDER_CONFIRM: Job.SHIPMENT_CONFIRMATION,
    ORDER_CANCEL: None,
    INVENTORY_SUMMARY_UPDATE: None,
}
MAX_ID_CHARS = 40


class BadEvent(ValueError):
    """The body is not a WMS event the hub can identify."""


@dataclasses.dataclass(frozen=True)
class Event:
    tpl_id: str
    wms_event_id: str
    event_type: str
    event_at: datetime.datetime

    @property
    def known(self) -> bool:
        return self.event_type in EVENT_JOBS


def _identifier(data: dict, name: str) -> str:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise BadEvent(f"{name} missing or not a number/string")
    text = str(value).strip()
    if not text or len(text) > MAX_ID_CHARS or not text.isascii() or not text.isprintable():
        raise BadEvent(f"{name} empty, too long or not plain text")
    return text


def _moment(data: dict) -> datetime.datetime:
    raw = data.get("eventDateTimeUtc") or data.get("dateTime")
    if not isinstance(raw, str):
        raise BadEvent("eventDateTimeUtc (or dateTime) missing")
    try:
        moment = datetime.datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadEvent(f"eventDateTimeUtc is not a date and time: {raw[:40]!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment


def parse(body: bytes) -> Event:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadEvent("the body is not JSON") from exc
    if not isinstance(data, dict):
        raise BadEvent("the body is not a JSON object")
    event_type = data.get("eventType")
    if not isinstance(event_type, str) or not event_type.strip() or len(event_type) > 60:
        raise BadEvent("eventType missing or not a short string")
    return Event(
        tpl_id=_identifier(data, "tplId"),
        wms_event_id=_identifier(data, "wmsEventId"),
        event_type=event_type.strip(),
        event_at=_moment(data),
    )
