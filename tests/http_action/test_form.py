"""The HTTP Request params form: validation beside each field, the stored shape, write-only password."""

import pytest

from actions.catalog.http import HttpRequestForm
from tests.http_action.conftest import make_connection
from vault.secrets import Secret

pytestmark = pytest.mark.django_db


def form_for(params: dict, secrets: dict | None = None, **kwargs) -> HttpRequestForm:
    form = HttpRequestForm(HttpRequestForm.data_from_params(params, secrets), params=params, **kwargs)
    form.is_valid()
    return form


def test_a_minimal_request_stores_the_auth0_shape_without_defaults():
    form = form_for({"url": " https://api.example.com/users "})
    assert form.is_valid(), form.errors
    assert form.params == {"url": "https://api.example.com/users", "method": "GET", "content_type": "JSON"}
    assert form.secret_params(None) is None


def test_every_param_round_trips_through_the_form():
    params = {
        "url": "https://api.example.com/users/{{fields.id}}",
        "method": "POST",
        "content_type": "JSON",
        "payload": {"name": "{{fields.name}}", "tags": ["a"]},
        "headers": [{"key": "X-Trace", "value": "{{context.execution_id}}"}],
        "params": [{"key": "tag", "value": "a"}, {"key": "tag", "value": "b"}],
        "basic": {"username": "ada"},
        "timeout": 2.5,
        "follow_redirects": False,
        "retry": {"attempts": 3, "backoff": "fixed", "delay": 0.5, "on_statuses": "503"},
        "success_statuses": "200-299, 304",
    }
    form = form_for(params, {"basic_password": "pw"})
    assert form.is_valid(), form.errors
    assert form.params == params
    assert form.secret_params(None).reveal() == {"basic_password": "pw"}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "This field is required."),
        ("api.example.com/users", "The URL must start with http:// or https://."),
        ("ftp://example.com/file", "The URL must start with http:// or https://."),
        ("https://ada:secret@example.com/", "must not contain a user name or password"),
        ("https:///path", "The URL has no host."),
    ],
)
def test_a_bad_url_is_refused_beside_the_field(url, message):
    form = form_for({"url": url})
    assert message in form.errors["url"][0]


def test_a_url_may_start_with_an_expression_or_hold_one():
    assert form_for({"url": "{{vars.base}}/users"}).is_valid()
    assert form_for({"url": "https://{{vars.host}}/users/{{fields.id}}"}).is_valid()


def test_an_expression_syntax_error_names_the_param_and_the_position():
    form = form_for(
        {"url": "https://api.example.com/{{fields.id", "headers": [{"key": "X", "value": "{{nope.x}}"}]}
    )
    assert form.errors["url"] == ['unterminated "{{": no closing "}}" at position 24']
    assert form.errors["headers"] == [
        'headers[0].value: unknown namespace "nope" (expected fields, vars, actions, context or functions) '
        "at position 2"
    ]


def test_a_json_body_must_be_valid_json_but_may_hold_bare_expressions():
    bad = form_for({"url": "https://x.test", "method": "POST", "payload": '{"a": 1,}'})
    assert bad.errors["payload"][0].startswith("Not valid JSON: ")
    text = '{"amount": {{fields.amount}}, "note": "{{fields.note}}"}'
    good = form_for({"url": "https://x.test", "method": "POST", "payload": text})
    assert good.is_valid(), good.errors
    assert good.params["payload"] == text
    plain = form_for({"url": "https://x.test", "method": "POST", "payload": '{"a": "{{fields.a}}"}'})
    assert plain.params["payload"] == {"a": "{{fields.a}}"}


def test_a_body_expression_error_is_reported_with_its_position():
    form = form_for({"url": "https://x.test", "payload": '{"a": {{functions.nope(1)}}}'})
    assert form.errors["payload"] == ['unknown function "functions.nope" at position 8']


def test_a_form_body_must_be_flat_and_the_error_names_the_key():
    nested = form_for({"url": "https://x.test", "content_type": "FORM", "payload": {"user": {"name": "a"}}})
    assert nested.errors["payload"] == [
        'Form field "user" holds a nested object or list: a form body takes flat values only.'
    ]
    flat = form_for(
        {"url": "https://x.test", "content_type": "FORM", "payload": {"item": ["a", "b"], "n": 1}}
    )
    assert flat.is_valid(), flat.errors
    text = form_for({"url": "https://x.test", "content_type": "FORM", "payload": "a=1&b=2"})
    assert "A form body is an object of fields" in text.errors["payload"][0]


def test_an_xml_body_is_kept_exactly_as_typed():
    xml = '<?xml version="1.0"?>\r\n<order id="{{fields.id}}">\n  <n>a &amp; b</n>\n</order>\n'
    form = form_for({"url": "https://x.test", "content_type": "XML", "payload": xml})
    assert form.is_valid(), form.errors
    assert form.params["payload"] == xml


