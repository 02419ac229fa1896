"""The functions.* library: Auth0's names, argument order and documented examples, JavaScript edges."""

import hashlib
import re
import time
import uuid
from datetime import UTC, datetime

import pytest

from actions.expressions import UNDEFINED, ExpressionError, parse_template
from actions.functions import FUNCTIONS
from tests.expressions.support import SCOPE, evaluate
from vault.secrets import Secret

# Auth0's signatures: name → (fewest, most) arguments.
ARITY = {
    "toArray": (1, 1),
    "toBoolean": (1, 1),
    "toNumber": (1, 1),
    "toString": (1, 1),
    "length": (1, 1),
    "slice": (2, 3),
    "substring": (2, 3),
    "toLowerCase": (1, 1),
    "toUpperCase": (1, 1),
    "replace": (3, 3),
    "replaceAll": (3, 3),
    "split": (2, 3),
    "includes": (2, 3),
    "indexOf": (2, 3),
    "merge": (2, 2),
    "now": (0, 0),
    "toTimestamp": (0, 1),
    "random": (2, 3),
    "uuid": (0, 0),
    "md5": (1, 1),
    "sha1": (1, 1),
    "sha256": (1, 1),
    "sha512": (1, 1),
    "mask": (1, 1),
    "encodeURIComponent": (1, 1),
}


def test_the_library_is_exactly_the_documented_one():
    assert {name: (f.min_args, f.max_args) for name, f in FUNCTIONS.items()} == ARITY


