"""How many worker processes 500 connections need: the model behind the sizing table (no Django).

A django-q2 worker process runs one task (one job run for one connection) at a time, and a run
spends its time waiting for answers, so the workers busy on average are the runs started per
second times the seconds a run takes (Little's law):

    orders_per_run  k = orders_per_day x peak_factor x interval_minutes / 1440
    run_seconds     w(k) = a + b k                      (least squares through measured runs)
    busy workers    = connections x (w(k) + other) / interval_seconds
    workers         = ceil(busy workers / utilisation)  (utilisation 0.7: headroom for bursts and
                                                          runs falling due in the same minute)
    CPU cores       = connections x (c(k) + other_cpu) / interval_seconds,  c(k) = a' + b' k

`other` is what the other two polling jobs cost per Order Download interval, measured the same way
on the same connections with nothing to do (Order Cancel Download every 5 minutes, Shipment
Confirmation every 15: one third of a run per interval); Inventory Sync runs once a day at night
and is left out. `fit(runs)` fits the lines, `table(fit)` computes the scenarios.
"""

from __future__ import annotations

import math

CONNECTIONS = 500
INTERVAL_MINUTES = 5
INTERVAL_SECONDS = INTERVAL_MINUTES * 60
UTILISATION = 0.7
# (orders per day per connection, peak factor): the peak hour carries `peak factor` times the
# day's average hour; 10 is a sale or a holiday peak.
SCENARIOS = [(200, 3), (1_000, 3), (5_000, 3), (20_000, 3), (1_000, 10), (5_000, 10)]
HEADLINE = "1,000/day x3"
# The other polling jobs per Order Download interval (5 min): Cancel Download every 5, Shipments every 15.
OTHER_JOBS_PER_INTERVAL = {"cancellations": 1.0, "shipments": INTERVAL_MINUTES / 15}
FORMULA = (
    "workers = ceil(connections x (a + b x k + other) / interval_s / utilisation), "
    "k = orders_per_day x peak_factor x interval_min / 1440"
)
ASSUMPTIONS = {
    "connections": CONNECTIONS,
    "order_download_interval_minutes": INTERVAL_MINUTES,
    "utilisation": UTILISATION,
    "scenarios": [{"orders_per_day": d, "peak_factor": p} for d, p in SCENARIOS],
    "other_jobs_per_interval": OTHER_JOBS_PER_INTERVAL,
    "not_included": "Inventory Sync (once a day, at night), shipments actually found (one Order Manager write "
    "per shipped order), the dispatcher tick and the broker",
}


def _line(points: list[tuple[float, float]]) -> dict:
    """Least squares y = a + b x; with one distinct x, the mean and no slope."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    b = sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0
    a = my - b * mx
    residual = max(abs(y - (a + b * x)) for x, y in points)
    return {"a": a, "b": b, "points": n, "max_residual": residual}


def fit(runs: list[dict]) -> dict:
    """Lines through the Order Download runs (`orders`, `seconds`, `cpu_seconds`) and the mean idle
    cost of the other jobs' runs (`job` "cancellations", "shipments": `hub.models.Job` values)."""
    downloads = [r for r in runs if r.get("job", "orders") == "orders"]
    other = {}
    for job in OTHER_JOBS_PER_INTERVAL:
        mine = [r for r in runs if r.get("job") == job]
        if mine:
            other[job] = {
                "seconds": sum(r["seconds"] for r in mine) / len(mine),
                "cpu_seconds": sum(r["cpu_seconds"] for r in mine) / len(mine),
                "runs": len(mine),
            }
    return {
        "wall": _line([(r["orders"], r["seconds"]) for r in downloads]),
        "cpu": _line([(r["orders"], r["cpu_seconds"]) for r in downloads]),
        "other_jobs": other,
    }


def table(fitted: dict) -> list[dict]:
    wall, cpu = fitted["wall"], fitted["cpu"]
    other = fitted.get("other_jobs", {})
    other_wall = sum(OTHER_JOBS_PER_INTERVAL[j] * v["seconds"] for j, v in other.items())
    other_cpu = sum(OTHER_JOBS_PER_INTERVAL[j] * v["cpu_seconds"] for j, v in other.items())
    rows = []
    for per_day, peak in SCENARIOS:
        k = per_day * peak * INTERVAL_MINUTES / 1440
        run_seconds = wall["a"] + wall["b"] * k
        busy_download = CONNECTIONS * run_seconds / INTERVAL_SECONDS
        busy = CONNECTIONS * (run_seconds + other_wall) / INTERVAL_SECONDS
        rows.append(
            {
                "scenario": f"{per_day:,}/day x{peak:g}",
                "orders_per_day": per_day,
                "peak_factor": peak,
                "orders_per_run": k,
                "run_seconds": run_seconds,
                "busy_workers_order_download": busy_download,
                "busy_workers": busy,
                "workers_order_download_only": math.ceil(busy_download / UTILISATION),
                "workers": math.ceil(busy / UTILISATION),
                "cpu_cores": CONNECTIONS * (cpu["a"] + cpu["b"] * k + other_cpu) / INTERVAL_SECONDS,
                "fits_interval": run_seconds < INTERVAL_SECONDS,
            }
        )
    return rows


def markdown(rows: list[dict]) -> str:
    lines = [
        "| Orders/day per connection | Peak factor | Orders per run at peak | Order Download run | "
        "Busy workers (all polling jobs) | Worker processes (70% busy) | Of which Order Download alone | CPU cores |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['orders_per_day']:,} | {r['peak_factor']:g} | {r['orders_per_run']:.1f} | {r['run_seconds']:.1f} s | "
            f"{r['busy_workers']:.1f} | **{r['workers']}** | {r['workers_order_download_only']} | {r['cpu_cores']:.2f} |"
        )
    return "\n".join(lines)
