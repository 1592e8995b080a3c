"""Paged reads of Order Manager's collections, and reading on past answers over the size cap.

Contract (docs/wire-protocols.md OM-5, its "over the size cap" and "guard" rows, and OM-7):
- ``PagedRead.pages(limit)`` yields the pages of a ``page``/``limit`` collection from page 1 until
  a short page. Two guards against endless paging raise ``MalformedResponse``: a page repeating
  the one before (the server ignores ``page``), and more than ``max_pages`` pages.
- An answer over the HTTP layer's size cap (``ResponseTooLarge``) does not stop the read: page
  ``p`` at limit ``L`` holds items ``(p-1)L .. pL-1``, so that window is read again in pages of
  ``L // 2`` (keeping only the items inside it), halving again where still too large, down to
  one item a page. One item over the cap alone is passed to ``on_too_large`` as an
  ``OversizeItem`` and the read goes on after it; without a callback it raises
  ``ResponseTooLarge`` naming its position. After ``MAX_OVERSIZE_IN_A_ROW`` answers over the
  cap in a row (none that fitted in between) the read gives up with ``MalformedResponse``.
- ``halve_on_oversize(fetch, ids, path)`` is the same idea for a read by ids: asked again in
  two halves of the ids, down to one id; one id over the cap alone raises ``ResponseTooLarge``.

Pages are fetched through the caller's ``call`` (the client's authenticated ``_call``); this
module knows nothing of authentication or of what the items are (``read`` types them).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

from connectors.errors import MalformedResponse, ResponseTooLarge
from connectors.transport import format_size

__all__ = ["MAX_OVERSIZE_IN_A_ROW", "OversizeItem", "PagedRead", "halve_on_oversize"]

# A paged read gives up after this many answers over the size cap in a row (none that fitted in
# between): a server answering over the cap whatever is asked is broken, and each such answer may
# cost up to the cap in traffic. Real oversize items cost about log2(limit) such answers each.
MAX_OVERSIZE_IN_A_ROW = 32


@dataclass(frozen=True)
class OversizeItem:
    """One item of a paged read that alone makes an answer larger than the size cap: it was not read.

    ``position`` counts from 1 in the order Order Manager lists the read's items (``filters``, the
    read's query without ``page``/``limit``). Its id is not known: the API has no way to list ids
    without the items' bodies (``GET /v1.1/orders`` has no field selection in the vendor's spec).
    """

    what: str
    path: str
    position: int
    filters: str
    message: str


class PagedRead:
    """One paged read of ``GET path`` with ``params`` (without ``page``/``limit``).

    ``call(method, path, params=...)`` sends one request and returns its JSON; ``read`` turns one
    page's answer into its items (typed, checked by the wire models); ``key`` gives an item's
    identity, for the repeated-page guard; ``what`` names the items in messages; ``cap`` is the
    size cap in bytes, for messages only.

    Unverified: MindCloud's docs give ``limit`` a minimum of 10 for Order Manager lists; the
    vendor's spec states none. Below 10 a refusal would surface as ``RequestRejected`` naming
    the call (never a silent skip); the sandbox accepts any limit from 1.
    """

    def __init__(
        self,
        call: Callable[..., Any],
        path: str,
        params: dict,
        what: str,
        *,
        key: Callable[[Any], Any],
        read: Callable[[Any], list],
        max_pages: int,
        cap: int | None = None,
        on_too_large: Callable[[OversizeItem], None] | None = None,
    ) -> None:
        self.call, self.path, self.params, self.what = call, path, params, what
        self.key, self.read, self.max_pages, self.cap = key, read, max_pages, cap
        self.on_too_large = on_too_large
        self.oversize = 0  # answers over the cap in a row, shared by every level of the read

    def pages(self, limit: int) -> Iterator[list]:
        """The pages at ``limit`` (see the module docstring), each a non-empty list of items."""
        previous: list | None = None
        page_number = 1
        while True:
            if page_number > self.max_pages:
                raise MalformedResponse(
                    f"Order Manager kept returning full pages of {self.what} from GET {self.path} beyond page "
                    f"{self.max_pages}; stopped to avoid an endless loop",
                    method="GET",
                    path=self.path,
                )
            try:
                items = self._page(page_number, limit)
            except ResponseTooLarge as exc:
                start = (page_number - 1) * limit
                found = yield from self._window(start, start + limit, limit, exc)
                if found < limit:
                    return
                previous = None
                page_number += 1
                continue
            keys = [self.key(item) for item in items]
            if items and keys == previous:
                raise self._repeated(page_number)
            if items:
                yield items
            if len(items) < limit:
                return
            previous = keys
            page_number += 1

    def _window(self, start: int, end: int, limit: int, exc: ResponseTooLarge) -> Generator[list, None, int]:
        """Items ``start .. end-1`` (0-based positions), whose page at ``limit`` was over the cap,
        read in pages of half that limit; returns how many of those positions exist (read or
        reported as oversize), fewer than ``end - start`` when the collection ends inside."""
        if limit == 1:
            item = self._oversize_item(start + 1)
            if self.on_too_large is None:
                raise ResponseTooLarge(item.message, status=exc.status, method="GET", path=self.path) from exc
            self.on_too_large(item)
            return 1
        size = limit // 2
        found = 0
        previous: list | None = None
        page_number = start // size + 1
        while (page_number - 1) * size < end:
            first = (page_number - 1) * size
            try:
                items = self._page(page_number, size)
            except ResponseTooLarge as smaller:
                low, high = max(start, first), min(end, first + size)
                count = yield from self._window(low, high, size, smaller)
                found += count
                if count < high - low:
                    return found
                previous = None
                page_number += 1
                continue
            keys = [self.key(item) for item in items]
            if items and keys == previous:
                raise self._repeated(page_number)
            previous = keys
            inside = items[max(0, start - first) : end - first]
            if inside:
                yield inside
            found += len(inside)
            if len(items) < size:
                return found
            page_number += 1
        return found

    def _page(self, page_number: int, limit: int) -> list:
        """One page, read by ``read``; counts answers over the cap in a row and gives up past the bound."""
        try:
            answer = self.call("GET", self.path, params={**self.params, "limit": limit, "page": page_number})
        except ResponseTooLarge as exc:
            self.oversize += 1
            if self.oversize >= MAX_OVERSIZE_IN_A_ROW:
                raise MalformedResponse(
                    f"{exc}: over the size cap {self.oversize} times in a row, down to one item a page; "
                    "Order Manager seems to answer too much whatever is asked, so the read stopped",
                    status=exc.status,
                    method="GET",
                    path=self.path,
                ) from exc
            raise
        self.oversize = 0
        return self.read(answer)

    def _repeated(self, page_number: int) -> MalformedResponse:
        return MalformedResponse(
            f"Order Manager returned the same {self.what} for page {page_number} as for page {page_number - 1} "
            f"of GET {self.path}; it seems to ignore the page parameter",
            method="GET",
            path=self.path,
        )

    def _oversize_item(self, position: int) -> OversizeItem:
        filters = ", ".join(
            f"{name}={','.join(map(str, value)) if isinstance(value, list) else value}"
            for name, value in self.params.items()
            if name not in ("page", "limit")
        )
        message = (
            f"Order Manager sent an answer larger than {format_size(self.cap) if self.cap else 'the size cap'} "
            f"for one of its {self.what} alone: item {position} of GET {self.path} ({filters}); not read, so its "
            "id is unknown."
        )
        return OversizeItem(what=self.what, path=self.path, position=position, filters=filters, message=message)


def halve_on_oversize(fetch: Callable[[list[int]], list], ids: list[int], path: str) -> list:
    """``fetch(ids)``, asked again in two halves (recursively) when its answer is over the size
    cap; one id over the cap alone raises ``ResponseTooLarge`` naming it."""
    try:
        return fetch(ids)
    except ResponseTooLarge as exc:
        if len(ids) == 1:
            raise ResponseTooLarge(
                f"{exc} Order {ids[0]} alone is over the cap; split or trim it in Order Manager",
                status=exc.status,
                method="GET",
                path=path,
            ) from exc
        half = len(ids) // 2
        return halve_on_oversize(fetch, ids[:half], path) + halve_on_oversize(fetch, ids[half:], path)
