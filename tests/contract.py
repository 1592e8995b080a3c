"""Check requests and responses against the Order Manager OpenAPI spec (openapi-core).

Used by the client tests (every request the client sends must be one the real API accepts) and
by the sandbox tests (every answer the sandbox gives must be one the real API could give).

    validate_request("GET", "http://127.0.0.1:8000/sandbox/order-manager/v1.1/orders",
                     params={"status": ["AWAITING_3PL_EXPORT"], "page": 1})
    validate_response("GET", url, 200, [{"orderId": 1, ...}])

Both raise ``AssertionError`` with a readable message. Any base URL or prefix is mapped onto
the spec's server (https://api.skubana.com/): everything before the first ``/v1``, ``/v1.1``...
segment is dropped. Query strings in ``url`` are merged with ``params``.

The spec is loaded once per process (it is 870 KB) without spec validation, because the
vendor's generated spec has defects strict validators reject (see connectors/specs/README.md). One defect also
breaks validation of valid calls and is repaired on load: array query parameters that carry
their items' ``enum`` on the array itself (``status`` of GET /v1.1/orders), which no array
could ever satisfy. The repair only moves that enum to where the items already have it.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

# The vendor spec is vendored into the repository (source and known defects: connectors/specs/README.md),
# so the contract tests run on any fresh clone.
SPEC_PATH = Path(__file__).resolve().parent.parent / "connectors" / "specs" / "order-manager-openapi.json"
SPEC_HOST = "https://api.skubana.com"

_VERSIONED_PATH = re.compile(r"(/v\d+(?:\.\d+)?(?:/.*)?)$")

__all__ = ["load_spec", "openapi", "spec_path", "is_documented", "validate_request", "validate_response"]


@lru_cache(maxsize=1)
def load_spec() -> dict[str, Any]:
    """The spec as a dict, with the array-enum defect repaired (cached per process)."""
    spec = json.loads(SPEC_PATH.read_text())
    for path_item in spec.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if schema.get("type") == "array" and "enum" in schema:
                    items = schema.setdefault("items", {"type": "string"})
                    items.setdefault("enum", schema["enum"])
                    del schema["enum"]
    return spec


@lru_cache(maxsize=1)
def openapi() -> OpenAPI:
    """The openapi-core object for the spec (built once; building it takes a while)."""
    return OpenAPI.from_dict(copy.deepcopy(load_spec()), config=Config(spec_validator_cls=None))


def spec_path(url: str) -> str:
    """The API path of ``url`` as the spec writes it: host and any prefix before /vN dropped."""
    path = urlsplit(url).path if "://" in url else url.split("?", 1)[0]
    match = _VERSIONED_PATH.search(path)
    if not match:
        raise AssertionError(f"{url!r} has no /v1, /v1.1... API path, so it cannot be an Order Manager API call")
    return match.group(1)


def is_documented(method: str, url: str) -> bool:
    """True when the spec has an operation for this method and path (templated paths included)."""
    try:
        path = spec_path(url)
    except AssertionError:
        return False
    for template, item in load_spec()["paths"].items():
        if method.lower() in item and re.fullmatch(_template_regex(template), path):
            return True
    return False


def _documents_status(method: str, url: str, status: int) -> bool:
    path = spec_path(url)
    for template, item in load_spec()["paths"].items():
        operation = item.get(method.lower())
        if operation and re.fullmatch(_template_regex(template), path):
            return str(status) in operation.get("responses", {})
    return False


def _template_regex(template: str) -> str:
    return "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in re.split(r"(\{[^/}]+\})", template))


@dataclass
class _Request:
    method: str
    path: str
    query: list[tuple[str, str]]
    body: bytes | None
    content_type: str
    host_url: str = SPEC_HOST
    parameters: RequestParameters = field(init=False)

    def __post_init__(self) -> None:
        multi: dict[str, list[str]] = {}
        for key, value in self.query:
            multi.setdefault(key, []).append(value)
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(multi),
            header=Headers({"Content-Type": self.content_type} if self.content_type else {}),
            cookie=ImmutableMultiDict(),
        )


@dataclass
class _Response:
    status_code: int
    data: bytes | None
    content_type: str
    headers: Headers = field(default_factory=Headers)


def _query(url: str, params: Any) -> list[tuple[str, str]]:
    pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    if params:
        items = params.items() if isinstance(params, dict) else params
        for key, value in items:
            values = value if isinstance(value, (list, tuple)) else [value]
            pairs.extend((key, _scalar(item)) for item in values if item is not None)
    return pairs


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _body(body: Any) -> tuple[bytes | None, str]:
    if body is None:
        return None, ""
    if isinstance(body, (bytes, bytearray)):
        return bytes(body), "application/json"
    if isinstance(body, str):
        return body.encode(), "application/json"
    return json.dumps(body).encode(), "application/json"


def _readable(exc: Exception, limit: int = 400) -> str:
    """The validation error and its causes, one line each, without the spec's huge enum lists."""
    lines = [f"{type(exc).__name__}: {exc}"]
    cause = exc.__cause__
    while cause is not None:
        inner_errors = getattr(cause, "schema_errors", None) or []
        lines.append(f"  caused by {type(cause).__name__}" + ("" if inner_errors else f": {cause}"))
        for inner in inner_errors:
            path = "/".join(str(p) for p in getattr(inner, "absolute_path", []))
            lines.append(f"    - at {path or '(root)'}: {getattr(inner, 'message', inner)}")
        cause = cause.__cause__
    return "\n".join(line if len(line) <= limit else line[:limit] + " …" for line in lines)


