"""Order Manager sign-in side of the sandbox: company accounts, apps, install codes, tokens, warehouses.

An account is keyed by `username`; everything else of an account hangs off it. Passwords, app
secrets, codes and tokens are stored only as digests (`..credentials.hash_secret`), and a token or
code is found by its digest. `warehouseId` on the wire is `OmWarehouse.pk`.
"""

from django.db import models

from ..credentials import hash_secret, secret_matches


class WarehouseType(models.TextChoices):
    DIRECT_FULFILLMENT = "DIRECT_FULFILLMENT"
    THIRD_PARTY_LOGISTICS = "THIRD_PARTY_LOGISTICS"
    SALES_CHANNEL = "SALES_CHANNEL"
    DROPSHIP_VENDOR = "DROPSHIP_VENDOR"
    RETAIL_STORE = "RETAIL_STORE"


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
