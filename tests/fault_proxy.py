"""A tiny fault-injecting reverse proxy on a real 127.0.0.1 socket, in front of the live sandbox.

`FaultProxy(upstream_url)` forwards every request to the upstream (the pytest-django live
server) unless `proxy.rule(method, path, query) -> str | None` names a fault for it. Faults are
done at the socket level, as a broken server or network would:

- "reset": the connection is closed with an RST (SO_LINGER 0) before any answer;
- "stall": nothing is sent for `stall_seconds`, then the connection is closed;
- "huge": a 200 JSON-typed answer of `huge_bytes` with no Content-Length (close-delimited);
- "huge_declared": the same with an honest Content-Length;
- "endless": a 200 answer whose JSON array never ends (bytes keep coming until the client leaves);
- "html": a 200 HTML page (a captive portal, a wrong base URL);
- "empty": a 200 with an empty body;
- "401": the credentials are refused;
- "repeat_page": forwarded with `page=` forced to 1, so every page repeats the first one.
`hits` counts the faults applied per name. The proxy is a context manager.
"""

from __future__ import annotations

import http.client
import socket
import struct
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args):  # quiet test output
        pass

    def handle(self):
        try:
            super().handle()
        except (TimeoutError, ConnectionError, BrokenPipeError, OSError):
            pass  # the client left (it refused a huge answer, or timed out): expected

    def _any(self):
        proxy = self.server.proxy
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fault = proxy.rule(self.command, parts.path, parts.query) if proxy.rule else None
        if fault:
            proxy.hits[fault] += 1
        if fault == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if fault == "stall":
            time.sleep(proxy.stall_seconds)
            self.close_connection = True
            return
        if fault in ("huge", "huge_declared", "endless"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if fault == "huge_declared":
                self.send_header("Content-Length", str(proxy.huge_bytes))
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            chunk = b'{"orderId": 1, "orderNumber": "X"},' * 2048
            sent = 0
            self.wfile.write(b"[")
            while fault == "endless" or sent < proxy.huge_bytes:
                self.wfile.write(chunk)
                sent += len(chunk)
            return
        if fault in ("html", "empty", "401"):
            status, ctype, payload = {
                "html": (200, "text/html", b"<html><body><h1>Welcome to the hotel Wi-Fi</h1></body></html>"),
                "empty": (200, "application/json", b""),
                "401": (401, "application/json", b'{"error": "invalid_token", "message": "Access token expired"}'),
            }[fault]
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        query = parts.query
        if fault == "repeat_page":
            query = urlencode([(k, "1" if k == "page" else v) for k, v in parse_qsl(query, keep_blank_values=True)])
        self._forward(parts.path + (f"?{query}" if query else ""), body)

    def _forward(self, path: str, body: bytes):
        up = self.server.proxy.upstream
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
        conn.request(self.command, path, body=body or None, headers=headers)
        answer = conn.getresponse()
        payload = answer.read()
        conn.close()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in HOP_HEADERS:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    proxy: FaultProxy


class FaultProxy:
    def __init__(self, upstream_url: str, *, stall_seconds: float = 1.5, huge_bytes: int = 10 * 1024 * 1024):
        self.upstream = urlsplit(upstream_url)
        self.rule = None
        self.hits: Counter = Counter()
        self.stall_seconds = stall_seconds
        self.huge_bytes = huge_bytes
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.proxy = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()


class BlackHole:
    """A listening socket that never accepts and whose backlog is full: connects to it time out."""

    def __init__(self):
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(0)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._fillers = []
        # Linux queues backlog+1 connections; later SYNs are dropped, so connect() hangs.
        for _ in range(3):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            filler.connect_ex(self._listener.getsockname())
            self._fillers.append(filler)
        time.sleep(0.05)

    def close(self):
        for sock in self._fillers + [self._listener]:
            sock.close()
