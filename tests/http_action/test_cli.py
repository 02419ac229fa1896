"""`manage.py actions test FILE --input JSON`: output on stdout, exit 0 / 1 / 2."""

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from actions.http_client import BLOCKED_MESSAGE
from tests.http_action.conftest import make_connection

pytestmark = pytest.mark.django_db


def envelope(tmp_path: Path, params: dict | str, **fields) -> str:
    path = tmp_path / "action.json"
    body = {"id": "call", "type": "HTTP", "action": "SEND_REQUEST", "params": params, **fields}
    path.write_text(params if isinstance(params, str) else json.dumps(body))
    return str(path)


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("actions", "test", *args, stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue(), str(error)
    return 0, out.getvalue(), err.getvalue()


def test_a_completed_request_prints_output_and_meta_and_exits_0(tmp_path, httpbin_url, allow_loopback):
    path = envelope(
        tmp_path, {"url": f"{httpbin_url}/status/404", "params": [{"key": "q", "value": "{{fields.q}}"}]}
    )
    code, out, _ = run_cli(path, "--input", '{"fields": {"q": "a+b"}}')
    assert code == 0
    result = json.loads(out)
    assert result["output"]["status"] == 404 and result["output"]["success"] is False
    assert set(result["meta"]) == {"duration_ms", "size_bytes", "final_url", "redirects", "request"}
    assert result["meta"]["final_url"] == f"{httpbin_url}/status/404?q=a%2Bb"
    assert result["meta"]["request"]["method"] == "GET"


def test_a_connection_by_name_and_a_password_in_the_file(tmp_path, httpbin_url, allow_loopback):
    make_connection("crm", "BEARER", {"token": "tok_SENTINEL"})
    params = {"url": f"{httpbin_url}/anything", "connection_id": "crm"}
    code, out, _ = run_cli(envelope(tmp_path, params))
    assert code == 0
    assert json.loads(out)["output"]["body"]["headers"]["Authorization"] == "Bearer ********"
    basic = {
        "url": f"{httpbin_url}/basic-auth/ada/pass_SENTINEL",
        "basic": {"username": "ada", "password": "pass_SENTINEL"},
    }
    code, out, _ = run_cli(envelope(tmp_path, basic))
    assert code == 0 and json.loads(out)["output"]["status"] == 200
    assert "SENTINEL" not in out


def test_a_failed_action_prints_the_error_and_exits_1(tmp_path):
    code, out, message = run_cli(envelope(tmp_path, {"url": "http://169.254.169.254/latest/meta-data/"}))
    assert code == 1
    assert json.loads(out) == {"error": {"code": "blocked_destination", "message": BLOCKED_MESSAGE}}
    assert message == f"The action failed (blocked_destination): {BLOCKED_MESSAGE}"


def test_allow_failure_turns_the_failure_into_output_and_exits_0(tmp_path):
    code, out, _ = run_cli(envelope(tmp_path, {"url": "http://127.0.0.1:9/"}, allow_failure=True))
    assert code == 0
    assert json.loads(out)["output"]["error"]["code"] == "blocked_destination"


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, [], "no such file"),
        (
            "{not json",
            [],
            "not valid JSON: Expecting property name enclosed in double quotes (line 1, column 2)",
        ),
        ("[]", [], "expected one action"),
        ({"url": "ftp://x"}, [], "invalid params:\n  url: The URL must start with http:// or https://."),
        ({"url": "https://x.test", "basic": {"username": ""}}, [], "basic_username: Basic auth is enabled"),
        ({"url": "https://x.test"}, ["--input", "{bad"], "--input: The input is not valid JSON"),
        ({"url": "https://x.test"}, ["--input", '{"field": {}}'], "Unknown input key field"),
        (
            {"url": "https://x.test"},
            ["--input", '{"fields": []}'],
            'The input\'s "fields" must be a JSON object.',
        ),
    ],
)
def test_invalid_input_exits_2_saying_what_is_wrong(tmp_path, content, args, message):
    path = str(tmp_path / "missing.json") if content is None else envelope(tmp_path, content)
    code, out, error = run_cli(path, *args)
    assert code == 2
    assert out == ""
    assert message in error


def test_an_unknown_action_type_exits_2(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"type": "HTTP", "action": "NOPE", "params": {}}))
    code, _, error = run_cli(str(path))
    assert code == 2 and "HTTP/NOPE is unknown" in error


def test_the_real_command_line_exits_2_with_the_message_on_stderr(tmp_path):
    manage = Path(__file__).resolve().parents[2] / "manage.py"
    result = subprocess.run(
        [sys.executable, str(manage), "actions", "test", str(tmp_path / "missing.json")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "missing.json: no such file." in result.stderr
