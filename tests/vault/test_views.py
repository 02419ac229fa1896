import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.conftest import make_user
from tests.vault.conftest import make_connection
from vault.fields import SealedSecret
from vault.models import Connection

HTMX = {"HX-Request": "true"}


def _urls(connection) -> list[str]:
    return [
        reverse("vault:list"),
        reverse("vault:create"),
        reverse("vault:create") + "?type=API_KEY",
        reverse("vault:edit", args=[connection.pk]),
        reverse("vault:edit", args=[connection.pk]) + "?type=BASIC_AUTH",
        reverse("vault:delete", args=[connection.pk]),
    ]


def test_it_sends_anonymous_users_to_login(client, bearer):
    for url in _urls(bearer):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next=")


def test_it_forbids_users_who_are_not_staff(outsider_client, bearer):
    for url in _urls(bearer):
        assert outsider_client.get(url).status_code == 403, url
        assert outsider_client.get(url, headers=HTMX).status_code == 403, url
    assert outsider_client.post(reverse("vault:delete", args=[bearer.pk])).status_code == 403
    assert Connection.objects.filter(pk=bearer.pk).exists()


def test_it_serves_every_page_and_partial_to_staff(staff_client, bearer):
    for url in _urls(bearer):
        assert staff_client.get(url).status_code == 200, url
        assert staff_client.get(url, headers=HTMX).status_code == 200, url


def test_it_needs_the_vault_permissions_besides_staff(client, bearer):
    user = make_user("clerk", superuser=False)
    client.force_login(user)
    assert client.get(reverse("vault:list")).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_connection"))
    client.force_login(user)
    response = client.get(reverse("vault:list"))
    assert response.status_code == 200
    assert b"New connection" not in response.content
    for url in _urls(bearer)[1:]:
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("vault:delete", args=[bearer.pk])).status_code == 403


def test_it_shows_an_empty_state_with_a_new_connection_button(staff_client):
    response = staff_client.get(reverse("vault:list"))
    assert b"No connections yet" in response.content
    assert reverse("vault:create").encode() in response.content


def test_it_lists_connections_without_their_secrets(staff_client, db):
    connection = make_connection("github", allowed_hosts=["api.github.com"])
    make_connection("legacy", "BASIC_AUTH")
    Connection.objects.create(name="empty", type="API_KEY")
    response = staff_client.get(reverse("vault:list"))
    html = response.content.decode()
    for text in ["github", "legacy", "empty", "Bearer token", "Basic auth", "API key", "api.github.com"]:
        assert text in html
    assert connection.fingerprint in html
    assert "Ready" in html and "No secret" in html and "any host" in html
    assert "tok_example" not in html and "pass_example" not in html


def test_it_creates_a_bearer_connection(staff_client, db):
    response = staff_client.post(
        reverse("vault:create"),
        {
            "name": "github",
            "type": "BEARER",
            "bearer_token": "ghp_123",
            "allowed_hosts": "API.GitHub.com, uploads.github.com",
        },
        follow=True,
    )
    assert response.redirect_chain == [(reverse("vault:list"), 302)]
    assert "Connection “github” created." in response.content.decode()
    connection = Connection.objects.get(name="github")
    assert connection.ready and len(connection.fingerprint) == 16
    assert connection.setup.reveal() == {"token": "ghp_123"}
    assert connection.allowed_hosts == ["api.github.com", "uploads.github.com"]


@pytest.mark.parametrize(
    ("type_", "fields", "setup"),
    [
        (
            "BASIC_AUTH",
            {"basic_username": "alice", "basic_password": " p@ss "},
            {"username": "alice", "password": " p@ss "},
        ),
        (
            "API_KEY",
            {"api_key_name": "api_key", "api_key_value": "k1", "api_key_in": "QUERY"},
            {"name": "api_key", "value": "k1", "in": "QUERY"},
        ),
        (
            "OAUTH_CLIENT_CREDENTIALS",
            {
                "oauth_client_id": "cid",
                "oauth_client_secret": "cs",
                "oauth_token_endpoint": "https://auth.example.com/oauth/token",
                "oauth_scope": "read:users",
            },
            {
                "client_id": "cid",
                "client_secret": "cs",
                "token_endpoint": "https://auth.example.com/oauth/token",
                "scope": "read:users",
            },
        ),
    ],
)
def test_it_creates_each_type(staff_client, db, type_, fields, setup):
    response = staff_client.post(reverse("vault:create"), {"name": "c", "type": type_, **fields})
    assert response.status_code == 302
    assert Connection.objects.get(name="c").setup.reveal() == setup


