"""FLOW/BOOLEAN_CONDITION: every operator with the semantics pinned in DESIGN §6, groups, errors, form."""

import pytest

from actions import catalog
from actions.catalog import ActionFailed, RunContext
from tests.engine.builders import condition

CONDITION = catalog.get("FLOW", "BOOLEAN_CONDITION")
UNDEFINED_REF = "{{fields.missing}}"


def scope(**fields) -> dict:
    return {"fields": fields, "vars": {}, "actions": {}, "context": {}}


def holds(left, op: str, right=None, **fields) -> bool:
    group = {"operator": "AND", "conditions": [condition(left, op, right)]}
    return CONDITION.run({"if": group}, RunContext(scope(**fields))).output["result"]


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        (20, "20", True),
        ("20", 20, True),
        (" 20 ", 20, True),
        (20, 20.0, True),
        ("2e1", 20, True),
        ("01", "1", False),
        ("20", "20", True),
        ("abc", "ABC", False),
        (True, "true", False),
        (True, True, True),
        (1, True, False),
        (None, None, True),
        (None, "", False),
        ([1, "2"], [1, 2], True),
        ({"a": 1}, {"a": "1"}, True),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        (12345678901234567890, "12345678901234567890", True),
        (0.1, "0.1", True),
    ],
)
def test_equals_compares_json_values_and_numbers_with_numeric_text(left, right, expected):
    assert holds("{{fields.l}}", "EQUALS", "{{fields.r}}", l=left, r=right) is expected
    assert holds("{{fields.l}}", "NOT_EQUALS", "{{fields.r}}", l=left, r=right) is not expected


def test_equals_with_undefined():
    assert holds(UNDEFINED_REF, "EQUALS", "{{fields.other}}") is True
    assert holds(UNDEFINED_REF, "EQUALS", "") is False
    assert holds(UNDEFINED_REF, "EQUALS", "{{fields.n}}", n=None) is False
    assert holds(UNDEFINED_REF, "NOT_EQUALS", "x") is True


@pytest.mark.parametrize(
    ("left", "right", "greater"),
    [
        ("10", "9", True),  # numeric text compares as numbers, not as text
        (10, "9", True),
        ("9", 10, False),
        ("-1.5", "-2", True),
        ("2024-01-01T10:00:00+02:00", "2024-01-01T09:00:00Z", False),  # 08:00Z is before 09:00Z
        ("2024-01-01T10:00:00+02:00", "2024-01-01T07:59:59Z", True),
        ("2024-01-01T10:00:00", "2024-01-01T10:00:00-01:00", False),  # no offset means UTC
        ("2024-03-01", "2024-02-29T23:59:59Z", True),
        ("b", "a", True),
        ("B", "a", False),  # as text: code point order
        ("abc", "abd", False),
        ("10", "9x", False),  # "9x" is not a number: as text, "1" < "9"
    ],
)
def test_ordering_is_numeric_then_by_instant_then_textual(left, right, greater):
    assert holds("{{fields.l}}", "GREATER_THAN", "{{fields.r}}", l=left, r=right) is greater
    assert holds("{{fields.l}}", "LESS_THAN_OR_EQUAL", "{{fields.r}}", l=left, r=right) is not greater


def test_ordering_with_equal_values_and_equal_instants():
    same_instant = {"l": "2024-01-01T10:00:00+02:00", "r": "2024-01-01T08:00:00Z"}
    for values in ({"l": "5", "r": 5.0}, same_instant, {"l": "x", "r": "x"}):
        assert holds("{{fields.l}}", "GREATER_THAN_OR_EQUAL", "{{fields.r}}", **values) is True
        assert holds("{{fields.l}}", "LESS_THAN_OR_EQUAL", "{{fields.r}}", **values) is True
        assert holds("{{fields.l}}", "GREATER_THAN", "{{fields.r}}", **values) is False
        assert holds("{{fields.l}}", "LESS_THAN", "{{fields.r}}", **values) is False


