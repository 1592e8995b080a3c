"""What tests, the demo and onboarding do to the sandbox ShipHero, outside its API: set up an account,
stock it, play the warehouse (ship, cancel), register webhooks, expire tokens, reset credits.

- `ensure_account(key, refresh_token, ...)`: create or update an account (idempotent by `key`) with a
  customer account and a warehouse of the given names; `customer_account_id(account)` and
  `warehouse_id(account)` are the global ids a client then sends.
- `seed_products(account, {sku: on_hand})` and `set_stock(account, sku, on_hand)`: the customer's
  products and their stock in a warehouse (available is recomputed, allocations kept).
- `ship(account, count=None, partner_order_ids=None, packages=1, seed=None)`: ship pending orders,
  oldest first: one shipment each, `packages` shipping labels (line items spread over them) with
  carrier, method and tracking number; the lines are shipped, the order `fulfilled`, the stock
  leaves the warehouse, and a Shipment Update webhook event is queued. Returns what it did.
- `cancel(account, partner_order_id, reason)`: the warehouse cancels a pending order.
- `register_webhook(account, name, url, secret=None)`: what `webhook_create` does (the vendored
  schema has no webhook mutations; the hub registers none itself); `deliver_webhooks()` sends due events.
- `expire_tokens(account)`, `reset_credits()`, `configure_faults(account, **values)`.
"""

from __future__ import annotations

import random
import string

from django.db import transaction

from connectors.sandbox import clock
from connectors.sandbox.control import fault_setup
from connectors.sandbox.credentials import new_token
from connectors.sandbox.models import (
    ShipHeroAccount,
    ShipHeroCustomerAccount,
    ShipHeroOrder,
    ShipHeroProduct,
    ShipHeroShipment,
    ShipHeroShipmentLineItem,
    ShipHeroShippingLabel,
    ShipHeroWarehouse,
    ShipHeroWebhook,
)
from connectors.sandbox.models.shiphero import FULFILLED, PENDING

from . import credits, ids, mutations, render, stock, webhooks

# (carrier, shipping method, shipping name, tracking number maker, tracking URL prefix)
CARRIERS = (
    (
        "ups",
        "ground",
        "UPS Ground",
        lambda rng: "1Z" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=16)),
        "https://www.ups.com/track?tracknum=",
    ),
    (
        "fedex",
        "fedex_ground",
        "FedEx Ground",
        lambda rng: "".join(rng.choices(string.digits, k=12)),
        "https://www.fedex.com/fedextrack/?trknbr=",
    ),
    (
        "usps",
        "priority",
        "USPS Priority Mail",
        lambda rng: "9400" + "".join(rng.choices(string.digits, k=18)),
        "https://tools.usps.com/go/TrackConfirmAction?tLabels=",
    ),
)


def ensure_account(
    key: str,
    refresh_token: str,
    *,
    customer_account_name: str = "Customer",
    warehouse_identifier: str = "Primary",
    is_3pl: bool = True,
    account_name: str = "",
    credits_max: int | None = None,
    credits_per_second: float | None = None,
    token_lifetime_seconds: int | None = None,
) -> ShipHeroAccount:
    account = ShipHeroAccount.objects.filter(key=key).first() or ShipHeroAccount(key=key)
    account.set_refresh_token(refresh_token)
    account.account_name = account_name or account.account_name or key
    account.is_3pl = is_3pl
    for name, value in (
        ("credits_max", credits_max),
        ("credits_per_second", credits_per_second),
        ("token_lifetime_seconds", token_lifetime_seconds),
    ):
        if value is not None:
            setattr(account, name, value)
    account.save()
    ShipHeroCustomerAccount.objects.get_or_create(account=account, name=customer_account_name)
    ShipHeroWarehouse.objects.get_or_create(account=account, identifier=warehouse_identifier)
    credits.reset()
    return account


def customer(account: ShipHeroAccount, name: str | None = None) -> ShipHeroCustomerAccount:
    rows = account.customer_accounts.order_by("pk")
    found = rows.filter(name=name).first() if name else rows.first()
    if found is None:
        raise ValueError(f"ShipHero account {account} has no customer account {name or ''}".strip())
    return found


def warehouse(account: ShipHeroAccount, identifier: str | None = None) -> ShipHeroWarehouse:
    rows = account.warehouses.order_by("pk")
    found = rows.filter(identifier=identifier).first() if identifier else rows.first()
    if found is None:
        raise ValueError(f"ShipHero account {account} has no warehouse {identifier or ''}".strip())
    return found


def customer_account_id(account: ShipHeroAccount, name: str | None = None) -> str:
    return render.customer_account_id(customer(account, name))


def warehouse_id(account: ShipHeroAccount, identifier: str | None = None) -> str:
    return ids.global_id("Warehouse", warehouse(account, identifier).pk)


def seed_products(
    account: ShipHeroAccount,
    stock_by_sku: dict[str, int],
    *,
    customer_name: str | None = None,
    warehouse_identifier=None,
) -> list[str]:
    """Create (or restock) the customer's products with these on-hand quantities in one warehouse."""
    owner, place, now = customer(account, customer_name), warehouse(account, warehouse_identifier), clock.now()
    with transaction.atomic():
        for sku, on_hand in stock_by_sku.items():
            product, _ = ShipHeroProduct.objects.get_or_create(
                account=account, customer_account=owner, sku=sku, defaults={"name": f"Product {sku}", "created_at": now}
            )
            stock.set_on_hand(product, place, on_hand)
    return list(stock_by_sku)


