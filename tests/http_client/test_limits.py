"""Total deadline (C19), size cap after decompression (C16) and broken bodies (C15), with raw servers."""

import gzip
import time
import tracemalloc
import zlib

import pytest

from actions.http_client import OutboundError, OutboundRequest, send
from tests.http_client.servers import reply


@pytest.fixture
def limits(allow_loopback, settings):
    settings.FLOWS_HTTP_MAX_RESPONSE_BYTES = 64 * 1024
    settings.FLOWS_HTTP_DEFAULT_TIMEOUT = 1.0
    return settings


def fails(url: str, code: str, **kwargs) -> tuple[OutboundError, float]:
    started = time.monotonic()
    with pytest.raises(OutboundError) as caught:
        send(OutboundRequest("GET", url, **kwargs))
    assert caught.value.code == code, caught.value.message
    return caught.value, time.monotonic() - started


def never_answers(conn, server):
    server.stopped.wait(10)


def drip_body(conn, server):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n")
    for _ in range(100):
        if server.stopped.wait(0.2):
            return
        conn.sendall(b"x")


def drip_headers(conn, server):
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    for _ in range(100):
        if server.stopped.wait(0.2):
            return
        conn.sendall(b"X-Slow: y\r\n")


def drip_chunked(conn, server):
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    for _ in range(100):
        if server.stopped.wait(0.2):
            return
        conn.sendall(b"1\r\nx\r\n")


@pytest.mark.parametrize("handler", [never_answers, drip_body, drip_headers, drip_chunked])
def test_c19_deadline_is_total_not_per_read(limits, raw_server, handler):
    server = raw_server(handler)
    error, elapsed = fails(server.url("/"), "timeout", timeout=1)
    assert 0.9 < elapsed < 1.8
    assert error.message == "The request did not complete within 1 s."


def test_c19_default_timeout_applies(limits, raw_server):
    server = raw_server(drip_body)
    _, elapsed = fails(server.url("/"), "timeout")
    assert 0.9 < elapsed < 1.8


def test_timeout_is_clamped_to_the_maximum(limits, raw_server):
    limits.FLOWS_HTTP_MAX_TIMEOUT = 1.0
    server = raw_server(never_answers)
    _, elapsed = fails(server.url("/"), "timeout", timeout=60)
    assert elapsed < 1.8


def test_deadline_covers_redirects(limits, raw_server):
    def slow_redirect(conn, server):
        server.stopped.wait(0.4)
        conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n")

    server = raw_server(slow_redirect)
    _, elapsed = fails(server.url("/"), "timeout", timeout=1)
    assert elapsed < 1.8


def endless_chunked(conn, server):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
    block = b"y" * 8192
    for _ in range(10_000):
        if server.stopped.is_set():
            return
        conn.sendall(b"2000\r\n" + block + b"\r\n")


def test_c16_endless_chunked_body_stops_at_the_cap(limits, raw_server):
    server = raw_server(endless_chunked)
    error, elapsed = fails(server.url("/"), "response_too_large", timeout=5)
    assert error.message == "The response is larger than the 64 KiB limit."
    assert elapsed < 1


