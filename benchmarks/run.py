"""`python -m benchmarks.run [--only NAME ...] [--quick] [--backends sqlite,postgres] [--keep] [--profile]`

Runs the benchmarks (default: all but `latency`, `webhooks`, `concurrency`, `reconciliation` and the
ShipHero pair `order_download_shiphero` / `inventory_shiphero`, which take minutes: ask for them with
`--only NAME`), prints the table, writes `benchmarks/results/latest.json` and `latest.png`.
Results of benchmarks not run this time are carried over from the previous latest.json, marked
with the date they were measured, so the table is always complete.

Every benchmark gets a database of its own (benchmarks.infra), created and dropped here; the
admin benchmark's 1,000,000-order database is kept between runs with `--keep`.
"""

from __future__ import annotations

import argparse
import pathlib
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime

from . import concurrency, infra, report, shiphero
from .onboarding import SHIPHERO, THREEPL

SIZES = {
    # name: (full, quick)
    "orders": (10_000, 1_000),
    "quota_skus": (20_000, 4_000),
    "inventory_skus": (50_000, 5_000),
    "connections": (2_000, 400),
    "admin_orders": (1_000_000, 100_000),
    "latency_minutes": (4.0, 2.0),
    "recon_orders": (10_000, 1_000),
    "recon_skus": (50_000, 5_000),
    # ShipHero at the documented 60 credits/s: about 30 credits an order, 13 a stock row (shiphero.py)
    "shiphero_bound_orders": (1_000, 400),
    "shiphero_bound_skus": (5_000, 1_000),
}
ORDER_DOWNLOAD_TARGET = 1.5
# The hub warehouse's own WMS limit in the hub-vs-bare rows (Warehouse.wms_requests_per_second,
# default 10/s): the bare scripts have none, so at the default the rows would measure the limit,
# not the hub's overhead (a 50-order smoke run: hub 9 vs bare 70 orders/s).
HARNESS_WMS_RATE = 1000.0
INVENTORY_TARGET = 1.5
QUOTA = 10.0
RECONCILIATION_TARGET = 1.5
# Reconciliation runs under the sandbox's published Order Manager limit (100/s when no quota is
# set), now enforced as a quota too: the hub paces at what it reads, so 0 answers may be 429.
RECONCILIATION_QUOTA = 100.0
RECONCILIATION_INJECTED = 10  # discrepancies of each kind in the second run


def size(args, name):
    full, quick = SIZES[name]
    return quick if args.quick else full


# ------------------------------------------------------------------ the benchmarks


def order_download_sides(
    env: dict,
    base_url: str,
    n: int,
    *,
    system: str = THREEPL,
    tag: str = "",
    credits_per_second=None,
    wms_rate=None,
    profile=None,
) -> tuple[dict, dict, dict]:
    """Two tenants on `system` with n orders each (separate accounts, so the two runs share no
    state), the bare script on one and the hub on the other, each after `settle`: (hub, wire,
    the hub tenant's credentials). `credits_per_second` sets both ShipHero accounts' refill,
    `wms_rate` the hub warehouse's own WMS limiter (`Warehouse.wms_requests_per_second`)."""
    from . import wire, wire_shiphero

    slugs = {side: f"bench-{side}{tag}" for side in ("hub", "wire")}
    creds = {
        side: infra.drive(
            env, "onboarding.onboard", slug=slug, base_url=base_url, orders=n, skus=60, seed=1, system=system
        )
        for side, slug in slugs.items()
    }
    if credits_per_second is not None:
        for slug in slugs.values():
            infra.drive(env, "onboarding.set_shiphero_credits", slug=slug, per_second=credits_per_second)
    if wms_rate is not None:
        infra.drive(env, "onboarding.set_wms_rate", slug=slugs["hub"], per_second=wms_rate)
    infra.drive(env, "onboarding.settle")
    wire_result = (wire_shiphero if system == SHIPHERO else wire).order_download(creds["wire"])
    infra.drive(env, "onboarding.settle")
    hub = infra.drive(
        env, "bench_order_download.hub_run", slug=slugs["hub"], expected=n, profile=profile, system=system
    )
    assert wire_result["orders"] == n, wire_result
    return hub, wire_result, creds["hub"]


