"""The FLOW, JSON and XML action types on their own: params forms and `run(params, ctx)`."""

import json
import time

import pytest

from actions import catalog
from actions.catalog import ActionFailed, RunContext
from actions.catalog.xml_actions import parse_xml, to_xml
from actions.expressions import redact
from vault.secrets import Secret


def scope(**fields) -> dict:
    return {"fields": fields, "vars": {}, "actions": {}, "context": {}}


def run(kind: str, params: dict, context: dict | None = None):
    action_type = catalog.get(*kind.split("/"))
    return action_type.run(params, RunContext(context if context is not None else scope())).output


def validated(kind: str, params: dict):
    form_class = catalog.get(*kind.split("/")).form_class
    return form_class(form_class.data_from_params(params))


# --- Forms of every type -------------------------------------------------------------------------------

VALID_PARAMS = {
    "FLOW/STORE_VARS": {"vars": {"plan": "{{fields.plan}}", "n": 1}},
    "FLOW/ERROR_MESSAGE": {"message": "No user {{fields.id}}"},
    "FLOW/MAP_VALUE": {"input": "{{fields.c}}", "cases": {"FR": "France"}, "fallback": "?"},
    "FLOW/RETURN_JSON": {"payload": {"ok": True}},
    "FLOW/DELAY_FLOW": {"number": 2, "units": "MINUTES"},
    "FLOW/DO_NOTHING": {},
    "JSON/CREATE_JSON": {"object": {"a": "{{fields.a}}"}},
    "JSON/PARSE_JSON": {"json": "{{actions.x.body}}"},
    "JSON/SERIALIZE_JSON": {"object": "{{actions.x.body}}"},
    "XML/PARSE_XML": {"xml": "<a>{{fields.x}}</a>"},
    "XML/SERIALIZE_XML": {"object": {"a": 1}},
}


@pytest.mark.parametrize("kind", sorted(VALID_PARAMS))
def test_each_form_round_trips_its_params(kind):
    form = validated(kind, VALID_PARAMS[kind])

    assert form.is_valid(), form.errors
    assert form.params == VALID_PARAMS[kind]
    again = validated(kind, form.params)
    assert again.is_valid() and again.params == form.params


BROKEN_PARAMS = {
    "FLOW/STORE_VARS": (
        {"vars": {"a": {"b": ["{{fields.x}}", "{{functions.nope(1)}}"]}}},
        "vars",
        "vars.a.b[1]",
    ),
    "FLOW/ERROR_MESSAGE": ({"message": "No user {{fields.id"}, "message", "message"),
    "FLOW/MAP_VALUE": ({"input": "{{fields.c}}", "cases": {"FR": "{{ x }}"}}, "cases", "cases.FR"),
    "FLOW/RETURN_JSON": ({"payload": {"id": "{{functions.length()}}"}}, "payload", "payload.id"),
    "JSON/CREATE_JSON": ({"object": {"a": "{{fields.a ?}}"}}, "object", "object.a"),
    "JSON/PARSE_JSON": ({"json": "{{actions.x.body"}, "json", "json"),
    "JSON/SERIALIZE_JSON": ({"object": "{{actions.x.body]}}"}, "object", "object"),
    "XML/PARSE_XML": ({"xml": "<a>{{fields.x.}}</a>"}, "xml", "xml"),
    "XML/SERIALIZE_XML": ({"object": {"a": ["{{secrets.x}}"]}}, "object", "object.a[0]"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN_PARAMS))
def test_each_form_reports_expression_errors_naming_param_and_position(kind):
    params, field, path = BROKEN_PARAMS[kind]
    form = validated(kind, params)

    assert not form.is_valid()
    (message,) = form.errors[field]
    assert message.startswith(f"{path}: ")
    assert " at position " in message


