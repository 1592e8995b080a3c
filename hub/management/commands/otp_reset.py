"""`manage.py otp_reset USERNAME`: remove a user's two-factor devices (a lost or replaced phone).

The authenticator app and every recovery code of the user go (`hub.two_factor.devices.reset`); sessions
that signed in with them lose their second factor at their next request. The user then signs in with
the password alone and, where the policy requires it, is sent to enrolment before anything else.
django-otp's own `addstatictoken USERNAME` adds a single recovery code instead, for a user who still has
their app but no codes left.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from hub.two_factor import devices


class Command(BaseCommand):
    help = "Remove a user's two-factor devices (authenticator app and recovery codes), e.g. after a lost phone."

    def add_arguments(self, parser):
        parser.add_argument("username", help="The user whose devices are removed.")

    def handle(self, *args, username, **options):
        try:
            user = get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f'No user "{username}".') from None
        removed = devices.reset(user)
        if removed:
            self.stdout.write(
                f"Removed {removed} two-factor device{'s' if removed != 1 else ''} of {username}: "
                "they sign in with their password and set up two-factor sign-in again."
            )
        else:
            self.stdout.write(f"{username} had no two-factor devices.")
