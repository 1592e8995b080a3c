"""The neutral shapes every WMS client returns, so the jobs read one kind of order and of stock
whichever system answered (`connectors.wms.base.WarehouseClient`).

- `WmsOrder`: one order as the jobs need it (`order_id`, the system's integer id, is what
  `OrderRecord.wms_order_id` keeps; `po_num` is the second reference `hub.jobs.binding.is_ours`
  compares). `status` is one of `STATUS_OPEN`, `STATUS_CLOSED` (shipped), `STATUS_CANCELED`:
  each adapter maps its own states onto these three.
- `StockReport`: whole units available per SKU, the SKUs whose quantity could not be used, and
  how many rows belonged to someone else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["KNOWN_STATUSES", "STATUS_CANCELED", "STATUS_CLOSED", "STATUS_OPEN", "StockReport", "WmsOrder"]

STATUS_OPEN, STATUS_CLOSED, STATUS_CANCELED = 0, 1, 2
KNOWN_STATUSES = (STATUS_OPEN, STATUS_CLOSED, STATUS_CANCELED)


@dataclass
class WmsOrder:
    """One WMS order as the hub needs it. Datetimes are aware UTC."""

    order_id: int
    reference_num: str
    status: int  # STATUS_OPEN, STATUS_CLOSED (shipped) or STATUS_CANCELED
    is_closed: bool
    etag: str | None
    last_modified: datetime | None
    ship_date: datetime | None
    tracking_numbers: list[str] = field(default_factory=list)
    carrier: str = ""
    service: str = ""
    scac: str = ""
    po_num: str = ""  # the hub sends the Order Manager order id here (see hub.jobs.binding.is_ours)

    @property
    def is_canceled(self) -> bool:
        return self.status == STATUS_CANCELED


@dataclass
class StockReport:
    """``available``: whole units per SKU (this customer's items in this facility only);
    ``invalid``: SKU -> why its quantity could not be used."""

    available: dict[str, int]
    invalid: dict[str, str] = field(default_factory=dict)
    # Rows of this facility that are not this customer's items (another customer's stock): not counted.
    other_customer_rows: int = 0
