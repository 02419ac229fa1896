"""`manage.py flows import|export|run|list`, and the issue's acceptance flow run from the command line."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from actions.models import ActionRun, Execution, Flow
from tests.engine.builders import act, condition, make_flow


def flows(*args: str) -> tuple[object, str]:
    out, err = StringIO(), StringIO()
    call_command("flows", *args, stdout=out, stderr=err)
    return json.loads(out.getvalue()), err.getvalue()


def failing(*args: str) -> tuple[CommandError, str]:
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("flows", *args, stdout=out, stderr=StringIO())
    return caught.value, out.getvalue()


def acceptance_flow(httpbin_url: str) -> dict:
    """The issue's five actions: GET a user, If 200 then Store vars else Error, POST, Return JSON."""
    return {
        "name": "Sync user",
        "actions": [
            act(
                "get_user",
                "HTTP/SEND_REQUEST",
                {"connection_id": "api token", "url": f"{httpbin_url}/anything/users/{{{{fields.user_id}}}}"},
            ),
            act(
                "check",
                "FLOW/BOOLEAN_CONDITION",
                {
                    "if": {
                        "operator": "AND",
                        "conditions": [condition("{{actions.get_user.status}}", "EQUALS", 200)],
                    },
                    "then": [
                        act(
                            "remember",
                            "FLOW/STORE_VARS",
                            {"vars": {"path": "{{actions.get_user.body.url}}", "plan": "{{fields.plan}}"}},
                        )
                    ],
                    "else": [act("fail", "FLOW/ERROR_MESSAGE", {"message": "No user {{fields.user_id}}"})],
                },
            ),
            act(
                "post_user",
                "HTTP/SEND_REQUEST",
                {
                    "url": f"{httpbin_url}/anything",
                    "method": "POST",
                    "content_type": "JSON",
                    "payload": {
                        "method_seen": "{{actions.get_user.body.method}}",
                        "path": "{{vars.path}}",
                        "plan": "{{vars.plan}}",
                        "id": "{{fields.user_id}}",
                    },
                },
            ),
            act(
                "done",
                "FLOW/RETURN_JSON",
                {
                    "payload": {
                        "sent": "{{actions.post_user.body.json}}",
                        "status": "{{actions.post_user.status}}",
                    }
                },
            ),
        ],
    }


def test_acceptance_flow_imports_and_runs_from_the_command_line(
    tmp_path, httpbin_url, allow_loopback, sentinel_bearer
):
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(acceptance_flow(httpbin_url)))

    imported, message = flows("import", str(path))
    assert [item["name"] for item in imported] == ["Sync user"]
    assert imported[0]["version"] == 1
    assert "imported" in message

    result, _ = flows("run", "Sync user", "--input", json.dumps({"fields": {"user_id": 1, "plan": "pro"}}))
    assert result["status"] == "completed", result
    assert result["error"] is None
    assert [step["id"] for step in result["actions"]] == [
        "get_user",
        "check",
        "remember",
        "post_user",
        "done",
    ]
    assert all(step["status"] == "completed" for step in result["actions"])
    assert result["output"] == {
        "sent": {"method_seen": "GET", "path": f"{httpbin_url}/anything/users/1", "plan": "pro", "id": 1},
        "status": 200,
    }

    execution = Execution.objects.get(pk=result["id"])
    assert execution.trigger == "cli"
    assert execution.flow_version == 1
    assert execution.fields == {"user_id": 1, "plan": "pro"}
    assert execution.started <= execution.ended
    runs = list(execution.action_runs.all())
    assert [run.action_id for run in runs] == ["get_user", "check", "remember", "post_user", "done"]
    assert runs[0].params["url"] == f"{httpbin_url}/anything/users/1"
    assert runs[0].output["status"] == 200
    assert runs[0].meta["request"]["method"] == "GET"
    assert runs[1].output == {"result": True}
    assert runs[2].output == {"path": f"{httpbin_url}/anything/users/1", "plan": "pro"}


def test_acceptance_flow_takes_the_else_branch_and_fails_with_the_message(
    tmp_path, httpbin_url, allow_loopback, sentinel_bearer
):
    data = acceptance_flow(httpbin_url)
    data["actions"][0]["params"]["url"] = f"{httpbin_url}/status/404"
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(data))
    flows("import", str(path))

    error, stdout = failing("run", "Sync user", "--input", '{"fields": {"user_id": 7}}')

    assert error.returncode == 1
    assert "fail" in str(error) and "No user 7" in str(error)
    result = json.loads(stdout)
    assert result["status"] == "failed"
    assert result["error"] == {"action_id": "fail", "code": "error_message", "message": "No user 7"}
    assert [step["id"] for step in result["actions"]] == ["get_user", "check", "fail"]