def bench_order_download(args, backend: str) -> list[dict]:
    n = size(args, "orders")
    db = infra.Database.create(backend, f"hub_bench_orders_{backend}")
    try:
        with infra.Sandbox(db) as sandbox:
            env = infra.environment(db, sandbox.url)
            hub, wire_result, hub_creds = order_download_sides(
                env,
                sandbox.url,
                n,
                wms_rate=HARNESS_WMS_RATE,
                profile=f"order_download-{backend}" if args.profile else None,
            )
    finally:
        db.drop()
    hub_rate, wire_rate = n / hub["seconds"], n / wire_result["seconds"]
    ratio = wire_rate / hub_rate
    return [
        {
            "name": "order_download",
            "backend": backend,
            "title": f"Order Download, {n:,} orders",
            "result": f"hub {hub_rate:,.0f} orders/s vs wire {wire_rate:,.0f} orders/s: {ratio:.2f}x",
            "target": f"<= {ORDER_DOWNLOAD_TARGET}x wire",
            "met": ratio <= ORDER_DOWNLOAD_TARGET,
            "chart": {
                "bars": {"hub": hub_rate, "wire": wire_rate},
                "unit": "orders/s",
                "target": wire_rate / ORDER_DOWNLOAD_TARGET,
                "target_label": f"wire / {ORDER_DOWNLOAD_TARGET}",
                "better": "higher",
                "reference": ["wire"],
            },
            "detail": {
                "orders": n,
                "hub": hub,
                "wire": wire_result,
                "ratio": ratio,
                "seed_seconds": hub_creds["seed_seconds"],
                "serving_ms_per_call": wire_result["ms_per_call"],
            },
        }
    ]


def bench_quota(args, backend: str) -> list[dict]:
    skus = size(args, "quota_skus")
    db = infra.Database.create(backend, f"hub_bench_quota_{backend}")
    try:
        with infra.Sandbox(db) as sandbox:
            env = infra.environment(db, sandbox.url)
            runs = {}
            for paced in (False, True):
                slug = f"bench-quota-{'paced' if paced else 'unpaced'}"
                infra.drive(env, "onboarding.onboard", slug=slug, base_url=sandbox.url, skus=skus, seed=3)
                runs[paced] = infra.drive(
                    env,
                    "bench_quota.hub_run",
                    slug=slug,
                    quota=QUOTA,
                    paced=paced,
                    profile=f"quota-{backend}" if args.profile and paced else None,
                )
    finally:
        db.drop()
    paced, unpaced = runs[True], runs[False]
    met = paced["fraction_of_quota"] >= 0.9 and paced["rate_limited_share"] < 0.01
    return [
        {
            "name": "quota",
            "backend": backend,
            "title": f"Under a {QUOTA:g}/s quota (Inventory Sync, {skus:,} SKUs)",
            "result": (
                f"{paced['fraction_of_quota']:.0%} of the quota, {paced['rate_limited']} x 429 of {paced['om_calls']} calls "
                f"({paced['rate_limited_share']:.1%}); unpaced: {unpaced['fraction_of_quota']:.0%}, "
                f"{unpaced['rate_limited']} x 429 ({unpaced['rate_limited_share']:.0%})"
            ),
            "target": ">= 90% of quota, < 1% 429",
            "met": met,
            "chart": {
                "bars": {"paced": paced["achieved_per_second"], "unpaced": unpaced["achieved_per_second"]},
                "unit": "accepted calls/s",
                "target": 0.9 * QUOTA,
                "target_label": "90% of quota",
                "better": "higher",
                "reference": ["unpaced"],
            },
            "detail": {"paced": paced, "unpaced": unpaced},
        }
    ]


