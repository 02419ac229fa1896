"""The Check button of a connection: verifies the secret (an OAuth client fetches a token) and says how it
went, revealing nothing."""

import ast
import html
import json
import logging
import re
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from werkzeug import Response

from tests.conftest import make_user
from tests.vault.conftest import make_connection
from vault.checks import CheckResult, check_connection
from vault.models import Connection

HTMX = {"HX-Request": "true"}
VAULT = Path(__file__).resolve().parents[2] / "vault"


def check_url(connection) -> str:
    return reverse("vault:check", args=[connection.pk])


def check(client, connection) -> str:
    """The result partial as it reads: its text, without markup."""
    response = client.post(check_url(connection), headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    return " ".join(html.unescape(re.sub(r"<[^>]*>", "", response.text)).split())


class TokenEndpoint:
    def __init__(self, httpserver) -> None:
        self.calls = 0
        self.fail: Response | None = None
        self.url = httpserver.url_for("/oauth/token")
        httpserver.expect_request("/oauth/token", method="POST").respond_with_handler(self._handle)

    def _handle(self, request) -> Response:
        self.calls += 1
        if self.fail is not None:
            return self.fail
        body = {"access_token": f"at_SENTINEL_{self.calls}", "token_type": "Bearer", "expires_in": 7200}
        return Response(json.dumps(body), content_type="application/json")


@pytest.fixture
def tokens(httpserver, allow_loopback):
    return TokenEndpoint(httpserver)


def oauth(token_url: str) -> Connection:
    setup = {"client_id": "cid", "client_secret": "secret_SENTINEL", "token_endpoint": token_url}
    return make_connection("auth0", "OAUTH_CLIENT_CREDENTIALS", setup)


def test_it_sends_anonymous_users_to_login(client, bearer):
    response = client.post(check_url(bearer))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")
    assert client.post(check_url(bearer), headers=HTMX)["HX-Redirect"].startswith(reverse("login"))


def test_it_forbids_users_who_are_not_staff(outsider_client, bearer):
    assert outsider_client.post(check_url(bearer), headers=HTMX).status_code == 403


def test_it_needs_a_vault_permission_besides_staff(client, bearer):
    user = make_user("clerk", superuser=False)
    client.force_login(user)
    assert client.post(check_url(bearer), headers=HTMX).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_connection"))
    client.force_login(user)
    assert "OK — " in check(client, bearer)


def test_it_needs_the_csrf_token_that_htmx_sends(bearer, staff_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    assert client.post(check_url(bearer), headers=HTMX).status_code == 403
    page = client.get(reverse("vault:list")).text
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page)[1]
    assert client.post(check_url(bearer), headers=HTMX | {"X-CSRFToken": token}).status_code == 200


def test_it_answers_only_post(staff_client, bearer):
    assert staff_client.get(check_url(bearer)).status_code == 405


def test_it_answers_404_for_an_unknown_connection(staff_client, db):
    url = reverse("vault:check", args=["00000000-0000-0000-0000-000000000000"])
    assert staff_client.post(url, headers=HTMX).status_code == 404


def test_the_list_and_edit_pages_have_a_check_button_for_ready_connections(staff_client, bearer):
    Connection.objects.create(name="empty", type="API_KEY")
    for page in (reverse("vault:list"), reverse("vault:edit", args=[bearer.pk])):
        html = staff_client.get(page).text
        assert f'hx-post="{check_url(bearer)}"' in html
        assert f'hx-target="#check-result-{bearer.pk}"' in html and f'id="check-result-{bearer.pk}"' in html
        assert f'hx-indicator="#check-indicator-{bearer.pk}"' in html
        assert html.count(">Check</button>") == 1


def test_a_bearer_connection_is_ok(staff_client, bearer):
    assert "OK — the secret decrypts and its values can be sent." in check(staff_client, bearer)
    bearer.refresh_from_db()
    assert bearer.last_used is None


def test_an_undecryptable_secret_fails(staff_client, bearer, settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    text = check(staff_client, bearer)
    assert "Check failed: The secret cannot be decrypted: FIELD_ENCRYPTION_KEYS lacks its key." in text


@pytest.mark.parametrize(
    ("type_", "setup", "message"),
    [
        ("BEARER", {"token": ""}, 'The stored secret has no "token": enter the setup again.'),
        ("BEARER", {"token": "tok\r\nX-Injected: 1"}, 'The value of header "Authorization" contains a line'),
        ("BASIC_AUTH", {"username": "ada"}, 'The stored secret has no "password": enter the setup again.'),
        ("API_KEY", {"name": "Bad Name", "value": "k", "in": "HEADER"}, '"Bad Name" is not a valid header'),
        ("API_KEY", {"name": "k", "value": "k", "in": "BODY"}, 'The stored secret\'s "in" is neither HEADER'),
        ("OAUTH_CLIENT_CREDENTIALS", {"client_id": "c"}, 'The stored secret has no "client_secret"'),
        ("BEARER", "just text", "The stored secret is not a setup object: enter the setup again."),
    ],
)
def test_a_setup_that_cannot_be_used_fails_naming_the_field(staff_client, db, type_, setup, message):
    connection = make_connection("broken", type_, setup)
    assert f"Check failed: {message}" in check(staff_client, connection)


def test_an_api_key_in_the_query_is_ok(staff_client, db):
    setup = {"name": "api key", "value": "k", "in": "QUERY"}
    assert "OK — " in check(staff_client, make_connection("q", "API_KEY", setup))


def test_an_oauth_connection_fetches_a_fresh_token_each_time(staff_client, tokens):
    connection = oauth(tokens.url)
    assert "OK — token obtained, expires in 7200 s" in check(staff_client, connection)
    assert "OK — token obtained, expires in 7200 s" in check(staff_client, connection)
    assert tokens.calls == 2


def test_an_oauth_token_without_an_expiry_is_ok(staff_client, httpserver, allow_loopback, db):
    httpserver.expect_request("/oauth/token").respond_with_json({"access_token": "at_SENTINEL"})
    text = check(staff_client, oauth(httpserver.url_for("/oauth/token")))
    assert "OK — token obtained (the endpoint did not say when it expires)" in text


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (
            Response('{"error": "invalid_client"}', status=401, content_type="application/json"),
            "The OAuth token endpoint did not issue a token (HTTP 401: invalid_client).",
        ),
        (
            Response("<h1>down</h1>", status=502, content_type="text/html"),
            "The OAuth token endpoint did not issue a token (HTTP 502).",
        ),
    ],
)
def test_an_oauth_endpoint_that_issues_no_token_fails(staff_client, tokens, response, message):
    tokens.fail = response
    assert f"Check failed: {message}" in check(staff_client, oauth(tokens.url))


