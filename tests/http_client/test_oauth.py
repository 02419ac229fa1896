"""OAuth client-credentials tokens: fetched through the guarded client, cached, never shown."""

import time
import uuid

import pytest
from werkzeug import Response

from actions.http_client import OutboundError, oauth_token
from vault.secrets import Secret


def setup_secret(endpoint: str, **extra) -> Secret:
    config = {"client_id": "cid", "client_secret": "secret_SENTINEL", "token_endpoint": endpoint, **extra}
    return Secret(config, sensitive=("secret_SENTINEL",))


def token_endpoint(httpserver, expires_in=3600):
    calls = []

    def handler(request):
        calls.append(request.form.to_dict())
        return Response(
            f'{{"access_token": "at_{len(calls)}", "token_type": "Bearer", "expires_in": {expires_in}}}',
            content_type="application/json",
        )

    httpserver.expect_request("/oauth/token", method="POST").respond_with_handler(handler)
    return calls


def test_token_is_fetched_with_the_client_credentials_grant_and_cached(httpserver, up):
    calls = token_endpoint(httpserver)
    setup = setup_secret(up("/oauth/token"), audience="https://api.example", scope="read:things")
    key = str(uuid.uuid4())
    first = oauth_token(setup, key)
    second = oauth_token(setup, key)
    assert first.reveal() == "Bearer at_1"
    assert second is first
    assert str(first) == "Bearer ********"
    assert "at_1" not in repr(first)
    assert calls == [
        {
            "grant_type": "client_credentials",
            "client_id": "cid",
            "client_secret": "secret_SENTINEL",
            "audience": "https://api.example",
            "scope": "read:things",
        }
    ]


def test_token_is_refreshed_shortly_before_it_expires(httpserver, up):
    calls = token_endpoint(httpserver, expires_in=1)
    setup, key = setup_secret(up("/oauth/token")), str(uuid.uuid4())
    assert oauth_token(setup, key).reveal() == "Bearer at_1"
    time.sleep(0.95)
    assert oauth_token(setup, key).reveal() == "Bearer at_2"
    assert len(calls) == 2


def test_refused_credentials_fail_without_showing_them(httpserver, up):
    httpserver.expect_request("/oauth/token").respond_with_json({"error": "access_denied"}, status=401)
    with pytest.raises(OutboundError) as caught:
        oauth_token(setup_secret(up("/oauth/token")), str(uuid.uuid4()))
    assert caught.value.code == "invalid_request"
    assert caught.value.message == "The OAuth token endpoint did not issue a token (HTTP 401: access_denied)."


@pytest.mark.parametrize(
    "body", ['{"token_type": "Bearer", "expires_in": 3600}', '{"access_token": ""}', "ok"]
)
def test_a_2xx_answer_without_an_access_token_says_what_is_missing(httpserver, up, body):
    httpserver.expect_request("/oauth/token").respond_with_data(body, content_type="application/json")
    with pytest.raises(OutboundError) as caught:
        oauth_token(setup_secret(up("/oauth/token")), str(uuid.uuid4()))
    assert caught.value.code == "invalid_request"
    assert caught.value.message == "The OAuth token endpoint answered HTTP 200 without an access_token."


def test_token_endpoint_goes_through_the_ssrf_guard(fake_dns):
    with pytest.raises(OutboundError) as caught:
        oauth_token(setup_secret("http://10.0.0.5/oauth/token"), str(uuid.uuid4()))
    assert caught.value.code == "blocked_destination"
    assert caught.value.meta is None
    assert "SENTINEL" not in repr(caught.value.__dict__)
