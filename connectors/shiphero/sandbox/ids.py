"""The ids of ShipHero's wire: relay-style global ids, page cursors, request ids.

- `global_id("Order", 42)` -> ``"T3JkZXI6NDI="``: base64 of ``"<Type>:<legacy_id>"``, as ShipHero's
  ids are (the documented Shipment Update webhook pairs ``"shipment_id": 315518042`` with
  ``"shipment_uuid": "U2hpcG1lbnQ6MzE1NTE4MDQy"``, which is ``Shipment:315518042``).
- `legacy_id("Order", text)` -> 42, or None when `text` is not an id of that type (a number, another
  type's id, garbage): the sandbox takes only the ids it handed out, never a legacy number.
- `cursor(offset)` / `offset(cursor)`: graphene's relay cursors (``arrayconnection:<offset>``); the
  API is graphene (its schema has graphene's `GenericScalar`).
- `request_id()`: 24 hex digits, like the documented ``"request_id": "5da7dc13f3079f0def208711"``.
"""

from __future__ import annotations

import base64
import binascii
import secrets


def global_id(type_name: str, pk: int | None) -> str | None:
    if pk is None:
        return None
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def legacy_id(type_name: str, value) -> int | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    name, sep, number = decoded.partition(":")
    if not sep or name != type_name or not number.isdigit():
        return None
    return int(number)


def cursor(position: int) -> str:
    return base64.b64encode(f"arrayconnection:{position}".encode()).decode()


def offset(value: str) -> int | None:
    """The position a cursor names; None when it is not a cursor of ours."""
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        return None
    prefix, sep, number = decoded.partition(":")
    if prefix != "arrayconnection" or not sep or not number.isdigit():
        return None
    return int(number)


def request_id() -> str:
    return secrets.token_hex(12)
