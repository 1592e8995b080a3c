"""Sandbox data to run the hub against: orders waiting for pickup, and SKUs stocked on both sides.

- `seed`: N orders in the pickup status and M SKUs stocked at the WMS; on the Order Manager side
  some SKUs have locked stock, some have no starting inventory, and some extra SKUs exist only in
  Order Manager. The same `seed` value gives the same data (ids and timestamps aside). SKUs are
  `SKU-1`, `SKU-2`, ... on purpose: `SKU-1` is a prefix of `SKU-10`, as in real catalogs, which is
  what the Order Manager's prefix search trips over.
- `add_other_customer_stock`: another customer of the same 3PL with items (and stock) in the
  account's facility, as a shared facility has.

Bulk inserts keep seeding 10,000 orders and 50,000 SKUs to seconds.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from decimal import Decimal

from django.db import transaction

from .. import clock, webhook_outbox
from ..models import (
    OmAccount,
    OmOrder,
    OmOrderItem,
    OmProduct,
    OmStock,
    OmWarehouse,
    OrderStatus,
    WmsAccount,
    WmsItem,
    WmsStock,
)
from . import BATCH
from .account_setup import om_warehouse

ADDRESSES = (
    ("Ada Lovelace", "12 Analytical Ave", "Springfield", "IL", "62701"),
    ("Grace Hopper", "9 Compiler Ct", "Arlington", "VA", "22201"),
    ("Alan Turing", "42 Enigma Rd", "Austin", "TX", "73301"),
    ("Katherine Johnson", "7 Orbit Way", "Hampton", "VA", "23669"),
    ("Edsger Dijkstra", "1 Shortest Path", "Portland", "OR", "97201"),
)
CHANNELS = ((1, "Shopify"), (2, "Amazon"))
# (carrier, requested shipping service) a seeded Order Manager order is placed with.
ORDER_SHIP_METHODS = (("UPS", "UPS Ground"), ("FEDEX", "FedEx Home Delivery"), ("USPS", "USPS Priority Mail"))


def _sku_kind(index: int) -> str:
    """Which Order Manager situation SKU number `index` (0-based) is in; every kind appears from 3 SKUs."""
    return {1: "locked", 2: "no_stock"}.get(index % 10, "stocked")


def seed(
    om_account: OmAccount,
    wms_account: WmsAccount,
    *,
    orders: int,
    skus: int,
    seed: int | None = None,
    warehouse: OmWarehouse | None = None,
    status: str = OrderStatus.AWAITING_3PL_EXPORT,
) -> dict:
    """Add `skus` WMS-stocked SKUs (upserted) and `orders` new orders in `status` for `warehouse`.

    Order Manager side of the SKUs: most have stock, every tenth (from the 2nd) has locked stock too,
    every tenth (from the 3rd) has no stock row at all (no starting inventory); plus ceil(skus/10)
    SKUs that exist only in Order Manager (`OMONLY-n`). Orders use WMS-stocked SKUs only.
    """
    return seed_with_wms(
        om_account,
        stock_wms=lambda rng, sku_names: _seed_wms_stock(rng, wms_account, sku_names),
        orderable=lambda: list(
            WmsItem.objects.filter(account=wms_account, customer_id=None).values_list("sku", flat=True).order_by("pk")
        ),
        orders=orders,
        skus=skus,
        seed=seed,
        warehouse=warehouse,
        status=status,
    )


def seed_with_wms(
    om_account: OmAccount,
    *,
    stock_wms: Callable[[random.Random, list[str]], None],
    orderable: Callable[[], list[str]],
    orders: int,
    skus: int,
    seed: int | None = None,
    warehouse: OmWarehouse | None = None,
    status: str = OrderStatus.AWAITING_3PL_EXPORT,
) -> dict:
    """`seed` for any sandbox WMS: `stock_wms(rng, sku_names)` stocks the SKUs there (drawing from
    `rng`), `orderable()` lists the SKUs the WMS knows, in a stable order, for the orders' lines."""
    rng = random.Random(seed)
    warehouse = warehouse or om_warehouse(om_account)
    now = clock.now()
    sku_names = [f"SKU-{n}" for n in range(1, skus + 1)]
    om_only = [f"OMONLY-{n}" for n in range(1, -(-skus // 10) + 1)] if skus else []
    # One transaction, and the random draws always in this order (Order Manager stock, WMS stock,
    # orders), so the same seed gives the same data.
    with transaction.atomic():
        _seed_om_catalog(rng, om_account, warehouse, sku_names, om_only)
        stock_wms(rng, sku_names)
        start = _seed_orders(rng, om_account, orderable(), warehouse, orders=orders, status=status, now=now)
    return {
        "orders_created": orders,
        "order_numbers": [f"SO-{n:06d}" for n in (start + 1, start + orders)] if orders else [],
        "skus": skus,
        "om_only_skus": len(om_only),
        "locked_skus": sum(1 for i in range(skus) if _sku_kind(i) == "locked"),
        "no_starting_inventory_skus": sum(1 for i in range(skus) if _sku_kind(i) == "no_stock"),
        "warehouse": {"warehouseId": warehouse.pk, "name": warehouse.name, "type": warehouse.type},
    }


def _seed_om_catalog(
    rng: random.Random, om_account: OmAccount, warehouse: OmWarehouse, sku_names: list[str], om_only: list[str]
) -> None:
    """Order Manager products for every SKU, and their stock in `warehouse` (upserted, see `seed`)."""
    OmProduct.objects.bulk_create(
        [OmProduct(account=om_account, master_sku=sku, name=f"Sandbox product {sku}") for sku in sku_names + om_only],
        batch_size=BATCH,
        ignore_conflicts=True,
    )
    products = dict(
        OmProduct.objects.filter(account=om_account, master_sku__in=sku_names + om_only).values_list("master_sku", "pk")
    )
    existing = dict(
        OmStock.objects.filter(warehouse=warehouse, product_id__in=products.values()).values_list("product_id", "pk")
    )
    new_stock, old_stock = [], []
    for index, sku in enumerate(sku_names + om_only):
        kind = "stocked" if sku in om_only else _sku_kind(index)
        on_hand, locked = rng.randint(0, 50), rng.randint(1, 10) if kind == "locked" else 0
        if kind == "no_stock":
            continue
        row = OmStock(product_id=products[sku], warehouse=warehouse, on_hand=on_hand + locked, locked=locked)
        if row.product_id in existing:
            row.pk = existing[row.product_id]
            old_stock.append(row)
        else:
            new_stock.append(row)
    OmStock.objects.bulk_create(new_stock, batch_size=BATCH)
    OmStock.objects.bulk_update(old_stock, ["on_hand", "locked"], batch_size=BATCH)


def _seed_wms_stock(rng: random.Random, wms_account: WmsAccount, sku_names: list[str]) -> None:
    """WMS items of the account's own customer and their stock summaries in its facility (upserted)."""
    WmsItem.objects.bulk_create(
        [WmsItem(account=wms_account, sku=sku, description=f"Sandbox item {sku}") for sku in sku_names],
        batch_size=BATCH,
        ignore_conflicts=True,
    )
    items = dict(
        WmsItem.objects.filter(account=wms_account, customer_id=None, sku__in=sku_names).values_list("sku", "pk")
    )
    summaries = dict(
        WmsStock.objects.filter(
            account=wms_account, item_id__in=items.values(), qualifier="", facility_id=wms_account.facility_id
        ).values_list("item_id", "pk")
    )
    new_rows, old_rows = [], []
    for sku in sku_names:
        available, allocated = rng.randint(0, 200), rng.randint(0, 5)
        row = WmsStock(
            account=wms_account,
            item_id=items[sku],
            qualifier="",
            facility_id=wms_account.facility_id,
            total_received=available + allocated,
            on_hand=available + allocated,
            allocated=allocated,
            available=available,
        )
        if row.item_id in summaries:
            row.pk = summaries[row.item_id]
            old_rows.append(row)
        else:
            new_rows.append(row)
    WmsStock.objects.bulk_create(new_rows, batch_size=BATCH)
    WmsStock.objects.bulk_update(old_rows, ["total_received", "on_hand", "allocated", "available"], batch_size=BATCH)
    if sku_names:
        # One stock-change event for the account's webhook subscriber (the hub records it, no job follows).
        webhook_outbox.record(wms_account, "InventorySummaryUpdate")


def _seed_orders(
    rng: random.Random,
    om_account: OmAccount,
    orderable: list[str],
    warehouse: OmWarehouse,
    *,
    orders: int,
    status: str,
    now: datetime.datetime,
) -> int:
    """`orders` new Order Manager orders numbered after the account's existing ones, with 1-3 lines of
    SKUs known on both sides (`orderable`: the WMS's). Returns how many orders the account had before."""
    orderable_products = dict(
        OmProduct.objects.filter(account=om_account, master_sku__in=orderable).values_list("master_sku", "pk")
    )
    orderable = [sku for sku in orderable if sku in orderable_products]
    if orders and not orderable:
        raise ValueError("No SKU exists on both sides to put in orders: seed some SKUs first")
    start = OmOrder.objects.filter(account=om_account).count()
    new_orders, lines = [], []
    for n in range(start + 1, start + orders + 1):
        name, street, city, state, zip_code = rng.choice(ADDRESSES)
        channel_id, channel_name = rng.choice(CHANNELS)
        carrier, service = rng.choice(ORDER_SHIP_METHODS)
        placed = now - datetime.timedelta(minutes=rng.randint(5, 3 * 24 * 60))
        new_orders.append(
            OmOrder(
                account=om_account,
                order_number=f"SO-{n:06d}",
                status=status,
                warehouse=warehouse,
                sales_channel_id=channel_id,
                sales_channel_name=channel_name,
                order_date=placed,
                created_date=placed,
                modified_date=now,
                ship_name=name,
                ship_address1=street,
                ship_city=city,
                ship_state=state,
                ship_zip=zip_code,
                ship_country="US",
                ship_phone="555-0100",
                ship_email=f"{name.split()[0].lower()}@example.com",
                shipping_carrier=carrier,
                requested_shipping_service=service,
            )
        )
        lines.append(
            [(sku, rng.randint(1, 3)) for sku in rng.sample(orderable, k=min(len(orderable), rng.randint(1, 3)))]
        )
    created = OmOrder.objects.bulk_create(new_orders, batch_size=BATCH)
    if created and created[0].pk is None:  # backends without RETURNING: read the ids back
        by_number = dict(
            OmOrder.objects.filter(account=om_account, order_number__in=[o.order_number for o in created]).values_list(
                "order_number", "pk"
            )
        )
        for order in created:
            order.pk = by_number[order.order_number]
    OmOrderItem.objects.bulk_create(
        [
            OmOrderItem(
                order_id=order.pk,
                product_id=orderable_products[sku],
                listing_sku=sku,
                quantity=qty,
                unit_price=Decimal(rng.randint(500, 5000)) / 100,
            )
            for order, order_lines in zip(created, lines)
            for sku, qty in order_lines
        ],
        batch_size=BATCH,
    )
    return start


def add_other_customer_stock(wms_account: WmsAccount, skus: dict[str, int], *, customer_id: int | None = None) -> int:
    """Give another customer of the same 3PL items named like ``skus`` with ``available`` stock in
    the account's facility. The credential's stock summaries then really contain that customer's
    rows (a summary row names no customer), as a shared facility does. Returns that customer's id."""
    other = customer_id or wms_account.customer_id + 1000
    with transaction.atomic():
        for sku, available in skus.items():
            item, _ = WmsItem.objects.get_or_create(
                account=wms_account, customer_id=other, sku=sku, defaults={"description": f"Other customer's {sku}"}
            )
            WmsStock.objects.update_or_create(
                account=wms_account,
                item=item,
                qualifier="",
                facility_id=wms_account.facility_id,
                defaults={"total_received": available, "on_hand": available, "available": available},
            )
    return other
