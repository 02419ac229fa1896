"""The language: access, literals, `??`, calls, templates, parse errors and check()."""

import pickle

import pytest

from actions.expressions import (
    UNDEFINED,
    Expression,
    ExpressionError,
    Template,
    check,
    parse_template,
    references,
    resolve,
)
from tests.expressions.support import SCOPE, evaluate


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("fields.name", "Ana"),
        ("fields.obj.b.c", "é"),
        ("fields.list[0]", 1),
        ("fields.list[2]", 3),
        ("fields.objs[1].id", 2),
        ('fields["key with spaces"]', "spaced"),
        ("fields['key with spaces']", "spaced"),
        ('fields["quote\'s"]', "single"),
        ("fields['quote\\'s']", "single"),
        ('fields.obj["b"]["c"]', "é"),
        ("fields.list[fields.i]", 2),
        ("fields.list[1.0]", 2),
        ('fields.list["1"]', 2),
        ("fields.list.length", 3),
        ("fields.name.length", 3),
        ("fields.name[0]", "A"),
        ("actions.get_user.body.email", "ana@example.com"),
        ("actions.get_user.status", 200),
        ("actions.get_user.body.items[1]", "y"),
        ("actions.get_user.body.amount.2026-06-17", 1),
        ("actions.get-user.body.id", "slug"),
        ("actions.1st.body.id", "digit"),
        ("actions.get_user.body.items.0", "x"),
        ('actions["get_user"]["body"]["email"]', "ana@example.com"),
        ("context.flow.name", "Signup"),
        ("vars.external_id", "ext-1"),
        ("fields", SCOPE["fields"]),
    ],
)
def test_access(source, expected):
    assert evaluate(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        "fields.missing",
        "fields.missing.deeper.still",
        "fields.list[3]",
        "fields.list[99]",
        "fields.list[-1]",
        "fields.list[1.5]",
        'fields.list["01"]',
        "fields.list[true]",
        "fields.nothing.x",
        "fields.age.x",
        "fields.yes.x",
        "fields.name.x",
        "fields.name[3]",
        "fields.obj[0]",
        "fields.list[fields.missing]",
        "actions.nope.body.id",
        "actions.get_user.body.items[2]",
        "fields.obj.b.c.d",
    ],
)
def test_missing_data_is_undefined_not_an_error(source):
    assert evaluate(source) is UNDEFINED


def test_a_namespace_missing_from_the_scope_is_undefined():
    assert evaluate("vars.x", {"fields": {}}) is UNDEFINED
    assert evaluate("fields.x", {}) is UNDEFINED


def test_access_on_a_dict_reads_numeric_keys_as_text():
    assert evaluate("fields.m[0]", {"fields": {"m": {"0": "zero"}}}) == "zero"


def test_python_attributes_are_never_reachable():
    scope = {"fields": {"s": "abc", "d": {}, "l": []}}
    for source in (
        "fields.s.upper",
        "fields.d.keys",
        "fields.l.append",
        "fields.s.__class__",
        "fields.d.__class__",
    ):
        assert evaluate(source, scope) is UNDEFINED


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('"text"', "text"),
        ("'text'", "text"),
        ('""', ""),
        (r'"a\"b"', 'a"b'),
        (r"'a\'b'", "a'b"),
        (r'"line\nbreak\ttab\\slash"', "line\nbreak\ttab\\slash"),
        (r'"\u00e9\x41"', "éA"),
        (r'"\ud83d\ude00"', "😀"),
        (r'"\q"', "q"),
        ('"}} inside"', "}} inside"),
        ('"{{ not a template }}"', "{{ not a template }}"),
        ("42", 42),
        ("-7", -7),
        ("0", 0),
        ("2.5", 2.5),
        ("-0.25", -0.25),
        ("1e3", 1000.0),
        ("true", True),
        ("false", False),
        ("null", None),
    ],
)
def test_literals(source, expected):
    value = evaluate(source)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("fields.missing ?? 'fallback'", "fallback"),
        ("fields.nothing ?? 'fallback'", "fallback"),
        ("fields.no ?? 'fallback'", False),
        ("fields.zero ?? 'fallback'", 0),
        ("fields.empty ?? 'fallback'", ""),
        ("fields.name ?? 'fallback'", "Ana"),
        ("fields.missing ?? fields.nothing ?? fields.name", "Ana"),
        ("fields.missing ?? fields.nothing", None),
        ("fields.nothing ?? fields.missing", UNDEFINED),
        ("fields.missing ?? fields.list", [1, 2, 3]),
        ("fields.list[fields.missing ?? 2]", 3),
        ("functions.toUpperCase(fields.missing) ?? 'n/a'", "n/a"),
    ],
)
def test_nullish_coalescing(source, expected):
    assert evaluate(source) == expected


