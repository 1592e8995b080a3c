"""How Order Manager's failures reach the hub: typed errors with plain-words messages.

Contract (docs/wire-protocols.md OM-3, OM-4 and the guards of each call):
- ``rejected_token`` maps a 401 to ``AuthenticationError`` asking for a reconnect (the token is
  a static app-install token: nothing could renew it); a 403 (a missing scope) passes through
  unchanged, since reconnecting with the same scopes would not help;
- ``read_answer`` validates an answer as a wire model (or a list of them named ``root``); a
  malformed one is ``MalformedResponse`` naming the call and each bad field;
- ``unreadable_order`` is the ``MalformedResponse`` for a single-order answer without a
  readable ``orderId``;
- ``WarehouseNotFound`` is a configured warehouse name matching no Order Manager warehouse (or
  several), with the names that exist.
"""

from __future__ import annotations

from typing import Any

from connectors.errors import AuthenticationError, MalformedResponse, PermanentError
from connectors.wire import WireError, got, validate

__all__ = ["WarehouseNotFound", "read_answer", "rejected_token", "unreadable_order"]


class WarehouseNotFound(PermanentError):
    """The configured warehouse name matches no Order Manager warehouse (or several)."""

    def __init__(self, message: str, *, available: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.available = list(available or [])


def rejected_token(exc: AuthenticationError, method: str, path: str) -> AuthenticationError | None:
    """The error for the access token refused on ``method path``; None (``exc`` as is) unless a 401."""
    if exc.status != 401:
        return None  # 403: a missing scope; reconnecting with the same scopes would not help
    return AuthenticationError(
        f"Order Manager rejected the access token for {method} {path} (HTTP 401): the app install "
        "was revoked or the token is wrong; reconnect the connection to Order Manager",
        status=exc.status,
        body_excerpt=exc.body_excerpt,
        method=method,
        path=path,
    )


def read_answer(kind: Any, value: Any, method: str, path: str, *, root: str = "") -> Any:
    """``value`` (an answer of ``method path``) validated as ``kind`` (a wire model, or a
    list of them named ``root``); ``MalformedResponse`` names the call and each bad field."""
    try:
        return validate(kind, value, root=root)
    except WireError as exc:
        raise MalformedResponse(
            f"Order Manager's answer to {method} {path} is malformed: {exc}", method=method, path=path
        ) from None


def unreadable_order(answer: Any, path: str) -> MalformedResponse:
    """``GET path`` answered something that is not an order with a positive integer ``orderId``."""
    value = answer.get("orderId") if isinstance(answer, dict) else answer
    what = "orderId" if isinstance(answer, dict) else "the order"
    expected = "a positive integer" if isinstance(answer, dict) else "an object"
    return MalformedResponse(
        f"Order Manager's answer to GET {path} is malformed: {what}: expected {expected}, got {got(value)}",
        method="GET",
        path=path,
    )
