"""The per-connection mappings and rules (hub.mapping.rules) through the jobs, against the sandbox over a real socket."""

import datetime

import pytest

from connectors.sandbox import clock
from connectors.sandbox.control import account_setup, order_events
from connectors.sandbox.models import OmOrder, OmOrderItem, OmProduct, OmStock, WmsOrder, WmsStock
from hub.admin import actions as admin_actions
from hub.engine.runner import run_job
from hub.models import InventoryLine, Job, OrderEvent, OrderRecord, SyncRun
from tenants.mappings import FilterLevel, FilterMode, ShipMethodMapping
from tests import factories
from tests.sandbox_helpers import accounts, sandbox_tenant, status

pytestmark = pytest.mark.django_db(transaction=True)

Status, Kind, Result = OrderRecord.Status, OrderEvent.Kind, InventoryLine.Result
SLUG = "rules"


@pytest.fixture
def connection(live_server):
    """A sandbox tenant with SKU-1..SKU-5 at the WMS and in Order Manager, and no orders yet."""
    return sandbox_tenant(live_server, SLUG, skus=5)


def om_product(sku: str, *, on_hand: int | None = None, locked: int = 0) -> OmProduct:
    """An Order Manager product (with stock in the sandbox warehouse when `on_hand` is given)."""
    om, _ = accounts(SLUG)
    product, _ = OmProduct.objects.get_or_create(account=om, master_sku=sku)
    if on_hand is not None:
        OmStock.objects.update_or_create(
            product=product,
            warehouse=account_setup.om_warehouse(om),
            defaults={"on_hand": on_hand, "locked": locked},
        )
    return product


def om_order(number: str, lines, carrier: str = "UPS", service: str = "UPS Ground") -> OmOrder:
    """An order in the pickup status with `lines` [(sku, quantity)], modified now."""
    om, _ = accounts(SLUG)
    now = clock.now()
    order = OmOrder.objects.create(
        account=om,
        order_number=number,
        warehouse=account_setup.om_warehouse(om),
        order_date=now,
        created_date=now,
        modified_date=now,
        ship_name="Ada Lovelace",
        ship_address1="12 Analytical Ave",
        ship_city="Springfield",
        ship_state="IL",
        ship_zip="62701",
        ship_country="US",
        shipping_carrier=carrier,
        requested_shipping_service=service,
    )
    for sku, quantity in lines:
        OmOrderItem.objects.create(order=order, product=om_product(sku), listing_sku=sku, quantity=quantity)
    return order


def at_wms(number: str) -> WmsOrder:
    _, wms = accounts(SLUG)
    return WmsOrder.objects.prefetch_related("items").get(account=wms, reference_num=number)


def wms_items(number: str) -> list[tuple[str, int]]:
    return sorted((item.sku, int(item.qty)) for item in at_wms(number).items.all())


def record(number: str) -> OrderRecord:
    return OrderRecord.objects.get(order_number=number)


def kinds(number: str) -> list[str]:
    return list(record(number).events.values_list("kind", flat=True))


def test_an_unmapped_ship_method_is_held_collected_and_released_once_mapped(connection):
    factories.ConnectionRulesFactory(connection=connection, reject_unmapped_ship_methods=True)
    factories.ShipMethodMappingFactory(
        connection=connection, ship_method="ups /  ups ground", wms_carrier="UPS", wms_mode="Ground"
    )
    om_order("SO-MAPPED", [("SKU-1", 1)], "UPS", "UPS Ground")
    om_order("SO-UNMAPPED", [("SKU-2", 2)], "FEDEX", "FedEx Home Delivery")

    first = run_job(connection, Job.ORDER_DOWNLOAD)
    assert first.status == SyncRun.Status.PARTIAL, first.error  # the held order needs the operator
    assert at_wms("SO-MAPPED").routing_info == {"carrier": "UPS", "mode": "Ground"}
    held = record("SO-UNMAPPED")
    assert (held.status, held.error_permanent, held.attempts) == (Status.ERROR, True, 0)
    assert held.last_error.startswith("Unmapped ship method “FEDEX / FedEx Home Delivery”")
    assert kinds("SO-UNMAPPED") == [Kind.DOWNLOADED, Kind.HELD]
    collected = ShipMethodMapping.objects.get(connection=connection, key="FEDEX / FEDEX HOME DELIVERY")
    assert collected.ship_method == "FEDEX / FedEx Home Delivery" and not collected.is_mapped
    assert collected.first_seen_at is not None

    # Read again in the overlap window: still unmapped, still held, collected once, nothing sent.
    second = run_job(connection, Job.ORDER_DOWNLOAD)
    assert "SO-UNMAPPED" not in status(SLUG)["warehouse_manager"]["orders_per_reference_num"]
    assert ShipMethodMapping.objects.filter(connection=connection).count() == 2
    assert record("SO-UNMAPPED").status == Status.ERROR and second.failed == 0

    collected.wms_carrier, collected.wms_mode = "FedEx", "Home Delivery"
    collected.save()
    third = run_job(connection, Job.ORDER_DOWNLOAD)
    assert third.status == SyncRun.Status.SUCCEEDED, third.error
    released = record("SO-UNMAPPED")
    assert released.status == Status.AT_WMS and released.last_error == ""
    assert at_wms("SO-UNMAPPED").routing_info == {"carrier": "FedEx", "mode": "Home Delivery"}
    assert kinds("SO-UNMAPPED")[:4] == [Kind.DOWNLOADED, Kind.HELD, Kind.RELEASED, Kind.SENT_TO_WMS]
    assert "is mapped now" in released.events.get(kind=Kind.RELEASED).message