def test_json_params_are_typed_as_json_and_validated():
    form_class = catalog.get("FLOW", "STORE_VARS").form_class
    for text, error in (
        ("[1]", "Enter an object of variables"),
        ("{'a': 1}", "Invalid JSON"),
        ("", "required"),
    ):
        form = form_class({"vars": text})
        assert not form.is_valid()
        assert error in form.errors["vars"][0]
    assert form_class({"vars": '{"a": NaN}'}).errors["vars"][0].startswith("Invalid JSON")
    # {} , [] and null are values, not blanks
    assert catalog.get("FLOW", "RETURN_JSON").form_class({"payload": "null"}).is_valid()
    assert catalog.get("FLOW", "RETURN_JSON").form_class({"payload": "{}"}).is_valid()


def test_json_param_is_shown_as_json_text():
    form_class = catalog.get("FLOW", "RETURN_JSON").form_class
    assert form_class(params={"payload": "text"})["payload"].value() == '"text"'
    assert json.loads(form_class(params={"payload": {"a": [1]}})["payload"].value()) == {"a": [1]}
    assert form_class({"payload": "{broken"})["payload"].value() == "{broken"


def test_delay_and_map_value_forms_check_their_fields():
    assert not validated("FLOW/DELAY_FLOW", {"number": -1}).is_valid()
    assert not validated("FLOW/DELAY_FLOW", {"number": 1, "units": "WEEKS"}).is_valid()
    delay = validated("FLOW/DELAY_FLOW", {"number": 0.5})
    assert delay.is_valid() and delay.params == {"number": 0.5, "units": "SECONDS"}
    assert not validated("FLOW/MAP_VALUE", {"input": "x", "cases": ["a"]}).is_valid()
    mapped = validated("FLOW/MAP_VALUE", {"input": 5, "cases": {}})
    assert mapped.is_valid() and mapped.params == {"input": "5", "cases": {}}


@pytest.mark.parametrize(
    ("limit", "params", "warnings"),
    [
        (10.0, {"number": 10, "units": "SECONDS"}, {}),
        (
            10.0,
            {"number": 11, "units": "SECONDS"},
            {"number": ["Runs fail on delays over 10 s: FLOWS_MAX_INLINE_DELAY."]},
        ),
        (
            10.0,
            {"number": 2, "units": "MINUTES"},
            {"number": ["Runs fail on delays over 10 s: FLOWS_MAX_INLINE_DELAY."]},
        ),
        (300.0, {"number": 2, "units": "MINUTES"}, {}),
        (0.5, {"number": 0.75}, {"number": ["Runs fail on delays over 0.5 s: FLOWS_MAX_INLINE_DELAY."]}),
    ],
)
def test_delay_form_warns_about_delays_over_the_inline_limit_but_saves(settings, limit, params, warnings):
    settings.FLOWS_MAX_INLINE_DELAY = limit
    form = validated("FLOW/DELAY_FLOW", params)
    assert form.is_valid(), form.errors
    assert form.warnings == warnings


# --- FLOW ----------------------------------------------------------------------------------------------


def test_store_vars_writes_copies_into_vars():
    context = scope(user={"roles": ["a"]})
    context["vars"]["kept"] = 1

    output = run("FLOW/STORE_VARS", {"vars": {"user": "{{fields.user}}", "n": 2}}, context)

    assert output == {"user": {"roles": ["a"]}, "n": 2}
    assert context["vars"] == {"kept": 1, "user": {"roles": ["a"]}, "n": 2}
    context["vars"]["user"]["roles"].append("b")
    context["fields"]["user"]["roles"].append("c")
    assert output == {"user": {"roles": ["a"]}, "n": 2}


def test_error_message_gives_its_text_and_masks_masked_values():
    assert run("FLOW/ERROR_MESSAGE", {"message": "No user {{fields.id}}"}, scope(id=7)) == {
        "message": "No user 7"
    }
    masked = run(
        "FLOW/ERROR_MESSAGE", {"message": "key {{functions.mask(fields.k)}}"}, scope(k="key_SENTINEL")
    )
    assert masked == {"message": "key ********"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("FR", {"result": "France"}),
        (200, {"result": "ok"}),
        ("200", {"result": "ok"}),
        ("0200", {"result": "?"}),
    ],
)
def test_map_value_matches_cases_with_equals_semantics(value, expected):
    params = {"input": "{{fields.v}}", "cases": {"FR": "France", "200": "ok"}, "fallback": "?"}
    assert run("FLOW/MAP_VALUE", params, scope(v=value)) == expected