@pytest.mark.parametrize(
    ("name", "count"),
    [(name, low - 1) for name, (low, _) in ARITY.items() if low]
    + [(name, high + 1) for name, (_, high) in ARITY.items()],
)
def test_wrong_arity_is_a_parse_error(name, count):
    args = ", ".join(["1"] * count)
    with pytest.raises(ExpressionError) as caught:
        parse_template(f"x {{{{ functions.{name}({args}) }}}}")
    assert re.fullmatch(
        rf"functions\.{name} expects \d( or \d)? arguments?, got {count}", caught.value.message
    )
    assert caught.value.position == 5


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # toArray
        ("functions.toArray('abc')", ["abc"]),
        ("functions.toArray(fields.list)", [1, 2, 3]),
        ("functions.toArray(fields.obj)", [{"a": 1, "b": {"c": "é"}}]),
        ("functions.toArray(1)", [1]),
        ("functions.toArray(fields.missing)", []),
        ("functions.toArray(null)", []),
        # toBoolean
        ("functions.toBoolean(1)", True),
        ("functions.toBoolean(0)", False),
        ("functions.toBoolean(2.5)", True),
        ("functions.toBoolean(true)", True),
        ("functions.toBoolean(false)", False),
        ("functions.toBoolean('true')", True),
        ("functions.toBoolean('yes')", True),
        ("functions.toBoolean('false')", False),
        ("functions.toBoolean(' FALSE ')", False),
        ("functions.toBoolean('0')", False),
        ("functions.toBoolean('')", False),
        ("functions.toBoolean('  ')", False),
        ("functions.toBoolean(null)", False),
        ("functions.toBoolean(fields.missing)", False),
        ("functions.toBoolean(fields.list)", True),
        ("functions.toBoolean(fields.obj)", True),
        # toNumber
        ("functions.toNumber('123')", 123),
        ("functions.toNumber(' 12 ')", 12),
        ("functions.toNumber('-3')", -3),
        ("functions.toNumber('+5')", 5),
        ("functions.toNumber('2.5')", 2.5),
        ("functions.toNumber('.5')", 0.5),
        ("functions.toNumber('5.')", 5),
        ("functions.toNumber('1e3')", 1000),
        ("functions.toNumber('0x10')", 16),
        ("functions.toNumber('0o17')", 15),
        ("functions.toNumber('0b101')", 5),
        ("functions.toNumber('123456789012345678901234567890')", 123456789012345678901234567890),
        ("functions.toNumber(7)", 7),
        ("functions.toNumber(fields.whole)", 2),
        ("functions.toNumber(2.5)", 2.5),
        ("functions.toNumber(true)", 1),
        ("functions.toNumber(false)", 0),
        ("functions.toNumber(null)", 0),
        ("functions.toNumber('abc')", UNDEFINED),
        ("functions.toNumber('12abc')", UNDEFINED),
        ("functions.toNumber('1_000')", UNDEFINED),
        ("functions.toNumber('Infinity')", UNDEFINED),
        ("functions.toNumber('NaN')", UNDEFINED),
        ("functions.toNumber('1e999')", UNDEFINED),
        ("functions.toNumber('')", UNDEFINED),
        ("functions.toNumber(fields.missing)", UNDEFINED),
        ("functions.toNumber(fields.list)", UNDEFINED),
        ("functions.toNumber(fields.obj)", UNDEFINED),
        ("functions.toNumber('abc') ?? 0", 0),
        # toString
        ("functions.toString(123)", "123"),
        ("functions.toString(2.5)", "2.5"),
        ("functions.toString(fields.whole)", "2"),
        ("functions.toString(true)", "true"),
        ("functions.toString('x')", "x"),
        ("functions.toString(fields.list)", "[1,2,3]"),
        ("functions.toString(fields.obj)", '{"a":1,"b":{"c":"é"}}'),
        ("functions.toString(null)", ""),
        ("functions.toString(fields.missing)", ""),
        # length
        ("functions.length('auth0')", 5),
        ("functions.length('')", 0),
        ("functions.length('é😀')", 2),
        ("functions.length(fields.list)", 3),
        ("functions.length(fields.obj)", 2),
        ("functions.length(fields.missing)", UNDEFINED),
        ("functions.length(null)", None),
        # slice
        ("functions.slice('example', 3, 5)", "mp"),
        ("functions.slice('example', 3)", "mple"),
        ("functions.slice('example', -3)", "ple"),
        ("functions.slice('example', -3, -1)", "pl"),
        ("functions.slice('example', 5, 3)", ""),
        ("functions.slice('example', 0, 100)", "example"),
        ("functions.slice('example', -100, 2)", "ex"),
        ("functions.slice('example', 1.9, 3)", "xa"),
        ("functions.slice('example', '2', '4')", "am"),
        ("functions.slice('example', 1, fields.missing)", "xample"),
        ("functions.slice('example', 1, null)", ""),
        ("functions.slice('example', null, 2)", "ex"),
        ("functions.slice(123456, 1, 3)", "23"),
        ("functions.slice(fields.list, 1)", [2, 3]),
        ("functions.slice(fields.list, -2, -1)", [2]),
        ("functions.slice(fields.list, 5)", []),
        ("functions.slice(fields.missing, 1)", UNDEFINED),
        ("functions.slice(null, 1)", None),
        # substring
        ("functions.substring('example', 3, 5)", "mp"),
        ("functions.substring('example', 5, 3)", "mp"),
        ("functions.substring('example', 3)", "mple"),
        ("functions.substring('example', -2, 3)", "exa"),
        ("functions.substring('example', 3, 100)", "mple"),
        ("functions.substring('example', 3, -1)", "exa"),
        ("functions.substring(12345, 1, 3)", "23"),
        ("functions.substring(fields.missing, 1)", UNDEFINED),
        # toLowerCase / toUpperCase
        ("functions.toLowerCase('AbC É')", "abc é"),
        ("functions.toUpperCase('AbC é')", "ABC É"),
        ("functions.toUpperCase('straße')", "STRASSE"),
        ("functions.toUpperCase(true)", "TRUE"),
        ("functions.toLowerCase(12)", "12"),
        ("functions.toLowerCase(fields.missing)", UNDEFINED),
        ("functions.toUpperCase(null)", None),
        # replace / replaceAll (plain text, Auth0's examples first)
        ("functions.replace('2021-04-30', '-', '/')", "2021/04-30"),
        ("functions.replaceAll('2021-04-30', '-', '/')", "2021/04/30"),
        ("functions.replace('abc', 'x', 'y')", "abc"),
        ("functions.replace('abc', '', '-')", "-abc"),
        ("functions.replaceAll('abc', '', '-')", "-a-b-c-"),
        ("functions.replaceAll('a.b.c', '.', '')", "abc"),
        ("functions.replace('a.b', '.', '$&$1')", "a$&$1b"),
        ("functions.replaceAll(12321, 2, 9)", "19391"),
        ("functions.replace(fields.missing, 'a', 'b')", UNDEFINED),
        # split
        ("functions.split('2021-04-30', '-')", ["2021", "04", "30"]),
        ("functions.split('abc', '')", ["a", "b", "c"]),
        ("functions.split('a,b,c', ',', 2)", ["a", "b"]),
        ("functions.split('a,b,c', ',', 0)", []),
        ("functions.split('a,b,c', ',', -1)", ["a", "b", "c"]),
        ("functions.split('a,b', ';')", ["a,b"]),
        ("functions.split('', ',')", [""]),
        ("functions.split('', '')", []),
        ("functions.split('a,b', fields.missing)", ["a,b"]),
        ("functions.split(fields.missing, ',')", UNDEFINED),
    ],
)
def test_function_results(source, expected):
    value = evaluate(source)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("functions.includes(fields.words, 'identity')", True),
        ("functions.includes(fields.words, 'nope')", False),
        ("functions.includes(fields.list, 2)", True),
        ("functions.includes(fields.list, 2.0)", True),
        ("functions.includes(fields.list, '2')", False),
        ("functions.includes(fields.flags, 1)", False),
        ("functions.includes(fields.flags, true)", True),
        ("functions.includes(fields.list, 1, 1)", False),
        ("functions.includes(fields.list, 3, -1)", True),
        ("functions.includes(fields.list, 1, -100)", True),
        ("functions.includes(fields.objs, functions.merge(fields.objs[0], fields.objs[0]))", True),
        ("functions.includes(fields.obj, 1)", True),
        ("functions.includes(fields.obj, 'a')", False),
        ("functions.includes('auth0', 'th')", True),
        ("functions.includes('auth0', 'x')", False),
        ("functions.includes('auth0', 'a', 1)", False),
        ("functions.includes('auth0', '', 99)", True),
        ("functions.includes(12345, 34)", True),
        ("functions.includes(fields.missing, 'a')", UNDEFINED),
        ("functions.indexOf(fields.words, 'identity')", 1),
        ("functions.indexOf(fields.words, 'nope')", -1),
        ("functions.indexOf(fields.list, 3, -1)", 2),
        ("functions.indexOf(fields.list, 1, 1)", -1),
        ("functions.indexOf(fields.objs, fields.objs[1])", 1),
        ("functions.indexOf('auth0', 'h')", 3),
        ("functions.indexOf('a-b-c', '-', 2)", 3),
        ("functions.indexOf('a-b-c', '-', -5)", 1),
        ("functions.indexOf('abc', '')", 0),
        ("functions.indexOf(fields.missing, 'a')", UNDEFINED),
        ("functions.merge(fields.words, fields.list)", ["auth0", "identity", "authentication", 1, 2, 3]),
        ("functions.merge(fields.list, 4)", [1, 2, 3, 4]),
        ("functions.merge(fields.list, fields.obj)", [1, 2, 3, {"a": 1, "b": {"c": "é"}}]),
        (
            "functions.merge(fields.obj, actions.get_user.body)",
            {"a": 1, "b": {"c": "é"}, **SCOPE["actions"]["get_user"]["body"]},
        ),
        ("functions.merge(fields.obj, fields.objs[0])", {"a": 1, "b": {"c": "é"}, "id": 1}),
        (
            "functions.merge(fields.obj, functions.merge(fields.objs[0], actions.get-user.body))",
            {"a": 1, "b": {"c": "é"}, "id": "slug"},
        ),
        ("functions.merge('auth', 0)", "auth0"),
        ("functions.merge('a', 'b')", "ab"),
        ("functions.merge(fields.missing, fields.list)", [1, 2, 3]),
        ("functions.merge(fields.list, fields.missing)", [1, 2, 3]),
        ("functions.merge(fields.nothing, fields.missing)", None),
        ("functions.merge(fields.missing, fields.missing)", UNDEFINED),
    ],
)
def test_collection_function_results(source, expected):
    value = evaluate(source)
    assert value == expected
    assert type(value) is type(expected)


