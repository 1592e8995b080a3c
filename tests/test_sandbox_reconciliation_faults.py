"""The sandbox's discrepancy faults (connectors/sandbox/discrepancies.py), over a real socket with the
hub's own clients (`tenants.clients`): each produces its discrepancy, the same seed the same one,
rate 0 nothing; and the "unknown at the WMS" control step.

Each test reads the sandbox's tables directly as the truth the answers may hide, and the
injected-faults log (`fault_setup.injected` / `injected_subjects`) as what the fault says it did.
"""

from __future__ import annotations

import json

import pytest

from connectors.sandbox import faults
from connectors.sandbox.control import fault_setup, order_events
from connectors.sandbox.models import InjectedFault, OmOrder, OmShipment, OmStock, OrderStatus
from hub.engine.runner import run_job
from hub.models import Job, OrderRecord, SyncRun
from tenants import clients
from tests.sandbox_helpers import accounts, sandbox, sandbox_tenant, status

pytestmark = pytest.mark.django_db(transaction=True)

Kind = InjectedFault.Kind
PICKUP = [OrderStatus.AWAITING_3PL_EXPORT]
ORDERS, SKUS = 12, 10


@pytest.fixture(autouse=True)
def _fresh_rngs():
    faults.reset()  # RNGs live in process memory, shared with the live_server thread
    yield
    faults.reset()


@pytest.fixture
def tenant(live_server):
    """tenant(slug) -> (connection, Order Manager client, warehouse id, om account, wms account)."""
    opened = []

    def make(slug):
        connection = sandbox_tenant(live_server, slug, orders=ORDERS, skus=SKUS, seed=4)
        om = clients.order_manager(connection)
        opened.append(om)
        warehouse_id = om.resolve_warehouse(connection.warehouse_name).warehouse_id
        return connection, om, warehouse_id, *accounts(slug)

    yield make
    for client in opened:
        client.http.close()


def _read(om, warehouse_id, limit=5) -> list[int]:
    return [o.order_id for o in om.iter_orders(statuses=PICKUP, warehouse_id=warehouse_id, limit=limit)]


def _numbers(ids) -> list[str]:
    return list(
        OmOrder.objects.filter(pk__in=[int(i) for i in ids]).order_by("pk").values_list("order_number", flat=True)
    )


# ------------------------------------------------------------------ drop an order from a window


def test_dropped_orders_miss_one_read_and_the_page_stays_full(tenant):
    _, om, warehouse_id, om_account, _ = tenant("rf-drop")
    everything = sorted(OmOrder.objects.filter(account=om_account).values_list("pk", flat=True))
    fault_setup.configure_faults(om_account=om_account, drop_order_rate=0.5, seed=11)

    first = _read(om, warehouse_id)  # pages of 5 over 12 orders: the client pages on past the gaps
    dropped = [int(s) for s in fault_setup.injected_subjects(om_account, Kind.ORDER_DROPPED)]
    assert dropped and len(dropped) < ORDERS
    assert sorted(first) == sorted(set(everything) - set(dropped))  # left out: exactly the logged ones

    second = _read(om, warehouse_id)
    assert set(dropped) <= set(second)  # each order is left out of at most one read (drop_order_reads=1)
    again = [int(s) for s in fault_setup.injected_subjects(om_account, Kind.ORDER_DROPPED)]
    assert sorted(second) == sorted(set(everything) - (set(again) - set(dropped)))
    assert len(again) == len(set(again))  # never the same order twice
    assert fault_setup.injected(om_account)[Kind.ORDER_DROPPED] == len(again)


def test_a_chosen_order_is_left_out_of_window_reads_only(tenant):
    _, om, warehouse_id, om_account, _ = tenant("rf-drop-id")
    chosen = OmOrder.objects.filter(account=om_account).order_by("pk").values_list("pk", flat=True)[3]
    fault_setup.configure_faults(om_account=om_account, drop_order_ids=[chosen], drop_order_reads=2)

    assert [state.order_id for state in om.get_orders([chosen])] == [chosen]  # asked by id: never left out
    assert chosen not in _read(om, warehouse_id)
    assert chosen not in _read(om, warehouse_id, limit=100)
    assert chosen in _read(om, warehouse_id)  # the third window read sees it
    assert fault_setup.injected_subjects(om_account, Kind.ORDER_DROPPED) == [str(chosen)] * 2
    assert len(_read(om, warehouse_id)) == ORDERS


