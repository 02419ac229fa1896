"""C20 through the HTTP Request action: the blocked URLs produced by an expression, with the guard in its
default, strict setting, fail before anything is connected, with the same message as typed ones."""

import socket

import pytest

from actions.http_client import BLOCKED_MESSAGE
from tests.http_action.conftest import run_http
from tests.http_client.servers import RawServer, reply

C20 = [
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:5432/",
    "http://localhost/",
    "http://10.0.0.5/",
    "http://192.168.1.1/",
    "http://[::1]/",
    "http://0.0.0.0:8000/",
    "http://100.64.0.1/",
]


@pytest.fixture
def connects(monkeypatch, settings) -> list:
    """Every address a socket connects to while the test runs (the guard must stop before any)."""
    settings.FLOWS_OUTBOUND_ALLOWLIST = []
    seen: list = []
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address) -> None:
        seen.append(address)
        real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


@pytest.fixture
def listening():
    server = RawServer(reply("200 OK", [("Content-Length", "0")]))
    yield server
    server.stop()


@pytest.mark.parametrize("url", C20)
@pytest.mark.parametrize("typed_as", ["{{fields.url}}", "{{fields.url}}{{fields.rest}}"])
def test_c20_urls_from_an_expression_are_blocked_before_connecting(connects, url, typed_as):
    run = run_http({"url": typed_as}, {"fields": {"url": url, "rest": ""}})
    assert run.failed
    assert (run.error.code, run.error.message) == ("blocked_destination", BLOCKED_MESSAGE)
    assert connects == []


def test_the_message_is_the_same_whatever_listens(connects, listening):
    open_port = run_http({"url": "{{fields.url}}"}, {"fields": {"url": listening.url("/")}})
    closed_port = run_http({"url": "{{fields.url}}"}, {"fields": {"url": "http://127.0.0.1:9/"}})
    assert open_port.error.message == closed_port.error.message == BLOCKED_MESSAGE
    assert listening.accepted == 0
    assert connects == []


def test_a_blocked_url_from_an_expression_is_the_output_with_allow_failure(connects):
    run = run_http({"url": "{{fields.url}}"}, {"fields": {"url": C20[0]}}, allow_failure=True)
    assert run.output["error"] == {"code": "blocked_destination", "message": BLOCKED_MESSAGE}
    assert run.output["status"] == 0
    assert connects == []
