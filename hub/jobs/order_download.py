"""Order Download: new orders in the pickup status (Order Manager) -> OrderRecords -> the WMS.

Contract of `sync(ctx)`, run by `hub.engine.runner.run_job(connection, Job.ORDER_DOWNLOAD)`:
1. Download orders in the connection's pickup status for its warehouse id, modified since the
   watermark minus the overlap window; insert an `OrderRecord` per new Order Manager order id (the
   unique key makes a repeat a skip, never a duplicate). A bad order with a readable id is kept as
   `error` with the reason (quarantined) and read again when it comes back changed, to be sent
   once valid; the rest of the page goes on. A page over the answer size cap is read in smaller
   pages; an order over the cap alone is named by its position in the run's errors and the
   watermark is kept, so it is read once trimmed.
2. Send every `new` order, and every `error` order whose transient failure is due for a retry,
   to the WMS. Right before sending, Order Manager is asked again (one call per 100 orders), so a
   cancel that arrived after the download wins (an order whose earlier attempt may have reached
   the WMS is left to Order Cancel Download, which looks it up there). The attempt is recorded
   before the outside call; any later attempt first looks the order up at the WMS by
   `referenceNum` and links it instead of sending it again, and a "Duplicate" answer links the
   existing WMS order.
3. Orders now at the WMS are marked exported in Order Manager (`sendtofulfillment`), the
   documented way out of AWAITING_3PL_EXPORT, so they are not picked up again.
A permanent rejection (WMS 400, bad data) holds the order as `error` for the operator; transient
failures retry with backoff for 15 days, then the order is flagged as given up.

The connection's mappings and rules (`hub.mapping.rules`, loaded once per run) shape each order at
download: SKU aliases, the item filter (a filtered line is not sent; an order with nothing left,
or under an order-level filter, becomes `skipped`), the ship-method mapping (routingInfo). Ship
methods without a mapping are collected for the operator; with "reject unmapped" on, such an
order is held as `error` ("unmapped ship method X") and released by the first run that finds the
method mapped. SKU aliases are applied again right before sending, so an alias added after a WMS
rejection ("Item SKU X does not exist") is used by the resend.
"""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from connectors.errors import AuthenticationError, ConnectorError, MalformedResponse, PermanentError
from connectors.redaction import excerpt, redact
from connectors.warehouse_manager import DuplicateOrder
from hub.engine.batching import chunked
from hub.engine.context import RunContext
from hub.mapping.order_mapping import InvalidOrder, order_id_of, parse_order
from hub.mapping.rules import UNMAPPED_PREFIX, Rules
from hub.models import Job, OrderEvent, OrderRecord
from tenants.mappings import ShipMethodMapping, normalise_method

JOB = Job.ORDER_DOWNLOAD
PAGE_SIZE = 100
# sendtofulfillment takes at most 500 orders a call, but its ids travel in the query string: 500
# ten-digit ids make a 10 KB request line, past common server limits (gunicorn 4 KB, Tomcat 8 KB:
# HTTP 414). 200 keeps the line under 4 KB.
EXPORT_BATCH = 200
GIVE_UP_AFTER = datetime.timedelta(days=15)
MAX_BACKOFF = datetime.timedelta(hours=1)
# After this many transient failures in a row the WMS is presumed down: stop hammering it.
MAX_CONSECUTIVE_TRANSIENT = 3
EXPORTABLE_STATUSES = {"AWAITING_3PL_EXPORT", "AWAITING_DROPSHIP"}
Status = OrderRecord.Status
Kind = OrderEvent.Kind


def sync(ctx: RunContext) -> None:
    warehouse_id = resolve_warehouse_id(ctx)
    if download(ctx, warehouse_id):
        ctx.new_watermark = ctx.window_to
    release_held(ctx)
    send_due_orders(ctx)
    if ctx.connection.pickup_status in EXPORTABLE_STATUSES and warehouse_id is not None:
        mark_exported(ctx, warehouse_id)


def resolve_warehouse_id(ctx) -> int | None:
    """The Order Manager warehouse id of the connection (resolved once from its name); None = all locations."""
    connection = ctx.connection
    if not connection.warehouse_name.strip():
        return None
    if connection.om_warehouse_id is None:
        found = ctx.order_manager.resolve_warehouse(connection.warehouse_name)
        connection.om_warehouse_id = found["warehouseId"]
        connection.om_warehouse_type = found.get("type") or ""
        type(connection).objects.filter(pk=connection.pk).update(
            om_warehouse_id=connection.om_warehouse_id, om_warehouse_type=connection.om_warehouse_type
        )
    return connection.om_warehouse_id


