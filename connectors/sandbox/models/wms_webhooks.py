"""Webhooks of the sandbox WMS: where an account's events go, the outbox they wait in, the signing key.

- `WmsWebhookSubscription`: an account's Event Notifications setting (one destination URL, as
  the real service's per-customer setting), and `sender_down`, the fault switch that stops its
  deliveries (events keep queueing) so tests and the demo can show polling delivering alone.
- `WmsWebhookEvent`: the durable outbox. An event is written in the same transaction as the change
  it reports (ship, cancel, stock change); its primary key is the event's `wmsEventId`. The sender
  (`connectors.sandbox.control.webhook_sender`) retries it with backoff for `RETRY_FOR` (the real
  service retries ~6 h), then marks it dead.
- `WmsWebhookKey`: the sandbox's RSA key pair (one, like the real service's one published key),
  made on first use; its public half is served at `events/webhook/key`.
"""

from django.db import models

from .wms_accounts import WmsAccount


class WmsWebhookSubscription(models.Model):
    account = models.OneToOneField(WmsAccount, on_delete=models.CASCADE, related_name="webhook")
    url = models.URLField(max_length=500)
    enabled = models.BooleanField(default=True)
    sender_down = models.BooleanField(default=False, help_text="Fault: deliver nothing (events wait in the outbox).")

    class Meta:
        verbose_name = "WMS webhook subscription"

    def __str__(self) -> str:
        return f"{self.account} → {self.url}"


class WmsWebhookEvent(models.Model):
    account = models.ForeignKey(WmsAccount, on_delete=models.CASCADE, related_name="webhook_events")
    event_type = models.CharField(max_length=60)
    order_id = models.PositiveIntegerField(null=True, blank=True)
    tags = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = "WMS webhook event"
        indexes = [models.Index(fields=["delivered_at", "dead_at", "next_attempt_at"], name="wms_webhook_due")]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.pk}"


class WmsWebhookKey(models.Model):
    private_pem = models.TextField()
    public_pem = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