def test_a_held_order_no_longer_in_the_download_window_is_released_by_the_recheck(connection):
    factories.ConnectionRulesFactory(connection=connection, reject_unmapped_ship_methods=True)
    om_order("SO-LATER", [("SKU-2", 1)], "DHL", "Express")
    run_job(connection, Job.ORDER_DOWNLOAD)
    assert record("SO-LATER").status == Status.ERROR
    ShipMethodMapping.objects.filter(key="DHL / EXPRESS").update(wms_carrier="DHL", wms_mode="Express Worldwide")
    # Outside the overlap window now: only the held-order recheck can release it.
    om, _ = accounts(SLUG)
    OmOrder.objects.filter(account=om, order_number="SO-LATER").update(
        modified_date=clock.now() - datetime.timedelta(days=2)
    )
    run = run_job(connection, Job.ORDER_DOWNLOAD)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.fetched == 0
    assert record("SO-LATER").status == Status.AT_WMS
    assert at_wms("SO-LATER").routing_info == {"carrier": "DHL", "mode": "Express Worldwide"}
    assert kinds("SO-LATER")[:4] == [Kind.DOWNLOADED, Kind.HELD, Kind.RELEASED, Kind.SENT_TO_WMS]


def test_without_reject_an_unmapped_method_is_sent_as_is_and_collected(connection):
    om_order("SO-ASIS", [("SKU-1", 1)], "USPS", "USPS Priority Mail")
    run = run_job(connection, Job.ORDER_DOWNLOAD)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert at_wms("SO-ASIS").routing_info == {"carrier": "USPS", "mode": "USPS Priority Mail"}
    assert ShipMethodMapping.objects.filter(
        connection=connection, key="USPS / USPS PRIORITY MAIL", wms_carrier=""
    ).exists()


def test_an_alias_sends_the_wms_sku_and_writes_stock_back_to_the_order_manager_skus(connection):
    factories.SkuAliasFactory(connection=connection, om_sku="RED-SHIRT", wms_sku="SKU-1")
    factories.SkuAliasFactory(connection=connection, om_sku="RED-SHIRT-BUNDLE-LABEL", wms_sku="SKU-1")
    om_product("RED-SHIRT", on_hand=3)
    om_product("RED-SHIRT-BUNDLE-LABEL", on_hand=0, locked=2)
    om_order("SO-ALIAS", [("RED-SHIRT", 2), ("SKU-2", 1)])

    run = run_job(connection, Job.ORDER_DOWNLOAD)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert wms_items("SO-ALIAS") == [("SKU-1", 2), ("SKU-2", 1)]
    assert record("SO-ALIAS").lines == [
        {"sku": "RED-SHIRT", "quantity": 2, "wms_sku": "SKU-1"},
        {"sku": "SKU-2", "quantity": 1},
    ]

    _, wms = accounts(SLUG)
    WmsStock.objects.filter(account=wms, item__sku="SKU-1").update(available=10)
    inventory = run_job(connection, Job.INVENTORY_SYNC)
    assert inventory.status == SyncRun.Status.SUCCEEDED, inventory.error
    stock = status(SLUG)["order_manager"]["stock"]
    # Every Order Manager SKU aliased to SKU-1 gets its quantity (+ its own locked), and so does
    # SKU-1 itself, which Order Manager stocks too.
    assert stock["RED-SHIRT"]["on_hand"] == 10
    assert stock["RED-SHIRT-BUNDLE-LABEL"]["on_hand"] == 12
    assert stock["SKU-1"]["on_hand"] == 10 + stock["SKU-1"]["locked"]
    line = InventoryLine.objects.get(run=inventory, sku="RED-SHIRT")
    assert (line.wms_sku, line.wms_available, line.on_hand_written) == ("SKU-1", 10, 10)