def test_it_shows_errors_beside_fields_and_keeps_what_was_typed_except_secrets(staff_client, db):
    response = staff_client.post(
        reverse("vault:create"),
        {
            "name": "my oauth",
            "type": "OAUTH_CLIENT_CREDENTIALS",
            "oauth_client_id": "cid",
            "oauth_client_secret": "typed-secret",
            "oauth_token_endpoint": "ftp://auth.example.com/token",
            "allowed_hosts": "api.example.com, bad_host!",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert not Connection.objects.exists()
    assert "Enter an http:// or https:// URL." in html
    assert "Not a host name or IP address: bad_host!." in html
    assert 'value="my oauth"' in html and 'value="cid"' in html and "ftp://auth.example.com/token" in html
    assert "api.example.com, bad_host!" in html
    assert "typed-secret" not in html
    assert "Not saved because the form had an error: type it again." in html


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"type": "BEARER"}, "bearer_token", "This field is required."),
        ({"type": "BEARER", "bearer_token": "a\r\nX-Evil: 1"}, "bearer_token", "Line breaks are not allowed"),
        ({"type": "BASIC_AUTH", "basic_username": "a:b", "basic_password": "p"}, "basic_username", "colon"),
        (
            {"type": "BASIC_AUTH", "basic_username": "a\nb", "basic_password": "p"},
            "basic_username",
            "Line breaks",
        ),
        ({"type": "BASIC_AUTH", "basic_username": "alice"}, "basic_password", "This field is required."),
        (
            {"type": "API_KEY", "api_key_name": "X Key", "api_key_value": "v", "api_key_in": "HEADER"},
            "api_key_name",
            "Not a valid header name",
        ),
        (
            {"type": "API_KEY", "api_key_name": "k", "api_key_value": "v\n", "api_key_in": "SOMEWHERE"},
            "api_key_in",
            "Select a valid choice",
        ),
        (
            {"type": "API_KEY", "api_key_name": "k", "api_key_value": "v\nw", "api_key_in": "QUERY"},
            "api_key_value",
            "Line breaks",
        ),
        (
            {"type": "OAUTH_CLIENT_CREDENTIALS", "oauth_client_id": "c", "oauth_client_secret": "s"},
            "oauth_token_endpoint",
            "This field is required.",
        ),
        ({"type": "NOPE"}, "type", "Select a valid choice"),
    ],
)
def test_it_validates_each_type(staff_client, db, data, field, message):
    response = staff_client.post(reverse("vault:create"), {"name": "c", **data})
    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    assert not Connection.objects.exists()


def test_it_refuses_duplicate_and_uuid_like_names(staff_client, bearer):
    data = {"type": "BEARER", "bearer_token": "t"}
    response = staff_client.post(reverse("vault:create"), {"name": "github", **data})
    assert "already exists" in str(response.context["form"].errors["name"])
    response = staff_client.post(reverse("vault:create"), {"name": str(bearer.pk), **data})
    assert "cannot look like a connection id" in str(response.context["form"].errors["name"])


def test_it_swaps_the_setup_fields_when_the_type_changes(staff_client, db):
    page = staff_client.get(reverse("vault:create")).content.decode()
    assert 'hx-get="/vault/new/"' in page and 'id="setup-fields"' in page and 'name="bearer_token"' in page
    response = staff_client.get(reverse("vault:create") + "?type=API_KEY", headers=HTMX)
    html = response.content.decode()
    assert "<html" not in html and html.lstrip().startswith('<fieldset id="setup-fields"')
    assert 'name="api_key_name"' in html and 'name="api_key_value"' in html and 'name="api_key_in"' in html
    assert 'name="bearer_token"' not in html
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_it_marks_secret_inputs_write_only(staff_client, bearer):
    html = staff_client.get(reverse("vault:create")).content.decode()
    assert 'type="password" name="bearer_token"' in html
    assert "Write-only: stored encrypted and never shown again" in html
    html = staff_client.get(reverse("vault:edit", args=[bearer.pk])).content.decode()
    assert "Leave blank to keep the stored value" in html
    assert "tok_example" not in html


