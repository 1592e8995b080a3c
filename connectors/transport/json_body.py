"""Reading a JSON body strictly: typed errors for what is not JSON, flags for repeated keys.

Contract:
- ``parse_json(answer, service=, method=, path=)`` returns the parsed body of an ``Answer`` (or
  anything with ``status_code``, ``headers``, ``content`` and ``text``), or raises
  ``MalformedResponse`` saying plainly what came instead: an empty answer, an HTML page (a wrong
  base URL, a login page), invalid JSON, NaN or Infinity (not JSON, though Python's ``json``
  accepts them);
- a JSON object whose text repeats a key becomes a ``JsonObject`` (a dict keeping the last value,
  as ``json`` does) whose ``duplicate_keys`` names the repeated keys; every other object is a plain
  dict. ``duplicate_keys_in(value)`` lists the dotted paths of every repeated key inside a parsed
  value, so a caller can refuse such a record instead of silently taking the last value.
"""

from __future__ import annotations

import json as jsonlib
from typing import Any

from connectors.errors import MalformedResponse
from connectors.redaction import excerpt, strip_query

__all__ = ["JsonObject", "duplicate_keys_in", "parse_json"]


def parse_json(answer, *, service: str = "the server", method: str = "", path: str = "") -> Any:
    """The JSON body of ``answer``, or ``MalformedResponse`` saying plainly what came instead."""
    where = f"{method} {strip_query(path)}".strip()
    service = service[:1].upper() + service[1:]
    content = answer.content or b""
    content_type = answer.headers.get("Content-Type", "")
    common = {"status": answer.status_code, "method": method or None, "path": path or None}
    if not content.strip():
        raise MalformedResponse(f"{service} sent an empty answer to {where} where JSON was expected", **common)
    head = content.lstrip()[:1]
    if "html" in content_type.lower() or head == b"<":
        raise MalformedResponse(
            f"{service} sent an HTML page instead of JSON for {where} (is the base URL right?)",
            body_excerpt=excerpt(answer.text),
            **common,
        )

    def reject_constant(name: str):
        raise ValueError(f"{name} is not valid JSON")

    try:
        return jsonlib.loads(content, parse_constant=reject_constant, object_pairs_hook=_json_object)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedResponse(
            f"{service} sent invalid JSON for {where} ({type(exc).__name__})",
            body_excerpt=excerpt(answer.text),
            **common,
        ) from None


class JsonObject(dict):
    """A JSON object whose text repeated some keys: ``duplicate_keys`` names them (the value kept is
    the last, as ``json`` does). Only such objects get this type; every other object is a plain dict."""

    duplicate_keys: tuple[str, ...] = ()


def _json_object(pairs: list[tuple[str, Any]]) -> dict:
    result = dict(pairs)
    if len(result) == len(pairs):
        return result
    seen: set[str] = set()
    repeated = [key for key, _ in pairs if key in seen or seen.add(key)]
    flagged = JsonObject(result)
    flagged.duplicate_keys = tuple(dict.fromkeys(repeated))
    return flagged


def duplicate_keys_in(value: Any, *, path: str = "") -> list[str]:
    """Dotted paths of every repeated key inside ``value`` as parsed by ``parse_json`` (``[]`` when none)."""
    found: list[str] = []
    if isinstance(value, dict):
        found.extend(f"{path}{key}" for key in getattr(value, "duplicate_keys", ()))
        for key, item in value.items():
            found.extend(duplicate_keys_in(item, path=f"{path}{key}."))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(duplicate_keys_in(item, path=f"{path}{index}."))
    return found
