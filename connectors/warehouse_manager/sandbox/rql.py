"""A small RQL (FIQL-like) parser for the sandbox WMS: `rql=` query values to Django `Q` objects.

Grammar, as the 3PL Warehouse Manager documents it: `,` is OR, `;` is AND (binding tighter), each
term is `selector operator value` with operators `==`, `!=`, `=gt=`, `=ge=`, `=lt=`, `=le=`,
`=in=(a,b)`, `=out=(a,b)`; `*` in an `==` value is a wildcard. Selectors are matched without regard
to case (the WMS accepts `ReadOnly.lastModifiedDate` and `readOnly.lastModifiedDate`). Values may
arrive percent-encoded a second time (the server decodes twice), so they are unquoted once more.

`parse(rql, fields)` takes a map selector (lower case) -> `Field(path, kind)` and raises `RqlError`
(answered as a 400 QueryParameterException) for anything it does not understand. A property the
map does not hold is refused with the real API's words, "Properties not supported: <name>"
(Njdonatelli/Extensiv-MCP-Server docs/research/api_reference_notes.md quoting the vendor's
Rels/exceptions page), so the sandbox supports only properties some real client is seen to use.
"""

import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q

OPERATORS = ("==", "!=", "=gt=", "=ge=", "=lt=", "=le=", "=in=", "=out=")
_TERM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(==|!=|=gt=|=ge=|=lt=|=le=|=in=|=out=)(.*)$", re.S)
_RANGE = {"=gt=": "gt", "=ge=": "gte", "=lt=": "lt", "=le=": "lte"}


class RqlError(ValueError):
    """An RQL expression the sandbox refuses; ``unsupported`` names a property it does not know."""

    def __init__(self, message: str, *, unsupported: str = "") -> None:
        super().__init__(message)
        self.unsupported = unsupported


@dataclass(frozen=True)
class Field:
    path: str
    convert: Callable[[str], object] = str
    wildcard: bool = False


def _split(text: str, separator: str) -> list[str]:
    """Split on `separator` outside parentheses (so `=in=(a,b)` stays whole)."""
    parts, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == separator and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _value(field: Field, raw: str):
    text = urllib.parse.unquote(raw.strip())
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1]
    try:
        return field.convert(text)
    except (TypeError, ValueError) as exc:
        raise RqlError(f"“{text}” is not a valid value for {field.path}: {exc}") from None


def _term(text: str, fields: dict[str, Field]) -> Q:
    match = _TERM.match(text)
    if not match:
        raise RqlError(f"Cannot parse RQL term “{text}”")
    selector, operator, raw = match.groups()
    field = fields.get(selector.lower())
    if field is None:
        raise RqlError(f"Properties not supported: {selector}", unsupported=selector)
    if operator in ("=in=", "=out="):
        inner = raw.strip()
        if not (inner.startswith("(") and inner.endswith(")")):
            raise RqlError(f"{operator} needs a parenthesised list: “{text}”")
        values = [_value(field, part) for part in inner[1:-1].split(",") if part.strip()]
        q = Q(**{f"{field.path}__in": values})
        return q if operator == "=in=" else ~q
    if operator in _RANGE:
        return Q(**{f"{field.path}__{_RANGE[operator]}": _value(field, raw)})
    if field.wildcard and "*" in raw:
        pattern = urllib.parse.unquote(raw.strip())
        core = pattern.strip("*")
        if "*" in core:
            raise RqlError(f"Only leading and trailing wildcards are supported: “{pattern}”")
        lookup = {
            (True, True): "contains",
            (False, True): "startswith",
            (True, False): "endswith",
            (False, False): "exact",
        }[(pattern.startswith("*"), pattern.endswith("*"))]
        q = Q(**{f"{field.path}__{lookup}": core})
    else:
        q = Q(**{field.path: _value(field, raw)})
    return q if operator == "==" else ~q


def parse(rql: str, fields: dict[str, Field]) -> Q:
    """The `Q` for an RQL expression; an empty expression matches everything."""
    if not rql or not rql.strip():
        return Q()
    result = Q()
    for alternative in _split(rql, ","):
        conjunction = Q()
        for term in _split(alternative, ";"):
            if term.strip():
                conjunction &= _term(term, fields)
        result |= conjunction
    return result
