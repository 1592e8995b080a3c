"""Where the runner finds each job's body, so the engine imports no job.

`hub.jobs.registry` holds the static table (Job -> the job's module, whose `sync(ctx)` is the body)
and installs it here when Django starts (`hub.apps`); the import direction stays jobs -> engine.
`body_of(job)` looks `sync` up on the module at each run, so a job module reads and patches like
any other module; a job nobody installed fails loudly, naming what to load.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import ModuleType

from hub.engine.context import RunContext
from hub.models import Job

_MODULES: dict[Job, ModuleType] = {}


def install(modules: Mapping[Job, ModuleType]) -> None:
    _MODULES.update({Job(job): module for job, module in modules.items()})


def body_of(job: str) -> Callable[[RunContext], None]:
    module = _MODULES.get(Job(job))
    if module is None:
        raise LookupError(
            f"No body installed for {Job(job).label}: hub.jobs.registry was not imported (hub.apps does)."
        )
    return module.sync
