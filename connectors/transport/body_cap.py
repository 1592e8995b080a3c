"""The body cap: read a streamed answer's body, refusing one too large or too slow.

Contract: ``read_capped(response, ...)`` returns the whole decoded body of a ``requests``
response sent with ``stream=True`` and not read yet, as bytes. It refuses, and closes the
response:
- a body over ``max_bytes`` with ``ResponseTooLarge`` (a ``MalformedResponse``: a paged read asks
  again for fewer items), before reading anything when ``Content-Length`` says so, else as soon
  as the bytes read pass the cap: never more than ``max_bytes`` plus one read (``CHUNK``);
- a body still arriving after ``max_body_seconds`` with ``NetworkError`` (transient): the read
  timeout applies per socket read, so a server trickling a byte at a time would otherwise never
  time out. The limit is checked after every socket read.
Transport failures while reading raise the ``requests`` exceptions ``iter_content`` would raise,
so ``transport.errors_mapping`` words them the same way. The cap owns the stream: a ``requests``
response hook must not read the body (none in the hub does).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import requests
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError
from urllib3.exceptions import SSLError as urllib3_SSLError

from connectors.errors import ConnectorError, NetworkError, ResponseTooLarge

__all__ = ["CHUNK", "MAX_BODY_SECONDS", "MAX_RESPONSE_BYTES", "format_size", "read_capped"]

# The largest answer read. An Order Manager page of 100 orders or a WMS page of stock summaries
# is well under 1 MB; anything far larger is a broken or hostile server, not data.
MAX_RESPONSE_BYTES = 5 * 1024 * 1024
# Wall-clock budget for reading one body (see the module docstring).
MAX_BODY_SECONDS = 120.0
CHUNK = 64 * 1024


def format_size(size: int) -> str:
    """``5 MB``, ``128 KB``: a byte count in the unit people read (the cap can be lowered below 1 MB)."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:g} {unit}"
    return f"{size} bytes"


def available_chunks(response: requests.Response) -> Iterator[bytes]:
    """The streamed body, decoded, in pieces of whatever each socket read brought (at most CHUNK).

    requests' ``iter_content(n)`` blocks until n bytes arrived, so a server trickling one byte per
    read timeout kept a call going for hours and the body's time limit was checked only between
    full chunks; urllib3's ``read1`` returns after every read.
    """
    raw = response.raw
    try:
        while chunk := raw.read1(CHUNK, decode_content=True):
            yield chunk
    except ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    except DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from exc
    except ReadTimeoutError as exc:
        raise requests.exceptions.ConnectionError(exc) from exc
    except urllib3_SSLError as exc:
        raise requests.exceptions.SSLError(exc) from exc


def read_capped(
    response: requests.Response,
    *,
    max_bytes: int = MAX_RESPONSE_BYTES,
    max_seconds: float = MAX_BODY_SECONDS,
    service: str = "The server",
    method: str = "",
    path: str = "",
) -> bytes:
    """The body of ``response`` (see the module docstring); ``service`` starts the error messages."""
    common = {"status": response.status_code, "method": method, "path": path}
    too_big = ResponseTooLarge(
        f"{service} sent an answer larger than {format_size(max_bytes)} for {method} {path}; it was not read", **common
    )
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        response.close()
        raise too_big
    deadline = time.monotonic() + max_seconds
    chunks, size = [], 0
    try:
        for chunk in available_chunks(response):
            size += len(chunk)
            if size > max_bytes:
                raise too_big
            if time.monotonic() > deadline:
                raise NetworkError(
                    f"{service} took more than {max_seconds:g} s to send its answer to {method} {path}", **common
                )
            chunks.append(chunk)
    except ConnectorError:
        response.close()
        raise
    return b"".join(chunks)
