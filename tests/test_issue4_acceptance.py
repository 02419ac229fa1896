"""Issue 4, acceptance from the command line: the Auth0-shaped five-action flow file
(tests/fixtures/auth0_user_flow.json) imports and runs against httpbin, every step is recorded, and the
bearer token never leaves the vault."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from actions.models import ActionRun, Execution, Flow
from vault.models import Connection

FLOW_FILE = Path(__file__).parent / "fixtures" / "auth0_user_flow.json"
TOKEN = "tok_SENTINEL"
# The token as it would appear base64-encoded (a Basic header) or echoed back by httpbin.
TOKEN_FORMS = (TOKEN, "dG9rX1NFTlRJTkVM")


@pytest.fixture
def auth0_connection(db) -> Connection:
    connection = Connection(name="auth0 management api", type="BEARER")
    connection.set_setup({"token": TOKEN})
    connection.save()
    return connection


def flows(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("flows", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_input(httpbin_url: str, **fields) -> str:
    return json.dumps(
        {"fields": {"base_url": httpbin_url, "user_id": "auth0|42", "email": "ada@example.com"} | fields}
    )


def test_the_auth0_flow_file_imports_and_runs_from_the_command_line(settings, httpbin_url, auth0_connection):
    settings.FLOWS_OUTBOUND_ALLOWLIST = ["127.0.0.1"]

    imported_out, imported_err = flows("import", str(FLOW_FILE))
    imported = json.loads(imported_out)
    assert [(item["name"], item["version"]) for item in imported] == [("Auth0 user sync", 1)]
    assert "imported" in imported_err

    run_out, run_err = flows("run", "Auth0 user sync", "--input", run_input(httpbin_url, plan="pro"))
    result = json.loads(run_out)

    assert result["status"] == "completed", result
    assert result["error"] is None
    assert "completed" in run_err
    # Every step that ran, in run order; the else branch did not run.
    assert [(step["id"], step["status"]) for step in result["actions"]] == [
        ("get_user", "completed"),
        ("found", "completed"),
        ("remember", "completed"),
        ("post_user", "completed"),
        ("done", "completed"),
    ]
    steps = {step["id"]: step["output"] for step in result["actions"]}
    assert steps["get_user"]["status"] == 200
    assert steps["found"] == {"result": True}
    assert steps["remember"] == {"email": "ada@example.com", "plan": "pro"}
    # httpbin /anything echoes the POST: its JSON body holds the values read from the user's body and vars.
    sent = {"method_seen": "GET", "email": "ada@example.com", "plan": "pro", "user_id": "auth0|42"}
    assert steps["post_user"]["body"]["json"] == sent
    assert steps["post_user"]["body"]["method"] == "POST"
    assert result["output"] == {"synced": sent, "status": 200}

    execution = Execution.objects.get(pk=result["id"])
    assert execution.status == "completed"
    assert execution.trigger == "cli"
    assert execution.flow_version == 1
    runs = list(execution.action_runs.all())
    assert [run.action_id for run in runs] == ["get_user", "found", "remember", "post_user", "done"]
    assert runs[0].params["url"].startswith(f"{httpbin_url}/anything/api/v2/users/auth0")
    assert runs[3].params["payload"] == sent

    # The bearer header was sent (httpbin echoes it) and recorded, but only masked.
    echoed_headers = steps["get_user"]["body"]["headers"]
    assert "Authorization" in echoed_headers
    assert TOKEN not in echoed_headers["Authorization"]
    exported_out, _ = flows("export", "Auth0 user sync")
    stored = json.dumps(
        [
            [execution.fields, execution.output, execution.error],
            list(ActionRun.objects.filter(execution=execution).values()),
        ],
        default=str,
    )
    assert "Authorization" in stored
    for text in (run_out, run_err, imported_out, stored, exported_out):
        for form in TOKEN_FORMS:
            assert form not in text
    # The export names the connection, as the file did.
    exported = json.loads(exported_out)
    assert exported["actions"][0]["params"]["connection_id"] == "auth0 management api"


def test_the_auth0_flow_takes_the_else_branch_when_the_user_is_missing(
    settings, httpbin_url, auth0_connection
):
    """The same file against a base URL that answers 404: the Error message ends the run, exit 1."""
    settings.FLOWS_OUTBOUND_ALLOWLIST = ["127.0.0.1"]
    flows("import", str(FLOW_FILE))

    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command(
            "flows",
            "run",
            "Auth0 user sync",
            "--input",
            run_input(f"{httpbin_url}/status/404"),
            stdout=out,
            stderr=StringIO(),
        )

    assert caught.value.returncode == 1
    result = json.loads(out.getvalue())
    assert result["status"] == "failed"
    assert result["error"] == {
        "action_id": "not_found",
        "code": "error_message",
        "message": "User auth0|42 not found (HTTP 404)",
    }
    assert [step["id"] for step in result["actions"]] == ["get_user", "found", "not_found"]
    assert Flow.objects.get().executions.get().status == "failed"