def test_no_secret_reaches_the_execution_records(tmp_path, httpbin_url, allow_loopback, sentinel_bearer):
    """httpbin echoes the request headers in its body: the token must be masked before it is stored."""
    flow = {
        "name": "Echo",
        "actions": [
            act(
                "echo", "HTTP/SEND_REQUEST", {"connection_id": "api token", "url": f"{httpbin_url}/anything"}
            ),
            act("keep", "FLOW/STORE_VARS", {"vars": {"headers": "{{actions.echo.body.headers}}"}}),
            act("show", "JSON/SERIALIZE_JSON", {"object": "{{actions.echo.body}}"}),
            act("done", "FLOW/RETURN_JSON", {"payload": {"echo": "{{actions.echo.body.headers}}"}}),
        ],
    }
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(flow))
    flows("import", str(path))

    result, _ = flows("run", "Echo")
    exported, _ = flows("export", "Echo")

    assert result["status"] == "completed"
    execution = Execution.objects.get(pk=result["id"])
    stored = json.dumps(
        [
            [execution.fields, execution.output, execution.error],
            list(ActionRun.objects.filter(execution=execution).values()),
        ],
        default=str,
    )
    assert "Authorization" in stored  # the header is recorded …
    for text in (json.dumps(result), stored, json.dumps(exported)):
        assert "tok_SENTINEL" not in text  # … never its value
        assert "dG9rX1NFTlRJTkVM" not in text


def test_run_input_must_be_a_json_object_with_known_keys(db):
    make_flow([act("noop", "FLOW/DO_NOTHING")], name="Noop")

    for bad in ("[1]", "{not json", '{"actions": {"x": {}}}', '{"fieldz": {}}', '{"fields": 3}'):
        error, stdout = failing("run", "Noop", "--input", bad)
        assert error.returncode == 2, bad
        assert stdout == ""
    assert not Execution.objects.exists()


def test_run_by_id_without_input_prints_the_execution(db):
    flow = make_flow([act("noop", "FLOW/DO_NOTHING")], name="Noop")

    result, message = flows("run", str(flow.id))

    assert result == {
        "id": result["id"],
        "status": "completed",
        "output": None,
        "error": None,
        "actions": [{"id": "noop", "status": "completed", "output": {}}],
    }
    assert "completed" in message


def test_unknown_flow_and_bad_files_exit_2(db, tmp_path):
    error, _ = failing("run", "missing")
    assert error.returncode == 2 and "missing" in str(error)
    error, _ = failing("export", "missing")
    assert error.returncode == 2
    error, _ = failing("import", str(tmp_path / "nope.json"))
    assert error.returncode == 2 and "no such file" in str(error)

    (tmp_path / "bad.json").write_text("{")
    error, _ = failing("import", str(tmp_path / "bad.json"))
    assert error.returncode == 2 and "not valid JSON" in str(error)

    (tmp_path / "invalid.json").write_text(
        json.dumps({"name": "X", "actions": [act("a", "FLOW/STORE_VARS"), act("a", "FLOW/DO_NOTHING")]})
    )
    error, _ = failing("import", str(tmp_path / "invalid.json"))
    assert error.returncode == 2
    assert "action “a”: another action of the flow has this id" in str(error)
    assert not Flow.objects.exists()


def test_export_prints_the_flow_json_and_list_prints_every_flow(db, tmp_path):
    make_flow([act("x", "FLOW/STORE_VARS", {"vars": {"a": 1}})], name="B flow")
    make_flow([], name="A flow")

    exported, _ = flows("export", "B flow")
    listed, _ = flows("list")

    assert exported == {
        "name": "B flow",
        "actions": [
            {
                "id": "x",
                "alias": "",
                "type": "FLOW",
                "action": "STORE_VARS",
                "allow_failure": False,
                "mask_output": False,
                "params": {"vars": {"a": 1}},
            }
        ],
    }
    assert [(item["name"], item["version"], item["actions"]) for item in listed] == [
        ("A flow", 1, 0),
        ("B flow", 1, 1),
    ]


def test_import_reads_a_list_and_stdin(db, monkeypatch):
    data = [{"name": "One", "actions": []}, {"name": "Two", "actions": [act("n", "FLOW/DO_NOTHING")]}]
    monkeypatch.setattr("sys.stdin", StringIO(json.dumps(data)))

    imported, _ = flows("import", "-")

    assert [(item["name"], item["version"]) for item in imported] == [("One", 1), ("Two", 1)]
