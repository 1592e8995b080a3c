"""Crash points not covered by the jobs' own tests (a crash after the WMS accepted an order and
after Order Manager accepted tracking are in test_order_download / test_shipment_confirmation):

- after the run committed but before the task finished (the worker dies before releasing the
  lease): the next claim waits for the lease to expire, then works, and nothing is re-sent;
- mid-page: an exception while a downloaded page is being stored; the re-run converges and
  every order's timeline starts with its download;
- during the inventory batch: an exception after some adjust calls; the re-run converges to the
  unlocked rule (an absolute set, so what the first run wrote does no harm).
- after the WMS accepted an order, before its answer is recorded (one call at a time, and with
  calls overlapping): the re-run looks the order up by its reference, links it, and sends only
  the orders never tried;
- during concurrent sends: the worker dies with creates in flight; the same.
Converged means: every order at the WMS exactly once, every tracking number in Order Manager
exactly once, inventory equal to WMS available + Order Manager locked.

Every case runs for each warehouse system (`tests.wms_sandboxes.SYSTEMS`): the seams are the
hub's own (engine, job, binding), and "sent" is counted at the adapter's `create_order`.
"""

import datetime
import threading

import pytest
import time_machine
from django.utils import timezone

from connectors.order_manager.client import OrderManagerClient
from hub import tasks
from hub.engine import dispatcher, leases, runner
from hub.engine.runner import run_job
from hub.jobs import binding, inventory_sync, order_download, shipment_confirmation
from hub.models import InventoryLine, Job, JobState, OrderEvent, OrderRecord, SyncRun
from tests import wms_sandboxes

pytestmark = pytest.mark.django_db(transaction=True)

SLUG = "crash"


class Killed(BaseException):
    """Stands for SIGKILL: nothing in the hub catches it (it is not an Exception)."""


@pytest.fixture(params=wms_sandboxes.SYSTEMS)
def sandboxed(request, live_server):
    return wms_sandboxes.tenant(live_server, SLUG, request.param, orders=4, skus=12)


@pytest.fixture
def conn(sandboxed):
    return sandboxed.connection


@pytest.fixture
def creates(sandboxed, monkeypatch) -> list[str]:
    """The references of every order create the hub sends to the WMS during the test."""
    return wms_sandboxes.count_wms_creates(monkeypatch, sandboxed.system)


def orders_at_wms(sandboxed) -> int:
    return sum(sandboxed.orders_per_reference().values())


def assert_converged(sandboxed, orders: int = 4) -> None:
    conn = sandboxed.connection
    assert sandboxed.duplicates() == {} and orders_at_wms(sandboxed) == orders
    assert set(sandboxed.orders_per_reference()) == set(
        OrderRecord.objects.filter(connection=conn).values_list("order_number", flat=True)
    )
    assert sandboxed.order_manager()["shipments"]["duplicates"] == 0
    for record in OrderRecord.objects.filter(connection=conn):
        assert list(record.events.values_list("kind", flat=True)[:1]) == [OrderEvent.Kind.DOWNLOADED], record


def test_killed_after_the_run_committed_but_before_the_lease_was_released(sandboxed, conn, creates, monkeypatch):
    JobState.objects.filter(connection=conn, job=Job.ORDER_DOWNLOAD).update(next_due_at=timezone.now())
    claims = [c for c in dispatcher.claim_due(timezone.now()) if c[0] == conn.pk and c[1] == Job.ORDER_DOWNLOAD]
    assert len(claims) == 1
    real_release = leases.release

    def die(*args, **kwargs):
        raise Killed("worker killed after the run row was finished")

    monkeypatch.setattr(runner.leases, "release", die)
    with pytest.raises(Killed):
        tasks.run_job_task(*claims[0])
    monkeypatch.setattr(runner.leases, "release", real_release)

    first = SyncRun.objects.get(connection=conn, job=Job.ORDER_DOWNLOAD)
    assert first.status == SyncRun.Status.SUCCEEDED and first.finished_at is not None
    state = JobState.objects.get(connection=conn, job=Job.ORDER_DOWNLOAD)
    assert state.lease_token and state.lease_expires_at > timezone.now()  # still held by the dead worker
    assert state.claims_without_finish == 0  # the run itself finished: not counted as a crash
    assert_converged(sandboxed)
    del creates[:]

    # Due again, but the dead worker's lease blocks every claim until it expires.
    JobState.objects.filter(pk=state.pk).update(next_due_at=timezone.now())
    assert not [c for c in dispatcher.claim_due(timezone.now()) if c[0] == conn.pk and c[1] == Job.ORDER_DOWNLOAD]
    with pytest.raises(runner.JobAlreadyRunning):
        run_job(conn, Job.ORDER_DOWNLOAD)

    with time_machine.travel(state.lease_expires_at + datetime.timedelta(seconds=1)):
        claims = [c for c in dispatcher.claim_due(timezone.now()) if c[0] == conn.pk and c[1] == Job.ORDER_DOWNLOAD]
        assert len(claims) == 1
        run_id = tasks.run_job_task(*claims[0])
    second = SyncRun.objects.get(pk=run_id)
    assert second.status == SyncRun.Status.SUCCEEDED, second.error
    assert creates == []  # nothing re-sent
    assert not SyncRun.objects.filter(status=SyncRun.Status.ABANDONED).exists()
    state.refresh_from_db()
    assert state.lease_token == "" and state.lease_expires_at is None
    assert_converged(sandboxed)


