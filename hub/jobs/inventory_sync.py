"""Inventory Sync: WMS available stock -> Order Manager, written as "unlocked" stock.

Contract of `sync(ctx)`, run by `hub.engine.runner.run_job(connection, Job.INVENTORY_SYNC)`:
- Needs the Order Manager warehouse name (resolved to its id); without it the run is refused with
  that reason: Order Manager would not know which warehouse's stock is meant.
- Reads WMS `available` per SKU (summed over the facility's rows) and Order Manager's stock totals
  for the warehouse (exact SKU match only).
- For each WMS SKU, the on-hand written is WMS available + Order Manager locked, leaving locked as
  it is: with 10 locked in Order Manager and 10 available at the warehouse, Order Manager shows 20.
- The connection's rules (`hub.mapping.rules`): WMS SKUs are written to the Order Manager SKUs aliased to
  them (each of several gets the full quantity; the identical SKU when none is aliased); SKUs the
  item filter excludes are not written; from the WMS quantity are subtracted the quantities of
  downloaded orders not yet at the WMS (new or held here, not cancelled) and the safety buffer
  (floor 0), and below the minimum level 0 is written. Each line records what was subtracted.
- Only SKUs whose on-hand changes are written (`/v1.1/inventory/adjust`, 200 per call); a second
  run with nothing changed writes nothing.
- A SKU with no stock record in Order Manager is reported as "no starting inventory in Order
  Manager" and never created; ERR097/ERR053 answers are recorded per SKU the same way.
- One `InventoryLine` per WMS SKU records what was seen and done; a SKU whose WMS quantity is
  unusable (negative, not a number) gets a FAILED line with the reason and is not written, while
  the other SKUs go on.
- Implausible stock is held, not written (a WMS glitch must not publish 10^15 units for sale): a
  WMS quantity above `HUB_INVENTORY_MAX_QUANTITY`, or one more than `HUB_INVENTORY_MAX_JUMP_FACTOR`
  times AND more than `HUB_INVENTORY_MAX_JUMP_UNITS` units above the WMS quantity of that SKU's last
  successful sync, gets a HELD line with the reason (counted as failed) and Order Manager keeps its
  quantity; the rest of the batch is written. `hub.ops.alerts` opens one alert per connection for the
  SKUs held by its last Inventory Sync and clears it when a run holds none.
"""

from __future__ import annotations

from django.conf import settings

from connectors.errors import AuthenticationError, ConnectorError
from hub.engine import eligibility
from hub.engine.batching import chunked
from hub.engine.context import JobRefused, RunContext
from hub.jobs.order_manager_reads import resolve_warehouse_id
from hub.jobs.stock_targets import last_synced_wms_quantities, pending_by_wms_sku, unlocked_on_hand
from hub.mapping.rules import Rules
from hub.models import InventoryLine, Job

JOB = Job.INVENTORY_SYNC
ADJUST_BATCH = 200
LINE_BATCH = 2000
# 3PL-type warehouses keep their stock in one location; direct-fulfillment ones need a named one.
DEFAULT_STOCK_LOCATION = "GLOBAL"
Result = InventoryLine.Result
ERROR_RESULTS = {"ERR097": Result.NO_STARTING_INVENTORY, "ERR053": Result.UNKNOWN_PRODUCT}


