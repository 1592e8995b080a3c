"""ShipHero's throttle: every operation has a complexity, paid from a bucket of credits per account.

Documented behaviour (EVIDENCE.md): an account has a bucket of credits (4,004) restored at a fixed
rate (60 a second); no operation may cost more than the bucket holds; every answer of a top-level
field carries its `complexity`; a top-level field given ``analyze: true`` is not executed, only
costed (and the sandbox charges nothing for it); an operation over the remaining credits is
refused with error code 30 and the time until enough credits are back.

- `estimate(schema, document, operation_name, variables) -> {response_key: cost}`: the sandbox's own
  estimator (ShipHero does not publish its formula; unverified): every selected field costs 1, and a
  field taking `first`/`last` (a connection or a paged list) costs ``1 + n * (its selections)``
  with n the argument's value, or 100 (the documented default page) for a `*Connection` without one.
  So asking for 100 orders with their line items costs what it would really cost: a lot.
- `bucket(account)`: the account's `CreditBucket` (size `credits_max`, `credits_per_second`), kept in
  this process's memory like the fault buckets (a rate, not state; a restart starts full).
- `reset()`: forget every bucket (tests, the control functions).

`monotonic` is the buckets' clock, a module attribute so tests can drive time by hand.
"""

from __future__ import annotations

import math
import threading
import time

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    value_from_ast_untyped,
)
from graphql.utilities import get_operation_ast

DEFAULT_PAGE = 100

monotonic = time.monotonic
_lock = threading.Lock()
_buckets: dict[int, CreditBucket] = {}


class CreditBucket:
    def __init__(self, capacity: int, rate: float):
        self.capacity = int(capacity)
        self.rate = float(rate)
        self.credits = float(capacity)
        self.stamp = monotonic()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = monotonic()
        self.credits = min(self.capacity, self.credits + (now - self.stamp) * self.rate)
        self.stamp = now

    def remaining(self) -> int:
        with self._lock:
            self._refill()
            return int(self.credits)

    def take(self, cost: int) -> tuple[bool, int, int]:
        """(taken, credits remaining, whole seconds until `cost` credits are there)."""
        with self._lock:
            self._refill()
            if cost <= self.credits:
                self.credits -= cost
                return True, int(self.credits), 0
            wait = math.ceil((cost - self.credits) / self.rate) if self.rate > 0 else 0
            return False, int(self.credits), max(1, wait)


def bucket(account) -> CreditBucket:
    with _lock:
        found = _buckets.get(account.pk)
        if found is None or (found.capacity, found.rate) != (account.credits_max, account.credits_per_second):
            found = _buckets[account.pk] = CreditBucket(account.credits_max, account.credits_per_second)
        return found


def reset() -> None:
    with _lock:
        _buckets.clear()


def _arguments(node: FieldNode, variables: dict) -> dict:
    return {arg.name.value: value_from_ast_untyped(arg.value, variables) for arg in node.arguments or ()}


def _cost(
    selection_set: SelectionSetNode | None, parent, schema: GraphQLSchema, fragments: dict, variables: dict
) -> int:
    if selection_set is None or not isinstance(parent, GraphQLObjectType):
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += field_cost(selection, parent, schema, fragments, variables)
        elif isinstance(selection, InlineFragmentNode):
            condition = schema.get_type(selection.type_condition.name.value) if selection.type_condition else parent
            total += _cost(selection.selection_set, condition, schema, fragments, variables)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                condition = schema.get_type(fragment.type_condition.name.value)
                total += _cost(fragment.selection_set, condition, schema, fragments, variables)
    return total


def field_cost(node: FieldNode, parent: GraphQLObjectType, schema, fragments, variables) -> int:
    name = node.name.value
    if name.startswith("__"):
        return 0
    definition = parent.fields.get(name)
    if definition is None:
        return 1
    named = get_named_type(definition.type)
    inner = _cost(node.selection_set, named, schema, fragments, variables)
    arguments = _arguments(node, variables)
    size = arguments.get("first") or arguments.get("last")
    if not isinstance(size, int) or size < 0:
        size = DEFAULT_PAGE if named.name.endswith("Connection") else 1
    return 1 + size * inner


def estimate(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None, variables: dict | None
) -> dict[str, int]:
    """The cost of each top-level field of the operation, by response key (alias or name)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return {}
    root = schema.mutation_type if operation.operation.value == "mutation" else schema.query_type
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    costs: dict[str, int] = {}
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode):
            key = selection.alias.value if selection.alias else selection.name.value
            costs[key] = costs.get(key, 0) + field_cost(selection, root, schema, fragments, variables or {})
    return costs


def analyzed(document: DocumentNode, operation_name: str | None, variables: dict | None) -> set[str]:
    """Response keys of the top-level fields asked with ``analyze: true`` (costed, not executed)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return set()
    return {
        (s.alias.value if s.alias else s.name.value)
        for s in operation.selection_set.selections
        if isinstance(s, FieldNode) and _arguments(s, variables or {}).get("analyze") is True
    }
