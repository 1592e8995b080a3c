"""Recording orders downloaded from Order Manager: new records, held orders read again, released ones.

- `store_page(ctx, page)`: one `OrderRecord` per new Order Manager order id (the unique key makes a
  repeat a skip, never a duplicate), shaped by the connection's rules, with its DOWNLOADED step and
  the steps the rules caused; a bad order with a readable id is kept as `error` (quarantined).
- `reread(record, received, ...)`: a held order read again (by the next download, or an operator's
  re-process): once Order Manager's copy is valid it is queued for sending like a new one.
- `new_record(connection, received, order_id, rules)`: the record of one downloaded order.

Orders come as the Order Manager client reads them (`connectors.order_manager.wire_orders.ReceivedOrder`):
the order as received, and either the validated order or the reason it cannot be used.
- `release_held(ctx)`: orders held for an unmapped ship method go back to `new` once it is mapped.
- `collect_unmapped(ctx)`: ship methods seen without a mapping become mapping rows for the operator.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils import timezone

from connectors.order_manager.wire_orders import ReceivedOrder
from connectors.redaction import excerpt, redact
from hub.engine.context import wms_system_of
from hub.mapping.order_mapping import ship_to_summary
from hub.mapping.rules import UNMAPPED_PREFIX, Rules
from hub.models import OrderEvent, OrderRecord
from tenants.mappings import ShipMethodMapping, normalise_method

Status = OrderRecord.Status
Kind = OrderEvent.Kind
# Writes one step of an order's timeline: (record, kind, message).
EventWriter = Callable[[OrderRecord, str, str], object]
# Held records are read back this many at a time.
CHUNK = 100


def store_page(ctx, page: list) -> None:
    connection = ctx.connection
    ids = [received.order_id for received in page if received.order_id is not None]
    known = set(
        OrderRecord.objects.filter(connection=connection, om_order_id__in=ids).values_list("om_order_id", flat=True)
    )
    # Held as invalid at download (in error without a send attempt): read again, they may be fixed.
    held = {
        r.om_order_id: r
        for r in OrderRecord.objects.filter(
            connection=connection, om_order_id__in=ids, status=Status.ERROR, attempts=0, cancel_requested=False
        )
    }
    for record in held.values():
        record.connection = connection  # reread reads it: no query per held order
    records = []
    for received in page:
        order_id = received.order_id
        if order_id is None:
            ctx.run.failed += 1
            ctx.note_error(
                f"An order without a valid orderId was skipped: {excerpt(repr(redact(received.raw, max_chars=300)), 300)}"
            )
            continue
        if order_id in known:
            if order_id in held and reread(
                held[order_id], received, rules=ctx.rules, event=ctx.event, unmapped=ctx.unmapped_methods
            ):
                ctx.run.updated += 1
            else:
                ctx.run.skipped += 1
            continue
        known.add(order_id)
        records.append(new_record(connection, received, order_id, ctx.rules))
    note_unmapped(ctx.unmapped_methods, records)
    if not records:
        return
    try:
        with transaction.atomic():
            OrderRecord.objects.bulk_create(records)
    except IntegrityError:
        # Someone recorded some of these meanwhile (the lease should prevent it): fall back row by row.
        records = [r for r in records if _create_one(r)]
    ctx.run.created += len(records)
    ctx.run.failed += sum(1 for r in records if r.status == Status.ERROR)
    ctx.run.skipped += sum(1 for r in records if r.status == Status.SKIPPED)
    events = []
    for r in records:
        message = {Status.NEW: "Downloaded.", Status.SKIPPED: f"Downloaded, not sent: {r.last_error}"}.get(
            r.status, f"Downloaded, but held: {r.last_error}"
        )
        events.append(OrderEvent(order=r, run=ctx.run, kind=Kind.DOWNLOADED, message=message))
        events += [OrderEvent(order=r, run=ctx.run, kind=kind, message=text) for kind, text in r.rule_events]
    OrderEvent.objects.bulk_create(events)


def reread(
    record: OrderRecord, received: ReceivedOrder, *, rules: Rules, event: EventWriter, unmapped: dict[str, str]
) -> bool:
    """A held order read again: once Order Manager's copy is valid, it is queued like a new one.

    `event(record, kind, message)` writes a timeline step (a run's, or an operator's); ship methods
    found unmapped are added to `unmapped`. Returns whether the order was queued."""
    fresh = new_record(record.connection, received, record.om_order_id, rules)
    note_unmapped(unmapped, [fresh])
    if fresh.status != Status.NEW:
        return False
    fields = [
        "order_number",
        "sales_channel",
        "ship_to",
        "ship_method",
        "lines",
        "source",
        "wms_payload",
        "om_modified_at",
    ]
    if record.last_error.startswith(UNMAPPED_PREFIX):
        kind, message = (
            Kind.RELEASED,
            f"Read again: ship method “{fresh.ship_method}” is mapped now; queued for sending.",
        )
    else:
        kind, message = Kind.DOWNLOADED, "Read again after a change in Order Manager: valid now, queued for sending."
    for name in fields:
        setattr(record, name, getattr(fresh, name))
    record.status, record.last_error, record.error_permanent, record.next_retry_at = Status.NEW, "", False, None
    with transaction.atomic():
        record.save(update_fields=[*fields, "status", "last_error", "error_permanent", "next_retry_at", "updated_at"])
        event(record, kind, message)
        for rule_kind, text in fresh.rule_events:
            event(record, rule_kind, text)
    return True


def _create_one(record: OrderRecord) -> bool:
    try:
        with transaction.atomic():
            record.save(force_insert=True)
        return True
    except IntegrityError:
        return False


def new_record(connection, received: ReceivedOrder, order_id: int, rules: Rules | None = None) -> OrderRecord:
    """The record of a downloaded order, shaped by `rules` (identity rules when None). An order
    the client could not read is held as `error` with the client's reason (its `problem`).

    Timeline steps the rules caused are left in `record.rule_events` ([(kind, message)]) for the
    caller to write with the DOWNLOADED step; `record.unmapped_method` names an unmapped ship method.
    """
    rules = rules if rules is not None else Rules()
    record = OrderRecord(
        connection=connection, om_order_id=order_id, source=without_nul(redact(received.raw, max_chars=8000))
    )
    record.rule_events, record.unmapped_method = [], ""
    order = received.order
    if order is None:
        number = received.state.order_number or str(order_id)
        record.order_number = number.replace("\x00", "")[:200] or str(order_id)
        record.status = Status.ERROR
        record.error_permanent = True
        record.last_error = invalid_reason(received)
        return record
    decision = rules.apply(order, wms_system_of(connection))
    record.order_number = order.order_number
    record.sales_channel = order.sales_channel_name
    record.ship_to = ship_to_summary(order)
    record.ship_method = decision.ship_method
    record.lines = decision.lines
    record.om_modified_at = order.modified
    record.wms_payload = decision.payload
    if decision.unmapped:
        record.unmapped_method = decision.ship_method
    if decision.filtered and decision.outcome == "send":
        record.rule_events.append((Kind.FILTERED, f"Item filter: not sent to the WMS: {', '.join(decision.filtered)}."))
    if decision.outcome == "skip":
        record.status, record.last_error = Status.SKIPPED, decision.reason
        record.rule_events.append((Kind.FILTERED, decision.reason))
    elif decision.outcome == "hold":
        record.status, record.error_permanent, record.last_error = Status.ERROR, True, decision.reason
        record.rule_events.append((Kind.HELD, decision.reason))
    return record


def invalid_reason(received: ReceivedOrder) -> str:
    """The reason kept on the record of an order the client could not read."""
    return f"Invalid order from Order Manager: {received.problem} Fix it there; it is read again on the next change."


def note_unmapped(seen: dict[str, str], records) -> None:
    """Add to `seen` the ship methods without a mapping of `records` (written once, by `collect_unmapped`)."""
    for record in records:
        if record.unmapped_method:
            seen.setdefault(normalise_method(record.unmapped_method), record.unmapped_method)


def collect_unmapped(ctx) -> None:
    """Unmapped ship methods become mapping rows with a blank target, for the operator to map once."""
    seen = ctx.unmapped_methods
    if not seen:
        return
    now = timezone.now()
    ShipMethodMapping.objects.bulk_create(
        [
            ShipMethodMapping(connection=ctx.connection, ship_method=display, key=key, first_seen_at=now)
            for key, display in seen.items()
        ],
        ignore_conflicts=True,
    )
    ShipMethodMapping.objects.filter(connection=ctx.connection, key__in=list(seen)).update(last_seen_at=now)


def release_held(ctx) -> None:
    """Orders held for an unmapped ship method go back to `new` once it is mapped (or rejecting is off)."""
    rules = ctx.rules
    held = OrderRecord.objects.filter(
        connection=ctx.connection,
        status=Status.ERROR,
        error_permanent=True,
        attempts=0,
        cancel_requested=False,
        last_error__startswith=UNMAPPED_PREFIX,
    ).order_by("pk")
    for record in held.iterator(chunk_size=CHUNK):
        route = rules.route_for(normalise_method(record.ship_method))
        if route is None and rules.reject_unmapped:
            continue
        payload = dict(record.wms_payload)
        if route is not None:
            payload = ctx.wms_system.with_route(payload, route)
            message = (
                f"Ship method “{record.ship_method}” is mapped now (WMS {route.carrier} {route.mode}".rstrip()
                + "): queued for sending."
            )
        else:
            message = "Unmapped ship methods are no longer rejected: queued for sending with Order Manager's carrier and service."
        with transaction.atomic():
            record.wms_payload = payload
            record.status, record.last_error, record.error_permanent, record.next_retry_at = Status.NEW, "", False, None
            record.save(
                update_fields=["wms_payload", "status", "last_error", "error_permanent", "next_retry_at", "updated_at"]
            )
            ctx.event(record, Kind.RELEASED, message)
        ctx.run.updated += 1


def without_nul(value):
    """`value` with NUL characters replaced: PostgreSQL's jsonb refuses them (SQLite stores them),
    and one such order must not fail the insert of its whole page on every run."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value
