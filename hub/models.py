"""The hub's audit trail and per-(connection, job) state.

- `SyncRun`: one row per job execution, written before the first outside call and finished after
  the last, so a crash leaves a visible `running` row that the next run closes as `abandoned`.
- `OrderRecord`: one row per (connection, Order Manager order id), unique in the database; the
  dedupe key that keeps an order from ever being sent twice. Never deleted by pruning.
- `OrderEvent`: the append-only timeline of an order.
- `InventoryLine`: what one inventory run saw and wrote for one SKU.
- `JobState`: watermark, next due time and lease of one (connection, job). A run is claimed with
  one conditional UPDATE on the lease (`hub.engine.leases`), on SQLite as on PostgreSQL.
"""

from django.db import models
from django.utils import timezone

from tenants.models import OrderManagerConnection


class Job(models.TextChoices):
    """The five jobs; the values are the names `manage.py sync JOB` takes."""

    ORDER_DOWNLOAD = "orders", "Order Download"
    CANCEL_DOWNLOAD = "cancellations", "Order Cancel Download"
    SHIPMENT_CONFIRMATION = "shipments", "Shipment Confirmation"
    INVENTORY_SYNC = "inventory", "Inventory Sync"
    RECONCILIATION = "reconciliation", "Reconciliation"


class SyncRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Partial (some items failed)"
        FAILED = "failed", "Failed"
        ABANDONED = "abandoned", "Abandoned (the worker stopped mid-run)"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Run now (admin)"
        COMMAND = "command", "manage.py sync"
        WEBHOOK = "webhook", "WMS webhook"

    connection = models.ForeignKey(OrderManagerConnection, on_delete=models.CASCADE, related_name="sync_runs")
    job = models.CharField(max_length=20, choices=Job.choices)
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.SCHEDULE)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    requests_made = models.PositiveIntegerField(default=0)
    rate_limited = models.PositiveIntegerField("429s received", default=0)
    error = models.TextField(blank=True)
    window_from = models.DateTimeField(null=True, blank=True)
    window_to = models.DateTimeField(null=True, blank=True)
    calls = models.JSONField(default=list, blank=True, help_text="Outside calls of this run (redacted, capped).")

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["connection", "job", "-started_at"], name="run_conn_job_started"),
            models.Index(fields=["status", "-started_at"], name="run_status_started"),
            models.Index(fields=["-started_at"], name="run_started"),
        ]

    def __str__(self) -> str:
        return f"{self.get_job_display()} #{self.pk} ({self.status})"

    @property
    def duration(self):
        return (self.finished_at - self.started_at) if self.finished_at else None

    def summary(self) -> str:
        text = (
            f"{self.get_job_display()} run #{self.pk} for {self.connection}: {self.status}; "
            f"fetched {self.fetched}, created {self.created}, updated {self.updated}, "
            f"skipped {self.skipped}, failed {self.failed}"
        )
        if self.error:
            text += f"\n  error: {self.error}"
        return text