# --- 1. download -----------------------------------------------------------------------------


def download(ctx, warehouse_id) -> bool:
    """Store the window's orders; False when an order too large to read was left out of it."""
    unread = []
    orders = ctx.order_manager.iter_orders(
        statuses=[ctx.connection.pickup_status],
        warehouse_id=warehouse_id,
        modified_from=ctx.window_from,
        modified_to=ctx.window_to,
        limit=PAGE_SIZE,
        on_too_large=unread.append,
    )
    for page in chunked(orders, PAGE_SIZE):
        ctx.run.fetched += len(page)
        # A page's records and their "downloaded" events are stored together or not at all, so a
        # crash mid-page never leaves an order without the first step of its timeline.
        with transaction.atomic():
            store_page(ctx, page)
    note_unread(ctx, unread)
    ctx.run.save(update_fields=["fetched", "created", "skipped", "failed"])
    collect_unmapped(ctx)
    return not unread


def note_unread(ctx, unread) -> None:
    """Orders too large to read, even alone: the rest of the window went on without them.

    Their ids are unknown (Order Manager cannot list ids without the orders), so no record can
    hold them; the run says where they are and the caller keeps the watermark, so every run
    reads the window again (orders already stored are skips) until they fit.
    """
    for item in unread:
        ctx.run.failed += 1
        ctx.note_error(
            f"{item.message} Split or trim that order in Order Manager; until then each run reads "
            "this window again (watermark kept) and the other orders go on."
        )


def store_page(ctx, page: list) -> None:
    connection = ctx.connection
    ids = [oid for oid in map(order_id_of, page) if oid is not None]
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
    records = []
    for raw in page:
        order_id = order_id_of(raw)
        if order_id is None:
            ctx.run.failed += 1
            ctx.note_error(
                f"An order without a valid orderId was skipped: {excerpt(repr(redact(raw, max_chars=300)), 300)}"
            )
            continue
        if order_id in known:
            if order_id in held and reread(ctx, held[order_id], raw):
                ctx.run.updated += 1
            else:
                ctx.run.skipped += 1
            continue
        known.add(order_id)
        records.append(new_record(connection, raw, order_id, ctx.rules))
    note_unmapped(ctx, records)
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
        events += [
            OrderEvent(order=r, run=ctx.run, kind=kind, message=text) for kind, text in getattr(r, "rule_events", ())
        ]
    OrderEvent.objects.bulk_create(events)


def reread(ctx, record: OrderRecord, raw: dict) -> bool:
    """A held order read again: once Order Manager's copy is valid, it is queued like a new one."""
    fresh = new_record(ctx.connection, raw, record.om_order_id, ctx.rules)
    note_unmapped(ctx, [fresh])
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
        ctx.event(record, kind, message)
        for rule_kind, text in getattr(fresh, "rule_events", ()):
            ctx.event(record, rule_kind, text)
    return True


def _create_one(record: OrderRecord) -> bool:
    try:
        with transaction.atomic():
            record.save(force_insert=True)
        return True
    except IntegrityError:
        return False


def new_record(connection, raw: dict, order_id: int, rules: Rules | None = None) -> OrderRecord:
    """The record of a downloaded order, shaped by `rules` (identity rules when None).

    Timeline steps the rules caused are left in `record.rule_events` ([(kind, message)]) for the
    caller to write with the DOWNLOADED step; `record.unmapped_method` names an unmapped ship method.
    """
    rules = rules if rules is not None else Rules()
    record = OrderRecord(connection=connection, om_order_id=order_id, source=without_nul(redact(raw, max_chars=8000)))
    record.rule_events, record.unmapped_method = [], ""
    try:
        order = parse_order(raw)
    except InvalidOrder as exc:
        number = raw.get("orderNumber")
        record.order_number = (number if isinstance(number, str) else str(order_id)).replace("\x00", "")[:200] or str(
            order_id
        )
        record.status = Status.ERROR
        record.error_permanent = True
        record.last_error = (
            f"Invalid order from Order Manager: {exc} Fix it there; it is read again on the next change."
        )
        return record
    decision = rules.apply(order)
    record.order_number = order.order_number
    record.sales_channel = order.sales_channel
    record.ship_to = order.ship_to_summary
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