def inventory_sides(
    env: dict,
    base_url: str,
    skus: int,
    *,
    system: str = THREEPL,
    tag: str = "",
    credits_per_second=None,
    wms_rate=None,
    profile=None,
    second_run: bool = True,
) -> tuple[dict, dict | None, dict]:
    """Two tenants on `system` with `skus` SKUs each: the bare script on one, then the hub twice on
    the other (the second run must adjust nothing; skipped without `second_run`): (first hub run,
    second or None, wire)."""
    from . import wire, wire_shiphero

    slugs = {side: f"bench-inv-{side}{tag}" for side in ("hub", "wire")}
    creds = {
        side: infra.drive(env, "onboarding.onboard", slug=slug, base_url=base_url, skus=skus, seed=5, system=system)
        for side, slug in slugs.items()
    }
    if credits_per_second is not None:
        for slug in slugs.values():
            infra.drive(env, "onboarding.set_shiphero_credits", slug=slug, per_second=credits_per_second)
    if wms_rate is not None:
        infra.drive(env, "onboarding.set_wms_rate", slug=slugs["hub"], per_second=wms_rate)
    infra.drive(env, "onboarding.settle")
    wire_result = (wire_shiphero if system == SHIPHERO else wire).inventory(creds["wire"])
    infra.drive(env, "onboarding.settle")
    first = infra.drive(env, "bench_inventory.hub_run", slug=slugs["hub"], profile=profile, system=system)
    second = infra.drive(env, "bench_inventory.hub_run", slug=slugs["hub"], system=system) if second_run else None
    return first, second, wire_result


def bench_inventory(args, backend: str) -> list[dict]:
    skus = size(args, "inventory_skus")
    db = infra.Database.create(backend, f"hub_bench_inventory_{backend}")
    try:
        with infra.Sandbox(db) as sandbox:
            env = infra.environment(db, sandbox.url)
            first, second, wire_result = inventory_sides(
                env,
                sandbox.url,
                skus,
                wms_rate=HARNESS_WMS_RATE,
                profile=f"inventory-{backend}" if args.profile else None,
            )
    finally:
        db.drop()
    ratio = first["seconds"] / wire_result["seconds"]
    met = ratio <= INVENTORY_TARGET and first["peak_mb"] < 250 and second["adjust_calls"] == 0
    return [
        {
            "name": "inventory",
            "backend": backend,
            "title": f"Inventory Sync, {skus:,} SKUs",
            "result": (
                f"hub {first['seconds']:.1f} s vs wire {wire_result['seconds']:.1f} s: {ratio:.2f}x; "
                f"peak {first['peak_mb']:.0f} MB; 2nd run {second['adjust_calls']} adjust calls"
            ),
            "target": f"<= {INVENTORY_TARGET}x wire, < 250 MB, 0 adjusts",
            "met": met,
            "chart": {
                "bars": {"hub s": first["seconds"], "wire s": wire_result["seconds"]},
                "unit": "seconds",
                "target": INVENTORY_TARGET * wire_result["seconds"],
                "target_label": f"{INVENTORY_TARGET} x wire",
                "reference": ["wire s"],
            },
            "detail": {"skus": skus, "hub": first, "second_run": second, "wire": wire_result, "ratio": ratio},
        }
    ]


