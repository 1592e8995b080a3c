from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = "Sync audit"

    def ready(self):
        # Imported for what importing them registers: the system checks, the schedule signals, the
        # jobs' bodies for the runner, and the alerts' receiver of the runner's run-finished signal.
        from hub import checks  # noqa: F401
        from hub.engine import schedule_signals  # noqa: F401

        # A webhook event that came during a run gets one follow-up run when it ends (hub.webhooks.wake).
        from hub.engine.signals import run_finished
        from hub.jobs import registry  # noqa: F401
        from hub.ops import tenant_removal
        from hub.ops.alerts import receivers  # noqa: F401
        from hub.two_factor import checks as two_factor_checks  # noqa: F401
        from hub.webhooks import wake

        run_finished.connect(wake.follow_up, dispatch_uid="hub.webhooks.follow_up")

        # Whether a tenant may be deleted depends on its orders at the WMS (tenants.removal).
        tenant_removal.register()


class HubAdminConfig(AdminConfig):
    """django.contrib.admin whose `admin.site` is the hub's `HubAdminSite` (two-factor sign-in).

    Django's documented way to replace the default site: every `admin.site.register` and
    `@admin.register` in the project and in third-party apps lands on the hub's site unchanged.
    """

    default = False  # never picked for the "hub" label by app auto-detection
    default_site = "hub.admin_site.HubAdminSite"


class AuthenticatorAppsConfig(AppConfig):
    """django-otp's TOTP devices under a name in words (its own config names none: "OTP_TOTP")."""

    name = "django_otp.plugins.otp_totp"
    label = "otp_totp"  # unchanged: its migrations and permissions keep their names
    verbose_name = "Two-factor: authenticator apps"
    default_auto_field = "django.db.models.AutoField"


class RecoveryCodesConfig(AppConfig):
    """django-otp's static devices (the hub's recovery codes) under a name in words."""

    name = "django_otp.plugins.otp_static"
    label = "otp_static"
    verbose_name = "Two-factor: recovery codes"
    default_auto_field = "django.db.models.AutoField"
