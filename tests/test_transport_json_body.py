"""connectors.transport.json_body: what is not JSON is refused in plain words, over a real socket."""

from __future__ import annotations

import pytest

from connectors.errors import MalformedResponse
from tests.http_servers import make_client, scripted_server


@pytest.fixture
def server():
    with scripted_server() as srv:
        yield srv


@pytest.mark.parametrize(
    "body,content_type,words",
    [
        (b"{not json", "application/json", "invalid JSON"),
        (b"<html><body>Login</body></html>", "text/html", "HTML page instead of JSON"),
        (b"", "application/json", "empty answer"),
        (b"  \n", "application/json", "empty answer"),
        (b'{"a": NaN}', "application/json", "invalid JSON"),
    ],
)
def test_malformed_bodies_are_permanent_malformed_response(server, body, content_type, words):
    server.script = [(200, {"Content-Type": content_type}, body)]
    with pytest.raises(MalformedResponse) as info:
        make_client(server.url).json("GET", "/v1/warehouses")
    assert words in str(info.value)
    assert not info.value.transient
    assert "GET /v1/warehouses" in str(info.value)
