"""What each side of the sandbox holds now, for the `sandbox status` command and the tests.

`status(om_account, wms_account)` answers in JSON-ready form (`order_manager_status(om_account)`
is its Order Manager half alone, for a tenant whose warehouse runs the sandbox ShipHero): Order Manager orders by status, stock,
products with no starting inventory, every recorded shipment with the duplicates among them and
the discrepancy faults injected (`faults_injected`: per kind, the count and the orders/SKUs hit);
WMS orders by status, available stock of the account's own customer in its facility, and orders
per `referenceNum` with the duplicates among them.
"""

from __future__ import annotations

from collections import Counter

from django.db.models import Count, F

from ..models import OmAccount, OmOrder, OmProduct, OmShipment, OmStock, WmsAccount, WmsOrder, WmsOrderStatus, WmsStock
from . import fault_setup


def status(om_account: OmAccount, wms_account: WmsAccount) -> dict:
    """What each side holds now, in JSON-ready form (see the module docstring)."""
    return {
        "order_manager": order_manager_status(om_account),
        "warehouse_manager": warehouse_manager_status(wms_account),
    }


def order_manager_status(om_account: OmAccount) -> dict:
    """The Order Manager account's orders, stock, shipments and injected discrepancy faults."""
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
    counts = fault_setup.injected(om_account)
    injected = {
        kind: {"count": n, "subjects": fault_setup.injected_subjects(om_account, kind)} for kind, n in counts.items()
    }
    return {
        "username": om_account.username,
        "faults_injected": injected,
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
    }


def warehouse_manager_status(wms_account: WmsAccount) -> dict:
    """The 3PL Warehouse Manager account's orders by status and by referenceNum (duplicates), and stock."""
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
        "client_id": wms_account.client_id,
        "orders_by_status": wms_orders,
        "orders_total": sum(wms_orders.values()),
        "stock_available": wms_stock,
        "orders_per_reference_num": references,
        "duplicate_reference_nums": {ref: n for ref, n in references.items() if n > 1},
    }
