"""connectors.transport.body_cap: bodies read as a stream, under a size and a time cap."""

from __future__ import annotations

import gzip
import json
import time

import pytest
import requests

from connectors.errors import NetworkError, ResponseTooLarge
from connectors.transport.body_cap import CHUNK, MAX_RESPONSE_BYTES, read_capped
from tests.http_servers import make_client, one_answer_server


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
            make_client(url, max_body_seconds=0.5, max_retries=0).json("GET", "/x")
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
        assert make_client(url).json("GET", "/orders") == json.loads(payload)


class EndlessRaw:
    """A stand-in for urllib3's response stream: ``read1`` hands out full chunks forever, counting them."""

    def __init__(self) -> None:
        self.handed_out = 0
        self.closed = False

    def read1(self, amt, decode_content=True):
        self.handed_out += amt
        return b"x" * amt

    def close(self):
        self.closed = True


def streamed(raw, headers=None) -> requests.Response:
    response = requests.Response()
    response.status_code, response.raw = 200, raw
    response.headers.update(headers or {})
    return response


def test_an_endless_body_is_refused_after_at_most_the_cap_plus_one_read():
    raw = EndlessRaw()
    with pytest.raises(ResponseTooLarge, match=r"larger than 100 KB for GET /x; it was not read") as info:
        read_capped(streamed(raw), max_bytes=100 * 1024, service="Order Manager", method="GET", path="/x")
    assert 100 * 1024 < raw.handed_out <= 100 * 1024 + CHUNK
    assert raw.closed, "the connection is closed, not left to be drained"
    assert info.value.status == 200 and not info.value.transient


def test_a_declared_length_over_the_cap_is_refused_before_reading():
    raw = EndlessRaw()
    with pytest.raises(ResponseTooLarge):
        read_capped(streamed(raw, {"Content-Length": str(10 * 1024 * 1024)}), max_bytes=MAX_RESPONSE_BYTES)
    assert raw.handed_out == 0 and raw.closed


def test_a_body_of_exactly_the_cap_is_read():
    payload = b"[" + b" " * 998 + b"]"

    def answer(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n" + payload)

    with one_answer_server(answer) as url:
        assert make_client(url, max_response_bytes=1000).request("GET", "/x").content == payload


def test_an_answer_over_the_cap_keeps_its_status_in_the_error_and_the_record():
    payload = json.dumps([{"orderId": n} for n in range(5000)]).encode()

    def chunked(conn):  # no Content-Length: the cap is found while reading
        body = b"".join(
            b"%x\r\n%s\r\n" % (len(payload[i : i + 4096]), payload[i : i + 4096]) for i in range(0, len(payload), 4096)
        )
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body + b"0\r\n\r\n")

    records = []
    with one_answer_server(chunked) as url, pytest.raises(ResponseTooLarge) as info:
        make_client(url, records, max_response_bytes=16 * 1024).json("GET", "/v1.1/orders")
    assert info.value.status == 200 and "larger than 16 KB" in str(info.value)
    assert [(r.status, "larger than 16 KB" in r.error) for r in records] == [(200, True)]
