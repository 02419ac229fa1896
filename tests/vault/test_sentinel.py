"""Planted secrets must never come back out: not in pages, partials, the admin, the CLI, logs or the DB."""

import base64
import io
import logging

import pytest
from django.core.management import call_command
from django.db import connection as db
from django.urls import reverse

from vault.api import credential_for
from vault.models import Connection

SENTINELS = [
    "tok_SENTINEL",
    "pass_SENTINEL",
    "key_SENTINEL",
    base64.b64encode(b"alice:pass_SENTINEL").decode(),
]
TYPES = ["BEARER", "BASIC_AUTH", "API_KEY", "OAUTH_CLIENT_CREDENTIALS"]
HTMX = {"HX-Request": "true"}


@pytest.fixture
def everything_logged(caplog):
    for name in ("", "django", "django.request", "django.db.backends", "django.security", "vault"):
        caplog.set_level(logging.DEBUG, logger=name)
    db.force_debug_cursor = True  # log every SQL statement with its parameters
    yield caplog
    db.force_debug_cursor = False


def assert_clean(text: str, where: str) -> None:
    for sentinel in SENTINELS:
        assert sentinel not in text, f"{sentinel} leaked in {where}"


def cli(*args: str, stdin: str = "") -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("vault", *args, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def test_no_secret_comes_back_out(staff_client, everything_logged):
    caplog = everything_logged
    outputs: dict[str, str] = {}

    # Planted through the vault page (with a failed attempt first), the admin and the command line.
    response = staff_client.post(
        reverse("vault:create"),
        {"name": "", "type": "BEARER", "bearer_token": "tok_SENTINEL", "allowed_hosts": "bad host!"},
    )
    assert response.status_code == 200
    outputs["create with errors"] = response.content.decode()
    response = staff_client.post(
        reverse("vault:create"), {"name": "ui", "type": "BEARER", "bearer_token": "tok_SENTINEL"}, follow=True
    )
    outputs["create"] = response.content.decode()
    blank = {"bearer_token": "", "api_key_name": "", "api_key_value": "", "api_key_in": "HEADER"}
    response = staff_client.post(
        reverse("admin:vault_connection_add"),
        {
            **blank,
            "name": "admin",
            "type": "BASIC_AUTH",
            "basic_username": "alice",
            "basic_password": "pass_SENTINEL",
            "allowed_hosts": "",
            "_save": "Save",
        },
        follow=True,
    )
    outputs["admin add"] = response.content.decode()
    outputs["cli create"] = cli(
        "create",
        "--name",
        "cli",
        "--type",
        "API_KEY",
        stdin='{"name": "k", "value": "key_SENTINEL", "in": "QUERY"}',
    )
    assert {c.name for c in Connection.objects.all()} == {"ui", "admin", "cli"}
    assert credential_for("ui").headers[0][1].reveal() == "Bearer tok_SENTINEL"  # planted for real

    # A failed edit where the secret was typed again.
    ui = Connection.objects.get(name="ui")
    response = staff_client.post(
        reverse("vault:edit", args=[ui.pk]), {"name": "", "type": "BEARER", "bearer_token": "tok_SENTINEL"}
    )
    outputs["edit with errors"] = response.content.decode()

    # Every page and partial of the vault and the admin.
    urls = [reverse("vault:list"), reverse("vault:create"), reverse("admin:vault_connection_changelist")]
    urls += [reverse("vault:create") + f"?type={t}" for t in TYPES]
    for connection in Connection.objects.all():
        urls += [
            reverse("vault:edit", args=[connection.pk]),
            reverse("vault:delete", args=[connection.pk]),
            reverse("admin:vault_connection_change", args=[connection.pk]),
            reverse("admin:vault_connection_history", args=[connection.pk]),
            reverse("admin:vault_connection_delete", args=[connection.pk]),
        ]
        urls += [reverse("vault:edit", args=[connection.pk]) + f"?type={t}" for t in TYPES]
    for url in urls:
        for headers in ({}, HTMX):
            response = staff_client.get(url, headers=headers)
            assert response.status_code == 200, url
            outputs[f"GET {url} {headers}"] = response.content.decode()

    outputs["cli list"] = cli("list")
    outputs["cli update"] = cli("update", "cli", "--rename", "cli2", stdin="")
    outputs["credentials"] = " ".join(
        repr(credential_for(n)) + str(credential_for(n)) for n in ("ui", "admin", "cli2")
    )

    for where, text in outputs.items():
        assert_clean(text, where)
    assert any("vault_connection" in r.getMessage() for r in caplog.records), "SQL was not logged"
    assert_clean(caplog.text, "the log text")
    for record in caplog.records:
        assert_clean(repr(record.__dict__), f"log record {record.name}")

    with db.cursor() as cursor:
        cursor.execute("SELECT setup FROM vault_connection")
        columns = [row[0] for row in cursor.fetchall()]
    assert len(columns) == 3 and all(c.startswith("gAAAAA") for c in columns)
    assert_clean(" ".join(columns), "the vault_connection.setup column")