class OrderRecord(models.Model):
    class Status(models.TextChoices):
        NEW = "new", "New"
        AT_WMS = "at_wms", "At WMS"
        SHIPPED = "shipped", "Shipped"
        CONFIRMED = "confirmed", "Confirmed"
        CANCELLED = "cancelled", "Cancelled"
        CANCEL_FAILED = "cancel_failed", "Cancel too late"
        ERROR = "error", "Error"
        SKIPPED = "skipped", "Skipped (every item filtered)"

    connection = models.ForeignKey(OrderManagerConnection, on_delete=models.PROTECT, related_name="orders")
    om_order_id = models.BigIntegerField("Order Manager order id")
    order_number = models.CharField(max_length=200)
    sales_channel = models.CharField(max_length=200, blank=True)
    ship_to = models.CharField("ship-to", max_length=500, blank=True)
    ship_method = models.CharField(max_length=200, blank=True)
    lines = models.JSONField(default=list, blank=True, help_text="[{sku, quantity}] as sent to the WMS.")
    source = models.JSONField(default=dict, blank=True, help_text="The order as downloaded (redacted, capped).")
    wms_payload = models.JSONField(default=dict, blank=True, help_text="The WMS order body built at download.")
    om_modified_at = models.DateTimeField("modified in Order Manager", null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    wms_order_id = models.BigIntegerField("WMS order id", null=True, blank=True)
    om_exported_at = models.DateTimeField(
        "marked exported in Order Manager",
        null=True,
        blank=True,
        help_text="When sendtofulfillment moved the order out of the pickup status.",
    )
    attempts = models.PositiveIntegerField(default=0)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    error_permanent = models.BooleanField(default=False, help_text="Needs the operator: not retried automatically.")
    next_retry_at = models.DateTimeField(null=True, blank=True)
    given_up = models.BooleanField(
        default=False, help_text="Transient failures for 15 days: no more automatic retries."
    )
    cancel_requested = models.BooleanField(default=False, help_text="Cancelled in Order Manager.")
    cancel_handled = models.BooleanField(default=False)
    tracking_numbers = models.JSONField(default=list, blank=True)
    confirmed_tracking_numbers = models.JSONField(default=list, blank=True)
    tracking_in_flight = models.JSONField(
        default=list,
        blank=True,
        help_text="Tracking numbers being sent; non-empty after a crash, so Order Manager is checked before re-sending.",
    )
    # Shipment Confirmation's own retry state; `attempts` above counts sends to the WMS only.
    tracking_attempts = models.PositiveIntegerField(
        default=0, help_text="Tracking sends Order Manager rejected since the order's tracking was last all confirmed."
    )
    tracking_failing_since = models.DateTimeField(
        null=True, blank=True, help_text="The first of those rejections; tracking gives up a bounded time after it."
    )
    tracking_given_up = models.BooleanField(
        default=False,
        help_text="Order Manager rejected the tracking for HUB_TRACKING_GIVE_UP_HOURS: no more automatic retries "
        "until “Retry tracking”.",
    )
    carrier = models.CharField(max_length=100, blank=True)
    service = models.CharField(max_length=200, blank=True)
    ship_date = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "om_order_id"], name="unique_order_per_connection"),
        ]
        indexes = [
            models.Index(fields=["connection", "status"], name="order_conn_status"),
            models.Index(fields=["status", "next_retry_at"], name="order_status_retry"),
            models.Index(fields=["order_number"], name="order_number"),
            models.Index(fields=["connection", "wms_order_id"], name="order_conn_wms"),
            models.Index(fields=["-created_at"], name="order_created"),
        ]

    def __str__(self) -> str:
        return f"Order {self.order_number}"


class OrderEvent(models.Model):
    """One step in an order's life; rows are only ever added."""

    class Kind(models.TextChoices):
        DOWNLOADED = "downloaded", "Downloaded from Order Manager"
        SENT_TO_WMS = "sent_to_wms", "Sent to WMS"
        LINKED_AT_WMS = "linked_at_wms", "Found at WMS (linked, not re-sent)"
        WMS_REJECTED = "wms_rejected", "WMS rejected"
        SEND_FAILED = "send_failed", "Send failed (will retry)"
        EXPORTED = "exported", "Marked exported in Order Manager"
        CANCELLED_IN_OM = "cancelled_in_om", "Cancelled in Order Manager"
        CANCEL_SENT = "cancel_sent", "Cancel sent to WMS"
        CANCEL_TOO_LATE = "cancel_too_late", "Cancel too late: already shipped"
        CANCEL_FAILED = "cancel_failed", "Cancel failed"
        CANCELLED_AT_WMS = "cancelled_at_wms", "Cancelled at the WMS"
        SHIPPED_AT_WMS = "shipped_at_wms", "Shipped at WMS"
        TRACKING_SENT = "tracking_sent", "Tracking sent to Order Manager"
        TRACKING_REJECTED = "tracking_rejected", "Tracking rejected by Order Manager"
        GAVE_UP = "gave_up", "Gave up retrying"
        OPERATOR = "operator", "Operator action"
        FILTERED = "filtered", "Filtered by the item filter"
        HELD = "held", "Held by a rule"
        RELEASED = "released", "Released: the rule is satisfied now"
        RECONCILED = "reconciled", "Healed by Reconciliation"

    order = models.ForeignKey(OrderRecord, on_delete=models.CASCADE, related_name="events")
    run = models.ForeignKey(SyncRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="events")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    message = models.TextField(blank=True)
    sent = models.JSONField(null=True, blank=True, help_text="What the hub sent (redacted, capped).")
    received = models.JSONField(null=True, blank=True, help_text="What came back (redacted, capped).")

    class Meta:
        ordering = ["at", "pk"]
        indexes = [
            models.Index(fields=["order", "at"], name="event_order_at"),
            # The dashboard's "sent to the WMS per day" reads only these kinds over the last days:
            # a small partial index instead of a scan of every event (benchmarks/: 1M orders).
            models.Index(
                fields=["at"], name="event_sent_at", condition=models.Q(kind__in=["sent_to_wms", "linked_at_wms"])
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M:%S}"


class InventoryLine(models.Model):
    class Result(models.TextChoices):
        UPDATED = "updated", "Updated"
        UNCHANGED = "unchanged", "Unchanged"
        NO_STARTING_INVENTORY = "no_starting_inventory", "No starting inventory in Order Manager"
        UNKNOWN_PRODUCT = "unknown_product", "Unknown product"
        FAILED = "failed", "Failed"
        FILTERED = "filtered", "Not synced: item filter"
        HELD = "held", "Held: implausible quantity"

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="inventory_lines")
    sku = models.CharField(max_length=200)
    wms_sku = models.CharField("WMS SKU", max_length=200, blank=True, help_text="Blank: the same as the SKU.")
    wms_available = models.BigIntegerField("WMS available")
    pending_orders = models.IntegerField(
        "in orders not yet at the WMS",
        default=0,
        help_text="Subtracted: quantity of downloaded orders still new or held.",
    )
    buffer = models.IntegerField("safety buffer", default=0, help_text="Subtracted: the connection's safety buffer.")
    om_on_hand = models.BigIntegerField("Order Manager on hand before", null=True, blank=True)
    om_locked = models.IntegerField("Order Manager locked", null=True, blank=True)
    on_hand_written = models.BigIntegerField("on hand written", null=True, blank=True)
    result = models.CharField(max_length=30, choices=Result.choices)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["sku"]
        indexes = [
            models.Index(fields=["run", "result"], name="invline_run_result"),
            models.Index(fields=["sku"], name="invline_sku"),
        ]

    def __str__(self) -> str:
        return f"{self.sku}: {self.result}"


