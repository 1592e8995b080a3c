"""Real HTTP servers on 127.0.0.1 for the transport tests: a scripted one, a silent one, a raw socket.

Shared by tests/test_transport_*.py; nothing here fakes the transport itself.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from connectors.transport import HttpClient


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


@contextlib.contextmanager
def scripted_server():
    srv = ScriptedServer()
    try:
        yield srv
    finally:
        srv.close()


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


def make_client(url, records=None, **kw) -> HttpClient:
    """An ``HttpClient`` with short backoff and timeouts, recording into ``records`` when given."""
    kw.setdefault("backoff_factor", 0.01)
    kw.setdefault("timeout", (1.0, 2.0))
    return HttpClient(url, on_call=(records.append if records is not None else None), service="Order Manager", **kw)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