def test_an_sku_unknown_at_the_wms_is_named_and_an_alias_added_later_is_used_by_the_resend(connection):
    om_order("SO-KIT", [("GIFT-KIT", 1)])
    run = run_job(connection, Job.ORDER_DOWNLOAD)
    kit = record("SO-KIT")
    assert kit.status == Status.ERROR and kit.error_permanent
    assert "Item SKU “GIFT-KIT” does not exist" in kit.last_error, kit.last_error
    assert run.failed == 1 and kinds("SO-KIT") == [Kind.DOWNLOADED, Kind.WMS_REJECTED]

    factories.SkuAliasFactory(connection=connection, om_sku="GIFT-KIT", wms_sku="SKU-3")
    assert admin_actions.apply(admin_actions.RESEND, kit, factories.UserFactory(is_superuser=True)) is None
    again = run_job(connection, Job.ORDER_DOWNLOAD)
    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    assert record("SO-KIT").status == Status.AT_WMS
    assert wms_items("SO-KIT") == [("SKU-3", 1)]
    assert record("SO-KIT").lines == [{"sku": "GIFT-KIT", "quantity": 1, "wms_sku": "SKU-3"}]


def test_item_filter_drops_a_line_skips_an_empty_order_and_at_order_level_skips_the_order(connection):
    rules = factories.ConnectionRulesFactory(connection=connection, item_filter_mode=FilterMode.BLOCK)
    factories.ItemFilterFactory(connection=connection, sku="GIFT*")
    om_order("SO-LINE", [("SKU-1", 1), ("GIFT-CARD", 1)])
    om_order("SO-ONLYGIFT", [("GIFT-WRAP", 1)])

    run = run_job(connection, Job.ORDER_DOWNLOAD)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert wms_items("SO-LINE") == [("SKU-1", 1)]
    assert {"sku": "GIFT-CARD", "quantity": 1, "filtered": True} in record("SO-LINE").lines
    assert kinds("SO-LINE")[:3] == [Kind.DOWNLOADED, Kind.FILTERED, Kind.SENT_TO_WMS]
    assert "GIFT-CARD" in record("SO-LINE").events.get(kind=Kind.FILTERED).message
    skipped = record("SO-ONLYGIFT")
    assert skipped.status == Status.SKIPPED and "every item is filtered (GIFT-WRAP)" in skipped.last_error
    assert kinds("SO-ONLYGIFT") == [Kind.DOWNLOADED, Kind.FILTERED]
    assert "SO-ONLYGIFT" not in status(SLUG)["warehouse_manager"]["orders_per_reference_num"]
    assert run.skipped >= 1

    rules.item_filter_level = FilterLevel.ORDER
    rules.save()
    om_order("SO-ORDERLEVEL", [("SKU-2", 1), ("GIFT-BOX", 1)])
    run_job(connection, Job.ORDER_DOWNLOAD)
    assert record("SO-ORDERLEVEL").status == Status.SKIPPED
    assert "order-level item filter matches GIFT-BOX" in record("SO-ORDERLEVEL").last_error
    assert "SO-ORDERLEVEL" not in status(SLUG)["warehouse_manager"]["orders_per_reference_num"]

    # An allow-list keeps everything else out.
    rules.item_filter_mode, rules.item_filter_level = FilterMode.ALLOW, FilterLevel.ITEM
    rules.save()
    factories.ItemFilterFactory(connection=connection, sku="SKU-1")
    om_order("SO-ALLOW", [("SKU-1", 1), ("SKU-4", 1)])
    run_job(connection, Job.ORDER_DOWNLOAD)
    assert wms_items("SO-ALLOW") == [("SKU-1", 1)]
    assert {"sku": "SKU-4", "quantity": 1, "filtered": True} in record("SO-ALLOW").lines


