"""`manage.py setup_schedules`: create or update the django-q2 Schedule that drives the hub.

New installs get it from a data migration; this command is for existing installs and repairs
(someone deleted or edited it in the admin). Idempotent: running it twice leaves one schedule.
"""
from django.core.management.base import BaseCommand

from hub.tasks import DISPATCH_SCHEDULE_NAME, install_dispatch_schedule


class Command(BaseCommand):
    help = "Create or update the django-q2 schedule that runs the hub's dispatcher every minute."

    def handle(self, *args, **options):
        schedule = install_dispatch_schedule()
        self.stdout.write(f"Schedule {DISPATCH_SCHEDULE_NAME!r} ({schedule.func}) runs every {schedule.minutes} minute(s).")
