"""The sandbox ShipHero warehouse, played by the control functions and read over a real socket:
shipping (shipments, packages, tracking numbers), stock per warehouse, a warehouse-side cancel, and
the signed Shipment Update webhook."""

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from connectors.sandbox.models import ShipHeroWebhookEvent
from connectors.shiphero.sandbox import control, webhooks
from tests.shiphero_sandbox_helpers import ShipHero, account

SHIPMENTS = """query($o: String) { shipments(order_id: $o) { complexity data(first: 5) { edges { node {
  id order_id warehouse_id total_packages created_date
  shipping_labels { tracking_number tracking_url carrier shipping_method shipping_name package_number order_number }
  line_items(first: 10) { edges { node { quantity shipping_label_id line_item { sku partner_line_item_id } } } }
} } } } }"""
ORDER = """query($id: String!) { order(id: $id) { data { fulfillment_status
  line_items(first: 5) { edges { node { sku quantity_shipped fulfillment_status } } }
  shipments { id shipping_labels { tracking_number carrier } } } } }"""
STOCK = """query($w: String, $s: String) { warehouse_products(warehouse_id: $w, sku: $s) { complexity data(first: 10) {
  edges { node { sku warehouse_id warehouse_identifier on_hand allocated available backorder account_id } } } } }"""


@pytest.fixture
def setup(live_server, transactional_db):
    return account(), ShipHero(live_server)


def _stock(shiphero, acme, sku=None):
    body = shiphero.gql(STOCK, {"w": control.warehouse_id(acme), "s": sku}).json()["data"]["warehouse_products"]
    return {e["node"]["sku"]: e["node"] for e in body["data"]["edges"]}


def test_ship_makes_a_shipment_with_a_tracked_label_per_package(setup):
    acme, shiphero = setup
    order_id = shiphero.create(acme, "OM-1", lines=[("SKU-1", 2), ("SKU-2", 1)]).json()["data"]["order_create"][
        "order"
    ]["id"]
    shipped = control.ship(acme, packages=2, seed=3)
    assert [s["partner_order_id"] for s in shipped] == ["OM-1"] and len(shipped[0]["tracking_numbers"]) == 2
    node = shiphero.gql(SHIPMENTS, {"o": order_id}).json()["data"]["shipments"]["data"]["edges"][0]["node"]
    assert node["order_id"] == order_id and node["warehouse_id"] == control.warehouse_id(acme)
    assert node["total_packages"] == 2 and [label["package_number"] for label in node["shipping_labels"]] == [1, 2]
    labels = node["shipping_labels"]
    assert [label["tracking_number"] for label in labels] == shipped[0]["tracking_numbers"]
    assert all(
        label["tracking_url"].endswith(label["tracking_number"]) and label["order_number"] == "OM-1" for label in labels
    )
    assert {label["carrier"] for label in labels} == {shipped[0]["carrier"]}
    lines = [e["node"] for e in node["line_items"]["edges"]]
    assert [(line["line_item"]["sku"], line["quantity"]) for line in lines] == [("SKU-1", 2), ("SKU-2", 1)]
    assert lines[0]["shipping_label_id"] != lines[1]["shipping_label_id"]
    order = shiphero.gql(ORDER, {"id": order_id}).json()["data"]["order"]["data"]
    assert order["fulfillment_status"] == "fulfilled"
    assert {e["node"]["fulfillment_status"] for e in order["line_items"]["edges"]} == {"fulfilled"}
    assert order["shipments"][0]["shipping_labels"][0]["tracking_number"] == shipped[0]["tracking_numbers"][0]
    sku_1 = _stock(shiphero, acme)["SKU-1"]
    assert (sku_1["on_hand"], sku_1["allocated"], sku_1["available"]) == (8, 0, 8)


def test_shipments_filter_by_date_and_ship_leaves_other_orders_pending(setup):
    acme, shiphero = setup
    for number in ("OM-A", "OM-B"):
        shiphero.create(acme, number)
    control.ship(acme, 1, seed=1)
    all_ = shiphero.gql(SHIPMENTS).json()["data"]["shipments"]["data"]["edges"]
    assert [e["node"]["shipping_labels"][0]["order_number"] for e in all_] == ["OM-A"]
    later = shiphero.gql(
        '{ shipments(date_from: "2999-01-01T00:00:00Z") { data(first: 5) { edges { node { id } } } } }'
    ).json()
    assert later["data"]["shipments"]["data"]["edges"] == []


def test_warehouse_products_show_stock_allocations_and_backorders(setup):
    acme, shiphero = setup
    shiphero.create(acme, "OM-1", lines=[("SKU-2", 7)])  # 5 on hand: 5 allocated, 2 backordered
    stock = _stock(shiphero, acme)
    assert stock["SKU-2"] | {"account_id": None} == {
        "sku": "SKU-2",
        "warehouse_id": control.warehouse_id(acme),
        "warehouse_identifier": "Primary",
        "on_hand": 5,
        "allocated": 5,
        "available": 0,
        "backorder": 2,
        "account_id": None,
    }
    assert stock["SKU-2"]["account_id"] == control.customer_account_id(acme)
    control.set_stock(acme, "SKU-2", 20)
    assert _stock(shiphero, acme, "SKU-2")["SKU-2"]["available"] == 15
    assert set(_stock(shiphero, acme)) == {"SKU-1", "SKU-2"}


