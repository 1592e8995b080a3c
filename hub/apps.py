from django.apps import AppConfig


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = "Sync audit"

    def ready(self):
        from . import checks, signals  # noqa: F401  (registers the system check and the schedule signals)
