"""Warehouse Manager's error answers in plain words, and the two refusals the jobs act on.

Contract (docs/wire-protocols.md, "WMS: error bodies"):
- an error body is a .NET exception (``$type``, ``ErrorCode``, ``Hint``, sometimes ``Message`` and
  ``Properties``; PascalCase, camelCase tolerated): ``error_fields`` reads it and never raises
  (absent fields are ""), ``describe_wms_error`` turns it into one plain-words sentence naming the
  action and the HTTP status, with the technical type and code in brackets;
- ``HANDLED_4XX`` are the statuses the client reads itself; ``error_for`` maps such an answer to
  a ``connectors.errors`` type: 404 ``NotFound``, a 403 that is not a refused operation
  (``OperationException``) ``AuthenticationError`` (a role missing on the credential), anything
  else ``RequestRejected``; the message is ``describe_wms_error``'s, the body redacted and capped;
- ``cancel_refusal`` reads a canceler's 403 ``OperationException`` as ``OrderNotCancellable``;
- ``DuplicateOrder`` (the ``referenceNum`` exists; ``existing`` attached when found) and
  ``OrderNotCancellable`` (``reason`` in plain words) are permanent: retrying cannot help.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.errors import AuthenticationError, ConnectorError, NotFound, RequestRejected
from connectors.redaction import excerpt
from connectors.transport import Answer
from connectors.wms.errors import DuplicateOrder, OrderNotCancellable  # shared by every WMS (connectors.wms.errors)

__all__ = [
    "ERROR_CODE_WORDS",
    "HANDLED_4XX",
    "DuplicateOrder",
    "OrderNotCancellable",
    "cancel_refusal",
    "describe_wms_error",
    "error_body",
    "error_fields",
    "error_for",
]

# 4xx answers the client reads itself, so the .NET error body can be turned into plain words.
HANDLED_4XX = (400, 403, 404, 409, 412, 422, 428)

ERROR_CODE_WORDS = {
    # ModelValidationException
    "Required": "a required value is missing",
    "DoesNotExist": "a referenced record does not exist",
    "Duplicate": "a record with this value already exists",
    "Incompatible": "some values are incompatible with each other",
    "ValueNotSupported": "a value is not supported (for example an item or facility not assigned to the customer)",
    # OperationException
    "InUse": "the record is in use",
    "OrderConfirmed": "the order is already closed (shipped)",
    "OrderCanceled": "the order is already canceled",
    "AlreadyCompleted": "the order is already completed",
    "NotFullyAllocated": "the order is not fully allocated",
    "OrderNotConfirmed": "the order is not closed yet",
    "Unallocated": "the order is not allocated",
    "FullyAllocated": "the order is already fully allocated",
    "DateInFuture": "the date is in the future",
    "DateBeforeFreeze": "the date is before the billing freeze date",
    "OnHold": "the order is on hold",
    # QueryParameterException
    "NotParsable": "a query parameter could not be parsed",
}

_STATUS_WORDS = {
    400: "rejected the request",
    403: "refused the operation",
    404: "has no such record",
    409: "reported a conflict",
    412: "says the record changed since it was read (ETag mismatch)",
    422: "could not process the request",
    428: "requires an If-Match header (ETag) for this operation",
}


def _short_type(dotnet_type: Any) -> str:
    """``WMS.V2.Generic.Models.Exceptions.OperationException, WMS.V2...`` -> ``OperationException``."""
    if not isinstance(dotnet_type, str) or not dotnet_type.strip():
        return ""
    return dotnet_type.split(",", 1)[0].strip().rsplit(".", 1)[-1]


def error_fields(body: Any) -> dict[str, str]:
    """The .NET exception fields of an error body (PascalCase, camelCase tolerated), as strings."""
    if not isinstance(body, Mapping):
        return {}

    def pick(*names: str) -> str:
        for name in names:
            value = body.get(name)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
                return str(value).strip()
        return ""

    properties = body.get("Properties") or body.get("properties")
    prop_names = []
    if isinstance(properties, list):
        for prop in properties:
            if isinstance(prop, Mapping) and isinstance(prop.get("Name"), str):
                prop_names.append(prop["Name"])
    return {
        "type": _short_type(body.get("$type")),
        "code": pick("ErrorCode", "errorCode"),
        "hint": pick("Hint", "hint"),
        "message": pick("Message", "message"),
        "properties": ", ".join(prop_names),
    }


def describe_wms_error(status: int | None, body: Any, *, action: str = "") -> str:
    """A plain-words message for a WMS error answer (.NET ``$type``/``ErrorCode``/``Hint``/``Message``)."""
    fields = error_fields(body)
    words = _STATUS_WORDS.get(status or 0, "answered with an error")
    parts = [
        f"Warehouse Manager {words}"
        + (f" while trying to {action}" if action else "")
        + (f" (HTTP {status})" if status else "")
    ]
    code = fields.get("code", "")
    if code:
        parts.append(ERROR_CODE_WORDS.get(code, f"error code {code}"))
    if fields.get("properties"):
        parts.append(f"field: {fields['properties']}")
    for key in ("hint", "message"):
        if fields.get(key):
            parts.append(fields[key])
    technical = " ".join(x for x in (fields.get("type", ""), code) if x)
    message = ": ".join(parts[:2]) + ("; " + "; ".join(parts[2:]) if len(parts) > 2 else "")
    return message + (f" [{technical}]" if technical else "") + "."


def error_body(response: Answer) -> Any:
    """The JSON of an error answer, or None when it has none (an error body is read leniently)."""
    try:
        return response.json() if response.content else None
    except ValueError:
        return None


def error_for(response: Answer, method: str, path: str, action: str) -> ConnectorError:
    """The typed error for a 4xx answer of ``method path`` made while trying to ``action``."""
    body = error_body(response)
    status = response.status_code
    message = describe_wms_error(status, body, action=action)
    kwargs = {
        "status": status,
        "body_excerpt": excerpt(response.text),
        "method": method,
        "path": path,
        "details": body,
    }
    if status == 404:
        return NotFound(message, **kwargs)
    if status == 403 and error_fields(body).get("type") != "OperationException":
        # A 403 that is not a refused operation is a missing role on the credential.
        return AuthenticationError(message, **kwargs)
    return RequestRejected(message, **kwargs)


def cancel_refusal(response: Answer, details: Any, path: str, action: str) -> OrderNotCancellable | None:
    """The ``OrderNotCancellable`` for the canceler's 403 ``OperationException`` answer (the WMS
    refused the operation, e.g. the order is allocated or on hold), with its reason in plain
    words; None for any other answer, which ``error_for`` maps. ``details`` is the answer's body."""
    fields = error_fields(details)
    if response.status_code != 403 or fields.get("type") != "OperationException":
        return None
    return OrderNotCancellable(
        describe_wms_error(403, details, action=action),
        reason=ERROR_CODE_WORDS.get(fields["code"], fields["code"] or "operation refused"),
        status=403,
        body_excerpt=excerpt(response.text),
        method="POST",
        path=path,
        details=details,
    )