def test_map_value_results_keep_their_type_and_no_fallback_is_undefined():
    params = {"input": "{{fields.v}}", "cases": {"a": "{{fields.obj}}", "b": {"n": 1}}}
    assert run("FLOW/MAP_VALUE", params, scope(v="a", obj={"x": [1]})) == {"result": {"x": [1]}}
    assert run("FLOW/MAP_VALUE", params, scope(v="b")) == {"result": {"n": 1}}
    assert run("FLOW/MAP_VALUE", params, scope(v="c")) == {}


def test_return_json_resolves_its_payload():
    params = {"payload": {"id": "{{fields.id}}", "missing": "{{fields.nope}}", "list": ["{{fields.id}}"]}}
    assert run("FLOW/RETURN_JSON", params, scope(id=3)) == {"id": 3, "list": [3]}


def test_delay_waits_and_refuses_delays_longer_than_the_inline_limit(settings):
    settings.FLOWS_MAX_INLINE_DELAY = 0.5
    started = time.monotonic()
    assert run("FLOW/DELAY_FLOW", {"number": 0.05, "units": "SECONDS"}) == {"seconds": 0.05}
    assert time.monotonic() - started >= 0.05

    with pytest.raises(ActionFailed) as failed:
        run("FLOW/DELAY_FLOW", {"number": 1, "units": "MINUTES"})
    assert failed.value.code == "delay_too_long"
    assert "60 s" in failed.value.message and "FLOWS_MAX_INLINE_DELAY" in failed.value.message
    assert time.monotonic() - started < 0.5


def test_do_nothing():
    assert run("FLOW/DO_NOTHING", {}) == {}


# --- JSON ----------------------------------------------------------------------------------------------


def test_create_json_builds_typed_values():
    params = {
        "object": {
            "email": "{{fields.e}}",
            "n": "{{fields.n}}",
            "text": "n={{fields.n}}",
            "gone": "{{fields.x}}",
        }
    }
    assert run("JSON/CREATE_JSON", params, scope(e="a@b.c", n=2)) == {
        "result": {"email": "a@b.c", "n": 2, "text": "n=2"}
    }


def test_parse_json_reads_text_and_fails_clearly_on_anything_else():
    text = '\ufeff{"a": [1, "é"], "b": null}'
    assert run("JSON/PARSE_JSON", {"json": "{{fields.t}}"}, scope(t=text)) == {
        "object": {"a": [1, "é"], "b": None}
    }
    assert run("JSON/PARSE_JSON", {"json": '"plain"'}) == {"object": "plain"}

    for value, message in (
        ('{"a":', "not valid JSON: Expecting value at line 1"),
        ({"a": 1}, "got an object"),
    ):
        with pytest.raises(ActionFailed) as failed:
            run("JSON/PARSE_JSON", {"json": "{{fields.t}}"}, scope(t=value))
        assert failed.value.code == "invalid_json"
        assert message in failed.value.message


def test_serialize_json_writes_compact_json_like_javascript():
    value = {"a": [1, 2.5, True, None], "é": 'x"y\n'}
    output = run("JSON/SERIALIZE_JSON", {"object": "{{fields.v}}"}, scope(v=value))

    assert output == {"json": '{"a":[1,2.5,true,null],"é":"x\\"y\\n"}'}
    assert json.loads(output["json"]) == value


def test_masked_values_stay_masked_through_json_actions():
    context = scope(token="tok_SENTINEL")
    serialized = run("JSON/SERIALIZE_JSON", {"object": {"t": "{{functions.mask(fields.token)}}"}}, context)
    assert isinstance(serialized["json"], Secret)
    assert serialized["json"].reveal() == '{"t":"tok_SENTINEL"}'
    assert "tok_SENTINEL" not in json.dumps(redact(serialized))

    context["actions"]["s"] = serialized
    parsed = run("JSON/PARSE_JSON", {"json": "{{actions.s.json}}"}, context)
    assert isinstance(parsed["object"], Secret)
    assert parsed["object"].reveal() == {"t": "tok_SENTINEL"}


