"""What the upstream receives from the HTTP Request action (cases C01-C12, DESIGN §4.1).

Every test runs the real action (runner → catalog → client) against a local server that records the
raw bytes of the request.
"""

import json
from urllib.parse import parse_qs, parse_qsl, unquote, urlsplit

import pytest

from actions.catalog.http import HttpRequestForm
from tests.http_action.conftest import make_connection, run_http

S1 = {
    "next": "a&b<c>\"d'e",
    "devices": ["x", "y"],
    "name": 'line one\nline "two"\tC:\\Users\\ada',
    "q": "O'Brien",
    "evil": 'x", "admin": true, "y": "',
    "amount": {"2026-06-17": 1},
    "ids": ["a", "b"],
    "raw": '{"k":1}',
}
SCOPE = {"actions": {"s1": {"body": S1, "status": 200}}}


def query_pairs(target: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(target).query, keep_blank_values=True)


# --- C01 repeated and list-valued params ---------------------------------------------------------------


def test_c01_repeated_param_rows_are_all_sent_in_order(upstream):
    params = [{"key": "tags[]", "value": "financial"}, {"key": "tags[]", "value": "investment"}]
    run_http({"url": upstream.url("/search"), "params": params})
    assert upstream.last.target == "/search?tags%5B%5D=financial&tags%5B%5D=investment"


def test_c01_a_list_value_repeats_the_key(upstream):
    params = [{"key": "devices", "value": "{{actions.s1.body.devices}}"}]
    run_http({"url": upstream.url("/d"), "params": params}, SCOPE)
    assert upstream.last.target == "/d?devices=x&devices=y"


def test_c01_auth0_object_form_of_params_is_read(upstream):
    run_http({"url": upstream.url("/d"), "params": {"a": "1", "b": ["2", "3"]}})
    assert upstream.last.target == "/d?a=1&b=2&b=3"


def test_c01_params_are_appended_to_the_query_in_the_url(upstream):
    run_http({"url": upstream.url("/d?x=%41"), "params": [{"key": "v", "value": "FOO%3D"}]})
    assert upstream.last.target == "/d?x=%41&v=FOO%253D"


# --- C02 unicode and plus -------------------------------------------------------------------------------


def test_c02_unicode_and_plus_decode_exactly(upstream):
    params = [{"key": "email", "value": "user+tag@example.com"}, {"key": "name", "value": "grün"}]
    run_http({"url": upstream.url("/q?q=русский-текст"), "params": params})
    target = upstream.last.target
    assert dict(query_pairs(target)) == {
        "q": "русский-текст",
        "email": "user+tag@example.com",
        "name": "grün",
    }
    assert "email=user%2Btag%40example.com" in target
    assert target.isascii()


# --- C03 no HTML escaping -------------------------------------------------------------------------------


def test_c03_values_in_the_url_are_not_html_escaped(upstream):
    run_http({"url": upstream.url("/items?next={{actions.s1.body.next}}")}, SCOPE)
    assert dict(query_pairs(upstream.last.target)) == {"next": "a&b<c>\"d'e"}


def test_c03_values_in_a_json_body_are_not_html_escaped(upstream):
    run_http(
        {"url": upstream.url("/n"), "method": "POST", "payload": {"note": "{{actions.s1.body.next}}"}}, SCOPE
    )
    assert upstream.last.json() == {"note": "a&b<c>\"d'e"}
    for entity in (b"&amp;", b"&lt;", b"&quot;", b"&#39;"):
        assert entity not in upstream.last.raw


def test_an_expression_inside_the_url_is_a_uri_component_but_a_base_url_is_not(upstream):
    scope = {"vars": {"base": upstream.url(""), "id": "a/b c", "enc": "a/b"}}
    run_http({"url": "{{vars.base}}/users/{{vars.id}}/{{functions.encodeURIComponent(vars.enc)}}"}, scope)
    assert upstream.last.target == "/users/a%2Fb%20c/a%2Fb"


# --- C04 form bodies ------------------------------------------------------------------------------------


def test_c04_form_fields_with_the_same_key_keep_their_order(upstream):
    payload = {"item": ["a", "b"], "note": "x y&z"}
    run_http({"url": upstream.url("/f"), "method": "POST", "content_type": "FORM", "payload": payload})
    received = upstream.last
    assert received.body == b"item=a&item=b&note=x+y%26z"
    assert received.header("Content-Type") == "application/x-www-form-urlencoded"


def test_c04_a_form_list_from_an_expression_repeats_the_key(upstream):
    payload = '{"device": {{actions.s1.body.devices}}, "q": "{{actions.s1.body.q}}"}'
    run_http({"url": upstream.url("/f"), "method": "POST", "content_type": "FORM", "payload": payload}, SCOPE)
    assert upstream.last.body == b"device=x&device=y&q=O%27Brien"


