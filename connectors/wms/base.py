"""What a WMS adapter is: one system the hub delivers orders to and reads shipments and stock from.

An adapter has two halves:
- `WmsSystem`, the system itself (no credentials, no network): its key and label, the capabilities
  it declares, and its order body built from what the hub decided (`Line`s and a `Route`). The
  body is the system's wire shape and is what the order's audit record keeps as "sent"; the hub
  changes it only through `with_lines`/`with_route`, so no job knows the wire shape.
- `WarehouseClient`, one credential of that system scoped to one customer and facility: the calls
  the jobs make. Errors are `connectors.errors` (transient or permanent); a duplicate reference is
  `DuplicateOrder`-like with the existing order attached where the system can say, and a cancel the
  system refuses is `OrderNotCancellable`-like with the reason in plain words.

Capabilities are what Integration Manager's destinations declare: a job whose capability a
system lacks is not offered in the admin and never scheduled (`hub.engine.eligibility`).
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Capability(StrEnum):
    ORDER_SEND = "order_send", "Order Send"
    CANCEL_ORDER = "cancel_order", "Cancel Order in WMS"
    SHIPMENT_PICKUP = "shipment_pickup", "Shipment Confirmation Pickup"
    INVENTORY_PICKUP = "inventory_pickup", "Inventory Sync Pickup"

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


@dataclass(frozen=True)
class Line:
    """One item to ship: the SKU as the WMS knows it (aliases applied) and whole units."""

    sku: str
    quantity: int


@dataclass(frozen=True)
class Address:
    """Where an order goes, as the hub read it from Order Manager (blank fields are "")."""

    name: str = ""
    company: str = ""
    address1: str = ""
    address2: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class Route:
    """How to ship: the WMS carrier, its mode or service, and a SCAC code, as the system names them."""

    carrier: str
    mode: str = ""
    scac: str = ""


class WmsSystem(abc.ABC):
    """One warehouse system (see the module docstring). Subclasses are stateless singletons."""

    key: str
    label: str
    capabilities: frozenset[Capability]

    def supports(self, capability: Capability) -> bool:
        return capability in self.capabilities

    @abc.abstractmethod
    def order_body(
        self,
        *,
        reference: str,
        om_order_id: int,
        ship_to: Address,
        lines: Sequence[Line],
        route: Route | None,
        notes: str = "",
    ) -> dict:
        """The create-order body: `reference` is the hub's reference (the Order Manager order number)
        and `om_order_id` is sent where the system keeps a second reference, so the hub can tell its
        order from another with the same number."""

    @abc.abstractmethod
    def with_lines(self, body: Mapping[str, Any], lines: Sequence[Line]) -> dict:
        """`body` with its items replaced by `lines`."""

    @abc.abstractmethod
    def with_route(self, body: Mapping[str, Any], route: Route) -> dict:
        """`body` routed by `route` (a ship-method mapping) instead of what it carried."""


class WarehouseClient(abc.ABC):
    """The calls the jobs make to one WMS account (see the module docstring)."""

    system: WmsSystem

    @abc.abstractmethod
    def create_order(self, body: Mapping[str, Any]) -> Any:
        """Create the order; returns the system's order (with `order_id`, `reference_num`)."""

    @abc.abstractmethod
    def find_order_by_reference(self, reference: str) -> Any | None:
        """The order carrying the hub's `reference`, or None."""

    @abc.abstractmethod
    def get_order(self, order_id: int) -> Any:
        """One order by the system's id, with its status, packages and tracking numbers."""

    @abc.abstractmethod
    def cancel_order(self, order_id: int, reason: str) -> str:
        """Cancel the order; returns what the system said. Raises when it will not."""

    @abc.abstractmethod
    def iter_orders_modified_since(self, since: datetime, *, page_size: int = 100) -> Iterator[Any]:
        """Orders of this customer and facility changed since `since`, with packages and tracking."""

    @abc.abstractmethod
    def stock_report(self) -> Any:
        """Available whole units per SKU of this customer in this facility, and SKUs not usable."""

    @abc.abstractmethod
    def authenticate(self) -> None:
        """Sign in (or check the credential), raising `AuthenticationError` when refused."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release pooled connections."""