# --- XML -----------------------------------------------------------------------------------------------


def test_parse_xml_maps_elements_attributes_repeats_and_text():
    xml = """<?xml version="1.0" encoding="UTF-8"?>
    <order id="42" xmlns:x="urn:x">
      <item sku="a">Pen</item>
      <item>Ink &amp; paper</item>
      <note/>
      <x:total currency="EUR">12.50</x:total>
      mixed
    </order>"""
    assert run("XML/PARSE_XML", {"xml": "{{fields.x}}"}, scope(x=xml)) == {
        "object": {
            "order": {
                "@id": "42",
                "@xmlns:x": "urn:x",
                "item": [{"@sku": "a", "#text": "Pen"}, "Ink & paper"],
                "note": None,
                "x:total": {"@currency": "EUR", "#text": "12.50"},
                "#text": "mixed",
            }
        }
    }


@pytest.mark.parametrize(
    "xml",
    [
        # billion laughs
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        "<lolz>&lol2;</lolz>",
        # external entity (XXE)
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>',
        # external DTD
        '<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:1/evil.dtd"><r/>',
        # parameter entity
        '<!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><r/>',
    ],
)
def test_parse_xml_refuses_doctypes_and_entities(xml):
    with pytest.raises(ActionFailed) as failed:
        run("XML/PARSE_XML", {"xml": "{{fields.x}}"}, scope(x=xml))
    assert failed.value.code == "invalid_xml"
    assert "DOCTYPE" in failed.value.message
    assert "root:" not in failed.value.message


def test_parse_xml_reports_malformed_documents_with_line_and_column():
    for xml in ("<a><b></a>", "", "just text", "<a>&undefined;</a>"):
        with pytest.raises(ActionFailed) as failed:
            run("XML/PARSE_XML", {"xml": "{{fields.x}}"}, scope(x=xml))
        assert failed.value.code == "invalid_xml"
        assert "line 1" in failed.value.message
    with pytest.raises(ActionFailed):
        run("XML/PARSE_XML", {"xml": "{{fields.x}}"}, scope(x={"a": 1}))


def test_serialize_xml_writes_a_document_with_escaping():
    value = {"order": {"@id": 42, "@note": 'a "b"\n', "item": ["a<b", "c&d"], "empty": None, "ok": True}}
    output = run("XML/SERIALIZE_XML", {"object": "{{fields.v}}"}, scope(v=value))

    assert output == {
        "xml": '<?xml version="1.0" encoding="UTF-8"?><order id="42" note="a &quot;b&quot;&#10;">'
        "<item>a&lt;b</item><item>c&amp;d</item><empty/><ok>true</ok></order>"
    }


def test_serialize_xml_wraps_anything_but_one_element_in_root():
    assert to_xml({"a": 1, "b": 2}).endswith("<root><a>1</a><b>2</b></root>")
    assert to_xml({"a": [1, 2]}).endswith("<root><a>1</a><a>2</a></root>")
    assert to_xml([1, [2, 3]]).endswith(
        "<root><item>1</item><item><item>2</item><item>3</item></item></root>"
    )
    assert to_xml("text").endswith("<root>text</root>")


def test_serialize_xml_refuses_what_xml_cannot_hold():
    for value, message in (
        ({"bad name": 1}, "cannot be an XML name"),
        ({"a": "\x01"}, "control character"),
        ({"a": {"@b": [1]}}, "plain value"),
    ):
        with pytest.raises(ActionFailed) as failed:
            run("XML/SERIALIZE_XML", {"object": "{{fields.v}}"}, scope(v=value))
        assert failed.value.code == "invalid_xml"
        assert message in failed.value.message


def test_xml_round_trip():
    value = {
        "order": {"@id": "42", "item": ["a", {"@sku": "x", "#text": "b"}], "note": None, "deep": {"k": "é"}}
    }
    assert parse_xml(to_xml(value)) == value
