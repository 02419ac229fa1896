"""DESIGN rules that had no proving test (notes/rule-map.md gaps G1-G9 and G18, and the thin rows):
each runs the real action (runner → catalog → client) or the real client against a local server.
"""

import base64
import json
import socket
import ssl
import time

import pytest
from django.conf import settings as django_settings
from werkzeug import Request, Response

from actions.catalog import RunContext
from actions.catalog.http import HttpRequestForm, build_request
from actions.http_client import OutboundError, OutboundRequest, send
from tests.http_action.conftest import make_connection, run_http
from tests.http_client.conftest import fake_dns  # noqa: F401
from tests.http_client.servers import RawServer, read_request, reply
from tests.http_client.test_tls import tls_files  # noqa: F401
from vault.secrets import Secret

MEBIBYTE = 1024 * 1024


@pytest.fixture
def servers():
    """`servers(handler)` starts a RawServer on 127.0.0.1; all stop at teardown."""
    started: list[RawServer] = []

    def start(handler) -> RawServer:
        started.append(RawServer(handler))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def never_answers(conn, server) -> None:
    server.stopped.wait(10)


def credentials() -> list[tuple[str, str | Secret]]:
    """Headers carrying credentials (typed and from the vault), and one that is not a credential."""
    return [
        ("Authorization", Secret("Bearer tok_SENTINEL", display="Bearer ********")),
        ("X-Api-Key", Secret("key_SENTINEL")),
        ("Cookie", "sid=cookie_SENTINEL"),
        ("X-Plain", "kept"),
    ]


# --- G1 (R18) CR/LF in a header name ---------------------------------------------------------------------

BROKEN_NAMES = ["X-A\r\nInjected", "X-A\nB", "X-A\rB"]


@pytest.mark.parametrize("name", BROKEN_NAMES)
def test_a_line_break_in_a_header_name_is_refused_by_the_client_before_connecting(
    allow_loopback, servers, name
):
    server = servers(reply("200 OK", [("Content-Length", "0")]))
    with pytest.raises(OutboundError) as caught:
        send(OutboundRequest("GET", server.url("/h"), headers=[(name, "x")], timeout=5))
    assert caught.value.code == "invalid_request"
    assert server.accepted == 0


@pytest.mark.parametrize("name", [*BROKEN_NAMES, "{{vars.evil}}"])
def test_a_line_break_in_a_header_name_fails_the_action_before_sending(upstream, name):
    scope = {"vars": {"evil": "X-A\r\nInjected"}}
    run = run_http({"url": upstream.url("/h"), "headers": [{"key": name, "value": "x"}]}, scope)
    assert run.failed and run.error.code == "invalid_request"
    assert "is not a valid header name" in run.error.message
    assert upstream.server.accepted == 0


@pytest.mark.parametrize("name", BROKEN_NAMES)
def test_a_line_break_in_a_header_name_is_refused_by_the_form(db, name):
    data = HttpRequestForm.data_from_params(
        {"url": "https://api.example.com", "headers": [{"key": name, "value": "x"}]}
    )
    form = HttpRequestForm(data)
    assert not form.is_valid()
    assert "is not a valid header name" in form.errors["headers"][0]


# --- G2 (R34) GET with a payload sends it -------------------------------------------------------------------


def test_a_get_with_a_payload_sends_the_body_its_type_and_length(upstream):
    run_http({"url": upstream.url("/search"), "method": "GET", "payload": {"q": 1}})
    received = upstream.last
    assert received.method == "GET"
    assert received.body == b'{"q":1}'
    assert received.header("Content-Type") == "application/json"
    assert received.header("Content-Length") == "7"


# --- G3 (R33) XML: root element `root` unless the object has a single top-level key ------------------------


@pytest.mark.parametrize(
    ("payload", "document"),
    [
        ({"a": 1, "b": 2}, "<root><a>1</a><b>2</b></root>"),
        ({"user": {"a": 1, "b": 2}}, "<user><a>1</a><b>2</b></user>"),
    ],
)
def test_an_xml_object_payload_gets_root_unless_it_has_one_top_level_key(upstream, payload, document):
    run_http({"url": upstream.url("/x"), "method": "POST", "content_type": "XML", "payload": payload})
    assert upstream.last.body.decode() == '<?xml version="1.0" encoding="UTF-8"?>' + document
    assert upstream.last.header("Content-Type") == "application/xml"


