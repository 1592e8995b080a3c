"""Tenants, the staff who work for them and who hears their alerts."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


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
