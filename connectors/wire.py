"""The base of the wire models: pydantic 2 models of what the outside services answer, and the
plain-words messages their validation errors become.

Contract:
- ``WireModel`` is the base class of every wire model: fields are read by their wire names
  (aliases; the Python names work too, for tests and callers), unknown keys are ignored (the
  services add fields), instances are frozen.
- The scalar types below are strict where JSON is: a boolean is never a number, text is never
  read as a number (nor a number as text, unless a model says so). Each failure says what was
  expected and what came instead, e.g. ``expected a positive integer, got -2``.
- ``validate(kind, value, root=...)`` validates ``value`` as ``kind`` (a model or any type, such
  as ``list[Model]``) and raises ``WireError`` whose problems each name the field by its JSON
  path, e.g. ``orders[3].orderItems[0].quantityOrdered: expected a positive integer, got -2``.
  The clients turn a ``WireError`` into ``MalformedResponse`` naming the call.
- Nothing here knows a service: the models of each service live next to its client.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainValidator, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from connectors.shapes import is_int

__all__ = [
    "WireModel",
    "WireError",
    "validate",
    "got",
    "fail",
    "problem",
    "WireInt",
    "PositiveInt",
    "NonNegativeInt",
    "WireBool",
    "Text",
    "OptionalText",
    "NonBlankText",
    "LooseText",
    "TextOrEmpty",
    "object_or_none",
    "falsy_as",
]

# How many problems one message lists; the rest are counted.
MAX_PROBLEMS = 5
# How much of a value a message quotes (values may be long; the field is what matters).
QUOTE_CHARS = 40


class WireModel(BaseModel):
    """Base of the wire models (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="ignore", validate_by_alias=True, validate_by_name=True)


class WireError(ValueError):
    """An answer that does not have the shape its model states; ``problems`` name each bad field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems) or ["unreadable"]
        shown = "; ".join(self.problems[:MAX_PROBLEMS])
        more = len(self.problems) - MAX_PROBLEMS
        super().__init__(shown + (f" (and {more} more)" if more > 0 else ""))


def got(value: Any) -> str:
    """What came instead, in JSON's words: ``null``, ``true``, ``-2``, ``text '2'``, ``a list``..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        text = str(value)
        return text if len(text) <= QUOTE_CHARS else f"a number of {len(text)} digits"
    if isinstance(value, str):
        if not value.strip():
            return "blank text" if value else "empty text"
        quoted = value if len(value) <= QUOTE_CHARS else value[:QUOTE_CHARS] + "…"
        return f"text {quoted!r}"
    if isinstance(value, (list, tuple)):
        return "an empty list" if not value else "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def fail(kind: str, expected: str, value: Any) -> PydanticCustomError:
    """The error of a field that is not what it should be: ``expected {expected}, got {value}``."""
    return PydanticCustomError(
        f"wire_{kind}", "expected {expected}, got {got}", {"expected": expected, "got": got(value)}
    )


def problem(kind: str, message: str) -> PydanticCustomError:
    """The error of a field, in other words than ``fail``'s (e.g. ``contains a NUL byte``)."""
    return PydanticCustomError(f"wire_{kind}", message)  # without a context, the text is taken as it is


def _wire_int(value: Any) -> int:
    if not is_int(value):
        raise fail("int_type", "an integer", value)
    return value


def _positive_int(value: Any) -> int:
    if not is_int(value) or value <= 0:
        raise fail("positive_int", "a positive integer", value)
    return value


def _non_negative_int(value: Any) -> int:
    if not is_int(value) or value < 0:
        raise fail("non_negative_int", "an integer of 0 or more", value)
    return value


def _wire_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise fail("bool_type", "true or false", value)
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise fail("text_type", "text", value)
    return value


def _optional_text(value: Any) -> str:
    return "" if value is None else _text(value)


def _non_blank_text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise fail("text_type", "non-blank text", value)
    return value


def _loose_text(value: Any) -> str:
    # Read the way `str(x or "")` reads a field whose type the service does not fix.
    if not value:
        return ""
    return value if isinstance(value, str) else str(value)


def _text_or_empty(value: Any) -> str:
    return value if isinstance(value, str) else ""


WireInt = Annotated[int, PlainValidator(_wire_int)]
PositiveInt = Annotated[int, PlainValidator(_positive_int)]
NonNegativeInt = Annotated[int, PlainValidator(_non_negative_int)]
WireBool = Annotated[bool, PlainValidator(_wire_bool)]
Text = Annotated[str, PlainValidator(_text)]
"""Any JSON string, as sent."""
OptionalText = Annotated[str, PlainValidator(_optional_text)]
"""A JSON string or null (read as "")."""
NonBlankText = Annotated[str, PlainValidator(_non_blank_text)]
LooseText = Annotated[str, PlainValidator(_loose_text)]
"""Whatever came, as text ("" for null, false, 0 and empty values): for fields only shown to people."""
TextOrEmpty = Annotated[str, PlainValidator(_text_or_empty)]
"""A JSON string, or "" when anything else came: for fields the hub tolerates being unreadable."""


def object_or_none(value: Any) -> Any:
    """Before-validator: anything but a JSON object reads as absent (for blocks the hub only
    uses when they are there, and does not refuse an answer over)."""
    return value if isinstance(value, dict) else None


def falsy_as(default: Callable[[], Any]) -> BeforeValidator:
    """Before-validator: null and empty values read as ``default()`` (``x or default`` on the wire)."""
    return BeforeValidator(lambda value: value if value else default())


# -- validation and its messages ---------------------------------------------------------------

_STRUCTURE_WORDS = {
    "model_type": "an object",
    "model_attributes_type": "an object",
    "dict_type": "an object",
    "list_type": "a list",
    "tuple_type": "a list",
}


@lru_cache(maxsize=128)
def _adapter(kind: Any) -> TypeAdapter:
    return TypeAdapter(kind)


def validate(
    kind: Any,
    value: Any,
    *,
    root: str = "",
    context: dict | None = None,
    note: Callable[[tuple], str] | None = None,
) -> Any:
    """``value`` validated as ``kind``, or ``WireError`` naming each bad field from ``root``.

    ``note(loc)`` may add a few words after a field's path (e.g. which item it belongs to).
    """
    try:
        return _adapter(kind).validate_python(value, context=context)
    except ValidationError as exc:
        raise WireError(problems(exc, root=root, note=note)) from None


def problems(error: ValidationError, *, root: str = "", note: Callable[[tuple], str] | None = None) -> list[str]:
    """Each error of ``error`` as ``path: what was wrong``."""
    found = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        path = path_of(loc, root) + (note(loc) if note else "")
        found.append(f"{path}: {_words(item)}" if path else _words(item))
    return found


def path_of(loc: tuple, root: str = "") -> str:
    """``("orderItems", 0, "quantityOrdered")`` as ``orderItems[0].quantityOrdered``."""
    path = root
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and part.replace("_", "a").replace("$", "a").isidentifier():
            path += f".{part}" if path else part
        else:
            path += f"[{part!r}]"
    return path


def _words(item: dict) -> str:
    kind = item["type"]
    if kind == "missing":
        return "missing"
    if kind in _STRUCTURE_WORDS:
        return f"expected {_STRUCTURE_WORDS[kind]}, got {got(item.get('input'))}"
    if kind.startswith("wire_"):
        return item["msg"]  # one of ours (`fail`, `problem`): it says what came already
    return f"{item['msg']} (got {got(item.get('input'))})"
