"""connectors.shiphero.operations: every document is valid against the vendored schema (checked at
import), a document the schema refuses cannot be compiled, and values never go into the text."""

import pytest

from connectors.shiphero import operations
from connectors.shiphero import schema as sh_schema


@pytest.mark.parametrize("operation", operations.OPERATIONS, ids=lambda op: op.name)
def test_every_document_validates_against_the_schema(operation):
    assert sh_schema.validate(operation.document) == []
    assert sh_schema.validate(operation.text) == []


@pytest.mark.parametrize("operation", operations.OPERATIONS, ids=lambda op: op.name)
def test_documents_take_values_only_as_variables(operation):
    definition = operation.document.definitions[0]
    names = [v.variable.name.value for v in definition.variable_definitions]
    assert len(names) == len(set(names))
    # No literal values at all: every argument of the root field is a $variable (entity: Order is an enum).
    root = definition.selection_set.selections[0]
    for argument in root.arguments:
        assert argument.value.kind in ("variable", "enum_value"), argument.name.value


def test_queries_and_mutations_and_their_roots():
    assert operations.CREATE_ORDER.is_mutation and operations.CREATE_ORDER.root == "order_create"
    assert operations.CANCEL_ORDER.is_mutation and operations.CANCEL_ORDER.root == "order_cancel"
    assert not operations.ORDERS_UPDATED_SINCE.is_mutation and operations.ORDERS_UPDATED_SINCE.root == "orders"
    assert {op.name for op in operations.OPERATIONS} == {
        "Order",
        "LegacyOrderId",
        "OrdersByReference",
        "OrdersUpdatedSince",
        "WarehouseStock",
        "UserQuota",
        "CreateOrder",
        "CancelOrder",
    }


def test_a_document_the_schema_refuses_fails_loudly():
    with pytest.raises(operations.InvalidDocument, match="no_such_field"):
        operations.compile_operation("query Bad { orders { data { edges { node { no_such_field } } } } }")
    with pytest.raises(operations.InvalidDocument, match="Syntax Error"):
        operations.compile_operation("query Broken { orders { ")
    with pytest.raises(operations.InvalidDocument, match="exactly one named operation"):
        operations.compile_operation("{ account { request_id } }")


def test_the_module_refuses_at_import_time(monkeypatch):
    """Importing operations with a schema that lacks a field they use raises, before any call."""
    import importlib

    from graphql import build_schema

    narrowed = sh_schema.SDL_PATH.read_text().replace("  updated_at: ISODateTime  # newer codegen only\n", "")
    monkeypatch.setattr(sh_schema, "schema", lambda: build_schema(narrowed))
    # ValueError: reloading defines InvalidDocument (a ValueError) anew before it raises it.
    with pytest.raises(ValueError, match="Cannot query field 'updated_at' on type 'Order'"):
        importlib.reload(operations)
    monkeypatch.undo()
    importlib.reload(operations)  # back to the real schema for the other tests
