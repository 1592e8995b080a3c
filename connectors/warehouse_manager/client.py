"""Client for the Extensiv 3PL Warehouse Manager (WMS) REST API, scoped to one customer and facility.

Contract (wire details and their evidence, call by call: docs/wire-protocols.md):

- ``WarehouseManagerClient`` implements ``connectors.wms.base.WarehouseClient``: the calls the jobs
  make (send, find ours by reference, read, cancel, the modified-orders poll, stock), each one
  through ``HttpClient``. This module holds the calls; the rules they follow are its neighbours':
  the token (``token``), RQL filters (``rql``), facility-local timestamps (``timestamps``),
  reading answers and the customer/facility scope guard (``answers``), paging the poll
  (``order_pages``), summing stock (``stock``), error bodies in plain words (``errors``).
- Authentication: OAuth2 client credentials; the bearer token is cached until shortly before
  ``expires_in`` runs out, and a 401 on an API call re-authenticates once and retries
  (``connectors.transport.oauth.BearerToken``).
- Collections are HAL or plain JSON, paged with ``pgsiz``/``pgnum``; single orders carry an ETag,
  which the canceler operator needs in ``If-Match``.
- A malformed answer, or an order of another customer or facility, is ``MalformedResponse``
  naming the call. Every failure is one of ``connectors.errors``' types (plus ``DuplicateOrder``
  and ``OrderNotCancellable``), so a job only needs ``exc.transient`` to decide what to do.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Token

from connectors.errors import AuthenticationError, ConnectorError, MalformedResponse, TransientError
from connectors.redaction import excerpt
from connectors.shapes import is_int
from connectors.transport import Answer, BearerToken, HttpClient, parse_json
from connectors.warehouse_manager import token
from connectors.warehouse_manager.answers import read_order, read_page
from connectors.warehouse_manager.errors import (
    HANDLED_4XX,
    DuplicateOrder,
    OrderNotCancellable,
    cancel_refusal,
    error_body,
    error_fields,
    error_for,
)
from connectors.warehouse_manager.order_pages import iter_modified_orders
from connectors.warehouse_manager.rql import modified_since_rql, reference_rql
from connectors.warehouse_manager.stock import (
    STOCK_PATH,
    StockReport,
    read_customer_items,
    read_stock,
)
from connectors.warehouse_manager.system import SYSTEM
from connectors.warehouse_manager.timestamps import facility_zone, filter_timestamp
from connectors.warehouse_manager.wire import STATUS_CLOSED, WmsOrder
from connectors.wms.base import WarehouseClient

__all__ = ["ORDER_REL", "WarehouseManagerClient"]

ORDER_REL = "http://api.3plCentral.com/rels/orders/order"
HAL_ACCEPT = "application/hal+json"
ORDERS_MAX_PAGE_SIZE = 1000


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
        self.facility_tz = facility_zone(facility_time_zone)
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self.user_login = token.user_login_for(login_kind, user_login)
        self.login_kind = login_kind
        self._tpl_key = tpl_key
        self.customer_id = customer_id
        self.facility_id = facility_id
        http_options.setdefault("service", "Warehouse Manager")
        self.http = http if http is not None else HttpClient(self.base_url, **http_options)
        self._auth = BearerToken(
            self._fetch_token, renew_at=token.TOKEN_LIFETIME_SHARE, default_lifetime=token.DEFAULT_TOKEN_LIFETIME
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
        """A new bearer token (``token.request_token``), for ``BearerToken`` to cache."""
        return token.request_token(
            self.http,
            client_id=self.client_id,
            client_secret=self._client_secret,
            login_kind=self.login_kind,
            user_login=self.user_login,
            tpl_key=self._tpl_key,
        )

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
                ok_statuses=tuple(sorted(set(ok) | set(HANDLED_4XX))),
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
        raise error_for(response, method, path, action)

    @staticmethod
    def _parse_json(response: Answer, method: str, path: str) -> Any:
        return parse_json(response, service="Warehouse Manager", method=method, path=path)

    def _get_json(self, path: str, *, action: str, params: dict[str, Any] | None = None) -> tuple[Any, Answer]:
        response = self._call("GET", path, action=action, params=params)
        return self._parse_json(response, "GET", path), response

    # -- time zones and orders as read ----------------------------------------------------------

    def format_filter_timestamp(self, moment: datetime) -> str:
        """``moment`` (aware) as the facility-local wall-clock text the WMS compares timestamps with
        (``timestamps.filter_timestamp``: rounded so a ``=ge=`` filter never misses an order)."""
        return filter_timestamp(moment, self.facility_tz)

    def _order_from(self, data: Any, *, etag: str | None = None, call: str = "order") -> WmsOrder:
        """One order read strictly and checked to be this connection's (``answers.read_order``)."""
        return read_order(
            data, tz=self.facility_tz, customer_id=self.customer_id, facility_id=self.facility_id, etag=etag, call=call
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
            details = error_body(response)
            if error_fields(details).get("code", "").lower() != "duplicate":
                raise error_for(response, "POST", "/orders", action)
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
        rql = reference_rql(reference_num, self.customer_id, self.facility_id)
        body, _ = self._get_json(
            "/orders",
            action=f"look up order {reference_num}",
            params={"pgsiz": 100, "pgnum": 1, "detail": "All", "rql": rql},
        )
        _, items, _ = read_page(body, ORDER_REL, "GET /orders (by referenceNum)")
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
            details = error_body(response)
            if response.status_code == 412 and attempt == 1:
                continue  # changed since our read (e.g. picked, or edited): read again and retry once
            if response.status_code == 403 and error_fields(details).get("code") == "OrderCanceled":
                return "already_cancelled"
            raise cancel_refusal(response, details, path, action) or error_for(response, "POST", path, action)
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
        rql = modified_since_rql(local_since, self.customer_id, self.facility_id)
        # Arguments are checked above, at call time; the pages are only fetched while iterating.
        return iter_modified_orders(lambda pgnum: self._modified_orders_page(rql, pgnum, page_size), page_size)

    def _modified_orders_page(self, rql: str, pgnum: int, page_size: int) -> tuple[int, list[WmsOrder], bool]:
        """Page ``pgnum`` of the poll: (total, its orders read and scope-checked, has a next link)."""
        params = {"pgsiz": page_size, "pgnum": pgnum, "rql": rql, "sort": "readOnly.lastModifiedDate", "detail": "All"}
        body, _ = self._get_json("/orders", action="list modified orders", params=params)
        call = "GET /orders (modified since)"
        total, items, has_next = read_page(body, ORDER_REL, call)
        return total, [self._order_from(item, call=call) for item in items], has_next

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
            raise MalformedResponse(reason, method="GET", path=STOCK_PATH)
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
        (``customer_items``) and whose ``facilityId`` is this facility are summed
        (``stock.read_stock``). Other customers' rows are counted in
        ``StockReport.other_customer_rows``, never in the stock.
        """
        own_items = self.customer_items()
        return read_stock(self._get_json, own_items, customer_id=self.customer_id, facility_id=self.facility_id)

    def customer_items(self) -> dict[int, str]:
        """This customer's items, ``itemId -> sku`` (``GET /customers/{id}/items``, all pages).

        Evidence: Drewcrandall/ExtensivSharp Endpoints/Items/GET_Items.cs (path, ``pgsiz``/``pgnum``)
        and Models/Items/EmbeddedItems.cs (rel ``http://api.3plCentral.com/rels/customers/item``);
        airbytehq/airbyte source-tplcentral streams.py class Items (``ResourceList``, page size
        100, the documented maximum). May be empty (a new customer); ``stock_report`` refuses an
        empty item master when this facility has stock rows.
        """
        return read_customer_items(self._get_json, self.customer_id)
