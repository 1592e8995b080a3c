"""ShipHero answers for the `responses` stubs of the tests/test_shiphero_*.py modules, written
from the evidence (docs/wire-protocols.md, ShipHero): the `{"data": {<root>: {"request_id",
"complexity", "data": ...}}}` envelope, Relay connections, and the documented error entries."""

from __future__ import annotations

import json
from collections.abc import Callable

import responses

BASE = "https://public-api.shiphero.com"
GRAPHQL_URL = f"{BASE}/graphql"
REFRESH_URL = f"{BASE}/auth/refresh"
WAREHOUSE = "V2FyZWhvdXNlOjExNzk="  # base64 "Warehouse:1179", the shape of ShipHero's ids
OTHER_WAREHOUSE = "V2FyZWhvdXNlOjIyMjI="


def order_uuid(legacy_id: int) -> str:
    import base64

    return base64.b64encode(f"Order:{legacy_id}".encode()).decode()


def label(tracking="1Z999", carrier="ups", method="ups_ground", created="2026-12-01T10:00:00", refunded=False):
    return {
        "id": f"label-{tracking}",
        "tracking_number": tracking,
        "carrier": carrier,
        "shipping_method": method,
        "shipping_name": "UPS Ground",
        "status": "valid",
        "refunded": refunded,
        "created_date": created,
    }


def shipment(labels=(), created="2026-12-01T10:00:00", legacy_id=9001):
    return {
        "id": f"shipment-{legacy_id}",
        "legacy_id": legacy_id,
        "warehouse_id": WAREHOUSE,
        "created_date": created,
        "shipping_labels": list(labels),
    }


def order_node(
    legacy_id=5001,
    ref="OM-1001",
    status="pending",
    om_id=77,
    shipments=(),
    updated="2026-12-01T09:00:00",
    tags=None,
    uuid=None,
):
    return {
        "id": uuid or order_uuid(legacy_id),
        "legacy_id": legacy_id,
        "order_number": ref,
        "partner_order_id": ref,
        "fulfillment_status": status,
        "order_date": "2026-11-30T12:00:00",
        "updated_at": updated,
        "tags": tags if tags is not None else [f"om-order-id:{om_id}"],
        "shipping_lines": {"carrier": "UPS", "method": "Ground"},
        "shipments": list(shipments),
    }


def envelope(root: str, data, *, complexity=1, field="data"):
    return {"data": {root: {"request_id": "5f0c0ffee0000000000000aa", "complexity": complexity, field: data}}}


def connection(nodes, *, has_next=False, end_cursor=None):
    return {
        "pageInfo": {"hasNextPage": has_next, "endCursor": end_cursor},
        "edges": [{"cursor": f"c{i}", "node": node} for i, node in enumerate(nodes)],
    }


def error(message, code=None, **fields):
    entry = {"message": message, "operation": "op", "field": "op", "request_id": "5f0c0ffee0000000000000bb"}
    if code is not None:
        entry["code"] = code
    entry.update(fields)
    return {"errors": [entry], "data": None}


def throttled(wait="3 seconds", required=500, remaining=20):
    return error(
        "There are not enough credits to perform the requested operation",
        code=30,
        required_credits=required,
        remaining_credits=remaining,
        time_remaining=wait,
    )


def token_answer(access="tok-1", expires_in=2419200):
    return {"access_token": access, "expires_in": expires_in, "scope": "openid profile", "token_type": "Bearer"}


def schema_problems(payload: dict) -> list[str]:
    """What the vendored schema refuses in one request: the document, or its variables' values."""
    from graphql import parse
    from graphql.execution.values import get_variable_values

    from connectors.shiphero import schema as sh_schema

    problems = [e.message for e in sh_schema.validate(payload["query"])]
    if problems:
        return problems
    document = parse(payload["query"])
    operation = next(d for d in document.definitions if d.kind == "operation_definition")
    coerced = get_variable_values(sh_schema.schema(), operation.variable_definitions, payload.get("variables") or {})
    return [e.message for e in coerced] if isinstance(coerced, list) else []


def stub_graphql(rsps, answers: dict[str, list] | Callable):
    """Answer POST /graphql by operationName: each name's list is consumed in order (the last
    answer repeats); an answer is a JSON body or a `(status, body)` pair. Returns the calls list.
    Every request is first checked against the vendored schema (document and variables), as the
    real API checks it: a refused one fails the test."""
    seen: list[dict] = []

    def callback(request):
        payload = json.loads(request.body)
        refused = schema_problems(payload)
        assert not refused, f"the schema refuses {payload.get('operationName')}: {refused}"
        seen.append({"payload": payload, "headers": dict(request.headers)})
        if callable(answers):
            result = answers(payload, request)
        else:
            queue = answers[payload["operationName"]]
            result = queue.pop(0) if len(queue) > 1 else queue[0]
        status, body = result if isinstance(result, tuple) else (200, result)
        return status, {"Content-Type": "application/json"}, json.dumps(body)

    rsps.add_callback(responses.POST, GRAPHQL_URL, callback=callback)
    return seen


def stub_token(rsps, *answers):
    """POST /auth/refresh answers in order (the last repeats)."""
    queue = list(answers) or [token_answer()]
    seen: list[dict] = []

    def callback(request):
        seen.append(json.loads(request.body))
        result = queue.pop(0) if len(queue) > 1 else queue[0]
        status, body = result if isinstance(result, tuple) else (200, result)
        return status, {"Content-Type": "application/json"}, json.dumps(body)

    rsps.add_callback(responses.POST, REFRESH_URL, callback=callback)
    return seen
