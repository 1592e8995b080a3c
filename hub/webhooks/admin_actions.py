"""What an operator does to a webhook endpoint: rotate its token (the old URL answers 404 at once)."""

from __future__ import annotations

from django.utils import timezone

from hub.webhook_models import WebhookEndpoint, new_webhook_token


def rotate_token(endpoint: WebhookEndpoint) -> str:
    """Give `endpoint` a fresh random token; returns the new path (paste it into the WMS again)."""
    endpoint.token = new_webhook_token()
    endpoint.token_rotated_at = timezone.now()
    endpoint.save(update_fields=["token", "token_rotated_at"])
    return endpoint.path


def url_of(endpoint: WebhookEndpoint, base_url: str) -> str:
    """The full URL to paste into the WMS (Customers → Event Notifications; HTTPS in production)."""
    return base_url.rstrip("/") + endpoint.path
