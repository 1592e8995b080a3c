"""ShipHero's error answers: the error a resolver raises, and how every error is written.

`ShipHeroError(message, code)` is raised by a resolver for a refusal of the service (not found,
duplicate, not cancelable, bad argument). The answer (`formatted`) writes it in ShipHero's
documented shape (developer.shiphero.com/troubleshooting/error-glossary/: HTTP 200, the field null
in `data`, each error ``{message, operation, field, request_id, code}``); graphql-core's own errors
(syntax, validation against the schema) keep the GraphQL spec's ``{message, locations}``.

Codes: 5 is "not found" (the glossary's example); 30 is the credits throttle (independent client:
definite-app/tap-shiphero tap_shiphero/client.py). `INVALID` (3) and `DUPLICATE` (6) are the sandbox's
choice, unverified (EVIDENCE.md).
"""

from __future__ import annotations

from graphql import GraphQLError

INVALID = 3
NOT_FOUND = 5
DUPLICATE = 6
NOT_ALLOWED = 7
THROTTLED = 30


class ShipHeroError(Exception):
    def __init__(self, message: str, code: int = INVALID, **extra):
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra


def service_error(*, message: str, code: int, operation: str, request_id: str, **extra) -> dict:
    """One error in ShipHero's shape; `extra` fields (the throttle's credits) sit beside the others."""
    shape = {"message": message, "operation": operation, "field": operation, "request_id": request_id, "code": code}
    return shape | extra


def formatted(error: GraphQLError, request_id: str) -> dict:
    original = error.original_error
    if isinstance(original, ShipHeroError):
        path = [p for p in (error.path or []) if isinstance(p, str)]
        operation = path[0] if path else ""
        return {
            "message": original.message,
            "operation": operation,
            "field": path[-1] if path else operation,
            "request_id": request_id,
            "code": original.code,
        } | original.extra
    return error.formatted
