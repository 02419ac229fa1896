"""An HTTP Request action with an OAuth client-credentials connection, against a real local token
endpoint: the token is fetched, cached, refreshed, retried once after a 401, and never shown."""

import base64
import json
import logging
import socket
import time

import pytest
from werkzeug import Request, Response

from tests.http_action.conftest import make_connection, run_http

CLIENT_SECRET = "secret_SENTINEL"


class TokenEndpoint:
    """`/oauth/token` on the pytest-httpserver: issues at_SENTINEL_1, at_SENTINEL_2… or answers `fail`."""

    def __init__(self, httpserver, expires_in: int | None = 3600) -> None:
        self.expires_in = expires_in
        self.forms: list[dict] = []
        self.fail: Response | None = None
        self.url = httpserver.url_for("/oauth/token")
        httpserver.expect_request("/oauth/token", method="POST").respond_with_handler(self._handle)

    def _handle(self, request: Request) -> Response:
        self.forms.append(request.form.to_dict())
        if self.fail is not None:
            return self.fail
        body = {"access_token": f"at_SENTINEL_{len(self.forms)}", "token_type": "Bearer"}
        if self.expires_in is not None:
            body["expires_in"] = self.expires_in
        return Response(json.dumps(body), content_type="application/json")

    @property
    def calls(self) -> int:
        return len(self.forms)


class Api:
    """`/api` on the pytest-httpserver: records each Authorization; 401 for the tokens in `refused`."""

    def __init__(self, httpserver) -> None:
        self.authorizations: list[str | None] = []
        self.refused: set[str] = set()
        self.url = httpserver.url_for("/api")
        httpserver.expect_request("/api").respond_with_handler(self._handle)

    def _handle(self, request: Request) -> Response:
        authorization = request.headers.get("Authorization")
        self.authorizations.append(authorization)
        if authorization in self.refused:
            return Response('{"error": "invalid_token"}', status=401, content_type="application/json")
        return Response('{"ok": true}', content_type="application/json")


@pytest.fixture
def tokens(httpserver, allow_loopback):
    return TokenEndpoint(httpserver)


@pytest.fixture
def api(httpserver, allow_loopback):
    return Api(httpserver)


def oauth_connection(token_url: str, name: str = "auth", **fields):
    setup = {
        "client_id": "cid",
        "client_secret": CLIENT_SECRET,
        "token_endpoint": token_url,
        "audience": "https://api.example/",
    }
    return make_connection(name, "OAUTH_CLIENT_CREDENTIALS", setup, **fields)


def test_the_token_is_fetched_once_and_reused_across_runs(tokens, api, db):
    oauth_connection(tokens.url)
    first = run_http({"url": api.url, "connection_id": "auth"})
    second = run_http({"url": api.url, "connection_id": "auth"})
    assert first.output["success"] and second.output["success"]
    assert api.authorizations == ["Bearer at_SENTINEL_1", "Bearer at_SENTINEL_1"]
    assert tokens.forms == [
        {
            "grant_type": "client_credentials",
            "client_id": "cid",
            "client_secret": CLIENT_SECRET,
            "audience": "https://api.example/",
        }
    ]
    assert ["Authorization", "Bearer ********"] in second.meta["request"]["headers"]
    assert first.meta["attempts"] == 1


def test_the_token_is_refreshed_once_it_expires(httpserver, api, allow_loopback, db):
    tokens = TokenEndpoint(httpserver, expires_in=1)
    oauth_connection(tokens.url)
    run_http({"url": api.url, "connection_id": "auth"})
    time.sleep(1.0)
    run_http({"url": api.url, "connection_id": "auth"})
    assert api.authorizations == ["Bearer at_SENTINEL_1", "Bearer at_SENTINEL_2"]
    assert tokens.calls == 2


def test_a_token_without_an_expiry_is_cached(httpserver, api, allow_loopback, db):
    tokens = TokenEndpoint(httpserver, expires_in=None)
    oauth_connection(tokens.url)
    for _ in range(2):
        run_http({"url": api.url, "connection_id": "auth"})
    assert tokens.calls == 1


def test_replacing_the_secret_fetches_a_new_token(tokens, api, db):
    connection = oauth_connection(tokens.url)
    run_http({"url": api.url, "connection_id": "auth"})
    connection.set_setup(connection.setup.reveal() | {"client_secret": "replaced_SENTINEL"})
    connection.save()
    run_http({"url": api.url, "connection_id": "auth"})
    assert [form["client_secret"] for form in tokens.forms] == [CLIENT_SECRET, "replaced_SENTINEL"]
    assert api.authorizations == ["Bearer at_SENTINEL_1", "Bearer at_SENTINEL_2"]


def test_a_401_fetches_a_new_token_and_retries_once(tokens, api, db):
    oauth_connection(tokens.url)
    run_http({"url": api.url, "connection_id": "auth"})
    api.refused.add("Bearer at_SENTINEL_1")  # revoked before it expired
    run = run_http({"url": api.url, "connection_id": "auth"})
    assert run.output["status"] == 200 and run.output["success"]
    assert api.authorizations == ["Bearer at_SENTINEL_1", "Bearer at_SENTINEL_1", "Bearer at_SENTINEL_2"]
    assert run.meta["attempts"] == 2
    assert ["Authorization", "Bearer ********"] in run.meta["request"]["headers"]
    # The new token is cached: the next run uses it straight away.
    run_http({"url": api.url, "connection_id": "auth"})
    assert api.authorizations[-1] == "Bearer at_SENTINEL_2"
    assert tokens.calls == 2


