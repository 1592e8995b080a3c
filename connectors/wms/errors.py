"""The two refusals the jobs act on, whichever WMS raised them (`hub.jobs.order_download` links a
`DuplicateOrder`'s existing order; `hub.jobs.order_cancel_download` records an
`OrderNotCancellable` as too late). Both are permanent: retrying cannot help.
"""

from __future__ import annotations

from typing import Any

from connectors.errors import PermanentError
from connectors.wms.orders import WmsOrder

__all__ = ["DuplicateOrder", "OrderNotCancellable"]


class DuplicateOrder(PermanentError):
    """The WMS already has an order with the hub's reference; ``existing`` is it, when found."""

    def __init__(self, message: str, *, existing: WmsOrder | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.existing = existing


class OrderNotCancellable(PermanentError):
    """The WMS will not cancel the order; ``reason`` says why in plain words (e.g. already shipped)."""

    def __init__(self, message: str, *, reason: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reason = reason or message