def set_stock(
    account: ShipHeroAccount, sku: str, on_hand: int, *, customer_name=None, warehouse_identifier=None, reserve=None
) -> dict:
    product = ShipHeroProduct.objects.get(customer_account=customer(account, customer_name), sku=sku)
    with transaction.atomic():
        row = stock.set_on_hand(product, warehouse(account, warehouse_identifier), on_hand, reserve=reserve)
    return {"sku": sku, "on_hand": row.on_hand, "allocated": row.allocated, "available": row.available}


def _pending(account: ShipHeroAccount, partner_order_ids):
    rows = ShipHeroOrder.objects.filter(account=account, fulfillment_status=PENDING).order_by("pk")
    if partner_order_ids is not None:
        rows = rows.filter(partner_order_id__in=list(partner_order_ids))
    return rows


def _ship_one(order: ShipHeroOrder, packages: int, rng: random.Random, shipped_off: bool) -> dict:
    now = clock.now()
    place = order.warehouse or order.account.warehouses.order_by("pk").first()
    shipment = ShipHeroShipment.objects.create(
        order=order, warehouse=place, created_date=now, shipped_off_shiphero=shipped_off
    )
    carrier, method, name, make_tracking, url = rng.choice(CARRIERS)
    labels = []
    for number in range(1, packages + 1):
        tracking = make_tracking(rng)
        labels.append(
            ShipHeroShippingLabel.objects.create(
                shipment=shipment,
                carrier=carrier,
                shipping_method=method,
                shipping_name=name,
                tracking_number=tracking,
                tracking_url=url + tracking,
                cost=f"{rng.uniform(4, 20):.2f}",
                package_number=number,
                created_date=now,
            )
        )
    for index, item in enumerate(order.line_items.order_by("pk")):
        quantity = item.quantity - item.quantity_shipped
        if quantity <= 0:
            continue
        ShipHeroShipmentLineItem.objects.create(
            shipment=shipment, line_item=item, shipping_label=labels[index % packages], quantity=quantity
        )
        stock.ship(order, item, quantity)
        item.quantity_shipped, item.fulfillment_status, item.updated_at = item.quantity, FULFILLED, now
        item.save(
            update_fields=[
                "quantity_shipped",
                "fulfillment_status",
                "updated_at",
                "quantity_allocated",
                "backorder_quantity",
            ]
        )
    order.fulfillment_status, order.updated_at = FULFILLED, now
    order.save(update_fields=["fulfillment_status", "updated_at"])
    webhooks.record(order.account, webhooks.SHIPMENT_UPDATE, webhooks.shipment_update_body(shipment))
    return {
        "order_id": ids.global_id("Order", order.pk),
        "partner_order_id": order.partner_order_id,
        "order_number": order.order_number,
        "shipment_id": ids.global_id("Shipment", shipment.pk),
        "carrier": carrier,
        "shipping_method": method,
        "tracking_numbers": [label.tracking_number for label in labels],
    }


def ship(
    account: ShipHeroAccount,
    count: int | None = None,
    *,
    partner_order_ids=None,
    packages: int = 1,
    seed: int | None = None,
    shipped_off_shiphero: bool = False,
) -> list[dict]:
    """Ship up to `count` pending orders (all when None), oldest first; see the module docstring."""
    if packages < 1:
        raise ValueError("packages must be 1 or more")
    rng = random.Random(seed)
    with transaction.atomic():
        rows = _pending(account, partner_order_ids).select_for_update()
        orders = list(rows[:count] if count is not None else rows)
        return [_ship_one(order, packages, rng, shipped_off_shiphero) for order in orders]


def cancel(account: ShipHeroAccount, partner_order_id: str, reason: str = "Canceled at the warehouse") -> dict:
    with transaction.atomic():
        order = ShipHeroOrder.objects.select_for_update().get(account=account, partner_order_id=partner_order_id)
        if order.fulfillment_status != PENDING:
            raise ValueError(f"Order {partner_order_id} is {order.fulfillment_status}, not pending")
        mutations.cancel(order, reason)
    return {"order_id": ids.global_id("Order", order.pk), "partner_order_id": partner_order_id, "status": "canceled"}


def register_webhook(account: ShipHeroAccount, name: str, url: str, secret: str | None = None) -> ShipHeroWebhook:
    webhook, _ = ShipHeroWebhook.objects.update_or_create(
        account=account, name=name, defaults={"url": url, "shared_signature_secret": secret or new_token()}
    )
    return webhook


def deliver_webhooks(limit: int = 100) -> dict:
    return webhooks.deliver_due(limit)


def expire_tokens(account: ShipHeroAccount) -> int:
    return account.tokens.update(expires_at=clock.now())


def reset_credits() -> None:
    credits.reset()


def configure_faults(account: ShipHeroAccount, **values):
    """`connectors.sandbox.control.fault_setup.configure_faults` for a ShipHero account."""
    return fault_setup.configure_faults(shiphero_account=account, **values)