def test_it_renames_and_changes_hosts_keeping_the_secret(staff_client, bearer):
    before = Connection.objects.get(pk=bearer.pk)
    response = staff_client.post(
        reverse("vault:edit", args=[bearer.pk]),
        {"name": "gh", "type": "BEARER", "bearer_token": "", "allowed_hosts": "api.github.com\n10.0.0.1"},
        follow=True,
    )
    assert "Connection “gh” saved." in response.content.decode()
    after = Connection.objects.get(pk=bearer.pk)
    assert after.name == "gh" and after.allowed_hosts == ["api.github.com", "10.0.0.1"]
    assert after.fingerprint == before.fingerprint
    assert after.setup.ciphertext == before.setup.ciphertext


def test_it_replaces_the_secret(staff_client, bearer):
    staff_client.post(
        reverse("vault:edit", args=[bearer.pk]), {"name": "github", "type": "BEARER", "bearer_token": "new"}
    )
    after = Connection.objects.get(pk=bearer.pk)
    assert after.setup.reveal() == {"token": "new"}
    assert after.fingerprint != bearer.fingerprint


def test_it_keeps_a_blank_secret_while_other_setup_fields_change(staff_client, db):
    connection = make_connection("legacy", "BASIC_AUTH")
    html = staff_client.get(reverse("vault:edit", args=[connection.pk])).content.decode()
    assert 'value="alice"' in html and "pass_example" not in html
    staff_client.post(
        reverse("vault:edit", args=[connection.pk]),
        {"name": "legacy", "type": "BASIC_AUTH", "basic_username": "bob", "basic_password": ""},
    )
    assert Connection.objects.get(pk=connection.pk).setup.reveal() == {
        "username": "bob",
        "password": "pass_example",
    }


def test_it_requires_the_secret_again_when_the_type_changes(staff_client, bearer):
    url = reverse("vault:edit", args=[bearer.pk])
    partial = staff_client.get(url + "?type=API_KEY", headers=HTMX).content.decode()
    assert "Changing the type replaces the stored secret" in partial
    assert "Write-only: stored encrypted" in partial
    response = staff_client.post(
        url, {"name": "github", "type": "API_KEY", "api_key_name": "X-Key", "api_key_in": "HEADER"}
    )
    assert response.status_code == 200
    assert "This field is required." in str(response.context["form"].errors["api_key_value"])
    assert Connection.objects.get(pk=bearer.pk).type == "BEARER"
    staff_client.post(
        url,
        {
            "name": "github",
            "type": "API_KEY",
            "api_key_name": "X-Key",
            "api_key_value": "k",
            "api_key_in": "HEADER",
        },
    )
    connection = Connection.objects.get(pk=bearer.pk)
    assert connection.type == "API_KEY"
    assert connection.setup.reveal() == {"name": "X-Key", "value": "k", "in": "HEADER"}


def test_it_can_rename_a_connection_whose_secret_cannot_be_decrypted(staff_client, bearer):
    Connection.objects.filter(pk=bearer.pk).update(setup=SealedSecret("gAAAAnot-a-valid-token"))
    url = reverse("vault:edit", args=[bearer.pk])
    assert "cannot be decrypted with the current encryption keys" in staff_client.get(url).content.decode()
    assert staff_client.post(url, {"name": "renamed", "type": "BEARER"}).status_code == 302
    assert Connection.objects.get(pk=bearer.pk).setup.ciphertext == "gAAAAnot-a-valid-token"
    response = staff_client.post(url, {"name": "renamed", "type": "BEARER", "allowed_hosts": "x.example"})
    assert response.status_code == 302
    staff_client.post(url, {"name": "renamed", "type": "BEARER", "bearer_token": "fresh"})
    assert Connection.objects.get(pk=bearer.pk).setup.reveal() == {"token": "fresh"}


def test_it_deletes_after_confirmation(staff_client, bearer):
    url = reverse("vault:delete", args=[bearer.pk])
    page = staff_client.get(url).content.decode()
    assert "Delete “github”?" in page and 'method="post"' in page
    assert Connection.objects.filter(pk=bearer.pk).exists()
    response = staff_client.post(url, follow=True)
    assert "Connection “github” deleted." in response.content.decode()
    assert not Connection.objects.filter(pk=bearer.pk).exists()


def test_it_answers_404_for_an_unknown_connection(staff_client, db):
    url = reverse("vault:edit", args=["00000000-0000-0000-0000-000000000000"])
    assert staff_client.get(url).status_code == 404
