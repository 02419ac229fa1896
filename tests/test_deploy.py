"""Production settings (DESIGN §3, §8): `check --deploy` is clean, start-up refuses to run without its
keys, the vault key is not SECRET_KEY, and error pages (DEBUG off) never show or log a secret.

The settings tests run `manage.py` in a subprocess with a minimal production environment, since
settings are read once, at start-up.
"""

import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path

from actions.models import Action
from actions.runner import run_action, scope_from
from tests.conftest import make_user
from vault import api as vault_api
from vault.models import Connection

MANAGE = Path(django_settings.BASE_DIR) / "manage.py"
SENTINEL = "tok_SENTINEL_5f1c"


def production_env(tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    """Only what a production start needs: nothing inherited (no DATABASE_URL, no DEBUG from the shell).
    An override of None leaves that variable out."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "flowdesigner.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),  # 64 characters
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "flows.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(MANAGE), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


# --- R117 check --deploy -----------------------------------------------------------------------------------


def test_check_deploy_is_clean_for_production_settings(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "WARNINGS" not in result.stderr and "ERRORS" not in result.stderr
    # Only the HSTS preload reminder is silenced, and only while preloading is off.
    assert result.stdout.strip() == "System check identified no issues (1 silenced)."


def test_check_deploy_is_clean_with_nothing_silenced_once_hsts_preload_is_on(tmp_path):
    env = production_env(tmp_path, SECURE_HSTS_PRELOAD="true")
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


@pytest.mark.parametrize("name", ["SECRET_KEY", "FIELD_ENCRYPTION_KEYS"])
def test_without_debug_a_missing_key_stops_start_up_naming_it(tmp_path, name):
    result = manage(production_env(tmp_path, **{name: None}), "check")
    assert result.returncode != 0
    assert f"{name} is not set: it is required when DEBUG is off." in result.stderr


# --- R124 the vault key is separate from SECRET_KEY -------------------------------------------------------


@pytest.fixture
def bearer(db) -> Connection:
    connection = Connection(name="crm", type="BEARER")
    connection.set_setup({"token": SENTINEL})
    connection.save()
    return connection


def test_changing_secret_key_keeps_the_stored_secrets_usable(bearer, settings, httpserver, allow_loopback):
    settings.SECRET_KEY = secrets.token_urlsafe(48)
    settings.SECRET_KEY_FALLBACKS = []
    httpserver.expect_request("/api").respond_with_json({"ok": True})
    action = Action(
        action_id="call", type="HTTP", action="SEND_REQUEST", params={"url": httpserver.url_for("/api")}
    )
    action.params["connection_id"] = "crm"
    run = run_action(action, scope_from({}))
    assert run.output["body"] == {"ok": True}
    assert httpserver.log[-1][0].headers["Authorization"] == f"Bearer {SENTINEL}"


def test_the_vault_encrypts_with_field_encryption_keys_only(bearer, settings):
    stored = Connection.objects.get(pk=bearer.pk).setup.ciphertext
    assert SENTINEL in Fernet(settings.FIELD_ENCRYPTION_KEYS[0].encode()).decrypt(stored.encode()).decode()
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(vault_api.CredentialUnavailable, match="FIELD_ENCRYPTION_KEYS lacks its key"):
        vault_api.credential_for("crm")


# --- R109 no secret on error pages (DEBUG off) -----------------------------------------------------------


def fails_holding_a_secret(request: HttpRequest) -> HttpResponse:
    """A view that fails unexpectedly while a vault credential is in scope, naming it in the error."""
    credential = vault_api.credential_for("crm")
    authorization = credential.headers[0][1]
    raise RuntimeError(f"Unexpected failure calling the API with {authorization} ({credential!r})")


urlpatterns = [path("fails/", fails_holding_a_secret), path("", include("flowdesigner.urls"))]


def no_sentinel_anywhere(response: HttpResponse, caplog) -> None:
    assert SENTINEL.encode() not in response.content
    assert SENTINEL not in str(response.headers)
    formatter = logging.Formatter()
    for record in caplog.records:
        assert SENTINEL not in formatter.format(record)  # message, arguments and traceback
        assert SENTINEL not in repr(record.__dict__.get("args"))


@pytest.mark.urls(__name__)
def test_a_500_neither_shows_nor_logs_the_secret_in_scope(bearer, settings, caplog):
    settings.DEBUG = False
    caplog.set_level(logging.DEBUG)
    client = Client(raise_request_exception=False)
    response = client.post(f"/fails/?token={SENTINEL}", {"password": SENTINEL})
    assert response.status_code == 500
    assert b"Traceback" not in response.content
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.levelno == logging.ERROR and record.exc_info
    # The error did name the credential: masked.
    assert "calling the API with Bearer ********" in logging.Formatter().format(record)
    no_sentinel_anywhere(response, caplog)


@pytest.mark.parametrize("cause", ["host not allowed", "request too big"])
def test_a_400_neither_shows_nor_logs_the_secret_sent(bearer, settings, caplog, cause):
    settings.DEBUG = False
    caplog.set_level(logging.DEBUG)
    client = Client(raise_request_exception=False)
    client.force_login(make_user())
    data = {"name": "new", "type": "BEARER", "token": SENTINEL}
    if cause == "host not allowed":
        response = client.post(f"/vault/new/?token={SENTINEL}", data, headers={"host": "evil.example"})
        logger = "django.security.DisallowedHost"
    else:
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 16
        response = client.post(f"/vault/new/?token={SENTINEL}", data)
        logger = "django.security.RequestDataTooBig"
    assert response.status_code == 400
    assert logger in [record.name for record in caplog.records]
    no_sentinel_anywhere(response, caplog)
    assert not Connection.objects.filter(name="new").exists()
