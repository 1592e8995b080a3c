"""``Answer``: what ``HttpClient.request`` returns, an answer whose body has been read already.

Contract: ``status_code``, ``headers`` (case-insensitive) and ``content`` (the whole body as
bytes, read under the size and time caps of ``transport.body_cap``) are plain data; ``text`` is
the body decoded as the headers say (UTF-8 when they say nothing, undecodable bytes replaced);
``json()`` parses the body with ``json.loads`` and raises ``ValueError`` when it is not JSON
(``transport.json_body.parse_json`` is the strict reading that raises typed errors). The repr
shows the status only: a body may hold a token.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

__all__ = ["Answer"]


@dataclass(frozen=True)
class Answer:
    """One HTTP answer with its body (see the module docstring)."""

    status_code: int
    headers: Mapping[str, str] = field(default_factory=CaseInsensitiveDict, repr=False)
    content: bytes = field(default=b"", repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.headers, CaseInsensitiveDict):
            object.__setattr__(self, "headers", CaseInsensitiveDict(self.headers))

    @property
    def text(self) -> str:
        encoding = get_encoding_from_headers(self.headers) or "utf-8"
        try:
            return self.content.decode(encoding, errors="replace")
        except LookupError:  # a charset Python does not know
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)
