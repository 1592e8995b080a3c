"""connectors.wire: the strict scalar types of the wire models and the messages their errors become."""

from __future__ import annotations

import math
from typing import Annotated

import pytest
from pydantic import BeforeValidator, Field

from connectors.wire import (
    LooseText,
    NonBlankText,
    NonNegativeInt,
    OptionalText,
    PositiveInt,
    Text,
    TextOrEmpty,
    WireBool,
    WireError,
    WireInt,
    WireModel,
    falsy_as,
    got,
    object_or_none,
    path_of,
    validate,
)


class Inner(WireModel):
    count: WireInt


class Outer(WireModel):
    order_id: PositiveInt = Field(alias="orderId")
    flag: WireBool = False
    name: Text = ""
    inner: Annotated[Inner | None, BeforeValidator(object_or_none)] = None
    inners: list[Inner] = Field(default_factory=list)


def problems(kind, value, **kwargs) -> list[str]:
    with pytest.raises(WireError) as caught:
        validate(kind, value, **kwargs)
    return caught.value.problems


@pytest.mark.parametrize(
    "value, words",
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (-2, "-2"),
        (1.5, "1.5"),
        (math.nan, "nan"),
        (10**50, "a number of 51 digits"),
        ("2", "text '2'"),
        ("", "empty text"),
        ("  ", "blank text"),
        ("x" * 50, "text '" + "x" * 40 + "…'"),
        ([], "an empty list"),
        ([1], "a list"),
        ({"a": 1}, "an object"),
        (b"x", "bytes"),
    ],
)
def test_got_says_what_came_in_json_words(value, words):
    assert got(value) == words


@pytest.mark.parametrize(
    "kind, value, message",
    [
        (WireInt, True, "expected an integer, got true"),
        (WireInt, 1.0, "expected an integer, got 1.0"),
        (WireInt, "1", "expected an integer, got text '1'"),
        (PositiveInt, 0, "expected a positive integer, got 0"),
        (PositiveInt, None, "expected a positive integer, got null"),
        (NonNegativeInt, -1, "expected an integer of 0 or more, got -1"),
        (WireBool, "true", "expected true or false, got text 'true'"),
        (WireBool, 1, "expected true or false, got 1"),
        (Text, 5, "expected text, got 5"),
        (Text, None, "expected text, got null"),
        (OptionalText, [], "expected text, got an empty list"),
        (NonBlankText, " ", "expected non-blank text, got blank text"),
    ],
)
def test_strict_scalars_refuse_what_json_would_not_call_them(kind, value, message):
    assert problems(kind, value) == [message]


def test_accepted_scalars():
    assert validate(WireInt, -3) == -3 and validate(PositiveInt, 7) == 7 and validate(NonNegativeInt, 0) == 0
    assert validate(WireBool, False) is False and validate(Text, "") == ""
    assert validate(OptionalText, None) == "" and validate(NonBlankText, " a ") == " a "


@pytest.mark.parametrize(
    "kind, value, expected",
    [
        (LooseText, None, ""),
        (LooseText, 0, ""),
        (LooseText, 97, "97"),
        (LooseText, "x", "x"),
        (TextOrEmpty, 5, ""),
        (TextOrEmpty, "x", "x"),
    ],
)
def test_lenient_text_never_fails(kind, value, expected):
    assert validate(kind, value) == expected


def test_errors_name_each_field_by_its_json_path():
    assert problems(
        Outer, {"orderId": -2, "flag": None, "inners": [{"count": 1}, {"count": "x"}, 3]}, root="orders[3]"
    ) == [
        "orders[3].orderId: expected a positive integer, got -2",
        "orders[3].flag: expected true or false, got null",
        "orders[3].inners[1].count: expected an integer, got text 'x'",
        "orders[3].inners[2]: expected an object, got 3",
    ]
    assert problems(Outer, {}) == ["orderId: missing"]
    assert problems(Outer, "order") == ["expected an object, got text 'order'"]
    assert problems(list[Outer], {"orderId": 1}, root="orders") == ["orders: expected a list, got an object"]


def test_blocks_that_are_not_objects_can_read_as_absent():
    assert validate(Outer, {"orderId": 1, "inner": "x"}).inner is None
    assert validate(Outer, {"orderId": 1, "inner": {"count": 2}}).inner == Inner(count=2)


def test_falsy_as_reads_null_and_empty_as_the_default():
    kind = Annotated[list[int], falsy_as(list)]
    assert validate(kind, None) == [] and validate(kind, 0) == [] and validate(kind, [1]) == [1]


def test_a_note_follows_the_path():
    assert problems(Outer, {"orderId": 0}, note=lambda loc: " (here)") == [
        "orderId (here): expected a positive integer, got 0"
    ]


def test_the_message_lists_five_problems_and_counts_the_rest():
    error = WireError([f"f{n}: bad" for n in range(8)])
    assert str(error) == "f0: bad; f1: bad; f2: bad; f3: bad; f4: bad (and 3 more)"
    assert error.problems[7] == "f7: bad"


def test_paths_quote_keys_that_are_not_names():
    assert path_of(("_embedded", "http://api.3plCentral.com/rels/orders/order", 0, "readOnly")) == (
        "_embedded['http://api.3plCentral.com/rels/orders/order'][0].readOnly"
    )
    assert path_of(("$type",)) == "$type" and path_of((), "orders") == "orders" and path_of((2,)) == "[2]"


def test_models_are_frozen_and_read_by_name_or_alias():
    outer = Outer(order_id=1)
    assert outer == validate(Outer, {"orderId": 1})
    with pytest.raises(ValueError):
        outer.flag = True  # type: ignore[misc]
