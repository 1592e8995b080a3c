"""hub.jobs.order_manager_reads: the window's pages (counted, oversize orders set aside) and the
warehouse id resolved once. Driven with a fake client; the real one is exercised over a socket by
tests/test_order_download.py and tests/test_order_cancel_download.py."""

import datetime
from types import SimpleNamespace

import pytest

from hub.jobs.order_manager_reads import resolve_warehouse_id, window_pages


class FakeOrderManager:
    def __init__(self, orders, too_large=()):
        self.orders, self.too_large, self.calls = orders, too_large, []

    def iter_orders(self, **kwargs):
        self.calls.append(kwargs)
        for item in self.too_large:
            kwargs["on_too_large"](item)
        yield from self.orders

    def resolve_warehouse(self, name):
        self.calls.append(name)
        return SimpleNamespace(warehouse_id=77, type="THIRD_PARTY_LOGISTICS")


def test_window_pages_reads_the_runs_window_in_pages_and_sets_aside_what_is_too_large():
    start, end = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC), datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC)
    om = FakeOrderManager(list(range(5)), too_large=["big"])
    ctx = SimpleNamespace(order_manager=om, window_from=start, window_to=end, run=SimpleNamespace(fetched=0))
    unread = []
    pages = list(window_pages(ctx, ["CANCELLED"], 1001, unread, page_size=2))
    assert pages == [[0, 1], [2, 3], [4]] and ctx.run.fetched == 5 and unread == ["big"]
    call = om.calls[0]
    assert (call["statuses"], call["warehouse_id"], call["limit"]) == (["CANCELLED"], 1001, 2)
    assert (call["modified_from"], call["modified_to"]) == (start, end)


@pytest.mark.django_db
def test_the_warehouse_id_is_resolved_once_and_stored(connection):
    connection.om_warehouse_id = None
    connection.save()
    om = FakeOrderManager([])
    ctx = SimpleNamespace(connection=connection, order_manager=om)
    assert resolve_warehouse_id(ctx) == 77 and resolve_warehouse_id(ctx) == 77
    assert om.calls == [connection.warehouse_name]
    connection.refresh_from_db()
    assert (connection.om_warehouse_id, connection.om_warehouse_type) == (77, "THIRD_PARTY_LOGISTICS")
