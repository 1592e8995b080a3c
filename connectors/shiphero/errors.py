"""ShipHero's GraphQL error answers in plain words, mapped to the hub's transient/permanent taxonomy.

What is documented (docs/wire-protocols.md SH-10): a valid query is answered with HTTP 200 even
when it fails; the failures are in the top-level `errors` list, each with `message`,
`operation`, `field`, `request_id` and a numeric `code`, and the failed field is null in `data`
(developer.shiphero.com Error Glossary: `"Order not found"`, `code` 5). Code 30 is the
not-enough-credits refusal, with `required_credits`, `remaining_credits` and `time_remaining`
(e.g. `"10 seconds"`), read beside `code` or under `extensions` (definite-app/tap-shiphero
tap_shiphero/client.py reads both places). A query the schema refuses comes back as errors
without a `code` but with `locations` (GraphQL's own validation).

Contract:
- `problems_in(body)` reads the `errors` list into `Problem`s and never raises (an unreadable
  entry becomes a Problem with its text);
- `throttle_in(problems)` is the code-30 problem, if any, with its wait in seconds
  (`parse_wait`: a number, or text such as "10 seconds"; None when it names none);
- `error_for(problems, ...)`: code 30 is `RateLimited` (transient, `retry_after` the announced
  wait); code 5 is `NotFound`; a schema refusal and every other code are `RequestRejected`
  (permanent: the same document fails the same way). Codes other than 5 and 30 are not
  documented in the evidence found, so none is guessed transient;
- `is_duplicate(problems)`: a refusal of `order_create` because the `partner_order_id` (or
  order number) is taken. The message's wording is unverified, so it is matched loosely
  (`DUPLICATE_WORDS`) and only on `order_create` answers; the client then looks the existing
  order up and raises `connectors.wms.errors.DuplicateOrder` with it;
- `cancel_refusal(problems, ...)`: a permanent refusal of `order_cancel` as
  `OrderNotCancellable` with ShipHero's message as the reason.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.errors import ConnectorError, NotFound, RateLimited, RequestRejected
from connectors.redaction import excerpt
from connectors.wms.errors import DuplicateOrder, OrderNotCancellable

__all__ = [
    "DUPLICATE_WORDS",
    "NOT_FOUND_CODE",
    "THROTTLED_CODE",
    "DuplicateOrder",
    "OrderNotCancellable",
    "Problem",
    "cancel_refusal",
    "error_for",
    "is_duplicate",
    "parse_wait",
    "problems_in",
    "throttle_in",
]

NOT_FOUND_CODE = 5
THROTTLED_CODE = 30
# Words of a "this partner_order_id is taken" refusal (wording unverified: matched loosely).
DUPLICATE_WORDS = ("already exists", "already exist", "duplicate", "already been used", "already in use")
_DUPLICATE_SUBJECTS = ("partner_order_id", "partner order id", "order_number", "order number", "an order with")
_WAIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|secs|second|seconds)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    """One entry of a GraphQL answer's `errors`."""

    message: str
    code: int | None = None
    field: str = ""
    request_id: str = ""
    schema_refusal: bool = False  # GraphQL validation (has `locations`, no ShipHero code)
    time_remaining: float | None = None
    required_credits: float | None = None
    remaining_credits: float | None = None

    def words(self) -> str:
        code = f" (code {self.code})" if self.code is not None else ""
        return f"{self.message}{code}"


def parse_wait(value: Any) -> float | None:
    """Seconds from `time_remaining`: a number, or text like "10 seconds"; None when unusable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) and value >= 0 else None
    if isinstance(value, str):
        match = _WAIT.match(value)
        if match:
            return float(match.group(1))
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _code(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def problems_in(body: Any) -> list[Problem]:
    """The `errors` of a GraphQL answer (see the module docstring); [] when there are none."""
    raw = body.get("errors") if isinstance(body, Mapping) else None
    if not raw:
        return []
    if not isinstance(raw, list):
        return [Problem(message=f"unreadable errors: {excerpt(str(raw), 200)}")]
    found = []
    for entry in raw:
        if not isinstance(entry, Mapping):
            found.append(Problem(message=excerpt(str(entry), 200)))
            continue
        extensions = entry.get("extensions") if isinstance(entry.get("extensions"), Mapping) else {}

        def pick(name: str, _entry=entry, _ext=extensions) -> Any:
            return _entry.get(name) if _entry.get(name) is not None else _ext.get(name)

        message = entry.get("message")
        code = _code(pick("code"))
        found.append(
            Problem(
                message=excerpt(message.strip(), 300) if isinstance(message, str) and message.strip() else "no message",
                code=code,
                field=str(pick("field") or ""),
                request_id=str(pick("request_id") or ""),
                schema_refusal=code is None and "locations" in entry,
                time_remaining=parse_wait(pick("time_remaining")),
                required_credits=_number(pick("required_credits")),
                remaining_credits=_number(pick("remaining_credits")),
            )
        )
    return found


def throttle_in(problems: Sequence[Problem]) -> Problem | None:
    return next((p for p in problems if p.code == THROTTLED_CODE), None)


def _summary(problems: Sequence[Problem]) -> str:
    return "; ".join(p.words() for p in problems[:3]) + (
        f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    )


def error_for(problems: Sequence[Problem], *, action: str, path: str, body_text: str = "") -> ConnectorError:
    """The typed error for a GraphQL answer with `problems` (non-empty), for `action`."""
    common = {"status": 200, "method": "POST", "path": path, "body_excerpt": body_text}
    details = [p.__dict__ for p in problems]
    throttle = throttle_in(problems)
    if throttle is not None:
        wait = throttle.time_remaining
        return RateLimited(
            f"ShipHero is out of credits for this account while trying to {action}: {throttle.message}"
            + (f"; it asks to wait {wait:g} s" if wait is not None else ""),
            retry_after=wait if wait is not None else 1.0,
            details=details,
            **common,
        )
    if any(p.code == NOT_FOUND_CODE for p in problems):
        return NotFound(
            f"ShipHero found nothing while trying to {action}: {_summary(problems)}", details=details, **common
        )
    if any(p.schema_refusal for p in problems):
        return RequestRejected(
            f"ShipHero refused the query while trying to {action}: {_summary(problems)}. Its schema may "
            "have changed since connectors/shiphero/schema/shiphero.graphql was written.",
            details=details,
            **common,
        )
    return RequestRejected(f"ShipHero refused to {action}: {_summary(problems)}", details=details, **common)


def is_duplicate(problems: Sequence[Problem]) -> bool:
    """Whether an `order_create` refusal says the order's reference is taken (wording unverified)."""
    for problem in problems:
        text = problem.message.lower()
        if "line_item" in text or "line item" in text:
            continue  # partner_line_item_id clashes are the body's fault, not an existing order
        if any(word in text for word in DUPLICATE_WORDS) and any(subject in text for subject in _DUPLICATE_SUBJECTS):
            return True
    return False


def cancel_refusal(problems: Sequence[Problem], *, order_id: int, path: str) -> OrderNotCancellable:
    reason = _summary(problems)
    return OrderNotCancellable(
        f"ShipHero will not cancel order {order_id}: {reason}",
        reason=reason,
        status=200,
        method="POST",
        path=path,
        details=[p.__dict__ for p in problems],
    )
