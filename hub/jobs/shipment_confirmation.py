"""Shipment Confirmation: tracking of orders closed at the WMS -> Order Manager, once per number.

Contract of `sync(ctx)`, run by `hub.engine.runner.run_job(connection, Job.SHIPMENT_CONFIRMATION)`:
1. Read WMS orders modified since the watermark minus the overlap window. For each one the hub
   sent: closed (shipped) -> record every package's tracking number, the carrier (mapped to Order
   Manager's enum by the connection's carrier mapping, then the shipped defaults, OTHER_CARRIER
   when unknown), service and ship date, and move `at_wms` ->
   `shipped`; cancelled at the WMS -> `cancelled`.
2. Send each `shipped` order's unconfirmed tracking numbers as external shipments (`PUT
   /v1.1/shipment/external`), checking every returned `batchedOrder` status. A number is added
   to `confirmed_tracking_numbers` only when Order Manager accepted it, and is never sent again.
   Numbers are marked in flight before the call; after a crash, Order Manager's order is read
   first and numbers it already has are confirmed without sending them twice.
3. When all of an order's numbers are confirmed it becomes `confirmed`. A rejected number is
   retried on later runs with backoff, with the reason on the order's timeline: 5 minutes after
   the first rejection, doubling, at most 6 h apart, counted in the order's `tracking_attempts`
   (its `attempts` count sends to the WMS, which other jobs read). HUB_TRACKING_GIVE_UP_HOURS
   after the first rejection the order is flagged `tracking_given_up` (a GAVE_UP step, an alert
   by hub.ops.alerts) and not retried again until the operator's "Retry tracking".
4. Several packages: the spec's `externalShipment.shipments[]` takes one `createExternalShipment`
   (one `trackingNumber`) per package and several per order, so all of an order's numbers go in
   one call. A number Order Manager answers FAILED for on an order it already holds as shipped
   with one of ours (an additional package it will not take) is not retried: retrying cannot
   change the answer, so it is recorded on the timeline as refused and the order completes.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Min, Q

from connectors.errors import AuthenticationError, ConnectorError, NotFound, RequestRejected
from hub.engine.batching import chunked
from hub.engine.concurrent_calls import overlap, width_for
from hub.engine.context import RunContext
from hub.jobs.shipped_at_wms import apply_wms_state
from hub.jobs.tracking_retries import TRACKING_RETRY_FIELDS, reject
from hub.mapping.rules import carrier_overrides
from hub.models import Job, OrderEvent, OrderRecord

JOB = Job.SHIPMENT_CONFIRMATION
PAGE_SIZE = 100
SHIPMENTS_PER_CALL = 50
FIRST_RUN_LOOKBACK = datetime.timedelta(days=1)
ACCEPTED = {"SHIPPED", "PENDING"}
# What `add_confirmed` (and the completion it may bring) changes on a record.
CONFIRMED_FIELDS = [
    "confirmed_tracking_numbers",
    "tracking_in_flight",
    "status",
    "last_error",
    *TRACKING_RETRY_FIELDS,
    "updated_at",
]
Status = OrderRecord.Status
Kind = OrderEvent.Kind


def sync(ctx: RunContext) -> None:
    overrides = carrier_overrides(ctx.connection)  # once per run
    collect_shipped(ctx, since=read_since(ctx), overrides=overrides)
    check_late_links(ctx, overrides)
    ctx.new_watermark = ctx.window_to
    send_tracking(ctx)
    ctx.run.save(update_fields=["fetched", "updated", "skipped", "failed"])


def read_since(ctx) -> datetime.datetime:
    """The watermark minus overlap; on a first run, from the oldest order still at the WMS."""
    if ctx.window_from is not None:
        return ctx.window_from
    oldest = OrderRecord.objects.filter(connection=ctx.connection, status=Status.AT_WMS).aggregate(
        t=Min("first_attempt_at")
    )["t"]
    return (oldest or ctx.now) - FIRST_RUN_LOOKBACK


# --- 1. read the WMS -------------------------------------------------------------------------


def collect_shipped(ctx, since: datetime.datetime, overrides: dict[str, str] | None = None) -> None:
    for page in chunked(ctx.warehouse.iter_orders_modified_since(since), PAGE_SIZE):
        ctx.run.fetched += len(page)
        ours = {
            r.wms_order_id: r
            for r in OrderRecord.objects.filter(connection=ctx.connection, wms_order_id__in=[o.order_id for o in page])
        }
        for wms_order in page:
            record = ours.get(wms_order.order_id)
            if record is None:
                ctx.run.skipped += 1  # an order the hub did not send (entered at the WMS directly)
                continue
            apply_wms_state(ctx, record, wms_order, overrides)


def check_late_links(ctx, overrides: dict[str, str] | None = None) -> None:
    """Orders linked to an existing WMS order since the last run are read one by one.

    A link happens after a lost answer or a crash: the order was already at the WMS, and the WMS
    may have shipped it before the hub knew the link, so its last change can be older than the
    watermark and the modified-since read would never return it again (found by the soak).
    """
    if ctx.window_from is None:
        return  # a first run reads from the oldest order at the WMS anyway
    linked = OrderEvent.objects.filter(
        order__connection=ctx.connection, kind=Kind.LINKED_AT_WMS, at__gte=ctx.window_from
    ).values("order_id")
    records = list(OrderRecord.objects.filter(pk__in=linked, status=Status.AT_WMS, wms_order_id__isnull=False))
    if not records:
        return
    wms = ctx.warehouse  # opened in the run's thread, shared by the reads in flight

    def read(record: OrderRecord):
        return wms.get_order(record.wms_order_id)

    def finish(record: OrderRecord, future) -> None:
        try:
            wms_order = future.result()
        except NotFound:
            ctx.note_error(f"Order {record.order_number}: WMS order {record.wms_order_id} was not found.")
            return
        ctx.run.fetched += 1
        apply_wms_state(ctx, record, wms_order, overrides)

    # One read per order: up to the warehouse's "calls at once" in flight (hub.engine.concurrent_calls).
    overlap(records, start=lambda record: record, call=read, finish=finish, width=width_for(ctx.connection.warehouse))


# --- 2. send tracking ------------------------------------------------------------------------


def send_tracking(ctx) -> None:
    due = OrderRecord.objects.filter(
        Q(next_retry_at__isnull=True) | Q(next_retry_at__lte=ctx.now),
        connection=ctx.connection,
        status=Status.SHIPPED,
        tracking_given_up=False,
    ).order_by("pk")
    # Ids read in full first: writing while a read cursor is open fails on SQLite ("database is
    # locked") as soon as another connection has committed meanwhile.
    ids = list(due.values_list("pk", flat=True))
    batch: list[tuple[OrderRecord, str]] = []
    for page_index, chunk_ids in enumerate(chunked(ids, PAGE_SIZE)):
        if ctx.out_of_time():
            # The rest stay `shipped` in the hub's tables: the next run sends them.
            ctx.note_budget_stop(len(ids) - page_index * PAGE_SIZE, "shipped order(s) to confirm")
            break
        records = list(OrderRecord.objects.filter(pk__in=chunk_ids).order_by("pk"))
        in_om = orders_with_tracking_in_flight(ctx, records)
        for record in records:
            for tracking_number in unconfirmed(ctx, record, in_om):
                batch.append((record, tracking_number))
            if len(batch) >= SHIPMENTS_PER_CALL:
                send_batch(ctx, batch)
                batch = []
    if batch:
        send_batch(ctx, batch)


def orders_with_tracking_in_flight(ctx, records: list[OrderRecord]) -> dict | None:
    """Order Manager's current orders for the records a crash left with numbers in flight, in one
    call per page (`get_orders`), keyed by order id; None when Order Manager could not be asked."""
    ids = [r.om_order_id for r in records if r.tracking_in_flight]
    if not ids:
        return {}
    try:
        orders = ctx.order_manager.get_orders(ids)
    except AuthenticationError:
        raise
    except ConnectorError as exc:
        ctx.note_error(f"Could not check {len(ids)} order(s) with tracking in flight in Order Manager: {exc}")
        return None
    return {state.order_id: state for state in orders}


def unconfirmed(ctx, record: OrderRecord, in_om: dict | None) -> list[str]:
    """Numbers still to send. Numbers left in flight by a crash are checked in Order Manager first
    (`in_om`, from `orders_with_tracking_in_flight`): those it already has are confirmed, not re-sent."""
    if record.tracking_in_flight:
        if in_om is None:
            ctx.run.failed += 1  # unchecked: sending again could duplicate; the next run checks
            return []
        state = in_om.get(record.om_order_id)
        present = state.tracking_numbers if state is not None else frozenset()
        if present is None:
            ctx.run.failed += 1  # unknown, not absent: sending again could duplicate; the next run checks
            ctx.note_error(
                f"Order {record.order_number}: Order Manager's shipments of this order cannot be read; "
                "its tracking in flight is checked again on the next run."
            )
            return []
        already = [t for t in record.tracking_in_flight if t in present]
        with transaction.atomic():
            add_confirmed(record, already)
            record.save(update_fields=CONFIRMED_FIELDS)
            if already:
                ctx.event(
                    record, Kind.TRACKING_SENT, f"Order Manager already had {', '.join(already)}: not sent again."
                )
    numbers = [t for t in record.tracking_numbers if t not in record.confirmed_tracking_numbers]
    if not numbers and record.tracking_numbers:
        confirm_if_complete(record)
        record.save(update_fields=["status", *TRACKING_RETRY_FIELDS, "updated_at"])
    return numbers


def add_confirmed(record: OrderRecord, numbers: list[str]) -> None:
    """Record `numbers` as accepted by Order Manager (none in flight any more); complete the order
    when every number is. The caller saves `CONFIRMED_FIELDS`."""
    record.confirmed_tracking_numbers = list(dict.fromkeys(record.confirmed_tracking_numbers + numbers))
    record.tracking_in_flight = []
    confirm_if_complete(record)


def confirm_if_complete(record: OrderRecord) -> None:
    if record.tracking_numbers and all(t in record.confirmed_tracking_numbers for t in record.tracking_numbers):
        record.status = Status.CONFIRMED
        record.last_error = ""
        record.tracking_attempts, record.tracking_failing_since = 0, None


def shipment_body(record: OrderRecord, number: str) -> dict:
    body = {
        "orderId": record.om_order_id,
        "trackingNumber": number,
        "shipMethod": {"shippingCarrier": record.carrier or "OTHER_CARRIER"},
    }
    if record.ship_date:
        body["shipDate"] = record.ship_date.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return body


def send_batch(ctx, batch: list[tuple[OrderRecord, str]]) -> None:
    records = {r.pk: r for r, _ in batch}
    in_flight: dict[int, list[str]] = {}
    for record, number in batch:
        in_flight.setdefault(record.pk, []).append(number)
    # Log before the outside call.
    with transaction.atomic():
        for pk, numbers in in_flight.items():
            OrderRecord.objects.filter(pk=pk).update(tracking_in_flight=numbers)
    shipments = [shipment_body(record, number) for record, number in batch]
    try:
        results = ctx.order_manager.create_external_shipments(shipments, update_channel=True)
    except AuthenticationError:
        raise
    except ConnectorError as exc:
        if isinstance(exc, (RequestRejected, NotFound)):
            # The call as a whole was refused (a 4xx: nothing recorded): clear in-flight, retry with
            # backoff. Any other failure (timeout, 5xx, a garbled answer) may follow a success: the
            # numbers stay in flight and the next run checks Order Manager before sending them again.
            OrderRecord.objects.filter(pk__in=list(in_flight)).update(tracking_in_flight=[])
        for record in records.values():
            reject(ctx, record, str(exc), [])
        return
    outcome = pair_results(batch, results)
    for pk, record in records.items():
        accepted = [n for (r, n), res in outcome if r.pk == pk and res is not None and res.status in ACCEPTED]
        rejected = [(n, res) for (r, n), res in outcome if r.pk == pk and (res is None or res.status not in ACCEPTED)]
        with transaction.atomic():
            add_confirmed(record, accepted)
            record.save(update_fields=CONFIRMED_FIELDS)
            if accepted:
                ctx.event(
                    record,
                    Kind.TRACKING_SENT,
                    f"Tracking {', '.join(accepted)} accepted by Order Manager.",
                    sent=[shipment_body(record, n) for n in accepted],
                )
        # An additional package refused on an order Order Manager already has shipped with one of
        # our numbers: terminal, never a retry loop (point 4 of the contract).
        refused_extra = [
            (n, res)
            for n, res in rejected
            if res is not None and res.status == "FAILED" and record.confirmed_tracking_numbers
        ]
        if refused_extra:
            numbers = [n for n, _ in refused_extra]
            with transaction.atomic():
                add_confirmed(record, numbers)
                record.last_error = (
                    "Order Manager refused additional package tracking "
                    + "; ".join(f"{n}: {res.message}" for n, res in refused_extra)
                    + " (the order is already shipped there; not retried)."
                )[:4000]
                record.save(update_fields=CONFIRMED_FIELDS)
                ctx.event(
                    record, Kind.TRACKING_REJECTED, record.last_error, sent=[shipment_body(record, n) for n in numbers]
                )
            rejected = [(n, res) for n, res in rejected if n not in numbers]
        if accepted and not rejected:
            ctx.run.updated += 1
        if rejected:
            reasons = "; ".join(
                f"{n}: {(res.status + ' ' + res.message) if res else 'no answer for it'}" for n, res in rejected
            )
            reject(ctx, record, reasons, [shipment_body(record, n) for n, _ in rejected])


def pair_results(batch, results) -> list:
    """Match batchedOrder results to the shipments sent: by position when counts agree, else by order id."""
    if len(results) == len(batch):
        return list(zip(batch, results))
    by_order: dict = {}
    for result in results:
        by_order.setdefault(result.order_id, []).append(result)
    paired = []
    for record, number in batch:
        queue = by_order.get(record.om_order_id) or []
        paired.append(((record, number), queue.pop(0) if queue else None))
    return paired
