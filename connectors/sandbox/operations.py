"""What the demo, the tests and the `sandbox` command do to the sandbox's data, as plain functions.

- `ensure_om_account` / `ensure_wms_account`: create or update an account (and its warehouse).
- `seed`: N orders in the pickup status and M SKUs stocked at the WMS; on the Order Manager side
  some SKUs have locked stock, some have no starting inventory, and some extra SKUs exist only in
  Order Manager. The same `seed` value gives the same data (ids and timestamps aside). SKUs are
  `SKU-1`, `SKU-2`, ... on purpose: `SKU-1` is a prefix of `SKU-10`, as in real catalogs, which is
  what the Order Manager's prefix search trips over.
- `ship`: close open WMS orders with packages, tracking numbers and carrier routing.
- `cancel`: cancel Order Manager orders, preferring those already at the WMS.
- `configure_faults`: set an account's fault injection.
- `status`: counts and stock on both sides, recorded shipments and duplicates.

Bulk inserts keep seeding 10,000 orders and 50,000 SKUs to seconds.
"""

from __future__ import annotations

import datetime
import random
import string
from collections import Counter
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F

from . import clock, faults
from .credentials import hash_secret, new_token
from .models import (
    FaultConfig,
    OmAccount,
    OmApp,
    OmAuthCode,
    OmOrder,
    OmOrderItem,
    OmProduct,
    OmShipment,
    OmStock,
    OmToken,
    OmWarehouse,
    OrderStatus,
    WarehouseType,
    WmsAccount,
    WmsItem,
    WmsOrder,
    WmsOrderStatus,
    WmsPackage,
    WmsStock,
)

BATCH = 2000
FAULT_FIELDS = (
    "rate_429",
    "rate_500",
    "timeout_rate",
    "timeout_seconds",
    "malformed_rate",
    "quota_per_second",
    "retry_after_seconds",
    "apply_to_token_endpoint",
    "seed",
)
# (WMS carrier name, mode, SCAC, tracking number maker)
CARRIERS = (
    ("UPS", "Ground", "UPGN", lambda rng: "1Z" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=16))),
    ("FedEx", "FedEx Ground", "FDEG", lambda rng: "".join(rng.choices(string.digits, k=12))),
    ("USPS", "Priority Mail", "USPS", lambda rng: "9400" + "".join(rng.choices(string.digits, k=18))),
)
ADDRESSES = (
    ("Ada Lovelace", "12 Analytical Ave", "Springfield", "IL", "62701"),
    ("Grace Hopper", "9 Compiler Ct", "Arlington", "VA", "22201"),
    ("Alan Turing", "42 Enigma Rd", "Austin", "TX", "73301"),
    ("Katherine Johnson", "7 Orbit Way", "Hampton", "VA", "23669"),
    ("Edsger Dijkstra", "1 Shortest Path", "Portland", "OR", "97201"),
)
CHANNELS = ((1, "Shopify"), (2, "Amazon"))
OM_CARRIERS = (("UPS", "UPS Ground"), ("FEDEX", "FedEx Home Delivery"), ("USPS", "USPS Priority Mail"))


# ------------------------------------------------------------------ accounts


def ensure_om_account(
    username: str, password: str, *, warehouse_name: str, warehouse_type: str = WarehouseType.THIRD_PARTY_LOGISTICS
) -> OmAccount:
    """Create or update an Order Manager account with (at least) the named warehouse."""
    account = OmAccount.objects.filter(username=username).first() or OmAccount(username=username)
    account.set_password(password)
    account.save()
    if account.company_id == 1 and account.pk != 1:  # a distinct company id, sent back as ``cid`` on install
        account.company_id = account.pk
        account.save(update_fields=["company_id"])
    OmWarehouse.objects.update_or_create(
        account=account, name=warehouse_name, defaults={"type": warehouse_type, "active": True}
    )
    return account


def ensure_om_app(app_key: str, secret: str, *, redirect_uris: list[str], name: str = "") -> OmApp:
    """Register (or update) an Order Manager app: its key, secret digest and redirect URIs (merged)."""
    app = OmApp.objects.filter(app_key=app_key).first() or OmApp(app_key=app_key, name=name or app_key)
    app.set_secret(secret)
    app.redirect_uris = sorted(set(app.redirect_uris or []) | set(redirect_uris))
    app.save()
    return app


