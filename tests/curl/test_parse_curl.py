import pytest

from actions.curl import CurlImport, CurlParseError, parse_curl
from tests.curl.corpus import CORPUS


@pytest.mark.parametrize(("command", "params", "unsupported"), CORPUS)
def test_it_imports_real_world_commands(command: str, params: dict, unsupported: list[str]):
    imported = parse_curl(command)

    assert imported.params == params
    assert imported.unsupported == unsupported


def test_corpus_is_large_and_its_names_unique():
    ids = [case.id for case in CORPUS]
    assert len(ids) >= 25
    assert len(set(ids)) == len(ids)


def payload(command: str):
    return parse_curl(command).params["payload"]


@pytest.mark.parametrize(
    ("quoted", "text"),
    [
        (r"$'a\nb'", "a\nb"),
        (r"$'a\tb'", "a\tb"),
        (r"$'it\'s'", "it's"),
        (r"$'back\\slash'", "back\\slash"),
        (r"$'\x41\x42'", "AB"),
        (r"$'\xc3\xbc'", "ü"),  # \x escapes are bytes: a UTF-8 sequence is one character
        (r"$'\u00fc\U0001F600'", "ü😀"),
        (r"$'\101\0101'", "A\b1"),  # octal takes at most three digits
        (r"$'\r\e\a'", "\r\x1b\x07"),
        (r"$'\q'", "\\q"),  # an unknown escape stays as written
        (r"$'a'\''b'", "a'b"),
        ("'say \"hi\"'", 'say "hi"'),
        ('"a \\"b\\" \\\\ \\$x \\n"', 'a "b" \\ $x \\n'),
        ('"line\\\njoined"', "linejoined"),
        ("'kept\\\nas is'", "kept\\\nas is"),
        ("pre'fix'\"ed\"$'!'", "prefixed!"),
        ('$"translated"', "translated"),
        ("a\\ b", "a b"),
    ],
)
def test_it_reads_shell_quoting(quoted: str, text: str):
    command = f"curl https://x.test/ -H 'Content-Type: text/plain' --data-raw {quoted}"

    assert payload(command) == text


def test_it_reads_windows_line_endings():
    command = "curl https://x.test/ \\\r\n  -H 'X-A: 1' \\\r\n  -d 'a=1'\r\n"

    imported = parse_curl(command)

    assert imported.params["headers"] == [{"key": "X-A", "value": "1"}]
    assert imported.params["payload"] == {"a": "1"}


def test_it_keeps_ampersands_and_semicolons_inside_an_unquoted_url():
    imported = parse_curl("curl https://x.test/a;v=1?a=1&b=2")

    assert imported.params["url"] == "https://x.test/a;v=1"
    assert imported.params["params"] == [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]


def test_it_stops_at_the_next_command():
    assert parse_curl("curl https://x.test/a && echo done; ls").params["url"] == "https://x.test/a"


def test_it_drops_the_fragment():
    imported = parse_curl("curl 'https://x.test/p?a=1#section'")

    assert imported.params["url"] == "https://x.test/p"
    assert imported.params["params"] == [{"key": "a", "value": "1"}]


@pytest.mark.parametrize(
    "url",
    [
        "https://x.test/p?flag&a=1",  # a part without "="
        "https://x.test/p?=v",  # an empty name
        "https://x.test/p?a=%FF",  # not UTF-8
    ],
)
def test_a_query_rows_cannot_reproduce_stays_in_the_url(url: str):
    imported = parse_curl(f"curl '{url}'")

    assert imported.params["url"] == url
    assert imported.params["params"] == []


def test_it_skips_empty_query_parts():
    imported = parse_curl("curl 'https://x.test/p?a=1&&b=2&'")

    assert imported.params["params"] == [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]


def test_get_appends_data_to_a_url_that_has_a_query():
    imported = parse_curl("curl -G 'https://x.test/p?a=1' -d b=2 -d a=3")

    assert imported.params["method"] == "GET"
    assert imported.params["params"] == [
        {"key": "a", "value": "1"},
        {"key": "b", "value": "2"},
        {"key": "a", "value": "3"},
    ]
    assert "payload" not in imported.params


def test_an_explicit_method_wins_over_get():
    assert parse_curl("curl -G -X DELETE https://x.test/ -d id=1").params["method"] == "DELETE"


def test_json_pieces_are_concatenated_and_data_pieces_joined_with_ampersand():
    assert payload("""curl https://x.test/ --json '{"a":' --json '1}'""") == '{"a":1}'
    assert payload("curl https://x.test/ -d a=1 --data-raw b=@2") == {"a": "1", "b": "@2"}


def test_json_keeps_a_users_accept_and_content_type():
    imported = parse_curl(
        "curl https://x.test/ --json '{}' -H 'Accept: application/hal+json' "
        "-H 'Content-Type: application/vnd.api+json'"
    )

    assert imported.params["headers"] == [
        {"key": "Accept", "value": "application/hal+json"},
        {"key": "Content-Type", "value": "application/vnd.api+json"},
    ]
    assert imported.params["content_type"] == "JSON"