def test_merge_of_objects_is_shallow_and_right_wins():
    scope = {"fields": {"a": {"x": 1, "n": {"p": 1}}, "b": {"x": 2, "n": {"q": 2}}}}
    assert evaluate("functions.merge(fields.a, fields.b)", scope) == {"x": 2, "n": {"q": 2}}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("functions.length(fields.age)", "argument 1 must be text, a list or an object, got a number"),
        ("functions.length(true)", "got a boolean"),
        ("functions.slice(fields.obj, 1)", "argument 1 must be text or a list, got an object"),
        ("functions.slice('abc', 'x')", "argument 2 must be a number, got text"),
        ("functions.slice('abc', 1, fields.list)", "argument 3 must be a number, got a list"),
        ("functions.slice('abc', true)", "argument 2 must be a number, got a boolean"),
        ("functions.substring(fields.list, 1)", "argument 1 must be text, got a list"),
        ("functions.toLowerCase(fields.obj)", "argument 1 must be text, got an object"),
        ("functions.replace('abc', fields.missing, 'x')", "argument 2 must be text, got undefined"),
        ("functions.replaceAll('abc', 'a', null)", "argument 3 must be text, got null"),
        ("functions.split('a,b', fields.list)", "argument 2 must be text, got a list"),
        ("functions.split('a,b', ',', 'x')", "argument 3 must be a number, got text"),
        ("functions.includes(fields.list, 1, 'x')", "argument 3 must be a number, got text"),
        ("functions.includes('abc', fields.obj)", "argument 2 must be text, got an object"),
        ("functions.indexOf(fields.obj, 1)", "argument 1 must be text or a list, got an object"),
        ("functions.merge(fields.obj, fields.list)", "argument 2 must be an object"),
        ("functions.merge(fields.age, 1)", "argument 1 must be a list, an object or text, got a number"),
        ("functions.toTimestamp(fields.list)", "argument 1 must be a date"),
        ("functions.toTimestamp(true)", "argument 1 must be a date"),
        ("functions.random('a', 1)", "argument 1 must be a number, got text"),
        ("functions.random(0, fields.missing)", "argument 2 must be a number, got undefined"),
        ("functions.md5(fields.list)", "argument 1 must be text, got a list"),
        ("functions.sha256(fields.obj)", "argument 1 must be text, got an object"),
        ("functions.encodeURIComponent(fields.obj)", "argument 1 must be text, got an object"),
        ("functions.encodeURIComponent('\\ud800')", "not valid Unicode"),
        ("functions.sha1('\\udc00')", "not valid Unicode"),
    ],
)
def test_wrong_argument_types_raise_with_the_call_position(source, message):
    with pytest.raises(ExpressionError) as caught:
        parse_template("ab {{ " + source + " }}").render(SCOPE)
    assert message in caught.value.message
    assert caught.value.message.startswith("functions.")
    assert caught.value.position == 6