def install_code(app: OmApp, account: OmAccount, redirect_uri: str, scope: str = "") -> tuple[str, int]:
    """The install page's approve step without a browser: a one-time code and the ``cid`` it redirects with.

    Same rules as the page: the redirect URI must be one the app registered."""
    if redirect_uri not in (app.redirect_uris or []):
        raise ValueError(f"{redirect_uri} is not a redirect URI registered for the app {app.app_key}")
    code = new_token()
    OmAuthCode.objects.create(
        app=app,
        account=account,
        digest=hash_secret(code),
        redirect_uri=redirect_uri,
        scope=scope,
        expires_at=clock.now() + datetime.timedelta(minutes=5),
    )
    return code, account.company_id


def static_token(account: OmAccount) -> str:
    """A token for an app installed by hand (the merchant copies it from Order Manager)."""
    value = new_token()
    OmToken.objects.create(account=account, digest=hash_secret(value))
    return value


def ensure_wms_account(
    client_id: str,
    secret: str,
    *,
    customer_id: int,
    facility_id: int,
    user_login: str = "",
    customer_name: str = "",
    facility_name: str = "",
    facility_time_zone: str = "UTC",
    login_kind: str = "user_login",
) -> WmsAccount:
    """Create or update a WMS credential for one customer in one facility, keyed by ``login_kind``."""
    account = WmsAccount.objects.filter(client_id=client_id).first() or WmsAccount(client_id=client_id)
    account.set_secret(secret)
    account.user_login = user_login
    account.login_kind = login_kind
    account.customer_id, account.facility_id = customer_id, facility_id
    account.customer_name = customer_name or f"Customer {customer_id}"
    account.facility_name = facility_name or f"Facility {facility_id}"
    account.facility_time_zone = facility_time_zone
    account.save()
    return account


def om_warehouse(account: OmAccount, name: str | None = None) -> OmWarehouse:
    """The account's warehouse by name, or its first one."""
    warehouses = account.warehouses.order_by("pk")
    found = warehouses.filter(name=name).first() if name else warehouses.first()
    if found is None:
        raise ValueError(f"Order Manager account {account} has no warehouse {name or ''}".strip())
    return found