def test_inventory_buffer_minimum_pending_orders_and_filter(connection):
    factories.ConnectionRulesFactory(
        connection=connection, inventory_buffer=2, inventory_minimum=5, item_filter_mode=FilterMode.BLOCK
    )
    factories.ItemFilterFactory(connection=connection, sku="SKU-5")
    _, wms = accounts(SLUG)
    for sku, available in (("SKU-1", 20), ("SKU-2", 4), ("SKU-4", 12), ("SKU-5", 30)):
        WmsStock.objects.filter(account=wms, item__sku=sku).update(available=available)
        om_product(sku, on_hand=1, locked=0)
    before = status(SLUG)["order_manager"]["stock"]
    pending = dict(connection=connection)
    factories.OrderRecordFactory(**pending, status=Status.NEW, lines=[{"sku": "SKU-4", "quantity": 3}])
    factories.OrderRecordFactory(
        **pending,
        status=Status.ERROR,
        lines=[{"sku": "SKU-4", "quantity": 1}, {"sku": "SKU-1", "quantity": 9, "filtered": True}],
    )
    factories.OrderRecordFactory(
        **pending, status=Status.ERROR, cancel_requested=True, lines=[{"sku": "SKU-4", "quantity": 5}]
    )
    factories.OrderRecordFactory(
        **pending, status=Status.AT_WMS, wms_order_id=1, lines=[{"sku": "SKU-4", "quantity": 7}]
    )
    factories.OrderRecordFactory(**pending, status=Status.CANCELLED, lines=[{"sku": "SKU-4", "quantity": 11}])

    run = run_job(connection, Job.INVENTORY_SYNC)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    stock = status(SLUG)["order_manager"]["stock"]
    lines = {line.sku: line for line in InventoryLine.objects.filter(run=run)}
    assert stock["SKU-1"]["on_hand"] == 18  # 20 - 2 buffer
    assert stock["SKU-2"]["on_hand"] == 0  # 4 - 2 = 2, below the minimum 5
    assert stock["SKU-4"]["on_hand"] == 6  # 12 - 4 pending (new + held) - 2 buffer
    assert (lines["SKU-4"].pending_orders, lines["SKU-4"].buffer, lines["SKU-4"].on_hand_written) == (4, 2, 6)
    assert lines["SKU-4"].message == "12 available at the WMS − 4 in orders not yet at the WMS − 2 safety buffer = 6."
    assert "below the minimum level 5: 0 published" in lines["SKU-2"].message
    assert lines["SKU-5"].result == Result.FILTERED and lines["SKU-5"].on_hand_written is None
    assert stock["SKU-5"] == before["SKU-5"]  # the filter keeps it untouched


def test_the_connections_carrier_mapping_overrides_the_defaults_for_tracking(connection):
    factories.CarrierMappingFactory(connection=connection, wms_carrier="BOBF", om_carrier="ESTES_EXPRESS_LINES")
    factories.CarrierMappingFactory(connection=connection, wms_carrier="fedex", om_carrier="FEDEX_UK")
    om_order("SO-BOB", [("SKU-1", 1)])
    om_order("SO-FDX", [("SKU-2", 1)])
    om_order("SO-DEFAULT", [("SKU-4", 1)])
    assert run_job(connection, Job.ORDER_DOWNLOAD).status == SyncRun.Status.SUCCEEDED
    _, wms = accounts(SLUG)
    order_events.ship(wms, seed=3)
    for number, carrier, scac in (
        ("SO-BOB", "Bob's Freight", "BOBF"),
        ("SO-FDX", "FedEx", "FDEG"),
        ("SO-DEFAULT", "UPS", "UPGN"),
    ):
        order = at_wms(number)
        order.routing_info = {**order.routing_info, "carrier": carrier, "scacCode": scac}
        order.save(update_fields=["routing_info"])

    run = run_job(connection, Job.SHIPMENT_CONFIRMATION)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    carriers = {s["orderNumber"]: s["carrier"] for s in status(SLUG)["order_manager"]["shipments"]["recorded"]}
    assert carriers == {"SO-BOB": "ESTES_EXPRESS_LINES", "SO-FDX": "FEDEX_UK", "SO-DEFAULT": "UPS"}
