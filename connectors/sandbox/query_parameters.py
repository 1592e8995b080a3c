"""Unknown query parameters are refused, so a client that sends a misspelled or invented parameter
fails against the sandbox instead of being quietly ignored.

The real services most likely ignore a parameter they do not know (Spring MVC and ASP.NET Web API
both bind only what an endpoint declares), which hides the mistake: `warehouseID=5` instead of
`warehouseId=5` would list every warehouse's orders. The sandbox is the stricter instrument.

- Order Manager: the allowed names are the operation's query parameters in the vendor's OpenAPI
  spec (`connectors/specs/order-manager-openapi.json`), so the sandbox and the spec cannot drift;
  refused with 422 "Invalid parameter specified", the spec's answer to a bad parameter.
- 3PL Warehouse Manager: no machine-readable spec; each view lists what the clients of the real API
  send (docs/wire-protocols.md, Part 2); refused with 400 `QueryParameterException`.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

SPEC_PATH = Path(__file__).resolve().parent.parent / "specs" / "order-manager-openapi.json"


@functools.lru_cache(maxsize=1)
def _spec_paths() -> dict:
    with SPEC_PATH.open(encoding="utf-8") as handle:
        return json.load(handle)["paths"]


def spec_query_parameters(method: str, path: str) -> frozenset[str] | None:
    """The query parameter names the spec declares for `method` `path`; None when the spec has no
    such operation (the view then answers 405 for the method itself)."""
    operation = _spec_paths().get(path, {}).get(method.lower())
    if operation is None:
        return None
    return frozenset(p["name"] for p in operation.get("parameters", []) if p.get("in") == "query")


def unknown(request, allowed) -> list[str]:
    """Query parameter names of `request` not in `allowed`, sorted."""
    return sorted(set(request.GET) - set(allowed))


def refuse_unknown(allowed_for_method, refusal):
    """Decorator for a view: `allowed_for_method(method)` gives the allowed names (None: not checked);
    a request with any other answers `refusal(names)`."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            allowed = allowed_for_method(request.method)
            names = unknown(request, allowed) if allowed is not None else []
            if names:
                return refusal(names)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