# ------------------------------------------------------------------ seeding


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
    rng = random.Random(seed)
    warehouse = warehouse or om_warehouse(om_account)
    now = clock.now()
    sku_names = [f"SKU-{n}" for n in range(1, skus + 1)]
    om_only = [f"OMONLY-{n}" for n in range(1, -(-skus // 10) + 1)] if skus else []
    with transaction.atomic():
        # Order Manager catalog and stock.
        OmProduct.objects.bulk_create(
            [
                OmProduct(account=om_account, master_sku=sku, name=f"Sandbox product {sku}")
                for sku in sku_names + om_only
            ],
            batch_size=BATCH,
            ignore_conflicts=True,
        )
        products = dict(
            OmProduct.objects.filter(account=om_account, master_sku__in=sku_names + om_only).values_list(
                "master_sku", "pk"
            )
        )
        existing = dict(
            OmStock.objects.filter(warehouse=warehouse, product_id__in=products.values()).values_list(
                "product_id", "pk"
            )
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

        # WMS item master and stock summaries.
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
        WmsStock.objects.bulk_update(
            old_rows, ["total_received", "on_hand", "allocated", "available"], batch_size=BATCH
        )

        # Orders.
        orderable = list(
            WmsItem.objects.filter(account=wms_account, customer_id=None).values_list("sku", flat=True).order_by("pk")
        )
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
            carrier, service = rng.choice(OM_CARRIERS)
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
                OmOrder.objects.filter(
                    account=om_account, order_number__in=[o.order_number for o in created]
                ).values_list("order_number", "pk")
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
    return {
        "orders_created": orders,
        "order_numbers": [f"SO-{n:06d}" for n in (start + 1, start + orders)] if orders else [],
        "skus": skus,
        "om_only_skus": len(om_only),
        "locked_skus": sum(1 for i in range(skus) if _sku_kind(i) == "locked"),
        "no_starting_inventory_skus": sum(1 for i in range(skus) if _sku_kind(i) == "no_stock"),
        "warehouse": {"warehouseId": warehouse.pk, "name": warehouse.name, "type": warehouse.type},
    }


# ------------------------------------------------------------------ ship, cancel


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


def ship(wms_account: WmsAccount, count: int | None = None, *, seed: int | None = None) -> list[dict]:
    """Close up to `count` open WMS orders (all when None), oldest first, with one tracked package each."""
    rng = random.Random(seed)
    open_orders = WmsOrder.objects.filter(account=wms_account, status=WmsOrderStatus.OPEN).order_by("pk")
    if count is not None:
        open_orders = open_orders[:count]
    now = clock.now()
    shipped = []
    with transaction.atomic():
        orders = list(open_orders.prefetch_related("items"))
        packages = []
        for order in orders:
            carrier, mode, scac, make_tracking = rng.choice(CARRIERS)
            tracking = make_tracking(rng)
            order.status = WmsOrderStatus.CLOSED
            order.version += 1
            order.last_modified_date = order.process_date = now
            order.routing_info = {
                **(order.routing_info or {}),
                "carrier": carrier,
                "mode": mode,
                "scacCode": scac,
                "trackingNumber": tracking,
            }
            packages.append(
                WmsPackage(
                    order=order,
                    tracking_number=tracking,
                    create_date=now,
                    contents=[{"orderItemId": item.pk, "qty": float(item.qty)} for item in order.items.all()],
                )
            )
            shipped.append(
                {
                    "orderId": order.pk,
                    "referenceNum": order.reference_num,
                    "carrier": carrier,
                    "mode": mode,
                    "scacCode": scac,
                    "trackingNumber": tracking,
                }
            )
        WmsOrder.objects.bulk_update(
            orders, ["status", "version", "last_modified_date", "process_date", "routing_info"], batch_size=BATCH
        )
        WmsPackage.objects.bulk_create(packages, batch_size=BATCH)
    return shipped


def cancel(
    om_account: OmAccount,
    count: int,
    *,
    wms_account: WmsAccount | None = None,
    reason_type: str = "BUYER_CANCELLED",
    details: str = "Cancelled by the customer (sandbox)",
) -> list[dict]:
    """Cancel `count` Order Manager orders that are neither shipped nor cancelled.

    Preference: orders open at the WMS (`wms_account` given), then orders sent to fulfillment,
    then the rest; oldest first within each group.
    """
    candidates = list(
        OmOrder.objects.filter(account=om_account)
        .exclude(status__in=[OrderStatus.SHIPPED, OrderStatus.CANCELLED])
        .order_by("pk")
        .values("pk", "order_number", "sent_to_fulfillment")
    )
    at_wms = set()
    if wms_account is not None:
        at_wms = set(
            WmsOrder.objects.filter(
                account=wms_account,
                status=WmsOrderStatus.OPEN,
                reference_num__in=[c["order_number"] for c in candidates],
            ).values_list("reference_num", flat=True)
        )
    candidates.sort(key=lambda c: (c["order_number"] not in at_wms, not c["sent_to_fulfillment"], c["pk"]))
    chosen = candidates[:count]
    OmOrder.objects.filter(pk__in=[c["pk"] for c in chosen]).update(
        status=OrderStatus.CANCELLED,
        modified_date=clock.now(),
        cancel_reason_type=reason_type,
        cancel_reason_details=details,
    )
    return [
        {"orderId": c["pk"], "orderNumber": c["order_number"], "at_wms": c["order_number"] in at_wms} for c in chosen
    ]


# ------------------------------------------------------------------ faults


def configure_faults(
    *, om_account: OmAccount | None = None, wms_account: WmsAccount | None = None, clear: bool = False, **values
) -> FaultConfig:
    """Set (only) the given fault fields of one account; `clear` first resets every field to its default."""
    unknown = set(values) - set(FAULT_FIELDS)
    if unknown:
        raise ValueError(f"Unknown fault setting(s): {', '.join(sorted(unknown))}")
    if (om_account is None) == (wms_account is None):
        raise ValueError("Give exactly one of om_account and wms_account")
    for name in ("rate_429", "rate_500", "timeout_rate", "malformed_rate"):
        if values.get(name) is not None and not 0.0 <= values[name] <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1")
    if values.get("quota_per_second") is not None and values["quota_per_second"] < 0:
        raise ValueError("quota_per_second must not be negative")
    config, _ = FaultConfig.objects.get_or_create(om_account=om_account, wms_account=wms_account)
    if clear:
        defaults = FaultConfig()
        for name in FAULT_FIELDS:
            setattr(config, name, getattr(defaults, name))
    for name, value in values.items():
        if value is not None:
            setattr(config, name, value)
    if values.get("quota_per_second") == 0:
        config.quota_per_second = None
    config.save()
    faults.reset()
    return config


def fault_settings(config: FaultConfig | None) -> dict:
    if config is None:
        return {name: getattr(FaultConfig(), name) for name in FAULT_FIELDS}
    return {name: getattr(config, name) for name in FAULT_FIELDS}


# ------------------------------------------------------------------ status


def status(om_account: OmAccount, wms_account: WmsAccount) -> dict:
    """What each side holds now, in JSON-ready form (see the module docstring)."""
    om_orders = dict(
        OmOrder.objects.filter(account=om_account).values_list("status").annotate(n=Count("pk")).order_by()
    )
    om_stock = {
        sku: {"on_hand": on_hand, "locked": locked, "warehouse": warehouse}
        for sku, on_hand, locked, warehouse in OmStock.objects.filter(product__account=om_account)
        .order_by("product_id")
        .values_list("product__master_sku", "on_hand", "locked", "warehouse__name")
    }
    om_without_stock = list(
        OmProduct.objects.filter(account=om_account, stocks__isnull=True)
        .order_by("pk")
        .values_list("master_sku", flat=True)
    )
    shipments = list(
        OmShipment.objects.filter(order__account=om_account)
        .order_by("pk")
        .values("order_id", "order__order_number", "tracking_number", "shipping_carrier", "batch_number")
    )
    pairs = Counter((s["order_id"], s["tracking_number"]) for s in shipments)
    per_order = Counter(s["order_id"] for s in shipments)
    wms_status_names = {value: label.lower() for value, label in WmsOrderStatus.choices}
    wms_orders = {
        wms_status_names[value]: n
        for value, n in WmsOrder.objects.filter(account=wms_account)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    }
    references = dict(
        WmsOrder.objects.filter(account=wms_account)
        .values_list("reference_num")
        .annotate(n=Count("pk"))
        .order_by("reference_num")
    )
    wms_stock: dict[str, float] = {}
    for sku, available in (
        WmsStock.objects.filter(account=wms_account, facility_id=F("account__facility_id"), item__customer_id=None)
        .order_by("pk")
        .values_list("item__sku", "available")
    ):
        wms_stock[sku] = wms_stock.get(sku, 0) + available
    return {
        "order_manager": {
            "username": om_account.username,
            "orders_by_status": om_orders,
            "orders_total": sum(om_orders.values()),
            "stock": om_stock,
            "skus_without_starting_inventory": om_without_stock,
            "shipments": {
                "count": len(shipments),
                "duplicates": sum(n - 1 for n in pairs.values()),
                "orders_with_several_shipments": sum(1 for n in per_order.values() if n > 1),
                "recorded": [
                    {
                        "orderId": s["order_id"],
                        "orderNumber": s["order__order_number"],
                        "trackingNumber": s["tracking_number"],
                        "carrier": s["shipping_carrier"],
                        "batchNumber": s["batch_number"],
                    }
                    for s in shipments
                ],
            },
        },
        "warehouse_manager": {
            "client_id": wms_account.client_id,
            "orders_by_status": wms_orders,
            "orders_total": sum(wms_orders.values()),
            "stock_available": wms_stock,
            "orders_per_reference_num": references,
            "duplicate_reference_nums": {ref: n for ref, n in references.items() if n > 1},
        },
    }
