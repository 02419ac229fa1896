"""Fixtures for the outbound HTTP client: DNS answers controlled by the test, and raw-socket servers."""

import socket
from collections.abc import Callable

import pytest

from actions import ssrf
from tests.http_client.servers import Handler, RawServer


@pytest.fixture
def fake_dns(monkeypatch) -> dict[str, list[str]]:
    """A hosts table for the SSRF guard: `fake_dns["up.test"] = ["127.0.0.1"]`.

    Names not in the table fail to resolve, except numeric spellings and `localhost`, which the real
    resolver answers without the network.
    """
    table: dict[str, list[str]] = {}
    real_resolve = ssrf._resolve

    def resolve(host: str, port: int) -> list[str]:
        if host in table:
            return list(table[host])
        if host == "localhost" or _is_numeric(host):
            return real_resolve(host, port)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(ssrf, "_resolve", resolve)
    return table


def _is_numeric(host: str) -> bool:
    try:
        socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except socket.gaierror:
        return False
    return True


@pytest.fixture
def up(httpserver, fake_dns, settings) -> Callable[[str], str]:
    """`up("/path")` is a URL on `up.test`, the pytest-httpserver upstream, reached through the allowlist."""
    address = socket.getaddrinfo(httpserver.host, httpserver.port, type=socket.SOCK_STREAM)[0][4][0]
    fake_dns["up.test"] = [address]
    settings.FLOWS_OUTBOUND_ALLOWLIST = ["up.test"]
    return lambda path: f"http://up.test:{httpserver.port}{path}"


@pytest.fixture
def raw_server():
    """`raw_server(handler)` starts a RawServer on 127.0.0.1 (or `host=`); all stop at teardown."""
    servers: list[RawServer] = []

    def start(handler: Handler, host: str = "127.0.0.1") -> RawServer:
        server = RawServer(handler, host)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