class JobState(models.Model):
    """Watermark, schedule and lease of one (connection, job)."""

    connection = models.ForeignKey(OrderManagerConnection, on_delete=models.CASCADE, related_name="job_states")
    job = models.CharField(max_length=20, choices=Job.choices)
    watermark = models.DateTimeField(null=True, blank=True, help_text="End of the last successful run's window.")
    next_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    lease_token = models.CharField(max_length=64, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_run = models.ForeignKey(SyncRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    last_success_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    claims_without_finish = models.PositiveIntegerField(
        default=0, help_text="Runs claimed but never finished in a row (a worker that crashed mid-run)."
    )
    attention = models.TextField(
        blank=True, help_text="Why this job needs the operator; it does not run until cleared."
    )
    # A WMS event asked for a run after this moment (hub.webhooks.wake): cleared by the next run's start.
    wake_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "job"], name="unique_job_state")]
        indexes = [models.Index(fields=["next_due_at", "lease_expires_at"], name="jobstate_due")]

    def __str__(self) -> str:
        return f"{self.connection} · {self.get_job_display()}"


class Alert(models.Model):
    """One problem of one connection that its tenant's alert contacts hear about (hub.ops.alerts).

    `(connection, cause, key)` names the problem; at most one alert per name is open
    (`cleared_at` null) at a time, enforced by a partial unique constraint, so re-evaluating
    after every run opens nothing twice. `notified_at` / `clear_notified_at` record that the
    opening / the clearing was handled by the notifier (e-mailed, or nobody to tell).
    """

    class Cause(models.TextChoices):
        ORDER_ERROR = "order_error", "Order in error"
        CANCEL_TOO_LATE = "cancel_too_late", "Cancellation came too late"
        AUTH_FAILED = "auth_failed", "Credentials rejected"
        CONNECTION_PAUSED = "connection_paused", "Connection paused"
        NO_STARTING_INVENTORY = "no_starting_inventory", "SKUs without starting inventory"
        JOB_STALE = "job_stale", "Job not succeeding"
        STOCK_HELD = "stock_held", "Implausible stock held"
        TRACKING_GIVEN_UP = "tracking_given_up", "Tracking given up"
        RECONCILIATION = "reconciliation", "Reconciliation found discrepancies"

    class Told(models.TextChoices):
        """How the opening was handled by the notifier."""

        EMAILED = "emailed", "e-mailed to the alert contacts"
        NO_CONTACTS = "no_contacts", "not sent: the tenant has no active alert contact"

    connection = models.ForeignKey(OrderManagerConnection, on_delete=models.CASCADE, related_name="alerts")
    cause = models.CharField(max_length=30, choices=Cause.choices)
    key = models.CharField(
        max_length=100,
        blank=True,
        help_text="What the alert is about within its cause (an order, a job); blank: the connection.",
    )
    message = models.TextField()
    link = models.CharField(max_length=500, blank=True, help_text="Admin path of the thing to look at.")
    opened_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    clear_notified_at = models.DateTimeField(null=True, blank=True)
    told = models.CharField(
        "told", max_length=20, choices=Told.choices, blank=True, help_text="Who heard about the opening, if anyone."
    )

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "cause", "key"],
                condition=models.Q(cleared_at__isnull=True),
                name="unique_open_alert",
            ),
        ]
        indexes = [
            models.Index(fields=["cleared_at", "cause"], name="alert_cleared_cause"),
            models.Index(fields=["notified_at"], name="alert_notified"),
        ]

    def __str__(self) -> str:
        return f"{self.get_cause_display()}: {self.key}" if self.key else self.get_cause_display()

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


