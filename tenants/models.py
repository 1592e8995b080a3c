"""Tenants, their staff, their warehouses (WMS connections) and Order Manager connections.

One `Tenant` has several `Warehouse`s; each warehouse has at most one `OrderManagerConnection`
(enforced by a one-to-one key). The jobs of the hub run per Order Manager connection and reach
the WMS through `connection.warehouse`. Credentials are `EncryptedTextField`s: ciphertext in the
database, masked in `repr()`.
"""

import datetime
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from connectors.wms import systems as wms_systems
from connectors.wms.base import Capability

from .fields import EncryptedTextField


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a time zone name such as America/New_York or Europe/Berlin.")


TIME_ZONE_CHOICES = sorted((tz, tz) for tz in zoneinfo.available_timezones() if "/" in tz or tz == "UTC")


class AlertFrequency(models.TextChoices):
    IMMEDIATE = "immediate", "Immediately"
    HOURLY = "hourly", "Hourly digest"
    DAILY = "daily", "Daily digest (08:00 tenant time)"


class Tenant(models.Model):
    """A 3PL client or merchant whose warehouses the hub connects to Order Manager."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(
        max_length=64,
        default="America/New_York",
        choices=TIME_ZONE_CHOICES,
        validators=[validate_time_zone],
        help_text="Inventory schedules are local times of day in this zone.",
    )
    active = models.BooleanField(default=True, help_text="Inactive tenants never run any job.")
    alert_frequency = models.CharField(
        max_length=10,
        choices=AlertFrequency.choices,
        default=AlertFrequency.IMMEDIATE,
        help_text="How the alert contacts hear about problems (hub.ops.alerts): at once, or one digest an hour or a day.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Archived (tenants.removal): a tenant that sent orders to a WMS and is no longer served. Its
    # records stay (they keep those orders from being downloaded and sent again); it is hidden from
    # the admin's lists, the dashboard and /metrics, and none of its jobs runs or alerts.
    archived_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When it was archived; blank: it is in service."
    )
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class TenantMembership(models.Model):
    """A staff user who works for a tenant: in the admin they see and change only its rows."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tenant_memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "tenant"], name="unique_membership")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant}"


