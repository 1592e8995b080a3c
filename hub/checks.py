"""System checks that refuse a django-q2 configuration the hub's guarantees cannot survive.

django-q2 behaviours designed around (from its source and issue tracker; README, "Deployment and scale-out"):
- a task still running when `retry` seconds have passed is delivered again: `timeout` must be
  set and smaller than `retry` (hub.E001, hub.E002);
- `catch_up` (its default is on) replays every missed slot after downtime (hub.E003);
- unacknowledged failures are re-delivered forever; `ack_failures` must be on (hub.E004);
- a lease shorter than the task timeout would expire under a healthy run and let a second
  worker start the same job (hub.E005);
- a run's time budget must end before the task timeout, with room for the call in progress
  and the run's bookkeeping, or long runs are killed instead of stopping cleanly (hub.E006).
The configuration is read from `settings.Q_CLUSTER` at check time (not from django_q.conf.Conf,
which is frozen at import) so the checks see exactly what the settings say.
"""

from django.conf import settings
from django.core.checks import Error, register

from hub.engine import leases


@register("hub", "django_q")
def check_q_cluster(app_configs=None, **kwargs):
    conf = getattr(settings, "Q_CLUSTER", None) or {}
    errors = []
    timeout = conf.get("timeout")
    retry = conf.get("retry", 60)  # django-q2's default
    if not timeout:
        errors.append(
            Error(
                "Q_CLUSTER has no 'timeout'.",
                hint="Set a task timeout (seconds) smaller than 'retry', e.g. timeout 600 and retry 720.",
                id="hub.E001",
            )
        )
    elif timeout >= retry:
        errors.append(
            Error(
                f"Q_CLUSTER 'timeout' ({timeout}) is not smaller than 'retry' ({retry}).",
                hint="django-q2 delivers a task again after 'retry' seconds even while it is still running.",
                id="hub.E002",
            )
        )
    if conf.get("catch_up", True):
        errors.append(
            Error(
                "Q_CLUSTER 'catch_up' is on (django-q2's default).",
                hint="Set 'catch_up': False; the dispatcher derives due work from the hub's tables.",
                id="hub.E003",
            )
        )
    if not conf.get("ack_failures", False):
        errors.append(
            Error(
                "Q_CLUSTER 'ack_failures' is off (django-q2's default).",
                hint="Set 'ack_failures': True, or a failed task is re-delivered forever.",
                id="hub.E004",
            )
        )
    lease_seconds = leases.RUN_LEASE.total_seconds()
    if leases.HEARTBEAT_EVERY <= 0 or lease_seconds < leases.HEARTBEAT_EVERY * 3:
        errors.append(
            Error(
                f"The lease heartbeat ({leases.HEARTBEAT_EVERY} s) does not fit three times in the run lease ({lease_seconds:.0f} s).",
                hint="A live run must survive missed renewals: HUB_LEASE_HEARTBEAT_SECONDS at most a third of HUB_RUN_LEASE_SECONDS (hub.engine.leases).",
                id="hub.E005",
            )
        )
    budget = getattr(settings, "HUB_RUN_TIME_BUDGET", None)
    if timeout and (not budget or budget <= 0 or budget + BUDGET_MARGIN > timeout):
        errors.append(
            Error(
                f"HUB_RUN_TIME_BUDGET_SECONDS ({budget}) does not end at least {BUDGET_MARGIN} s before the task timeout ({timeout} s).",
                hint="A run must stop starting new work before django-q2 kills it, e.g. 420 with a timeout of 600.",
                id="hub.E006",
            )
        )
    return errors


# Room after the budget for the outside call in progress (read timeout, retries) and the bookkeeping.
BUDGET_MARGIN = 120