def test_c04_a_nested_form_value_fails_naming_the_key(upstream):
    payload = {"user": "{{actions.s1.body.amount}}"}
    run = run_http(
        {"url": upstream.url("/f"), "method": "POST", "content_type": "FORM", "payload": payload}, SCOPE
    )
    assert run.failed and run.error.code == "invalid_request"
    assert '"user"' in run.error.message
    assert upstream.requests == []


# --- C05 XML sent as typed ------------------------------------------------------------------------------

XML = '<?xml version="1.0" encoding="UTF-8"?><order><id>42</id><note>a &amp; b</note></order>'


def test_c05_xml_is_sent_as_typed(upstream):
    run_http({"url": upstream.url("/x"), "method": "POST", "content_type": "XML", "payload": XML})
    received = upstream.last
    assert received.body == XML.encode()
    assert received.header("Content-Type") == "application/xml"
    assert received.header("Content-Length") == str(len(XML.encode()))


def test_c05_values_substituted_into_xml_are_escaped(upstream):
    payload = "<order><note>{{actions.s1.body.next}}</note></order>"
    run_http({"url": upstream.url("/x"), "method": "POST", "content_type": "XML", "payload": payload}, SCOPE)
    assert upstream.last.body == b"<order><note>a&amp;b&lt;c&gt;&quot;d&apos;e</note></order>"


def test_c05_an_xml_object_payload_is_serialized(upstream):
    payload = {"order": {"id": 42, "tag": ["a", "b"], "note": "{{actions.s1.body.next}}"}}
    run_http({"url": upstream.url("/x"), "method": "POST", "content_type": "XML", "payload": payload}, SCOPE)
    assert upstream.last.body == (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b"<order><id>42</id><tag>a</tag><tag>b</tag><note>a&amp;b&lt;c&gt;\"d'e</note></order>"
    )


# --- C06 values that break JSON --------------------------------------------------------------------------

C06_TEXT = (
    '{"name": "{{actions.s1.body.name}}", "q": "{{actions.s1.body.q}}", "z": "{{actions.s1.body.evil}}"}'
)


@pytest.mark.parametrize("payload", [C06_TEXT, json.loads(C06_TEXT)], ids=["text", "structure"])
def test_c06_values_that_break_json_stay_inside_their_strings(upstream, payload):
    run_http({"url": upstream.url("/j"), "method": "POST", "payload": payload}, SCOPE)
    body = upstream.last.json()
    assert body == {"name": S1["name"], "q": "O'Brien", "z": S1["evil"]}
    assert "admin" not in body


def test_c06_text_around_an_expression_inside_a_json_string(upstream):
    payload = '{"greeting": "Hi {{actions.s1.body.name}}!", "n": {{actions.s1.body.q}}}'
    run_http({"url": upstream.url("/j"), "method": "POST", "payload": payload}, SCOPE)
    assert upstream.last.json() == {"greeting": f"Hi {S1['name']}!", "n": "O'Brien"}


# --- C07 typed values -----------------------------------------------------------------------------------


def test_c07_bare_expressions_in_json_text_keep_their_type(upstream):
    payload = '{"amount": {{actions.s1.body.amount}}, "ids": {{actions.s1.body.ids}}}'
    run_http({"url": upstream.url("/j"), "method": "POST", "payload": payload}, SCOPE)
    assert upstream.last.json() == {"amount": {"2026-06-17": 1}, "ids": ["a", "b"]}
    assert b"'" not in upstream.last.body


def test_c07_a_body_that_is_only_json_text_is_not_quoted_again(upstream):
    run_http({"url": upstream.url("/j"), "method": "POST", "payload": "{{actions.s1.body.raw}}"}, SCOPE)
    assert upstream.last.body == b'{"k":1}'


def test_c07_a_single_expression_string_leaf_keeps_the_value_type(upstream):
    payload = {"amount": "{{actions.s1.body.amount}}", "status": "{{actions.s1.status}}"}
    run_http({"url": upstream.url("/j"), "method": "POST", "payload": payload}, SCOPE)
    assert upstream.last.json() == {"amount": {"2026-06-17": 1}, "status": 200}


# --- C08 missing values ---------------------------------------------------------------------------------