def test_an_unknown_warehouse_is_not_found(setup):
    acme, shiphero = setup
    body = shiphero.gql(STOCK, {"w": "V2FyZWhvdXNlOjk5OTk="}).json()
    assert body["data"] == {"warehouse_products": None} and body["errors"][0]["code"] == 5


def test_the_warehouse_can_cancel_a_pending_order(setup):
    acme, shiphero = setup
    order_id = shiphero.create(acme, "OM-X").json()["data"]["order_create"]["order"]["id"]
    assert control.cancel(acme, "OM-X")["status"] == "canceled"
    assert shiphero.gql(ORDER, {"id": order_id}).json()["data"]["order"]["data"]["fulfillment_status"] == "canceled"
    with pytest.raises(ValueError, match="canceled"):
        control.cancel(acme, "OM-X")
    assert control.ship(acme) == []


class _Receiver(BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"code": "200", "Message": "Success"}')

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.received, _Receiver.status = [], 200
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_shipment_sends_a_signed_shipment_update_webhook(setup, receiver):
    acme, shiphero = setup
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    control.register_webhook(acme, webhooks.SHIPMENT_UPDATE, url, secret="s3cret")
    shiphero.create(acme, "OM-W", lines=[("SKU-1", 1), ("SKU-2", 1)])
    shipped = control.ship(acme, packages=2, seed=5)[0]
    assert control.deliver_webhooks() == {"delivered": 1, "failed": 0, "dead": 0}
    headers, raw = _Receiver.received[0]
    expected = base64.b64encode(hmac.new(b"s3cret", raw, hashlib.sha256).digest()).decode()
    assert headers["x-shiphero-hmac-sha256"] == expected
    body = json.loads(raw)
    assert body["webhook_type"] == "Shipment Update" and body["test"] == "0"
    fulfillment = body["fulfillment"]
    assert fulfillment["partner_order_id"] == "OM-W" and fulfillment["total_packages"] == 2
    assert fulfillment["shipment_uuid"] == shipped["shipment_id"]
    assert [p["tracking_number"] for p in fulfillment["packages"]] == shipped["tracking_numbers"]
    assert [line["sku"] for p in fulfillment["packages"] for line in p["line_items"]] == ["SKU-1", "SKU-2"]


def test_an_undelivered_webhook_is_retried_then_dead_and_a_down_sender_holds_it(setup, receiver):
    acme, shiphero = setup
    hook = control.register_webhook(acme, webhooks.SHIPMENT_UPDATE, f"http://127.0.0.1:{receiver.server_port}/")
    hook.sender_down = True
    hook.save()
    shiphero.create(acme, "OM-D")
    control.ship(acme, seed=1)
    assert control.deliver_webhooks() == {"delivered": 0, "failed": 0, "dead": 0}
    hook.sender_down = False
    hook.save()
    _Receiver.status = 500
    event = ShipHeroWebhookEvent.objects.get()
    for attempt in range(webhooks.MAX_ATTEMPTS):
        ShipHeroWebhookEvent.objects.filter(pk=event.pk).update(next_attempt_at=event.created_at)
        result = webhooks.deliver_due()
        assert result == (
            {"delivered": 0, "failed": 0, "dead": 1}
            if attempt == webhooks.MAX_ATTEMPTS - 1
            else {"delivered": 0, "failed": 1, "dead": 0}
        )
    assert ShipHeroWebhookEvent.objects.get().dead_at is not None


def test_seeding_in_bulk_restocks_without_losing_allocations(setup):
    acme, shiphero = setup
    shiphero.create(acme, "OM-1", lines=[("SKU-1", 4)])
    skus = {f"BULK-{n}": n for n in range(2500)} | {"SKU-1": 6}
    assert len(control.seed_products(acme, skus)) == 2501
    assert len(control.seed_products(acme, skus)) == 2501  # again: nothing duplicated
    stock = _stock(shiphero, acme, "SKU-1")["SKU-1"]
    assert (stock["on_hand"], stock["allocated"], stock["available"]) == (6, 4, 2)
    assert _stock(shiphero, acme, "BULK-2499")["BULK-2499"]["available"] == 2499


def test_status_counts_what_the_account_holds(setup, receiver):
    acme, shiphero = setup
    control.register_webhook(acme, webhooks.SHIPMENT_UPDATE, f"http://127.0.0.1:{receiver.server_port}/")
    for number in ("OM-1", "OM-2", "OM-3"):
        shiphero.create(acme, number)
    control.ship(acme, 1, packages=2, seed=1)
    control.cancel(acme, "OM-3")
    control.deliver_webhooks()
    assert control.status(acme) == {
        "orders": {"fulfilled": 1, "pending": 1, "canceled": 1},
        "shipments": 1,
        "shipping_labels": 2,
        "products": 2,
        "stock": {"on_hand": 13, "allocated": 2, "available": 11},
        "webhook_events": {"queued": 1, "delivered": 1, "dead": 0},
    }


def test_the_sender_loop_delivers_and_stops(setup, receiver):
    acme, shiphero = setup
    control.register_webhook(acme, webhooks.SHIPMENT_UPDATE, f"http://127.0.0.1:{receiver.server_port}/")
    shiphero.create(acme, "OM-1")
    control.ship(acme, seed=1)
    stop = threading.Event()
    sender = threading.Thread(target=webhooks.run, kwargs={"every": 0.05, "stop": stop})
    sender.start()
    for _ in range(100):
        if _Receiver.received:
            break
        stop.wait(0.05)
    stop.set()
    sender.join(5)
    assert not sender.is_alive() and len(_Receiver.received) == 1
