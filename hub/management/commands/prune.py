"""`manage.py prune [--days N] [--dry-run]`: apply the retention rules of hub.ops.retention now.

The "hub.prune" schedule runs the same thing daily; this command is for a first clean-up, a
different retention, or seeing what would go (`--dry-run`).
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hub.ops.retention import prune


class Command(BaseCommand):
    help = "Delete succeeded sync runs (with their events and inventory lines) and cleared alerts older than N days."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"Keep this many days (default HUB_RETENTION_DAYS, now {settings.HUB_RETENTION_DAYS}).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Count what would be deleted; delete nothing.")
        parser.add_argument("--batch-size", type=int, default=1000, help="Runs deleted per transaction.")

    def handle(self, *args, days=None, dry_run=False, batch_size=1000, **options):
        try:
            counts = prune(days, dry_run=dry_run, batch_size=batch_size)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        verb = "Would delete" if dry_run else "Deleted"
        kept = settings.HUB_RETENTION_DAYS if days is None else days
        self.stdout.write(
            f"{verb} {counts['runs']} sync run(s), {counts['events']} order event(s), "
            f"{counts['inventory_lines']} inventory line(s), {counts['alerts']} cleared alert(s), "
            f"{counts['webhook_deliveries']} webhook delivery(ies) and {counts['findings']} resolved finding(s) "
            f"older than {kept} day(s)."
        )
