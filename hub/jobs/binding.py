"""The hub's orders at the WMS (the binder, in OCA connector's terms): finding, linking and marking them.

- `find_ours_at_wms(wms, record)`: the WMS order of `record` looked up by its reference number, or
  None when the WMS has none or has another order under that number (`is_ours`: the hub sends the
  Order Manager order id as the PO number and compares it, since order numbers repeat across
  sales channels).
- `mark_at_wms(record, wms_order_id)` / `link(ctx, record, existing, message)`: bind a record to its
  WMS order (a send's answer, or one found by a look-up), with the LINKED_AT_WMS step for a link.
- `unrecorded_attempt_note(record)`: the sentence a timeline gets when an earlier send attempt of
  the order left no outcome (its run stopped between counting the attempt and writing the answer).
Order Download and Order Cancel Download both bind through here, so "one order at the WMS once"
has one implementation.
"""

from __future__ import annotations

from django.db import transaction

from hub.models import OrderEvent, OrderRecord

Status = OrderRecord.Status
Kind = OrderEvent.Kind


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