def test_an_xml_object_needs_valid_element_names():
    form = form_for({"url": "https://x.test", "content_type": "XML", "payload": {"bad name": 1}})
    assert form.errors["payload"] == ['"bad name" cannot be an XML element name.']


def test_c10b_basic_auth_needs_a_username_and_a_password():
    form = form_for({"url": "https://x.test", "basic": {"username": ""}})
    assert form.errors["basic_username"] == ["Basic auth is enabled: enter a username."]
    assert form.errors["basic_password"] == ["Basic auth is enabled: enter a password."]
    colon = form_for({"url": "https://x.test", "basic": {"username": "a:b"}}, {"basic_password": "p"})
    assert colon.errors["basic_username"] == ["A Basic auth username cannot contain a colon."]


def test_the_basic_password_is_write_only():
    stored = Secret({"basic_password": "old"})
    params = {"url": "https://x.test", "basic": {"username": "ada"}}
    keep = form_for(params, has_secret=True)
    assert keep.is_valid(), keep.errors
    assert keep.secret_params(stored) is stored
    assert "old" not in str(keep["basic_password"])
    replace = form_for(params, {"basic_password": "new"}, has_secret=True)
    assert replace.secret_params(stored).reveal() == {"basic_password": "new"}
    cleared = form_for(params, {"basic_password_clear": True}, has_secret=True)
    assert cleared.errors["basic_password"] == ["Basic auth is enabled: enter a password."]
    disabled = form_for({"url": "https://x.test"}, has_secret=True)
    assert disabled.secret_params(stored) is None


def test_auth0_basic_password_in_a_file_becomes_a_secret_param():
    form = form_for({"url": "https://x.test", "basic": {"username": "ada", "password": "pw"}})
    assert form.params["basic"] == {"username": "ada"}
    assert form.secret_params(None).reveal() == {"basic_password": "pw"}


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ([{"key": "X A", "value": "1"}], '"X A" is not a valid header name'),
        ([{"key": "Accept", "value": "a"}, {"key": "accept", "value": "b"}], 'Header "accept" is set twice'),
        ([{"key": "", "value": "v"}], "Row 1 has a value but no name."),
    ],
)
def test_bad_header_rows_are_refused(headers, message):
    form = form_for({"url": "https://x.test", "headers": headers})
    assert message in form.errors["headers"][0]


def test_blank_rows_are_ignored_and_order_is_kept():
    rows = [{"key": "b", "value": "2"}, {"key": "", "value": ""}, {"key": "a", "value": "1"}]
    form = form_for({"url": "https://x.test", "params": rows})
    assert form.params["params"] == [{"key": "b", "value": "2"}, {"key": "a", "value": "1"}]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("success_statuses", "2xx", '"2xx" is not a status code or a range such as 200-299.'),
        ("success_statuses", "299-200", '"299-200" is not within 100-599 (or the range is reversed).'),
        ("timeout", "121", "Ensure this value is less than or equal to 120."),
        ("timeout", "0", "Ensure this value is greater than or equal to 1."),
        ("retry_attempts", "9", "Ensure this value is less than or equal to 5."),
    ],
)
def test_advanced_options_are_validated(field, value, message):
    data = HttpRequestForm.data_from_params({"url": "https://x.test"})
    data[field] = value
    form = HttpRequestForm(data)
    assert form.errors[field] == [message]


def test_c08_a_reference_to_an_action_that_does_not_run_before_is_a_warning():
    params = {
        "url": "https://x.test/{{actions.s1.body.id}}",
        "headers": [{"key": "X-Ref", "value": "{{actions.nope.body.id}}"}],
    }
    form = form_for(params, earlier_ids=frozenset({"s1"}))
    assert form.is_valid()
    assert form.warnings == {
        "headers": [
            '"actions.nope" is not an action that runs before this one: the value will be undefined '
            "(a header or URL param using it is left out)."
        ]
    }


def test_c10c_the_form_says_which_authorization_wins():
    connection = make_connection("crm", "BEARER", {"token": "tok_SENTINEL"})
    base = {"url": "https://x.test", "connection_id": "crm", "basic": {"username": "ada"}}
    both = form_for(base, {"basic_password": "pw"})
    assert both.params["connection_id"] == str(connection.pk)
    assert both.authorization_note.startswith("Authorization: basic auth is sent; the connection's")
    header = {**base, "headers": [{"key": "Authorization", "value": "Token t"}]}
    assert form_for(header, {"basic_password": "pw"}).authorization_note == (
        "Authorization: your header is sent; the one from basic auth and the connection is not."
    )
    assert form_for({"url": "https://x.test", "connection_id": "crm"}).authorization_note is None


def test_an_unknown_connection_is_refused():
    form = form_for({"url": "https://x.test", "connection_id": "nope"})
    assert form.errors["connection_id"] == ['Connection "nope" does not exist: choose another.']


def test_nan_is_not_json():
    form = form_for({"url": "https://x.test", "payload": '{"a": NaN}'})
    assert form.errors["payload"] == ["Not valid JSON: NaN is not JSON."]
