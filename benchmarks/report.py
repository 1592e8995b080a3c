"""Results: merge with the previous latest.json, print the table, write JSON and the PNG chart.

`latest.json` = {"machine": {...}, "written_at": ..., "results": [row...]}; a row is one measured
line: name, backend, title, result (words), target, met, chart ({hub, wire?, unit}), detail,
measured_at, quick. The chart draws one bar group per row, hub beside wire when there is a wire
figure, each normalised to its target so that every panel reads "left of the line is good".
"""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
LATEST_JSON = RESULTS / "latest.json"
LATEST_PNG = RESULTS / "latest.png"


def merge(rows: list[dict], machine: dict, now: str) -> dict:
    """New rows replace the previous ones of the same (name, backend); the others are kept."""
    previous = []
    if LATEST_JSON.exists():
        try:
            previous = json.loads(LATEST_JSON.read_text()).get("results", [])
        except ValueError:
            previous = []
    fresh = {(r["name"], r["backend"]) for r in rows}
    kept = [r for r in previous if (r["name"], r["backend"]) not in fresh]
    order = [
        "order_download",
        "order_download_shiphero",
        "quota",
        "inventory",
        "inventory_shiphero",
        "dispatcher",
        "admin",
        "latency",
        "concurrency",
        "reconciliation",
    ]
    merged = sorted(
        kept + rows,
        key=lambda r: (order.index(r["name"]) if r["name"] in order else 99, r["backend"], r.get("title", "")),
    )
    return {"machine": machine, "written_at": now, "results": merged}


def table(results: dict) -> str:
    """A Markdown table (also readable in a terminal)."""
    lines = ["| Benchmark | DB | Result | Target | Met |", "|---|---|---|---|---|"]
    for r in results["results"]:
        when = (
            ""
            if r.get("measured_at", "")[:10] == results["written_at"][:10]
            else f" (measured {r.get('measured_at', '?')[:10]})"
        )
        quick = " (quick sizes)" if r.get("quick") else ""
        lines.append(
            f"| {r['title']}{quick}{when} | {r['backend']} | {r['result']} | {r['target']} | "
            f"{'yes' if r['met'] else '**no**'} |"
        )
    return "\n".join(lines)


def write(results: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    LATEST_JSON.write_text(json.dumps(results, indent=1, default=str) + "\n")
    chart(results, LATEST_PNG)


def chart(results: dict, path: Path) -> None:
    """Small multiples: one panel per result row, its bars (hub, wire, pages...) and a dashed line at
    its target; a bar is green on the right side of the line, red on the wrong one, grey when it
    is what the hub is compared with (`reference`: the wire limit, the unpaced run)."""
    import math

    import matplotlib

    matplotlib.use("Agg")  # no display, no network: renders straight to PNG
    import matplotlib.pyplot as plt

    rows = [r for r in results["results"] if r.get("chart")]
    if not rows:
        return
    columns = 3
    lines = math.ceil(len(rows) / columns)
    fig, axes = plt.subplots(lines, columns, figsize=(4.2 * columns, 2.9 * lines), squeeze=False)
    for ax, r in zip(axes.flat, rows):
        c = r["chart"]
        names, values = list(c["bars"]), list(c["bars"].values())
        reference = set(c.get("reference", ()))
        lower = c.get("better", "lower") == "lower"

        def colour(name, value):
            if name in reference:
                return "#90a4ae"  # what the hub is compared with
            if c.get("target") is None:
                return "#2e7d32" if r["met"] else "#c62828"
            return "#2e7d32" if (value <= c["target"] if lower else value >= c["target"]) else "#c62828"

        ax.bar(names, values, color=[colour(n, v) for n, v in zip(names, values)])
        for index, value in enumerate(values):
            ax.text(index, value, f"{value:,.3g}", ha="center", va="bottom", fontsize=8)
        if c.get("target") is not None:
            ax.axhline(c["target"], color="black", linestyle="--", linewidth=1)
            ax.text(
                len(values) - 0.5, c["target"], c.get("target_label", "target"), ha="right", va="bottom", fontsize=7
            )
        ax.set_title(f"{r['title']} [{r['backend']}]", fontsize=9)
        ax.set_ylabel(c.get("unit", ""), fontsize=8)
        ax.tick_params(labelsize=8)
        ax.margins(y=0.18)
    for ax in list(axes.flat)[len(rows) :]:
        ax.axis("off")
    machine = results["machine"]
    fig.suptitle(
        f"Hub benchmarks {results['written_at'][:10]}: {machine.get('nproc')} CPU {machine.get('cpu', '')[:40]}, "
        f"{machine.get('ram_gb')} GB, Python {machine.get('python')}, SQLite {machine.get('sqlite')}, "
        f"PostgreSQL {machine.get('postgresql')}",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
