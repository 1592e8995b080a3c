"""The wire limit with overlapping calls: a bare script that makes Order Download's WMS calls over N
threads, with `requests` and no database, no audit, no retries.

`order_download(creds, threads=8)`: the token calls, every page of orders in the pickup status
(Order Manager, `limit=100`, as `benchmarks.wire.order_download` reads them), then one
`POST /orders` per order, `threads` at a time (one keep-alive session per thread, one WMS token
shared by all of them, as one client's token is). The bodies are the hub's own
(`connectors.warehouse_manager.system` via `hub.mapping.rules.Rules.apply`: `referenceNum`,
`poNum`, `shipTo` without blank fields, `orderItems`, `routingInfo` from Order Manager's own carrier
and requested service (the benchmark tenants map no ship method), `notes` from the buyer's notes);
the benchmark compares one with what the hub stored for the same order (`bench_concurrency.hub_body`).

What the hub does on top (the claim before the call, the outcome and its timeline step after,
the cancel re-check, marking exported, the shared WMS rate limiter) is its overhead.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from .wire import TIMEOUT, _om_session, pickup_orders

SHIP_TO = (
    ("shipName", "name"),
    ("shipCompany", "companyName"),
    ("shipAddress1", "address1"),
    ("shipAddress2", "address2"),
    ("shipCity", "city"),
    ("shipState", "state"),
    ("shipZipCode", "zip"),
    ("shipCountry", "country"),
    ("shipPhone", "phoneNumber"),
    ("shipEmail", "emailAddress"),
)


def wms_token(wms: dict) -> str:
    answer = requests.post(
        f"{wms['base_url']}/AuthServer/api/Token",
        timeout=TIMEOUT,
        auth=(wms["client_id"], wms["client_secret"]),
        json={"grant_type": "client_credentials", "user_login": wms["user_login"]},
    )
    answer.raise_for_status()
    return answer.json()["access_token"]


def body_of(order: dict, wms: dict) -> dict:
    """The `POST /orders` body the hub sends for this Order Manager order (see the module docstring)."""
    body = {
        "referenceNum": order["orderNumber"],
        "poNum": str(order["orderId"]),
        "shipTo": {key: order.get(field) for field, key in SHIP_TO if order.get(field)},
        "orderItems": [
            {"itemIdentifier": {"sku": item["product"]["masterSku"]}, "qty": item["quantityOrdered"]}
            for item in order["orderItems"]
        ],
    }
    carrier = (order.get("shipMethod") or {}).get("shippingCarrier")
    if carrier:
        body["routingInfo"] = {"carrier": carrier}
        if order.get("requestedShippingService"):
            body["routingInfo"]["mode"] = order["requestedShippingService"]
    if order.get("notesFromBuyer"):
        body["notes"] = order["notesFromBuyer"]
    return {**body, "customerIdentifier": {"id": wms["customer_id"]}, "facilityIdentifier": {"id": wms["facility_id"]}}


def read_orders(om: dict, page_size: int = 100) -> tuple[list[dict], int]:
    """Every order in the pickup status for the warehouse; (orders, calls made)."""
    return pickup_orders(_om_session(om), om, page_size)


def order_download(creds: dict, *, threads: int = 8) -> dict:
    """Read the orders, then create each at the WMS over `threads` threads; timed from the first call."""
    om, wms = creds["order_manager"], creds["warehouse_manager"]
    started = time.monotonic()
    orders, calls = read_orders(om)
    token = wms_token(wms)
    calls += 1
    read_seconds = time.monotonic() - started
    local = threading.local()

    def create(order: dict) -> float:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            session.trust_env = False
            session.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/hal+json"})
        began = time.monotonic()
        answer = session.post(f"{wms['base_url']}/orders", json=body_of(order, wms), timeout=TIMEOUT)
        if answer.status_code != 201:
            raise RuntimeError(f"WMS refused {order['orderNumber']}: {answer.status_code} {answer.text[:300]}")
        return time.monotonic() - began

    with ThreadPoolExecutor(max_workers=threads) as pool:
        answer_times = sorted(pool.map(create, orders))
    calls += len(orders)
    seconds = time.monotonic() - started
    return {
        "orders": len(orders),
        "threads": threads,
        "seconds": seconds,
        "read_seconds": read_seconds,
        "calls": calls,
        "orders_per_second": len(orders) / seconds if seconds else 0.0,
        "create_ms_p50": 1000 * answer_times[len(answer_times) // 2] if answer_times else 0.0,
        "create_ms_mean": 1000 * sum(answer_times) / len(answer_times) if answer_times else 0.0,
        "first_body": body_of(orders[0], wms) if orders else None,
    }