def note_unmapped(ctx, records) -> None:
    """Remember the ship methods without a mapping seen in this run (written once, by `collect_unmapped`)."""
    seen = ctx.unmapped_methods
    for record in records:
        if getattr(record, "unmapped_method", ""):
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
    for record in held.iterator(chunk_size=PAGE_SIZE):
        route = rules.route_for(normalise_method(record.ship_method))
        if route is None and rules.reject_unmapped:
            continue
        payload = dict(record.wms_payload)
        if route is not None:
            payload["routingInfo"] = route.routing_info()
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


# --- 2. send ---------------------------------------------------------------------------------


def due_for_sending(connection, now) -> QuerySet:
    retry_due = Q(status=Status.ERROR, error_permanent=False, given_up=False, next_retry_at__lte=now)
    return OrderRecord.objects.filter(Q(status=Status.NEW) | retry_due, connection=connection, cancel_requested=False)


def send_due_orders(ctx) -> None:
    ids = list(due_for_sending(ctx.connection, ctx.now).order_by("pk").values_list("pk", flat=True))
    transient_in_a_row = 0
    for chunk_ids in chunked(ids, PAGE_SIZE):
        if ctx.out_of_time():
            break
        records = list(OrderRecord.objects.filter(pk__in=chunk_ids).order_by("pk"))
        records = drop_cancelled(ctx, records)
        for record in records:
            if ctx.out_of_time():
                break
            if transient_in_a_row >= MAX_CONSECUTIVE_TRANSIENT:
                ctx.note_error(
                    f"Stopped sending after {transient_in_a_row} temporary failures in a row; "
                    "the remaining orders are sent on the next run."
                )
                ctx.run.save(update_fields=["created", "updated", "skipped", "failed"])
                return
            outcome = send_one(ctx, record)
            transient_in_a_row = transient_in_a_row + 1 if outcome == "transient" else 0
    if ctx.out_of_time():
        left = due_for_sending(ctx.connection, ctx.now).count()
        if left:
            ctx.note_budget_stop(left, "order(s) to send")
    ctx.run.save(update_fields=["created", "updated", "skipped", "failed"])


def drop_cancelled(ctx, records: list[OrderRecord]) -> list[OrderRecord]:
    """Ask Order Manager right before sending: an order cancelled since its download is never sent."""
    fresh = {
        o.get("orderId"): o
        for o in ctx.order_manager.get_orders([r.om_order_id for r in records])
        if isinstance(o, dict)
    }
    keep = []
    for record in records:
        status = (fresh.get(record.om_order_id) or {}).get("orderStatus")
        if status == "CANCELLED" and record.wms_order_id is None and record.attempts == 0:
            with transaction.atomic():
                record.status = Status.CANCELLED
                record.cancel_requested = record.cancel_handled = True
                record.save(update_fields=["status", "cancel_requested", "cancel_handled", "updated_at"])
                ctx.event(
                    record, Kind.CANCELLED_IN_OM, "Cancelled in Order Manager before it was sent: not sent to the WMS."
                )
            ctx.run.updated += 1
        elif status == "CANCELLED":
            # An earlier attempt may have reached the WMS: never re-send; Order Cancel Download
            # looks the order up there and cancels it (or closes it here when it is not there).
            with transaction.atomic():
                record.cancel_requested = True
                record.save(update_fields=["cancel_requested", "updated_at"])
                ctx.event(
                    record,
                    Kind.CANCELLED_IN_OM,
                    "Cancelled in Order Manager before the retry: not sent again; the cancel is handled next.",
                )
            ctx.run.skipped += 1
        else:
            keep.append(record)
    return keep