def test_now_is_iso_8601_utc_with_milliseconds():
    value = evaluate("functions.now()")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", value)
    moment = datetime.fromisoformat(value)
    assert abs((datetime.now(UTC) - moment).total_seconds()) < 5


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("functions.toTimestamp('2021-04-30T10:02:50.876Z')", 1619776970),
        ("functions.toTimestamp('2021-04-30T12:02:50.876+02:00')", 1619776970),
        ("functions.toTimestamp('2021-04-30T10:02:50')", 1619776970),
        ("functions.toTimestamp(' 2021-04-30 10:02:50 ')", 1619776970),
        ("functions.toTimestamp('2021-04-30')", 1619740800),
        ("functions.toTimestamp(1619776970876)", 1619776970),
        ("functions.toTimestamp('1969-12-31T23:59:59.5Z')", -1),
        ("functions.toTimestamp('not a date')", UNDEFINED),
        ("functions.toTimestamp('')", UNDEFINED),
        ("functions.toTimestamp(fields.missing)", UNDEFINED),
    ],
)
def test_to_timestamp(source, expected):
    value = evaluate(source)
    if expected is UNDEFINED:
        assert value is UNDEFINED
    else:
        assert type(value) is int
        assert value == expected


@pytest.mark.parametrize("source", ["functions.toTimestamp()", "functions.toTimestamp(functions.now())"])
def test_to_timestamp_of_now(source):
    before = int(time.time())
    value = evaluate(source)
    assert type(value) is int
    assert before <= value <= int(time.time())