def bench_reconciliation(args, backend: str) -> list[dict]:
    from . import wire_reconciliation

    n, skus = size(args, "recon_orders"), size(args, "recon_skus")
    slug = "bench-recon"
    db = infra.Database.create(backend, f"hub_bench_reconciliation_{backend}")
    load = {"before": _loadavg()}
    try:
        with infra.Sandbox(db) as sandbox:
            env = infra.environment(db, sandbox.url)
            setup = infra.drive(
                env, "bench_reconciliation.prepare", slug=slug, base_url=sandbox.url, orders=n, skus=skus
            )
            window = infra.drive(env, "bench_reconciliation.wire_window", slug=slug)
            infra.drive(env, "onboarding.settle")
            load["wire"] = _loadavg()
            wire_result = wire_reconciliation.reconciliation_reads(setup.pop("creds"), **window)
            infra.drive(env, "onboarding.settle")
            load["hub"] = _loadavg()
            clean = infra.drive(
                env,
                "bench_reconciliation.hub_run",
                slug=slug,
                quota=RECONCILIATION_QUOTA,
                profile=f"reconciliation-{backend}" if args.profile else None,
            )
            expected = infra.drive(env, "bench_reconciliation.inject", slug=slug, per_kind=RECONCILIATION_INJECTED)
            injected = infra.drive(
                env, "bench_reconciliation.hub_run", slug=slug, quota=RECONCILIATION_QUOTA, expected=expected
            )
            load["after"] = _loadavg()
    finally:
        db.drop()
    ratio = clean["seconds"] / wire_result["seconds"]
    wanted = sum(len(v) for v in expected.values() if isinstance(v, list))
    found_all = not injected["missing"] and not injected["unexpected"] and injected["findings"] == wanted
    met = (
        ratio <= RECONCILIATION_TARGET
        and clean["findings"] == 0
        and clean["rate_limited"] == 0
        and injected["rate_limited"] == 0
        and found_all
    )
    return [
        {
            "name": "reconciliation",
            "backend": backend,
            "title": f"Reconciliation, {n:,} orders and {skus:,} SKUs",
            "result": (
                f"hub {clean['seconds']:.1f} s vs wire {wire_result['seconds']:.1f} s: {ratio:.2f}x; "
                f"{clean['calls_counted']} calls ({clean['om_calls']} Order Manager at "
                f"{clean['om_calls_per_second']:.0f}/s of {RECONCILIATION_QUOTA:g}/s, {clean['rate_limited']} x 429); "
                f"peak {clean['peak_mb']:.0f} MB; {clean['findings']} findings; injected {wanted}: "
                f"{injected['findings']} found"
            ),
            "target": f"<= {RECONCILIATION_TARGET}x wire, 0 x 429, 0 findings clean, all injected found",
            "met": met,
            "chart": {
                "bars": {"hub s": clean["seconds"], "wire s": wire_result["seconds"]},
                "unit": "seconds",
                "target": RECONCILIATION_TARGET * wire_result["seconds"],
                "target_label": f"{RECONCILIATION_TARGET} x wire",
                "reference": ["wire s"],
            },
            "detail": {
                "orders": n,
                "skus": skus,
                "setup": setup,
                "window": window,
                "hub": clean,
                "wire": wire_result,
                "ratio": ratio,
                "injected": expected,
                "injected_run": injected,
                "load_average": load,
                "serving_ms_per_call": wire_result["ms_per_call"],
            },
        }
    ]


def _loadavg() -> str:
    try:
        return pathlib.Path("/proc/loadavg").read_text().strip()
    except OSError:
        return ""


def bench_dispatcher(args, backend: str) -> list[dict]:
    n = size(args, "connections")
    db = infra.Database.create(backend, f"hub_bench_dispatcher_{backend}")
    try:
        result = infra.drive(infra.environment(db), "bench_dispatcher.run", connections=n)
    finally:
        db.drop()
    ticks = result["ticks"]
    quarter = next(t for t in ticks if t["share"] == 0.25)
    constant = len({t["queries"] for t in ticks}) == 1
    return [
        {
            "name": "dispatcher",
            "backend": backend,
            "title": f"Dispatcher tick, {n:,} connections",
            "result": (
                f"{quarter['seconds'] * 1000:.0f} ms, {quarter['queries']} queries for {quarter['due']:,} due; "
                + ", ".join(
                    f"{t['due']:,} due: {t['seconds'] * 1000:.0f} ms/{t['queries']} q"
                    for t in ticks
                    if t is not quarter
                )
            ),
            "target": "< 1 s, constant queries",
            "met": quarter["seconds"] < 1 and constant,
            "chart": {
                "bars": {f"{t['due']:,} due": t["seconds"] * 1000 for t in ticks},
                "unit": "ms per tick",
                "target": 1000,
                "target_label": "1 s",
            },
            "detail": result,
        }
    ]


def bench_admin(args, backend: str) -> list[dict]:
    n = size(args, "admin_orders")
    name = f"hub_bench_admin_{n}"
    if args.keep:
        db, existed = infra.Database.kept(name)
    else:
        db, existed = infra.Database.create(backend, name), False
    try:
        result = infra.drive(infra.environment(db), "bench_admin.run", orders=n)
    finally:
        db.drop()
    pages = result["pages"]
    worst = max(p["median_ms"] for p in pages.values())
    return [
        {
            "name": "admin",
            "backend": backend,
            "title": f"Admin with {n:,} orders",
            "result": ", ".join(f"{page} {p['median_ms']:.0f} ms" for page, p in pages.items())
            + (f" (set-up {result['build_seconds']:.0f} s)" if not result["reused"] else " (data reused)"),
            "target": "< 300 ms each (median)",
            "met": worst < 300,
            "chart": {
                "bars": {page: p["median_ms"] for page, p in pages.items()},
                "unit": "median ms",
                "target": 300,
                "target_label": "300 ms",
            },
            "detail": {**result, "kept_database": db.name if args.keep else None, "existed": existed},
        }
    ]