def test_the_same_seed_drops_the_same_orders(tenant):
    def dropped(slug):
        _, om, warehouse_id, om_account, _ = tenant(slug)
        fault_setup.configure_faults(om_account=om_account, drop_order_rate=0.3, seed=7)
        _read(om, warehouse_id)
        return _numbers(fault_setup.injected_subjects(om_account, Kind.ORDER_DROPPED))

    first = dropped("rf-seed-a")
    assert first and first == dropped("rf-seed-b")


# ------------------------------------------------------------------ lose an export mark


def _send_all(om, warehouse_id, om_account) -> tuple[list[int], dict]:
    ids = sorted(OmOrder.objects.filter(account=om_account).values_list("pk", flat=True))
    return ids, om.send_to_fulfillment(ids, warehouse_id)


def test_lost_export_marks_answer_sent_and_keep_the_pickup_status(tenant):
    _, om, warehouse_id, om_account, _ = tenant("rf-mark")
    fault_setup.configure_faults(om_account=om_account, export_mark_loss_rate=0.5, seed=2)
    ids, answer = _send_all(om, warehouse_id, om_account)
    assert not answer["errors"] and sorted(int(k) for k in answer["results"]) == ids  # every order "sent"
    lost = sorted(int(s) for s in fault_setup.injected_subjects(om_account, Kind.EXPORT_MARK_LOST))
    assert 0 < len(lost) < ORDERS
    still = OmOrder.objects.filter(account=om_account, status=OrderStatus.AWAITING_3PL_EXPORT)
    assert sorted(still.values_list("pk", flat=True)) == lost
    assert sorted(_read(om, warehouse_id)) == lost  # what Reconciliation reads: at the WMS, still in pickup

    fault_setup.configure_faults(om_account=om_account, export_mark_loss_rate=0)
    om.send_to_fulfillment(lost, warehouse_id)  # the heal: marked again
    assert not still.exists()
    assert fault_setup.injected(om_account)[Kind.EXPORT_MARK_LOST] == len(lost)


def test_the_same_seed_loses_the_same_marks(tenant):
    def lost(slug):
        _, om, warehouse_id, om_account, _ = tenant(slug)
        fault_setup.configure_faults(om_account=om_account, export_mark_loss_rate=0.4, seed=9)
        _send_all(om, warehouse_id, om_account)
        return _numbers(fault_setup.injected_subjects(om_account, Kind.EXPORT_MARK_LOST))

    first = lost("rf-mark-a")
    assert first and first == lost("rf-mark-b")


# ------------------------------------------------------------------ drop a tracking write


def _shipments(om_account) -> list[dict]:
    return [
        {"orderId": pk, "trackingNumber": f"1Z{pk:016d}", "shipMethod": {"shippingCarrier": "UPS"}}
        for pk in OmOrder.objects.filter(account=om_account).order_by("pk").values_list("pk", flat=True)
    ]


def test_dropped_tracking_writes_answer_shipped_and_store_nothing(tenant):
    _, om, _, om_account, _ = tenant("rf-track")
    fault_setup.configure_faults(om_account=om_account, tracking_drop_rate=0.5, seed=5)
    results = om.create_external_shipments(_shipments(om_account))
    assert [r.status for r in results] == ["SHIPPED"] * ORDERS
    dropped = sorted(int(s) for s in fault_setup.injected_subjects(om_account, Kind.TRACKING_DROPPED))
    assert 0 < len(dropped) < ORDERS
    stored = set(OmShipment.objects.filter(order__account=om_account).values_list("order_id", flat=True))
    assert stored.isdisjoint(dropped) and len(stored) == ORDERS - len(dropped)
    unshipped = OmOrder.objects.filter(account=om_account).exclude(status=OrderStatus.SHIPPED)
    assert sorted(unshipped.values_list("pk", flat=True)) == dropped
    assert all(not state.tracking_numbers for state in om.get_orders(dropped))  # what Reconciliation reads


def test_the_same_seed_drops_the_same_tracking_writes(tenant):
    def dropped(slug):
        _, om, _, om_account, _ = tenant(slug)
        fault_setup.configure_faults(om_account=om_account, tracking_drop_rate=0.3, seed=13)
        om.create_external_shipments(_shipments(om_account))
        return _numbers(fault_setup.injected_subjects(om_account, Kind.TRACKING_DROPPED))

    first = dropped("rf-track-a")
    assert first and first == dropped("rf-track-b")


# ------------------------------------------------------------------ drift stock


def _stocked(om_account) -> dict[str, int]:
    return dict(
        OmStock.objects.filter(product__account=om_account)
        .order_by("product_id")
        .values_list("product__master_sku", "on_hand")
    )