def test_exception_while_storing_a_page_converges_on_the_rerun(sandboxed, conn, creates, monkeypatch):
    monkeypatch.setattr(order_download, "PAGE_SIZE", 2)  # 4 orders: two pages
    manager = OrderEvent.objects
    real_bulk_create = manager.bulk_create
    calls = []

    def second_page_fails(objs, *args, **kwargs):
        calls.append(len(objs))
        if len(calls) == 2:
            raise RuntimeError("disk full while storing page 2")
        return real_bulk_create(objs, *args, **kwargs)

    monkeypatch.setattr(manager, "bulk_create", second_page_fails)
    crashed = run_job(conn, Job.ORDER_DOWNLOAD)
    monkeypatch.setattr(manager, "bulk_create", real_bulk_create)
    assert crashed.status == SyncRun.Status.FAILED
    assert crashed.error.startswith("Internal error (RuntimeError): disk full while storing page 2")
    assert orders_at_wms(sandboxed) == 0 and creates == []  # a run that fails while listing sends nothing
    # A page is stored whole or not at all: no order without its "downloaded" step.
    for record in OrderRecord.objects.all():
        assert record.events.filter(kind=OrderEvent.Kind.DOWNLOADED).count() == 1

    again = run_job(conn, Job.ORDER_DOWNLOAD)
    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    assert sorted(creates) == sorted(OrderRecord.objects.values_list("order_number", flat=True))
    assert OrderRecord.objects.filter(status=OrderRecord.Status.AT_WMS).count() == 4
    assert_converged(sandboxed)


def unlocked_rule_holds(sandboxed) -> list[str]:
    """SKUs whose Order Manager on hand is not WMS available + locked (SKUs with starting inventory)."""
    om, wms = sandboxed.order_manager()["stock"], wms_sandboxes.stock_available(sandboxed)
    return [sku for sku, available in wms.items() if sku in om and om[sku]["on_hand"] != available + om[sku]["locked"]]


def test_exception_during_the_inventory_batch_converges_on_the_rerun(sandboxed, conn, monkeypatch):
    monkeypatch.setattr(inventory_sync, "ADJUST_BATCH", 3)
    assert unlocked_rule_holds(sandboxed), "the seed must leave something to write"
    real_adjust = OrderManagerClient.adjust_inventory
    written: list[str] = []

    def crash_on_third_call(self, items, **kwargs):
        if len(written) >= 6:
            raise RuntimeError("worker lost its database connection mid-batch")
        results = real_adjust(self, items, **kwargs)
        written.extend(item["masterSku"] for item in items)
        return results

    monkeypatch.setattr(OrderManagerClient, "adjust_inventory", crash_on_third_call)
    crashed = run_job(conn, Job.INVENTORY_SYNC)
    assert crashed.status == SyncRun.Status.FAILED and "Internal error (RuntimeError)" in crashed.error
    assert len(written) == 6
    left = unlocked_rule_holds(sandboxed)
    assert left and not set(left) & set(written)  # half-done: the first two batches are in

    monkeypatch.setattr(OrderManagerClient, "adjust_inventory", real_adjust)
    again = run_job(conn, Job.INVENTORY_SYNC)
    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    assert unlocked_rule_holds(sandboxed) == []
    assert set(again.inventory_lines.filter(result=InventoryLine.Result.UPDATED).values_list("sku", flat=True)) == set(
        left
    )
    third = run_job(conn, Job.INVENTORY_SYNC)
    assert third.inventory_lines.filter(result=InventoryLine.Result.UPDATED).count() == 0  # nothing left to write


def test_crash_mid_tracking_batches_sends_no_tracking_twice(sandboxed, conn, monkeypatch):
    """Order Manager accepted the first tracking batch, then the worker died before the second."""
    run_job(conn, Job.ORDER_DOWNLOAD)
    sandboxed.ship(seed=5)
    monkeypatch.setattr(shipment_confirmation, "SHIPMENTS_PER_CALL", 2)
    real_send = OrderManagerClient.create_external_shipments
    sent = []

    def accepted_then_killed(self, shipments, **kwargs):
        results = real_send(self, shipments, **kwargs)
        sent.append(len(shipments))
        if len(sent) == 1:
            raise RuntimeError("killed after Order Manager accepted the batch")
        return results

    monkeypatch.setattr(OrderManagerClient, "create_external_shipments", accepted_then_killed)
    crashed = run_job(conn, Job.SHIPMENT_CONFIRMATION)
    assert crashed.status == SyncRun.Status.FAILED
    monkeypatch.setattr(OrderManagerClient, "create_external_shipments", real_send)
    again = run_job(conn, Job.SHIPMENT_CONFIRMATION)
    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    assert OrderRecord.objects.filter(status=OrderRecord.Status.CONFIRMED).count() == 4
    shipments = sandboxed.order_manager()["shipments"]
    assert shipments["count"] == 4 and shipments["duplicates"] == 0
    assert_converged(sandboxed)


