"""A connection's mappings and rules, loaded once per run into memory (no per-order queries).

`Rules.for_connection(connection)` reads `tenants.mappings` (five queries) and answers:

- `wms_sku(om_sku)` / `om_skus_for(wms_sku, known_om_skus)`: SKU aliases both ways. Several Order
  Manager SKUs may map to one WMS SKU; in Inventory Sync each of them is given that WMS SKU's
  quantity (they share the same physical stock).
- `is_filtered(om_sku)`: the item filter (allow- or block-list, exact SKUs or `PREFIX*`).
- `apply(order) -> Decision` (an `OmOrder`): what Order Download does with an order: the WMS body (SKUs
  aliased, filtered lines left out, routingInfo from the ship-method mapping), the lines to record,
  and whether the order is sent, skipped (every line filtered, or one under an order-level filter)
  or held (unmapped ship method with "reject unmapped" on).
- `carrier_overrides`: the connection's carrier mapping for `hub.mapping.carriers.om_carrier`.
- `available_to_publish(...)`: the inventory rules (pending orders, buffer, minimum level).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.order_manager.wire_orders import OmOrder
from connectors.wms.base import Line, Route, WmsSystem
from hub.mapping.order_mapping import address_of, default_route
from tenants.mappings import (
    CarrierMapping,
    ConnectionRules,
    FilterLevel,
    FilterMode,
    ItemFilter,
    ShipMethodMapping,
    SkuAlias,
    ship_method_key,
)

UNMAPPED_PREFIX = "Unmapped ship method"


def unmapped_reason(display: str) -> str:
    return (
        f"{UNMAPPED_PREFIX} “{display}”: map it under Mappings and rules > Ship-method mappings; "
        "the order is sent on the next Order Download after that."
    )


def carrier_overrides(connection) -> dict[str, str]:
    """The connection's carrier mapping (WMS carrier name or SCAC -> Order Manager carrier), one query."""
    return dict(CarrierMapping.objects.filter(connection=connection).values_list("wms_carrier", "om_carrier"))


@dataclass
class Decision:
    """What to do with one order. `outcome` is "send", "skip" or "hold"."""

    outcome: str
    payload: dict
    lines: list[dict]
    reason: str = ""
    filtered: list[str] = field(default_factory=list)
    ship_method: str = ""  # display text of the order's method ("" when it has none)
    ship_method_key: str = ""
    unmapped: bool = False


