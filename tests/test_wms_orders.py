"""connectors.wms.orders: the neutral order and stock shapes every WMS client returns."""

from connectors.warehouse_manager import stock as wm_stock
from connectors.warehouse_manager import wire as wm_wire
from connectors.wms import orders


def make(status):
    return orders.WmsOrder(
        order_id=1, reference_num="R", status=status, is_closed=False, etag=None, last_modified=None, ship_date=None
    )


def test_three_statuses_and_is_canceled():
    assert orders.KNOWN_STATUSES == (orders.STATUS_OPEN, orders.STATUS_CLOSED, orders.STATUS_CANCELED) == (0, 1, 2)
    assert make(orders.STATUS_CANCELED).is_canceled and not make(orders.STATUS_CLOSED).is_canceled
    order = make(orders.STATUS_OPEN)
    assert (order.tracking_numbers, order.carrier, order.service, order.scac, order.po_num) == ([], "", "", "", "")


def test_stock_report_defaults():
    report = orders.StockReport(available={"A": 1})
    assert report.invalid == {} and report.other_customer_rows == 0


def test_the_3pl_modules_hand_out_the_shared_shapes():
    assert wm_wire.WmsOrder is orders.WmsOrder and wm_stock.StockReport is orders.StockReport
    assert wm_wire.STATUS_CLOSED == orders.STATUS_CLOSED
