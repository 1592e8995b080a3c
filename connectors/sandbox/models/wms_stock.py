"""3PL Warehouse Manager item master and stock summaries of the sandbox.

Items belong to the account's own customer (`customer_id` blank) or to another customer of the same
3PL sharing the facility; stock summary rows (item x qualifier x facility) name no customer.
"""

from django.db import models
from django.db.models import Q

from .wms_accounts import WmsAccount


class WmsItem(models.Model):
    """An item of a customer's item master; item `id` is the primary key.

    `customer_id` is blank for the account's own customer. A set value is another customer of the
    same 3PL whose items (often with the same SKU names) share the facility: stock summary rows
    carry no customer, so the credential sees that customer's stock too and a client must keep
    only its own customer's items (`GET /customers/{id}/items`, docs/wire-protocols.md WMS-7/8).
    """

    account = models.ForeignKey(WmsAccount, on_delete=models.CASCADE, related_name="items")
    customer_id = models.PositiveIntegerField(null=True, blank=True)
    sku = models.CharField(max_length=200)
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "sku"], condition=Q(customer_id__isnull=True), name="sandbox_wms_item_sku"
            ),
            models.UniqueConstraint(
                fields=["account", "customer_id", "sku"],
                condition=Q(customer_id__isnull=False),
                name="sandbox_wms_other_customer_item_sku",
            ),
        ]

    def __str__(self) -> str:
        return self.sku


class WmsStock(models.Model):
    """One stock summary row: item x qualifier x facility."""

    account = models.ForeignKey(WmsAccount, on_delete=models.CASCADE, related_name="stocks")
    item = models.ForeignKey(WmsItem, on_delete=models.CASCADE, related_name="stocks")
    qualifier = models.CharField(max_length=100, blank=True)
    facility_id = models.PositiveIntegerField()
    total_received = models.IntegerField(default=0)
    on_hand = models.IntegerField(default=0)
    allocated = models.IntegerField(default=0)
    available = models.IntegerField(default=0)
    on_hold = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "qualifier", "facility_id"], name="sandbox_wms_stock_row")
        ]
        indexes = [models.Index(fields=["account", "id"], name="sandbox_wms_stock_account")]
