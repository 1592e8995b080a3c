"""Sandbox Warehouse Manager order cancel: `POST /orders/{id}/canceler`.

As strict as the real service: 404 for an order the credential has not; 428 without `If-Match`;
412 when the `If-Match` ETag is not the order's current one, or when the order changed between the
read and the write (one conditional UPDATE on its version); 403 for an order that is not open
(`OrderConfirmed`, `OrderCanceled`); 400 without a `reason`. A cancel answers 204 with the new ETag.
"""

from django.db.models import F
from django.http import HttpResponse
from django.views.decorators.http import require_http_methods

from connectors.sandbox import clock, webhook_outbox
from connectors.sandbox.api import BadRequest, json_body, wms_api
from connectors.sandbox.models import WmsOrder, WmsOrderStatus
from connectors.warehouse_manager.sandbox import render as wms_render
from connectors.warehouse_manager.sandbox.protocol import json_response, model_error, order_not_found, wms_query


@wms_api
@wms_query(POST=())
@require_http_methods(["POST"])
def canceler(request, account, order_id):
    """`POST /orders/{id}/canceler`: If-Match required (428), must be current (412), open only (403)."""
    order = WmsOrder.objects.filter(account=account, pk=order_id).first()
    if order is None:
        return order_not_found(order_id)
    if_match = request.headers.get("If-Match", "").strip()
    if not if_match:
        return json_response(
            wms_render.error(
                "PreconditionRequiredException",
                "PreconditionRequired",
                "The If-Match header with the order's ETag is required",
            ),
            428,
        )
    if if_match.removeprefix("W/") != wms_render.etag(order):
        return json_response(
            wms_render.error(
                "PreconditionFailedException",
                "PreconditionFailed",
                "The order changed since it was read; GET it again for a fresh ETag",
            ),
            412,
        )
    if order.status != WmsOrderStatus.OPEN:
        code = "OrderConfirmed" if order.status == WmsOrderStatus.CLOSED else "OrderCanceled"
        return json_response(
            wms_render.error(
                "OperationException",
                code,
                f"Order {order.pk} is {order.get_status_display().lower()} and cannot be canceled",
            ),
            403,
        )
    try:
        body = json_body(request)
    except BadRequest as exc:
        return model_error("Required", str(exc))
    reason = body.get("reason") if isinstance(body, dict) else None
    if not isinstance(reason, str) or not reason.strip():
        return model_error("Required", "reason is required", properties={"reason": None})
    updated = WmsOrder.objects.filter(pk=order.pk, version=order.version, status=WmsOrderStatus.OPEN).update(
        status=WmsOrderStatus.CANCELED,
        version=F("version") + 1,
        last_modified_date=clock.now(),
        cancel_reason=reason.strip(),
    )
    if not updated:
        # Changed between our read and our write: the same answer a stale If-Match gets.
        return json_response(
            wms_render.error(
                "PreconditionFailedException",
                "PreconditionFailed",
                "The order changed since it was read; GET it again for a fresh ETag",
            ),
            412,
        )
    order.refresh_from_db()
    webhook_outbox.record(account, "OrderCancel", order_id=order.pk)
    response = HttpResponse(status=204)
    response["ETag"] = wms_render.etag(order)
    return response
