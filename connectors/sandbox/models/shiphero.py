"""ShipHero state of the sandbox: accounts and their tokens, customer accounts, warehouses, products and
stock per warehouse, orders with line items, shipments with shipping labels, and the webhook outbox.

The GraphQL API (`connectors.shiphero.sandbox`) reads and writes these rows; the control functions
(`connectors.shiphero.sandbox.control`) play the warehouse. Primary keys are the `legacy_id`s the API
shows; the GraphQL `id`s are ShipHero's relay-style ids, base64 of ``"<Type>:<legacy_id>"`` (e.g.
``U2hpcG1lbnQ6MzE1NTE4MDQy`` is ``Shipment:315518042`` in the documented Shipment Update webhook).

- `ShipHeroAccount`: one developer user of one ShipHero account, keyed by `key` (its e-mail), with
  the digest of its refresh token, its credits bucket (`credits_max`, `credits_per_second`) and the
  lifetime of the access tokens it is given; `ShipHeroToken`: those access tokens (digests, expiry).
- `ShipHeroCustomerAccount`: the 3PL's customer (brand) accounts; orders and products belong to one.
- `ShipHeroWarehouse`: the account's warehouses (`identifier` is the name the API shows).
- `ShipHeroProduct` (a customer's SKU) and `ShipHeroWarehouseProduct` (its stock in one warehouse).
- `ShipHeroOrder`, `ShipHeroLineItem`: orders; a `partner_order_id` is unique per customer account
  in the database, so two concurrent creates of one order cannot both win.
- `ShipHeroShipment`, `ShipHeroShippingLabel`, `ShipHeroShipmentLineItem`: what the warehouse
  shipped, one label per package, and which quantities went in which package.
- `ShipHeroWebhook`, `ShipHeroWebhookEvent`: webhook registrations and the durable outbox.
"""

from django.db import models

from ..credentials import hash_secret

PENDING, FULFILLED, CANCELED = "pending", "fulfilled", "canceled"


class ShipHeroAccount(models.Model):
    key = models.CharField(max_length=200, unique=True, help_text="The developer user's e-mail.")
    refresh_digest = models.CharField(max_length=64, unique=True)
    account_name = models.CharField(max_length=200, blank=True)
    is_3pl = models.BooleanField(default=True)
    credits_max = models.PositiveIntegerField(
        default=4004, help_text="Credits bucket size (and the largest operation)."
    )
    credits_per_second = models.FloatField(default=60.0, help_text="Credits restored a second.")
    token_lifetime_seconds = models.PositiveIntegerField(default=2419200, help_text="28 days, as documented.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "ShipHero account"

    def __str__(self) -> str:
        return self.key

    def set_refresh_token(self, raw: str) -> None:
        self.refresh_digest = hash_secret(raw)


class ShipHeroToken(models.Model):
    account = models.ForeignKey(ShipHeroAccount, on_delete=models.CASCADE, related_name="tokens")
    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()


class ShipHeroCustomerAccount(models.Model):
    account = models.ForeignKey(ShipHeroAccount, on_delete=models.CASCADE, related_name="customer_accounts")
    name = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.name


class ShipHeroWarehouse(models.Model):
    account = models.ForeignKey(ShipHeroAccount, on_delete=models.CASCADE, related_name="warehouses")
    identifier = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.identifier


class ShipHeroProduct(models.Model):
    account = models.ForeignKey(ShipHeroAccount, on_delete=models.CASCADE, related_name="products")
    customer_account = models.ForeignKey(ShipHeroCustomerAccount, on_delete=models.CASCADE, related_name="products")
    sku = models.CharField(max_length=200)
    name = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer_account", "sku"], name="sandbox_sh_product_sku")]

    def __str__(self) -> str:
        return self.sku


class ShipHeroWarehouseProduct(models.Model):
    """One product's stock in one warehouse; `available` = on_hand - allocated - reserve (never below 0)."""

    product = models.ForeignKey(ShipHeroProduct, on_delete=models.CASCADE, related_name="warehouse_products")
    warehouse = models.ForeignKey(ShipHeroWarehouse, on_delete=models.CASCADE, related_name="products")
    on_hand = models.IntegerField(default=0)
    allocated = models.IntegerField(default=0)
    available = models.IntegerField(default=0)
    backorder = models.IntegerField(default=0)
    reserve_inventory = models.IntegerField(default=0)
    non_sellable_quantity = models.IntegerField(default=0)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "warehouse"], name="sandbox_sh_warehouse_product")]
        indexes = [models.Index(fields=["warehouse", "id"], name="sandbox_sh_wp_warehouse")]