def test_a_header_option_overrides_the_user_agent_option():
    imported = parse_curl("curl -A one -H 'User-Agent: two' https://x.test/")

    assert imported.params["headers"] == [{"key": "User-Agent", "value": "two"}]


def test_form_quoted_value_keeps_its_semicolon():
    assert payload("""curl https://x.test/ -F 'note="a;type=b"' --form-string 'raw=@not-a-file'""") == {
        "note": "a;type=b",
        "raw": "@not-a-file",
    }


def test_multipart_content_type_is_dropped_with_the_form():
    imported = parse_curl("curl https://x.test/ -H 'Content-Type: multipart/form-data' -F a=1")

    assert imported.params["headers"] == []
    assert imported.params["content_type"] == "FORM"


def test_user_without_password_and_with_colons_in_password():
    assert parse_curl("curl -u ada https://x.test/").params["basic"] == {"username": "ada", "password": ""}
    assert parse_curl("curl -u ada:a:b https://x.test/").params["basic"] == {
        "username": "ada",
        "password": "a:b",
    }


def test_user_option_wins_over_credentials_in_the_url():
    imported = parse_curl("curl -u ada:one https://bob:two@x.test/")

    assert imported.params["url"] == "https://x.test/"
    assert imported.params["basic"] == {"username": "ada", "password": "one"}


def test_limits_of_the_action_cut_timeout_and_retry():
    imported = parse_curl("curl --max-time 600 --retry 9 --retry-delay 300 https://x.test/")

    assert imported.params["timeout"] == 120
    assert imported.params["retry"]["attempts"] == 5
    assert imported.params["retry"]["delay"] == 60.0
    assert parse_curl("curl -m 0.5 https://x.test/").params["timeout"] == 1
    assert parse_curl("curl -m 2.5 https://x.test/").params["timeout"] == 2.5


def test_retry_without_delay_is_exponential_like_curl():
    retry = parse_curl("curl --retry 2 https://x.test/").params["retry"]

    assert retry == {
        "attempts": 3,
        "backoff": "exponential",
        "delay": 1.0,
        "on_statuses": "408, 429, 500, 502-504",
    }


def test_negated_flags():
    imported = parse_curl("curl -L --no-location --no-progress-meter https://x.test/")

    assert "follow_redirects" not in imported.params
    assert imported.unsupported == []


def test_expand_options_are_read_but_variables_are_unsupported():
    imported = parse_curl("curl --variable name=Ada --expand-data 'n={{name}}' https://x.test/")

    assert imported.unsupported == ["--variable"]
    assert imported.params["payload"] == {"n": "{{name}}"}


def test_every_unsupported_option_is_named_once():
    imported = parse_curl("curl -k -k --insecure --digest -u a:b --ntlm -T file.bin https://x.test/")

    assert imported.unsupported == ["--insecure", "--digest", "--ntlm", "--upload-file"]


def test_curl_given_by_path():
    assert parse_curl("/usr/bin/curl https://x.test/").params["url"] == "https://x.test/"
    assert parse_curl("C:\\tools\\curl.exe https://x.test/ ^\n -s").params["url"] == "https://x.test/"


def test_repr_masks_the_password():
    imported = parse_curl("curl -u ada:pass_SENTINEL https://x.test/")

    assert "pass_SENTINEL" not in repr(imported)
    assert "pass_SENTINEL" not in str(imported)
    assert isinstance(imported, CurlImport)


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("curl 'https://x.test/", "unterminated quote"),
        ('curl "https://x.test/', "unterminated quote"),
        ("curl $'https://x.test/", "unterminated quote"),
        ("curl https://x.test/ -d 'a=1\n-H 'X: y'", "unterminated quote"),
        ('curl.exe -H "A: b ^\n https://x.test/', "unterminated quote"),
        ("", "not a curl command"),
        ("   \n  ", "not a curl command"),
        ("wget https://x.test/", "not a curl command"),
        ("https://x.test/", "not a curl command"),
        ("http GET https://x.test/", "not a curl command"),
        ("curl", "no URL"),
        ("curl -H 'Accept: application/json' -d a=1", "no URL"),
        ("curl -s | jq", "no URL"),
        ("curl https://x.test/ -H", "option -H needs a value"),
        ("curl https://x.test/ --data", "option --data needs a value"),
        ("curl https://x.test/ --frobnicate", "unknown option --frobnicate"),
        ("curl https://x.test/ --frobnicate=1", "unknown option --frobnicate"),
        ("curl https://x.test/ -sW", "unknown option -W"),
        ("curl https://a.test/ https://b.test/", "more than one URL"),
        ("curl https://x.test/ -H 'no colon here'", "has no name"),
        ("curl https://x.test/ -F a=1 -d b=2", "-F cannot be combined"),
        ("curl https://x.test/ -F novalue", "should be name=content"),
        ("curl https://x.test/ -m soon", "--max-time needs a number"),
        ("curl --version", "does not send a request"),
        (r"curl https://x.test/ -d $'\xff'", "not valid UTF-8"),
    ],
)
def test_it_says_what_is_wrong(command: str, message: str):
    with pytest.raises(CurlParseError) as error:
        parse_curl(command)

    assert message in error.value.message
    assert str(error.value) == error.value.message
    assert isinstance(error.value, ValueError)