def test_whitespace_inside_braces_is_ignored():
    assert parse_template("{{\n  fields . list [ 1 ]\t?? 0 }}").render(SCOPE) == 2
    assert evaluate(" functions.slice( fields.name , 0 , 2 ) ") == "An"


def test_calls_nest_and_take_access():
    assert evaluate("functions.toUpperCase(functions.slice(fields.name, functions.length('ab')))") == "A"
    assert evaluate("functions.split('a,b,c', ',')[1]") == "b"
    assert evaluate("functions.split('a,b,c', ',').length") == 3


def test_template_parts_and_offsets():
    template = parse_template("Hi {{ fields.name }}, {{fields.age}}!")
    assert [p if isinstance(p, str) else p.source for p in template.parts] == [
        "Hi ",
        "fields.name",
        ", ",
        "fields.age",
        "!",
    ]
    first = template.parts[1]
    assert isinstance(first, Expression)
    assert (first.start, first.end) == (3, 20)
    assert template.single_expression is None
    assert template.render(SCOPE) == "Hi Ana, 42!"


@pytest.mark.parametrize(
    ("text", "single"),
    [
        ("{{fields.age}}", True),
        ("  {{ fields.age }}\n", True),
        ("x{{fields.age}}", False),
        ("{{fields.age}}{{fields.age}}", False),
        ("no expression", False),
        ("", False),
    ],
)
def test_single_expression(text, single):
    assert (parse_template(text).single_expression is not None) is single


def test_text_without_expressions_renders_as_itself():
    assert parse_template("plain }} text {").render(SCOPE) == "plain }} text {"
    assert parse_template("").render(SCOPE) == ""
    assert parse_template("").parts == ()


def test_a_run_of_braces_opens_at_the_last_two():
    assert parse_template('{"a":{{fields.age}}}').render(SCOPE) == '{"a":42}'
    assert parse_template("{{{fields.name}}}").render(SCOPE) == "{Ana}"
    assert parse_template("{{{fields.name}}: 1}").parts[0] == "{"


def test_is_call():
    assert (
        parse_template("{{functions.encodeURIComponent(fields.name)}}").parts[0].is_call("encodeURIComponent")
    )
    assert not parse_template("{{functions.toString(fields.name)}}").parts[0].is_call("encodeURIComponent")
    assert (
        not parse_template("{{functions.encodeURIComponent(fields.x) ?? 'a'}}")
        .parts[0]
        .is_call("encodeURIComponent")
    )
    assert not parse_template("{{fields.name}}").parts[0].is_call("encodeURIComponent")


def test_parsing_is_cached():
    assert parse_template("{{fields.name}} cached") is parse_template("{{fields.name}} cached")


def test_expression_references():
    expression = parse_template(
        "{{functions.merge(actions.get_user.body.items, vars.extra) ?? fields.list[fields.i].x ?? context}}"
    ).parts[0]
    assert expression.references() == [
        ("actions", "get_user", "body", "items"),
        ("vars", "extra"),
        ("fields", "list"),
        ("fields", "i"),
        ("context",),
    ]


