from django.apps import AppConfig


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = "Sync audit"

    def ready(self):
        from hub.engine import schedule_signals as signals  # noqa: F401  (registers the system check and the schedule signals)
