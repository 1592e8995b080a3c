"""Django-side set-up shared by the benchmarks: sandbox tenants, seeding, fault config, profiling.

`onboard(slug, base_url, orders, skus, seed)` runs `manage.py sandbox tenant` and `sandbox seed`
(the same code paths as the demo and the tests) and returns the credentials JSON the command
prints, which the wire scripts use.
"""

from __future__ import annotations

import io
import json
import time
from contextlib import contextmanager
from pathlib import Path

from django.core.management import call_command

RESULTS = Path(__file__).resolve().parent / "results"


def onboard(slug: str, base_url: str, *, orders: int = 0, skus: int = 0, seed: int = 1) -> dict:
    out = io.StringIO()
    call_command("sandbox", "tenant", slug, "--base-url", base_url, stdout=out)
    creds = json.loads(out.getvalue())
    started = time.monotonic()
    if orders or skus:
        call_command(
            "sandbox",
            "seed",
            "--tenant",
            slug,
            "--orders",
            str(orders),
            "--skus",
            str(skus),
            "--seed",
            str(seed),
            stdout=io.StringIO(),
        )
    creds["seed_seconds"] = time.monotonic() - started
    return creds


def connection_of(slug: str):
    from tenants.models import OrderManagerConnection

    return OrderManagerConnection.objects.select_related("warehouse__tenant").get(warehouse__tenant__slug=slug)


def accounts(slug: str):
    """The tenant's sandbox (Order Manager account, WMS account)."""
    from tenants import sandbox_accounts

    found = sandbox_accounts.for_slug(slug)
    return found.om, found.wms


def set_om_quota(slug: str, per_second: float | None) -> None:
    from connectors.sandbox.control import fault_setup

    om, _ = accounts(slug)
    fault_setup.configure_faults(om_account=om, quota_per_second=per_second or 0)


@contextmanager
def profiled(name: str | None):
    """pyinstrument around the block when `name` is given; the text report goes to results/profile-<name>.txt."""
    if not name:
        yield
        return
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.002)
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        RESULTS.mkdir(exist_ok=True)
        text = profiler.output_text(unicode=True, color=False, show_all=False)
        # pyinstrument prints where profiling started as an absolute path: keep results machine-neutral.
        text = text.replace(f"{RESULTS.parent.parent}/", "")
        (RESULTS / f"profile-{name}.txt").write_text(text)


def settle() -> dict:
    """Fresh planner statistics and no dead rows before a timed run, so that whichever of the hub
    and the wire script runs second does not pay for the first one's writes (bulk-updated stock
    rows, thousands of new orders) or profit from autovacuum having caught up meanwhile."""
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {"seconds": time.monotonic() - started}