def test_random_integers_are_inclusive():
    draws = {evaluate("functions.random(0, 3)") for _ in range(300)}
    assert draws == {0, 1, 2, 3}
    assert {evaluate("functions.random(3, 0)") for _ in range(300)} == {0, 1, 2, 3}
    assert evaluate("functions.random(5, 5)") == 5
    assert evaluate("functions.random('1', '1')") == 1


def test_random_floats():
    for source in (
        "functions.random(0, 6, true)",
        "functions.random(0.5, 2)",
        "functions.random(0, 1, 'yes')",
    ):
        value = evaluate(source)
        assert type(value) is float
        assert 0 <= value <= 6
    assert type(evaluate("functions.random(0, 6, false)")) is int


def test_uuid_is_a_random_v4():
    first, second = evaluate("functions.uuid()"), evaluate("functions.uuid()")
    assert uuid.UUID(first).version == 4
    assert str(uuid.UUID(first)) == first
    assert first != second


@pytest.mark.parametrize(
    ("name", "auth0_prefix"),
    [("md5", "7bbb597"), ("sha1", "b4ec5339"), ("sha256", "d9082bdc"), ("sha512", "c0d588069d")],
)
def test_hashes_match_auth0_examples_and_hash_utf8(name, auth0_prefix):
    assert evaluate(f"functions.{name}('auth0')").startswith(auth0_prefix)
    assert evaluate(f"functions.{name}('grün é')") == hashlib.new(name, "grün é".encode()).hexdigest()
    assert evaluate(f"functions.{name}(123)") == hashlib.new(name, b"123").hexdigest()
    assert evaluate(f"functions.{name}(fields.missing)") is UNDEFINED


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("functions.encodeURIComponent('a b&c=d/e?f#g')", "a%20b%26c%3Dd%2Fe%3Ff%23g"),
        ('functions.encodeURIComponent("AZaz09-_.!~*\'()")', "AZaz09-_.!~*'()"),
        ("functions.encodeURIComponent('user+tag@example.com')", "user%2Btag%40example.com"),
        ("functions.encodeURIComponent('grün')", "gr%C3%BCn"),
        ("functions.encodeURIComponent('😀')", "%F0%9F%98%80"),
        ("functions.encodeURIComponent('100%')", "100%25"),
        ("functions.encodeURIComponent(12.5)", "12.5"),
        ("functions.encodeURIComponent(fields.missing)", UNDEFINED),
    ],
)
def test_encode_uri_component(source, expected):
    assert evaluate(source) == expected


def test_mask():
    value = evaluate("functions.mask('my_awesome_secret')")
    assert isinstance(value, Secret)
    assert str(value) == "********"
    assert value.reveal() == "my_awesome_secret"
    number = evaluate("functions.mask(1234)")
    assert number.reveal() == 1234
    assert "1234" in number.sensitive
    assert evaluate("functions.mask(fields.missing)") is UNDEFINED
