"""The jobs the runner can run: each Job's module, whose `sync(ctx)` is the job's body, a function of
one `hub.engine.context.RunContext`.

A static table, so the reader (and any tool) sees every job from here; adding a job is a module in
`hub/jobs/` with a `sync(ctx)` and one line below. The runner looks `sync` up on the module at
each run (`body_of`), so a job module reads and patches like any other module.
"""

from collections.abc import Callable
from types import ModuleType

from hub.engine.context import RunContext
from hub.jobs import inventory_sync, order_cancel_download, order_download, shipment_confirmation
from hub.models import Job

JOB_MODULES: dict[Job, ModuleType] = {
    Job.ORDER_DOWNLOAD: order_download,
    Job.CANCEL_DOWNLOAD: order_cancel_download,
    Job.SHIPMENT_CONFIRMATION: shipment_confirmation,
    Job.INVENTORY_SYNC: inventory_sync,
}


def body_of(job: Job) -> Callable[[RunContext], None]:
    return JOB_MODULES[Job(job)].sync
