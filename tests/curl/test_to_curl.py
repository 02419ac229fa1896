import base64
import shutil
import subprocess
from urllib.parse import quote

import pytest

from actions import http_client
from actions.catalog import RunContext
from actions.catalog.http import build_request
from actions.curl import parse_curl, shell_quote, to_curl
from tests.curl.corpus import CORPUS
from vault.secrets import Secret

SCOPE = {"fields": {"id": "42", "n": 7}}
# Commands that bash itself reads differently on purpose: it expands $VARS and reads "\ " at a line end
# as an escaped space; the others run more than curl or are not shell syntax.
NOT_FOR_BASH = {
    "variables-stay-literal",
    "backslash-continuations-with-trailing-blanks",
    "prompt-comment-and-pipe",
    "redirections-end-the-command",
    "chrome-copy-as-curl-cmd",
    "windows-cmd-handwritten",
}
bash = shutil.which("bash")


def revealed(value):
    return value.reveal() if isinstance(value, Secret) else value


def wire(params: dict) -> tuple[str, str, list[tuple[str, str]], bytes | None]:
    """What the HTTP action sends for these params: method, URL with its query, headers, body.

    Basic auth is sent as the Authorization header curl's -u sends (the action itself takes the
    password from its secret params)."""
    params = dict(params)
    if basic := params.pop("basic", None):
        token = base64.b64encode(f"{basic['username']}:{basic['password']}".encode()).decode()
        params["headers"] = [*params.get("headers", []), {"key": "Authorization", "value": f"Basic {token}"}]
    request, _ = build_request(params, RunContext(scope=SCOPE))
    url = http_client.normalize_url(request.url)
    query = "&".join(
        f"{quote(key, safe='')}={quote(revealed(value), safe='')}" for key, value in request.query
    )
    if query:
        url += ("" if url.endswith(("?", "&")) else "&" if "?" in url else "?") + query
    headers = [(name, revealed(value)) for name, value in request.headers]
    return request.method, url, headers, request.body


def bash_argv(command: str, tmp_path) -> list[str]:
    """The arguments bash passes to curl for this command line (curl replaced by a function)."""
    script = "set -f; curl() { printf '%s\\0' \"$@\"; }\n" + command
    result = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", script], cwd=tmp_path, capture_output=True, check=True
    )
    return result.stdout.decode().split("\0")[:-1]


@pytest.mark.parametrize(
    ("command", "params", "unsupported"),
    # Every command whose URL the action can send (not "$BASE_URL/…").
    [case for case in CORPUS if case.values[1]["url"].startswith("http")],
)
def test_round_trip_of_the_request_as_sent(command: str, params: dict, unsupported: list[str]):
    method, url, headers, body = wire(parse_curl(command).params)

    copied = to_curl(method, url, headers, None if body is None else body.decode())
    again = parse_curl(copied)

    assert again.unsupported == []
    assert wire(again.params) == (method, url, headers, body)


@pytest.mark.skipif(bash is None, reason="bash is not installed")
@pytest.mark.parametrize(
    ("command", "params", "unsupported"),
    [case for case in CORPUS if case.id not in NOT_FOR_BASH],
)
def test_it_splits_words_like_bash(command: str, params: dict, unsupported: list[str], tmp_path):
    argv = bash_argv(command, tmp_path)
    requoted = " ".join(["curl", *(shell_quote(arg) for arg in argv)])

    assert parse_curl(requoted) == parse_curl(command)


NASTY = [
    "it's",
    'say "hi"',
    "back\\slash \\n \\' \\\\",
    "$HOME `id` $(id) ${x}",
    "line one\nline two\r\n\ttab",
    "ünïcödé 😀 русский",
    "'''",
    "!history !! ^caret * ? [a] {b,c} ~ # ; & | < >",
    "",
]


@pytest.mark.skipif(bash is None, reason="bash is not installed")
@pytest.mark.parametrize("text", NASTY)
def test_bash_passes_every_value_exactly(text: str, tmp_path):
    command = to_curl("PUT", "https://x.test/a?q=1", [("X-Value", text or "v")], text)

    assert bash_argv(command, tmp_path) == [
        "https://x.test/a?q=1",
        "-X",
        "PUT",
        "-H",
        f"X-Value: {text or 'v'}",
        "--data-raw",
        text,
    ]


