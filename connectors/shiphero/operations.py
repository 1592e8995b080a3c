"""Every GraphQL document the ShipHero client sends, static, parsed and validated against the
vendored schema (`connectors.shiphero.schema`) when this module is imported.

Contract:
- each document is a constant `Operation`: its name, its text, whether it is a mutation and the
  root field its answer is under (`data.<root>`); values only ever travel as `variables`, never
  in the text (there is no string formatting of documents anywhere);
- `compile_operation(text)` parses one document and checks it against the schema, raising
  `InvalidDocument` listing the schema's complaints: a document the real schema would refuse
  makes this module fail to import, before any call is made;
- every query asks for `request_id` and `complexity` (ShipHero's advice, S3 of
  schema/SOURCE.md): `complexity` is what `connectors.shiphero.credits` paces by.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import DocumentNode, OperationDefinitionNode, OperationType, parse

from connectors.shiphero.schema import validate

__all__ = [
    "CANCEL_ORDER",
    "CREATE_ORDER",
    "LEGACY_ORDER_ID",
    "OPERATIONS",
    "ORDER",
    "ORDERS_BY_REFERENCE",
    "ORDERS_UPDATED_SINCE",
    "USER_QUOTA",
    "WAREHOUSE_STOCK",
    "InvalidDocument",
    "Operation",
    "compile_operation",
]


class InvalidDocument(ValueError):
    """A document that does not parse, or that the vendored schema refuses."""


@dataclass(frozen=True)
class Operation:
    name: str
    text: str
    document: DocumentNode
    is_mutation: bool
    root: str  # the field of `data` the answer is under


def compile_operation(text: str) -> Operation:
    """`text` parsed and validated (see the module docstring); one named operation per document."""
    errors = validate(text)
    if errors:
        raise InvalidDocument("ShipHero schema refuses the document: " + "; ".join(e.message for e in errors))
    document = parse(text)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].name is None:
        raise InvalidDocument("a document must hold exactly one named operation")
    operation = operations[0]
    roots = [selection.name.value for selection in operation.selection_set.selections]
    if len(roots) != 1:
        raise InvalidDocument(f"operation {operation.name.value} must select exactly one root field")
    return Operation(
        name=operation.name.value,
        text=text.strip(),
        document=document,
        is_mutation=operation.operation is OperationType.MUTATION,
        root=roots[0],
    )


# What the hub reads of an order: its two ids, our reference, its state, our tag, and every
# shipment with every label (one label per package: its tracking number, carrier and method).
ORDER_FIELDS = """
fragment OrderFields on Order {
  id
  legacy_id
  order_number
  partner_order_id
  fulfillment_status
  order_date
  updated_at
  tags
  shipping_lines { carrier method }
  shipments {
    id
    legacy_id
    warehouse_id
    created_date
    shipping_labels {
      id
      tracking_number
      carrier
      shipping_method
      shipping_name
      status
      refunded
      created_date
    }
  }
}
"""

ORDER = compile_operation(
    """
query Order($id: String!) {
  order(id: $id) {
    request_id
    complexity
    data { ...OrderFields }
  }
}
"""
    + ORDER_FIELDS
)

LEGACY_ORDER_ID = compile_operation(
    """
query LegacyOrderId($legacy_id: Int!) {
  uuid(legacy_id: $legacy_id, entity: Order) {
    request_id
    complexity
    data { id legacy_id }
  }
}
"""
)

ORDERS_BY_REFERENCE = compile_operation(
    """
query OrdersByReference($partner_order_id: String, $customer_account_id: String, $first: Int) {
  orders(partner_order_id: $partner_order_id, customer_account_id: $customer_account_id) {
    request_id
    complexity
    data(first: $first) {
      edges { node { ...OrderFields } }
    }
  }
}
"""
    + ORDER_FIELDS
)

ORDERS_UPDATED_SINCE = compile_operation(
    """
query OrdersUpdatedSince($updated_from: ISODateTime, $customer_account_id: String, $first: Int, $after: String) {
  orders(updated_from: $updated_from, customer_account_id: $customer_account_id) {
    request_id
    complexity
    data(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { cursor node { ...OrderFields } }
    }
  }
}
"""
    + ORDER_FIELDS
)

WAREHOUSE_STOCK = compile_operation(
    """
query WarehouseStock($warehouse_id: String, $customer_account_id: String, $first: Int, $after: String) {
  warehouse_products(warehouse_id: $warehouse_id, customer_account_id: $customer_account_id) {
    request_id
    complexity
    data(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { node { id sku warehouse_id on_hand available allocated backorder active } }
    }
  }
}
"""
)

USER_QUOTA = compile_operation(
    """
query UserQuota {
  user_quota { credits_remaining max_available increment_rate }
}
"""
)

CREATE_ORDER = compile_operation(
    """
mutation CreateOrder($data: CreateOrderInput!) {
  order_create(data: $data) {
    request_id
    complexity
    order { ...OrderFields }
  }
}
"""
    + ORDER_FIELDS
)

CANCEL_ORDER = compile_operation(
    """
mutation CancelOrder($data: CancelOrderInput!) {
  order_cancel(data: $data) {
    request_id
    complexity
    order { ...OrderFields }
  }
}
"""
    + ORDER_FIELDS
)

OPERATIONS = (
    ORDER,
    LEGACY_ORDER_ID,
    ORDERS_BY_REFERENCE,
    ORDERS_UPDATED_SINCE,
    WAREHOUSE_STOCK,
    USER_QUOTA,
    CREATE_ORDER,
    CANCEL_ORDER,
)