# --- G4 (R41) a redirect that changes only the scheme, or only the port, drops credentials -----------------


class SchemeSwitchServer(RawServer):
    """One port speaking plain HTTP and TLS: a plain request is redirected (307) to https on the same host
    and port, so only the scheme changes; the decrypted TLS requests are recorded in `tls_requests`."""

    def __init__(self, context: ssl.SSLContext, host_name: str) -> None:
        self.context = context
        self.tls_requests: list[bytes] = []
        super().__init__(self._redirect)
        self.host_name = host_name

    def _redirect(self, conn, server) -> None:
        location = f"https://{self.host_name}:{self.port}/landing"
        reply("307 Temporary Redirect", [("Location", location), ("Content-Length", "0")])(conn, server)

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                if conn.recv(1, socket.MSG_PEEK) != b"\x16":  # not a TLS handshake: plain HTTP
                    self.requests.append(read_request(conn))
                    self.handler(conn, self)
                    return
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    self.tls_requests.append(read_request(tls))
                    reply("200 OK", [("Content-Length", "2")], b"ok")(tls, self)
            except OSError:
                pass


@pytest.fixture
def scheme_switch(tls_files, fake_dns, settings):  # noqa: F811
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_files / "server.pem", tls_files / "server.key")
    fake_dns["secure.test"] = ["127.0.0.1"]
    settings.FLOWS_OUTBOUND_ALLOWLIST = ["secure.test"]
    settings.FLOWS_HTTP_CA_BUNDLE = str(tls_files / "ca.pem")
    server = SchemeSwitchServer(context, "secure.test")
    yield server
    server.stop()


def test_a_hop_that_only_changes_the_scheme_drops_authorization_cookies_and_vault_headers(scheme_switch):
    url = f"http://secure.test:{scheme_switch.port}/from"
    result = send(OutboundRequest("GET", url, headers=credentials(), timeout=5))
    assert result.output["body"] == "ok"
    assert result.meta["final_url"] == f"https://secure.test:{scheme_switch.port}/landing"
    first = scheme_switch.requests[-1].decode("latin-1")
    assert "Authorization: Bearer tok_SENTINEL" in first
    assert "X-Api-Key: key_SENTINEL" in first
    assert "Cookie: sid=cookie_SENTINEL" in first
    (second,) = [raw.decode("latin-1") for raw in scheme_switch.tls_requests]
    assert second.startswith("GET /landing HTTP/1.1")
    assert "SENTINEL" not in second
    for name in ("authorization", "x-api-key", "cookie"):
        assert f"\r\n{name}:" not in second.lower()
    assert "X-Plain: kept" in second


def test_a_hop_that_only_changes_the_port_drops_authorization_cookies_and_vault_headers(
    fake_dns,  # noqa: F811
    settings,
    servers,
):
    fake_dns["same.test"] = ["127.0.0.1"]
    settings.FLOWS_OUTBOUND_ALLOWLIST = ["same.test"]
    other = servers(reply("200 OK", [("Content-Length", "2")], b"ok"))
    location = other.url("/landing", host="same.test")
    first = servers(reply("307 Temporary Redirect", [("Location", location), ("Content-Length", "0")]))
    result = send(
        OutboundRequest("GET", first.url("/from", host="same.test"), headers=credentials(), timeout=5)
    )
    assert result.output["body"] == "ok"
    assert b"Cookie: sid=cookie_SENTINEL" in first.requests[-1]
    second = other.requests[-1]
    assert b"SENTINEL" not in second
    for name in (b"authorization", b"x-api-key", b"cookie"):
        assert b"\r\n" + name + b":" not in second.lower()
    assert b"X-Plain: kept" in second


# --- G5 (R72) the action's timeout reaches the client -------------------------------------------------------