@pytest.mark.parametrize("text", NASTY)
def test_parse_reads_back_every_value_exactly(text: str):
    command = to_curl("POST", "https://x.test/", [("Content-Type", "text/plain")], text)

    assert parse_curl(command).params.get("payload", "") == text


def test_it_writes_one_option_per_line():
    command = to_curl(
        "POST",
        "https://api.example.com/v1/items?tag=a%20b",
        [("Content-Type", "application/json"), ("Authorization", "Bearer ********")],
        '{"name":"O\'Brien"}',
    )

    assert command == (
        "curl 'https://api.example.com/v1/items?tag=a%20b' \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        "  -H 'Authorization: Bearer ********' \\\n"
        "  --data-raw '{\"name\":\"O'\\''Brien\"}'"
    )


def test_the_masked_secret_stays_masked_until_filled_in():
    command = to_curl(
        "GET", "https://x.test/me?api_key=********", [("Authorization", "Bearer ********")], None
    )

    imported = parse_curl(command)

    assert imported.params["headers"] == [{"key": "Authorization", "value": "Bearer ********"}]
    assert imported.params["params"] == [{"key": "api_key", "value": "********"}]
    filled = parse_curl(command.replace("********", "tok_real"))
    assert filled.params["headers"] == [{"key": "Authorization", "value": "Bearer tok_real"}]


def test_headers_curl_computes_are_left_to_curl():
    # The headers requests records for a form POST: a stale Content-Length would break the re-run once
    # the secret (longer than its mask) is filled in.
    command = to_curl(
        "POST",
        "https://x.test/form",
        [
            ("User-Agent", "python-requests/2.32.3"),
            ("Accept-Encoding", "gzip, deflate"),
            ("Accept", "*/*"),
            ("Connection", "keep-alive"),
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Content-Length", "7"),
        ],
        "a=1&b=2",
    )

    assert command == (
        "curl 'https://x.test/form' \\\n"
        "  -H 'User-Agent: python-requests/2.32.3' \\\n"
        "  -H 'Accept: */*' \\\n"
        "  -H 'Connection: keep-alive' \\\n"
        "  -H 'Content-Type: application/x-www-form-urlencoded' \\\n"
        "  --compressed \\\n"
        "  --data-raw 'a=1&b=2'"
    )


@pytest.mark.parametrize(
    ("method", "body", "option"),
    [
        ("GET", None, None),
        ("POST", "a=1", None),
        ("POST", None, "-X POST"),
        ("GET", '{"q":1}', "-X GET"),
        ("DELETE", None, "-X DELETE"),
        ("PATCH", "{}", "-X PATCH"),
        ("put", "{}", "-X PUT"),
    ],
)
def test_it_names_the_method_only_when_curl_would_not_infer_it(
    method: str, body: str | None, option: str | None
):
    lines = to_curl(method, "https://x.test/", [], body).split(" \\\n  ")

    assert [line for line in lines if line.startswith("-X")] == ([option] if option else [])
    assert parse_curl(to_curl(method, "https://x.test/", [], body)).params["method"] == method.upper()


def test_an_empty_header_keeps_being_sent():
    command = to_curl("GET", "https://x.test/", [("X-Empty", "")], None)

    assert "-H 'X-Empty;'" in command
    assert parse_curl(command).params["headers"] == [{"key": "X-Empty", "value": ""}]


def test_brackets_and_braces_in_the_url_are_not_globs():
    url = "https://x.test/a?tags[]=x&f={y}"

    command = to_curl("GET", url, [], None)

    assert command.split(" \\\n  ")[1] == "--globoff"
    imported = parse_curl(command)
    assert imported.params["params"] == [{"key": "tags[]", "value": "x"}, {"key": "f", "value": "{y}"}]


def test_an_empty_body_is_sent_as_empty():
    command = to_curl("POST", "https://x.test/", [], "")

    assert command.endswith("--data-raw ''")
    assert parse_curl(command).params["method"] == "POST"
