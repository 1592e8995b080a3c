"""Order Manager orders of the sandbox: orders (`orderId`), their lines, and recorded external shipments.

`OrderStatus` is the spec's `orderStatus` enum. Shipments recorded by
`PUT /v1.1/shipment/external` are kept one row per call, repeats included, so a duplicate send shows.
"""

from django.db import models

from .om_accounts import OmAccount, OmWarehouse
from .om_stock import OmProduct


class OrderStatus(models.TextChoices):
    """Order Manager `orderStatus` enum, as in the spec."""

    UNRESOLVED = "UNRESOLVED"
    AWAITING_PAYMENT = "AWAITING_PAYMENT"
    AWAITING_SHIPMENT = "AWAITING_SHIPMENT"
    AWAITING_MC_FULFILLMENT = "AWAITING_MC_FULFILLMENT"
    AWAITING_3PL_EXPORT = "AWAITING_3PL_EXPORT"
    AWAITING_DROPSHIP = "AWAITING_DROPSHIP"
    PENDING_FULFILLMENT = "PENDING_FULFILLMENT"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"
    ON_HOLD = "ON_HOLD"
    SKU_UNPROCESSED = "SKU_UNPROCESSED"
    PROCESSED_OUTSIDE_OF_SKUBANA = "PROCESSED_OUTSIDE_OF_SKUBANA"
    INBOUND_SHIPMENT_PLAN = "INBOUND_SHIPMENT_PLAN"


class OmOrder(models.Model):
    """An order; `orderId` is the primary key."""

    account = models.ForeignKey(OmAccount, on_delete=models.CASCADE, related_name="orders")
    order_number = models.CharField(max_length=100)
    status = models.CharField(max_length=40, choices=OrderStatus.choices, default=OrderStatus.AWAITING_3PL_EXPORT)
    warehouse = models.ForeignKey(OmWarehouse, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    sales_channel_id = models.IntegerField(default=1)
    sales_channel_name = models.CharField(max_length=100, default="Shopify")
    order_date = models.DateTimeField()
    created_date = models.DateTimeField()
    modified_date = models.DateTimeField()
    ship_date = models.DateTimeField(null=True, blank=True)
    ship_name = models.CharField(max_length=200, blank=True)
    ship_company = models.CharField(max_length=200, blank=True)
    ship_address1 = models.CharField(max_length=200, blank=True)
    ship_address2 = models.CharField(max_length=200, blank=True)
    ship_city = models.CharField(max_length=100, blank=True)
    ship_state = models.CharField(max_length=20, blank=True)
    ship_zip = models.CharField(max_length=20, blank=True)
    ship_country = models.CharField(max_length=50, blank=True)
    ship_phone = models.CharField(max_length=50, blank=True)
    ship_email = models.CharField(max_length=200, blank=True)
    shipping_carrier = models.CharField(max_length=60, blank=True)
    requested_shipping_service = models.CharField(max_length=200, blank=True)
    cancel_reason_type = models.CharField(max_length=60, blank=True)
    cancel_reason_details = models.CharField(max_length=500, blank=True)
    # True once sendtofulfillment moved it; `cancel` prefers such orders (they are at the WMS).
    sent_to_fulfillment = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["account", "modified_date"], name="sandbox_om_order_modified"),
            models.Index(fields=["account", "status", "modified_date"], name="sandbox_om_order_status"),
            models.Index(fields=["account", "order_number"], name="sandbox_om_order_number"),
        ]

    def __str__(self) -> str:
        return self.order_number


class OmOrderItem(models.Model):
    order = models.ForeignKey(OmOrder, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(OmProduct, on_delete=models.PROTECT, related_name="+")
    listing_sku = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, default=0)


class OmShipment(models.Model):
    """An external shipment recorded by `PUT /v1.1/shipment/external`; repeats are kept as repeats."""

    order = models.ForeignKey(OmOrder, on_delete=models.CASCADE, related_name="shipments")
    tracking_number = models.CharField(max_length=200)
    shipping_carrier = models.CharField(max_length=60)
    shipping_service_id = models.IntegerField(null=True, blank=True)
    ship_date = models.DateTimeField()
    created = models.DateTimeField()
    batch_number = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["tracking_number"], name="sandbox_om_shipment_tracking")]
