"""Tables of the WMS webhook intake (hub.webhooks): one endpoint per warehouse, its deliveries, its counts.

- `WebhookEndpoint`: a warehouse's push endpoint. Off until an operator enables it; its URL path
  carries a random token (`/webhooks/wms/<token>/`) that the operator pastes into the WMS
  (Customers → Event Notifications) and can rotate (the old URL then answers 404). The signature
  key is either pasted (`public_key_pem`) or fetched from `key_url` (the WMS's published key,
  `https://secure-wms.com/events/webhook/key` by default; the sandbox's own for sandbox tenants)
  and cached on the row.
- `WebhookDelivery`: one accepted event, unique per (endpoint, tplId, wmsEventId), so a delivery
  repeated by the sender, or twice at once, is recorded once; `outcome` says what the queued task
  did with it.
- `WebhookCount`: how many requests were accepted or refused, per endpoint and reason (endpoint
  null: requests to a token no endpoint has). Counted with one conditional UPDATE each, so the
  admin and `/metrics` read a handful of rows.
"""

from __future__ import annotations

import secrets

from django.db import models

from tenants.models import Warehouse

# Where 3PL Warehouse Manager publishes the key its webhooks are signed with (docs/wire-protocols.md, WMS-W3).
DEFAULT_KEY_URL = "https://secure-wms.com/events/webhook/key"


def new_webhook_token() -> str:
    """32 random bytes, URL-safe: the unguessable part of an endpoint's path."""
    return secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    warehouse = models.OneToOneField(Warehouse, on_delete=models.CASCADE, related_name="webhook_endpoint")
    enabled = models.BooleanField(
        default=False, help_text="Accept events pushed by the WMS. Polling runs on its schedule either way."
    )
    token = models.CharField(max_length=64, unique=True, default=new_webhook_token, editable=False)
    key_url = models.URLField(
        "public key URL",
        default=DEFAULT_KEY_URL,
        help_text="Where the WMS publishes the key its webhooks are signed with (used when no key is pasted).",
    )
    public_key_pem = models.TextField(
        "public key (PEM)", blank=True, help_text="Paste the key to pin it; empty: fetched from the key URL."
    )
    fetched_key_pem = models.TextField(blank=True, editable=False)
    key_fetched_at = models.DateTimeField(null=True, blank=True, editable=False)
    token_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_event_at = models.DateTimeField("last event received", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "WMS webhook endpoint"

    def __str__(self) -> str:
        return f"Webhooks of {self.warehouse}"

    @property
    def path(self) -> str:
        return f"/webhooks/wms/{self.token}/"


class WebhookDelivery(models.Model):
    class Outcome(models.TextChoices):
        QUEUED = "queued", "Received, not processed yet"
        RUN_QUEUED = "run_queued", "Run queued"
        RUN_PENDING = "run_pending", "Run already queued or running (follow-up requested)"
        NO_JOB = "no_job", "Recorded; no job follows this event"
        NOT_RUNNABLE = "not_runnable", "Ignored: the job may not run"
        UNKNOWN_TYPE = "unknown_type", "Ignored: unknown event type"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    tpl_id = models.CharField(max_length=40)
    wms_event_id = models.CharField(max_length=40)
    event_type = models.CharField(max_length=60)
    event_at = models.DateTimeField(null=True, blank=True, help_text="eventDateTimeUtc (or dateTime) of the event.")
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.QUEUED)
    detail = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "tpl_id", "wms_event_id"], name="unique_webhook_event")
        ]
        indexes = [models.Index(fields=["received_at"], name="webhook_delivery_received")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.tpl_id}:{self.wms_event_id}"


class WebhookCount(models.Model):
    class Reason(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        UNKNOWN_TOKEN = "unknown_token", "Refused: no endpoint has this token (404)"
        DISABLED = "disabled", "Refused: webhooks turned off for the warehouse"
        TENANT_ARCHIVED = "tenant_archived", "Refused: tenant archived or inactive"
        OVERSIZED = "oversized", "Refused: body over the cap"
        UNSIGNED = "unsigned", "Refused: no Signature header"
        BAD_SIGNATURE = "bad_signature", "Refused: signature does not verify"
        NO_KEY = "no_key", "Refused: no public key available"
        MALFORMED = "malformed", "Refused: not a WMS event"
        STALE = "stale", "Refused: event too old"
        REPLAYED = "replayed", "Refused: event id already received"
        UNKNOWN_TYPE = "unknown_type", "Ignored: unknown event type"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, null=True, blank=True, related_name="counts"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    count = models.PositiveBigIntegerField(default=0)
    last_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "reason"], name="unique_webhook_count"),
            models.UniqueConstraint(
                fields=["reason"], condition=models.Q(endpoint__isnull=True), name="unique_webhook_count_hubwide"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: {self.count}"