class Heartbeat(models.Model):
    """When a periodic task last completed (`name` e.g. "dispatch"); read by /healthz.

    A row in the database rather than the cache: the web process and the cluster's workers share
    no cache (django-q2's own cluster stats live in the cache, so they are invisible to the web
    process with the default per-process cache)."""

    name = models.CharField(max_length=50, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"


# The webhook intake's tables live in their own module (one role each); imported here so Django registers them.
from hub.webhook_models import WebhookCount, WebhookDelivery, WebhookEndpoint  # noqa: E402, F401


class Finding(models.Model):
    """One discrepancy Reconciliation saw between Order Manager, the WMS and the hub's records.

    Unique per (connection, kind, subject): a repeat sighting updates `last_seen_at`, never adds a
    row; a finding the next complete run no longer sees gets `resolved_at` (and reopens, cleared,
    if it comes back). `healed_at` and `heal` record a safe heal the job applied itself.

    Acknowledged (`acknowledged_at`/`_by`, the operator's "Acknowledge", hub.admin.finding_actions):
    no longer open for the alerts and /metrics while unresolved. The acknowledgement is of one
    sighting: a save that reopens the finding (`resolved_at` loaded set, saved cleared) clears it,
    so a reopened finding is acknowledged only when acknowledged after it reopened."""

    class Kind(models.TextChoices):
        MISSED_ORDER = "missed_order", "Missed order (in the pickup status, no hub record)"
        EXPORT_MARK_LOST = "export_mark_lost", "Export mark lost (at the WMS, still in the pickup status)"
        CANCELLED_OPEN = "cancelled_open", "Cancelled in Order Manager, open at the WMS"
        TRACKING_MISSING = "tracking_missing", "Shipped at the WMS, tracking not in Order Manager"
        UNKNOWN_AT_WMS = "unknown_at_wms", "At the WMS with the hub's reference, no hub record"
        STOCK_DRIFT = "stock_drift", "Order Manager on-hand differs from the unlocked rule"

    connection = models.ForeignKey(OrderManagerConnection, on_delete=models.CASCADE, related_name="findings")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    subject = models.CharField(max_length=200, help_text="The Order Manager order id or the SKU.")
    order = models.ForeignKey(OrderRecord, on_delete=models.SET_NULL, null=True, blank=True, related_name="findings")
    om_value = models.CharField("Order Manager says", max_length=500, blank=True)
    hub_value = models.CharField("hub / WMS says", max_length=500, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    healed_at = models.DateTimeField(null=True, blank=True)
    heal = models.CharField("heal applied", max_length=500, blank=True)
    # The operator's word on a finding the job cannot heal (e.g. "cancelled at the WMS by hand"):
    # an acknowledged finding stays listed, no longer counts as open in alerts and /metrics.
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=150, blank=True)
    last_run = models.ForeignKey(SyncRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "kind", "subject"], name="finding_unique_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"

    def save(self, *args, **kwargs):
        if getattr(self, "_loaded_resolved_at", None) is not None and self.resolved_at is None:
            self.acknowledged_at, self.acknowledged_by = None, ""  # reopened: the old acknowledgement lapses
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "acknowledged_at", "acknowledged_by"}
        super().save(*args, **kwargs)
        self._loaded_resolved_at = self.resolved_at

    @classmethod
    def from_db(cls, db, field_names, values):
        finding = super().from_db(db, field_names, values)
        finding._loaded_resolved_at = finding.__dict__.get("resolved_at")
        return finding

    @property
    def is_open(self) -> bool:
        """Unresolved and not acknowledged: what the alerts and /metrics count."""
        return self.resolved_at is None and self.acknowledged_at is None