def test_c16_gzip_bomb_stops_at_the_cap_with_bounded_memory(limits, raw_server):
    limits.FLOWS_HTTP_MAX_RESPONSE_BYTES = 1024 * 1024
    bomb = gzip.compress(b"\0" * (200 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 300 * 1024
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Encoding", "gzip"),
        ("Content-Length", str(len(bomb))),
    ]
    server = raw_server(reply("200 OK", headers, bomb))
    tracemalloc.start()
    try:
        fails(server.url("/"), "response_too_large", timeout=5)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024


def test_c16_huge_content_length_is_refused_before_reading(limits, raw_server):
    server = raw_server(reply("200 OK", [("Content-Length", str(5 * 1024**3))], b"x" * 100))
    _, elapsed = fails(server.url("/"), "response_too_large", timeout=5)
    assert elapsed < 0.5


def test_body_exactly_at_the_cap_is_accepted(limits, raw_server):
    body = b"z" * (64 * 1024)
    server = raw_server(
        reply("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))], body)
    )
    result = send(OutboundRequest("GET", server.url("/"), timeout=5))
    assert result.meta["size_bytes"] == len(body)
    assert len(result.output["body"]) == len(body)


def test_cap_counts_decompressed_bytes(limits, raw_server):
    data = gzip.compress(b"a" * (64 * 1024 + 1))
    headers = [
        ("Content-Type", "text/plain"),
        ("Content-Encoding", "gzip"),
        ("Content-Length", str(len(data))),
    ]
    server = raw_server(reply("200 OK", headers, data))
    fails(server.url("/"), "response_too_large", timeout=5)


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate"])
def test_compressed_bodies_are_decoded(limits, raw_server, coding):
    text = b'{"message": "' + b"hello " * 100 + b'"}'
    if coding == "gzip":
        data = gzip.compress(text)
    elif coding == "deflate":
        data = zlib.compress(text)
    else:
        compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        data = compressor.compress(text) + compressor.flush()
    encoding = "gzip" if coding == "gzip" else "deflate"
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Encoding", encoding),
        ("Content-Length", str(len(data))),
    ]
    server = raw_server(reply("200 OK", headers, data))
    result = send(OutboundRequest("GET", server.url("/"), timeout=5))
    assert result.output["body"] == {"message": "hello " * 100}
    assert result.meta["size_bytes"] == len(text)


def test_multi_member_gzip_is_decoded(limits, raw_server):
    data = gzip.compress(b"one ") + gzip.compress(b"two")
    headers = [
        ("Content-Type", "text/plain"),
        ("Content-Encoding", "gzip"),
        ("Content-Length", str(len(data))),
    ]
    server = raw_server(reply("200 OK", headers, data))
    assert send(OutboundRequest("GET", server.url("/"), timeout=5)).output["body"] == "one two"


# mtime=0: the same bytes in every xdist worker, whose collected test ids must match.
GOOD_GZIP = gzip.compress(b'{"ok": true, "padding": "' + b"p" * 2000 + b'"}', mtime=0)


@pytest.mark.parametrize(
    ("name", "headers", "body"),
    [
        (
            "truncated gzip, length matching",
            [("Content-Encoding", "gzip"), ("Content-Length", str(len(GOOD_GZIP) // 2))],
            GOOD_GZIP[: len(GOOD_GZIP) // 2],
        ),
        ("truncated gzip, no length", [("Content-Encoding", "gzip")], GOOD_GZIP[: len(GOOD_GZIP) // 2]),
        (
            "gzip followed by garbage",
            [("Content-Encoding", "gzip"), ("Content-Length", str(len(GOOD_GZIP) + 9))],
            GOOD_GZIP + b"garbage!!",
        ),
        ("not gzip at all", [("Content-Encoding", "gzip"), ("Content-Length", "12")], b"plain text!!"),
        ("content-length larger than sent", [("Content-Length", "1000")], b"only a part"),
        ("broken chunked framing", [("Transfer-Encoding", "chunked")], b"5\r\nabc"),
    ],
)
def test_c15_broken_bodies_fail_clearly_within_the_timeout(limits, raw_server, name, headers, body):
    server = raw_server(reply("200 OK", [("Content-Type", "application/json"), *headers], body))
    error, elapsed = fails(server.url("/"), "connection_error", timeout=2)
    assert elapsed < 1
    assert error.message in (
        "The response body could not be decompressed: its encoding is invalid.",
        "The response ended before it was complete.",
    )


def test_invalid_http_response_is_a_connection_error(limits, raw_server):
    def garbage(conn, server):
        conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")

    server = raw_server(garbage)
    error, _ = fails(server.url("/"), "connection_error", timeout=2)
    assert "Traceback" not in error.message


def test_connection_closed_without_response(limits, raw_server):
    server = raw_server(lambda conn, server: None)
    fails(server.url("/"), "connection_error", timeout=2)


def test_non_positive_timeout_is_invalid(limits):
    fails("http://127.0.0.1:9/", "invalid_request", timeout=0)


def test_concurrent_deadlines_each_end_on_time(limits, raw_server):
    import threading

    server = raw_server(drip_body)
    elapsed: dict[float, float] = {}

    def run(timeout: float) -> None:
        started = time.monotonic()
        with pytest.raises(OutboundError):
            send(OutboundRequest("GET", server.url("/"), timeout=timeout))
        elapsed[timeout] = time.monotonic() - started

    threads = [threading.Thread(target=run, args=(t,)) for t in (0.5, 1.0, 1.5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    assert set(elapsed) == {0.5, 1.0, 1.5}
    for timeout, took in elapsed.items():
        assert timeout - 0.1 < took < timeout + 0.6
