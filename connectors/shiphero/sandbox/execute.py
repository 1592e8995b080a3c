"""One GraphQL request to the sandbox ShipHero API, from its JSON body to its answer.

`run(account, body) -> (http_status, answer)`:

1. the body must be JSON ``{"query": str, "variables": object|null, "operationName": str|null}``
   (400 with a GraphQL `errors` answer otherwise);
2. the document is parsed and validated against the vendored schema (`connectors.shiphero.schema`,
   the same file the client validates against); a refused document answers HTTP 400 with the
   GraphQL spec's ``{"errors": [{message, locations}]}`` and no `data`, as graphene's HTTP layer
   (graphql-server) does for a document it cannot execute;
3. the operation's complexity is estimated (`credits.estimate`); an operation above the account's
   bucket is refused outright, one above the credits left gets the throttle error (code 30, with
   `time_remaining`), both as HTTP 200 with every top-level field null, and nothing is executed
   or charged; otherwise the credits are taken (nothing for ``analyze: true`` fields);
4. it is executed with graphql-core (`graphql.execute`) against `queries.Query` / `mutations.Mutation`;
   service refusals come back in ShipHero's error shape (`errors.formatted`) beside the fields
   that did resolve.

`endpoint_group(body)` is the answer-time group of a request (`connectors.sandbox.latency`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import GraphQLError, execute, parse, validate
from graphql.utilities import get_operation_ast

from connectors.shiphero import schema as vendored

from . import credits, ids
from .errors import THROTTLED, formatted, service_error
from .mutations import Mutation
from .queries import Query

_GROUPS = {"order_create": "create", "order_cancel": "cancel", "warehouse_products": "stock"}


@dataclass
class Context:
    account: object
    request_id: str
    complexity: dict = field(default_factory=dict)
    analyzed: set = field(default_factory=set)


def _request(body) -> tuple[str, dict | None, str | None] | str:
    if not isinstance(body, dict):
        return "The body must be a JSON object with a query"
    query, variables, name = body.get("query"), body.get("variables"), body.get("operationName")
    if not isinstance(query, str) or not query.strip():
        return "Must provide query string."
    if variables is not None and not isinstance(variables, dict):
        return "Variables are invalid JSON."
    if name is not None and not isinstance(name, str):
        return "operationName must be a string"
    return query, variables, name


def endpoint_group(body) -> str:
    parsed = _request(body)
    if isinstance(parsed, str):
        return "read"
    try:
        operation = get_operation_ast(parse(parsed[0]), parsed[2])
    except GraphQLError:
        return "read"
    if operation is None:
        return "read"
    names = {s.name.value for s in operation.selection_set.selections if hasattr(s, "name")}
    for name, group in _GROUPS.items():
        if name in names:
            return group
    return "read"


def _throttled(account, costs: dict, operation_type: str, request_id: str, bucket) -> dict | None:
    total = sum(costs.values())
    if total > account.credits_max:
        message = (
            f"The operation requires {total} credits, more than the max allowed for your account: "
            f"{account.credits_max} credits per operation. Ask for fewer items (first:) or fewer fields."
        )
        extra = {"required_credits": total, "remaining_credits": bucket.remaining()}
    else:
        taken, remaining, wait = bucket.take(total)
        if taken:
            return None
        message = (
            f"There are not enough credits to perform the requested operation, which requires {total} "
            f"credits. The max allowed for your account is {account.credits_max} credits per operation. "
            f"Try again in {wait} seconds"
        )
        extra = {"required_credits": total, "remaining_credits": remaining, "time_remaining": f"{wait} seconds"}
    return {
        "errors": [
            service_error(message=message, code=THROTTLED, operation=key, request_id=request_id, **extra)
            for key in costs
        ],
        "data": dict.fromkeys(costs),
    }


def run(account, body) -> tuple[int, dict]:
    parsed = _request(body)
    if isinstance(parsed, str):
        return 400, {"errors": [{"message": parsed}]}
    query, variables, operation_name = parsed
    try:
        document = parse(query)
    except GraphQLError as error:
        return 400, {"errors": [error.formatted]}
    schema = vendored.schema()
    refused = validate(schema, document)
    if refused:
        return 400, {"errors": [e.formatted for e in refused]}
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        message = "Must provide operation name if query contains multiple operations."
        return 400, {"errors": [{"message": message}]}
    context = Context(account=account, request_id=ids.request_id())
    context.complexity = credits.estimate(schema, document, operation_name, variables)
    context.analyzed = credits.analyzed(document, operation_name, variables)
    charged = {k: v for k, v in context.complexity.items() if k not in context.analyzed}
    if charged:
        refusal = _throttled(account, charged, operation.operation.value, context.request_id, credits.bucket(account))
        if refusal is not None:
            return 200, refusal
    root = Mutation() if operation.operation.value == "mutation" else Query()
    outcome = execute(
        schema,
        document,
        root_value=root,
        context_value=context,
        variable_values=variables,
        operation_name=operation_name,
    )
    if outcome.data is None and outcome.errors:
        # Variables the schema refuses (a missing required one, a wrong type) fail before execution.
        return 400, {"errors": [e.formatted for e in outcome.errors]}
    answer: dict = {}
    if outcome.errors:
        answer["errors"] = [formatted(e, context.request_id) for e in outcome.errors]
    answer["data"] = outcome.data
    return 200, answer