def _where(request: _Request) -> str:
    return f"{request.method.upper()} {request.path}" + (f"?{urlencode(request.query)}" if request.query else "")


def validate_request(
    method: str, url: str, *, params: Any = None, body: Any = None, content_type: str | None = None
) -> None:
    """AssertionError unless ``method url`` (+ query ``params`` and JSON ``body``) fits the spec.

    ``body`` may be a Python value (serialised as JSON) or the raw bytes/str that were sent.
    """
    raw, default_type = _body(body)
    request = _Request(
        method.lower(), spec_path(url), _query(url, params), raw, content_type or default_type or "application/json"
    )
    try:
        openapi().validate_request(request)
    except Exception as exc:  # openapi-core raises a family of validation errors
        raise AssertionError(
            f"request {_where(request)} does not fit the Order Manager spec:\n{_readable(exc)}"
        ) from None


def validate_response(
    method: str,
    url: str,
    status: int,
    body: Any,
    *,
    params: Any = None,
    content_type: str = "application/json",
    undocumented_errors_ok: bool = False,
) -> None:
    """AssertionError unless ``status`` and JSON ``body`` are a documented answer to ``method url``.

    The spec documents few error answers (no 401, 429 or 5xx on most operations); pass
    ``undocumented_errors_ok=True`` to accept a status >= 400 the operation does not list
    (its body is then not checked), e.g. for fault-injection answers.
    """
    if undocumented_errors_ok and int(status) >= 400 and not _documents_status(method, url, int(status)):
        return
    raw, _ = _body(body)
    request = _Request(method.lower(), spec_path(url), _query(url, params), None, "application/json")
    response = _Response(int(status), raw, content_type if raw is not None else "")
    try:
        openapi().validate_response(request, response)
    except Exception as exc:
        raise AssertionError(
            f"response {status} to {method.upper()} {request.path} does not fit the Order Manager spec:\n{_readable(exc)}"
        ) from None


def validate_prepared(prepared) -> None:
    """Validate a ``requests.PreparedRequest`` (e.g. from ``responses.calls``) against the spec."""
    validate_request(
        prepared.method,
        prepared.url,
        body=prepared.body,
        content_type=prepared.headers.get("Content-Type") if prepared.body else None,
    )