def test_drifted_stock_writes_answer_the_quantity_asked_and_store_it_off(tenant):
    _, om, warehouse_id, om_account, _ = tenant("rf-stock")
    fault_setup.configure_faults(om_account=om_account, stock_drift_rate=0.5, stock_drift_units=-3, seed=8)
    asked = {sku: 40 + n for n, sku in enumerate(_stocked(om_account))}
    results = om.adjust_inventory(
        [{"warehouseId": warehouse_id, "masterSku": sku, "onHandQuantity": qty} for sku, qty in asked.items()]
    )
    assert all(r.ok for r in results)
    drifted = set(fault_setup.injected_subjects(om_account, Kind.STOCK_DRIFTED))
    assert 0 < len(drifted) < len(asked)
    read = {total.sku: total.on_hand for total in om.iter_stock_totals(warehouse_id)}  # what Reconciliation reads
    assert read == {sku: qty - 3 if sku in drifted else qty for sku, qty in asked.items()}


def test_the_same_seed_drifts_the_same_skus(tenant):
    def drifted(slug):
        _, om, warehouse_id, om_account, _ = tenant(slug)
        fault_setup.configure_faults(om_account=om_account, stock_drift_rate=0.4, seed=21)
        om.adjust_inventory(
            [{"warehouseId": warehouse_id, "masterSku": sku, "onHandQuantity": 7} for sku in _stocked(om_account)]
        )
        return fault_setup.injected_subjects(om_account, Kind.STOCK_DRIFTED)

    first = drifted("rf-stock-a")
    assert first and first == drifted("rf-stock-b")


# ------------------------------------------------------------------ rate 0, the log, the command


def test_at_rate_zero_nothing_changes(tenant):
    _, om, warehouse_id, om_account, _ = tenant("rf-zero")
    fault_setup.configure_faults(
        om_account=om_account,
        drop_order_rate=0,
        export_mark_loss_rate=0,
        tracking_drop_rate=0,
        stock_drift_rate=0,
        seed=3,
    )
    assert len(_read(om, warehouse_id)) == ORDERS
    _send_all(om, warehouse_id, om_account)
    assert not OmOrder.objects.filter(account=om_account, status=OrderStatus.AWAITING_3PL_EXPORT).exists()
    om.create_external_shipments(_shipments(om_account))
    assert OmShipment.objects.filter(order__account=om_account).count() == ORDERS
    om.adjust_inventory(
        [{"warehouseId": warehouse_id, "masterSku": sku, "onHandQuantity": 9} for sku in _stocked(om_account)]
    )
    assert set(_stocked(om_account).values()) == {9}
    assert set(fault_setup.injected(om_account).values()) == {0}


def test_configure_refuses_bad_discrepancy_settings(tenant):
    _, _, _, om_account, wms_account = tenant("rf-bad")
    with pytest.raises(ValueError, match="between 0 and 1"):
        fault_setup.configure_faults(om_account=om_account, tracking_drop_rate=1.5)
    with pytest.raises(ValueError, match="Order Manager account only"):
        fault_setup.configure_faults(wms_account=wms_account, stock_drift_rate=0.5)
    with pytest.raises(ValueError, match="integers"):
        fault_setup.configure_faults(om_account=om_account, drop_order_ids=["SO-1"])


def test_clear_forgets_the_log_and_gives_dropped_orders_their_reads_again(tenant):
    _, om, warehouse_id, om_account, _ = tenant("rf-clear")
    fault_setup.configure_faults(om_account=om_account, drop_order_rate=1.0)
    assert _read(om, warehouse_id) == []
    assert len(_read(om, warehouse_id)) == ORDERS
    assert fault_setup.clear_injected(om_account) == ORDERS
    assert _read(om, warehouse_id) == []  # the log is the count: forgotten, each order is owed a drop again
    fault_setup.configure_faults(om_account=om_account, clear=True)
    assert fault_setup.injected(om_account)[Kind.ORDER_DROPPED] == 0
    assert len(_read(om, warehouse_id)) == ORDERS