def test_c08_undefined_values_drop_their_rows(upstream):
    run_http(
        {
            "url": upstream.url("/m"),
            "method": "POST",
            "params": [
                {"key": "user_id", "value": "{{actions.s1.body.missing}}"},
                {"key": "k", "value": "1"},
            ],
            "headers": [{"key": "X-Ref", "value": "{{actions.nope.body.id}}"}],
            "payload": {"keep": 1, "gone": "{{actions.s1.body.missing}}"},
        },
        SCOPE,
    )
    received = upstream.last
    assert received.target == "/m?k=1"
    assert received.header_values("X-Ref") == []
    assert received.json() == {"keep": 1}
    for word in (b"undefined", b"None", b"null"):
        assert word not in received.raw


def test_c08_undefined_value_inside_json_text_drops_the_key(upstream):
    payload = '{"keep": 1, "gone": {{actions.s1.body.missing}}}'
    run_http({"url": upstream.url("/m"), "method": "POST", "payload": payload}, SCOPE)
    assert upstream.last.json() == {"keep": 1}


# --- C09 DELETE with a body ------------------------------------------------------------------------------


def test_c09_delete_sends_its_body_and_a_204_parses_cleanly(upstream):
    upstream.respond("204 No Content", [("Content-Type", "application/json")])
    run = run_http({"url": upstream.url("/items"), "method": "DELETE", "payload": {"ids": [1, 2]}})
    received = upstream.last
    assert received.method == "DELETE"
    assert received.body == b'{"ids":[1,2]}'
    assert received.header("Content-Type") == "application/json"
    assert received.header("Content-Length") == "13"
    assert run.output == {"headers": run.output["headers"], "body": None, "status": 204, "success": True}


def test_c09_a_get_without_a_payload_sends_no_body(upstream):
    run_http({"url": upstream.url("/items"), "method": "GET", "content_type": "JSON"})
    received = upstream.last
    assert received.body == b""
    assert received.header_values("Content-Type") == []
    assert received.header_values("Content-Length") == []


# --- C10 one Authorization ------------------------------------------------------------------------------


def test_c10a_a_typed_authorization_header_is_sent_once_unchanged(upstream, db):
    headers = [{"key": "Authorization", "value": "Bearer tok_SENTINEL"}]
    run = run_http({"url": upstream.url("/a"), "headers": headers})
    assert upstream.last.header("Authorization") == "Bearer tok_SENTINEL"
    assert ["Authorization", "Bearer ********"] in run.meta["request"]["headers"]


def test_c10b_basic_auth_without_a_password_fails_before_sending(upstream):
    run = run_http({"url": upstream.url("/a"), "basic": {"username": ""}})
    assert run.failed and run.error.code == "invalid_request"
    assert upstream.requests == []


def test_c10c_user_header_beats_basic_which_beats_the_connection(upstream, db):
    make_connection("crm", "BEARER", {"token": "tok_SENTINEL"})
    base = {"url": upstream.url("/a"), "connection_id": "crm", "basic": {"username": "ada"}}
    run_http({**base, "headers": [{"key": "authorization", "value": "Token mine"}]}, password="pass_SENTINEL")
    assert upstream.last.header("Authorization") == "Token mine"
    run_http(base, password="pass_SENTINEL")
    assert upstream.last.header("Authorization") == "Basic YWRhOnBhc3NfU0VOVElORUw="
    run_http({"url": upstream.url("/a"), "connection_id": "crm"})
    assert upstream.last.header("Authorization") == "Bearer tok_SENTINEL"


def test_c10c_the_connection_keeps_its_other_credentials_when_basic_wins(upstream, db):
    make_connection("key", "API_KEY", {"name": "api_key", "value": "key_SENTINEL", "in": "QUERY"})
    run_http({"url": upstream.url("/a"), "connection_id": "key", "basic": {"username": "ada"}}, password="pw")
    assert upstream.last.target == "/a?api_key=key_SENTINEL"
    assert upstream.last.header("Authorization").startswith("Basic ")


def test_a_connection_is_not_sent_to_a_host_it_does_not_allow(upstream, db):
    make_connection("crm", "BEARER", {"token": "tok_SENTINEL"}, allowed_hosts=["api.example.com"])
    run = run_http({"url": upstream.url("/a"), "connection_id": "crm"})
    assert run.failed and run.error.code == "blocked_destination"
    assert "api.example.com" in run.error.message
    assert upstream.requests == []


def test_a_missing_connection_fails_with_a_clear_message(upstream, db):
    run = run_http({"url": upstream.url("/a"), "connection_id": "nope"})
    assert run.failed and run.error.message == 'Connection "nope" does not exist.'


# --- C11 header case and duplicates ----------------------------------------------------------------------


