"""Warehouse Manager's collection pages in both of its representations, read with pydantic.

Contract (docs/wire-protocols.md WMS-2):
- HAL, asked for with ``Accept: application/hal+json``: ``totalResults`` and ``_embedded`` keyed
  by rel URLs (or a plain list under ``summaries``), and ``_links``;
- plain JSON (what the API answers without that Accept): ``TotalResults`` and ``ResourceList`` /
  ``Summaries``, PascalCase keys, turned into the HAL camelCase (``camel_keys``) the item models read;
- ``read_collection`` reads either into a ``Page`` (total, raw items, whether ``_links.next``
  points on); a missing total or collection key is ``WireError`` naming it and never reads as an
  empty page. The items themselves are read by the models of ``connectors.warehouse_manager.wire``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, NamedTuple

from pydantic import BeforeValidator, Field

from connectors.wire import NonNegativeInt, TextOrEmpty, WireError, WireModel, got, object_or_none, validate

__all__ = ["Page", "camel_keys", "read_collection"]


def camel_keys(data: Any) -> Any:
    """Plain-JSON PascalCase keys (``ReadOnly.OrderId``) as HAL camelCase (``readOnly.orderId``).

    Only the first letter changes, which is how the two representations differ in the evidence
    (airbytehq/airbyte streams.py ``ReadOnly.OrderId``, ``ItemIdentifier.Id`` vs.
    Drewcrandall/ExtensivSharp models ``readOnly.orderId``, ``itemIdentifier.id``).
    """
    if isinstance(data, list):
        return [camel_keys(value) for value in data]
    if isinstance(data, Mapping):
        return {
            (k[:1].lower() + k[1:] if isinstance(k, str) and not k.startswith(("$", "_")) else k): camel_keys(v)
            for k, v in data.items()
        }
    return data


class _Link(WireModel):
    href: TextOrEmpty = ""


class _Links(WireModel):
    next: Annotated[_Link | None, BeforeValidator(object_or_none)] = None


Links = Annotated[_Links | None, BeforeValidator(object_or_none)]


class _HalEmbedded(WireModel):
    total_results: NonNegativeInt = Field(alias="totalResults")
    embedded: dict[str, Any] = Field(alias="_embedded")
    links: Links = Field(None, alias="_links")


class _HalSummaries(WireModel):
    total_results: NonNegativeInt = Field(alias="totalResults")
    summaries: list[Any]
    links: Links = Field(None, alias="_links")


class _PlainResourceList(WireModel):
    total_results: NonNegativeInt = Field(alias="TotalResults")
    resource_list: list[Any] = Field(alias="ResourceList")
    links: Links = Field(None, alias="_links")


class _PlainSummaries(WireModel):
    total_results: NonNegativeInt = Field(alias="TotalResults")
    summaries: list[Any] = Field(alias="Summaries")
    links: Links = Field(None, alias="_links")


_FORMS = {
    ("_embedded", False): _HalEmbedded,
    ("summaries", False): _HalSummaries,
    ("ResourceList", True): _PlainResourceList,
    ("Summaries", True): _PlainSummaries,
}


class Page(NamedTuple):
    """One page of a collection: ``total`` (its ``totalResults``), the raw ``items`` (camelCase),
    and whether ``_links.next`` points to another page."""

    total: int
    items: list
    has_next: bool


def read_collection(body: Any, *, rel: str = "", hal_key: str = "_embedded", plain_key: str = "ResourceList") -> Page:
    """A collection page in either representation (module docstring); ``WireError`` names what is
    missing or malformed. ``rel`` picks the ``_embedded`` list (rel keys are literal URLs and the
    server spells the host "3plCentral": compared without case)."""
    if not isinstance(body, Mapping):
        raise WireError([f"expected an object, got {got(body)}"])
    if "totalResults" in body or hal_key in body:
        key, plain = hal_key, False
    elif "TotalResults" in body or plain_key in body:
        key, plain = plain_key, True
    else:
        found = ", ".join(map(str, body)) or "nothing"
        raise WireError([f"neither {hal_key!r} (HAL) nor {plain_key!r} (plain JSON) (found: {found})"])
    page = validate(_FORMS[(key, plain)], body)
    if key == "_embedded":
        match = next((k for k in page.embedded if isinstance(k, str) and k.lower() == rel.lower()), None)
        if match is None:
            found = ", ".join(map(str, page.embedded)) or "nothing"
            raise WireError([f"_embedded: has no {rel!r} (found: {found})"])
        items = validate(list[Any], page.embedded[match], root=f"_embedded[{rel!r}]")
    else:
        items = page.resource_list if key == "ResourceList" else page.summaries
    links = page.links
    has_next = links is not None and links.next is not None and bool(links.next.href)
    return Page(page.total_results, camel_keys(items) if plain else items, has_next)
