"""Substitution: typed values, text spelling, resolve() over structures, isolation, masked values."""

import copy
import json
import pickle

import pytest

from actions.expressions import (
    UNDEFINED,
    ExpressionError,
    Undefined,
    parse_template,
    redact,
    resolve,
    reveal,
    to_text,
)
from tests.expressions.support import SCOPE, evaluate, make_scope
from vault.secrets import Secret


def test_undefined_is_a_falsy_singleton_distinct_from_null():
    assert Undefined() is UNDEFINED
    assert not UNDEFINED
    assert UNDEFINED is not None
    assert repr(UNDEFINED) == "undefined"
    assert pickle.loads(pickle.dumps(UNDEFINED)) is UNDEFINED  # noqa: S301 (our own bytes)
    assert copy.deepcopy([UNDEFINED])[0] is UNDEFINED


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("fields.age", 42),
        ("fields.price", 2.5),
        ("fields.yes", True),
        ("fields.nothing", None),
        ("fields.list", [1, 2, 3]),
        ("fields.obj", {"a": 1, "b": {"c": "é"}}),
        ("actions.get_user.status", 200),
    ],
)
def test_a_single_expression_keeps_its_type(source, expected):
    value = parse_template("{{" + source + "}}").render(SCOPE)
    assert value == expected
    assert type(value) is type(expected)


def test_a_single_expression_of_missing_data_is_undefined():
    assert parse_template("{{ fields.missing }}").render(SCOPE) is UNDEFINED


def test_whitespace_around_a_single_expression_keeps_the_type():
    assert parse_template("{{actions.get_user.body.amount}}\n").render(SCOPE) == {"2026-06-17": 1}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n={{fields.age}}", "n=42"),
        ("p={{fields.price}}", "p=2.5"),
        ("w={{fields.whole}}", "w=2"),
        ("b={{fields.yes}},{{fields.no}}", "b=true,false"),
        ("z={{fields.zero}}", "z=0"),
        ("u=[{{fields.missing}}]", "u=[]"),
        ("n=[{{fields.nothing}}]", "n=[]"),
        ("e=[{{fields.empty}}]", "e=[]"),
        ("l={{fields.list}}", "l=[1,2,3]"),
        ("o={{fields.obj}}", 'o={"a":1,"b":{"c":"é"}}'),
        ("s={{fields.words}}", 's=["auth0","identity","authentication"]'),
        ('{"amount": {{actions.get_user.body.amount}}}', '{"amount": {"2026-06-17":1}}'),
        ("{{fields.name}}{{fields.age}}", "Ana42"),
    ],
)
def test_expressions_inside_text_are_spelled_as_json(text, expected):
    assert parse_template(text).render(SCOPE) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text", "text"),
        ("", ""),
        (1, "1"),
        (-3, "-3"),
        (2.5, "2.5"),
        (2.0, "2"),
        (1e21, "1e+21"),
        (True, "true"),
        (False, "false"),
        (None, ""),
        (UNDEFINED, ""),
        ([1, "a", None, True], '[1,"a",null,true]'),
        ({"k": "ü", "n": [1, {"x": None}]}, '{"k":"ü","n":[1,{"x":null}]}'),
        ({}, "{}"),
        ([], "[]"),
        (Secret("hidden"), "********"),
        ({"token": Secret("hidden")}, '{"token":"********"}'),
    ],
)
def test_to_text(value, expected):
    assert to_text(value) == expected


def test_no_html_escaping_anywhere():
    """Case C03: a&b<c>"d'e arrives unchanged, typed or inside text."""
    raw = "a&b<c>\"d'e"
    assert parse_template("{{fields.html}}").render(SCOPE) == raw
    assert parse_template("next={{fields.html}}").render(SCOPE) == "next=" + raw
    assert resolve({"note": "{{fields.html}}"}, SCOPE) == {"note": raw}
    assert parse_template("<b>&amp;</b> {{fields.html}}").render(SCOPE) == "<b>&amp;</b> " + raw


def test_values_are_never_templated_twice():
    """A value holding `{{…}}` is data, not a template: no double templating, no injection."""
    assert parse_template("{{fields.template}}").render(SCOPE) == "{{fields.name}}"
    assert parse_template("x {{fields.template}} y").render(SCOPE) == "x {{fields.name}} y"
    assert resolve({"a": "{{fields.template}}", "b": ["{{fields.template}}"]}, SCOPE) == {
        "a": "{{fields.name}}",
        "b": ["{{fields.name}}"],
    }
    injected = {"fields": {"q": "{{ functions.foo( }}"}}
    assert parse_template("q={{fields.q}}").render(injected) == "q={{ functions.foo( }}"


def test_json_breaking_values_stay_intact():
    """Case C06's values come through as exactly their source strings."""
    scope = {
        "fields": {"name": 'line\n"quoted"\tC:\\path', "q": "O'Brien", "evil": 'x", "admin": true, "y": "'}
    }
    assert resolve({"name": "{{fields.name}}", "q": "{{fields.q}}", "z": "{{fields.evil}}"}, scope) == {
        "name": scope["fields"]["name"],
        "q": "O'Brien",
        "z": scope["fields"]["evil"],
    }
    assert json.loads("[" + to_text([scope["fields"]["evil"]]) + "]") == [[scope["fields"]["evil"]]]