def bench_latency(args, backend: str) -> list[dict]:
    minutes = size(args, "latency_minutes")
    db = infra.Database.create(backend, f"hub_bench_latency_{backend}")
    cluster = None
    try:
        with infra.Sandbox(db) as sandbox:
            env = infra.environment(db, sandbox.url)
            infra.drive(env, "bench_latency.prepare", slug="bench-latency", base_url=sandbox.url)
            cluster = infra.start(env, infra.WORK / f"{db.name}-qcluster.log", infra.PYTHON, "manage.py", "qcluster")
            entered = infra.drive(env, "bench_latency.trickle", slug="bench-latency", minutes=minutes, every=4.0)
            result = infra.drive(env, "bench_latency.collect", slug="bench-latency", entered=entered, wait_seconds=240)
    finally:
        infra.stop(cluster)
        db.drop()
    return [
        {
            "name": "latency",
            "backend": backend,
            "title": f"Latency, {result['orders']} orders over {minutes:g} min",
            "result": f"p50 {result['p50']:.0f} s, p95 {result['p95']:.0f} s, max {result['max']:.0f} s ({result['arrived']}/{result['orders']} arrived)",
            "target": "p95 < 90 s",
            "met": result["p95"] < 90 and result["arrived"] == result["orders"],
            "chart": {
                "bars": {"p50": result["p50"], "p95": result["p95"], "max": result["max"]},
                "unit": "seconds",
                "target": 90,
                "target_label": "90 s",
            },
            "detail": result,
        }
    ]


def bench_webhooks(args, backend: str) -> list[dict]:
    minutes = 1.0 if args.quick else 2.0
    db = infra.Database.create(backend, f"hub_bench_webhooks_{backend}")
    cluster = None
    try:
        with infra.Sandbox(db) as sandbox:
            env = infra.environment(db, sandbox.url)
            infra.drive(env, "bench_webhooks.prepare", base_url=sandbox.url, orders=40)
            cluster = infra.start(env, infra.WORK / f"{db.name}-qcluster.log", infra.PYTHON, "manage.py", "qcluster")
            time.sleep(5)  # the cluster's first dispatcher tick runs the initial Shipment Confirmations
            result = infra.drive(env, "bench_webhooks.ship_and_collect", minutes=minutes, every=5.0, wait_seconds=150)
    finally:
        infra.stop(cluster)
        db.drop()
    hooks, down = result["bench-hooks"], result["bench-down"]

    def line(r):
        return f"p50 {r.get('p50', 0):.1f} s, p95 {r.get('p95', 0):.1f} s, max {r.get('max', 0):.1f} s ({r['arrived']}/{r['shipped']})"

    met = hooks["arrived"] == hooks["shipped"] and hooks.get("p95", 1e9) < 15 and down["arrived"] == down["shipped"]
    return [
        {
            "name": "webhooks",
            "backend": backend,
            "title": f"Shipment Confirmation latency, ship to tracking accepted ({minutes:g} min of shipping)",
            "result": f"webhooks: {line(hooks)}; sender down, polling every 1 min: {line(down)}; "
            "polling every 15 min: p50 450 s, p95 855 s (wait for the next poll)",
            "target": "webhooks p95 < 15 s; sender down: all delivered",
            "met": met,
            "chart": {
                "bars": {
                    "webhooks p95": hooks.get("p95", 0),
                    "poll 1 min p95": down.get("p95", 0),
                    "poll 15 min p95": 855,
                },
                "unit": "seconds",
                "target": 15,
                "target_label": "15 s",
            },
            "detail": result,
        }
    ]


def bench_concurrency(args, backend: str) -> list[dict]:
    """Order Download at real answer times (issue 18): `benchmarks.concurrency`."""
    return concurrency.run(args, backend)