def send_one(ctx, record: OrderRecord) -> str:
    """Send one order (or link it when the WMS has it already). Returns "sent", "permanent" or "transient"."""
    if not record.wms_payload:
        # Invalid when downloaded (e.g. re-queued by an operator): nothing to send until it is fixed
        # in Order Manager, which re-reads it. Held again instead of failing the whole run.
        OrderRecord.objects.filter(pk=record.pk).update(
            error_permanent=True, next_retry_at=None, updated_at=timezone.now()
        )
        ctx.note_error(f"Order {record.order_number} cannot be sent: {record.last_error}")
        ctx.run.failed += 1
        return "permanent"
    wms = ctx.warehouse_manager
    now = timezone.now()
    # Log before the outside call: if the process dies after the WMS accepted the order, the
    # attempt count tells the next run to look the order up instead of sending it again.
    # The claim is conditional: a cancel recorded since the order was read wins, even one written
    # by the Cancel Download job running at the same moment.
    claimed = OrderRecord.objects.filter(
        pk=record.pk, cancel_requested=False, status__in=[Status.NEW, Status.ERROR]
    ).update(attempts=F("attempts") + 1, first_attempt_at=Coalesce("first_attempt_at", Value(now)), updated_at=now)
    if not claimed:
        ctx.run.skipped += 1
        return "skipped"
    # Only the lease holder counts attempts, so the row now holds exactly these values (no re-read).
    record.attempts += 1
    record.first_attempt_at = record.first_attempt_at or now
    payload = current_payload(record, ctx.rules)
    note = unrecorded_attempt_note(record)
    try:
        if record.attempts > 1:
            existing = find_ours_at_wms(wms, record)
            if existing is not None:
                link(ctx, record, existing, f"Found at the WMS after an earlier attempt: linked, not sent again.{note}")
                return "sent"
        created = wms.create_order(payload)
    except DuplicateOrder as exc:
        existing = exc.existing or wms.find_order_by_reference(record.order_number)
        if existing is None:
            return fail(ctx, record, exc, payload)
        if not is_ours(record, existing):
            return fail(
                ctx,
                record,
                DuplicateOrder(
                    f"The WMS already has another order with reference number {record.order_number} (WMS order "
                    f"{existing.order_id}, PO {existing.po_num}), not this Order Manager order ({record.om_order_id}): "
                    "order numbers can repeat across sales channels. Not linked and not sent; give one of them "
                    "another reference number at the WMS, then resend this order.",
                    existing=existing,
                ),
                payload,
            )
        link(ctx, record, existing, "The WMS already had this reference number: linked to its order.")
        return "sent"
    except AuthenticationError:
        raise  # the whole connection is affected: fail the run
    except ConnectorError as exc:
        return fail(ctx, record, exc, payload)
    with transaction.atomic():
        mark_at_wms(record, created.order_id)
        ctx.event(
            record,
            Kind.SENT_TO_WMS,
            f"WMS order {created.order_id}.{note}",
            sent=payload,
            received={"orderId": created.order_id, "referenceNum": created.reference_num},
        )
    ctx.run.updated += 1
    return "sent"


def is_ours(record: OrderRecord, wms_order) -> bool:
    """Whether `wms_order`, found by reference number, is this Order Manager order. Order numbers
    are unique per sales channel only, so the reference number is no proof: the hub sends the Order
    Manager order id as poNum and compares it. A WMS order without a poNum (entered by hand) cannot
    be told apart and counts as ours."""
    return not wms_order.po_num or wms_order.po_num == str(record.om_order_id)


def find_ours_at_wms(wms, record: OrderRecord):
    """The WMS order of `record` found by reference number, or None (none, or another order's)."""
    existing = wms.find_order_by_reference(record.order_number)
    return existing if existing is not None and is_ours(record, existing) else None


def unrecorded_attempt_note(record: OrderRecord) -> str:
    """A sentence for the timeline when an earlier attempt of `record` left no outcome: its run
    stopped between counting the attempt and writing the answer (a worker killed, the database
    gone). The order's record says so; the run's record says why. "" when every attempt before
    this one has its failure on the timeline."""
    if record.attempts <= 1:
        return ""
    failures_recorded = record.events.filter(kind__in=[Kind.SEND_FAILED, Kind.WMS_REJECTED]).count()
    return f" {UNRECORDED_ATTEMPT}." if failures_recorded < record.attempts - 1 else ""


UNRECORDED_ATTEMPT = (
    "An earlier attempt has no recorded outcome: its run stopped before writing it "
    "(that run is marked failed or abandoned with the reason)"
)


def current_payload(record: OrderRecord, rules: Rules) -> dict:
    """The body to send: the stored one, with its items re-aliased when the aliases changed since download."""
    lines = [line for line in record.lines or [] if isinstance(line, dict) and "sku" in line]
    if not lines or not any(
        rules.wms_sku(ln["sku"]) != ln.get("wms_sku", ln["sku"]) for ln in lines if not ln.get("filtered")
    ):
        return record.wms_payload
    new_lines = []
    for line in lines:
        line = {k: v for k, v in line.items() if k != "wms_sku"}
        if rules.wms_sku(line["sku"]) != line["sku"]:
            line["wms_sku"] = rules.wms_sku(line["sku"])
        new_lines.append(line)
    items = [
        {"itemIdentifier": {"sku": ln.get("wms_sku", ln["sku"])}, "qty": ln["quantity"]}
        for ln in new_lines
        if not ln.get("filtered")
    ]
    record.wms_payload, record.lines = {**record.wms_payload, "orderItems": items}, new_lines
    record.save(update_fields=["wms_payload", "lines", "updated_at"])
    return record.wms_payload


