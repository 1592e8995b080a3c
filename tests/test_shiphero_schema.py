"""The vendored ShipHero schema: it builds, it holds what the hub relies on, and `validate` refuses
what the real schema would refuse (unknown fields and arguments, wrong types, missing required)."""

from graphql import GraphQLNonNull, parse

from connectors.shiphero import schema as sh_schema


def test_the_sdl_builds_once_with_query_and_mutation_roots():
    built = sh_schema.schema()
    assert built is sh_schema.schema()
    assert built.query_type.name == "Query" and built.mutation_type.name == "Mutation"


def test_the_subset_keeps_the_real_names_and_nullability():
    built = sh_schema.schema()
    query = built.query_type.fields
    assert set(query) >= {"account", "uuid", "order", "orders", "shipments", "warehouse_products"}
    assert isinstance(query["order"].args["id"].type, GraphQLNonNull)
    assert isinstance(query["uuid"].args["legacy_id"].type, GraphQLNonNull)
    assert {"partner_order_id", "updated_from", "warehouse_id", "customer_account_id"} <= set(query["orders"].args)
    create = built.get_type("CreateOrderInput").fields
    assert isinstance(create["shipping_address"].type, GraphQLNonNull)
    line = built.get_type("CreateLineItemInput").fields
    assert all(
        isinstance(line[name].type, GraphQLNonNull) for name in ("sku", "partner_line_item_id", "quantity", "price")
    )
    for wrapper in ("OrderQueryResult", "OrdersQueryResult", "ShipmentsQueryResult", "OrderMutationOutput"):
        assert {"request_id", "complexity"} <= set(built.get_type(wrapper).fields)


def test_a_valid_document_has_no_errors():
    document = """
      query($ref: String) { orders(partner_order_id: $ref) { request_id complexity
        data(first: 2) { pageInfo { hasNextPage endCursor } edges { node { id legacy_id order_number } } } } }
    """
    assert sh_schema.validate(document) == []
    assert sh_schema.validate(parse(document)) == []


def test_unknown_fields_arguments_and_wrong_types_are_refused():
    assert sh_schema.validate("{ orders { data { edges { node { no_such_field } } } } }")
    assert sh_schema.validate("{ orders(no_such_filter: 1) { request_id } }")
    assert sh_schema.validate("{ order { request_id } }")  # id: String! missing
    assert sh_schema.validate("query($id: Int!) { order(id: $id) { request_id } }")  # Int for String!
    assert sh_schema.validate(
        "{ orders { data { edges { node { line_items { edges { node { product { sku } } } } } } } } }"
    )


def test_a_syntax_error_is_one_error_not_an_exception():
    errors = sh_schema.validate("{ orders { ")
    assert len(errors) == 1 and "Syntax Error" in errors[0].message