def sync(ctx: RunContext) -> None:
    warehouse_id = resolve_warehouse_id(ctx)
    reason = eligibility.requirement_reason(ctx.connection, JOB)  # the warehouse type is known once resolved
    if reason:
        raise JobRefused(reason)
    report = ctx.warehouse.stock_report()
    available = report.available
    ctx.run.fetched = len(available) + len(report.invalid)
    stock = {s.sku: s for s in ctx.order_manager.iter_stock_totals(warehouse_id)}

    lines: list[InventoryLine] = []
    to_write: dict[str, InventoryLine] = {}
    for sku, reason in sorted(report.invalid.items()):
        # One unusable WMS quantity must not stop the others: this SKU is left as it is in Order Manager.
        lines.append(
            InventoryLine(
                run=ctx.run,
                sku=sku[:200],
                wms_available=0,
                result=Result.FAILED,
                message=f"{reason} Not written; Order Manager keeps its current quantity.",
            )
        )
        ctx.run.failed += 1
    rules = Rules.for_connection(ctx.connection)
    pending = pending_by_wms_sku(ctx.connection, rules) if rules.subtract_pending else {}
    last_synced = last_synced_wms_quantities(ctx.connection)
    for wms_sku in sorted(available):
        wms_qty = max(0, int(available[wms_sku]))
        publish, why = rules.available_to_publish(wms_qty, pending.get(wms_sku, 0))
        for sku in rules.om_skus_for(wms_sku, stock):
            om = stock.get(sku)
            line = InventoryLine(
                run=ctx.run,
                sku=sku[:200],
                wms_sku="" if sku == wms_sku else wms_sku[:200],
                wms_available=wms_qty,
                pending_orders=pending.get(wms_sku, 0),
                buffer=rules.buffer,
                message=why,
            )
            lines.append(line)
            if rules.is_filtered(sku):
                line.result = Result.FILTERED
                line.message = "Excluded by the connection's item filter: Order Manager's quantity is left as it is."
                ctx.run.skipped += 1
                continue
            if om is None:
                line.result = Result.NO_STARTING_INVENTORY
                line.message = "No stock record for this SKU in the Order Manager warehouse: assign starting inventory there first."
                ctx.run.skipped += 1
                continue
            line.om_on_hand, line.om_locked = om.on_hand, om.locked
            held = implausible(wms_qty, last_synced.get(sku))
            if held:
                line.result, line.message = Result.HELD, held
                ctx.run.failed += 1
                continue
            target = unlocked_on_hand(publish, om.locked)
            if target == om.on_hand:
                line.result = Result.UNCHANGED
                ctx.run.skipped += 1
                continue
            line.on_hand_written = target
            line.result = Result.UPDATED  # until Order Manager says otherwise
            to_write[sku] = line

    write(ctx, warehouse_id, to_write)
    InventoryLine.objects.bulk_create(lines, batch_size=LINE_BATCH)
    ctx.run.save(update_fields=["fetched", "updated", "skipped", "failed"])


def implausible(quantity: int, last: int | None) -> str:
    """Why a WMS quantity must not be written (too large, or a jump from the last synced `last`), or ""."""
    bound = settings.HUB_INVENTORY_MAX_QUANTITY
    if quantity > bound:
        return (
            f"Held: the WMS reports {quantity:,} available, above the sane bound of {bound:,} "
            "(HUB_INVENTORY_MAX_QUANTITY). Not written; Order Manager keeps its current quantity. "
            "Check the item at the warehouse, or raise the bound if the quantity is real."
        )
    factor, units = settings.HUB_INVENTORY_MAX_JUMP_FACTOR, settings.HUB_INVENTORY_MAX_JUMP_UNITS
    if last is not None and quantity > max(last, 0) * factor and quantity - last > units:
        return (
            f"Held: the WMS reports {quantity:,} available, a jump from {last:,} at the last sync (more than "
            f"{factor}x and +{units:,} units: HUB_INVENTORY_MAX_JUMP_FACTOR / HUB_INVENTORY_MAX_JUMP_UNITS). "
            "Not written; Order Manager keeps its current quantity. Check the item at the warehouse, "
            "or raise those settings if the quantity is real."
        )
    return ""


def write(ctx, warehouse_id: int, to_write: dict[str, InventoryLine]) -> None:
    items = [
        {
            "warehouseId": warehouse_id,
            "masterSku": sku,
            "onHandQuantity": line.on_hand_written,
            "stockLocationName": DEFAULT_STOCK_LOCATION,
        }
        for sku, line in to_write.items()
    ]
    for batch in chunked(items, ADJUST_BATCH):
        try:
            results = ctx.order_manager.adjust_inventory(batch, batch_size=ADJUST_BATCH)
        except AuthenticationError:
            raise
        except ConnectorError as exc:
            for item in batch:
                line = to_write[item["masterSku"]]
                line.result, line.on_hand_written, line.message = Result.FAILED, None, str(exc)[:1000]
            ctx.run.failed += len(batch)
            ctx.note_error(f"An adjust call for {len(batch)} SKUs failed: {exc}")
            continue
        by_sku = {r.sku: r for r in results}
        for item in batch:
            line = to_write[item["masterSku"]]
            result = by_sku.get(item["masterSku"])
            if result is None or result.ok:
                ctx.run.updated += 1
                continue
            line.result = ERROR_RESULTS.get(result.error_code, Result.FAILED)
            line.on_hand_written = None
            line.message = f"{result.error_code}: {result.message}"[:1000]
            if line.result == Result.FAILED:
                ctx.run.failed += 1
            else:
                ctx.run.skipped += 1
