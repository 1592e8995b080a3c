"""The Order Manager side of one tenant warehouse: where to read orders, and which jobs run when."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from connectors.wms import systems as wms_systems
from connectors.wms.base import Capability

from ..fields import EncryptedTextField
from .tenant import Tenant
from .warehouse import Warehouse


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
        # Reconciliation compares what Order Download moved: it needs what Order Download needs.
        "reconciliation_enabled": (Capability.ORDER_SEND, ("reconciliation_time",)),
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
    reconciliation_enabled = models.BooleanField(
        "Reconciliation",
        default=True,
        help_text="Compare both systems once a day (missed orders, lost export marks, tracking, stock). "
        "It runs only while Order Download is on too: it checks what Order Download moved.",
    )

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
    reconciliation_time = models.TimeField(
        "Reconciliation at (local time)",
        default=datetime.time(4, 0),
        help_text="Local time of day in the tenant's time zone; after the night's Inventory Sync and before "
        "the working day suits it best.",
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
