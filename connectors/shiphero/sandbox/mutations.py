"""The sandbox's answers to ShipHero's mutations: `order_create` and `order_cancel`.

Stricter than the real service where it must choose (EVIDENCE.md):

- `order_create` needs `order_number` and `partner_order_id` (the hub's idempotency key), line
  items with a quantity above 0, distinct `partner_line_item_id`s and SKUs the customer account has;
  a 3PL account must name the customer (`customer_account_id`). A second order with the same
  `partner_order_id` in that customer account is refused (code 6) and creates nothing: the database
  constraint decides between two concurrent creates. The order is allocated in the account's
  first warehouse (or the line items' `warehouse_id`): what is available is allocated, the rest
  backordered.
- `order_cancel` cancels a pending order (its allocation is released) and refuses one already
  fulfilled or canceled (code 7); `force` changes nothing here.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from connectors.sandbox import clock
from connectors.sandbox.models import ShipHeroLineItem, ShipHeroOrder, ShipHeroProduct
from connectors.sandbox.models.shiphero import CANCELED, FULFILLED, PENDING

from . import ids, render, stock, webhooks
from .errors import DUPLICATE, INVALID, NOT_ALLOWED, NOT_FOUND, ShipHeroError
from .queries import customer, moment, result, warehouse

ADDRESS_KEYS = (
    "first_name",
    "last_name",
    "company",
    "address1",
    "address2",
    "city",
    "state",
    "state_code",
    "zip",
    "country",
    "country_code",
    "email",
    "phone",
)


def _customer_for_write(account, customer_account_id):
    scope = customer(account, customer_account_id)
    if scope is not None:
        return scope
    if account.is_3pl:
        raise ShipHeroError("customer_account_id is required for a 3PL account", INVALID)
    return account.customer_accounts.order_by("pk").first()


def _lines(data: dict, scope) -> list[dict]:
    lines = data.get("line_items") or []
    if not lines:
        raise ShipHeroError("An order needs at least one line item", INVALID)
    seen = set()
    for line in lines:
        if line is None:
            raise ShipHeroError("line_items must not contain null", INVALID)
        if line["quantity"] <= 0:
            raise ShipHeroError(f"Line item {line['partner_line_item_id']}: quantity must be above 0", INVALID)
        if line["partner_line_item_id"] in seen:
            raise ShipHeroError(f"Duplicate partner_line_item_id {line['partner_line_item_id']}", INVALID)
        seen.add(line["partner_line_item_id"])
    skus = {line["sku"] for line in lines}
    known = set(ShipHeroProduct.objects.filter(customer_account=scope, sku__in=skus).values_list("sku", flat=True))
    missing = sorted(skus - known)
    if missing:
        raise ShipHeroError(f"Product(s) not found for this customer account: {', '.join(missing)}", NOT_FOUND)
    return lines


class Mutation:
    def order_create(self, info, data):
        account = info.context.account
        scope = _customer_for_write(account, data.get("customer_account_id"))
        for name in ("order_number", "partner_order_id"):
            if not (data.get(name) or "").strip():
                raise ShipHeroError(f"{name} is required (the sandbox is stricter than ShipHero here)", INVALID)
        lines = _lines(data, scope)
        warehouse_ids = {line.get("warehouse_id") for line in lines} - {None}
        if len(warehouse_ids) > 1:
            raise ShipHeroError("The sandbox allocates an order to one warehouse: give one warehouse_id", INVALID)
        target = warehouse(account, warehouse_ids.pop()) if warehouse_ids else account.warehouses.order_by("pk").first()
        now = clock.now()
        address = data["shipping_address"]
        try:
            with transaction.atomic():
                order = ShipHeroOrder.objects.create(
                    account=account,
                    customer_account=scope,
                    warehouse=target,
                    order_number=data["order_number"].strip(),
                    partner_order_id=data["partner_order_id"].strip(),
                    shop_name=data.get("shop_name") or "",
                    fulfillment_status=PENDING,
                    order_date=moment("order_date", data.get("order_date")) or now,
                    created_at=now,
                    updated_at=now,
                    email=data.get("email") or address.get("email") or "",
                    shipping_address={k: address.get(k) for k in ADDRESS_KEYS},
                    shipping_lines=dict(data.get("shipping_lines") or {}),
                    tags=[t for t in (data.get("tags") or []) if t is not None],
                    required_ship_date=moment("required_ship_date", data.get("required_ship_date")),
                )
                ShipHeroLineItem.objects.bulk_create(
                    [
                        ShipHeroLineItem(
                            order=order,
                            sku=line["sku"],
                            partner_line_item_id=line["partner_line_item_id"],
                            product_name=line.get("product_name") or "",
                            quantity=line["quantity"],
                            price=line["price"],
                            created_at=now,
                            updated_at=now,
                        )
                        for line in lines
                    ]
                )
                stock.allocate(order, list(order.line_items.order_by("pk")))
        except IntegrityError:
            raise ShipHeroError(
                f"An order with partner_order_id {data['partner_order_id'].strip()} already exists", DUPLICATE
            ) from None
        return result(info, render.order_(order), key="order")

    def order_cancel(self, info, data):
        account = info.context.account
        scope = customer(account, data.get("customer_account_id"))
        pk = ids.legacy_id("Order", data["order_id"])
        with transaction.atomic():
            rows = ShipHeroOrder.objects.select_for_update().filter(account=account, pk=pk or 0)
            if scope is not None:
                rows = rows.filter(customer_account=scope)
            order = rows.first()
            if order is None:
                raise ShipHeroError("Order not found", NOT_FOUND)
            if order.fulfillment_status in (FULFILLED, CANCELED):
                raise ShipHeroError(
                    f"Order {order.order_number} is {order.fulfillment_status} and cannot be canceled", NOT_ALLOWED
                )
            cancel(order, data.get("reason") or "")
        return result(info, render.order_(order), key="order")


def cancel(order: ShipHeroOrder, reason: str) -> None:
    """Cancel a pending order and release its stock (inside the caller's transaction)."""
    stock.release(order)
    now = clock.now()
    order.fulfillment_status, order.cancel_reason, order.updated_at = CANCELED, reason[:500], now
    order.save(update_fields=["fulfillment_status", "cancel_reason", "updated_at"])
    order.line_items.update(fulfillment_status=CANCELED, updated_at=now)
    webhooks.record(order.account, webhooks.ORDER_CANCELED, webhooks.order_canceled_body(order))
