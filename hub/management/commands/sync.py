"""`manage.py sync JOB [--tenant SLUG] [--connection ID]`: run jobs now, print each run's summary.

JOB is orders, cancellations, shipments, inventory or all. Runs every matching connection (of
active tenants) in turn, through the same runner as the scheduler. Exits non-zero when any run
failed or could not start (already running elsewhere).
"""

from django.core.management.base import BaseCommand, CommandError

from hub.engine.runner import JobAlreadyRunning, run_job
from hub.models import Job, SyncRun
from tenants.models import OrderManagerConnection

ORDER = [Job.ORDER_DOWNLOAD, Job.CANCEL_DOWNLOAD, Job.SHIPMENT_CONFIRMATION, Job.INVENTORY_SYNC, Job.RECONCILIATION]


class Command(BaseCommand):
    help = "Run a job (orders, cancellations, shipments, inventory, all) now for matching connections."

    def add_arguments(self, parser):
        parser.add_argument("job", choices=[j.value for j in ORDER] + ["all"])
        parser.add_argument("--tenant", help="tenant slug")
        parser.add_argument("--connection", type=int, help="Order Manager connection id")

    def handle(self, *args, **options):
        connections = OrderManagerConnection.objects.select_related("warehouse__tenant").order_by("pk")
        if options["tenant"]:
            connections = connections.filter(warehouse__tenant__slug=options["tenant"])
        if options["connection"]:
            connections = connections.filter(pk=options["connection"])
        connections = list(connections)
        if not connections:
            raise CommandError("No Order Manager connection matches.")
        jobs = ORDER if options["job"] == "all" else [Job(options["job"])]
        failures = 0
        for connection in connections:
            for job in jobs:
                try:
                    run = run_job(connection, job, trigger=SyncRun.Trigger.COMMAND)
                except JobAlreadyRunning as exc:
                    self.stderr.write(str(exc))
                    failures += 1
                    continue
                self.stdout.write(run.summary())
                failures += run.status == SyncRun.Status.FAILED
        if failures:
            raise CommandError(f"{failures} run(s) failed or could not start.")
