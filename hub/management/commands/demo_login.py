"""Create (or reset) the demo admin login and print it. Refuses to run outside DEBUG."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEMO_USERNAME = "admin"
DEMO_PASSWORD = "demo-admin"


class Command(BaseCommand):
    help = "Create the demo superuser admin/demo-admin (DEBUG only) and print the login."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("The demo login is only created with DJANGO_DEBUG=true.")
        user, _ = get_user_model().objects.get_or_create(username=DEMO_USERNAME, defaults={"email": "admin@localhost"})
        user.is_staff = user.is_superuser = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        self.stdout.write(
            f"Demo admin: {settings.HUB_BASE_URL}/admin/  username: {DEMO_USERNAME}  password: {DEMO_PASSWORD}"
        )
