"""One tenant warehouse and how to reach its WMS: the system it runs and that system's credentials.

The credential fields of every system sit on `Warehouse` (a few each); `SYSTEM_FIELDS` says which
belong to which system and `REQUIRED_FIELDS` which of them a system needs, so the forms show only
the chosen system's fields and `Warehouse.clean()` requires only those. The system itself is a key
of `connectors.wms.systems.SYSTEMS`, validated against it (not a choices list frozen into a
migration: adding a system adds no migration for the key).
"""

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


def validate_wms_system(value: str) -> None:
    if value not in wms_systems.SYSTEMS:
        known = ", ".join(f"{key} ({system.label})" for key, system in wms_systems.SYSTEMS.items())
        raise ValidationError(f"“{value}” is not a warehouse system the hub knows; known: {known}.")


THREEPL = "3pl_warehouse_manager"
SHIPHERO = "shiphero"
# Base URL each system's form starts from (the real service's API root).
DEFAULT_BASE_URLS = {THREEPL: "https://secure-wms.com", SHIPHERO: "https://public-api.shiphero.com"}
# The credential and setting fields of each system (shown in its forms; the others are hidden).
SYSTEM_FIELDS = {
    THREEPL: (
        "client_id",
        "client_secret",
        "user_login",
        "wms_login_kind",
        "tpl_key",
        "customer_id",
        "facility_id",
        "facility_time_zone",
    ),
    SHIPHERO: ("shiphero_refresh_token", "shiphero_customer_account_id", "shiphero_warehouse_id"),
}
# What each system cannot run without (checked by Warehouse.clean()).
REQUIRED_FIELDS = {
    THREEPL: ("client_id", "client_secret", "customer_id", "facility_id"),
    SHIPHERO: ("shiphero_refresh_token", "shiphero_warehouse_id"),
}
# Every field that is some system's credential: changing one gives rejected credentials another chance.
CREDENTIAL_FIELDS = frozenset(f for fields in SYSTEM_FIELDS.values() for f in fields) - {"facility_time_zone"}


class Warehouse(models.Model):
    """One of the tenant's warehouses and how to reach its WMS (see the module docstring)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="warehouses")
    name = models.CharField(max_length=200, help_text="Your name for this warehouse, shown in the admin.")
    wms_system = models.CharField(
        "warehouse system",
        max_length=40,
        default=wms_systems.DEFAULT,
        validators=[validate_wms_system],
        help_text="The WMS this warehouse runs; the jobs it does not support are not offered.",
    )
    wms_base_url = models.URLField(
        "WMS base URL",
        default="https://secure-wms.com",
        help_text="The WMS API root: https://secure-wms.com for 3PL Warehouse Manager, "
        "https://public-api.shiphero.com for ShipHero.",
    )
    # 3PL Warehouse Manager (required for it by clean(), blank for the other systems).
    client_id = models.CharField("client id", max_length=200, blank=True)
    client_secret = EncryptedTextField("client secret", blank=True)
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
    customer_id = models.PositiveIntegerField("customer id", null=True, blank=True)
    facility_id = models.PositiveIntegerField("facility id", null=True, blank=True)
    facility_time_zone = models.CharField(
        max_length=64,
        default="UTC",
        choices=TIME_ZONE_CHOICES,
        validators=[validate_time_zone],
        help_text="3PL Warehouse Manager sends timestamps without an offset; they are read in this zone.",
    )
    # ShipHero (docs/wire-protocols.md): a refresh token is exchanged for expiring access tokens.
    shiphero_refresh_token = EncryptedTextField(
        "refresh token",
        blank=True,
        help_text="The ShipHero API user's refresh token (ShipHero app: My Account > Developer).",
    )
    shiphero_customer_account_id = models.CharField(
        "customer account id",
        max_length=100,
        blank=True,
        help_text="Only for a 3PL account acting for one of its customers: that customer's account id. "
        "Blank for a brand's own account.",
    )
    shiphero_warehouse_id = models.CharField(
        "ShipHero warehouse id",
        max_length=100,
        blank=True,
        help_text="The id of the warehouse in ShipHero that ships this warehouse's orders and holds its stock.",
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

    def clean_fields(self, exclude=None):
        """Django's field checks, and the chosen system's required fields (`REQUIRED_FIELDS`) checked
        as Django checks a required field: only those the form shows (`exclude` are not on it)."""
        errors: dict = {}
        try:
            super().clean_fields(exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        system = wms_systems.SYSTEMS.get(self.wms_system)
        for name in REQUIRED_FIELDS.get(self.wms_system, ()):
            value = getattr(self, name)
            if name in (exclude or ()) or name in errors or (value is not None and str(value).strip()):
                continue
            errors[name] = [f"This field is required for {system.label if system else 'this warehouse system'}."]
        if errors:
            raise ValidationError(errors)

    def clean(self):
        super().clean()
        if self.wms_system != THREEPL:
            return
        if self.wms_login_kind == WmsLoginKind.LOGIN_ID and not (self.user_login or "").strip().isdigit():
            raise ValidationError(
                {
                    "user_login": "With “numeric user id (user_login_id)” the user login must be "
                    "the user's number, digits only (e.g. 1)."
                }
            )
