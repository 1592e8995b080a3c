"""What Inventory Sync's "unlocked" rule gives for a SKU, shared by Inventory Sync (which writes it)
and Reconciliation (which checks Order Manager still shows it).

- `unlocked_on_hand(publish, locked)`: the on-hand to write: the quantity to publish (the WMS
  available after the connection's rules: pending orders, buffer, minimum level) plus Order
  Manager's locked stock, left as it is (10 locked + 10 available at the WMS = 20 on hand).
- `pending_by_wms_sku(connection, rules)`: the quantity per WMS SKU of downloaded orders not yet at
  the WMS, which the rule subtracts.
- `last_synced_lines(connection)` / `last_synced_wms_quantities(connection)`: each Order Manager
  SKU's line of its last successful sync (written or unchanged).
"""

from __future__ import annotations

from django.db.models import Max

from hub.mapping.rules import Rules
from hub.models import InventoryLine, Job, OrderRecord

LINE_BATCH = 2000
Result = InventoryLine.Result


def unlocked_on_hand(publish: int, locked: int) -> int:
    return publish + max(0, locked)


def _last_successful(connection):
    lines = InventoryLine.objects.filter(
        run__connection=connection,
        run__job=Job.INVENTORY_SYNC,
        result__in=[Result.UPDATED, Result.UNCHANGED],
    )
    return InventoryLine.objects.filter(pk__in=lines.values("sku").annotate(last=Max("pk")).values("last"))


def last_synced_lines(connection) -> dict[str, InventoryLine]:
    """The line of each Order Manager SKU's last successful sync (written or unchanged)."""
    return {line.sku: line for line in _last_successful(connection)}


def last_synced_wms_quantities(connection) -> dict[str, int]:
    """The WMS quantity of each Order Manager SKU at its last successful sync (written or unchanged)."""
    return dict(_last_successful(connection).values_list("sku", "wms_available"))


def pending_by_wms_sku(connection, rules: Rules) -> dict[str, int]:
    """Quantity per WMS SKU in this connection's orders downloaded but not (yet) at the WMS.

    New or held (`error`) orders not cancelled in Order Manager; filtered lines are not counted
    (they are never sent). The aliases in force now decide the WMS SKU, as they do at sending.
    """
    totals: dict[str, int] = {}
    pending = OrderRecord.objects.filter(
        connection=connection,
        status__in=[OrderRecord.Status.NEW, OrderRecord.Status.ERROR],
        cancel_requested=False,
        wms_order_id__isnull=True,
    ).values_list("lines", flat=True)
    for lines in pending.iterator(chunk_size=LINE_BATCH):
        for line in lines or []:
            if not isinstance(line, dict) or line.get("filtered") or not isinstance(line.get("sku"), str):
                continue
            quantity = line.get("quantity")
            if isinstance(quantity, int) and not isinstance(quantity, bool) and quantity > 0:
                sku = rules.wms_sku(line["sku"])
                totals[sku] = totals.get(sku, 0) + quantity
    return totals
