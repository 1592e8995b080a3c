"""connectors.shapes: the JSON predicates the clients and wire models share."""

import math

import pytest

from connectors.shapes import finite_number, is_int


@pytest.mark.parametrize(
    "value, expected", [(0, True), (-3, True), (10**40, True), (True, False), (1.0, False), ("1", False), (None, False)]
)
def test_is_int(value, expected):
    assert is_int(value) is expected


@pytest.mark.parametrize(
    "value, expected",
    [
        (0, True),
        (2.5, True),
        (-1e300, True),
        (math.nan, False),
        (math.inf, False),
        (-math.inf, False),
        (False, False),
        ("1", False),
    ],
)
def test_finite_number(value, expected):
    assert finite_number(value) is expected
