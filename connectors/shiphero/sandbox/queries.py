"""The sandbox's answers to ShipHero's queries: `account`, `uuid`, `order`, `orders`, `shipment`,
`shipments`, `warehouse_products`, `user_quota` (the Query fields of the vendored schema).

Each top-level field answers its `*QueryResult` (`request_id`, `complexity`, `data`); with
``analyze: true`` only the first two (`data` null: the operation is costed, not run). Everything is
scoped to the caller's account; `customer_account_id` (a 3PL's customer) narrows it, and an id
of another account's customer is refused as not found. Filters: `orders` by every argument but
`allocated_warehouse_id` (same as `warehouse_id` here); `updated_from`/`updated_to` and the
date ranges are inclusive; `shipments(date_from, date_to)` filter on the shipment's creation.
Ids are the global ids the API handed out (`ids.legacy_id`): a legacy number is not found.
"""

from __future__ import annotations

from connectors.sandbox import clock
from connectors.sandbox.models import ShipHeroOrder, ShipHeroShipment, ShipHeroWarehouseProduct

from . import credits, ids, render
from .errors import INVALID, NOT_FOUND, ShipHeroError


def result(info, data_or_loader, *, key: str = "data") -> dict:
    context = info.context
    response_key = info.path.key
    answer = {"request_id": context.request_id, "complexity": context.complexity.get(response_key, 0)}
    answer[key] = None if response_key in context.analyzed else data_or_loader
    return answer


def moment(name: str, value):
    if value is None:
        return None
    try:
        return clock.om_parse(str(value))
    except ValueError:
        raise ShipHeroError(f"{name}: “{value}” is not an ISO 8601 date-time", INVALID) from None


def customer(account, customer_account_id):
    """The account's customer account of that id, None when no id is given; refused when unknown."""
    if customer_account_id is None:
        return None
    pk = render.customer_pk(customer_account_id)
    found = account.customer_accounts.filter(pk=pk).first() if pk else None
    if found is None:
        raise ShipHeroError(f"Customer account {customer_account_id} not found", NOT_FOUND)
    return found


def warehouse(account, warehouse_id):
    if warehouse_id is None:
        return None
    pk = ids.legacy_id("Warehouse", warehouse_id)
    found = account.warehouses.filter(pk=pk).first() if pk else None
    if found is None:
        raise ShipHeroError(f"Warehouse {warehouse_id} not found", NOT_FOUND)
    return found


def _range(rows, field: str, start, end, names: tuple[str, str]):
    if start is not None:
        rows = rows.filter(**{f"{field}__gte": moment(names[0], start)})
    if end is not None:
        rows = rows.filter(**{f"{field}__lte": moment(names[1], end)})
    return rows


def _orders(account):
    return ShipHeroOrder.objects.filter(account=account).select_related("customer_account")


class Query:
    """The root value of a query: one method per Query field (graphql-core calls it with `info`)."""

    def account(self, info, analyze=None):
        account = info.context.account
        data = {
            "id": ids.global_id("Account", account.pk),
            "legacy_id": account.pk,
            "email": account.key,
            "username": account.key,
            "status": "active",
            "is_3pl": account.is_3pl,
            "is_multi_warehouse": account.warehouses.count() > 1,
            "dynamic_slotting": False,
            "customers": lambda info, warehouse_id=None, **paging: render.connection(
                account.customer_accounts.order_by("pk"), render.customer_account, **paging
            ),
            "warehouses": lambda info: [render.warehouse(w) for w in account.warehouses.order_by("pk")],
        }
        return result(info, data)

    def uuid(self, info, legacy_id, entity, analyze=None):
        return result(info, {"legacy_id": legacy_id, "id": ids.global_id(entity, legacy_id)})

    def order(self, info, id, analyze=None):
        if info.path.key in info.context.analyzed:
            return result(info, None)
        pk = ids.legacy_id("Order", id)
        row = _orders(info.context.account).filter(pk=pk).first() if pk else None
        if row is None:
            raise ShipHeroError("Order not found", NOT_FOUND)
        return result(info, render.order_(row))

    def orders(self, info, analyze=None, **filters):
        account = info.context.account
        rows = _orders(account)
        scope = customer(account, filters.pop("customer_account_id", None))
        if scope is not None:
            rows = rows.filter(customer_account=scope)
        for name in ("shop_name", "partner_order_id", "order_number", "fulfillment_status", "email"):
            if filters.get(name) is not None:
                rows = rows.filter(**{name: filters[name]})
        for name in ("warehouse_id", "allocated_warehouse_id"):
            if filters.get(name) is not None:
                rows = rows.filter(warehouse=warehouse(account, filters[name]))
        if filters.get("sku") is not None:
            rows = rows.filter(line_items__sku=filters["sku"]).distinct()
        rows = _range(
            rows, "updated_at", filters.get("updated_from"), filters.get("updated_to"), ("updated_from", "updated_to")
        )
        rows = _range(
            rows,
            "order_date",
            filters.get("order_date_from"),
            filters.get("order_date_to"),
            ("order_date_from", "order_date_to"),
        )
        return result(info, lambda info, **paging: render.connection(rows.order_by("pk"), render.order_, **paging))

    def shipment(self, info, id=None, analyze=None):
        if info.path.key in info.context.analyzed:
            return result(info, None)
        pk = ids.legacy_id("Shipment", id)
        row = self._shipments(info.context.account).filter(pk=pk).first() if pk else None
        if row is None:
            raise ShipHeroError("Shipment not found", NOT_FOUND)
        return result(info, render.shipment(row))

    @staticmethod
    def _shipments(account):
        return ShipHeroShipment.objects.filter(order__account=account).select_related(
            "order__customer_account", "warehouse"
        )

    def shipments(
        self, info, order_id=None, date_from=None, date_to=None, order_date_from=None, order_date_to=None, analyze=None
    ):
        rows = self._shipments(info.context.account)
        if order_id is not None:
            rows = rows.filter(order_id=ids.legacy_id("Order", order_id) or 0)
        rows = _range(rows, "created_date", date_from, date_to, ("date_from", "date_to"))
        rows = _range(rows, "order__order_date", order_date_from, order_date_to, ("order_date_from", "order_date_to"))
        return result(info, lambda info, **paging: render.connection(rows.order_by("pk"), render.shipment, **paging))

    def warehouse_products(self, info, analyze=None, **filters):
        account = info.context.account
        rows = ShipHeroWarehouseProduct.objects.filter(warehouse__account=account).select_related(
            "product__customer_account", "warehouse__account"
        )
        scope = customer(account, filters.get("customer_account_id"))
        if scope is not None:
            rows = rows.filter(product__customer_account=scope)
        if filters.get("warehouse_id") is not None:
            rows = rows.filter(warehouse=warehouse(account, filters["warehouse_id"]))
        if filters.get("sku") is not None:
            rows = rows.filter(product__sku=filters["sku"])
        if filters.get("active") is not None:
            rows = rows.filter(active=filters["active"])
        rows = _range(
            rows, "created_at", filters.get("created_from"), filters.get("created_to"), ("created_from", "created_to")
        )
        rows = _range(
            rows, "updated_at", filters.get("updated_from"), filters.get("updated_to"), ("updated_from", "updated_to")
        )
        return result(
            info, lambda info, **paging: render.connection(rows.order_by("pk"), render.warehouse_product, **paging)
        )

    def user_quota(self, info):
        account = info.context.account
        return {
            "credits_remaining": credits.bucket(account).remaining(),
            "max_available": account.credits_max,
            "increment_rate": int(account.credits_per_second),
        }
