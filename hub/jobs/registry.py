"""The jobs the runner can run: each Job's module, whose `sync(ctx)` is the job's body, a function of
one `hub.engine.context.RunContext`.

A static table, so the reader (and any tool) sees every job from here; adding a job is a module in
`hub/jobs/` with a `sync(ctx)` and one line below. Importing this module installs the table in
`hub.engine.job_bodies`, where the runner looks bodies up (hub.apps imports it when Django starts).
"""

from types import ModuleType

from hub.engine import job_bodies
from hub.jobs import inventory_sync, order_cancel_download, order_download, reconciliation, shipment_confirmation
from hub.models import Job

JOB_MODULES: dict[Job, ModuleType] = {
    Job.ORDER_DOWNLOAD: order_download,
    Job.CANCEL_DOWNLOAD: order_cancel_download,
    Job.SHIPMENT_CONFIRMATION: shipment_confirmation,
    Job.INVENTORY_SYNC: inventory_sync,
    Job.RECONCILIATION: reconciliation,
}
job_bodies.install(JOB_MODULES)
