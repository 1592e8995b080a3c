"""connectors.http against real sockets on 127.0.0.1: retries, 429 waits, timeouts, pacing, records."""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from connectors.errors import (
    AuthenticationError,
    ConnectorError,
    MalformedResponse,
    NetworkError,
    NotFound,
    PermanentError,
    RateLimited,
    RequestRejected,
    ServerError,
)
from connectors.http import CallRecord, HttpClient, RatePacer, retry_after_from_headers

PASSWORD = "hunter2-very-secret"
TOKEN = "tok-abcdef123456"


class ScriptedServer:
    """A threaded HTTP server answering from a script of (status, headers, body) steps.

    When the script is empty it answers 200 ``{"ok": true}``. Every request is logged with its
    method, path, headers and body, so tests can count what really reached the server.
    """

    def __init__(self) -> None:
        self.script: list[tuple[int, dict, bytes]] = []
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with server.lock:
                    server.requests.append(
                        {
                            "method": self.command,
                            "path": self.path,
                            "headers": dict(self.headers),
                            "body": body,
                            "at": time.monotonic(),
                        }
                    )
                    step = server.script.pop(0) if server.script else (200, {}, b'{"ok": true}')
                status, headers, payload = step
                if callable(payload):
                    payload = payload(self.command, self.path, dict(self.headers), body)
                self.send_response(status)
                headers = {"Content-Type": "application/json", **headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class SilentServer:
    """Accepts connections and never answers: the read-timeout case. Counts connections."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.accepted: list[socket.socket] = []
        self._stop = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        self.sock.settimeout(0.05)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted.append(conn)

    def close(self) -> None:
        self._stop = True
        self.thread.join(1)
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@pytest.fixture
def server():
    srv = ScriptedServer()
    yield srv
    srv.close()


@pytest.fixture
def records():
    return []


def client(url, records=None, **kw):
    kw.setdefault("backoff_factor", 0.01)
    kw.setdefault("timeout", (1.0, 2.0))
    return HttpClient(url, on_call=(records.append if records is not None else None), service="Order Manager", **kw)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- success, joining, records -------------------------------------------------------------
def test_json_call_joins_prefix_and_records_path_without_query(server, records):
    http = client(server.url + "/sandbox/order-manager/", records)
    assert http.json("GET", "/v1/warehouses", params={"status": ["A", "B"], "page": 2}) == {"ok": True}
    assert server.requests[0]["path"] == "/sandbox/order-manager/v1/warehouses?status=A&status=B&page=2"
    assert records == [CallRecord("GET", "/v1/warehouses", 200, records[0].duration_ms, "", 1)]
    assert records[0].duration_ms > 0


def test_every_call_sends_user_agent_and_a_timeout_is_mandatory(server):
    client(server.url).json("GET", "/x")
    assert server.requests[0]["headers"]["User-Agent"] == "order-manager-hub/1.0"
    with pytest.raises(ValueError):
        HttpClient(server.url, timeout=None)


def test_absolute_url_is_used_as_is(server, records):
    http = client("http://127.0.0.1:9/api", records)
    http.json("POST", server.url + "/oauth/token", data={"grant_type": "password"})
    assert server.requests[0]["path"] == "/oauth/token"
    assert records[0].path == "/oauth/token"


# -- 429 ------------------------------------------------------------------------------------
def test_429_waits_the_quota_header_in_milliseconds_then_succeeds_even_for_post(server, records):
    server.script = [(429, {"x-skubana-quota-retryAfter": "200"}, b'{"message": "quota"}')]
    started = time.monotonic()
    assert client(server.url, records).json("POST", "/v1.1/inventory/adjust", json=[]) == {"ok": True}
    elapsed = time.monotonic() - started
    assert 0.18 <= elapsed < 1.0
    gap = server.requests[1]["at"] - server.requests[0]["at"]
    assert 0.18 <= gap < 1.0
    assert [(r.status, r.attempt) for r in records] == [(429, 1), (200, 2)]
    assert records[0].error and not records[1].error


def test_429_honours_retry_after_seconds(server):
    server.script = [(429, {"Retry-After": "1"}, b"{}")]
    started = time.monotonic()
    client(server.url).json("GET", "/x")
    assert 0.95 <= time.monotonic() - started < 2.5


def test_429_without_a_wait_header_waits_one_second(server):
    server.script = [(429, {}, b"{}")]
    started = time.monotonic()
    client(server.url).json("GET", "/x")
    assert 0.95 <= time.monotonic() - started < 2.5
    assert len(server.requests) == 2


@contextlib.contextmanager
def one_answer_server(answer):
    """A raw 127.0.0.1 socket that takes one request and lets `answer(conn)` write any bytes back
    (what ScriptedServer cannot: a trickle, chunked encoding); yields its base URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve():
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            try:
                answer(conn)
            except OSError:
                pass  # the client hung up

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        thread.join(6)
        listener.close()


def test_an_answer_trickled_past_the_body_time_limit_is_refused():
    """A server that sends its body a byte at a time never trips the read timeout (each byte comes
    in time); the whole answer has a time limit too, and past it the call is refused."""

    def trickle(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[")
        for _ in range(100):
            conn.sendall(b" ")
            time.sleep(0.05)

    with one_answer_server(trickle) as url:
        started = time.monotonic()
        with pytest.raises(NetworkError, match=r"took more than 0.5 s to send its answer to GET /x") as info:
            client(url, max_body_seconds=0.5, max_retries=0).json("GET", "/x")
        assert time.monotonic() - started < 2.0  # not the 5 s the server would trickle for
    assert info.value.transient and info.value.status == 200


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_a_gzipped_answer_is_decoded_chunked_or_not(chunked):
    """Hosted APIs answer gzip-compressed and often chunked: the streamed reader decodes both."""
    payload = json.dumps([{"orderId": n, "orderNumber": f"SO-{n:06d}"} for n in range(3000)]).encode()
    packed = gzip.compress(payload)

    def gzipped(conn):
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
        if chunked:
            body = (
                b"".join(
                    b"%x\r\n%s\r\n" % (len(packed[i : i + 1000]), packed[i : i + 1000])
                    for i in range(0, len(packed), 1000)
                )
                + b"0\r\n\r\n"
            )
            conn.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n" + body)
        else:
            conn.sendall(head + b"Content-Length: %d\r\n\r\n" % len(packed) + packed)

    with one_answer_server(gzipped) as url:
        assert client(url).json("GET", "/orders") == json.loads(payload)


def test_429_longer_than_the_cap_is_not_slept_but_raised_with_retry_after(server):
    server.script = [(429, {"x-skubana-quota-retryAfter": "30000"}, b"{}")]
    started = time.monotonic()
    with pytest.raises(RateLimited) as info:
        client(server.url, max_rate_limit_wait=5).json("GET", "/x")
    assert time.monotonic() - started < 1.0
    assert info.value.transient and info.value.retry_after == pytest.approx(30.0)
    assert len(server.requests) == 1


def test_429_that_persists_becomes_rate_limited(server):
    server.script = [(429, {"x-skubana-quota-retryAfter": "10"}, b"{}")] * 10
    with pytest.raises(RateLimited) as info:
        client(server.url, max_retries=2).json("GET", "/x")
    assert len(server.requests) == 3
    assert "after 3 attempts" in str(info.value)


def test_retry_after_parsing():
    assert retry_after_from_headers({"x-skubana-quota-retryAfter": "1500"}) == 1.5
    assert retry_after_from_headers({"Retry-After": "7"}) == 7.0
    assert retry_after_from_headers({"Retry-After": "soon"}) is None
    assert retry_after_from_headers({}) is None


# -- 5xx and idempotency --------------------------------------------------------------------
def test_5xx_on_get_is_retried_then_server_error_transient(server, records):
    server.script = [(503, {}, b'{"message": "down"}')] * 10
    with pytest.raises(ServerError) as info:
        client(server.url, records, max_retries=2).json("GET", "/v1/warehouses")
    assert len(server.requests) == 3
    assert info.value.transient and info.value.status == 503
    assert "down" in str(info.value)
    assert [r.attempt for r in records] == [1, 2, 3] and all(r.status == 503 for r in records)


def test_5xx_then_success_on_get(server):
    server.script = [(502, {}, b"bad gateway"), (500, {}, b"{}")]
    assert client(server.url).json("GET", "/x") == {"ok": True}
    assert len(server.requests) == 3


def test_post_is_not_resent_after_a_500(server, records):
    server.script = [(500, {}, b'{"message": "boom"}')] * 5
    with pytest.raises(ServerError):
        client(server.url, records).json("POST", "/v1/orders/sendtofulfillment")
    assert len(server.requests) == 1
    assert len(records) == 1 and records[0].status == 500


def test_idempotent_override_both_ways(server):
    server.script = [(500, {}, b"{}")]
    assert client(server.url).json("POST", "/adjust", idempotent=True) == {"ok": True}
    assert len(server.requests) == 2
    server.script = [(500, {}, b"{}")] * 3
    with pytest.raises(ServerError):
        client(server.url).json("PUT", "/shipment", idempotent=False)
    assert len(server.requests) == 3


# -- network errors -------------------------------------------------------------------------
def test_connection_refused_is_network_error(records):
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(NetworkError) as info:
        client(url, records, max_retries=1).json("POST", "/v1/orders")
    assert info.value.transient
    assert "connection refused" in str(info.value)
    assert len(records) == 2 and all(r.status is None and r.error for r in records)


def test_read_timeout_is_network_error_and_post_is_not_resent():
    silent = SilentServer()
    try:
        http = client(silent.url, timeout=(1.0, 0.3))
        started = time.monotonic()
        with pytest.raises(NetworkError) as info:
            http.json("POST", "/v1/orders/sendtofulfillment")
        assert time.monotonic() - started < 1.5
        assert "did not answer" in str(info.value)
        time.sleep(0.1)
        assert len(silent.accepted) == 1  # one connection, never a second POST

        with pytest.raises(NetworkError):
            client(silent.url, timeout=(1.0, 0.2), max_retries=1).json("GET", "/v1/warehouses")
        time.sleep(0.1)
        assert len(silent.accepted) == 3  # the GET was tried twice
    finally:
        silent.close()


# -- status mapping and bodies --------------------------------------------------------------
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
        client(server.url).json("GET", "/v1.1/orders?status=X")
    exc = info.value
    assert isinstance(exc, PermanentError) and not exc.transient
    assert exc.status == status and exc.method == "GET" and exc.path == "/v1.1/orders"
    assert len(server.requests) == 1
    if error is RequestRejected:
        assert exc.details == {"message": "Invalid parameter specified"}
        assert "Invalid parameter specified" in str(exc)


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
        client(server.url).json("GET", "/v1/warehouses")
    assert words in str(info.value)
    assert not info.value.transient
    assert "GET /v1/warehouses" in str(info.value)


def test_unexpected_status_is_malformed(server):
    server.script = [(302, {"Location": "/login"}, b"")]
    with pytest.raises(MalformedResponse):
        client(server.url).request("GET", "/x")


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
    http = client(server.url, records)
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


# -- pacing ---------------------------------------------------------------------------------
def test_requests_per_second_caps_the_rate(server):
    http = client(server.url, requests_per_second=20)
    started = time.monotonic()
    for _ in range(6):
        http.json("GET", "/x")
    assert time.monotonic() - started >= 5 / 20 - 0.01
    starts = [r["at"] for r in server.requests]
    assert min(b - a for a, b in zip(starts, starts[1:])) >= 1 / 20 - 0.02


def test_pacing_is_shared_between_threads(server):
    http = client(server.url, requests_per_second=40)
    started = time.monotonic()
    threads = [threading.Thread(target=lambda: [http.json("GET", "/x") for _ in range(4)]) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(server.requests) == 12
    assert time.monotonic() - started >= 11 / 40 - 0.01


def test_set_rate_changes_and_removes_pacing():
    pacer = RatePacer(None)
    assert pacer.acquire() == 0.0
    pacer.set_rate(10)
    pacer.acquire()
    assert pacer.acquire() == pytest.approx(0.1, abs=0.03)
    pacer.set_rate(None)
    assert pacer.acquire() == 0.0
    with pytest.raises(ValueError):
        pacer.set_rate(0)


def test_connector_errors_survive_pickling():
    import pickle

    exc = ServerError("boom", status=503, method="get", path="/v1/x?a=1", retry_after=2.0)
    copy = pickle.loads(pickle.dumps(exc))
    assert isinstance(copy, ServerError) and isinstance(copy, ConnectorError)
    assert (str(copy), copy.status, copy.method, copy.path, copy.retry_after) == ("boom", 503, "GET", "/v1/x", 2.0)


# -- the private-address guard at connect time (issue 15, finding 4) ----------------------------


@pytest.fixture
def connects(monkeypatch):
    """Every TCP connect urllib3 attempts, recorded and refused (nothing leaves the machine)."""
    import urllib3.util.connection

    attempted = []

    def refuse(address, *args, **kwargs):
        attempted.append(address)
        raise ConnectionRefusedError(f"test: no connect to {address}")

    monkeypatch.setattr(urllib3.util.connection, "create_connection", refuse)
    return attempted


@pytest.mark.parametrize(
    "host",
    [
        "[::10.0.0.1]",  # IPv4-compatible (deprecated, RFC 4291 2.5.5.1): the probe's finding
        "[::a00:1]",  # the same address in hex
        "[::127.0.0.1]",
        "[::169.254.169.254]",
        "[::ffff:0:10.0.0.1]",  # IPv4-translated (RFC 2765)
        "[::ffff:10.0.0.1]",  # IPv4-mapped (requests-hardened already refused it)
    ],
)
def test_ipv6_forms_of_a_private_ipv4_address_are_refused_before_any_connect(connects, host):
    blocked = HttpClient(f"https://{host}", block_private_addresses=True, timeout=2, max_retries=0)
    with pytest.raises(PermanentError, match="resolves to a private, loopback or link-local address"):
        blocked.json("GET", "/v1/warehouses", headers={"Authorization": f"Bearer {TOKEN}"})
    assert connects == []


def test_an_ipv4_compatible_form_of_a_public_address_is_judged_by_that_address(connects):
    # The rule refuses by the embedded address, not the whole deprecated range: the connect is
    # attempted (and refused by the test's stand-in for the network).
    allowed = HttpClient("https://[::8.8.8.8]", block_private_addresses=True, timeout=2, max_retries=0)
    with pytest.raises(NetworkError):
        allowed.json("GET", "/v1/warehouses")
    assert [address[0] for address in connects] == ["::808:808"]
