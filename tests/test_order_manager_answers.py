"""connectors.order_manager.wire_answers: Order Manager's answers other than orders read with pydantic,
each malformed field named with what came instead (the client over the wire: test_order_manager.py)."""

import math

import pytest

from connectors.order_manager.wire_answers import (
    InventoryAdjustItem,
    OmAdjustAnswer,
    OmBatchedOrder,
    OmFulfillmentAnswer,
    OmStockTotalRow,
    OmThrottleLimit,
    OmWarehouse,
    throttle_rate,
)
from connectors.wire import WireError, validate


def problems_of(kind, value, root=""):
    with pytest.raises(WireError) as caught:
        validate(kind, value, root=root)
    return caught.value.problems


def test_warehouses():
    [main] = validate(list[OmWarehouse], [{"warehouseId": 7, "name": "Main", "type": "THIRD_PARTY_LOGISTICS"}])
    assert (main.warehouse_id, main.name, main.type) == (7, "Main", "THIRD_PARTY_LOGISTICS")
    assert validate(OmWarehouse, {"warehouseId": 7, "name": "Main", "type": None}).type == ""
    assert problems_of(list[OmWarehouse], [{"name": 3}, None], root="warehouses") == [
        "warehouses[0].warehouseId: missing",
        "warehouses[0].name: expected text, got 3",
        "warehouses[1]: expected an object, got null",
    ]


def test_stock_total_rows():
    row = validate(OmStockTotalRow, {"product": {"masterSku": "AB", "productId": 1}, "onHandQuantity": 3})
    assert (row.product.master_sku, row.on_hand, row.locked) == ("AB", 3, None)
    assert problems_of(list[OmStockTotalRow], [{"onHandQuantity": 1.5}, {"product": "AB"}], root="totals") == [
        "totals[0].product: missing",
        "totals[0].onHandQuantity: expected an integer, got 1.5",
        "totals[1].product: expected an object, got text 'AB'",
    ]
    assert problems_of(OmStockTotalRow, {"product": {"masterSku": None}, "lockedQuantity": False}) == [
        "product.masterSku: expected text, got null",
        "lockedQuantity: expected an integer, got false",
    ]


def test_batched_orders():
    batched = validate(OmBatchedOrder, {"status": "FAILED", "order": None, "processingMessage": None})
    assert (batched.status, batched.order.order_id, batched.order.order_number, batched.processing_message) == (
        "FAILED",
        None,
        "",
        "",
    )
    assert problems_of(OmBatchedOrder, {"order": {"orderId": "1"}}) == [
        "status: missing",
        "order.orderId: expected an integer, got text '1'",
    ]
    assert problems_of(OmBatchedOrder, {"status": "SHIPPED", "order": "SO-1"}) == [
        "order: expected an object, got text 'SO-1'"
    ]


def test_fulfillment_answers():
    answer = validate(OmFulfillmentAnswer, {"errors": None, "results": None, "message": 5})
    assert (answer.errors, answer.results, answer.orders_remaining, answer.message) == ([], {}, False, "")
    assert problems_of(OmFulfillmentAnswer, {"errors": ["x"], "results": [1], "ordersRemaining": None}) == [
        "errors[0]: expected an object, got text 'x'",
        "results: expected an object, got a list",
        "ordersRemaining: expected true or false, got null",
    ]


def test_validation_details_are_read_leniently():
    answer = validate(
        OmAdjustAnswer,
        {"errors": [{"index": "2", "errorCode": 97, "severity": None, "identifier": 5, "userIdentifier": "SKU-1"}]},
    )
    [detail] = answer.errors
    assert (detail.index, detail.error_code, detail.is_failure, detail.target, detail.text) == (
        None,
        "97",
        True,
        "SKU-1",
        "97",
    )
    assert problems_of(OmAdjustAnswer, []) == ["expected an object, got an empty list"]


def limit(restore=None, hourly=None, burst=None, path="/v1.1/orders"):
    config = {
        k: v
        for k, v in {"quotaRestoreRate": restore, "quotaMaxRequestHourly": hourly, "quotaMaxRequest": burst}.items()
        if v is not None
    }
    return OmThrottleLimit.model_validate(
        {"requestMethod": "GET", "requestPath": path, "notes": "", "throttleConfig": config}
    )


def test_throttle_rate_is_the_slowest_sustainable_rate_of_any_entry():
    assert throttle_rate([limit(restore=10, hourly=36000, burst=10)]) == 10.0
    # The hourly cap is the binding one here: 7200 an hour is 2 a second.
    assert throttle_rate([limit(restore=10, hourly=7200)]) == 2.0
    assert throttle_rate([limit(restore=10), limit(restore=4, path="/v1.1/inventory/adjust")]) == 4.0
    assert throttle_rate([]) is None
    no_config = OmThrottleLimit.model_validate({"requestPath": "/v1/x", "throttleConfig": None})
    assert throttle_rate([no_config, limit(restore=0)]) is None


def test_throttle_limits_with_a_bad_config():
    assert problems_of(
        list[OmThrottleLimit], [{"throttleConfig": "fast"}, {"throttleConfig": {"quotaRestoreRate": 1.5}}]
    ) == [
        "[0].throttleConfig: expected an object, got text 'fast'",
        "[1].throttleConfig.quotaRestoreRate: expected an integer, got 1.5",
    ]


def test_inventory_adjust_items_are_checked_before_sending():
    validate(InventoryAdjustItem, {"warehouseId": 7, "onHandQuantity": 0, "productId": 3})
    assert problems_of(InventoryAdjustItem, {"warehouseId": "7", "masterSku": "A"}) == [
        "warehouseId: expected an integer, got text '7'",
        "onHandQuantity: missing",
    ]
    assert problems_of(InventoryAdjustItem, {"warehouseId": 7, "onHandQuantity": 1, "masterSku": ""}) == [
        "needs a masterSku (or productId)"
    ]
    assert problems_of(InventoryAdjustItem, "SKU") == ["expected an object, got text 'SKU'"]


def test_a_huge_number_is_not_quoted_whole():
    [message] = problems_of(OmWarehouse, {"warehouseId": math.inf, "name": "x"})
    assert message == "warehouseId: expected an integer, got inf"
