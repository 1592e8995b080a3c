"""The wire limit: bare scripts making exactly the HTTP calls the protocols require, with `requests`
and no database, no audit, no retries, no validation. What the hub does on top of these calls is
its overhead; the time of these scripts is what serving the calls costs (sandbox + loopback +
client).

Both take the credentials printed by `manage.py sandbox tenant` and make their calls one after the
other on one keep-alive session per service, as the hub does for one connection.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import requests

TIMEOUT = (5, 60)


def _om_session(om: dict) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    # The token `sandbox tenant` obtained by the app install, used as a static Bearer (no password grant).
    session.headers.update({"Authorization": f"Bearer {om['access_token']}", "Accept": "application/json"})
    return session


def _wms_session(wms: dict) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    answer = session.post(
        f"{wms['base_url']}/AuthServer/api/Token",
        timeout=TIMEOUT,
        auth=(wms["client_id"], wms["client_secret"]),
        json={"grant_type": "client_credentials", "user_login": wms["user_login"]},
    )
    answer.raise_for_status()
    session.headers.update(
        {"Authorization": f"Bearer {answer.json()['access_token']}", "Accept": "application/hal+json"}
    )
    return session


def pickup_orders(session: requests.Session, om: dict, page_size: int = 100) -> tuple[list[dict], int]:
    """Every order in the pickup status for the warehouse, page by page; (orders, calls made)."""
    until = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    orders, page, calls = [], 1, 0
    while True:
        answer = session.get(
            f"{om['base_url']}/v1.1/orders",
            timeout=TIMEOUT,
            params={
                "status": "AWAITING_3PL_EXPORT",
                "warehouseId": om["warehouse_id"],
                "modifiedDateTo": until,
                "limit": page_size,
                "page": page,
            },
        )
        answer.raise_for_status()
        calls += 1
        batch = answer.json()
        orders.extend(batch)
        if len(batch) < page_size:
            return orders, calls
        page += 1


def order_download(creds: dict, *, page_size: int = 100) -> dict:
    """Token calls, every page of orders in the pickup status, one `POST /orders` per order."""
    om, wms = creds["order_manager"], creds["warehouse_manager"]
    started = time.monotonic()
    calls = 0
    om_session, wms_session = _om_session(om), _wms_session(wms)
    calls += 2
    orders, page_calls = pickup_orders(om_session, om, page_size)
    calls += page_calls
    for order in orders:
        body = {
            "customerIdentifier": {"id": wms["customer_id"]},
            "facilityIdentifier": {"id": wms["facility_id"]},
            "referenceNum": order["orderNumber"],
            "shipTo": {
                "name": order.get("shipName"),
                "address1": order.get("shipAddress1"),
                "city": order.get("shipCity"),
                "state": order.get("shipState"),
                "zip": order.get("shipZipCode"),
                "country": order.get("shipCountry"),
            },
            "orderItems": [
                {"itemIdentifier": {"sku": item["product"]["masterSku"]}, "qty": item["quantityOrdered"]}
                for item in order["orderItems"]
            ],
        }
        answer = wms_session.post(f"{wms['base_url']}/orders", json=body, timeout=TIMEOUT)
        calls += 1
        if answer.status_code != 201:
            raise RuntimeError(f"WMS refused {order['orderNumber']}: {answer.status_code} {answer.text[:300]}")
    seconds = time.monotonic() - started
    return {"orders": len(orders), "seconds": seconds, "calls": calls, "ms_per_call": 1000 * seconds / calls}


def inventory(creds: dict, *, om_page_size: int = 200, adjust_batch: int = 200, wms_page_size: int = 500) -> dict:
    """Stock summaries at 500 a page, Order Manager stock totals pages, adjusts of the changed SKUs at 200 a call."""
    om, wms = creds["order_manager"], creds["warehouse_manager"]
    started = time.monotonic()
    calls = 2
    om_session, wms_session = _om_session(om), _wms_session(wms)
    available: dict[str, float] = {}
    page = 1
    while True:
        answer = wms_session.get(
            f"{wms['base_url']}/inventory/stocksummaries",
            timeout=TIMEOUT,
            params={"pgsiz": wms_page_size, "pgnum": page},
        )
        answer.raise_for_status()
        calls += 1
        body = answer.json()
        for row in body["summaries"]:
            if row["facilityId"] == wms["facility_id"]:
                sku = row["itemIdentifier"]["sku"]
                available[sku] = available.get(sku, 0) + row["available"]
        if page * wms_page_size >= body["totalResults"]:
            break
        page += 1
    adjusted, om_calls = publish_stock(om_session, om, available, om_page_size=om_page_size, adjust_batch=adjust_batch)
    calls += om_calls
    seconds = time.monotonic() - started
    return {
        "skus": len(available),
        "adjusted": adjusted,
        "seconds": seconds,
        "calls": calls,
        "ms_per_call": 1000 * seconds / calls,
    }


def publish_stock(
    om_session: requests.Session, om: dict, available: dict, *, om_page_size: int = 200, adjust_batch: int = 200
) -> tuple[int, int]:
    """Order Manager's stock totals, page by page, and an adjust of every SKU whose unlocked quantity
    differs from the WMS's `available`, 200 a call; (SKUs adjusted, calls made). Any WMS's half."""
    calls = 0
    stock, page = {}, 1
    while True:
        answer = om_session.get(
            f"{om['base_url']}/v1/productstocks/total",
            timeout=TIMEOUT,
            params={"warehouseId": om["warehouse_id"], "limit": om_page_size, "page": page},
        )
        answer.raise_for_status()
        calls += 1
        rows = answer.json()
        for row in rows:
            stock[row["product"]["masterSku"]] = (row.get("onHandQuantity") or 0, row.get("lockedQuantity") or 0)
        if len(rows) < om_page_size:
            break
        page += 1
    items = []
    for sku, qty in available.items():
        if sku in stock:
            on_hand, locked = stock[sku]
            target = int(qty) + max(0, locked)
            if target != on_hand:
                items.append(
                    {
                        "warehouseId": om["warehouse_id"],
                        "masterSku": sku,
                        "onHandQuantity": target,
                        "stockLocationName": "GLOBAL",
                    }
                )
    for start in range(0, len(items), adjust_batch):
        answer = om_session.post(
            f"{om['base_url']}/v1.1/inventory/adjust", json=items[start : start + adjust_batch], timeout=TIMEOUT
        )
        answer.raise_for_status()
        calls += 1
    return len(items), calls