def test_a_second_401_is_the_output_not_another_retry(tokens, api, db):
    oauth_connection(tokens.url)
    api.refused |= {"Bearer at_SENTINEL_1", "Bearer at_SENTINEL_2"}
    run = run_http({"url": api.url, "connection_id": "auth"})
    assert not run.failed
    assert run.output["status"] == 401 and run.output["success"] is False
    assert run.output["body"] == {"error": "invalid_token"}
    assert len(api.authorizations) == 2 and tokens.calls == 2
    assert run.meta["attempts"] == 2


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (
            Response(
                json.dumps({"error": "invalid_client", "error_description": f"bad {CLIENT_SECRET}"}),
                status=400,
                content_type="application/json",
            ),
            "did not issue a token (HTTP 400: invalid_client).",
        ),
        (
            Response("<h1>Internal error</h1>", status=500, content_type="text/html"),
            "did not issue a token (HTTP 500).",
        ),
        (
            Response('{"token_type": "Bearer"}', content_type="application/json"),
            "answered HTTP 200 without an access_token.",
        ),
    ],
)
def test_a_token_endpoint_error_fails_the_action_with_a_clear_message(tokens, api, db, response, reason):
    oauth_connection(tokens.url)
    tokens.fail = response
    run = run_http({"url": api.url, "connection_id": "auth"})
    assert run.failed and run.error.code == "invalid_request"
    assert run.error.message == f'Connection "auth": The OAuth token endpoint {reason}'
    assert api.authorizations == []
    assert CLIENT_SECRET not in repr(run)


def test_a_token_endpoint_error_is_the_output_with_allow_failure(tokens, api, db):
    oauth_connection(tokens.url)
    tokens.fail = Response("{}", status=503, content_type="application/json")
    run = run_http({"url": api.url, "connection_id": "auth"}, allow_failure=True)
    assert not run.failed
    assert run.output == {
        "headers": {},
        "body": None,
        "status": 0,
        "success": False,
        "error": {
            "code": "invalid_request",
            "message": 'Connection "auth": The OAuth token endpoint did not issue a token (HTTP 503).',
        },
    }


def test_an_unreachable_or_blocked_token_endpoint_fails_the_action(api, db):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    oauth_connection(f"http://127.0.0.1:{port}/oauth/token", "refused")
    oauth_connection("http://10.0.0.5/oauth/token", "internal")
    refused = run_http({"url": api.url, "connection_id": "refused"})
    blocked = run_http({"url": api.url, "connection_id": "internal"})
    assert (refused.error.code, refused.error.message) == (
        "connection_error",
        'Connection "refused": OAuth token endpoint: The connection was refused.',
    )
    assert (blocked.error.code, blocked.error.message) == (
        "blocked_destination",
        'Connection "internal": OAuth token endpoint: This destination is not allowed: '
        "only public addresses can be reached.",
    )
    assert api.authorizations == []


def test_allowed_hosts_are_checked_before_any_token_is_fetched(tokens, api, db, httpserver):
    oauth_connection(tokens.url, allowed_hosts=["localhost"])
    elsewhere = f"http://127.0.0.1:{httpserver.port}/api"
    run = run_http({"url": elsewhere, "connection_id": "auth"})
    assert run.failed and run.error.code == "blocked_destination"
    assert run.error.message == (
        'Connection "auth" may only be sent to localhost; the URL goes to "127.0.0.1".'
    )
    assert tokens.calls == 0 and api.authorizations == []
    assert run_http({"url": api.url, "connection_id": "auth"}).output["success"]
    assert api.authorizations == ["Bearer at_SENTINEL_1"]


def test_a_typed_authorization_or_basic_auth_wins_and_no_token_is_fetched(tokens, api, db):
    oauth_connection(tokens.url)
    headers = [{"key": "Authorization", "value": "Bearer typed"}]
    run_http({"url": api.url, "connection_id": "auth", "headers": headers})
    run_http({"url": api.url, "connection_id": "auth", "basic": {"username": "ada"}}, password="pw")
    assert api.authorizations == ["Bearer typed", "Basic " + base64.b64encode(b"ada:pw").decode()]
    assert tokens.calls == 0


def test_neither_the_client_secret_nor_the_token_is_shown(tokens, httpbin_url, db, caplog):
    """httpbin echoes the Authorization it received; the token endpoint echoes the client secret."""
    caplog.set_level(logging.DEBUG)
    oauth_connection(tokens.url)
    run = run_http({"url": f"{httpbin_url}/anything", "connection_id": "auth"})
    assert run.output["body"]["headers"]["Authorization"] == "Bearer ********"
    tokens.fail = Response(
        json.dumps({"error": "invalid_client", "client_secret": CLIENT_SECRET}),
        status=401,
        content_type="application/json",
    )
    # The upstream refuses the cached token; fetching a new one meets the echo above.
    failed = run_http({"url": f"{httpbin_url}/status/401", "connection_id": "auth"}, allow_failure=True)
    assert failed.error.message == (
        'Connection "auth": The OAuth token endpoint did not issue a token (HTTP 401: invalid_client).'
    )
    seen = [
        json.dumps([run.output, run.meta, failed.output, failed.meta]),
        repr(failed.error),
        *(record.getMessage() for record in caplog.records),
        *(str(record.args) for record in caplog.records),
    ]
    for text in seen:
        for sentinel in ("SENTINEL", base64.b64encode(b"at_SENTINEL_1").decode()):
            assert sentinel not in text
    assert tokens.calls == 2
