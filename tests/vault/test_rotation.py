import io
import json

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection as db

from actions.models import Action, Flow
from tests.vault.conftest import make_connection
from vault import crypto
from vault.api import credential_for
from vault.models import Connection
from vault.secrets import Secret

OLD, NEW, OTHER = (Fernet.generate_key().decode() for _ in range(3))


def raw(table: str, column: str) -> list[str]:
    with db.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} ORDER BY {column}")  # noqa: S608 - fixed names
        return [row[0] for row in cursor.fetchall()]


def rotate() -> tuple[dict, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("rotate_encryption_keys", stdout=out, stderr=err)
    return json.loads(out.getvalue()), err.getvalue()


@pytest.fixture
def old_rows(db, settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    make_connection("gh")
    make_connection("legacy", "BASIC_AUTH")
    Connection.objects.create(name="empty")
    flow = Flow.objects.create(name="f")
    Action.objects.create(
        flow=flow,
        action_id="a1",
        type="HTTP",
        action="SEND_REQUEST",
        secret_params=Secret({"password": "pw"}),
    )
    Action.objects.create(flow=flow, action_id="a2", type="HTTP", action="SEND_REQUEST")
    return settings


def test_it_re_encrypts_every_secret_column_under_the_first_key(old_rows):
    settings = old_rows
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    before = raw("vault_connection", "setup") + raw("actions_action", "secret_params")
    fingerprint = Connection.objects.get(name="gh").fingerprint
    counts, message = rotate()
    assert counts["vault.Connection"] == {"setup": 2}
    assert counts["actions.Action"] == {"secret_params": 1}
    assert "Re-encrypted 3 value(s)" in message
    after = raw("vault_connection", "setup") + raw("actions_action", "secret_params")
    assert set(after).isdisjoint(set(before) - {None})

    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    assert credential_for("gh").headers[0][1].reveal() == "Bearer tok_example"
    assert Connection.objects.get(name="legacy").setup.reveal()["password"] == "pass_example"
    assert Action.objects.get(action_id="a1").secret_params.reveal() == {"password": "pw"}
    assert Connection.objects.get(name="gh").fingerprint == fingerprint


def test_a_wrong_key_raises_and_never_returns_ciphertext(old_rows):
    old_rows.FIELD_ENCRYPTION_KEYS = [OTHER]
    sealed = Connection.objects.get(name="gh").setup
    with pytest.raises(crypto.DecryptionError) as excinfo:
        sealed.reveal()
    assert sealed.ciphertext not in str(excinfo.value)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(sealed.ciphertext)


def test_it_changes_nothing_when_one_row_cannot_be_decrypted(old_rows):
    settings = old_rows
    settings.FIELD_ENCRYPTION_KEYS = [OTHER]
    orphan = make_connection("orphan")  # encrypted under a key that is about to be dropped
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    before = raw("vault_connection", "setup") + raw("actions_action", "secret_params")
    with pytest.raises(CommandError) as excinfo:
        rotate()
    assert excinfo.value.returncode == 1
    assert f"vault.Connection row {orphan.pk}" in str(excinfo.value)
    assert "Nothing was changed" in str(excinfo.value)
    assert raw("vault_connection", "setup") + raw("actions_action", "secret_params") == before


def test_it_names_an_undecryptable_action_row_and_rolls_back_the_connections(old_rows):
    settings = old_rows
    flow = Flow.objects.get(name="f")
    settings.FIELD_ENCRYPTION_KEYS = [OTHER]
    bad = Action.objects.create(
        flow=flow, action_id="a3", type="HTTP", action="SEND_REQUEST", secret_params=Secret({"password": "x"})
    )
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    before = raw("vault_connection", "setup")
    with pytest.raises(CommandError, match=f"actions.Action row {bad.pk}: secret_params cannot be decrypted"):
        rotate()
    assert raw("vault_connection", "setup") == before
