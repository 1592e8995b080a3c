"""One tenant warehouse and how to reach its WMS (the system it runs, and that system's credentials)."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from connectors.wms import systems as wms_systems

from ..fields import EncryptedTextField
from .tenant import TIME_ZONE_CHOICES, Tenant, validate_time_zone


class WmsLoginKind(models.TextChoices):
    """Which token-body field carries ``Warehouse.user_login`` (docs/wire-protocols.md WMS-1).

    ``user_login``: Drewcrandall/ExtensivSharp Services/AuthenticationService.cs; ``user_login_id``:
    singer-io/tap-3plcentral tap_3plcentral/client.py, GT-Logistics/extensiv-client
    src/Authentication/AccessTokenAuthentication.php; airbytehq/airbyte source-tplcentral
    source.py sends whichever one is configured.
    """

    LOGIN_NAME = "user_login", "login name (user_login)"
    LOGIN_ID = "user_login_id", "numeric user id (user_login_id)"


class Warehouse(models.Model):
    """One of the tenant's warehouses and how to reach its WMS (Extensiv 3PL Warehouse Manager)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="warehouses")
    name = models.CharField(max_length=200, help_text="Your name for this warehouse, shown in the admin.")
    wms_system = models.CharField(
        "warehouse system",
        max_length=40,
        choices=wms_systems.choices(),
        default=wms_systems.DEFAULT,
        help_text="The WMS this warehouse runs; the jobs it does not support are not offered.",
    )
    wms_base_url = models.URLField(
        "WMS base URL",
        default="https://secure-wms.com",
        help_text="3PL Warehouse Manager REST API root, e.g. https://secure-wms.com.",
    )
    client_id = models.CharField("client id", max_length=200)
    client_secret = EncryptedTextField("client secret")
    user_login = models.CharField(
        "user login",
        max_length=200,
        blank=True,
        help_text="The integration user's 3PL Warehouse Manager login (user_login), if your credential needs one.",
    )
    wms_login_kind = models.CharField(
        "user login is",
        max_length=20,
        choices=WmsLoginKind.choices,
        default=WmsLoginKind.LOGIN_NAME,
        help_text="How the token request names the integration user: by login name (user_login) or by "
        "numeric user id (user_login_id). Credentials exist in both forms; ask your 3PL which.",
    )
    tpl_key = EncryptedTextField(
        "TPL key", blank=True, help_text="3PL GUID; only older single-tenant credentials need it."
    )
    customer_id = models.PositiveIntegerField("customer id")
    facility_id = models.PositiveIntegerField("facility id")
    facility_time_zone = models.CharField(
        max_length=64,
        default="UTC",
        choices=TIME_ZONE_CHOICES,
        validators=[validate_time_zone],
        help_text="3PL Warehouse Manager sends timestamps without an offset; they are read in this zone.",
    )
    # How fast the hub may talk to this WMS. Real answers take hundreds of milliseconds, so calls to
    # it overlap; the hub-wide HUB_WMS_CONCURRENCY_CAP bounds the first, and the second is shared by
    # every warehouse signing in with the same WMS login (tenants.wms_limits).
    send_concurrency = models.PositiveSmallIntegerField(
        "calls at once",
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(32)],
        help_text="How many orders (sends, cancels, per-order reads) one run sends to the WMS at the same "
        "time. Capped hub-wide by HUB_WMS_CONCURRENCY_CAP.",
    )
    wms_requests_per_second = models.FloatField(
        "requests per second",
        default=10.0,
        validators=[MinValueValidator(0.1), MaxValueValidator(1000.0)],
        help_text="At most this many calls a second to the WMS for this WMS login, across every worker and "
        "every warehouse that signs in with it (3PL Warehouse Manager publishes no limit; ask your 3PL).",
    )
    last_tested_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_test_report = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["tenant__name", "name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="unique_warehouse_name_per_tenant")]

    def __str__(self) -> str:
        return f"{self.tenant} / {self.name}"

    def clean(self):
        super().clean()
        if self.wms_login_kind == WmsLoginKind.LOGIN_ID and not (self.user_login or "").strip().isdigit():
            raise ValidationError(
                {
                    "user_login": "With “numeric user id (user_login_id)” the user login must be "
                    "the user's number, digits only (e.g. 1)."
                }
            )