@dataclass
class Rules:
    reject_unmapped: bool = False
    filter_mode: str = FilterMode.OFF
    filter_level: str = FilterLevel.ITEM
    minimum: int = 0
    buffer: int = 0
    subtract_pending: bool = True
    aliases: dict[str, str] = field(default_factory=dict)
    routes: dict[str, Route] = field(default_factory=dict)
    known_methods: set[str] = field(default_factory=set)
    carrier_overrides: dict[str, str] = field(default_factory=dict)
    filter_exact: frozenset[str] = frozenset()
    filter_prefixes: tuple[str, ...] = ()

    @classmethod
    def for_connection(cls, connection) -> Rules:
        settings = ConnectionRules.objects.filter(connection=connection).first() or ConnectionRules()
        routes, known = {}, set()
        for row in ShipMethodMapping.objects.filter(connection=connection).only(
            "key", "wms_carrier", "wms_mode", "wms_scac"
        ):
            known.add(row.key)
            if row.is_mapped:
                routes[row.key] = Route(row.wms_carrier.strip(), row.wms_mode.strip(), row.wms_scac.strip())
        skus = list(ItemFilter.objects.filter(connection=connection).values_list("sku", flat=True))
        return cls(
            reject_unmapped=settings.reject_unmapped_ship_methods,
            filter_mode=settings.item_filter_mode,
            filter_level=settings.item_filter_level,
            minimum=settings.inventory_minimum,
            buffer=settings.inventory_buffer,
            subtract_pending=settings.subtract_pending_orders,
            aliases=dict(SkuAlias.objects.filter(connection=connection).values_list("om_sku", "wms_sku")),
            routes=routes,
            known_methods=known,
            carrier_overrides=carrier_overrides(connection),
            filter_exact=frozenset(s for s in skus if not s.endswith("*")),
            filter_prefixes=tuple(s[:-1] for s in skus if s.endswith("*") and len(s) > 1),
        )

    # -- SKUs --------------------------------------------------------------------------------

    def wms_sku(self, om_sku: str) -> str:
        return self.aliases.get(om_sku, om_sku)

    def om_skus_for(self, wms_sku: str, known_om_skus) -> list[str]:
        """The Order Manager SKUs whose stock is this WMS SKU's.

        The aliased ones, plus the identical SKU unless it is itself aliased elsewhere; when some
        alias points here, the identical SKU is added only if Order Manager has stock for it or an
        alias maps it to itself (so an aliased item does not also report "no starting inventory"
        for the WMS name).
        """
        reverse = self._reverse.get(wms_sku, [])
        skus = list(reverse)
        own = self.aliases.get(wms_sku, wms_sku) == wms_sku
        if own and (wms_sku in self.aliases or not reverse or wms_sku in known_om_skus):
            skus.append(wms_sku)
        return skus

    @property
    def _reverse(self) -> dict[str, list[str]]:
        cached = self.__dict__.get("_reverse_cache")
        if cached is None:
            cached = {}
            for om, wms in sorted(self.aliases.items()):
                if om != wms:
                    cached.setdefault(wms, []).append(om)
            self.__dict__["_reverse_cache"] = cached
        return cached

    def _listed(self, om_sku: str) -> bool:
        return om_sku in self.filter_exact or any(om_sku.startswith(p) for p in self.filter_prefixes)

    def is_filtered(self, om_sku: str) -> bool:
        """True when the item filter keeps this Order Manager SKU out (orders and inventory)."""
        if self.filter_mode == FilterMode.ALLOW:
            return not self._listed(om_sku)
        if self.filter_mode == FilterMode.BLOCK:
            return self._listed(om_sku)
        return False

    # -- orders ------------------------------------------------------------------------------

    def route_for(self, key: str) -> Route | None:
        return self.routes.get(key)

    def apply(self, order: OmOrder, system: WmsSystem) -> Decision:
        """What to do with `order`, its body in `system`'s wire shape."""
        display, key = ship_method_key(order.carrier, order.service)
        lines, items, filtered = [], [], []
        for line in order.items:
            record = {"sku": line.sku, "quantity": line.quantity}
            wms = self.wms_sku(line.sku)
            if wms != line.sku:
                record["wms_sku"] = wms
            if self.is_filtered(line.sku):
                record["filtered"] = True
                filtered.append(line.sku)
            else:
                items.append(Line(wms, line.quantity))
            lines.append(record)
        route = self.route_for(key) if key else None
        payload = system.order_body(
            reference=order.order_number,
            om_order_id=order.order_id,
            ship_to=address_of(order),
            lines=items,
            route=route or default_route(order),
            notes=order.notes_from_buyer,
        )
        decision = Decision("send", payload, lines, filtered=filtered, ship_method=display, ship_method_key=key)
        if filtered and (not items or self.filter_level == FilterLevel.ORDER):
            decision.outcome = "skip"
            decision.reason = (
                f"Not sent: every item is filtered ({', '.join(filtered)})."
                if not items
                else f"Not sent: the order-level item filter matches {', '.join(filtered)}."
            )
            return decision
        if route is None and key:
            decision.unmapped = True
            if self.reject_unmapped:
                decision.outcome, decision.reason = "hold", unmapped_reason(display)
        return decision

    # -- inventory ---------------------------------------------------------------------------

    def available_to_publish(self, wms_available: int, pending: int) -> tuple[int, str]:
        """(quantity to publish, explanation) after pending orders, the buffer and the minimum level."""
        pending = pending if self.subtract_pending else 0
        quantity = max(0, wms_available - pending - self.buffer)
        parts = [f"{wms_available} available at the WMS"]
        if pending:
            parts.append(f"− {pending} in orders not yet at the WMS")
        if self.buffer:
            parts.append(f"− {self.buffer} safety buffer")
        text = " ".join(parts) + (f" = {quantity}" if len(parts) > 1 else "")
        if quantity < self.minimum:
            return 0, f"{text}, below the minimum level {self.minimum}: 0 published."
        return quantity, (text + "." if len(parts) > 1 else "")