class ShipHeroOrder(models.Model):
    account = models.ForeignKey(ShipHeroAccount, on_delete=models.CASCADE, related_name="orders")
    customer_account = models.ForeignKey(ShipHeroCustomerAccount, on_delete=models.CASCADE, related_name="orders")
    warehouse = models.ForeignKey(ShipHeroWarehouse, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    order_number = models.CharField(max_length=200)
    partner_order_id = models.CharField(max_length=200)
    shop_name = models.CharField(max_length=200, blank=True)
    fulfillment_status = models.CharField(max_length=40, default=PENDING)
    order_date = models.DateTimeField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    email = models.CharField(max_length=254, blank=True)
    shipping_address = models.JSONField(default=dict, blank=True)
    shipping_lines = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=list, blank=True)
    required_ship_date = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = "ShipHero order"
        constraints = [
            # The sandbox refuses a second order with the same partner_order_id in a customer
            # account, canceled or not (stricter than a service that may accept it: EVIDENCE.md).
            models.UniqueConstraint(fields=["customer_account", "partner_order_id"], name="sandbox_sh_order_partner_id")
        ]
        indexes = [
            models.Index(fields=["account", "updated_at"], name="sandbox_sh_order_updated"),
            models.Index(fields=["account", "order_number"], name="sandbox_sh_order_number"),
        ]

    def __str__(self) -> str:
        return self.order_number


class ShipHeroLineItem(models.Model):
    order = models.ForeignKey(ShipHeroOrder, on_delete=models.CASCADE, related_name="line_items")
    sku = models.CharField(max_length=200)
    partner_line_item_id = models.CharField(max_length=200)
    product_name = models.CharField(max_length=300, blank=True)
    quantity = models.PositiveIntegerField()
    price = models.CharField(max_length=40)
    quantity_shipped = models.PositiveIntegerField(default=0)
    quantity_allocated = models.PositiveIntegerField(default=0)
    backorder_quantity = models.PositiveIntegerField(default=0)
    fulfillment_status = models.CharField(max_length=40, default=PENDING)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "partner_line_item_id"], name="sandbox_sh_line_partner_id")
        ]


class ShipHeroShipment(models.Model):
    """What left the warehouse for one order: its labels (one a package) and shipped quantities."""

    order = models.ForeignKey(ShipHeroOrder, on_delete=models.CASCADE, related_name="shipments")
    warehouse = models.ForeignKey(ShipHeroWarehouse, on_delete=models.PROTECT, related_name="+")
    created_date = models.DateTimeField()
    shipped_off_shiphero = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["created_date"], name="sandbox_sh_shipment_date")]


class ShipHeroShippingLabel(models.Model):
    shipment = models.ForeignKey(ShipHeroShipment, on_delete=models.CASCADE, related_name="shipping_labels")
    carrier = models.CharField(max_length=100)
    shipping_name = models.CharField(max_length=200)
    shipping_method = models.CharField(max_length=200)
    tracking_number = models.CharField(max_length=200)
    tracking_url = models.CharField(max_length=500, blank=True)
    cost = models.CharField(max_length=40, default="0.00")
    status = models.CharField(max_length=40, default="valid")
    package_number = models.PositiveIntegerField(default=1)
    created_date = models.DateTimeField()


class ShipHeroShipmentLineItem(models.Model):
    """A quantity of one line item shipped in one package (shipping label) of a shipment."""

    shipment = models.ForeignKey(ShipHeroShipment, on_delete=models.CASCADE, related_name="line_items")
    line_item = models.ForeignKey(ShipHeroLineItem, on_delete=models.CASCADE, related_name="+")
    shipping_label = models.ForeignKey(ShipHeroShippingLabel, on_delete=models.CASCADE, related_name="line_items")
    quantity = models.PositiveIntegerField()


class ShipHeroWebhook(models.Model):
    """A `webhook_create` registration: one URL per webhook type (`name`) and account."""

    account = models.ForeignKey(ShipHeroAccount, on_delete=models.CASCADE, related_name="webhooks")
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    shared_signature_secret = models.CharField(max_length=100)
    sender_down = models.BooleanField(default=False, help_text="Fault: deliver nothing (events wait in the outbox).")

    class Meta:
        verbose_name = "ShipHero webhook"
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="sandbox_sh_webhook_name")]

    def __str__(self) -> str:
        return f"{self.name} → {self.url}"


class ShipHeroWebhookEvent(models.Model):
    webhook = models.ForeignKey(ShipHeroWebhook, on_delete=models.CASCADE, related_name="events")
    body = models.JSONField()
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = "ShipHero webhook event"
        indexes = [models.Index(fields=["delivered_at", "dead_at", "next_attempt_at"], name="sh_webhook_due")]