def test_c11_user_headers_replace_defaults_and_keep_their_spelling(upstream):
    headers = [
        {"key": "accept", "value": "application/xml"},
        {"key": "content-type", "value": "application/vnd.api+json"},
        {"key": "X-Case", "value": "Value"},
    ]
    run_http({"url": upstream.url("/h"), "method": "POST", "payload": {"a": 1}, "headers": headers})
    received = upstream.last
    assert received.header("Accept") == "application/xml"
    assert received.header("Content-Type") == "application/vnd.api+json"
    assert ("X-Case", "Value") in received.headers


def test_c11_an_empty_header_name_is_refused_when_saved(db):
    data = HttpRequestForm.data_from_params(
        {"url": "https://api.example.com", "headers": [{"key": "", "value": "v"}]}
    )
    form = HttpRequestForm(data)
    assert not form.is_valid()
    assert form.errors["headers"] == ["Row 1 has a value but no name."]


# --- C12 header injection -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["a\r\nX-Injected: 1", "a\nX-Injected: 1", "{{vars.evil}}", "pre {{vars.evil}}"]
)
def test_c12_a_line_break_in_a_header_value_fails_before_sending(upstream, value):
    scope = {"vars": {"evil": "a\r\nX-Injected: 1"}}
    run = run_http({"url": upstream.url("/h"), "headers": [{"key": "X-Note", "value": value}]}, scope)
    assert run.failed and run.error.code == "invalid_request"
    assert "line break" in run.error.message
    assert upstream.requests == []


def test_c12_a_line_break_in_a_vault_api_key_fails_before_sending(upstream, db):
    make_connection(
        "key", "API_KEY", {"name": "X-Api-Key", "value": "key_SENTINEL\r\nX-Injected: 1", "in": "HEADER"}
    )
    run = run_http({"url": upstream.url("/h"), "connection_id": "key"})
    assert run.failed and run.error.code == "invalid_request"
    assert "key_SENTINEL" not in run.error.message
    assert upstream.requests == []


def test_c12_a_line_break_in_a_typed_header_is_refused_by_the_form(db):
    data = HttpRequestForm.data_from_params(
        {"url": "https://api.example.com", "headers": [{"key": "X-Note", "value": "a\r\nX-Injected: 1"}]}
    )
    form = HttpRequestForm(data)
    assert not form.is_valid()
    assert "line break" in form.errors["headers"][0]


# --- Failures and allow_failure ----------------------------------------------------------------------------


def test_a_non_2xx_response_is_an_output_not_a_failure(upstream):
    upstream.respond("404 Not Found", [("Content-Type", "application/json")], b'{"error": "no"}')
    run = run_http({"url": upstream.url("/missing")})
    assert not run.failed
    assert run.output["status"] == 404 and run.output["success"] is False
    assert run.output["body"] == {"error": "no"}


def test_success_statuses_decide_success(upstream):
    upstream.respond("404 Not Found", [])
    run = run_http({"url": upstream.url("/missing"), "success_statuses": "200-299, 404"})
    assert run.output["success"] is True


def test_a_blocked_destination_fails_and_allow_failure_makes_it_an_output(db, settings):
    run = run_http({"url": "http://127.0.0.1:9/"})
    assert run.failed and run.error.code == "blocked_destination"
    allowed = run_http({"url": "http://127.0.0.1:9/"}, allow_failure=True)
    assert not allowed.failed
    assert allowed.output == {
        "headers": {},
        "body": None,
        "status": 0,
        "success": False,
        "error": {"code": "blocked_destination", "message": run.error.message},
    }


def test_an_invalid_url_from_an_expression_fails_with_invalid_request(db):
    run = run_http({"url": "{{vars.base}}/x"}, {"vars": {"base": "ftp://example.com"}})
    assert run.failed and run.error.code == "invalid_request"
    assert run.error.message.startswith("url: ")


def test_mask_output_records_masked(upstream):
    run = run_http({"url": upstream.url("/")}, mask_output=True)
    assert run.output["status"] == 200
    assert run.recorded_output == "masked"


def test_query_string_keys_may_come_from_expressions(upstream):
    run_http(
        {"url": upstream.url("/k"), "params": [{"key": "{{vars.k}}", "value": "v"}]}, {"vars": {"k": "a b"}}
    )
    assert parse_qs(urlsplit(upstream.last.target).query) == {"a b": ["v"]}
    assert unquote(upstream.last.target) == "/k?a b=v"


def test_an_xml_list_payload_gets_one_root_element(upstream):
    payload = {"id": [1, 2]}
    run_http({"url": upstream.url("/x"), "method": "POST", "content_type": "XML", "payload": payload})
    assert upstream.last.body == b'<?xml version="1.0" encoding="UTF-8"?><root><id>1</id><id>2</id></root>'
