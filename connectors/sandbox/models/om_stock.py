"""Order Manager catalog and stock of the sandbox: products (`productId`) and their stock per warehouse.

`masterSku` is unique per account. A product with no `OmStock` row in a warehouse has no starting
inventory there (not the same as zero on hand): an inventory adjustment for it is refused (ERR097).
"""

from django.db import models

from .om_accounts import OmAccount, OmWarehouse


class OmProduct(models.Model):
    """A catalog product; `productId` is the primary key, `masterSku` unique per account."""

    account = models.ForeignKey(OmAccount, on_delete=models.CASCADE, related_name="products")
    master_sku = models.CharField(max_length=200)
    name = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "master_sku"], name="sandbox_om_product_sku")]

    def __str__(self) -> str:
        return self.master_sku


class OmStock(models.Model):
    """Stock of a product in a warehouse (one `GLOBAL` location). No row = no starting inventory."""

    product = models.ForeignKey(OmProduct, on_delete=models.CASCADE, related_name="stocks")
    warehouse = models.ForeignKey(OmWarehouse, on_delete=models.CASCADE, related_name="stocks")
    on_hand = models.IntegerField(default=0)
    locked = models.IntegerField(default=0)
    allocated = models.IntegerField(default=0)
    location = models.CharField(max_length=100, default="GLOBAL")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "warehouse"], name="sandbox_om_stock_once")]

    @property
    def available(self) -> int:
        return max(self.on_hand - self.locked - self.allocated, 0)
