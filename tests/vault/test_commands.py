import io
import json

import pytest
from django.core.management import CommandError, ManagementUtility, call_command

from tests.vault.conftest import make_connection
from vault.models import Connection


def vault(*args: str, stdin: str = "") -> tuple[object, str]:
    """Run `manage.py vault …` in-process; the parsed JSON from stdout and the stderr text."""
    out, err = io.StringIO(), io.StringIO()
    call_command("vault", *args, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return json.loads(out.getvalue()), err.getvalue()


def test_it_creates_a_connection_from_the_setup_on_stdin(db):
    summary, message = vault(
        "create",
        "--name",
        "github",
        "--type",
        "BEARER",
        "--allowed-hosts",
        "api.github.com",
        stdin='{"token": "t1"}',
    )
    connection = Connection.objects.get(name="github")
    assert summary == {
        "id": str(connection.pk),
        "name": "github",
        "type": "BEARER",
        "ready": True,
        "fingerprint": connection.fingerprint,
    }
    assert connection.setup.reveal() == {"token": "t1"}
    assert connection.allowed_hosts == ["api.github.com"]
    assert "created" in message


def test_it_creates_every_type(db):
    vault("create", "--name", "b", "--type", "BASIC_AUTH", stdin='{"username": "u", "password": "p"}')
    vault("create", "--name", "k", "--type", "API_KEY", stdin='{"name": "key", "value": "v", "in": "QUERY"}')
    oauth = {
        "client_id": "c",
        "client_secret": "s",
        "token_endpoint": "https://a.example/token",
        "scope": "x",
    }
    vault("create", "--name", "o", "--type", "OAUTH_CLIENT_CREDENTIALS", stdin=json.dumps(oauth))
    assert Connection.objects.get(name="k").setup.reveal() == {"name": "key", "value": "v", "in": "QUERY"}
    assert Connection.objects.get(name="o").setup.reveal() == oauth


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--type", "BEARER"], "{not json", "stdin is not valid JSON"),
        (["--type", "BEARER"], '["t"]', "must be a JSON object"),
        (["--type", "BEARER"], '{"tokn": "t"}', "Unknown setup key(s) for BEARER: tokn. Expected: token."),
        (["--type", "BEARER"], '{"token": 5}', 'Setup key "token" must be a string.'),
        (["--type", "BEARER"], "{}", "token: This field is required."),
        (["--type", "BEARER"], '{"token": "a\\nb"}', "token: Line breaks are not allowed"),
        (["--type", "BEARER", "--allowed-hosts", "a_b"], '{"token": "t"}', "allowed_hosts: Not a host name"),
        (
            ["--type", "OAUTH_CLIENT_CREDENTIALS"],
            '{"client_id": "c", "client_secret": "s"}',
            "token_endpoint:",
        ),
    ],
)
def test_it_refuses_invalid_input_with_exit_code_2(db, args, stdin, message):
    with pytest.raises(CommandError) as excinfo:
        vault("create", "--name", "c", *args, stdin=stdin)
    assert message in str(excinfo.value)
    assert excinfo.value.returncode == 2
    assert not Connection.objects.exists()


@pytest.mark.parametrize(
    ("type_", "example"),
    [
        ("BEARER", """echo '{"token": "…"}' | manage.py vault create …"""),
        ("BASIC_AUTH", """echo '{"username": "…", "password": "…"}' | manage.py vault create …"""),
    ],
)
@pytest.mark.parametrize("stdin", ["", " \n"])
def test_empty_stdin_says_to_pipe_the_setup(db, type_, example, stdin):
    with pytest.raises(CommandError) as excinfo:
        vault("create", "--name", "c", "--type", type_, stdin=stdin)
    assert str(excinfo.value) == f"stdin is empty: pipe the setup JSON, e.g. {example}"
    assert excinfo.value.returncode == 2
    assert not Connection.objects.exists()


@pytest.mark.parametrize("name", ["github", "GitHub"])
def test_it_refuses_a_duplicate_name(bearer, name):
    with pytest.raises(CommandError, match="name: A connection with this name already exists") as excinfo:
        vault("create", "--name", name, "--type", "BEARER", stdin='{"token": "t"}')
    assert excinfo.value.returncode == 2


def test_it_lists_connections_without_secrets(db):
    a = make_connection("a")
    Connection.objects.create(name="b", type="API_KEY")
    listing, _ = vault("list")
    assert listing == [
        {"id": str(a.pk), "name": "a", "type": "BEARER", "ready": True, "fingerprint": a.fingerprint},
        {"id": listing[1]["id"], "name": "b", "type": "API_KEY", "ready": False, "fingerprint": ""},
    ]


def test_it_updates_a_connection(db):
    connection = make_connection("legacy", "BASIC_AUTH", allowed_hosts=["old.example"])
    summary, _ = vault("update", "legacy", "--rename", "legacy2", stdin="")
    connection.refresh_from_db()
    assert summary["name"] == "legacy2" == connection.name
    assert connection.setup.reveal() == {"username": "alice", "password": "pass_example"}
    assert connection.allowed_hosts == ["old.example"]
    vault("update", str(connection.pk), "--allowed-hosts", "", stdin='{"username": "bob"}')
    connection.refresh_from_db()
    assert connection.setup.reveal() == {"username": "bob", "password": "pass_example"}
    assert connection.allowed_hosts == []
    summary, _ = vault("update", "legacy2", stdin='{"password": "new"}')
    assert summary["fingerprint"] != connection.fingerprint
    assert Connection.objects.get(pk=connection.pk).setup.reveal() == {"username": "bob", "password": "new"}


def test_it_requires_the_new_setup_when_the_type_changes(bearer):
    with pytest.raises(CommandError, match="value: This field is required") as excinfo:
        vault("update", "github", "--type", "API_KEY", stdin='{"name": "X-Key"}')
    assert excinfo.value.returncode == 2
    vault("update", "github", "--type", "API_KEY", stdin='{"name": "X-Key", "value": "v", "in": "HEADER"}')
    assert Connection.objects.get(pk=bearer.pk).type == "API_KEY"


def test_it_deletes_a_connection(bearer):
    result, _message = vault("delete", "github")
    assert result == {"id": str(bearer.pk), "name": "github", "deleted": True}
    assert not Connection.objects.exists()
    with pytest.raises(CommandError, match="No connection named or with id “github”") as excinfo:
        vault("delete", "github")
    assert excinfo.value.returncode == 2


@pytest.mark.django_db(transaction=True)
def test_it_exits_with_the_documented_codes_from_the_command_line(monkeypatch, capsys):
    def manage(*argv: str, stdin: str) -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        try:
            ManagementUtility(["manage.py", *argv]).execute()
        except SystemExit as exit_:
            return exit_.code
        return 0

    assert manage("vault", "create", "--name", "cli", "--type", "BEARER", stdin='{"token": "t"}') == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["name"] == "cli" and "created" in err
    assert manage("vault", "create", "--name", "cli2", "--type", "BEARER", stdin="{}") == 2
    out, err = capsys.readouterr()
    assert out == "" and "token: This field is required." in err
    assert manage("vault", "create", "--name", "cli3", "--type", "SOMETHING", stdin="{}") == 2
    assert "invalid choice" in capsys.readouterr().err
