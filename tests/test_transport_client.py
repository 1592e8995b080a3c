"""connectors.transport.client over real sockets on 127.0.0.1: joining, records, redaction, answers."""

from __future__ import annotations

import json
import pickle

import pytest

from connectors.errors import ConnectorError, MalformedResponse, RequestRejected, ServerError
from connectors.transport import Answer, CallRecord, HttpClient
from tests.http_servers import make_client, scripted_server

PASSWORD = "hunter2-very-secret"
TOKEN = "tok-abcdef123456"


@pytest.fixture
def server():
    with scripted_server() as srv:
        yield srv


@pytest.fixture
def records():
    return []


# -- success, joining, records -------------------------------------------------------------
def test_json_call_joins_prefix_and_records_path_without_query(server, records):
    http = make_client(server.url + "/sandbox/order-manager/", records)
    assert http.json("GET", "/v1/warehouses", params={"status": ["A", "B"], "page": 2}) == {"ok": True}
    assert server.requests[0]["path"] == "/sandbox/order-manager/v1/warehouses?status=A&status=B&page=2"
    assert records == [CallRecord("GET", "/v1/warehouses", 200, records[0].duration_ms, "", 1)]
    assert records[0].duration_ms > 0


def test_every_call_sends_user_agent_and_a_timeout_is_mandatory(server):
    make_client(server.url).json("GET", "/x")
    assert server.requests[0]["headers"]["User-Agent"] == "order-manager-hub/1.0"
    with pytest.raises(ValueError):
        HttpClient(server.url, timeout=None)


def test_absolute_url_is_used_as_is(server, records):
    http = make_client("http://127.0.0.1:9/api", records)
    http.json("POST", server.url + "/oauth/token", data={"grant_type": "password"})
    assert server.requests[0]["path"] == "/oauth/token"
    assert records[0].path == "/oauth/token"


def test_unexpected_status_is_malformed(server):
    server.script = [(302, {"Location": "/login"}, b"")]
    with pytest.raises(MalformedResponse):
        make_client(server.url).request("GET", "/x")


# -- redaction ------------------------------------------------------------------------------
def _echo(method, path, headers, body):
    """A server that echoes the request back in an error body, secrets included."""
    return json.dumps(
        {
            "message": "bad request",
            "you_sent": body.decode(),
            "headers": headers,
            "password": PASSWORD,
            "access_token": TOKEN,
        }
    ).encode()


def test_secrets_never_reach_records_or_exceptions(server, records):
    server.script = [(400, {}, _echo), (500, {}, _echo)]
    http = make_client(server.url, records)
    with pytest.raises(RequestRejected) as first:
        http.json(
            "POST",
            f"/oauth/token?code={TOKEN}",
            data={"username": "u", "password": PASSWORD},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    with pytest.raises(ServerError) as second:
        http.json(
            "POST",
            "/v1/x",
            json={"password": PASSWORD, "client_secret": TOKEN},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    assert PASSWORD in server.requests[0]["body"].decode()  # the server really got them
    for exc in (first.value, second.value):
        text = " ".join([str(exc), repr(exc), exc.body_excerpt, str(exc.path), json.dumps(exc.details)])
        assert PASSWORD not in text and TOKEN not in text
    assert "***" in first.value.body_excerpt
    for record in records:
        assert PASSWORD not in repr(record) and TOKEN not in repr(record)
        assert "?" not in record.path


def test_a_failing_on_call_hook_does_not_fail_the_call(server):
    def broken(record):
        raise RuntimeError("audit down")

    assert HttpClient(server.url, on_call=broken).json("GET", "/x") == {"ok": True}


def test_connector_errors_survive_pickling():
    exc = ServerError("boom", status=503, method="get", path="/v1/x?a=1", retry_after=2.0)
    copy = pickle.loads(pickle.dumps(exc))
    assert isinstance(copy, ServerError) and isinstance(copy, ConnectorError)
    assert (str(copy), copy.status, copy.method, copy.path, copy.retry_after) == ("boom", 503, "GET", "/v1/x", 2.0)


# -- answers --------------------------------------------------------------------------------
def test_request_returns_the_answer_with_its_read_body(server):
    server.script = [(201, {"ETag": '"v1"'}, b'{"id": 7}')]
    answer = make_client(server.url).request("POST", "/orders", json={})
    assert isinstance(answer, Answer)
    assert (answer.status_code, answer.headers["etag"], answer.content) == (201, '"v1"', b'{"id": 7}')
    assert answer.json() == {"id": 7}


def test_an_answer_decodes_as_its_headers_say_and_shows_only_its_status():
    latin = Answer(400, {"Content-Type": "text/plain; charset=latin-1"}, "café".encode("latin-1"))
    assert latin.text == "café"
    assert Answer(400, {}, "café ✓".encode()).text == "café ✓"  # nothing declared: UTF-8
    assert Answer(400, {"Content-Type": "text/plain; charset=nonsense"}, b"ok").text == "ok"
    secret = Answer(200, {"Content-Type": "application/json"}, b'{"access_token": "tok-secret"}')
    assert repr(secret) == "Answer(status_code=200)"
    with pytest.raises(ValueError):
        Answer(200, {}, b"<html>").json()


# -- the limiter seam -------------------------------------------------------------------------
class CountingLimiter:
    def __init__(self, fail_after=None):
        self.calls = 0
        self.fail_after = fail_after

    def acquire(self):
        if self.fail_after is not None and self.calls >= self.fail_after:
            from connectors.errors import TransientError

            raise TransientError("limit store down")
        self.calls += 1
        return 0.0


def test_the_limiter_is_acquired_once_per_request(server, records):
    limiter = CountingLimiter()
    http = make_client(server.url, records, limiter=limiter)
    for _ in range(3):
        http.json("GET", "/x")
    assert limiter.calls == 3 and len(server.requests) == 3


def test_what_the_limiter_raises_is_raised_with_nothing_sent(server, records):
    from connectors.errors import TransientError

    http = make_client(server.url, records, limiter=CountingLimiter(fail_after=1))
    http.json("GET", "/x")
    with pytest.raises(TransientError, match="limit store down"):
        http.json("GET", "/x")
    assert len(server.requests) == 1 and len(records) == 1


def test_a_limiter_without_acquire_is_refused():
    with pytest.raises(TypeError, match="acquire"):
        HttpClient("https://wms.example.test", limiter=object())
