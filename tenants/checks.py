"""System checks for settings an operator must get right before going live."""

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=False)
def check_encryption_keys(app_configs, **kwargs):
    messages = []
    keys = [k.strip() for k in settings.HUB_ENCRYPTION_KEYS if k.strip()]
    for index, key in enumerate(keys):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            messages.append(
                Error(
                    f"HUB_ENCRYPTION_KEYS entry {index + 1} is not a Fernet key.",
                    hint="Generate one with: python manage.py rotate_secrets --generate-key",
                    id="tenants.E002",
                )
            )
    if not keys:
        if settings.DEBUG:
            messages.append(
                Warning(
                    "HUB_ENCRYPTION_KEYS is not set: credentials are encrypted with the public development key.",
                    hint="Fine for the demo; set HUB_ENCRYPTION_KEYS before storing real credentials.",
                    id="tenants.W001",
                )
            )
        else:
            messages.append(
                Error(
                    "HUB_ENCRYPTION_KEYS must be set in production.",
                    hint="Generate one with: python manage.py rotate_secrets --generate-key",
                    id="tenants.E001",
                )
            )
    return messages


@register(Tags.security, deploy=True)
def check_production_secret_key(app_configs, **kwargs):
    if not settings.DEBUG and getattr(settings, "DEV_SECRET_KEY", None) == settings.SECRET_KEY:
        return [
            Error(
                "SECRET_KEY is the embedded development default.",
                hint="Set SECRET_KEY in the environment.",
                id="tenants.E003",
            )
        ]
    return []


@register(Tags.security, deploy=False)
def check_order_manager_app(app_configs, **kwargs):
    """Without the hub's app key and secret, no connection can be connected to Order Manager."""
    if settings.DEBUG:
        return []
    missing = [name for name in ("HUB_OM_APP_KEY", "HUB_OM_APP_SECRET") if not getattr(settings, name, "")]
    if missing:
        return [
            Warning(
                f"{' and '.join(missing)} not set: Connect to Order Manager (the app install) cannot work.",
                hint="Set the app key and secret of the hub's Order Manager app; only pasted access tokens work meanwhile.",
                id="tenants.W002",
            )
        ]
    return []