def test_references_of_a_structure():
    params = {
        "url": "https://x.test/{{actions.get_user.body.id}}?q={{fields['a b']}}",
        "headers": [{"name": "X", "value": "{{actions.nope.body.id}}"}, {"name": "Y", "value": "{{ bad"}],
        "payload": {"n": 1, "list": ["{{fields.list[0]}}", "{{actions.get_user.body.id}}"]},
    }
    assert references(params) == [
        ("actions", "get_user", "body", "id"),
        ("fields", "a b"),
        ("actions", "nope", "body", "id"),
        ("fields", "list", "0"),
    ]


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("abc {{ fields.name", 'unterminated "{{"', 4),
        ("{{", 'unterminated "{{"', 0),
        ("{{ fields.name }", 'unterminated "{{"', 0),
        ('{{ "}}" ', 'unterminated "{{"', 0),
        ("ok {{fields.a}} then {{ x", 'unterminated "{{"', 21),
        ("{{}}", "empty expression", 2),
        ("{{   }}", "empty expression", 5),
        ("{{ fields.name + 1 }}", 'unexpected character "+"', 15),
        ("{{ fields.a == 1 }}", 'unexpected character "="', 12),
        ("{{ fields.a fields.b }}", 'expected "}}"', 12),
        ("{{ 'abc }}", "unterminated string", 3),
        ("{{ foo.bar }}", 'unknown namespace "foo"', 3),
        ("{{ secrets.token }}", 'unknown namespace "secrets"', 3),
        ("{{ fields. }}", 'expected a name after "."', 11),
        ("{{ fields.list[0 }}", 'expected "]"', 17),
        ("{{ fields.list[] }}", "expected a value", 15),
        ("{{ fields.a ?? }}", "expected a value", 15),
        ("{{ ?? fields.a }}", "expected a value", 3),
        ("{{ functions.foo(1) }}", 'unknown function "functions.foo"', 3),
        ("{{ functions.toString }}", "must be called: functions.toString(…)", 3),
        ("{{ functions }}", "expected a function name", 13),
        ("{{ functions.toString(1, }}", "expected a value", 25),
        ("{{ functions.toString(1 2) }}", 'expected "," or ")"', 24),
        ("{{ functions.toString(1 }}", 'expected "," or ")"', 24),
        ("{{ functions.slice('a') }}", "functions.slice expects 2 or 3 arguments, got 1", 3),
        ("{{ functions.now(1) }}", "functions.now expects 0 arguments, got 1", 3),
        ("{{ (fields.a) }}", "expected a value", 3),
        (r"{{ '\u12' }}", 'invalid escape "\\u"', 4),
        ("{{ 1e999 }}", "number out of range", 3),
        ("{{ " + "9" * 5000 + " }}", "number too long", 3),
    ],
)
def test_parse_errors_name_the_problem_and_its_position(text, message, position):
    with pytest.raises(ExpressionError) as caught:
        parse_template(text)
    assert message in caught.value.message
    assert caught.value.position == position
    assert caught.value.param is None


def test_deep_nesting_is_refused_not_a_crash():
    text = "{{" + "functions.toString(" * 200 + "1" + ")" * 200 + "}}"
    with pytest.raises(ExpressionError, match="nested too deeply"):
        parse_template(text)


def test_error_text_names_param_and_position():
    error = ExpressionError('unknown function "functions.foo"', 12, "payload.note")
    assert str(error) == 'payload.note: unknown function "functions.foo" at position 12'
    assert str(error.with_param(None)) == 'unknown function "functions.foo" at position 12'
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes)
    assert (copy.message, copy.position, copy.param) == (error.message, error.position, error.param)


def test_check_reports_every_bad_string_with_its_param_path():
    params = {
        "url": "https://x.test/{{fields.id}}",
        "headers": [{"name": "A", "value": "ok"}, {"name": "B", "value": "{{ fields.a"}],
        "payload": {"user": {"name": "Hi {{functions.foo(1)}}"}, "n": 1, "flag": True, "none": None},
        "params": [["{{ vars.}}"]],
    }
    errors = check(params)
    assert [(e.param, e.position) for e in errors] == [
        ("headers[1].value", 0),
        ("payload.user.name", 5),
        ("params[0][0]", 8),
    ]
    assert str(errors[1]) == 'payload.user.name: unknown function "functions.foo" at position 5'


def test_resolve_reports_a_template_that_does_not_parse_with_its_param_path():
    with pytest.raises(ExpressionError) as caught:
        resolve({"payload": {"items": ["ok", "{{ fields.a"]}}, {})
    assert str(caught.value) == 'payload.items[1]: unterminated "{{": no closing "}}" at position 0'


def test_check_with_a_base_path_and_on_plain_values():
    assert [e.param for e in check({"note": "{{ x }}"}, "payload")] == ["payload.note"]
    assert [e.param for e in check("{{ x }}")] == [None]
    assert check({"a": ["{{fields.a}}", 1, None, {"b": "plain"}]}) == []


def test_templates_are_immutable_values():
    template = parse_template("{{fields.name}}")
    assert isinstance(template, Template)
    with pytest.raises(AttributeError):
        template.parts = ()