def test_ordering_with_a_missing_side_is_false_and_with_a_container_an_error():
    for op in ("GREATER_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL"):
        assert holds(UNDEFINED_REF, op, 1) is False
        assert holds("{{fields.n}}", op, 1, n=None) is False
    with pytest.raises(ActionFailed) as failed:
        holds("{{fields.l}}", "GREATER_THAN", 1, l=[2])
    assert failed.value.code == "condition_error"
    assert "if.conditions[0]" in failed.value.message and "a list" in failed.value.message


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("hello world", "lo w", True),
        ("hello", "Hello", False),  # case-sensitive
        ("v12345", 234, True),
        (["a", "b"], "b", True),
        ([1, 2], "2", True),  # membership with EQUALS equality
        (["01"], "1", False),
        ([{"a": 1}], {"a": "1"}, True),
        ([None], None, True),
        ({"admin": False}, "admin", True),  # key presence, whatever the value
        ({"admin": True}, "root", False),
        ({"1": "x"}, 1, True),
    ],
)
def test_includes_is_substring_membership_or_key_presence(left, right, expected):
    assert holds("{{fields.l}}", "INCLUDES", "{{fields.r}}", l=left, r=right) is expected
    assert holds("{{fields.l}}", "NOT_INCLUDES", "{{fields.r}}", l=left, r=right) is not expected


def test_includes_on_missing_values():
    assert holds(UNDEFINED_REF, "INCLUDES", "a") is False
    assert holds(UNDEFINED_REF, "NOT_INCLUDES", "a") is True
    assert holds("abc", "INCLUDES", UNDEFINED_REF) is False
    with pytest.raises(ActionFailed):
        holds("abc", "INCLUDES", "{{fields.r}}", r=["a"])


def test_starts_and_ends_with_are_case_sensitive_on_text():
    assert holds("Hello", "STARTS_WITH", "He") is True
    assert holds("Hello", "STARTS_WITH", "he") is False
    assert holds("Hello", "ENDS_WITH", "llo") is True
    assert holds("Hello", "ENDS_WITH", "LLO") is False
    assert holds("{{fields.n}}", "STARTS_WITH", "12", n=1234) is True
    assert holds(UNDEFINED_REF, "STARTS_WITH", "") is False
    with pytest.raises(ActionFailed):
        holds("{{fields.l}}", "ENDS_WITH", "x", l={"x": 1})


MISSING_AND_EMPTY = {
    "undefined": UNDEFINED_REF,
    "null": None,
    "empty text": "",
    "empty list": [],
    "empty object": {},
    "zero": 0,
    "false": False,
    "space": " ",
    "text": "x",
    "list": [0],
}


@pytest.mark.parametrize(
    ("op", "true_for"),
    [
        ("EXISTS", {"empty text", "empty list", "empty object", "zero", "false", "space", "text", "list"}),
        ("NOT_EXISTS", {"undefined", "null"}),
        ("IS_NULL", {"undefined", "null"}),
        (
            "IS_NOT_NULL",
            {"empty text", "empty list", "empty object", "zero", "false", "space", "text", "list"},
        ),
        ("IS_EMPTY", {"undefined", "null", "empty text", "empty list", "empty object"}),
        ("IS_TRUE", set()),
        ("IS_FALSE", {"false"}),
    ],
)
def test_unary_operators_on_missing_and_empty_values(op, true_for):
    for name, value in MISSING_AND_EMPTY.items():
        left = value if value == UNDEFINED_REF else "{{fields.v}}"
        assert holds(left, op, v=value) is (name in true_for), name


def test_is_true_and_is_false_read_booleans_and_their_text_in_any_case():
    for value in (True, "true", "TRUE", "True"):
        assert holds("{{fields.v}}", "IS_TRUE", v=value) is True
        assert holds("{{fields.v}}", "IS_FALSE", v=value) is False
    for value in (False, "false", "False"):
        assert holds("{{fields.v}}", "IS_FALSE", v=value) is True
    for value in (1, "yes", "1", " true", UNDEFINED_REF):
        assert holds("{{fields.v}}" if value != UNDEFINED_REF else value, "IS_TRUE", v=value) is False


def group(operator: str, *conditions) -> dict:
    return {"operator": operator, "conditions": list(conditions)}