def test_the_sandbox_command_sets_them_and_status_shows_what_they_did(tenant):
    _, om, warehouse_id, om_account, _ = tenant("rf-cmd")
    first = OmOrder.objects.filter(account=om_account).order_by("pk").first()
    settings = json.loads(
        sandbox(
            "faults",
            "--tenant",
            "rf-cmd",
            "--drop-order-id",
            str(first.pk),
            "--export-mark-loss-rate",
            "0.25",
            "--stock-drift-units",
            "2",
        )
    )
    om_side = settings["order_manager"]
    assert om_side["drop_order_ids"] == [first.pk] and om_side["export_mark_loss_rate"] == 0.25
    assert om_side["stock_drift_units"] == 2 and settings["warehouse_manager"]["drop_order_ids"] == []
    _read(om, warehouse_id)
    injected = status("rf-cmd")["order_manager"]["faults_injected"]
    assert injected[Kind.ORDER_DROPPED] == {"count": 1, "subjects": [str(first.pk)]}
    assert "discrepancy faults injected: order_dropped 1" in sandbox("status", "--tenant", "rf-cmd")
    with pytest.raises(Exception, match="Order Manager's"):
        sandbox("faults", "--tenant", "rf-cmd", "--side", "wms", "--tracking-drop-rate", "1")


# ------------------------------------------------------------------ unknown at the WMS


def test_an_order_the_hub_never_sent_is_at_the_wms_with_its_references(tenant):
    connection, _, _, om_account, wms_account = tenant("rf-unknown")
    order = OmOrder.objects.filter(account=om_account).order_by("pk").last()
    made = order_events.unknown_at_wms(wms_account, order)
    wms = clients.warehouse_manager(connection)
    try:
        found = wms.find_order_by_reference(order.order_number)
    finally:
        wms.http.close()
    assert found is not None and found.order_id == made["orderId"]
    assert (found.reference_num, found.po_num) == (order.order_number, str(order.pk))
    assert not connection.orders.exists()  # the hub has no record of it
    with pytest.raises(ValueError, match="already has a live order"):
        order_events.unknown_at_wms(wms_account, order)
    other = OmOrder.objects.filter(account=om_account).order_by("pk").first()
    printed = json.loads(sandbox("unknown-at-wms", "--tenant", "rf-unknown", "--order-id", str(other.pk)))
    assert printed["referenceNum"] == other.order_number and printed["poNum"] == str(other.pk)


# ------------------------------------------------------------------ what the real jobs leave behind


def _run(connection, job):
    run = run_job(connection, job)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


def test_under_the_faults_the_jobs_leave_the_discrepancies_reconciliation_must_find(tenant):
    """Order Download misses a dropped order and believes a lost mark; Shipment Confirmation believes
    a dropped tracking write; Inventory Sync believes a drifted stock write: each run succeeds."""
    connection, om, warehouse_id, om_account, wms_account = tenant("rf-jobs")
    ids = list(OmOrder.objects.filter(account=om_account).order_by("pk").values_list("pk", flat=True))
    fault_setup.configure_faults(
        om_account=om_account,
        drop_order_ids=[ids[0]],
        export_mark_loss_rate=0.3,
        tracking_drop_rate=0.3,
        stock_drift_rate=0.3,
        seed=17,
    )
    _run(connection, Job.ORDER_DOWNLOAD)
    records = OrderRecord.objects.filter(connection=connection)
    assert not records.filter(om_order_id=ids[0]).exists()  # the missed order
    assert records.count() == ORDERS - 1 and not records.filter(om_exported_at__isnull=True).exists()
    lost = {int(s) for s in fault_setup.injected_subjects(om_account, Kind.EXPORT_MARK_LOST)}
    assert lost  # marked exported in the hub, still in the pickup status in Order Manager:
    in_pickup = set(
        OmOrder.objects.filter(account=om_account, status=OrderStatus.AWAITING_3PL_EXPORT).values_list("pk", flat=True)
    )
    assert in_pickup == lost | {ids[0]}
    assert set(_read(om, warehouse_id)) == in_pickup  # a later window read sees the missed one

    order_events.ship(wms_account, seed=1)
    _run(connection, Job.SHIPMENT_CONFIRMATION)
    dropped = {int(s) for s in fault_setup.injected_subjects(om_account, Kind.TRACKING_DROPPED)}
    assert dropped and records.filter(om_order_id__in=dropped, status=OrderRecord.Status.CONFIRMED).count() == len(
        dropped
    )
    assert not OmShipment.objects.filter(order_id__in=dropped).exists()  # confirmed in the hub, no tracking in OM

    _run(connection, Job.INVENTORY_SYNC)
    drifted = fault_setup.injected_subjects(om_account, Kind.STOCK_DRIFTED)
    assert drifted
    for entry in InjectedFault.objects.filter(kind=Kind.STOCK_DRIFTED, config__om_account=om_account):
        asked = int(entry.detail.split("asked on-hand ")[1].split(",")[0])
        assert _stocked(om_account)[entry.subject] == asked + 5  # Order Manager holds what the rule did not give
