"""3PL Warehouse Manager orders of the sandbox: orders (WMS `orderId`), their lines and shipped packages.

`WmsOrderStatus` is the WMS's `WarehouseTransactionApiStatus`; `version` is what an order's ETag
encodes. The database refuses a second live order with the same `referenceNum` for a customer.
"""

from django.db import models
from django.db.models import Q

from .wms_accounts import WmsAccount
from .wms_stock import WmsItem


class WmsOrderStatus(models.IntegerChoices):
    """`WarehouseTransactionApiStatus`."""

    OPEN = 0, "Open"
    CLOSED = 1, "Closed"
    CANCELED = 2, "Canceled"


class WmsOrder(models.Model):
    """A WMS order; WMS `orderId` is the primary key, `version` is what the ETag encodes."""

    account = models.ForeignKey(WmsAccount, on_delete=models.CASCADE, related_name="orders")
    reference_num = models.CharField(max_length=100)
    status = models.PositiveSmallIntegerField(choices=WmsOrderStatus.choices, default=WmsOrderStatus.OPEN)
    version = models.PositiveIntegerField(default=1)
    customer_id = models.PositiveIntegerField()
    facility_id = models.PositiveIntegerField()
    creation_date = models.DateTimeField()
    last_modified_date = models.DateTimeField()
    process_date = models.DateTimeField(null=True, blank=True)
    po_num = models.CharField(max_length=100, blank=True)
    notes = models.TextField(blank=True)
    shipping_notes = models.TextField(blank=True)
    billing_code = models.CharField(max_length=100, blank=True)
    routing_info = models.JSONField(default=dict, blank=True)
    ship_to = models.JSONField(default=dict, blank=True)
    saved_elements = models.JSONField(default=list, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "reference_num"], name="sandbox_wms_order_ref"),
            models.Index(fields=["account", "last_modified_date"], name="sandbox_wms_order_modified"),
        ]
        constraints = [
            # The WMS refuses a second live order with the same referenceNum for a customer (the
            # hub's dedupe key); a canceled order no longer blocks it. Enforced by the database so
            # two concurrent creates cannot both win, on SQLite as on PostgreSQL.
            models.UniqueConstraint(
                fields=["account", "customer_id", "reference_num"],
                condition=~Q(status=2),
                name="sandbox_wms_order_live_ref",
            )
        ]

    def __str__(self) -> str:
        return self.reference_num


class WmsOrderItem(models.Model):
    order = models.ForeignKey(WmsOrder, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey(WmsItem, on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=200)
    qty = models.DecimalField(max_digits=12, decimal_places=4)
    qualifier = models.CharField(max_length=100, blank=True)


class WmsPackage(models.Model):
    """A shipped package with its tracking number; `contents` is [{orderItemId, qty}]."""

    order = models.ForeignKey(WmsOrder, on_delete=models.CASCADE, related_name="packages")
    tracking_number = models.CharField(max_length=200)
    create_date = models.DateTimeField()
    weight = models.FloatField(default=1.0)
    contents = models.JSONField(default=list)