def mark_at_wms(record: OrderRecord, wms_order_id: int) -> None:
    """At the WMS now. A cancel requested meanwhile stays pending (cancel_handled False) for Cancel Download."""
    record.status = Status.AT_WMS
    record.wms_order_id = wms_order_id
    record.last_error, record.next_retry_at, record.error_permanent = "", None, False
    record.cancel_handled = False
    record.save(
        update_fields=[
            "status",
            "wms_order_id",
            "last_error",
            "next_retry_at",
            "error_permanent",
            "cancel_handled",
            "updated_at",
        ]
    )


def link(ctx, record: OrderRecord, existing, message: str) -> None:
    with transaction.atomic():
        mark_at_wms(record, existing.order_id)
        ctx.event(
            record,
            Kind.LINKED_AT_WMS,
            f"{message} WMS order {existing.order_id}.",
            received={"orderId": existing.order_id, "referenceNum": existing.reference_num},
        )
    ctx.run.updated += 1


def fail(ctx, record: OrderRecord, exc: ConnectorError, payload) -> str:
    now = timezone.now()
    # A garbled answer to the create may follow a success: the outcome is unknown, so the order is
    # retried (the retry looks it up first) instead of held as rejected while it sits at the WMS.
    permanent = isinstance(exc, PermanentError) and not isinstance(exc, MalformedResponse)
    reason = str(exc) + (f" (WMS answer: {exc.body_excerpt})" if exc.body_excerpt else "")
    with transaction.atomic():
        record.status = Status.ERROR
        record.last_error = reason[:4000]
        record.error_permanent = permanent
        if permanent:
            record.next_retry_at = None
            ctx.event(record, Kind.WMS_REJECTED, reason, sent=payload)
        elif now - record.first_attempt_at >= GIVE_UP_AFTER:
            record.given_up, record.next_retry_at = True, None
            ctx.event(record, Kind.GAVE_UP, f"Temporary failures for {GIVE_UP_AFTER.days} days; last: {reason}")
        else:
            delay = min(MAX_BACKOFF, datetime.timedelta(minutes=2 ** min(record.attempts - 1, 10)))
            if exc.retry_after:
                delay = max(delay, datetime.timedelta(seconds=exc.retry_after))
            record.next_retry_at = now + delay
            ctx.event(
                record,
                Kind.SEND_FAILED,
                f"{reason} Next try after {record.next_retry_at:%Y-%m-%d %H:%M} UTC.",
                sent=payload,
            )
        record.save(
            update_fields=["status", "last_error", "error_permanent", "next_retry_at", "given_up", "updated_at"]
        )
    ctx.run.failed += 1
    return "permanent" if permanent else "transient"


# --- 3. mark exported ------------------------------------------------------------------------


def mark_exported(ctx, warehouse_id: int) -> None:
    # Read in full before writing: on SQLite a connection whose read cursor is still open cannot
    # start writing once another process (Order Manager's side, another job) has committed since:
    # "database is locked" at once, whatever the busy timeout. Two ids per order fit in memory.
    pending = list(
        OrderRecord.objects.filter(
            connection=ctx.connection,
            wms_order_id__isnull=False,
            om_exported_at__isnull=True,
            status__in=[Status.AT_WMS, Status.SHIPPED, Status.CONFIRMED],
        )
        .order_by("pk")
        .values_list("pk", "om_order_id")
    )
    for batch in chunked(pending, EXPORT_BATCH):
        try:
            ctx.order_manager.send_to_fulfillment([om_order_id for _, om_order_id in batch], warehouse_id)
        except AuthenticationError:
            raise
        except ConnectorError as exc:
            ctx.run.failed += len(batch)
            ctx.note_error(f"Marking {len(batch)} orders exported in Order Manager failed (retried next run): {exc}")
            continue
        now = timezone.now()
        with transaction.atomic():
            OrderRecord.objects.filter(pk__in=[pk for pk, _ in batch]).update(om_exported_at=now, updated_at=now)
            OrderEvent.objects.bulk_create(
                [
                    OrderEvent(
                        order_id=pk,
                        run=ctx.run,
                        kind=Kind.EXPORTED,
                        message="Moved out of the pickup status (sendtofulfillment).",
                    )
                    for pk, _ in batch
                ]
            )
    ctx.run.save(update_fields=["failed"])
