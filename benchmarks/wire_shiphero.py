"""The wire limit on ShipHero: bare scripts making the calls the hub's ShipHero runs make, with
`requests` and no database, no audit, no validation (`benchmarks.wire` is the 3PL twin).

Both take the credentials `onboarding.onboard(.., system="shiphero")` returns. ShipHero's side:
`POST /auth/refresh` once, then `POST /graphql` with the documents of
`connectors.shiphero.operations` (their text imported, never retyped) one after the other on one
keep-alive session, as the hub does for one connection. The Order Manager side is `benchmarks.wire`'s.

Credits: the script does not pace ahead; a code-30 refusal (out of credits) is slept for its
`time_remaining` and sent again, the simplest client that still finishes. The hub paces by its
bucket instead (`connectors.shiphero.credits`); with a refill that binds both end up at the
account's rate.

Look-ups: the hub looks an order up (`ORDERS_BY_REFERENCE`) only before a re-send (an earlier
attempt may have reached ShipHero), never before a first send (`hub.jobs.order_download.Sending.call`),
so a clean run has none; `look_up_first=True` sends one before every create, to price what that
would cost.
"""

from __future__ import annotations

import re
import time

import requests

from connectors.shiphero import operations as ops

from . import wire

TIMEOUT = wire.TIMEOUT
STOCK_PAGE_SIZE = 100  # the hub's (connectors.shiphero.client.STOCK_PAGE_SIZE)
THROTTLED = 30


class Graphql:
    """One ShipHero account's session: the token, the calls, the credits they cost, code-30 waits."""

    def __init__(self, sh: dict) -> None:
        self.base = sh["base_url"].rstrip("/")
        self.session = requests.Session()
        self.session.trust_env = False
        answer = self.session.post(
            f"{self.base}/auth/refresh", json={"refresh_token": sh["refresh_token"]}, timeout=TIMEOUT
        )
        answer.raise_for_status()
        self.session.headers.update(
            {"Authorization": f"Bearer {answer.json()['access_token']}", "Accept": "application/json"}
        )
        self.calls, self.credits, self.throttled, self.waited = 1, 0, 0, 0.0
        self.by_operation: dict[str, int] = {}

    def execute(self, operation: ops.Operation, variables: dict) -> dict:
        payload = {"query": operation.text, "variables": variables, "operationName": operation.name}
        while True:
            answer = self.session.post(f"{self.base}/graphql", json=payload, timeout=TIMEOUT)
            self.calls += 1
            answer.raise_for_status()
            body = answer.json()
            errors = body.get("errors") or []
            throttle = next((e for e in errors if e.get("code") == THROTTLED), None)
            if throttle is not None:
                self.throttled += 1
                wait = float(re.match(r"\s*([\d.]+)", str(throttle.get("time_remaining") or "1")).group(1))
                self.waited += wait
                time.sleep(wait)
                continue
            if errors:
                raise RuntimeError(f"ShipHero refused {operation.name}: {errors[:2]}")
            root = body["data"][operation.root]
            self.credits += root.get("complexity") or 0
            self.by_operation[operation.name] = self.by_operation.get(operation.name, 0) + 1
            return root

    def summary(self) -> dict:
        return {
            "shiphero_calls": self.calls,
            "credits": self.credits,
            "throttled": self.throttled,
            "throttle_wait_seconds": self.waited,
            "by_operation": self.by_operation,
        }


def order_body(order: dict, sh: dict) -> dict:
    """`CreateOrderInput` for one Order Manager order, shaped as `connectors.shiphero.system` does."""
    reference = order["orderNumber"]
    first, _, last = (order.get("shipName") or "").partition(" ")
    address = {
        "first_name": first,
        "last_name": last,
        "address1": order.get("shipAddress1"),
        "city": order.get("shipCity"),
        "state": order.get("shipState"),
        "zip": order.get("shipZipCode"),
        "country": order.get("shipCountry"),
    }
    return {
        "order_number": reference,
        "partner_order_id": reference,
        "customer_account_id": sh["customer_account_id"],
        "shipping_address": {k: v for k, v in address.items() if v},
        "tags": [f"om-order-id:{order['orderId']}"],
        "line_items": [
            {
                "sku": item["product"]["masterSku"],
                "partner_line_item_id": f"{reference}-{number}",
                "quantity": item["quantityOrdered"],
                "price": "0.00",
                "warehouse_id": sh["warehouse_id"],
            }
            for number, item in enumerate(order["orderItems"], start=1)
        ],
    }


def order_download(creds: dict, *, page_size: int = 100, look_up_first: bool = False) -> dict:
    """Every order in the pickup status (Order Manager pages), one `order_create` per order."""
    om, sh = creds["order_manager"], creds["shiphero"]
    started = time.monotonic()
    om_session = wire._om_session(om)
    orders, om_calls = wire.pickup_orders(om_session, om, page_size)
    graphql = Graphql(sh)
    for order in orders:
        if look_up_first:
            found = graphql.execute(
                ops.ORDERS_BY_REFERENCE,
                {
                    "partner_order_id": order["orderNumber"],
                    "customer_account_id": sh["customer_account_id"],
                    "first": 5,
                },
            )
            if found["data"]["edges"]:
                continue
        created = graphql.execute(ops.CREATE_ORDER, {"data": order_body(order, sh)})
        if not (created.get("order") or {}).get("legacy_id"):
            raise RuntimeError(f"ShipHero did not create {order['orderNumber']}: {created}")
    seconds = time.monotonic() - started
    calls = om_calls + graphql.calls
    return {
        "orders": len(orders),
        "seconds": seconds,
        "calls": calls,
        "om_calls": om_calls,
        "ms_per_call": 1000 * seconds / calls,
        **graphql.summary(),
    }


def inventory(creds: dict, *, om_page_size: int = 200, adjust_batch: int = 200) -> dict:
    """`warehouse_products` at 100 a page (the hub's), then `benchmarks.wire.publish_stock`."""
    om, sh = creds["order_manager"], creds["shiphero"]
    started = time.monotonic()
    graphql = Graphql(sh)
    available: dict[str, int] = {}
    after = None
    while True:
        variables = {"warehouse_id": sh["warehouse_id"], "customer_account_id": sh["customer_account_id"]}
        variables.update({"first": STOCK_PAGE_SIZE, **({"after": after} if after else {})})
        page = graphql.execute(ops.WAREHOUSE_STOCK, variables)["data"]
        for edge in page["edges"]:
            row = edge["node"]
            if row["warehouse_id"] == sh["warehouse_id"]:
                available[row["sku"]] = available.get(row["sku"], 0) + row["available"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    adjusted, om_calls = wire.publish_stock(
        wire._om_session(om), om, available, om_page_size=om_page_size, adjust_batch=adjust_batch
    )
    seconds = time.monotonic() - started
    calls = om_calls + graphql.calls
    return {
        "skus": len(available),
        "adjusted": adjusted,
        "seconds": seconds,
        "calls": calls,
        "om_calls": om_calls,
        "ms_per_call": 1000 * seconds / calls,
        **graphql.summary(),
    }
