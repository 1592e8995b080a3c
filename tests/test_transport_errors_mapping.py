"""connectors.transport.errors_mapping over real sockets: each unwanted status becomes its typed error."""

from __future__ import annotations

import pytest

from connectors.errors import AuthenticationError, NotFound, PermanentError, RequestRejected
from tests.http_servers import make_client, scripted_server


@pytest.fixture
def server():
    with scripted_server() as srv:
        yield srv


@pytest.mark.parametrize(
    "status,error",
    [
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFound),
        (400, RequestRejected),
        (409, RequestRejected),
        (422, RequestRejected),
    ],
)
def test_4xx_map_to_permanent_errors(server, status, error):
    server.script = [(status, {}, b'{"message": "Invalid parameter specified"}')]
    with pytest.raises(error) as info:
        make_client(server.url).json("GET", "/v1.1/orders?status=X")
    exc = info.value
    assert isinstance(exc, PermanentError) and not exc.transient
    assert exc.status == status and exc.method == "GET" and exc.path == "/v1.1/orders"
    assert len(server.requests) == 1
    if error is RequestRejected:
        assert exc.details == {"message": "Invalid parameter specified"}
        assert "Invalid parameter specified" in str(exc)