def test_and_or_groups_nest():
    yes, no = condition(1, "EQUALS", 1), condition(1, "EQUALS", 2)

    def result(tree: dict) -> bool:
        return CONDITION.run({"if": tree}, RunContext(scope())).output["result"]

    assert result(group("AND", yes, yes)) is True
    assert result(group("AND", yes, no)) is False
    assert result(group("OR", no, yes)) is True
    assert result(group("OR", no, no)) is False
    assert result(group("AND", yes, group("OR", no, group("AND", yes, yes)))) is True
    assert result(group("OR", no, group("AND", yes, group("OR", no, no)))) is False


def test_groups_short_circuit_so_a_condition_that_is_not_needed_is_not_evaluated():
    broken = condition("{{functions.toUpperCase(fields.list)}}", "EXISTS")
    context = RunContext(scope(list=[1]))

    assert CONDITION.run({"if": group("OR", condition(1, "EQUALS", 1), broken)}, context).output == {
        "result": True
    }
    assert CONDITION.run({"if": group("AND", condition(1, "EQUALS", 2), broken)}, context).output == {
        "result": False
    }
    with pytest.raises(ActionFailed) as failed:
        CONDITION.run({"if": group("AND", condition(1, "EQUALS", 1), broken)}, context)
    assert failed.value.code == "expression_error"
    assert failed.value.message.startswith("if.conditions[1].left: functions.toUpperCase")


def test_masked_values_are_compared_by_what_they_hold():
    assert holds("{{functions.mask(fields.token)}}", "EQUALS", "abc", token="abc") is True
    assert holds("{{functions.mask(fields.token)}}", "STARTS_WITH", "a", token="abc") is True


# --- The params form -----------------------------------------------------------------------------------


def form(params: dict):
    form_class = CONDITION.form_class
    return form_class(form_class.data_from_params(params))


def test_form_accepts_a_valid_group_and_stores_it():
    tree = group(
        "AND", condition("{{fields.a}}", "EQUALS", 1), group("OR", condition("{{vars.x}}", "IS_EMPTY"))
    )
    valid = form({"if": tree})

    assert valid.is_valid(), valid.errors
    assert valid.params == {"if": tree}


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ({"operator": "XOR", "conditions": [condition(1, "EXISTS")]}, 'if.operator: expected "AND" or "OR"'),
        ({"operator": "AND", "conditions": []}, "if.conditions: expected a list of at least one"),
        (group("AND", condition(1, "LIKE", 2)), "if.conditions[0].op: expected one of"),
        (group("AND", {"op": "EQUALS", "right": 1}), "if.conditions[0].left: required"),
        (group("AND", condition(1, "EQUALS")), "if.conditions[0].right: required for EQUALS"),
        (group("AND", {"left": 1, "op": "EXISTS", "right": 2}), "unknown key right for EXISTS"),
        (group("AND", group("OR", "x")), "if.conditions[0].conditions[0]: expected a condition"),
        ([condition(1, "EXISTS")], "if: expected a group"),
    ],
)
def test_form_reports_structure_errors_naming_where(tree, message):
    invalid = form({"if": tree})

    assert not invalid.is_valid()
    assert any(message in error for error in invalid.errors["if"]), invalid.errors


def test_form_reports_expression_errors_with_param_and_position():
    invalid = form(
        {"if": group("AND", condition(1, "EQUALS", 1), condition("{{functions.nope(1)}}", "EXISTS"))}
    )

    assert not invalid.is_valid()
    (message,) = invalid.errors["if"]
    assert message.startswith("if.conditions[1].left: ")
    assert "functions.nope" in message and "at position 2" in message


def test_form_requires_the_group_and_reads_json_text():
    assert not form({}).is_valid()
    typed = CONDITION.form_class({"if": '{"operator": "OR", "conditions": [{"left": 1, "op": "IS_TRUE"}]}'})
    assert typed.is_valid(), typed.errors
    broken = CONDITION.form_class({"if": '{"operator": "OR",'})
    assert not broken.is_valid()
    assert "Invalid JSON" in broken.errors["if"][0]


def test_form_warns_about_references_to_actions_that_have_not_run():
    tree = group("AND", condition("{{actions.later.status}}", "EQUALS", 200))
    form_class = CONDITION.form_class
    checked = form_class(form_class.data_from_params({"if": tree}), earlier_ids=frozenset({"first"}))

    assert checked.is_valid()
    assert "actions.later" in checked.warnings["if"][0]
