"""`scripts/bench --only concurrency`: Order Download at real answer times (issue 18), three parts in
one run, against one gunicorn-served sandbox (one gthread worker of `SANDBOX_THREADS` threads: the
sandbox sleeps its answer times holding a thread, and the hub at 16 at once plus the bare script's
8 plus late "timeout" answers must never queue behind each other).

1. **Hub vs bare script at 250 ms ± 100 ms per WMS order create** (the sandbox's `create` latency
   group only; every other call answers at loopback speed): a backlog of `SIZES["c8"]` orders, the
   hub at `send_concurrency` 8 (`bench_concurrency.hub_backlog`) against `wire_threads`, the same
   WMS calls over 8 threads, side by side; then the hub alone at concurrency 1, 4 and 16 on smaller
   backlogs, their 10,000-order time extrapolated from the measured throughput (and labelled so).
2. **Faults**: 2% 500s and 2% timeouts on the WMS calls (the sandbox draws them for every WMS API
   call of the account but the token: creates and the look-ups before a re-send), the same answer
   times, concurrency 8; the hub's read timeout is 2 s (`HUB_HTTP_READ_TIMEOUT`) and a "timeout"
   answer sleeps 3 s and then creates the order anyway, so the hub gives up on orders that do
   reach the WMS. Runs until every order is at the WMS; duplicates and lost orders are counted
   from the sandbox WMS's own orders (`bench_concurrency.wms_count`), and the creates it answered
   from its access log (a 400 to `POST /orders` here is a re-send refused as a duplicate).
3. **Workers needed** (`benchmarks.sizing`): many connections at realistic answer times on both
   services (`FLEET_WMS`, `FLEET_OM`), each connection's run with its waiting orders and then an
   idle run timed (wall and CPU); a least-squares line per run through them, and the model for 500
   connections on a 5-minute Order Download.

The WMS rate limiter (`Warehouse.wms_requests_per_second`) is set to 1000/s everywhere so it never
binds; `HUB_WMS_CONCURRENCY_CAP` is 16 so it does not cap the concurrency-16 run.
"""

from __future__ import annotations

import math
from collections import Counter

from . import infra, sizing, wire_threads

SANDBOX_THREADS = 64
WMS_ORDERS = "/sandbox/warehouse-manager/orders"  # POST creates, GET looks up (access log paths)
CREATE_LATENCY = {"create": [250, 100]}
FAULTS = {"rate_500": 0.02, "timeout_rate": 0.02, "timeout_seconds": 3.0, "seed": 18}
HUB_READ_TIMEOUT = 2.0
BACKLOG = 10_000
TARGET = 1.3
# name: (full, quick). c8 is the side-by-side backlog; the others are measured smaller and extrapolated.
SIZES = {
    "c8": (10_000, 200),
    "c1": (300, 30),
    "c4": (1_000, 60),
    "c16": (2_000, 200),
    "faults": (1_500, 150),
    "fleet": (30, 5),
}
# Realistic answer times (assumed, not measured of the real services: see benchmarks/README.md).
FLEET_WMS = {"latency": {"token": [200, 50], "create": [250, 100], "read": [200, 50]}}
FLEET_OM = {"latency": {"read": [300, 100], "write": [400, 100]}}
FLEET_ORDERS = (2, 5, 10, 20, 40)  # orders waiting per connection's run, cycled over the fleet
FLEET_CONCURRENCY = 4  # the warehouse default


def _size(args, name: str) -> int:
    full, quick = SIZES[name]
    return quick if args.quick else full


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


def run(args, backend: str) -> list[dict]:
    db = infra.Database.create(backend, f"hub_bench_concurrency_{backend}")
    try:
        with infra.Sandbox(db, threads=SANDBOX_THREADS, access_log=True) as sandbox:
            env = {**infra.environment(db, sandbox.url), "HUB_WMS_CONCURRENCY_CAP": "16"}
            side = side_by_side(args, env, sandbox, backend)
            levels = concurrency_levels(args, env, sandbox, side)
            faults = with_faults(args, env, sandbox)
            fleet = workers(args, env, sandbox, backend)
    finally:
        db.drop()
    return [side["row"], levels, faults, fleet]


