"""A pending Connect to Order Manager (the app install's single-use state)."""

from django.conf import settings
from django.db import models

from .connection import OrderManagerConnection


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
