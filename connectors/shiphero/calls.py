"""One GraphQL call to ShipHero: credits, token, HTTP, and the answer's errors, in that order.

Contract:
- `GraphQLSession.execute(operation, variables, action=...)` sends one `Operation` of
  `connectors.shiphero.operations` as `POST /graphql` with `{"query", "variables",
  "operationName"}` (values only in `variables`) and returns the object under
  `data.<operation.root>`;
- before sending it reserves the operation's expected credits from the account's bucket
  (`connectors.shiphero.credits`: may sleep, or raise `RateLimited` for a long wait); after it
  settles the reservation with the answer's `complexity`;
- a code-30 answer (out of credits) is recorded on the bucket and the call is sent again after
  the announced `time_remaining`, at most `THROTTLE_RETRIES` times; then (or when the wait is
  longer than the bucket's `max_wait`) it is `RateLimited` with `retry_after`;
- the bearer token comes from `connectors.shiphero.token.TOKENS` (shared per account); an HTTP
  401 drops it, mints a new one and sends once more; a second 401 is `AuthenticationError`;
- queries are idempotent for the HTTP layer (a 5xx or a lost answer is retried), mutations not
  (`order_create` is never sent twice blindly: the jobs look the order up first); a query whose
  answer is not JSON (cut short) is sent once more, a mutation's never (`MalformedResponse`);
- an answer with `errors` raises `connectors.shiphero.errors.error_for`'s type, unless the caller
  asks for the problems (`with_problems=True`: `order_create` reads a duplicate, `order_cancel`
  a refusal); an answer without the root object and without errors is `MalformedResponse`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.errors import AuthenticationError, ConnectorError, MalformedResponse
from connectors.shiphero import token as sh_token
from connectors.shiphero.credits import CreditBucket
from connectors.shiphero.errors import Problem, error_for, problems_in, throttle_in
from connectors.shiphero.operations import USER_QUOTA, Operation
from connectors.shiphero.wire import UserQuota, read
from connectors.transport import Answer, BearerToken, HttpClient, parse_json

__all__ = ["GRAPHQL_PATH", "THROTTLE_RETRIES", "GraphQLSession"]

GRAPHQL_PATH = "/graphql"
THROTTLE_RETRIES = 3


class GraphQLSession:
    """The calls of one ShipHero account (see the module docstring). Thread-safe."""

    def __init__(
        self,
        http: HttpClient,
        *,
        key: str,
        refresh_token: str,
        bucket: CreditBucket,
        tokens: sh_token.SharedTokens = sh_token.TOKENS,
    ) -> None:
        self.http = http
        self.key = key
        self._refresh_token = refresh_token
        self.bucket = bucket
        self.tokens = tokens

    def __repr__(self) -> str:
        return f"GraphQLSession({self.http.base_url!r})"

    # -- the token -----------------------------------------------------------------------------
    def _mint(self):
        return sh_token.request_token(self.http, self._refresh_token)

    def token(self):
        return self.tokens.current(self.key, self._mint)

    def renew_token(self) -> None:
        """Mint a new token now (a connection test), replacing the cached one."""
        self.tokens.renew(self.key, self._mint)

    def _post(self, operation: Operation, variables: Mapping[str, Any], action: str) -> Answer:
        payload = {"query": operation.text, "variables": dict(variables), "operationName": operation.name}

        def send(token) -> Answer:
            return self.http.request(
                "POST",
                GRAPHQL_PATH,
                json=payload,
                headers={"Accept": "application/json", **BearerToken.headers_for(token)},
                ok_statuses=(200, 400),  # a 400 carries GraphQL's own refusal in `errors`
                idempotent=not operation.is_mutation,
            )

        token = self.token()
        try:
            return send(token)
        except AuthenticationError as exc:
            if exc.status != 401:
                raise self._refused(exc, action) from exc
            self.tokens.invalidate(self.key, token)  # expired or revoked early: mint once more
        try:
            return send(self.token())
        except AuthenticationError as exc:
            raise self._refused(exc, action) from exc

    @staticmethod
    def _refused(exc: AuthenticationError, action: str) -> AuthenticationError:
        return AuthenticationError(
            f"ShipHero did not accept this warehouse's token while trying to {action} (HTTP {exc.status}); "
            "check the refresh token and the developer user's permissions.",
            status=exc.status,
            body_excerpt=exc.body_excerpt,
            method="POST",
            path=GRAPHQL_PATH,
        )

    # -- the account's credits -----------------------------------------------------------------
    def calibrate(self) -> None:
        """Read the account's credits (`user_quota`) and pace by its own bucket size and refill
        rate from now on (`CreditBucket.calibrate`)."""
        quota = self.execute(USER_QUOTA, {}, action="read the account's credits")
        numbers = read(UserQuota, quota, call="user_quota", root="data.user_quota")
        self.bucket.calibrate(
            remaining=numbers.credits_remaining,
            max_available=numbers.max_available,
            increment_rate=numbers.increment_rate,
        )

    def _calibrate_once(self) -> None:
        """Before the account's first operation in this process: its own numbers, not the guess.
        A failed read keeps the guessed numbers (a code-30 answer still tells the real wait) and
        is not retried in this process; a refused token is raised, as any call's would be."""
        try:
            self.calibrate()
        except AuthenticationError:
            raise
        except ConnectorError:
            self.bucket.calibrated = True

    # -- one operation -------------------------------------------------------------------------
    def execute(
        self, operation: Operation, variables: Mapping[str, Any], *, action: str, with_problems: bool = False
    ) -> Any:
        """The `data.<root>` object of the answer; with `with_problems`, `(root, problems)`."""
        if not self.bucket.calibrated and operation is not USER_QUOTA:
            self._calibrate_once()
        for attempt in range(THROTTLE_RETRIES + 1):
            reserved = self.bucket.acquire(operation.name)
            response = self._post(operation, variables, action)
            try:
                body = parse_json(response, service="ShipHero", method="POST", path=GRAPHQL_PATH)
            except MalformedResponse:
                if operation.is_mutation:
                    raise  # never resent blindly: the jobs look the order up first
                # A query is idempotent and an answer that is not JSON is as good as lost: ask
                # once more (paying again; the first reservation stands as its cost).
                reserved = self.bucket.acquire(operation.name)
                response = self._post(operation, variables, action)
                body = parse_json(response, service="ShipHero", method="POST", path=GRAPHQL_PATH)
            problems = problems_in(body)
            throttle = throttle_in(problems)
            if throttle is not None:
                wait = throttle.time_remaining if throttle.time_remaining is not None else 1.0
                self.bucket.throttled(operation.name, required=throttle.required_credits, wait=wait)
                if attempt < THROTTLE_RETRIES:
                    continue  # the next acquire() sleeps the announced wait (or raises RateLimited)
                raise error_for(problems, action=action, path=GRAPHQL_PATH, body_text=response.text)
            root = self._root(body, operation)
            self.bucket.settle(operation.name, reserved, _complexity(root))
            if response.status_code == 400 and not problems:
                problems = [Problem(message="HTTP 400 without GraphQL errors", schema_refusal=True)]
            if problems and not with_problems:
                raise error_for(problems, action=action, path=GRAPHQL_PATH, body_text=response.text)
            if not problems and not isinstance(root, Mapping):
                raise MalformedResponse(
                    f"ShipHero's answer to {operation.name} has no {operation.root} object "
                    f"(data.{operation.root} is {'missing' if root is _MISSING else 'null'}).",
                    status=response.status_code,
                    method="POST",
                    path=GRAPHQL_PATH,
                )
            root = root if isinstance(root, Mapping) else None
            return (root, problems) if with_problems else root
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _root(body: Any, operation: Operation) -> Any:
        data = body.get("data") if isinstance(body, Mapping) else None
        if not isinstance(data, Mapping) or operation.root not in data:
            return _MISSING
        return data[operation.root]


_MISSING = object()


def _complexity(root: Any) -> int | None:
    value = root.get("complexity") if isinstance(root, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