class AlertContact(models.Model):
    """Someone who receives the tenant's alert e-mails (hub.ops.alerts), at the tenant's `alert_frequency`."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="alert_contacts")
    email = models.EmailField()
    name = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True, help_text="Inactive contacts receive nothing.")

    class Meta:
        ordering = ["email"]
        constraints = [models.UniqueConstraint(fields=["tenant", "email"], name="unique_alert_contact_per_tenant")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


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


class OrderStatus(models.TextChoices):
    """Order Manager `orderStatus` values an operator may pick as the pickup status."""

    AWAITING_3PL_EXPORT = "AWAITING_3PL_EXPORT", "Awaiting 3PL Export"
    AWAITING_SHIPMENT = "AWAITING_SHIPMENT", "Awaiting Shipment"
    AWAITING_DROPSHIP = "AWAITING_DROPSHIP", "Awaiting Dropship"
    PENDING_FULFILLMENT = "PENDING_FULFILLMENT", "Pending Fulfillment"


class TokenSource(models.TextChoices):
    APP_INSTALL = "app_install", "App install (Connect to Order Manager)"
    PASTED = "pasted", "Pasted token (app installed by hand)"


class OrderManagerConnection(models.Model):
    """The Order Manager side of one tenant warehouse: the seed's three parameters and the jobs' settings."""

    # Each job's switch -> the warehouse capability it needs (connectors.wms) and its other settings.
    # The admin offers a job only where the warehouse's system supports it; hub.engine.eligibility
    # refuses it otherwise.
    JOB_SWITCHES = {
        "order_download_enabled": (Capability.ORDER_SEND, ("order_download_interval",)),
        "cancel_download_enabled": (Capability.CANCEL_ORDER, ("cancel_download_interval",)),
        "shipment_confirmation_enabled": (Capability.SHIPMENT_PICKUP, ("shipment_confirmation_interval",)),
        "inventory_sync_enabled": (Capability.INVENTORY_PICKUP, ("inventory_time", "inventory_times_per_day")),
    }

    warehouse = models.OneToOneField(Warehouse, on_delete=models.CASCADE, related_name="order_manager")
    base_url = models.URLField("API base URL", default="https://api.skubana.com")
    auth_base_url = models.URLField(
        "auth base URL",
        default="https://app.skubana.com",
        help_text="Host of the app-install endpoints (/oauth/authorize, /oauth/token); the app host for the real service.",
    )
    # The hub never stores the Order Manager password: the tenant types it on Order Manager's own
    # install page; the hub keeps only the token the install yields (connectors.order_manager.install).
    access_token = EncryptedTextField(
        "app access token",
        blank=True,
        help_text="Set by Connect to Order Manager (app install), or pasted for an app installed by hand.",
    )
    token_source = models.CharField(
        max_length=20,
        choices=TokenSource.choices,
        blank=True,
        editable=False,
        help_text="How the current access token came.",
    )
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    connected_at = models.DateTimeField(null=True, blank=True, editable=False)
    connected_account = models.CharField(
        "authorized by account",
        max_length=200,
        blank=True,
        editable=False,
        help_text="The Order Manager account that approved the install (its cid when Order Manager names no user).",
    )
    warehouse_name = models.CharField(
        max_length=200,
        blank=True,
        help_text="The warehouse's name in Order Manager. Blank: orders of every location, and no Inventory Sync.",
    )
    om_warehouse_id = models.BigIntegerField("resolved warehouse id", null=True, blank=True, editable=False)
    om_warehouse_type = models.CharField("resolved warehouse type", max_length=40, blank=True, editable=False)
    pickup_status = models.CharField(
        max_length=40, choices=OrderStatus.choices, default=OrderStatus.AWAITING_3PL_EXPORT
    )
    start_from = models.DateTimeField(
        null=True,
        blank=True,
        help_text="First run only: orders modified before this time are not downloaded.",
    )

    order_download_enabled = models.BooleanField("Order Download", default=True)
    cancel_download_enabled = models.BooleanField("Order Cancel Download", default=True)
    shipment_confirmation_enabled = models.BooleanField("Shipment Confirmation", default=True)
    inventory_sync_enabled = models.BooleanField("Inventory Sync", default=True)

    order_download_interval = models.PositiveIntegerField(
        "Order Download every (minutes)", default=5, validators=[MinValueValidator(1), MaxValueValidator(1440)]
    )
    cancel_download_interval = models.PositiveIntegerField(
        "Order Cancel Download every (minutes)", default=5, validators=[MinValueValidator(1), MaxValueValidator(1440)]
    )
    shipment_confirmation_interval = models.PositiveIntegerField(
        "Shipment Confirmation every (minutes)", default=15, validators=[MinValueValidator(1), MaxValueValidator(1440)]
    )
    inventory_time = models.TimeField(
        "Inventory Sync at (local time)",
        default=datetime.time(23, 0),
        help_text="Local time of day in the tenant's time zone; the end of the day suits Order Manager best.",
    )
    inventory_times_per_day = models.PositiveSmallIntegerField(
        "Inventory Sync times a day",
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
        help_text="Once a day is recommended when anything is put On Hold in Order Manager.",
    )

    last_tested_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_test_report = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    # A new connection does nothing until an operator activates it on the pre-flight page, after a
    # successful Test connection (hub.engine.eligibility refuses every job until then).
    activated_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When an operator activated the connection; blank: its jobs do not run.",
    )
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    # Circuit breaker (hub.engine.circuit): set by the runner, read by the dispatcher.
    paused_until = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Repeated temporary failures: scheduled runs wait until then (cool-off).",
    )
    credentials_rejected_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Order Manager or the WMS rejected the credentials: scheduled runs stop until they are changed "
        "or Test connection succeeds (retrying a wrong password could lock the account).",
    )
    pause_reason = models.TextField(blank=True, editable=False)

    class Meta:
        verbose_name = "Order Manager connection"

    def __str__(self) -> str:
        # Named after both ends, Order Manager's warehouse first: the connection is the link, not the WMS.
        source = self.warehouse_name.strip() or "Order Manager"
        return f"{self.warehouse.tenant} / {source} → {self.warehouse.name}"

    @property
    def tenant(self) -> Tenant:
        return self.warehouse.tenant

    @property
    def is_activated(self) -> bool:
        return self.activated_at is not None

    @property
    def wms_system(self):
        """The `connectors.wms.base.WmsSystem` of the tenant warehouse."""
        return wms_systems.system_of(self.warehouse.wms_system)

    def unsupported_job_fields(self) -> set[str]:
        """The job settings of this connection that its warehouse system has no use for."""
        system = self.wms_system
        return {
            name
            for switch, (capability, settings_fields) in self.JOB_SWITCHES.items()
            if not system.supports(capability)
            for name in (switch, *settings_fields)
        }

    def run_state(self, now: datetime.datetime) -> tuple[str, str]:
        """(what the connection is doing, level "ok"/"warn"/"bad"): the one answer the admin lists and
        the dashboard show. The most blocking condition wins."""
        if self.warehouse.tenant.is_archived:
            return "tenant archived", "warn"
        if not self.warehouse.tenant.active:
            return "tenant inactive", "warn"
        if not self.is_activated:
            return "not activated", "warn"
        if not self.access_token:
            return "not connected to Order Manager", "bad"
        if self.credentials_rejected_at:
            return "stopped: credentials rejected", "bad"
        if self.paused_until and self.paused_until > now:
            zone = self.warehouse.tenant.zone
            return f"paused until {timezone.localtime(self.paused_until, zone):%Y-%m-%d %H:%M %Z}", "warn"
        return "running", "ok"

    @property
    def needs_connect(self) -> bool:
        """No token yet, or Order Manager rejected it: the Connect / Reconnect button is the way on."""
        return not self.access_token or self.credentials_rejected_at is not None

    def clear_circuit(self) -> None:
        """Credentials changed or tested good: scheduled runs resume (see hub.engine.circuit)."""
        type(self).objects.filter(pk=self.pk).update(credentials_rejected_at=None, paused_until=None, pause_reason="")
        self.credentials_rejected_at = self.paused_until = None
        self.pause_reason = ""

    @property
    def inventory_sync_blocked_reason(self) -> str:
        """Why Inventory Sync cannot run, or "" when it can."""
        if not self.warehouse_name.strip():
            return "Inventory Sync needs the Order Manager warehouse name: without it Order Manager would not know which warehouse's stock is meant."
        return ""

    def clean(self):
        errors = {}
        if self.inventory_sync_enabled and not self.warehouse_name.strip():
            errors["warehouse_name"] = (
                "Inventory Sync is on but the warehouse name is blank. Enter the warehouse's name as it appears "
                "in Order Manager, or turn Inventory Sync off (orders would then come from every location)."
            )
        if errors:
            raise ValidationError(errors)


class OmInstallState(models.Model):
    """A pending Connect to Order Manager: the single-use ``state`` of one app install.

    Bound to the connection and the operator who started it, valid for ``HUB_OM_INSTALL_STATE_SECONDS``;
    consumed by one conditional UPDATE, so a replayed or concurrent callback finds it used.
    """

    nonce = models.CharField(max_length=64, unique=True)
    connection = models.ForeignKey(OrderManagerConnection, on_delete=models.CASCADE, related_name="install_states")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


# Per-connection mappings and rules live in their own module; imported here so Django registers them.
from .mappings import CarrierMapping, ConnectionRules, ItemFilter, ShipMethodMapping, SkuAlias  # noqa: E402,F401