def test_the_timeout_param_ends_the_request_on_time(allow_loopback, servers):
    allow_loopback.FLOWS_HTTP_DEFAULT_TIMEOUT = 5  # were the param ignored, this would apply
    server = servers(never_answers)
    clock = time.monotonic()
    run = run_http({"url": server.url("/slow"), "timeout": 1})
    elapsed = time.monotonic() - clock
    assert run.failed and run.error.code == "timeout"
    assert run.error.message == "The request did not complete within 1 s."
    assert 0.9 < elapsed < 2.5


# --- G6 (R74, R75) follow_redirects: false returns the 3xx; at most 5 hops ----------------------------------


def test_follow_redirects_false_returns_the_redirect_itself(upstream):
    upstream.respond("302 Found", [("Location", "/elsewhere")])
    run = run_http({"url": upstream.url("/from"), "follow_redirects": False})
    assert not run.failed
    assert run.output["status"] == 302
    assert run.output["success"] is False
    assert run.output["headers"]["location"] == "/elsewhere"
    assert len(upstream.requests) == 1
    assert run.meta["redirects"] == []


def test_the_action_follows_at_most_five_redirects(upstream):
    upstream.respond("302 Found", [("Location", "/again")])
    run = run_http({"url": upstream.url("/again")})
    assert run.failed and run.error.code == "too_many_redirects"
    assert run.error.message == "The server redirected more than 5 times."
    assert len(upstream.requests) == 6


# --- G7 (R77) the action's retry reaches the client ---------------------------------------------------------


def test_the_retry_param_retries_the_listed_statuses(allow_loopback, servers):
    statuses = iter(["503 Service Unavailable", "503 Service Unavailable", "200 OK"])

    def handler(conn, server) -> None:
        reply(
            next(statuses), [("Content-Type", "application/json"), ("Content-Length", "11")], b'{"ok":true}'
        )(conn, server)

    server = servers(handler)
    retry = {"attempts": 3, "backoff": "fixed", "delay": 0.05, "on_statuses": "503"}
    run = run_http({"url": server.url("/flaky"), "retry": retry})
    assert run.output["status"] == 200
    assert run.output["body"] == {"ok": True}
    assert run.meta["attempts"] == 3
    assert len(server.requests) == 3


def test_statuses_the_retry_param_does_not_list_are_not_retried(allow_loopback, servers):
    server = servers(reply("502 Bad Gateway", [("Content-Length", "0")]))
    retry = {"attempts": 3, "backoff": "fixed", "delay": 0.05, "on_statuses": "503"}
    run = run_http({"url": server.url("/down"), "retry": retry})
    assert run.output["status"] == 502
    assert run.meta["attempts"] == 1
    assert len(server.requests) == 1


# --- G8 (R71) default timeout 30 s; G9 (R94) default size cap 10 MiB ----------------------------------------


def test_the_default_timeout_is_30_seconds_and_the_maximum_120():
    assert django_settings.FLOWS_HTTP_DEFAULT_TIMEOUT == 30
    assert django_settings.FLOWS_HTTP_MAX_TIMEOUT == 120
    ctx = RunContext(scope={"fields": {}, "vars": {}, "context": {}, "actions": {}}, secret_params=None)
    request, _ = build_request({"url": "https://api.example.com/"}, ctx)
    assert request.timeout == 30
    request, _ = build_request({"url": "https://api.example.com/", "timeout": 500}, ctx)
    assert request.timeout == 120


def serve_body(size: int):
    """A close-delimited text body of `size` bytes (no Content-Length to refuse it before reading)."""

    def handler(conn, server) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
        conn.sendall(b"a" * size)

    return handler


def test_the_default_size_cap_is_10_mib(allow_loopback, servers):
    assert django_settings.FLOWS_HTTP_MAX_RESPONSE_BYTES == 10 * MEBIBYTE
    at_cap = run_http({"url": servers(serve_body(10 * MEBIBYTE)).url("/")})
    assert not at_cap.failed
    assert at_cap.meta["size_bytes"] == 10 * MEBIBYTE
    over = run_http({"url": servers(serve_body(10 * MEBIBYTE + 1)).url("/")})
    assert over.failed and over.error.code == "response_too_large"
    assert over.error.message == "The response is larger than the 10 MiB limit."