# ------------------------------------------------------------------ 1. hub vs bare script


def side_by_side(args, env: dict, sandbox, backend: str) -> dict:
    n = _size(args, "c8")
    wms = {"latency": CREATE_LATENCY, "seed": 1}
    hub_creds = infra.drive(
        env, "bench_concurrency.prepare", slug="conc-hub", base_url=sandbox.url, orders=n, concurrency=8, wms=wms
    )
    bare_creds = infra.drive(
        env, "bench_concurrency.prepare", slug="conc-bare", base_url=sandbox.url, orders=n, concurrency=8, wms=wms
    )
    infra.drive(env, "onboarding.settle")
    bare = wire_threads.order_download(bare_creds, threads=8)
    infra.drive(env, "onboarding.settle")
    mark = sandbox.access_position()
    hub = infra.drive(
        env,
        "bench_concurrency.hub_backlog",
        slug="conc-hub",
        expected=n,
        profile=f"concurrency-c8-{backend}" if args.profile else None,
    )
    hub["sandbox_create_ms"] = _create_ms(sandbox.access_lines(mark))
    hub["wms"] = infra.drive(env, "bench_concurrency.wms_count", slug="conc-hub")
    bare["wms"] = infra.drive(env, "bench_concurrency.wms_count", slug="conc-bare")
    first = bare.pop("first_body")
    stored = infra.drive(env, "bench_concurrency.hub_body", slug="conc-hub", order_number=first["referenceNum"])
    same_body = _comparable(first) == _comparable(stored["body"])
    _check_complete("hub at concurrency 8", hub, n)
    if bare["orders"] != n or bare["wms"]["lost"] or bare["wms"]["duplicates"]:
        raise RuntimeError(f"the bare script did not create every order once: {bare}")
    ratio = hub["seconds"] / bare["seconds"]
    row = {
        "name": "concurrency",
        "backend": backend,
        "title": f"Order Download at 250±100 ms per create, {n:,} orders, 8 at once",
        "result": (
            f"hub {hub['seconds']:.0f} s ({n / hub['seconds']:.1f} orders/s, {len(hub['runs'])} run(s)) vs bare "
            f"script over 8 threads {bare['seconds']:.0f} s ({n / bare['seconds']:.1f} orders/s): {ratio:.2f}x"
            + ("" if same_body else "; BODIES DIFFER")
        ),
        "target": f"<= {TARGET}x bare",
        "met": ratio <= TARGET and same_body,
        "chart": {
            "bars": {"hub": n / hub["seconds"], "bare": n / bare["seconds"]},
            "unit": "orders/s",
            "target": n / bare["seconds"] / TARGET,
            "target_label": f"bare / {TARGET}",
            "better": "higher",
            "reference": ["bare"],
        },
        "detail": {
            "orders": n,
            "create_latency_ms": CREATE_LATENCY["create"],
            "hub": hub,
            "bare": bare,
            "ratio": ratio,
            "same_body": same_body,
            "body_compared": {"bare": first, "hub": stored},
            "seed_seconds": hub_creds["seed_seconds"],
            "sandbox_threads": SANDBOX_THREADS,
            "wms_requests_per_second": 1000,
        },
    }
    return {"row": row, "hub": hub, "orders": n}


def _comparable(body: dict) -> dict:
    """A body without what differs between two tenants by design: the order id, customer and facility."""
    return {k: v for k, v in body.items() if k not in ("poNum", "customerIdentifier", "facilityIdentifier")}


