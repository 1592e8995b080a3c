"""Stock of the sandbox ShipHero warehouses as orders move: allocate, release, ship, set.

`available` is ``on_hand - allocated - reserve_inventory`` and never below 0; a line item takes
what is available (`quantity_allocated`) and the rest is backordered (`backorder_quantity`), as
ShipHero's warehouse products show (`allocated`, `available`, `backorder`). Every function locks
the warehouse product rows it changes (`select_for_update`) and must run inside a transaction.
"""

from __future__ import annotations

from connectors.sandbox import clock
from connectors.sandbox.models import ShipHeroLineItem, ShipHeroOrder, ShipHeroProduct, ShipHeroWarehouseProduct


def recompute(row: ShipHeroWarehouseProduct) -> None:
    row.available = max(0, row.on_hand - row.allocated - row.reserve_inventory)
    row.updated_at = clock.now()


def _row(order: ShipHeroOrder, sku: str) -> ShipHeroWarehouseProduct | None:
    if order.warehouse_id is None:
        return None
    return (
        ShipHeroWarehouseProduct.objects.select_for_update()
        .filter(
            product__customer_account_id=order.customer_account_id, product__sku=sku, warehouse_id=order.warehouse_id
        )
        .first()
    )


def allocate(order: ShipHeroOrder, items: list[ShipHeroLineItem]) -> None:
    # Rows are locked in SKU order: two orders created at once with the same SKUs in another
    # order would otherwise deadlock on PostgreSQL (one create answered 500 under CI load).
    for item in sorted(items, key=lambda item: (item.sku, item.pk)):
        row = _row(order, item.sku)
        if row is None:
            item.backorder_quantity = item.quantity
            continue
        take = min(item.quantity, row.available)
        item.quantity_allocated, item.backorder_quantity = take, item.quantity - take
        row.allocated += take
        row.backorder += item.quantity - take
        recompute(row)
        row.save(update_fields=["allocated", "backorder", "available", "updated_at"])
        item.save(update_fields=["quantity_allocated", "backorder_quantity"])


def release(order: ShipHeroOrder) -> None:
    """Give back what the order's open line items hold (a cancel)."""
    for item in order.line_items.order_by("sku", "pk"):  # SKU order, as allocate: no deadlock
        row = _row(order, item.sku)
        if row is not None:
            row.allocated = max(0, row.allocated - item.quantity_allocated)
            row.backorder = max(0, row.backorder - item.backorder_quantity)
            recompute(row)
            row.save(update_fields=["allocated", "backorder", "available", "updated_at"])
        item.quantity_allocated = item.backorder_quantity = 0
        item.save(update_fields=["quantity_allocated", "backorder_quantity"])


def ship(order: ShipHeroOrder, item: ShipHeroLineItem, quantity: int) -> None:
    """`quantity` of `item` left the warehouse: on hand goes down, and what it held is released."""
    row = _row(order, item.sku)
    from_allocated = min(quantity, item.quantity_allocated)
    from_backorder = min(quantity - from_allocated, item.backorder_quantity)
    if row is not None:
        row.on_hand = max(0, row.on_hand - quantity)
        row.allocated = max(0, row.allocated - from_allocated)
        row.backorder = max(0, row.backorder - from_backorder)
        recompute(row)
        row.save(update_fields=["on_hand", "allocated", "backorder", "available", "updated_at"])
    item.quantity_allocated -= from_allocated
    item.backorder_quantity -= from_backorder


def set_on_hand(product: ShipHeroProduct, warehouse, on_hand: int, *, reserve: int | None = None):
    """Set a product's on-hand quantity in a warehouse (creating its row): what a count does."""
    now = clock.now()
    row, _ = ShipHeroWarehouseProduct.objects.select_for_update().get_or_create(
        product=product, warehouse=warehouse, defaults={"created_at": now, "updated_at": now}
    )
    row.on_hand = on_hand
    if reserve is not None:
        row.reserve_inventory = reserve
    recompute(row)
    row.save()
    return row
