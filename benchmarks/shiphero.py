"""Order Download and Inventory Sync for a tenant on ShipHero (issue 20), beside the 3PL ones:
the same sides (`run.order_download_sides`, `run.inventory_sides`) with `system="shiphero"` and
`benchmarks.wire_shiphero` as the bare script.

ShipHero throttles by query-complexity credits, so each benchmark runs twice in one sandbox:
- `bound`: both accounts at the sandbox account's documented refill (`DOCUMENTED_REFILL`, 60
  credits a second, bucket 4,004): what the credits allow, in orders (SKUs) per second, hub and
  bare script alike; at smaller sizes (`shiphero_bound_*` in run.SIZES), because at 60 credits a
  second 1,000 orders take about 8 minutes a side and 5,000 SKUs about 17;
- `free`: both accounts at a refill that does not bind (`FREE_REFILL`): the hub-vs-bare ratio.
The hub warehouse's own WMS limiter is set out of the way (`WMS_RATE`). One row per benchmark and backend (`order_download_shiphero`, `inventory_shiphero`) holds both.
"""

from __future__ import annotations

from . import infra

DOCUMENTED_REFILL = 60.0
FREE_REFILL = 1_000_000.0
TARGET = 1.5
# The hub's own limiter per WMS login (Warehouse.wms_requests_per_second, 10/s by default) set out
# of the way, as in the reconciliation and concurrency benchmarks: ShipHero's credits are what is
# measured here (and at 60 credits/s they allow about 2 calls a second, far below 10).
WMS_RATE = 1000.0


def _credits(side: dict) -> dict:
    """(credits, ShipHero calls) of a hub run (counted at the bucket) or of the bare script."""
    if "shiphero" in side:
        counted = side["shiphero"]
        return {"credits": counted["credits"], "by_operation": counted["by_operation"]}
    return {"credits": side["credits"], "by_operation": side["by_operation"]}


def order_download(args, backend: str) -> list[dict]:
    from . import run

    n, bound_n = run.size(args, "orders"), run.size(args, "shiphero_bound_orders")
    db = infra.Database.create(backend, f"hub_bench_orders_shiphero_{backend}")
    runs = {}
    try:
        with infra.Sandbox(db) as sandbox:
            env = infra.environment(db, sandbox.url)
            for tag, orders, refill in (("free", n, FREE_REFILL), ("bound", bound_n, DOCUMENTED_REFILL)):
                hub, wire_result, _ = run.order_download_sides(
                    env,
                    sandbox.url,
                    orders,
                    system=run.SHIPHERO,
                    tag=f"-sh-{tag}",
                    credits_per_second=refill,
                    wms_rate=WMS_RATE,
                    profile=f"order_download_shiphero-{backend}" if args.profile and tag == "free" else None,
                )
                runs[tag] = {"orders": orders, "refill": refill, "hub": hub, "wire": wire_result}
    finally:
        db.drop()
    free, bound = runs["free"], runs["bound"]
    hub_rate, wire_rate = n / free["hub"]["seconds"], n / free["wire"]["seconds"]
    ratio = wire_rate / hub_rate
    bound_hub = bound_n / bound["hub"]["seconds"]
    bound_wire = bound_n / bound["wire"]["seconds"]
    per_order = bound["hub"]["shiphero"]["credits"] / bound_n
    return [
        {
            "name": "order_download_shiphero",
            "backend": backend,
            "title": f"Order Download on ShipHero, {n:,} orders",
            "result": (
                f"refill not binding: hub {hub_rate:,.0f} orders/s vs bare {wire_rate:,.0f} orders/s: {ratio:.2f}x; "
                f"at {DOCUMENTED_REFILL:g} credits/s ({bound_n:,} orders, {per_order:.0f} credits each): "
                f"hub {bound_hub:.2f} orders/s, bare {bound_wire:.2f} orders/s"
            ),
            "target": f"<= {TARGET}x bare (refill not binding)",
            "met": ratio <= TARGET,
            "chart": {
                "bars": {"hub": hub_rate, "bare": wire_rate},
                "unit": "orders/s",
                "target": wire_rate / TARGET,
                "target_label": f"bare / {TARGET}",
                "better": "higher",
                "reference": ["bare"],
            },
            "detail": {
                "orders": n,
                "ratio": ratio,
                "free": {**free, "credits": {"hub": _credits(free["hub"]), "wire": _credits(free["wire"])}},
                "bound": {
                    **bound,
                    "hub_orders_per_second": bound_hub,
                    "wire_orders_per_second": bound_wire,
                    "credits_per_order": per_order,
                },
                "serving_ms_per_call": free["wire"]["ms_per_call"],
            },
        }
    ]


def inventory(args, backend: str) -> list[dict]:
    from . import run

    skus, bound_skus = run.size(args, "inventory_skus"), run.size(args, "shiphero_bound_skus")
    db = infra.Database.create(backend, f"hub_bench_inventory_shiphero_{backend}")
    runs = {}
    try:
        with infra.Sandbox(db) as sandbox:
            env = infra.environment(db, sandbox.url)
            for tag, count, refill in (("free", skus, FREE_REFILL), ("bound", bound_skus, DOCUMENTED_REFILL)):
                first, second, wire_result = run.inventory_sides(
                    env,
                    sandbox.url,
                    count,
                    system=run.SHIPHERO,
                    tag=f"-sh-{tag}",
                    credits_per_second=refill,
                    wms_rate=WMS_RATE,
                    profile=f"inventory_shiphero-{backend}" if args.profile and tag == "free" else None,
                    second_run=tag == "free",  # the 0-adjusts check; at 60 credits/s it would cost minutes
                )
                runs[tag] = {"skus": count, "refill": refill, "hub": first, "second_run": second, "wire": wire_result}
    finally:
        db.drop()
    free, bound = runs["free"], runs["bound"]
    first, second, wire_result = free["hub"], free["second_run"], free["wire"]
    ratio = first["seconds"] / wire_result["seconds"]
    met = ratio <= TARGET and first["peak_mb"] < 250 and second["adjust_calls"] == 0
    bound_hub = bound_skus / bound["hub"]["seconds"]
    bound_wire = bound_skus / bound["wire"]["seconds"]
    return [
        {
            "name": "inventory_shiphero",
            "backend": backend,
            "title": f"Inventory Sync on ShipHero, {skus:,} SKUs",
            "result": (
                f"refill not binding: hub {first['seconds']:.1f} s vs bare {wire_result['seconds']:.1f} s: {ratio:.2f}x; "
                f"peak {first['peak_mb']:.0f} MB; 2nd run {second['adjust_calls']} adjust calls; "
                f"at {DOCUMENTED_REFILL:g} credits/s ({bound_skus:,} SKUs): hub {bound_hub:.0f} SKUs/s, "
                f"bare {bound_wire:.0f} SKUs/s"
            ),
            "target": f"<= {TARGET}x bare (refill not binding), < 250 MB, 0 adjusts",
            "met": met,
            "chart": {
                "bars": {"hub s": first["seconds"], "bare s": wire_result["seconds"]},
                "unit": "seconds",
                "target": TARGET * wire_result["seconds"],
                "target_label": f"{TARGET} x bare",
                "reference": ["bare s"],
            },
            "detail": {
                "skus": skus,
                "ratio": ratio,
                "free": {**free, "credits": {"hub": _credits(first), "wire": _credits(wire_result)}},
                "bound": {**bound, "hub_skus_per_second": bound_hub, "wire_skus_per_second": bound_wire},
            },
        }
    ]
