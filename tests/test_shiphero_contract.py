"""ShipHero's contract, the counterpart of the Order Manager spec checks (tests/contract.py): the
vendored GraphQL schema (`connectors.shiphero.schema`) is the spec.

- every document the client can send is one of `operations.OPERATIONS`, and each validates
  against the schema (graphql-core's full rule set);
- during a real run of the four jobs on a ShipHero tenant (live_server, over a real socket) every
  request the client sent is one of those documents with variables the schema accepts, and every
  answer the sandbox gave conforms to the schema's types for that document: the answer's `data`
  is executed again with graphql-core as the root value of the same document and variables
  (`conformance_problems`), so a field missing, of the wrong type, null where the schema says
  non-null, or not asked for, comes out different; the custom scalars (ISODateTime, Decimal) are
  read by what they promise; an answer with `errors` has them in ShipHero's documented shape
  (message, and a numeric code or GraphQL's locations).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest
from graphql import GraphQLScalarType, default_field_resolver, execute, get_named_type, type_from_ast
from graphql.utilities import coerce_input_value

from connectors.errors import NotFound
from connectors.shiphero import operations
from connectors.shiphero.calls import GraphQLSession
from connectors.shiphero.schema import schema, validate
from connectors.wms.errors import DuplicateOrder
from hub.engine.runner import run_job
from hub.models import Job, SyncRun
from tenants import clients
from tests import wms_sandboxes

CUSTOM_SCALARS = {"ISODateTime", "Decimal"}


def _scalar_problem(type_name: str, value: Any) -> str | None:
    if value is None:
        return None
    if type_name == "ISODateTime":
        try:
            datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return f"ISODateTime {value!r} is not ISO 8601"
    if type_name == "Decimal":
        try:
            Decimal(str(value)) if not isinstance(value, bool) else None
        except InvalidOperation:
            return f"Decimal {value!r} is not a decimal number"
        if isinstance(value, bool):
            return f"Decimal {value!r} is a boolean"
    return None


def conformance_problems(operation: operations.Operation, variables: dict, answer: Any) -> list[str]:
    """What in `answer` (a parsed GraphQL answer to `operation`) does not fit the schema; []."""
    if not isinstance(answer, dict) or not ({"data", "errors"} & set(answer)):
        return [f"not a GraphQL answer: {answer!r:.200}"]
    problems = []
    for error in answer.get("errors") or []:
        if not isinstance(error, dict) or not isinstance(error.get("message"), str):
            problems.append(f"error without a message: {error!r:.200}")
        elif not isinstance(error.get("code"), int) and "locations" not in error:
            problems.append(f"error with neither a numeric code nor locations: {error!r:.200}")
    data = answer.get("data")
    if data is None:
        return problems if answer.get("errors") else [*problems, "no data and no errors"]
    scalars: list[str] = []

    def resolve(source, info, **args):
        value = default_field_resolver(source, info, **args)
        named = get_named_type(info.return_type)
        if isinstance(named, GraphQLScalarType) and named.name in CUSTOM_SCALARS:
            found = _scalar_problem(named.name, value)
            if found:
                scalars.append(f"{'.'.join(str(p) for p in info.path.as_list())}: {found}")
        return value

    again = execute(
        schema(),
        operation.document,
        root_value=data,
        variable_values=variables,
        operation_name=operation.name,
        field_resolver=resolve,
    )
    if again.errors and not answer.get("errors"):
        problems += [f"{'.'.join(str(p) for p in e.path or [])}: {e.message}" for e in again.errors]
    if again.data != data:
        problems.append(f"data is not what the schema makes of it:\n  sent {data!r:.600}\n  typed {again.data!r:.600}")
    return problems + scalars


def test_every_document_the_client_can_send_is_listed_and_validates():
    defined = [value for value in vars(operations).values() if isinstance(value, operations.Operation)]
    assert set(map(id, defined)) == set(map(id, operations.OPERATIONS))
    for operation in operations.OPERATIONS:
        assert validate(operation.document) == [], operation.name
        assert validate(operation.text) == [], operation.name


def test_conformance_check_can_fail():
    """The check itself refuses answers the schema could not produce."""
    ok = {"data": {"user_quota": {"credits_remaining": 4004, "max_available": 4004, "increment_rate": 60}}}
    assert conformance_problems(operations.USER_QUOTA, {}, ok) == []
    wrong_type = {"data": {"user_quota": {"credits_remaining": "lots", "max_available": 4004, "increment_rate": 60}}}
    assert conformance_problems(operations.USER_QUOTA, {}, wrong_type)
    extra = {"data": {"user_quota": {**ok["data"]["user_quota"], "secret": 1}}}
    assert conformance_problems(operations.USER_QUOTA, {}, extra)
    order = {
        "request_id": "r",
        "complexity": 1,
        "data": {"id": "T3JkZXI6MQ==", "legacy_id": 1},
    }
    assert conformance_problems(operations.LEGACY_ORDER_ID, {"legacy_id": 1}, {"data": {"uuid": order}}) == []
    id_as_number = {"data": {"uuid": {**order, "data": {"id": 5, "legacy_id": 1}}}}
    assert conformance_problems(operations.LEGACY_ORDER_ID, {"legacy_id": 1}, id_as_number)
    not_a_list = {"data": {"uuid": {**order, "data": [order["data"]]}}}
    assert conformance_problems(operations.LEGACY_ORDER_ID, {"legacy_id": 1}, not_a_list)
    assert conformance_problems(operations.USER_QUOTA, {}, {"errors": [{"code": 30}]})


@pytest.mark.django_db(transaction=True)
def test_every_call_of_a_four_job_run_and_every_answer_fit_the_schema(live_server, monkeypatch):
    exchanges: list[tuple[operations.Operation, dict, int, Any]] = []
    send = GraphQLSession._post

    def recorded(self, operation, variables, action):
        answer = send(self, operation, variables, action)
        exchanges.append((operation, dict(variables), answer.status_code, answer.json()))
        return answer

    monkeypatch.setattr(GraphQLSession, "_post", recorded)
    t = wms_sandboxes.tenant(live_server, "contract", wms_sandboxes.SHIPHERO, orders=6, skus=4, seed=7)

    def succeeded(job) -> None:
        run = run_job(t.connection, job)
        assert run.status == SyncRun.Status.SUCCEEDED, run.error

    succeeded(Job.ORDER_DOWNLOAD)
    t.cancel_in_order_manager(2)
    succeeded(Job.CANCEL_DOWNLOAD)
    t.ship(seed=7)
    succeeded(Job.SHIPMENT_CONFIRMATION)
    succeeded(Job.INVENTORY_SYNC)

    # The look-up by reference (sent before any re-send), an unknown order and a refused create, so
    # their answers (an empty page, errors in ShipHero's shape) are checked as well.
    client = clients.warehouse(t.connection)
    created = next(v["data"] for operation, v, *_ in exchanges if operation is operations.CREATE_ORDER)
    reference = created["partner_order_id"]
    assert client.find_order_by_reference(reference) is not None
    assert client.find_order_by_reference("NO-SUCH-REFERENCE") is None
    with pytest.raises(NotFound):
        client.get_order(999_999_999)
    with pytest.raises(DuplicateOrder):
        client.create_order(created)  # the same body again: refused as taken, never created twice
    client.close()

    sent = {operation.name for operation, *_ in exchanges}
    # Every document the client has went over the wire at least once.
    assert {
        "UserQuota",
        "OrdersByReference",
        "LegacyOrderId",
        "Order",
        "CreateOrder",
        "CancelOrder",
        "OrdersUpdatedSince",
        "WarehouseStock",
    } <= sent, sent
    failures = []
    for operation, variables, status, answer in exchanges:
        assert operation in operations.OPERATIONS
        definition = operation.document.definitions[0]
        for variable in definition.variable_definitions:
            name = variable.variable.name.value
            if name in variables:
                coerce_input_value(variables[name], type_from_ast(schema(), variable.type))  # raises if refused
        assert status == 200, (operation.name, status, answer)
        for problem in conformance_problems(operation, variables, answer):
            failures.append(f"{operation.name}: {problem}")
    assert not failures, "\n".join(failures[:20])
    assert t.duplicates() == {}
