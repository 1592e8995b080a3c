"""Helpers for the sandbox ShipHero tests: an account set up through the control functions, and a
plain `requests` client of its two endpoints over the live server's real socket."""

from __future__ import annotations

import requests

from connectors.shiphero.sandbox import control

REFRESH = "refresh-token-acme"
ORDER_FIELDS = """
  id legacy_id order_number partner_order_id fulfillment_status account_id
  line_items(first: 10) { edges { node { sku quantity quantity_shipped partner_line_item_id } } }
"""


def account(**options):
    found = control.ensure_account(
        "dev@acme.example",
        REFRESH,
        customer_account_name="Acme Brand",
        warehouse_identifier="Primary",
        **options,
    )
    control.seed_products(found, {"SKU-1": 10, "SKU-2": 5})
    return found


class ShipHero:
    """`refresh()` -> the auth answer; `gql(query, variables)` -> the GraphQL answer (a Response)."""

    def __init__(self, live_server):
        self.base = f"{live_server.url}/sandbox/shiphero"
        self.session = requests.Session()
        self.session.trust_env = False
        self.token = None

    def refresh(self, refresh_token: str = REFRESH) -> requests.Response:
        answer = self.session.post(f"{self.base}/auth/refresh", json={"refresh_token": refresh_token}, timeout=10)
        if answer.status_code == 200:
            self.token = answer.json()["access_token"]
        return answer

    def gql(self, query: str, variables: dict | None = None, *, token: str | None = None) -> requests.Response:
        if self.token is None and token is None:
            self.refresh()
        body = {"query": query, "variables": variables or {}}
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return self.session.post(f"{self.base}/graphql", json=body, headers=headers, timeout=10)

    def create(self, account, partner_order_id: str, lines=(("SKU-1", 2),), **extra) -> requests.Response:
        data = {
            "customer_account_id": control.customer_account_id(account),
            "order_number": partner_order_id,
            "partner_order_id": partner_order_id,
            "shop_name": "hub",
            "shipping_address": {
                "first_name": "Ada",
                "last_name": "L",
                "address1": "1 Main",
                "city": "X",
                "zip": "1",
                "country": "US",
            },
            "line_items": [
                {"sku": sku, "partner_line_item_id": f"{partner_order_id}-{i}", "quantity": qty, "price": "1.00"}
                for i, (sku, qty) in enumerate(lines)
            ],
        } | extra
        mutation = (
            "mutation($data: CreateOrderInput!) { order_create(data: $data) { request_id complexity order {"
            + ORDER_FIELDS
            + "} } }"
        )
        return self.gql(mutation, {"data": data})
