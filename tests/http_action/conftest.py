"""Fixtures for the HTTP Request action: a raw-socket upstream that records the exact bytes it receives,
and the real-browser fixtures of tests/e2e for the editor's browser test."""

import json

import pytest

from actions.models import Action, Flow
from actions.runner import ActionRun, run_action, scope_from
from tests.e2e.conftest import browser, browser_errors, live_server, logged_in_page, page  # noqa: F401
from tests.http_client.servers import RawServer, reply
from vault.models import Connection
from vault.secrets import Secret


class Upstream:
    """A local server recording each request's raw bytes; `respond(...)` changes what it answers."""

    def __init__(self) -> None:
        self.server = RawServer(self._handle)
        self.response = reply(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")], b"{}"
        )

    def _handle(self, conn, server) -> None:
        self.response(conn, server)

    def url(self, path: str = "/") -> str:
        return self.server.url(path)

    def respond(self, status: str, headers: list[tuple[str, str]], body: bytes = b"") -> None:
        self.response = reply(status, [*headers, ("Content-Length", str(len(body)))], body)

    @property
    def requests(self) -> list[bytes]:
        return self.server.requests

    @property
    def last(self) -> "Received":
        assert self.requests, "the upstream received no request"
        return Received(self.requests[-1])


class Received:
    """One raw request: request line, headers as sent (order, spelling, duplicates) and body bytes."""

    def __init__(self, raw: bytes) -> None:
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.method, self.target, _ = lines[0].split(" ")
        self.headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:]]
        self.raw = raw

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def header(self, name: str) -> str:
        values = self.header_values(name)
        assert len(values) == 1, f"{name}: {values}"
        return values[0]

    def json(self):
        return json.loads(self.body)


@pytest.fixture
def upstream(allow_loopback):
    server = Upstream()
    yield server
    server.server.stop()


def run_http(params: dict, scope: dict | None = None, *, password: str | None = None, **flags) -> ActionRun:
    """Run one HTTP Request action through the runner, as a flow or the Test button does."""
    action = Action(
        action_id="call",
        type="HTTP",
        action="SEND_REQUEST",
        params=params,
        secret_params=Secret({"basic_password": password}) if password else None,
        **flags,
    )
    return run_action(action, scope_from(scope or {}))


def make_connection(name: str, type: str, setup: dict, **fields) -> Connection:
    connection = Connection(name=name, type=type, **fields)
    connection.set_setup(setup)
    connection.save()
    return connection


@pytest.fixture
def flow(db):
    return Flow.objects.create(name="Sync users")
