"""What the jobs share of reading Order Manager: the warehouse id, and orders too large to read.

- `resolve_warehouse_id(ctx)`: the Order Manager warehouse id of the connection, resolved once from
  its warehouse name (and stored with the warehouse's type); None when the name is blank (all
  locations).
- `window_pages(ctx, statuses, warehouse_id, unread, page_size)`: the orders in `statuses` modified
  in the run's window, a page at a time, counted as fetched; orders too large to read even alone
  are appended to `unread` instead.
- `note_unread(ctx, unread)`: orders Order Manager could not hand over even alone (over the answer
  size cap) are counted as failed and named in the run's errors; the caller keeps the watermark.
"""

from __future__ import annotations

from collections.abc import Iterator

from connectors.order_manager.wire_orders import ReceivedOrder
from hub.engine.batching import chunked


def resolve_warehouse_id(ctx) -> int | None:
    """The Order Manager warehouse id of the connection (resolved once from its name); None = all locations."""
    connection = ctx.connection
    if not connection.warehouse_name.strip():
        return None
    if connection.om_warehouse_id is None:
        found = ctx.order_manager.resolve_warehouse(connection.warehouse_name)
        connection.om_warehouse_id = found.warehouse_id
        connection.om_warehouse_type = found.type
        type(connection).objects.filter(pk=connection.pk).update(
            om_warehouse_id=connection.om_warehouse_id, om_warehouse_type=connection.om_warehouse_type
        )
    return connection.om_warehouse_id


def note_unread(ctx, unread) -> None:
    """Orders too large to read, even alone: the rest of the window went on without them.

    Their ids are unknown (Order Manager cannot list ids without the orders), so no record can
    hold them; the run says where they are and the caller keeps the watermark, so every run
    reads the window again (orders already stored are skips) until they fit.
    """
    for item in unread:
        ctx.run.failed += 1
        ctx.note_error(
            f"{item.message} Split or trim that order in Order Manager; until then each run reads "
            "this window again (watermark kept) and the other orders go on."
        )


def window_pages(ctx, statuses: list[str], warehouse_id, unread: list, page_size: int) -> Iterator[list[ReceivedOrder]]:
    """The window's orders in `statuses`, `page_size` at a time (see the module docstring)."""
    orders = ctx.order_manager.iter_orders(
        statuses=statuses,
        warehouse_id=warehouse_id,
        modified_from=ctx.window_from,
        modified_to=ctx.window_to,
        limit=page_size,
        on_too_large=unread.append,
    )
    for page in chunked(orders, page_size):
        ctx.run.fetched += len(page)
        yield page