def _create_ms(lines) -> dict:
    times = sorted(ms for method, path, status, ms in lines if method == "POST" and path == WMS_ORDERS)
    if not times:
        return {}
    return {"count": len(times), "p50": times[len(times) // 2], "mean": sum(times) / len(times), "max": times[-1]}


def _check_complete(what: str, hub: dict, n: int) -> None:
    wms = hub["wms"]
    if wms["lost"] or wms["duplicates"] or wms["wms_orders"] != n or hub["at_wms_recorded"] != n:
        raise RuntimeError(f"{what}: not every order at the WMS once: {wms}; runs {hub['runs'][-3:]}")


def concurrency_levels(args, env: dict, sandbox, side: dict) -> dict:
    measured = {8: {"orders": side["orders"], "hub": side["hub"]}}
    for level in (1, 4, 16):
        n = _size(args, f"c{level}")
        slug = f"conc-c{level}"
        infra.drive(
            env,
            "bench_concurrency.prepare",
            slug=slug,
            base_url=sandbox.url,
            orders=n,
            concurrency=level,
            wms={"latency": CREATE_LATENCY, "seed": level},
        )
        infra.drive(env, "onboarding.settle")
        hub = infra.drive(env, "bench_concurrency.hub_backlog", slug=slug, expected=n)
        hub["wms"] = infra.drive(env, "bench_concurrency.wms_count", slug=slug)
        _check_complete(f"hub at concurrency {level}", hub, n)
        measured[level] = {"orders": n, "hub": hub}
    levels = {}
    for level in sorted(measured):
        n, hub = measured[level]["orders"], measured[level]["hub"]
        rate = n / hub["seconds"]
        levels[level] = {
            "orders": n,
            "seconds": hub["seconds"],
            "orders_per_second": rate,
            "runs": len(hub["runs"]),
            "backlog_seconds": BACKLOG / rate if n != BACKLOG else hub["seconds"],
            "extrapolated": n != BACKLOG,
            "cpu_seconds": hub["cpu_seconds"],
        }
    parts = [
        f"c{level}: {v['orders_per_second']:.1f}/s, 10,000 in {_minutes(v['backlog_seconds'])}"
        + (f" (extrapolated from {v['orders']:,})" if v["extrapolated"] else " (measured)")
        for level, v in levels.items()
    ]
    c8 = levels[8]["backlog_seconds"]
    return {
        "name": "concurrency",
        "backend": side["row"]["backend"],
        "title": "Order Download backlog of 10,000 at 250±100 ms per create, by concurrency",
        "result": "; ".join(parts),
        "target": "minutes at 8 at once (< 10 min), not ~45",
        "met": c8 < 600,
        "chart": {
            "bars": {f"c{level}": v["backlog_seconds"] / 60 for level, v in levels.items()},
            "unit": "minutes for 10,000",
            "target": 10,
            "target_label": "10 min",
        },
        "detail": {"levels": levels, "runs": {level: m["hub"] for level, m in measured.items() if level != 8}},
    }


# ------------------------------------------------------------------ 2. faults


def with_faults(args, env: dict, sandbox) -> dict:
    n = _size(args, "faults")
    slug = "conc-faults"
    infra.drive(
        env,
        "bench_concurrency.prepare",
        slug=slug,
        base_url=sandbox.url,
        orders=n,
        concurrency=8,
        wms={"latency": CREATE_LATENCY, **FAULTS},
    )
    infra.drive(env, "onboarding.settle")
    mark = sandbox.access_position()
    hub = infra.drive(
        {**env, "HUB_HTTP_READ_TIMEOUT": str(HUB_READ_TIMEOUT)},
        "bench_concurrency.hub_backlog",
        slug=slug,
        expected=n,
        max_runs=20,
        retry_rounds=10,
        settle_seconds=FAULTS["timeout_seconds"] + 1,
    )
    wms = infra.drive(env, "bench_concurrency.wms_count", slug=slug)
    lines = sandbox.access_lines(mark)
    creates = Counter(status for method, path, status, ms in lines if method == "POST" and path == WMS_ORDERS)
    lookups = Counter(status for method, path, status, ms in lines if method == "GET" and path == WMS_ORDERS)
    late = sum(1 for method, path, status, ms in lines if path == WMS_ORDERS and ms >= 1000 * HUB_READ_TIMEOUT)
    ok = wms["duplicates"] == 0 and wms["lost"] == 0 and wms["wms_orders"] == n and wms["wrong_po_num"] == 0
    return {
        "name": "concurrency",
        "backend": sandbox.db.backend,
        "title": f"Same with 2% 500s + 2% timeouts on WMS calls, {n:,} orders, 8 at once",
        "result": (
            f"{wms['duplicates']} duplicates, {wms['lost']} lost ({wms['wms_orders']:,} WMS orders for {n:,}, "
            f"counted at the WMS); {len(hub['runs'])} runs, {hub['seconds']:.0f} s; creates answered: "
            + ", ".join(f"{count} x {status}" for status, count in sorted(creates.items()))
            + f"; {late} answers past the hub's {HUB_READ_TIMEOUT:g} s timeout"
        ),
        "target": "0 duplicates, 0 lost",
        "met": ok,
        "chart": {
            "bars": {"duplicates": wms["duplicates"], "lost": wms["lost"]},
            "unit": "orders",
            "target": 0,
            "target_label": "0",
        },
        "detail": {
            "orders": n,
            "faults": FAULTS,
            "hub_read_timeout": HUB_READ_TIMEOUT,
            "hub": hub,
            "wms": wms,
            "creates_by_status": dict(creates),
            "lookups_by_status": dict(lookups),
            "answers_past_timeout": late,
        },
    }


# ------------------------------------------------------------------ 3. workers needed


def workers(args, env: dict, sandbox, backend: str) -> dict:
    count = _size(args, "fleet")
    slugs = [f"fleet-{i:03d}" for i in range(count)]
    orders = [FLEET_ORDERS[i % len(FLEET_ORDERS)] for i in range(count)]
    infra.drive(
        env,
        "bench_concurrency.fleet_prepare",
        base_url=sandbox.url,
        slugs=slugs,
        orders=orders,
        concurrency=FLEET_CONCURRENCY,
        wms=FLEET_WMS,
        om=FLEET_OM,
    )
    infra.drive(env, "onboarding.settle")
    measured = infra.drive(
        env,
        "bench_concurrency.fleet_runs",
        slugs=slugs,
        orders=orders,
        profile=f"concurrency-fleet-{backend}" if args.profile else None,
    )
    fit = sizing.fit(measured["runs"])
    table = sizing.table(fit)
    headline = next(r for r in table if r["scenario"] == sizing.HEADLINE)
    return {
        "name": "concurrency",
        "backend": backend,
        "title": f"Workers for 500 connections, Order Download every 5 min (measured on {count} connections)",
        "result": (
            f"{headline['workers']} worker processes at {headline['orders_per_day']:,} orders/day per connection "
            f"(peak x{headline['peak_factor']:g}: {headline['orders_per_run']:.0f} orders a run, "
            f"{headline['run_seconds']:.1f} s a run); per run {fit['wall']['a']:.2f} s + "
            f"{fit['wall']['b'] * 1000:.0f} ms/order wall, {fit['cpu']['a'] * 1000:.0f} ms + "
            f"{fit['cpu']['b'] * 1000:.1f} ms/order CPU"
        ),
        "target": "model (see README)",
        "met": True,
        "chart": {
            "bars": {f"{r['orders_per_day']:,}/d": r["workers"] for r in table if r["peak_factor"] == 3},
            "unit": "workers for 500 connections",
            "target": None,
        },
        "detail": {
            "connections_measured": count,
            "concurrency": FLEET_CONCURRENCY,
            "answer_times": {"wms": FLEET_WMS["latency"], "om": FLEET_OM["latency"]},
            "fit": fit,
            "table": table,
            "assumptions": sizing.ASSUMPTIONS,
            "runs": measured["runs"],
            "workers_formula": sizing.FORMULA,
            "max_runs_per_interval": math.floor(sizing.INTERVAL_SECONDS / max(fit["wall"]["a"], 1e-9)),
        },
    }
