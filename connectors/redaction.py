"""Keep secrets and bulk out of logs, audit payloads and error messages.

- ``redact(value)``: a JSON-safe copy of a structure, with the values of secret-looking keys
  replaced by ``"***"``, secret-looking fragments inside strings masked, long strings and lists
  capped, and the whole result bounded by ``max_chars``.
- ``strip_query(url)``: the URL without query string and fragment.
- ``excerpt(text)``: a short, redacted excerpt of raw text (a response body, an exception
  message), masking ``"password": "..."``, ``password=...``, ``Authorization: ...`` and
  ``Bearer xyz`` patterns.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

MASK = "***"

# Substrings of key names whose values are secrets ("tpl" is the WMS 3PL key GUID).
SECRET_KEY_PATTERN = r"password|passwd|secret|token|authorization|api[_-]?key|client_secret|tpl|cookie"
_SECRET_KEY_RE = re.compile(SECRET_KEY_PATTERN, re.IGNORECASE)

# A key that contains one of the secret words, inside raw text.
_KEY = rf"[\w.-]*(?:{SECRET_KEY_PATTERN})[\w.-]*"
_TEXT_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # "password": "..."  /  'token': '...'  (JSON, Python reprs); escaped quotes stay inside.
    (re.compile(rf"""(["'])({_KEY})\1(\s*[:=]\s*)(["'])(?:\\.|(?!\4).)*\4""", re.IGNORECASE), rf"\1\2\1\3\4{MASK}\4"),
    # \"password\": \"...\"  (JSON embedded in a JSON string, quotes escaped once or more)
    (re.compile(rf"""(\\+["'])({_KEY})\1(\s*:\s*)\1.*?\1""", re.IGNORECASE), rf"\1\2\1\3\1{MASK}\1"),
    # "password": 12345 / null-less bare values in JSON
    (re.compile(rf"""(["'])({_KEY})\1(\s*:\s*)(?!["'\s])[^,}}\]\s]+""", re.IGNORECASE), rf"\1\2\1\3{MASK}"),
    # Authorization: Bearer xyz / Cookie: a=b (header-like lines), up to the end of line
    (
        re.compile(r"\b(authorization|proxy-authorization|cookie|set-cookie)(\s*:\s*)[^\r\n]+", re.IGNORECASE),
        rf"\1\2{MASK}",
    ),
    # Bearer / Basic credentials anywhere
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE), rf"\1 {MASK}"),
    # password=... in form bodies and query strings
    (re.compile(rf"""(?<![\w"'])({_KEY})=([^&\s"'<>]*)""", re.IGNORECASE), rf"\1={MASK}"),
]

# Every pattern above needs one of these words; text without any is returned as is, which spares
# the six scans on the bulk of audit payloads (names, addresses, SKUs), redacted by the thousand.
_TRIGGER_RE = re.compile(rf"{SECRET_KEY_PATTERN}|bearer|basic", re.IGNORECASE)

MAX_LIST_ITEMS = 100
MAX_STRING_CHARS = 1000


def is_secret_key(key: Any) -> bool:
    """True when a mapping key names a secret (password, token, client_secret, ...)."""
    return isinstance(key, str) and bool(_SECRET_KEY_RE.search(key))


def redact_text(text: str) -> str:
    """Mask secret-looking fragments inside free text, without shortening it."""
    if not _TRIGGER_RE.search(text):
        return text
    for pattern, replacement in _TEXT_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"… [{len(text) - limit} more chars]"


def excerpt(text: str | bytes | None, limit: int = 500) -> str:
    """A redacted excerpt of at most about ``limit`` characters of ``text``.

    Redaction runs before the cut so a secret straddling the limit is never half-shown.
    """
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return _cap(redact_text(str(text)), limit)


def strip_query(url: str) -> str:
    """``url`` without its query string and fragment (which may carry codes or filters)."""
    if not url:
        return url
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _safe(value: Any, depth: int) -> Any:
    if depth > 20:
        return "[nested too deep]"
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        # NaN and infinities are not JSON.
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, str):
        return _cap(redact_text(value), MAX_STRING_CHARS)
    if isinstance(value, bytes):
        return excerpt(value, MAX_STRING_CHARS)
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, Mapping):
        return {
            str(key): (MASK if is_secret_key(str(key)) and item is not None else _safe(item, depth + 1))
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
        capped = [_safe(item, depth + 1) for item in items[:MAX_LIST_ITEMS]]
        if len(items) > MAX_LIST_ITEMS:
            capped.append(f"[{len(items) - MAX_LIST_ITEMS} more items]")
        return capped
    return _cap(redact_text(str(value)), MAX_STRING_CHARS)


def redact(value: Any, *, max_chars: int = 4000) -> Any:
    """A JSON-safe, redacted, size-capped copy of ``value`` (nothing is mutated).

    When the serialised copy is still longer than ``max_chars``, a dict
    ``{"truncated": true, "excerpt": "<first max_chars chars of the JSON>"}`` is returned instead,
    so audit payloads stay bounded whatever the input.
    """
    safe = _safe(value, 0)
    text = json.dumps(safe, ensure_ascii=False, default=str)
    if len(text) <= max_chars:
        return safe
    return {"truncated": True, "excerpt": text[:max_chars]}
