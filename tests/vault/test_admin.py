from django.urls import reverse

from tests.vault.conftest import make_connection
from vault.forms import SETUP_KEYS
from vault.models import Connection

BLANK_SETUP = {k.field: "" for keys in SETUP_KEYS.values() for k in keys}


def admin_data(**fields) -> dict:
    return {**BLANK_SETUP, "allowed_hosts": "", "api_key_in": "HEADER", "_save": "Save", **fields}


def test_it_lists_connections_in_the_admin(staff_client, db):
    connection = make_connection("github")
    html = staff_client.get(reverse("admin:vault_connection_changelist")).content.decode()
    for text in ["github", "Bearer token", connection.fingerprint, "Ready", "Last used"]:
        assert text in html
    assert "tok_example" not in html


def test_it_keeps_the_admin_for_staff(client, outsider_client, bearer):
    url = reverse("admin:vault_connection_change", args=[bearer.pk])
    assert outsider_client.get(url).status_code == 302
    client.logout()
    assert client.get(url)["Location"].startswith(reverse("admin:login"))


def test_the_admin_add_page_shows_one_write_only_section_per_type(staff_client, db):
    response = staff_client.get(reverse("admin:vault_connection_add"))
    html = response.content.decode()
    assert response.status_code == 200
    for section in ["setup-BEARER", "setup-BASIC_AUTH", "setup-API_KEY", "setup-OAUTH_CLIENT_CREDENTIALS"]:
        assert section in html
    for secret in ["bearer_token", "basic_password", "api_key_value", "oauth_client_secret"]:
        assert f'type="password" name="{secret}"' in html
    assert "vault/connection-admin.js" in html


def test_it_adds_a_connection_in_the_admin(staff_client, db):
    response = staff_client.post(
        reverse("admin:vault_connection_add"),
        admin_data(
            name="legacy", type="BASIC_AUTH", basic_username="alice", basic_password="pw", fingerprint="x"
        ),
    )
    assert response.status_code == 302
    connection = Connection.objects.get(name="legacy")
    assert connection.setup.reveal() == {"username": "alice", "password": "pw"}
    assert connection.fingerprint != "x" and len(connection.fingerprint) == 16


def test_the_admin_shows_errors_for_the_chosen_type(staff_client, db):
    response = staff_client.post(
        reverse("admin:vault_connection_add"), admin_data(name="k", type="API_KEY", bearer_token="ignored")
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"api_key_name", "api_key_value"}
    assert "ignored" not in response.content.decode()
    assert not Connection.objects.exists()


def test_the_admin_change_page_never_renders_the_secret_and_blank_keeps_it(staff_client, db):
    connection = Connection.objects.get(pk=make_connection("legacy", "BASIC_AUTH").pk)
    url = reverse("admin:vault_connection_change", args=[connection.pk])
    html = staff_client.get(url).content.decode()
    assert 'value="alice"' in html and "pass_example" not in html
    assert connection.fingerprint in html and 'name="fingerprint"' not in html
    assert "Leave blank to keep the stored value" in html

    response = staff_client.post(
        url, admin_data(name="legacy2", type="BASIC_AUTH", basic_username="alice", allowed_hosts="a.example")
    )
    assert response.status_code == 302
    after = Connection.objects.get(pk=connection.pk)
    assert after.name == "legacy2" and after.allowed_hosts == ["a.example"]
    assert (
        after.setup.ciphertext == connection.setup.ciphertext and after.fingerprint == connection.fingerprint
    )

    staff_client.post(
        url, admin_data(name="legacy2", type="BASIC_AUTH", basic_username="alice", basic_password="new")
    )
    after = Connection.objects.get(pk=connection.pk)
    assert after.setup.reveal() == {"username": "alice", "password": "new"}
    assert after.fingerprint != connection.fingerprint
