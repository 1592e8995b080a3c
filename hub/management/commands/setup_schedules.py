"""`manage.py setup_schedules`: create or update the django-q2 Schedules that drive the hub.

"hub.dispatch" (every minute), "hub.alerts" (every 5 minutes) and "hub.prune" (daily). New
installs get them from data migrations; this command is for existing installs and repairs
(someone deleted or edited one in the admin). Idempotent: running it twice leaves one of each.
"""

from django.core.management.base import BaseCommand

from hub.tasks import install_schedules


class Command(BaseCommand):
    help = "Create or update the django-q2 schedules of the hub (dispatcher, alerts, retention)."

    def handle(self, *args, **options):
        for schedule in install_schedules():
            every = (
                f"every {schedule.minutes} minute(s)"
                if schedule.schedule_type == "I"
                else schedule.get_schedule_type_display().lower()
            )
            self.stdout.write(f"Schedule {schedule.name!r} ({schedule.func}) runs {every}.")
