"""Predicates on decoded JSON values, shared by the clients' checks of what a server answered."""

from __future__ import annotations

import math
from typing import Any


def is_int(value: Any) -> bool:
    """True for a JSON integer: an ``int``, but not ``True``/``False`` (``bool`` is an ``int`` in Python)."""
    return isinstance(value, int) and not isinstance(value, bool)


def finite_number(value: Any) -> bool:
    """True for a JSON number that is not NaN or infinite (booleans are not numbers)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