def test_resolve_renders_every_string_in_a_structure():
    params = {
        "url": "https://api.test/users/{{actions.get_user.body.email}}",
        "method": "POST",
        "timeout": 30,
        "follow": True,
        "none": None,
        "headers": [{"name": "X-Count", "value": "{{fields.age}}"}],
        "payload": {"age": "{{fields.age}}", "items": "{{actions.get_user.body.items}}", "keep": ["a", 1]},
        "{{fields.name}}": "keys are not templated",
    }
    assert resolve(params, SCOPE) == {
        "url": "https://api.test/users/ana@example.com",
        "method": "POST",
        "timeout": 30,
        "follow": True,
        "none": None,
        "headers": [{"name": "X-Count", "value": 42}],
        "payload": {"age": 42, "items": ["x", "y"], "keep": ["a", 1]},
        "{{fields.name}}": "keys are not templated",
    }


def test_resolve_drops_undefined_dict_entries_and_nulls_undefined_list_items():
    params = {
        "user_id": "{{actions.s1.body.missing}}",
        "ref": "{{actions.nope.body.id}}",
        "null": "{{fields.nothing}}",
        "text": "id={{fields.missing}}",
        "nested": {"gone": "{{fields.missing}}", "kept": "{{fields.missing ?? 'default'}}"},
        "list": ["{{fields.missing}}", "{{fields.age}}"],
    }
    assert resolve(params, SCOPE) == {
        "null": None,
        "text": "id=",
        "nested": {"kept": "default"},
        "list": [None, 42],
    }


def test_resolve_of_a_single_string():
    assert resolve("{{fields.age}}", SCOPE) == 42
    assert resolve("{{fields.missing}}", SCOPE) is UNDEFINED
    assert resolve("plain", SCOPE) == "plain"
    assert resolve(7, SCOPE) == 7


def test_results_are_new_structures_so_the_scope_never_changes():
    scope = make_scope()
    before = json.dumps(scope, sort_keys=True)
    obj = parse_template("{{fields.obj}}").render(scope)
    obj["b"]["c"] = "changed"
    items = resolve({"items": "{{actions.get_user.body.items}}"}, scope)["items"]
    items.append("z")
    merged = parse_template("{{functions.merge(fields.list, fields.list)}}").render(scope)
    merged.append(4)
    listed = parse_template("{{functions.toArray(fields.list)}}").render(scope)
    listed.clear()
    evaluated = parse_template("{{fields.objs}}").parts[0].evaluate(scope)
    evaluated[0]["id"] = 99
    params = {"payload": {"fixed": ["a"]}}
    resolved = resolve(params, scope)
    resolved["payload"]["fixed"].append("b")
    assert params == {"payload": {"fixed": ["a"]}}
    assert json.dumps(scope, sort_keys=True) == before


def test_runtime_errors_carry_position_and_param_path():
    with pytest.raises(ExpressionError) as caught:
        resolve({"headers": [{"value": "ok"}, {"value": "n={{functions.length(fields.age)}}"}]}, SCOPE)
    assert caught.value.param == "headers[1].value"
    assert caught.value.position == 4
    assert str(caught.value).startswith("headers[1].value: functions.length: argument 1 must be")


def test_runtime_errors_never_show_the_value():
    with pytest.raises(ExpressionError) as caught:
        evaluate("functions.length(functions.toNumber(fields.card))")
    assert "4111" not in str(caught.value)


def test_a_masked_value_is_usable_but_never_shown():
    value = evaluate("functions.mask(fields.card)")
    assert isinstance(value, Secret)
    assert str(value) == "********"
    assert repr(value) == "Secret('********')"
    assert value.reveal() == "4111111111111111"
    assert "4111111111111111" in value.sensitive


def test_text_around_a_masked_value_is_masked_as_a_whole():
    value = parse_template("Bearer {{functions.mask(fields.card)}}").render(SCOPE)
    assert isinstance(value, Secret)
    assert str(value) == "Bearer ********"
    assert value.reveal() == "Bearer 4111111111111111"
    assert "4111111111111111" in value.sensitive


def test_values_computed_from_a_masked_value_stay_masked():
    upper = evaluate("functions.toUpperCase(functions.mask(fields.name))")
    assert isinstance(upper, Secret)
    assert upper.reveal() == "ANA"
    part = evaluate("functions.mask(fields.obj).b.c")
    assert isinstance(part, Secret)
    assert part.reveal() == "é"
    assert evaluate("functions.mask(fields.obj).missing") is UNDEFINED
    assert evaluate("functions.mask(fields.missing)") is UNDEFINED
    assert evaluate("functions.mask(fields.nothing)") is None
    assert evaluate("functions.mask(fields.missing) ?? 'x'") == "x"
    assert evaluate("functions.mask(fields.name) ?? 'x'").reveal() == "Ana"


def test_masked_values_inside_structures_reach_functions_and_text():
    scope = {"vars": {"stored": {"token": Secret("tok_SENTINEL")}}}
    assert evaluate("functions.toString(vars.stored)", scope).reveal() == '{"token":"tok_SENTINEL"}'
    text = parse_template("t={{vars.stored}}").render(scope)
    assert str(text) == 't={"token":"********"}'
    assert text.reveal() == 't={"token":"tok_SENTINEL"}'


def test_reveal_and_redact_walk_resolved_params():
    resolved = resolve(
        {"headers": [{"name": "Authorization", "value": "Bearer {{functions.mask(fields.card)}}"}], "n": 1},
        SCOPE,
    )
    assert reveal(resolved) == {
        "headers": [{"name": "Authorization", "value": "Bearer 4111111111111111"}],
        "n": 1,
    }
    assert redact(resolved) == {"headers": [{"name": "Authorization", "value": "Bearer ********"}], "n": 1}
    assert "4111" not in repr(resolved)
