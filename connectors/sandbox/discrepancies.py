"""Discrepancy faults of the sandbox Order Manager: success answers that hide what really happened.

Each is what Reconciliation (issue 19) must find, produced on purpose, repeatably: the draws come
from the account's seeded RNG (`faults.draws`, the one the call faults use; none at all while a
rate is 0, so rate 0 changes nothing, not even the other faults' sequence), one per order or SKU
the fault may hit, in the order the endpoint handles them. Every hit is logged as an
`InjectedFault` (`record`), so a test or `sandbox status` can ask what was done to which order/SKU.

- `window_rows` (`GET /v1.1/orders` read over a window, not naming orders by id or number): an
  order is left out of a read with `drop_order_rate` (a draw per order and read) or always when it
  is in `drop_order_ids`, but never out of more than `drop_order_reads` reads in all (counted in
  the log, so it holds across processes). Design choice: the drop happens to *a read*, not to the
  order forever: Order Download's read misses it and a later read (Reconciliation's, or a later
  Order Download's overlap) sees it, which is the "watermark or window skipped it" failure. A read
  is the pages from a page-1 request on (`FaultConfig.window_reads` numbers them; each drop is
  logged with its read): an order left out is left out of every later page of that read too, and
  each page is filled from the orders after it, so a full page stays full, the client pages on,
  and no other order is lost or repeated. Limitation: two window reads of one account overlapping
  in time share the numbering (the later page 1 begins a new read for both).
- `hits(account, config, rate_field, count)`: which of `count` items a rate fault hits (export mark
  lost, tracking write dropped, stock write drifted); the endpoint applies it and calls `record`.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, F

from . import faults
from .models import FaultConfig, InjectedFault

Kind = InjectedFault.Kind


def hits(account, config: FaultConfig | None, rate_field: str, count: int) -> list[bool]:
    """For each of `count` items in handling order: does the fault whose rate is the config's
    `rate_field` hit it? No config, or a rate of 0: no draw, no hit."""
    rate = getattr(config, rate_field, 0.0) if config is not None else 0.0
    if not rate or count <= 0:
        return [False] * max(count, 0)
    return [draw < rate for draw in faults.draws(faults.OM, account.pk, config, count)]


def record(config: FaultConfig, kind: str, hit: Iterable[tuple[object, str]]) -> None:
    """Log the (subject, detail) pairs a fault of `kind` hit."""
    rows = [
        InjectedFault(config=config, kind=kind, subject=str(subject)[:200], detail=detail[:300])
        for subject, detail in hit
    ]
    if rows:
        InjectedFault.objects.bulk_create(rows)


def _times_left_out(config: FaultConfig, order_ids: list[int]) -> dict[str, int]:
    return dict(
        InjectedFault.objects.filter(config=config, kind=Kind.ORDER_DROPPED, subject__in=[str(i) for i in order_ids])
        .values_list("subject")
        .annotate(n=Count("pk"))
        .order_by()
    )


def dropping(config: FaultConfig | None) -> bool:
    return config is not None and config.drop_order_reads > 0 and bool(config.drop_order_rate or config.drop_order_ids)


def _this_read(config: FaultConfig, offset: int) -> int:
    """The number of the window read a page belongs to: a page-1 request begins the next one."""
    if offset == 0:
        FaultConfig.objects.filter(pk=config.pk).update(window_reads=F("window_reads") + 1)
    return FaultConfig.objects.values_list("window_reads", flat=True).get(pk=config.pk)


def window_rows(account, config: FaultConfig | None, queryset, offset: int, limit: int) -> list:
    """Rows [offset, offset + limit) of the ordered `queryset` less the orders this read leaves out
    (see the module docstring): those left out by its earlier pages, and those drawn now, the page
    filled from the rows after them."""
    if not dropping(config):
        return list(queryset[offset : offset + limit])
    read = _this_read(config, offset)
    earlier = InjectedFault.objects.filter(config=config, kind=Kind.ORDER_DROPPED, read=read)
    queryset = queryset.exclude(pk__in=[int(s) for s in earlier.values_list("subject", flat=True)])
    chosen = {int(order_id) for order_id in config.drop_order_ids or ()}
    rows, left_out, position = [], [], offset
    while len(rows) < limit:
        wanted = limit - len(rows)
        chunk = list(queryset[position : position + wanted])
        position += len(chunk)
        before = _times_left_out(config, [row.pk for row in chunk])
        for row in chunk:
            owed = before.get(str(row.pk), 0) < config.drop_order_reads
            if owed and (row.pk in chosen or hits(account, config, "drop_order_rate", 1)[0]):
                left_out.append(row)
            else:
                rows.append(row)
        if len(chunk) < wanted:
            break
    InjectedFault.objects.bulk_create(
        [
            InjectedFault(
                config=config,
                kind=Kind.ORDER_DROPPED,
                subject=str(row.pk),
                read=read,
                detail=f"{row.order_number} ({row.status}) left out of window read {read}",
            )
            for row in left_out
        ]
    )
    return rows
