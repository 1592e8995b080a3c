"""Tables of the sandbox Order Manager and WMS: one account per tenant, everything keyed by account.

Order Manager accounts are keyed by `username` and WMS accounts by `client_id`, so two tenants of the
hub never see each other's data. The wire ids the APIs hand out (orderId, productId, warehouseId,
orderItemId, WMS orderId, item id, ...) are the primary keys of these rows: unique across accounts,
like the real services' ids, and indexed for free. Every list view filters on an indexed
(account, ...) prefix so the benchmarks (10,000 orders, 50,000 SKUs) stay fast.

Timestamps are stored as aware UTC datetimes truncated to whole seconds (both APIs show seconds);
the WMS renders them in the account's facility time zone without an offset, like the real one.
"""

import hashlib
import hmac
import secrets

from django.db import models
from django.db.models import Q


def hash_secret(value: str) -> str:
    """A keyed digest of a sandbox password, secret or token: the table never holds them in clear.

    Plain SHA-256 (not a slow password hash) on purpose: sandbox credentials are generated, random
    and printed by the `sandbox` command anyway, and every API call looks its token up by digest.
    """
    return hashlib.sha256(value.encode()).hexdigest()


def secret_matches(value: str, digest: str) -> bool:
    return hmac.compare_digest(hash_secret(value), digest)


def new_token() -> str:
    return secrets.token_urlsafe(32)


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


class WarehouseType(models.TextChoices):
    DIRECT_FULFILLMENT = "DIRECT_FULFILLMENT"
    THIRD_PARTY_LOGISTICS = "THIRD_PARTY_LOGISTICS"
    SALES_CHANNEL = "SALES_CHANNEL"
    DROPSHIP_VENDOR = "DROPSHIP_VENDOR"
    RETAIL_STORE = "RETAIL_STORE"


# --------------------------------------------------------------------------- Order Manager


class OmAccount(models.Model):
    """An Order Manager company account; its user signs in with username and password on the install page."""

    username = models.CharField(max_length=150, unique=True)
    password_digest = models.CharField(max_length=64)
    company_id = models.PositiveIntegerField(default=1)
    # Numbers the external-shipment batches (`orderBatchNumber`) of this account.
    last_batch_number = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Order Manager account"

    def __str__(self) -> str:
        return self.username

    def set_password(self, raw: str) -> None:
        self.password_digest = hash_secret(raw)

    def check_password(self, raw: str) -> bool:
        return secret_matches(raw, self.password_digest)


class OmToken(models.Model):
    """A bearer token (issued by a code exchange, or a static one); looked up by digest on every call."""

    account = models.ForeignKey(OmAccount, on_delete=models.CASCADE, related_name="tokens")
    digest = models.CharField(max_length=64, unique=True)
    app = models.ForeignKey("OmApp", on_delete=models.CASCADE, null=True, blank=True, related_name="tokens")
    created_at = models.DateTimeField(auto_now_add=True)


class OmApp(models.Model):
    """A registered Order Manager app: app key, secret digest and the redirect URIs it may use."""

    app_key = models.CharField(max_length=200, unique=True)
    secret_digest = models.CharField(max_length=64)
    redirect_uris = models.JSONField(default=list, help_text="Exact redirect URIs the app registered.")
    name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Order Manager app"

    def __str__(self) -> str:
        return self.name or self.app_key

    def set_secret(self, raw: str) -> None:
        self.secret_digest = hash_secret(raw)

    def check_secret(self, raw: str) -> bool:
        return secret_matches(raw, self.secret_digest)


class OmAuthCode(models.Model):
    """A one-time install code: bound to the app, the account and the redirect URI, short-lived."""

    app = models.ForeignKey(OmApp, on_delete=models.CASCADE, related_name="codes")
    account = models.ForeignKey(OmAccount, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64, unique=True)
    redirect_uri = models.TextField()
    scope = models.CharField(max_length=500, blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


class OmWarehouse(models.Model):
    """A warehouse of the account; `warehouseId` is the primary key."""

    account = models.ForeignKey(OmAccount, on_delete=models.CASCADE, related_name="warehouses")
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=40, choices=WarehouseType.choices, default=WarehouseType.THIRD_PARTY_LOGISTICS)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="sandbox_om_warehouse_name")]

    def __str__(self) -> str:
        return f"{self.account} / {self.name}"


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


# --------------------------------------------------------------------------- 3PL Warehouse Manager


class WmsAccount(models.Model):
    """A 3PL Warehouse Manager REST credential: one customer in one facility."""

    client_id = models.CharField(max_length=200, unique=True)
    secret_digest = models.CharField(max_length=64)
    user_login = models.CharField(max_length=200, blank=True)
    # Which token-body field the credential is keyed by: "user_login" (login name) or
    # "user_login_id" (numeric); the token endpoint refuses the other (stricter than needed).
    login_kind = models.CharField(
        max_length=20, default="user_login", choices=[("user_login", "user_login"), ("user_login_id", "user_login_id")]
    )
    customer_id = models.PositiveIntegerField()
    customer_name = models.CharField(max_length=200, blank=True)
    facility_id = models.PositiveIntegerField()
    facility_name = models.CharField(max_length=200, blank=True)
    facility_time_zone = models.CharField(max_length=64, default="UTC")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "WMS account"

    def __str__(self) -> str:
        return self.client_id

    def set_secret(self, raw: str) -> None:
        self.secret_digest = hash_secret(raw)

    def check_secret(self, raw: str) -> bool:
        return secret_matches(raw, self.secret_digest)


class WmsToken(models.Model):
    account = models.ForeignKey(WmsAccount, on_delete=models.CASCADE, related_name="tokens")
    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()


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


# --------------------------------------------------------------------------- faults


class FaultConfig(models.Model):
    """Fault injection for one sandbox account (exactly one of `om_account` / `wms_account`).

    Rates are probabilities in [0, 1] drawn from a per-account RNG seeded with `seed`, so a test run
    is repeatable. `quota_per_second` is a real token bucket (burst = one second's worth).
    """

    om_account = models.OneToOneField(OmAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="faults")
    wms_account = models.OneToOneField(
        WmsAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="faults"
    )
    rate_429 = models.FloatField(default=0.0)
    rate_500 = models.FloatField(default=0.0)
    timeout_rate = models.FloatField(default=0.0)
    timeout_seconds = models.FloatField(default=3.0, help_text="How long a 'timeout' answer sleeps before replying.")
    malformed_rate = models.FloatField(default=0.0)
    quota_per_second = models.FloatField(null=True, blank=True, help_text="Blank: no quota.")
    retry_after_seconds = models.FloatField(default=1.0, help_text="Wait announced on an injected 429.")
    apply_to_token_endpoint = models.BooleanField(default=False)
    seed = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(om_account__isnull=False) & Q(wms_account__isnull=True))
                | (Q(om_account__isnull=True) & Q(wms_account__isnull=False)),
                name="sandbox_faults_one_account",
            )
        ]

    def __str__(self) -> str:
        return f"faults of {self.om_account or self.wms_account}"