# --- G18 (R122) OAuth: `resource` goes to the token endpoint ------------------------------------------------


def test_oauth_audience_resource_and_scope_are_sent_to_the_token_endpoint(httpserver, allow_loopback, db):
    forms: list[dict] = []

    def token(request: Request) -> Response:
        forms.append(request.form.to_dict())
        return Response(
            '{"access_token": "at_SENTINEL", "expires_in": 3600}', content_type="application/json"
        )

    httpserver.expect_request("/oauth/token", method="POST").respond_with_handler(token)
    httpserver.expect_request("/api").respond_with_json({"ok": True})
    setup = {
        "client_id": "cid",
        "client_secret": "secret_SENTINEL",
        "token_endpoint": httpserver.url_for("/oauth/token"),
        "audience": "https://api.example/",
        "resource": "https://api.example/v2/",
        "scope": "read:things",
    }
    make_connection("auth", "OAUTH_CLIENT_CREDENTIALS", setup)
    run = run_http({"url": httpserver.url_for("/api"), "connection_id": "auth"})
    assert run.output["body"] == {"ok": True}
    assert forms == [
        {
            "grant_type": "client_credentials",
            "client_id": "cid",
            "client_secret": "secret_SENTINEL",
            "audience": "https://api.example/",
            "resource": "https://api.example/v2/",
            "scope": "read:things",
        }
    ]
    assert httpserver.log[-1][0].headers["Authorization"] == "Bearer at_SENTINEL"


# --- Thin rows: BASIC_AUTH and API_KEY connections on the wire; unicode in JSON text ------------------------


def test_a_basic_auth_connection_sends_basic_credentials(upstream, db):
    make_connection("basic", "BASIC_AUTH", {"username": "ada", "password": "pw_SENTINEL é"})
    run = run_http({"url": upstream.url("/b"), "connection_id": "basic"})
    encoded = base64.b64encode("ada:pw_SENTINEL é".encode()).decode()
    assert upstream.last.header("Authorization") == f"Basic {encoded}"
    assert ["Authorization", "Basic ********"] in run.meta["request"]["headers"]
    recorded = json.dumps([run.output, run.meta])
    assert "pw_SENTINEL" not in recorded and encoded not in recorded


def test_an_api_key_connection_in_a_header_sends_that_header(upstream, db):
    make_connection("key", "API_KEY", {"name": "X-Api-Key", "value": "key_SENTINEL", "in": "HEADER"})
    run = run_http({"url": upstream.url("/k?x=1"), "connection_id": "key"})
    assert upstream.last.header("X-Api-Key") == "key_SENTINEL"
    assert upstream.last.target == "/k?x=1"
    assert ["X-Api-Key", "********"] in run.meta["request"]["headers"]
    assert "key_SENTINEL" not in json.dumps([run.output, run.meta])


def test_an_api_key_connection_in_the_query_sends_that_param(upstream, db):
    make_connection("key", "API_KEY", {"name": "api_key", "value": "key SENTINEL/+", "in": "QUERY"})
    run = run_http({"url": upstream.url("/k?x=1"), "connection_id": "key"})
    assert upstream.last.target == "/k?x=1&api_key=key%20SENTINEL%2F%2B"
    assert upstream.last.header_values("X-Api-Key") == []
    assert run.meta["request"]["url"] == upstream.url("/k?x=1&api_key=********")
    assert "SENTINEL" not in json.dumps([run.output, run.meta])


def test_unicode_quotes_and_newlines_in_a_json_text_payload_stay_valid_json(upstream):
    value = 'Zoë "the ☃" \\ 𝄞\nline'
    payload = '{"name": "{{vars.v}}", "same": {{vars.v}}, "note": "é {{vars.v}}"}'
    run_http({"url": upstream.url("/u"), "method": "POST", "payload": payload}, {"vars": {"v": value}})
    received = upstream.last
    assert received.json() == {"name": value, "same": value, "note": f"é {value}"}
    assert received.header("Content-Length") == str(len(received.body))
    assert "Zoë".encode() in received.body