def test_an_oauth_endpoint_on_a_blocked_address_fails(staff_client, db, settings):
    settings.FLOWS_OUTBOUND_ALLOWLIST = []
    text = check(staff_client, oauth("http://127.0.0.1:9/oauth/token"))
    assert "Check failed: OAuth token endpoint: This destination is not allowed" in text


def test_nothing_secret_reaches_the_partial_or_the_logs(staff_client, tokens, caplog):
    """The token endpoint issues at_SENTINEL_1, then refuses and echoes the client secret back."""
    caplog.set_level(logging.DEBUG)
    connection = oauth(tokens.url)
    seen = [check(staff_client, connection)]
    tokens.fail = Response(
        json.dumps({"error": "secret_SENTINEL", "error_description": "secret_SENTINEL is wrong"}),
        status=400,
        content_type="application/json",
    )
    seen.append(check(staff_client, connection))
    assert "OK — token obtained" in seen[0]
    assert "Check failed: The OAuth token endpoint did not issue a token (HTTP 400)." in seen[1]
    seen += [record.getMessage() for record in caplog.records]
    assert [text for text in seen if "SENTINEL" in text] == []


def test_the_vault_never_imports_actions():
    for path in VAULT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [alias.name for alias in getattr(node, "names", [])] if isinstance(node, ast.Import) else []
            )
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(name.split(".")[0] == "actions" for name in names), path


def test_check_connection_uses_a_registered_checker_only_after_the_vault_check(db, bearer):
    connection = make_connection("auth", "OAUTH_CLIENT_CREDENTIALS", {"client_id": "c"})
    assert check_connection(connection) == CheckResult(
        ok=False, message='The stored secret has no "client_secret": enter the setup again.'
    )
    assert check_connection(bearer).ok