RUNNERS = {
    "order_download": bench_order_download,
    "quota": bench_quota,
    "inventory": bench_inventory,
    "dispatcher": bench_dispatcher,
    "admin": bench_admin,
    "latency": bench_latency,
    "webhooks": bench_webhooks,
    "concurrency": bench_concurrency,
    "reconciliation": bench_reconciliation,
    "order_download_shiphero": shiphero.order_download,
    "inventory_shiphero": shiphero.inventory,
}
PER_BACKEND = {
    "order_download",
    "inventory",
    "dispatcher",
    "reconciliation",
    "order_download_shiphero",
    "inventory_shiphero",
}
# concurrency: PostgreSQL, as a hub with many connections and concurrent sends is deployed.
DEFAULT_BACKENDS = {
    "quota": ["sqlite"],
    "admin": ["postgres"],
    "latency": ["sqlite"],
    "webhooks": ["sqlite"],
    "concurrency": ["postgres"],
}
# reconciliation: its set-up (the jobs sending, shipping and publishing the window) takes minutes.
# the ShipHero pair: each runs twice, once at the documented 60 credits/s (minutes by design).
OPTIONAL = {"latency", "webhooks", "concurrency", "reconciliation", "order_download_shiphero", "inventory_shiphero"}


# ------------------------------------------------------------------ machine and main


def machine() -> dict:
    def run(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        except OSError:
            return ""

    def lines(path):
        try:
            return pathlib.Path(path).read_text().splitlines()
        except OSError:
            return []

    cpu = next((line.split(":", 1)[1].strip() for line in lines("/proc/cpuinfo") if line.startswith("model name")), "")
    mem_kb = next((int(line.split()[1]) for line in lines("/proc/meminfo") if line.startswith("MemTotal")), 0)
    os_name = next(
        (
            line.split("=", 1)[1].strip().strip('"')
            for line in lines("/etc/os-release")
            if line.startswith("PRETTY_NAME")
        ),
        platform.platform(),
    )
    import sqlite3

    try:
        pg = infra.pg_sql("SHOW server_version")[0][0]
    except Exception as exc:
        pg = f"unavailable ({type(exc).__name__})"
    return {
        "nproc": run("nproc"),
        "cpu": cpu,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "os": os_name,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": pg,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", choices=sorted(RUNNERS), help="run only this benchmark (repeatable)")
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, for checking the harness (not for the README)"
    )
    parser.add_argument("--backends", default="sqlite,postgres", help="for the per-backend benchmarks")
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the admin benchmark's 1M-order database")
    parser.add_argument("--profile", action="store_true", help="pyinstrument profiles of the hub runs into results/")
    args = parser.parse_args(argv)
    names = args.only or [name for name in RUNNERS if name not in OPTIONAL]
    backends = [b for b in args.backends.split(",") if b]
    started = time.monotonic()
    needed = sorted({b for name in names for b in (backends if name in PER_BACKEND else DEFAULT_BACKENDS[name])})
    templates = infra.Database.prepare_templates(needed)
    print(f"migrated templates: {', '.join(f'{k} {v:.1f} s' for k, v in templates.items())}", flush=True)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    rows, failures = [], []
    for name in names:
        for backend in backends if name in PER_BACKEND else DEFAULT_BACKENDS[name]:
            print(f"== {name} on {backend} ...", flush=True)
            began = time.monotonic()
            try:
                new = RUNNERS[name](args, backend)
            except Exception as exc:
                failures.append(f"{name}/{backend}: {exc}")
                print(f"   FAILED: {exc}", flush=True)
                continue
            for row in new:
                row.update({"measured_at": now, "quick": args.quick, "seconds": time.monotonic() - began})
                print(
                    f"   {row['title']}: {row['result']}  [{'met' if row['met'] else 'MISSED'}: {row['target']}]",
                    flush=True,
                )
            rows.extend(new)
    results = report.merge(rows, machine(), now)
    report.write(results)
    print()
    print(report.table(results))
    print(
        f"\n{len(rows)} result(s) in {time.monotonic() - started:.0f} s; "
        f"written to benchmarks/results/latest.json and latest.png"
    )
    for failure in failures:
        print(f"FAILED {failure[:2000]}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
