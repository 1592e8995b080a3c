"""connectors.shiphero.errors: GraphQL `errors` entries read and mapped to transient/permanent."""

import pickle

import pytest

from connectors.errors import NotFound, RateLimited, RequestRejected
from connectors.shiphero import errors
from tests.shiphero_answers import error, throttled


def test_problems_are_read_from_the_documented_shape():
    [problem] = errors.problems_in(error("Order not found", code=5))
    assert (problem.message, problem.code, problem.field, problem.request_id) == (
        "Order not found",
        5,
        "op",
        "5f0c0ffee0000000000000bb",
    )
    assert errors.problems_in({"data": {}}) == []
    assert errors.problems_in({"errors": "boom"})[0].message.startswith("unreadable errors")
    assert errors.problems_in({"errors": [42]})[0].message == "42"


def test_throttle_fields_are_read_beside_code_or_under_extensions():
    [top] = errors.problems_in(throttled(wait="10 seconds", required=700, remaining=3))
    assert (top.code, top.time_remaining, top.required_credits, top.remaining_credits) == (30, 10.0, 700.0, 3.0)
    nested = {"errors": [{"message": "x", "extensions": {"code": "30", "time_remaining": 4, "required_credits": 9}}]}
    [under] = errors.problems_in(nested)
    assert (under.code, under.time_remaining, under.required_credits) == (30, 4.0, 9.0)


@pytest.mark.parametrize(
    "value, seconds",
    [
        ("10 seconds", 10.0),
        ("2.5 s", 2.5),
        (7, 7.0),
        ("3", 3.0),
        ("soon", None),
        (-1, None),
        (True, None),
        (None, None),
    ],
)
def test_parse_wait(value, seconds):
    assert errors.parse_wait(value) == seconds


def test_code_30_is_transient_with_the_announced_wait():
    exc = errors.error_for(errors.problems_in(throttled(wait="8 seconds")), action="list orders", path="/graphql")
    assert isinstance(exc, RateLimited) and exc.transient and exc.retry_after == 8.0
    assert "wait 8 s" in str(exc)


def test_code_5_is_not_found_and_other_codes_are_permanent():
    assert isinstance(
        errors.error_for(errors.problems_in(error("Order not found", code=5)), action="a", path="/g"), NotFound
    )
    other = errors.error_for(errors.problems_in(error("Invalid warehouse", code=3)), action="create order X", path="/g")
    assert isinstance(other, RequestRejected) and not other.transient
    assert str(other) == "ShipHero refused to create order X: Invalid warehouse (code 3)"


def test_a_schema_refusal_says_the_schema_may_have_changed():
    body = {"errors": [{"message": "Cannot query field 'x' on type 'Order'.", "locations": [{"line": 1, "column": 3}]}]}
    exc = errors.error_for(errors.problems_in(body), action="read order 1", path="/graphql")
    assert isinstance(exc, RequestRejected) and "schema may have changed" in str(exc)


@pytest.mark.parametrize(
    "message, duplicate",
    [
        ("Order with partner_order_id OM-1 already exists", True),
        ("An order with this order number already exists", True),
        ("Duplicate partner_order_id", True),
        ("partner_line_item_id should be unique across the order's line items, already exists", False),
        ("Invalid sku", False),
    ],
)
def test_is_duplicate(message, duplicate):
    assert errors.is_duplicate(errors.problems_in(error(message, code=3))) is duplicate


def test_cancel_refusal_keeps_the_reason_and_pickles():
    exc = errors.cancel_refusal(
        errors.problems_in(error("Order has valid labels", code=3)), order_id=5001, path="/graphql"
    )
    assert isinstance(exc, errors.OrderNotCancellable) and exc.reason == "Order has valid labels (code 3)"
    again = pickle.loads(pickle.dumps(exc))
    assert again.reason == exc.reason and type(again) is errors.OrderNotCancellable


def test_the_refusals_are_the_ones_the_jobs_catch():
    from connectors.warehouse_manager import errors as wm_errors

    assert errors.DuplicateOrder is wm_errors.DuplicateOrder
    assert errors.OrderNotCancellable is wm_errors.OrderNotCancellable
