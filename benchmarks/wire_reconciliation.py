"""The wire limit of Reconciliation: a bare script reading the pages the hub's run reads, with
`requests` and no database, and comparing them the simplest way (benchmarks/wire.py's style).

`reconciliation_reads(creds, window_from, window_to, om_ids_per_read)`, one call after the other
on one keep-alive session per service:
1. Order Manager: the window's orders in the pickup status and the CANCELLED ones
   (`GET /v1.1/orders`, 100 a page, until a short page).
2. The WMS: its token; its orders modified since the window's start (`GET /orders`, the hub's
   RQL, `detail=All`, 100 a page, until `totalResults`).
3. Order Manager: the closed WMS orders' tracking (`GET /v1.1/orders?orderId=..`, the PO number
   being the Order Manager id, `om_ids_per_read` ids a call, as the hub reads them).
4. Stock: the customer's items (`GET /customers/{id}/items`, 100 a page: the stock summaries name
   no customer, so the items say which rows are this customer's), the stock summaries (500 a
   page), Order Manager's stock totals (200 a page); on hand compared with available + locked.
No throttle-limits read, no pacing, no audit, no retries: what the hub does on top is its overhead.
"""

from __future__ import annotations

import time
import zoneinfo
from datetime import UTC, datetime

from .wire import TIMEOUT, _om_session, _wms_session


def _om_window(session, om: dict, status: str, window_from: datetime, window_to: datetime) -> tuple[list, int]:
    orders, page, calls = [], 1, 0
    while True:
        answer = session.get(
            f"{om['base_url']}/v1.1/orders",
            timeout=TIMEOUT,
            params={
                "status": status,
                "warehouseId": om["warehouse_id"],
                "modifiedDateFrom": window_from.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "modifiedDateTo": window_to.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "limit": 100,
                "page": page,
            },
        )
        answer.raise_for_status()
        calls += 1
        batch = answer.json()
        orders.extend(batch)
        if len(batch) < 100:
            return orders, calls
        page += 1


def _wms_pages(session, url: str, params: dict, rel: str, page_size: int) -> tuple[list, int]:
    rows, page = [], 1
    while True:
        answer = session.get(url, timeout=TIMEOUT, params={**params, "pgsiz": page_size, "pgnum": page})
        answer.raise_for_status()
        body = answer.json()
        batch = body.get("_embedded", {}).get(rel, []) if rel else body.get("summaries", [])
        rows.extend(batch)
        if not batch or page * page_size >= body["totalResults"]:
            return rows, page
        page += 1


def reconciliation_reads(creds: dict, window_from: str, window_to: str, om_ids_per_read: int) -> dict:
    om, wms = creds["order_manager"], creds["warehouse_manager"]
    since, until = datetime.fromisoformat(window_from), datetime.fromisoformat(window_to)
    local = since.astimezone(zoneinfo.ZoneInfo(wms["facility_time_zone"])).strftime("%Y-%m-%dT%H:%M:%S")
    started = time.monotonic()
    calls: dict[str, int] = {}
    om_session, wms_session = _om_session(om), _wms_session(wms)
    calls["POST /AuthServer/api/Token"] = 1
    pickup, n = _om_window(om_session, om, "AWAITING_3PL_EXPORT", since, until)
    cancelled, m = _om_window(om_session, om, "CANCELLED", since, until)
    calls["GET /v1.1/orders (window)"] = n + m

    rql = (
        f"readOnly.lastModifiedDate=ge={local};readOnly.customerIdentifier.id=={wms['customer_id']};"
        f"readOnly.facilityIdentifier.id=={wms['facility_id']}"
    )
    wms_orders, n = _wms_pages(
        wms_session,
        f"{wms['base_url']}/orders",
        {"rql": rql, "sort": "readOnly.lastModifiedDate", "detail": "All"},
        "http://api.3plCentral.com/rels/orders/order",
        100,
    )
    calls["GET /orders"] = n
    shipped = {}
    for order in wms_orders:
        read_only = order["readOnly"]
        numbers = [p.get("trackingNumber") for p in read_only.get("packages") or [] if p.get("trackingNumber")]
        if read_only.get("isClosed") and numbers and str(order.get("poNum", "")).isdigit():
            shipped[int(order["poNum"])] = numbers
    ids, lacking, n = sorted(shipped), 0, 0
    for start in range(0, len(ids), om_ids_per_read):
        chunk = ids[start : start + om_ids_per_read]
        answer = om_session.get(
            f"{om['base_url']}/v1.1/orders",
            timeout=TIMEOUT,
            params={"orderId": chunk, "page": 1, "limit": max(10, len(chunk))},
        )
        answer.raise_for_status()
        n += 1
        for state in answer.json():
            present = {t for s in state.get("shipments") or [] for t in s.get("trackingNumbers") or []}
            lacking += any(t not in present for t in shipped.get(state["orderId"], []))
    calls["GET /v1.1/orders (by id)"] = n

    items, n = _wms_pages(
        wms_session,
        f"{wms['base_url']}/customers/{wms['customer_id']}/items",
        {},
        "http://api.3plCentral.com/rels/customers/item",
        100,
    )
    calls["GET /customers/{id}/items"] = n
    own = {item["itemId"] for item in items}
    summaries, n = _wms_pages(wms_session, f"{wms['base_url']}/inventory/stocksummaries", {}, "", 500)
    calls["GET /inventory/stocksummaries"] = n
    available: dict[str, float] = {}
    for row in summaries:
        if row["facilityId"] == wms["facility_id"] and row["itemIdentifier"]["id"] in own:
            sku = row["itemIdentifier"]["sku"]
            available[sku] = available.get(sku, 0) + row["available"]
    stock, page = {}, 1
    while True:
        answer = om_session.get(
            f"{om['base_url']}/v1/productstocks/total",
            timeout=TIMEOUT,
            params={"warehouseId": om["warehouse_id"], "limit": 200, "page": page},
        )
        answer.raise_for_status()
        rows = answer.json()
        for row in rows:
            stock[row["product"]["masterSku"]] = (row.get("onHandQuantity") or 0, row.get("lockedQuantity") or 0)
        if len(rows) < 200:
            break
        page += 1
    calls["GET /v1/productstocks/total"] = page
    drift = sum(
        1
        for sku, qty in available.items()
        if sku in stock and stock[sku][0] != max(0, int(qty)) + max(0, stock[sku][1])
    )
    seconds = time.monotonic() - started
    total = sum(calls.values())
    return {
        "seconds": seconds,
        "calls": calls,
        "calls_total": total,
        "ms_per_call": 1000 * seconds / total,
        "pickup": len(pickup),
        "cancelled": len(cancelled),
        "wms_orders": len(wms_orders),
        "shipped": len(shipped),
        "tracking_lacking": lacking,
        "skus": len(available),
        "stock_drift": drift,
    }