def test_killed_during_concurrent_sends_converges_with_no_order_sent_twice(sandboxed, conn, creates, monkeypatch):
    """The worker dies while sends are in flight (4 at once, 300 ms per WMS create): the WMS keeps
    creating the orders whose answers nobody records. Every one of them was claimed before its
    call, so after the lease expires the next run looks each up, links it, and sends only the
    orders never tried."""
    conn.warehouse.send_concurrency = 4
    conn.warehouse.save(update_fields=["send_concurrency"])
    wms_sandboxes.configure_wms_faults(sandboxed, latency={"create": [300, 0]})
    real_finish = order_download.Sending.finish
    finished = []

    def die_on_second_answer(self, ticket, future):
        finished.append(ticket.record.order_number)
        if len(finished) == 2:
            raise Killed("worker killed with sends in flight")
        real_finish(self, ticket, future)

    monkeypatch.setattr(order_download.Sending, "finish", die_on_second_answer)
    with pytest.raises(Killed):
        run_job(conn, Job.ORDER_DOWNLOAD)
    # The calls in flight go on at the WMS without the dead run (here: threads ending on their own).
    for thread in [t for t in threading.enumerate() if t.name.startswith("hub-call")]:
        thread.join(5)
    monkeypatch.setattr(order_download.Sending, "finish", real_finish)
    claimed_unrecorded = OrderRecord.objects.filter(connection=conn, attempts=1, wms_order_id__isnull=True)
    assert claimed_unrecorded.count() == 2  # the killing answer's order and the one still in flight
    assert orders_at_wms(sandboxed) == 3 == len(creates)

    state = JobState.objects.get(connection=conn, job=Job.ORDER_DOWNLOAD)
    after_lease = (state.lease_expires_at or timezone.now()) + datetime.timedelta(seconds=1)
    tried = set(creates)
    del creates[:]
    with time_machine.travel(after_lease):
        again = run_job(conn, Job.ORDER_DOWNLOAD)
    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    assert len(creates) == 1 and not tried & set(creates)  # only the order never tried
    linked = OrderEvent.objects.filter(order__connection=conn, kind=OrderEvent.Kind.LINKED_AT_WMS)
    assert linked.count() == 2
    assert_converged(sandboxed)


@pytest.mark.parametrize("calls_at_once", [1, 4])
def test_killed_after_the_wms_accepted_an_order_before_its_answer_was_recorded(
    sandboxed, conn, creates, monkeypatch, calls_at_once
):
    """The WMS accepted the second order; the worker dies before the hub records the answer. After
    the lease expires the next run looks that order up by its reference (it was claimed before its
    call), links it, and sends only the orders never tried: none is sent twice."""
    conn.warehouse.send_concurrency = calls_at_once
    conn.warehouse.save(update_fields=["send_concurrency"])
    real_mark = binding.mark_at_wms
    marked = []

    def killed_on_second(record, wms_order_id):
        marked.append(record.order_number)
        if len(marked) == 2:
            raise Killed("worker killed after the WMS accepted the order")
        real_mark(record, wms_order_id)

    monkeypatch.setattr(binding, "mark_at_wms", killed_on_second)
    with pytest.raises(Killed):
        run_job(conn, Job.ORDER_DOWNLOAD)
    for thread in [t for t in threading.enumerate() if t.name.startswith("hub-call")]:
        thread.join(5)
    monkeypatch.setattr(binding, "mark_at_wms", real_mark)
    victim = OrderRecord.objects.get(connection=conn, order_number=marked[1])
    assert (victim.wms_order_id, victim.attempts) == (None, 1)
    assert marked[1] in sandboxed.orders_per_reference()  # the WMS has it; the hub does not know
    tried = set(creates)
    assert orders_at_wms(sandboxed) == len(creates) == len(tried)

    state = JobState.objects.get(connection=conn, job=Job.ORDER_DOWNLOAD)
    del creates[:]
    with time_machine.travel((state.lease_expires_at or timezone.now()) + datetime.timedelta(seconds=1)):
        again = run_job(conn, Job.ORDER_DOWNLOAD)
    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    assert not tried & set(creates) and len(creates) == 4 - len(tried)  # the victim was found, not re-sent
    victim.refresh_from_db()
    kinds = list(victim.events.values_list("kind", flat=True))
    assert OrderEvent.Kind.LINKED_AT_WMS in kinds and OrderEvent.Kind.SENT_TO_WMS not in kinds
    assert binding.UNRECORDED_ATTEMPT in victim.events.get(kind=OrderEvent.Kind.LINKED_AT_WMS).message
    assert OrderRecord.objects.filter(connection=conn, status=OrderRecord.Status.AT_WMS).count() == 4
    assert_converged(sandboxed)
