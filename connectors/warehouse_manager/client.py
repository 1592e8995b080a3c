"""Client for the Extensiv 3PL Warehouse Manager (WMS) REST API, scoped to one customer and facility.

Contract (wire details and their evidence, call by call: docs/wire-protocols.md):

- Authentication: OAuth2 client credentials at ``POST {base_url}/AuthServer/api/Token`` with
  ``Authorization: Basic base64(client_id:client_secret)``; the bearer token is cached until shortly
  before ``expires_in`` runs out, and a 401 on an API call re-authenticates once and retries
  (``connectors.transport.oauth.BearerToken``).
- Collections are HAL (``_embedded`` keyed by rel URLs, ``totalResults``, ``_links``), paged with
  ``pgsiz``/``pgnum`` and filtered with RQL; ``/inventory/stocksummaries`` uses ``summaries`` instead.
- Single orders carry an ETag; the canceler operator needs it in ``If-Match``.
- Error bodies are .NET exceptions (``$type``, ``ErrorCode``, ``Hint``, sometimes ``Message``): they
  are turned into plain-words messages on the typed errors of ``connectors.errors``.
- WMS timestamps carry no offset: they are read in the facility's time zone and returned as aware
  UTC datetimes; filter timestamps are sent back in the same facility-local form.
- Answers are read through the wire models of ``connectors.warehouse_manager.wire``
  (pydantic): a malformed answer is ``MalformedResponse`` naming the call and each bad field.

Every failure is one of ``connectors.errors``' types (plus ``DuplicateOrder`` and
``OrderNotCancellable`` below), so a job only needs ``exc.transient`` to decide what to do.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from authlib.oauth2.rfc6749 import OAuth2Token

from connectors.errors import (
    AuthenticationError,
    ConnectorError,
    MalformedResponse,
    NotFound,
    PermanentError,
    RequestRejected,
    TransientError,
)
from connectors.redaction import excerpt
from connectors.shapes import finite_number, is_int
from connectors.transport import Answer, BearerToken, HttpClient, basic_authorization, parse_json
from connectors.warehouse_manager.system import SYSTEM
from connectors.warehouse_manager.wire import (
    STATUS_CLOSED,
    Page,
    WmsItem,
    WmsOrder,
    WmsOrderBody,
    WmsStockRow,
    order_id_in,
    read_collection,
)
from connectors.wire import WireError, validate
from connectors.wms.base import WarehouseClient

__all__ = [
    "StockReport",
    "WmsOrder",
    "DuplicateOrder",
    "OrderNotCancellable",
    "WarehouseManagerClient",
    "rql_value",
    "describe_wms_error",
]

TOKEN_PATH = "/AuthServer/api/Token"
LOGIN_KINDS = ("user_login", "user_login_id")  # token-body field naming the user (docs/wire-protocols.md WMS-1)
ORDER_REL = "http://api.3plCentral.com/rels/orders/order"
HAL_ACCEPT = "application/hal+json"

# Refresh at ~80% of the token's life (the notes' advice) so a token never expires mid-run.
TOKEN_LIFETIME_SHARE = 0.8
# Help center: tokens live 30-60 min; used when the token answer has no expires_in.
DEFAULT_TOKEN_LIFETIME = 1800.0

ORDERS_MAX_PAGE_SIZE = 1000
STOCK_PAGE_SIZE = 500  # the documented maximum for /inventory/stocksummaries
ITEMS_PAGE_SIZE = 100  # the documented maximum for /customers/{id}/items (default 10)
CUSTOMER_ITEM_REL = "http://api.3plCentral.com/rels/customers/item"

# 4xx answers this client reads itself, so the .NET error body can be turned into plain words.
_HANDLED_4XX = (400, 403, 404, 409, 412, 422, 428)

_ERROR_CODE_WORDS = {
    # ModelValidationException
    "Required": "a required value is missing",
    "DoesNotExist": "a referenced record does not exist",
    "Duplicate": "a record with this value already exists",
    "Incompatible": "some values are incompatible with each other",
    "ValueNotSupported": "a value is not supported (for example an item or facility not assigned to the customer)",
    # OperationException
    "InUse": "the record is in use",
    "OrderConfirmed": "the order is already closed (shipped)",
    "OrderCanceled": "the order is already canceled",
    "AlreadyCompleted": "the order is already completed",
    "NotFullyAllocated": "the order is not fully allocated",
    "OrderNotConfirmed": "the order is not closed yet",
    "Unallocated": "the order is not allocated",
    "FullyAllocated": "the order is already fully allocated",
    "DateInFuture": "the date is in the future",
    "DateBeforeFreeze": "the date is before the billing freeze date",
    "OnHold": "the order is on hold",
    # QueryParameterException
    "NotParsable": "a query parameter could not be parsed",
}

_STATUS_WORDS = {
    400: "rejected the request",
    403: "refused the operation",
    404: "has no such record",
    409: "reported a conflict",
    412: "says the record changed since it was read (ETag mismatch)",
    422: "could not process the request",
    428: "requires an If-Match header (ETag) for this operation",
}


# ---------------------------------------------------------------------------------------------
# Public data and errors
# ---------------------------------------------------------------------------------------------


@dataclass
class StockReport:
    """``available``: whole units per SKU (this customer's items in this facility only);
    ``invalid``: SKU -> why its quantity could not be used."""

    available: dict[str, int]
    invalid: dict[str, str] = field(default_factory=dict)
    # Rows of this facility that are not this customer's items (another customer's stock): not counted.
    other_customer_rows: int = 0


class DuplicateOrder(PermanentError):
    """The WMS already has an order with this ``referenceNum``; ``existing`` is it, when found."""

    def __init__(self, message: str, *, existing: WmsOrder | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.existing = existing


class OrderNotCancellable(PermanentError):
    """The WMS will not cancel the order; ``reason`` says why in plain words (e.g. already shipped)."""

    def __init__(self, message: str, *, reason: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reason = reason or message


# ---------------------------------------------------------------------------------------------
# Helpers: RQL and error bodies
# ---------------------------------------------------------------------------------------------


def rql_value(value: Any) -> str:
    """Escape one value for an RQL expression.

    The WMS URL-decodes RQL values a second time after the normal query-string decoding (so that
    ``;`` ``,`` ``=`` ``(`` ``)`` inside a value are not read as operators). The value is therefore
    percent-encoded here once; ``requests`` encodes the whole ``rql`` parameter again on the wire,
    which gives the double encoding the server expects.
    """
    return quote(str(value), safe="")


def _short_type(dotnet_type: Any) -> str:
    """``WMS.V2.Generic.Models.Exceptions.OperationException, WMS.V2...`` -> ``OperationException``."""
    if not isinstance(dotnet_type, str) or not dotnet_type.strip():
        return ""
    return dotnet_type.split(",", 1)[0].strip().rsplit(".", 1)[-1]


def _error_fields(body: Any) -> dict[str, str]:
    """The .NET exception fields of an error body (PascalCase, camelCase tolerated), as strings."""
    if not isinstance(body, Mapping):
        return {}

    def pick(*names: str) -> str:
        for name in names:
            value = body.get(name)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
                return str(value).strip()
        return ""

    properties = body.get("Properties") or body.get("properties")
    prop_names = []
    if isinstance(properties, list):
        for prop in properties:
            if isinstance(prop, Mapping) and isinstance(prop.get("Name"), str):
                prop_names.append(prop["Name"])
    return {
        "type": _short_type(body.get("$type")),
        "code": pick("ErrorCode", "errorCode"),
        "hint": pick("Hint", "hint"),
        "message": pick("Message", "message"),
        "properties": ", ".join(prop_names),
    }


def describe_wms_error(status: int | None, body: Any, *, action: str = "") -> str:
    """A plain-words message for a WMS error answer (.NET ``$type``/``ErrorCode``/``Hint``/``Message``)."""
    fields = _error_fields(body)
    words = _STATUS_WORDS.get(status or 0, "answered with an error")
    parts = [
        f"Warehouse Manager {words}"
        + (f" while trying to {action}" if action else "")
        + (f" (HTTP {status})" if status else "")
    ]
    code = fields.get("code", "")
    if code:
        parts.append(_ERROR_CODE_WORDS.get(code, f"error code {code}"))
    if fields.get("properties"):
        parts.append(f"field: {fields['properties']}")
    for key in ("hint", "message"):
        if fields.get(key):
            parts.append(fields[key])
    technical = " ".join(x for x in (fields.get("type", ""), code) if x)
    message = ": ".join(parts[:2]) + ("; " + "; ".join(parts[2:]) if len(parts) > 2 else "")
    return message + (f" [{technical}]" if technical else "") + "."


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------


class WarehouseManagerClient(WarehouseClient):
    """One WMS credential, scoped to one customer and one facility. Thread-safe token cache."""

    # Asked for explicitly on every API call (Drewcrandall/ExtensivSharp sets it on every endpoint);
    # answers are read in either representation, so a server answering plain JSON still works.
    accept = HAL_ACCEPT
    system = SYSTEM

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str,
        client_secret: str,
        user_login: str = "",
        login_kind: str = "user_login",
        tpl_key: str = "",
        customer_id: int,
        facility_id: int,
        facility_time_zone: str = "UTC",
        http: HttpClient | None = None,
        **http_options: Any,
    ) -> None:
        if not is_int(customer_id) or not is_int(facility_id):
            raise ValueError("customer_id and facility_id must be integers")
        try:
            self.facility_tz = ZoneInfo(facility_time_zone or "UTC")
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"Unknown facility time zone {facility_time_zone!r} (use an IANA name such as America/Chicago)"
            ) from exc
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        if login_kind not in LOGIN_KINDS:
            raise ValueError(f"login_kind must be one of {', '.join(LOGIN_KINDS)}")
        if login_kind == "user_login_id" and not str(user_login).strip().isdigit():
            raise ValueError("with login_kind user_login_id the user login must be a number (digits only)")
        self.user_login = str(user_login).strip() if login_kind == "user_login_id" else user_login
        self.login_kind = login_kind
        self._tpl_key = tpl_key
        self.customer_id = customer_id
        self.facility_id = facility_id
        http_options.setdefault("service", "Warehouse Manager")
        self.http = http if http is not None else HttpClient(self.base_url, **http_options)
        self._auth = BearerToken(
            self._fetch_token, renew_at=TOKEN_LIFETIME_SHARE, default_lifetime=DEFAULT_TOKEN_LIFETIME
        )

    def close(self) -> None:
        """Close the pooled connections now rather than at garbage collection."""
        self.http.close()

    def __repr__(self) -> str:  # never show secrets
        return (
            f"WarehouseManagerClient({self.base_url!r}, customer_id={self.customer_id}, facility_id={self.facility_id})"
        )

    # -- authentication -------------------------------------------------------------------------

    def authenticate(self) -> None:
        """Obtain a fresh bearer token (client credentials) and cache it (``_fetch_token``)."""
        self._auth.renew()

    def _fetch_token(self) -> OAuth2Token:
        """``POST /AuthServer/api/Token``: a new bearer token, for ``BearerToken`` to cache.

        The body names the user by ``login_kind``: ``user_login`` (login name;
        Drewcrandall/ExtensivSharp Services/AuthenticationService.cs) or ``user_login_id``
        (numeric, sent as text like singer-io/tap-3plcentral tap_3plcentral/client.py and
        GT-Logistics/extensiv-client src/Authentication/AccessTokenAuthentication.php ``'1'``);
        airbytehq/airbyte source-tplcentral source.py sends whichever is configured. Only one of
        the two is sent.
        """
        body: dict[str, Any] = {"grant_type": "client_credentials", self.login_kind: self.user_login}
        if self._tpl_key:
            tpl = self._tpl_key.strip()
            body["tpl"] = tpl if tpl.startswith("{") else "{" + tpl + "}"
        try:
            response = self.http.request(
                "POST",
                TOKEN_PATH,
                json=body,
                headers={
                    "Authorization": basic_authorization(self.client_id, self._client_secret),
                    "Accept": "application/json",
                },
                ok_statuses=(200,),
            )
        except (AuthenticationError, RequestRejected, NotFound) as exc:
            raise AuthenticationError(
                "Warehouse Manager refused the client id / client secret"
                + (f" / {self.login_kind}" if self.user_login else "")
                + f" (HTTP {exc.status}); check the credential in the warehouse settings.",
                status=exc.status,
                body_excerpt=exc.body_excerpt,
                method="POST",
                path=TOKEN_PATH,
            ) from exc
        data = self._parse_json(response, "POST", TOKEN_PATH)
        token = data.get("access_token") if isinstance(data, Mapping) else None
        if not isinstance(token, str) or not token.strip():
            raise MalformedResponse(
                "Warehouse Manager's token answer has no access_token.",
                status=response.status_code,
                method="POST",
                path=TOKEN_PATH,
            )
        expires_in = data.get("expires_in", DEFAULT_TOKEN_LIFETIME)
        if expires_in is None:
            expires_in = DEFAULT_TOKEN_LIFETIME
        if isinstance(expires_in, str) and expires_in.strip().isdigit():
            expires_in = int(expires_in)
        if not finite_number(expires_in) or expires_in <= 0:
            raise MalformedResponse(
                f"Warehouse Manager's token answer has an invalid expires_in ({expires_in!r}).",
                status=response.status_code,
                method="POST",
                path=TOKEN_PATH,
            )
        return OAuth2Token(dict(data, access_token=token, expires_in=float(expires_in)))

    # -- transport ------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        action: str,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> Answer:
        """One authenticated call; 4xx answers become typed errors with plain-words messages.

        Returns the answer for the ``ok`` statuses and for the 4xx a caller lists in ``ok``
        (the caller then reads the error body itself, e.g. Duplicate or 412). A 401 fetches a
        new token and tries once more (``BearerToken.send``).
        """

        def send(authorization: dict[str, str]) -> Answer:
            return self.http.request(
                method,
                path,
                params=params,
                json=json,
                headers={"Accept": self.accept, **(headers or {}), **authorization},
                ok_statuses=tuple(sorted(set(ok) | set(_HANDLED_4XX))),
            )

        def rejected(exc: AuthenticationError) -> AuthenticationError:
            return AuthenticationError(
                f"Warehouse Manager did not accept this credential while trying to {action} "
                f"(HTTP {exc.status}); check the client id/secret and the user's roles.",
                status=exc.status,
                body_excerpt=exc.body_excerpt,
                method=method,
                path=path,
            )

        response = self._auth.send(send, rejected=rejected)
        if response.status_code in ok:
            return response
        raise self._error_for(response, method, path, action)

    def _error_for(self, response: Answer, method: str, path: str, action: str) -> ConnectorError:
        body = self._maybe_json(response)
        status = response.status_code
        message = describe_wms_error(status, body, action=action)
        kwargs = {
            "status": status,
            "body_excerpt": excerpt(response.text),
            "method": method,
            "path": path,
            "details": body,
        }
        if status == 404:
            return NotFound(message, **kwargs)
        if status == 403 and _error_fields(body).get("type") != "OperationException":
            # A 403 that is not a refused operation is a missing role on the credential.
            return AuthenticationError(message, **kwargs)
        return RequestRejected(message, **kwargs)

    @staticmethod
    def _maybe_json(response: Answer) -> Any:
        try:
            return response.json() if response.content else None
        except ValueError:
            return None

    @staticmethod
    def _parse_json(response: Answer, method: str, path: str) -> Any:
        return parse_json(response, service="Warehouse Manager", method=method, path=path)

    def _get_json(self, path: str, *, action: str, params: dict[str, Any] | None = None) -> tuple[Any, Answer]:
        response = self._call("GET", path, action=action, params=params)
        return self._parse_json(response, "GET", path), response

    # -- time zones -----------------------------------------------------------------------------

    def format_filter_timestamp(self, moment: datetime) -> str:
        """``moment`` (aware) as the facility-local wall-clock text the WMS compares timestamps with.

        The WMS stores offset-less facility-local times, so an RQL filter must use the same form.
        Within the repeated hour when DST ends, wall-clock order differs from real order: for the
        first occurrence the filter is lowered by the DST shift so a ``=ge=`` filter cannot miss
        orders modified during the second occurrence (it only returns a few extra ones).
        Seconds precision, rounded down, for the same reason.
        """
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("since must be a timezone-aware datetime")
        local = moment.astimezone(self.facility_tz)
        wall = local.replace(tzinfo=None, microsecond=0)
        if local.fold == 0:
            other = local.replace(fold=1)
            shift = (local.utcoffset() or timedelta(0)) - (other.utcoffset() or timedelta(0))
            if shift > timedelta(0):  # ambiguous wall time: this is its first occurrence
                wall -= shift
        return wall.isoformat(timespec="seconds")

    # -- reading answers ------------------------------------------------------------------------

    def _order_from(self, data: Any, *, etag: str | None = None, call: str = "order") -> WmsOrder:
        """Read one order strictly (``WmsOrderBody``, either representation) and check that it is
        this connection's (``_check_scope``); ``call`` (e.g. ``GET /orders``) names the call in errors."""
        try:
            body = validate(WmsOrderBody, data, context={"tz": self.facility_tz})
            order = body.to_order(etag=etag, tz=self.facility_tz)
        except WireError as exc:
            order_id = order_id_in(data)
            which = f" order {order_id}" if order_id is not None else " an order"
            raise MalformedResponse(f"Warehouse Manager's {call} answer has{which} it cannot read: {exc}.") from None
        self._check_scope(body, call)
        return order

    @staticmethod
    def _collection(
        body: Any, rel: str, call: str, *, hal_key: str = "_embedded", plain_key: str = "ResourceList"
    ) -> Page:
        """(total, items, has a ``_links.next``) of a collection in either representation.

        HAL (asked for with ``Accept: application/hal+json``): ``totalResults`` and
        ``_embedded[rel]`` (Drewcrandall/ExtensivSharp Models/Order/Orders.cs, EmbeddedOrders.cs),
        or a plain list under ``hal_key`` (stock summaries: ``summaries``). Plain JSON (what the API
        answers without that Accept): ``TotalResults`` and ``ResourceList`` / ``Summaries``
        (airbytehq/airbyte source-tplcentral streams.py; singer-io/tap-3plcentral sync.py), its
        PascalCase items turned into the HAL camelCase this client reads. An answer with neither
        form's total and collection key is ``MalformedResponse`` naming ``call`` and the field:
        a missing key never reads as an empty page (``warehouse_manager_models.read_collection``).
        """
        try:
            return read_collection(body, rel=rel, hal_key=hal_key, plain_key=plain_key)
        except WireError as exc:
            raise MalformedResponse(f"Warehouse Manager's {call} answer is malformed: {exc}.") from None

    @staticmethod
    def _items(kind: Any, items: list, call: str, method: str, path: str, *, root: str) -> list:
        """The items of a collection page validated as ``list[kind]``, or ``MalformedResponse``."""
        try:
            return validate(list[kind], items, root=root)
        except WireError as exc:
            raise MalformedResponse(
                f"Warehouse Manager's {call} answer is malformed: {exc}.", method=method, path=path
            ) from None

    def _scope_rql(self) -> str:
        """RQL scoping an order query to this customer and facility.

        On an order the identifiers live under ``readOnly``; the paths are the ones real clients
        send: airbytehq/airbyte airbyte-integrations/connectors/source-tplcentral/source_tplcentral/streams.py
        (class Orders: ``ReadOnly.CustomerIdentifier.Id==C``, ``ReadOnly.FacilityIdentifier.Id==F``).
        Property names are case-insensitive (the vendor's Rels/rql page, quoted by
        Njdonatelli/Extensiv-MCP-Server docs/research/api_reference_notes.md); the hub writes them
        in the HAL model's camelCase. A server that ignored the filter is caught by ``_check_scope``.
        """
        return f"readOnly.customerIdentifier.id=={self.customer_id};readOnly.facilityIdentifier.id=={self.facility_id}"

    def _check_scope(self, order: WmsOrderBody, call: str) -> None:
        """Fail loudly when an order is not of this customer and facility.

        Guards the RQL scope (docs/wire-protocols.md WMS-4): a filter the server ignored or
        misread must never pull another tenant's orders into this one.
        """
        read_only = order.read_only
        for block, ident, wanted in (
            ("customerIdentifier", read_only.customer_identifier, self.customer_id),
            ("facilityIdentifier", read_only.facility_identifier, self.facility_id),
        ):
            got = ident.id if ident is not None else None
            if got != wanted:
                raise MalformedResponse(
                    f"Warehouse Manager's {call} answer has order {read_only.order_id} with readOnly.{block}.id "
                    f"{got!r}, not this connection's {wanted}; refusing to use it."
                )

    # -- orders ---------------------------------------------------------------------------------

    def create_order(self, order: Mapping[str, Any]) -> WmsOrder:
        """Create one order (``POST /orders``). ``order`` is the WMS payload without the customer and
        facility identifiers, which come from this client's settings (and override the caller's).

        Raises ``DuplicateOrder`` (with ``existing`` looked up) when the WMS already has the
        ``referenceNum``. Not idempotent: the caller looks the order up before re-sending.
        """
        reference = order.get("referenceNum")
        if not isinstance(reference, str) or not reference.strip():
            raise ValueError("the order needs a referenceNum (our order number): it is the WMS's dedupe key")
        body = dict(order)
        body["customerIdentifier"] = {"id": self.customer_id}
        body["facilityIdentifier"] = {"id": self.facility_id}
        action = f"create order {reference}"
        response = self._call("POST", "/orders", action=action, json=body, ok=(200, 201, 400))
        if response.status_code == 400:
            details = self._maybe_json(response)
            if _error_fields(details).get("code", "").lower() != "duplicate":
                raise self._error_for(response, "POST", "/orders", action)
            return self._raise_duplicate(reference, response, details)
        data = self._parse_json(response, "POST", "/orders")
        return self._order_from(data, etag=response.headers.get("ETag"), call="POST /orders")

    def _raise_duplicate(self, reference: str, response: Answer, details: Any) -> WmsOrder:
        note = ""
        try:
            existing = self.find_order_by_reference(reference)
        except TransientError:
            raise  # worth retrying later: the next attempt will see the Duplicate again and look again
        except ConnectorError as exc:
            existing, note = None, f" Looking up the existing order failed: {exc}"
        found = f" as order {existing.order_id}" if existing else " (not found in this customer/facility)"
        raise DuplicateOrder(
            f"Warehouse Manager already has an order with reference {reference}{found}.{note}",
            existing=existing,
            status=response.status_code,
            body_excerpt=excerpt(response.text),
            method="POST",
            path="/orders",
            details=details,
        )

    def find_order_by_reference(self, reference_num: str) -> WmsOrder | None:
        """The order of this customer and facility whose ``referenceNum`` equals ``reference_num``.

        When several match (e.g. a canceled one and a re-created one) the newest non-canceled wins.
        """
        if not reference_num:
            raise ValueError("reference_num must not be empty (it would match orders without one)")
        rql = f"referenceNum=={rql_value(reference_num)};{self._scope_rql()}"
        body, _ = self._get_json(
            "/orders",
            action=f"look up order {reference_num}",
            params={"pgsiz": 100, "pgnum": 1, "detail": "All", "rql": rql},
        )
        _, items, _ = self._collection(body, ORDER_REL, "GET /orders (by referenceNum)")
        matches = [
            o
            for o in (self._order_from(item, call="GET /orders (by referenceNum)") for item in items)
            if o.reference_num == reference_num
        ]
        if not matches:
            return None
        return max(matches, key=lambda o: (not o.is_canceled, o.order_id))

    def get_order(self, order_id: int) -> WmsOrder:
        """One order by id, with its ETag (needed by ``cancel_order``)."""
        path = f"/orders/{int(order_id)}"
        body, response = self._get_json(path, action=f"read order {order_id}", params={"detail": "All"})
        return self._order_from(body, etag=response.headers.get("ETag"), call=f"GET {path}")

    def cancel_order(self, order_id: int, reason: str) -> str:
        """Cancel an open order. Returns ``"cancelled"`` or ``"already_cancelled"``.

        Reads the order first for a fresh ETag; a closed (shipped) order or a 403
        OperationException raises ``OrderNotCancellable``; a 412 (changed in between) re-reads and
        retries once.
        """
        if not reason or not reason.strip():
            raise ValueError("the WMS requires a cancel reason")
        path = f"/orders/{int(order_id)}/canceler"
        action = f"cancel order {order_id}"
        for attempt in (1, 2):
            order = self.get_order(order_id)
            if order.is_canceled:
                return "already_cancelled"
            if order.is_closed or order.status == STATUS_CLOSED:
                raise OrderNotCancellable(
                    f"Warehouse Manager order {order_id} is already closed (shipped); it can no longer be canceled.",
                    reason="closed/shipped",
                    method="POST",
                    path=path,
                )
            if not order.etag:
                raise MalformedResponse(
                    f"Warehouse Manager sent order {order_id} without an ETag; it cannot be canceled safely.",
                    method="GET",
                    path=f"/orders/{order_id}",
                )
            response = self._call(
                "POST",
                path,
                action=action,
                json={"reason": reason},
                headers={"If-Match": order.etag},
                ok=(200, 201, 204, 403, 412),
            )
            if response.status_code in (200, 201, 204):
                return "cancelled"
            details = self._maybe_json(response)
            if response.status_code == 412 and attempt == 1:
                continue  # changed since our read (e.g. picked, or edited): read again and retry once
            if response.status_code == 403:
                fields = _error_fields(details)
                if fields.get("code") == "OrderCanceled":
                    return "already_cancelled"
                if fields.get("type") == "OperationException":
                    words = _ERROR_CODE_WORDS.get(fields["code"], fields["code"] or "operation refused")
                    raise OrderNotCancellable(
                        describe_wms_error(403, details, action=action),
                        reason=words,
                        status=403,
                        body_excerpt=excerpt(response.text),
                        method="POST",
                        path=path,
                        details=details,
                    )
            raise self._error_for(response, "POST", path, action)
        raise AssertionError("unreachable")  # pragma: no cover

    def iter_orders_modified_since(self, since: datetime, *, page_size: int = 100) -> Iterator[WmsOrder]:
        """Orders of this customer and facility modified at or after ``since`` (aware), oldest first,
        with packages (``detail=All``) so closed orders carry their tracking numbers.

        Pages with ``pgsiz``/``pgnum`` while ``totalResults`` or ``_links.next`` says there is more.
        An order seen twice with the same ``lastModifiedDate`` (pages shifting under concurrent
        edits) is yielded once. A server repeating a page, or paging past ``totalResults``, raises
        ``MalformedResponse`` instead of looping forever.
        """
        if not 1 <= page_size <= ORDERS_MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {ORDERS_MAX_PAGE_SIZE}")
        # The WMS compares offset-less facility-local timestamps, so the filter is facility-local too.
        local_since = self.format_filter_timestamp(since)
        rql = f"readOnly.lastModifiedDate=ge={rql_value(local_since)};{self._scope_rql()}"
        # Arguments are checked above, at call time; the pages are only fetched while iterating.
        return self._iter_order_pages(rql, page_size)

    def _iter_order_pages(self, rql: str, page_size: int) -> Iterator[WmsOrder]:
        seen: set[tuple[int, datetime | None]] = set()
        previous_ids: list[int] | None = None
        max_total = 0
        pgnum = 1
        while True:
            params = {
                "pgsiz": page_size,
                "pgnum": pgnum,
                "rql": rql,
                "sort": "readOnly.lastModifiedDate",
                "detail": "All",
            }
            body, _ = self._get_json("/orders", action="list modified orders", params=params)
            total, items, has_next = self._collection(body, ORDER_REL, "GET /orders (modified since)")
            max_total = max(max_total, total)
            orders = [self._order_from(item, call="GET /orders (modified since)") for item in items]
            ids = [o.order_id for o in orders]
            if ids and ids == previous_ids:
                raise MalformedResponse(
                    f"Warehouse Manager returned the same orders for page {pgnum} as for "
                    f"page {pgnum - 1}; stopping instead of paging forever.",
                    method="GET",
                    path="/orders",
                )
            if orders and pgnum > math.ceil(max_total / page_size) + 1:
                raise MalformedResponse(
                    f"Warehouse Manager keeps returning orders on page {pgnum}, past its "
                    f"totalResults ({max_total}); stopping.",
                    method="GET",
                    path="/orders",
                )
            for order in orders:
                key = (order.order_id, order.last_modified)
                if key not in seen:
                    seen.add(key)
                    yield order
            if not orders or not (has_next or pgnum * page_size < total):
                return
            previous_ids = ids
            pgnum += 1

    # -- inventory ------------------------------------------------------------------------------

    def stock_available(self) -> dict[str, int]:
        """Available quantity per SKU in this facility, summed over qualifiers (all pages).

        ``available`` (not onHand) is the sellable number. A fractional total is rounded down to
        whole units. A negative or non-numeric quantity raises ``MalformedResponse`` naming the SKU
        (``stock_report`` keeps the other SKUs instead).
        """
        report = self.stock_report()
        if report.invalid:
            sku, reason = next(iter(report.invalid.items()))
            raise MalformedResponse(reason, method="GET", path="/inventory/stocksummaries")
        return report.available

    def stock_report(self) -> StockReport:
        """Like ``stock_available``, but a SKU whose quantity is unusable (negative, not a number)
        is set aside in ``invalid`` with the reason and every other SKU is still returned: one bad
        row must not stop a whole inventory run. Rows that name no SKU or facility still raise.

        Scoping (docs/wire-protocols.md WMS-7): a summary row names no customer, and the credential
        may see other customers' items in the same facility, often with the same SKU names. So no
        customer RQL is sent (``customeridentifier.id`` on this resource has no evidence; Airbyte
        source-tplcentral streams.py class StockSummaries and tap-3plcentral sync.py send no rql
        either) and only rows whose ``itemIdentifier.id`` is one of this customer's items
        (``customer_items``) and whose ``facilityId`` is this facility are summed. Other
        customers' rows are counted in ``StockReport.other_customer_rows``, never in the stock.
        """
        path = "/inventory/stocksummaries"
        own_items = self.customer_items()
        totals: dict[str, float] = {}
        invalid: dict[str, str] = {}
        skipped = 0
        previous: list[tuple] | None = None
        pgnum = 1
        while True:
            body, _ = self._get_json(
                path, action="read stock summaries", params={"pgsiz": STOCK_PAGE_SIZE, "pgnum": pgnum}
            )
            total, raw_rows, _ = self._collection(body, "", f"GET {path}", hal_key="summaries", plain_key="Summaries")
            root = "summaries" if isinstance(body, Mapping) and "Summaries" not in body else "Summaries"
            rows = self._items(WmsStockRow, raw_rows, f"GET {path}", "GET", path, root=root)
            signature = []
            for row in rows:
                mark, counted = self._stock_row(row, totals, invalid, path, own_items)
                signature.append(mark)
                skipped += not counted
            if signature and signature == previous:
                raise MalformedResponse(
                    f"Warehouse Manager returned the same stock rows for page {pgnum} as for "
                    f"page {pgnum - 1}; stopping instead of paging forever.",
                    method="GET",
                    path=path,
                )
            if not own_items and skipped:
                # Every row would read as "not ours" and the tenant's stock as zero: refuse instead.
                raise MalformedResponse(
                    f"Warehouse Manager lists no items for customer {self.customer_id} but has "
                    f"stock rows in facility {self.facility_id}; refusing to read the stock as "
                    "zero (check the customer id).",
                    method="GET",
                    path=f"/customers/{self.customer_id}/items",
                )
            if not rows or pgnum * STOCK_PAGE_SIZE >= total:
                break
            previous = signature
            pgnum += 1
        return StockReport(
            {sku: math.floor(qty) for sku, qty in totals.items() if sku not in invalid},
            invalid,
            other_customer_rows=skipped,
        )

    def customer_items(self) -> dict[int, str]:
        """This customer's items, ``itemId -> sku`` (``GET /customers/{id}/items``, all pages).

        Evidence: Drewcrandall/ExtensivSharp Endpoints/Items/GET_Items.cs (path, ``pgsiz``/``pgnum``)
        and Models/Items/EmbeddedItems.cs (rel ``http://api.3plCentral.com/rels/customers/item``);
        airbytehq/airbyte source-tplcentral streams.py class Items (``ResourceList``, page size
        100, the documented maximum). May be empty (a new customer); ``stock_report`` refuses an
        empty item master when this facility has stock rows.
        """
        path = f"/customers/{self.customer_id}/items"
        call = f"GET {path}"
        found: dict[int, str] = {}
        previous: list[int] | None = None
        pgnum = 1
        while True:
            body, _ = self._get_json(
                path,
                action=f"list the items of customer {self.customer_id}",
                params={"pgsiz": ITEMS_PAGE_SIZE, "pgnum": pgnum},
            )
            total, raw_items, has_next = self._collection(body, CUSTOMER_ITEM_REL, call)
            items = self._items(WmsItem, raw_items, call, "GET", path, root="items")
            ids = []
            for item in items:
                found[item.item_id] = item.sku
                ids.append(item.item_id)
            if ids and ids == previous:
                raise MalformedResponse(
                    f"Warehouse Manager returned the same items for page {pgnum} as for page "
                    f"{pgnum - 1}; stopping instead of paging forever.",
                    method="GET",
                    path=path,
                )
            if not items or not (pgnum * ITEMS_PAGE_SIZE < total):
                break
            previous = ids
            pgnum += 1
        return found

    def _stock_row(
        self,
        row: WmsStockRow,
        totals: dict[str, float],
        invalid: dict[str, str],
        path: str,
        own_items: Mapping[int, str],
    ) -> tuple[tuple, bool]:
        """Add one stock summary row to ``totals`` (or its SKU to ``invalid``) when it is this
        facility's and one of this customer's items. Returns (row signature, counted)."""
        sku, item_id, facility = row.sku, row.item_id, row.facility_id
        ours = own_items.get(item_id) == sku
        counted = ours and facility == self.facility_id
        if item_id in own_items and not ours:
            raise MalformedResponse(
                f"Warehouse Manager's stock row for item {item_id} says SKU {sku}, but the "
                f"customer's item {item_id} is {own_items[item_id]}.",
                method="GET",
                path=path,
            )
        available = row.usable_available
        if available is None:
            if counted:
                invalid.setdefault(
                    sku,
                    f"Warehouse Manager sent an invalid available quantity for SKU {sku} "
                    f"({excerpt(repr(row.available), 40)}).",
                )
            return (sku, item_id, row.qualifier, facility, repr(row.available)), counted or facility != self.facility_id
        if counted:
            totals[sku] = totals.get(sku, 0) + available
        return (sku, item_id, row.qualifier, facility, available), counted or facility != self.facility_id
