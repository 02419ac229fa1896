import base64

import pytest
from cryptography.fernet import Fernet

from tests.vault.conftest import make_connection
from vault.api import (
    Credential,
    CredentialUnavailable,
    basic_auth_secret,
    connection_choices,
    credential_for,
    is_host_allowed,
    mark_used,
)
from vault.models import Connection


def test_it_gives_a_bearer_header_by_id_or_by_name(bearer):
    for ref in (str(bearer.pk), "github", bearer.pk):
        credential = credential_for(ref)
        assert credential.connection_id == str(bearer.pk) and credential.name == "github"
        assert credential.type == "BEARER" and credential.fingerprint == bearer.fingerprint
        [(name, value)] = credential.headers
        assert name == "Authorization"
        assert value.reveal() == "Bearer tok_example"
        assert str(value) == "Bearer ********" and "tok_example" not in repr(value)
        assert value.sensitive == ("tok_example",)
        assert credential.query == () and credential.oauth is None and credential.allowed_hosts == ()
        assert "tok_example" not in repr(credential) and "tok_example" not in str(credential)


def test_it_gives_a_basic_auth_header(db):
    make_connection("legacy", "BASIC_AUTH", {"username": "alice", "password": "pässword"})
    [(name, value)] = credential_for("legacy").headers
    encoded = base64.b64encode("alice:pässword".encode()).decode()
    assert name == "Authorization" and value.reveal() == f"Basic {encoded}"
    assert str(value) == "Basic ********"
    assert value.sensitive == ("pässword", encoded)


def test_it_gives_an_api_key_in_a_header_or_in_the_query(db):
    make_connection("h", "API_KEY", {"name": "X-API-Key", "value": "k1", "in": "HEADER"})
    make_connection("q", "API_KEY", {"name": "api_key", "value": "k2", "in": "QUERY"})
    header = credential_for("h")
    [(name, value)] = header.headers
    assert (name, value.reveal(), str(value)) == ("X-API-Key", "k1", "********")
    assert header.query == ()
    query = credential_for("q")
    [(name, value)] = query.query
    assert (name, value.reveal(), str(value)) == ("api_key", "k2", "********")
    assert query.headers == ()


def test_it_hands_the_oauth_setup_over_as_a_secret(db):
    connection = make_connection("auth0", "OAUTH_CLIENT_CREDENTIALS")
    credential = credential_for("auth0")
    assert credential.headers == () and credential.query == ()
    assert credential.oauth.reveal() == connection.setup.reveal()
    assert credential.oauth.sensitive == ("secret_example",)
    assert "secret_example" not in repr(credential)


def test_it_says_why_a_credential_is_unavailable(db, settings):
    with pytest.raises(CredentialUnavailable, match=r'^Connection "nope" does not exist\.$'):
        credential_for("nope")
    with pytest.raises(CredentialUnavailable, match="does not exist"):
        credential_for("00000000-0000-0000-0000-000000000000")
    Connection.objects.create(name="empty")
    with pytest.raises(CredentialUnavailable, match=r'^Connection "empty" has no secret set\.$'):
        credential_for("empty")
    make_connection("locked")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CredentialUnavailable, match=r'^Connection "locked" cannot be decrypted') as excinfo:
        credential_for("locked")
    assert excinfo.value.__cause__ is None and excinfo.value.__suppress_context__


def test_it_keeps_allowed_hosts_and_checks_them(db):
    make_connection("gh", allowed_hosts=["api.github.com", "::1"])
    credential = credential_for("gh")
    assert credential.allowed_hosts == ("api.github.com", "::1")
    assert is_host_allowed(credential, "api.github.com")
    assert is_host_allowed(credential, "API.GitHub.com.")
    assert is_host_allowed(credential, "[::1]")
    assert not is_host_allowed(credential, "evil.com")
    assert not is_host_allowed(credential, "github.com")
    assert not is_host_allowed(credential, "api.github.com.evil.com")
    assert not is_host_allowed(credential, "not a host")
    anywhere = Credential("id", "n", "BEARER", (), (), (), None, "")
    assert is_host_allowed(anywhere, "anything.example")


def test_it_marks_a_connection_used_in_one_query(bearer, django_assert_num_queries):
    assert bearer.last_used is None
    with django_assert_num_queries(1):
        mark_used(str(bearer.pk))
    bearer.refresh_from_db()
    assert bearer.last_used is not None


def test_it_lists_choices_for_select_widgets(db, django_assert_num_queries):
    b = make_connection("b-conn", "BASIC_AUTH")
    a = make_connection("a-conn")
    with django_assert_num_queries(1):
        choices = connection_choices()
    assert choices == [(str(a.pk), "a-conn (Bearer token)"), (str(b.pk), "b-conn (Basic auth)")]


def test_basic_auth_secret_is_the_header_value_masked():
    secret = basic_auth_secret("user", "pass_SENTINEL")
    assert secret.reveal() == "Basic " + base64.b64encode(b"user:pass_SENTINEL").decode()
    assert str(secret) == "Basic ********" and "SENTINEL" not in repr(secret)
    assert "pass_SENTINEL" in secret.sensitive
