"""Re-process a quarantined order from Order Manager: the operator's "Re-process" admin action.

An order held at download (status `error`, never sent: no send attempt, no WMS order, not
cancelled) keeps the reason it was refused (a bad field, a repeated key, a NUL byte...). Order
Download reads such an order again only when Order Manager reports a change; this action does it
now, on the operator's request:

`reprocess(order, user) -> Outcome` fetches the order with `GET /v1.1/orders/{id}`, reads it
with the same code as a download (`hub.jobs.intake.reread`: the same validation, the same
mappings) and either queues it for sending (status `new`) or keeps it held with the fresh reason.
Either way one OPERATOR event names the user and the result. Connector failures are reported in
the outcome, never raised; the order is left as it was. `reprocess_many(orders, user)` applies it
to several orders, one Order Manager client per connection.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from connectors.errors import ConnectorError, NotFound
from connectors.redaction import redact
from hub.jobs import intake
from hub.mapping.rules import Rules
from hub.models import OrderEvent, OrderRecord
from hub.operators import operator_name
from tenants import clients

Status = OrderRecord.Status


@dataclass
class Outcome:
    order: OrderRecord
    queued: bool  # valid now and queued for sending
    message: str


def refusal(order: OrderRecord) -> str | None:
    """Why `order` cannot be re-processed, or None when it can."""
    if order.status != Status.ERROR:
        return f"status is “{order.get_status_display()}”; only orders held in error are re-processed"
    if order.wms_order_id is not None or order.attempts:
        return "it was already sent to the WMS (use “Resend to WMS”)"
    if order.cancel_requested:
        return "it was cancelled in Order Manager"
    return None


def _operator_event(order: OrderRecord, kind: str, message: str = "") -> OrderEvent:
    """A timeline step written by an operator's action: it belongs to no run."""
    return OrderEvent.objects.create(order=order, run=None, kind=kind, message=message[:4000])


def reprocess(order: OrderRecord, user, *, client=None) -> Outcome:
    """Fetch `order` from Order Manager again and re-read it (see the module docstring)."""
    why_not = refusal(order)
    if why_not:
        return Outcome(order, False, f"not re-processed: {why_not}")
    who = operator_name(user)
    own_client = client is None
    client = client or clients.order_manager(order.connection)
    try:
        received = client.get_order(order.om_order_id)
    except NotFound:
        return _note(order, who, "Order Manager no longer has this order; nothing changed.")
    except ConnectorError as exc:
        return Outcome(order, False, f"Order Manager could not be asked ({exc}); nothing changed, try again later.")
    finally:
        if own_client:
            client.close()
    with transaction.atomic():
        locked = OrderRecord.objects.select_for_update().get(pk=order.pk)
        if refusal(locked):  # a job moved it meanwhile
            return Outcome(locked, False, f"not re-processed: {refusal(locked)}")
        # Ship methods found unmapped here are recorded by the next download, which reads them too.
        if intake.reread(
            locked, received, rules=Rules.for_connection(locked.connection), event=_operator_event, unmapped={}
        ):
            return _note(locked, who, "valid now, queued for sending to the WMS.", queued=True)
        if received.order is not None:
            reason = locked.last_error or "still held by the connection's rules"
        else:
            reason = intake.invalid_reason(received)
            locked.last_error = reason[:4000]
            locked.source = intake.without_nul(redact(received.raw, max_chars=8000))
            locked.save(update_fields=["last_error", "source", "updated_at"])
        return _note(locked, who, f"still held: {reason}")


def _note(order: OrderRecord, who: str, result: str, *, queued: bool = False) -> Outcome:
    message = f"Re-processed from Order Manager by {who}: {result}"
    OrderEvent.objects.create(order=order, kind=OrderEvent.Kind.OPERATOR, message=message[:4000])
    return Outcome(order, queued, message)


def reprocess_many(orders: Iterable[OrderRecord], user) -> list[Outcome]:
    """`reprocess` for each order, sharing one Order Manager client per connection."""
    outcomes, by_connection = [], {}
    try:
        for order in orders:
            if refusal(order):
                outcomes.append(Outcome(order, False, f"not re-processed: {refusal(order)}"))
                continue
            client = by_connection.get(order.connection_id)
            if client is None:
                client = by_connection[order.connection_id] = clients.order_manager(order.connection)
            outcomes.append(reprocess(order, user, client=client))
    finally:
        for client in by_connection.values():
            client.close()
    return outcomes
