from django.apps import AppConfig


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = "Sync audit"

    def ready(self):
        # Imported for what importing them registers: the system checks, the schedule signals, the
        # jobs' bodies for the runner, and the alerts' receiver of the runner's run-finished signal.
        from hub import checks  # noqa: F401
        from hub.engine import schedule_signals  # noqa: F401
        from hub.jobs import registry  # noqa: F401
        from hub.ops.alerts import receivers  # noqa: F401
