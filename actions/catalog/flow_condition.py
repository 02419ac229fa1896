"""`FLOW/BOOLEAN_CONDITION`: If/then/else over Auth0's operators, grouped with AND/OR (DESIGN §6).

Params `{"if": GROUP}`; GROUP is `{"operator": "AND"|"OR", "conditions": [CONDITION or GROUP, …]}` and
CONDITION `{"left": value, "op": OP, "right": value}` (no `right` for unary ops). The `then` and `else`
actions are not params here: they are the condition's nested actions, run by the engine after this
action answers `{"result": true|false}`. Groups short-circuit, so a condition that is not needed is not
evaluated. The comparison semantics are pinned in DESIGN §6 and implemented by `equals` and `compare`.
"""

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from actions.catalog import ActionFailed, ActionResult, ActionType, RunContext, register
from actions.catalog.params import ExpressionParamsForm, JSONParam
from actions.expressions import UNDEFINED, ExpressionError, resolve, reveal, to_text
from actions.functions import kind

BINARY_OPS = (
    "EQUALS",
    "NOT_EQUALS",
    "GREATER_THAN",
    "GREATER_THAN_OR_EQUAL",
    "LESS_THAN",
    "LESS_THAN_OR_EQUAL",
    "INCLUDES",
    "NOT_INCLUDES",
    "STARTS_WITH",
    "ENDS_WITH",
)
UNARY_OPS = ("EXISTS", "NOT_EXISTS", "IS_NULL", "IS_NOT_NULL", "IS_EMPTY", "IS_TRUE", "IS_FALSE")
OPERATORS = ("AND", "OR")
MAX_DEPTH = 10

_NUMERIC = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ].+)?")


class ConditionError(ValueError):
    """Two values an operator cannot work with (e.g. ordering a list)."""


# --- Semantics -----------------------------------------------------------------------------------------


def _number(value: Any) -> Decimal | None:
    """The exact number of a number or a numeric text (whitespace trimmed), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
    if isinstance(value, str) and _NUMERIC.fullmatch(value.strip()):
        return Decimal(value.strip())
    return None


def _instant(value: Any) -> datetime | None:
    """The instant an ISO 8601 date or date-time text names (no offset means UTC), else None."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value.strip()):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def equals(left: Any, right: Any) -> bool:
    """Equal JSON values; a number and a numeric text compare as numbers (`20` equals `"20"`), two texts
    as texts (`"01"` is not `"1"`); lists and objects by contents, with this same equality."""
    if isinstance(left, str) and isinstance(right, str):
        return left == right
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float | str) and isinstance(right, int | float | str):
        a, b = _number(left), _number(right)
        return a is not None and b is not None and a == b
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(equals(x, y) for x, y in zip(left, right, strict=True))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(equals(left[key], right[key]) for key in left)
    return left is right


def compare(left: Any, right: Any) -> int | None:
    """-1, 0 or 1: as numbers when both sides are numbers or numeric texts, else as instants when both
    are ISO 8601 date-times, else as texts. None when a side is undefined or null (no order holds)."""
    if left is UNDEFINED or left is None or right is UNDEFINED or right is None:
        return None
    for value in (left, right):
        if isinstance(value, list | dict):
            raise ConditionError(f"cannot order {kind(value)}")
    for convert in (_number, _instant):
        a, b = convert(left), convert(right)
        if a is not None and b is not None:
            return (a > b) - (a < b)
    a, b = to_text(left), to_text(right)
    return (a > b) - (a < b)


def _text(value: Any, op: str) -> str | None:
    if value is UNDEFINED or value is None:
        return None
    if isinstance(value, list | dict):
        raise ConditionError(f"{op} works on text, got {kind(value)}")
    return to_text(value)


def includes(left: Any, right: Any) -> bool:
    """Substring of text (case-sensitive), membership of a list (with `equals`), key of an object."""
    if isinstance(left, list):
        return any(equals(item, right) for item in left)
    if isinstance(left, dict):
        return isinstance(right, str | int | float) and not isinstance(right, bool) and to_text(right) in left
    text, part = _text(left, "INCLUDES"), _text(right, "INCLUDES")
    return text is not None and part is not None and part in text


def _starts_with(left: Any, right: Any) -> bool:
    text, part = _text(left, "STARTS_WITH"), _text(right, "STARTS_WITH")
    return text is not None and part is not None and text.startswith(part)


def _ends_with(left: Any, right: Any) -> bool:
    text, part = _text(left, "ENDS_WITH"), _text(right, "ENDS_WITH")
    return text is not None and part is not None and text.endswith(part)


def _ordered(test):
    def op(left: Any, right: Any) -> bool:
        order = compare(left, right)
        return order is not None and test(order)

    return op


def _exists(value: Any) -> bool:
    return value is not UNDEFINED and value is not None


def _is_empty(value: Any) -> bool:
    return value is UNDEFINED or value is None or (isinstance(value, str | list | dict) and len(value) == 0)


def _is(flag: bool):
    def op(value: Any) -> bool:
        return value is flag or (isinstance(value, str) and value.lower() == to_text(flag))

    return op


_BINARY = {
    "EQUALS": equals,
    "NOT_EQUALS": lambda left, right: not equals(left, right),
    "GREATER_THAN": _ordered(lambda order: order > 0),
    "GREATER_THAN_OR_EQUAL": _ordered(lambda order: order >= 0),
    "LESS_THAN": _ordered(lambda order: order < 0),
    "LESS_THAN_OR_EQUAL": _ordered(lambda order: order <= 0),
    "INCLUDES": includes,
    "NOT_INCLUDES": lambda left, right: not includes(left, right),
    "STARTS_WITH": _starts_with,
    "ENDS_WITH": _ends_with,
}
_UNARY = {
    "EXISTS": _exists,
    "NOT_EXISTS": lambda value: not _exists(value),
    "IS_NULL": lambda value: not _exists(value),
    "IS_NOT_NULL": _exists,
    "IS_EMPTY": _is_empty,
    "IS_TRUE": _is(True),
    "IS_FALSE": _is(False),
}


def evaluate(group: dict, scope: dict, path: str = "if") -> bool:
    """The truth of a validated group in `scope`. Raises ActionFailed when a value cannot be computed
    or compared; the message names the condition (`if.conditions[1].left`)."""
    items = ((f"{path}.conditions[{index}]", item) for index, item in enumerate(group["conditions"]))
    results = (
        evaluate(item, scope, where) if "conditions" in item else _condition(item, scope, where)
        for where, item in items
    )
    return all(results) if group["operator"] == "AND" else any(results)


def _condition(condition: dict, scope: dict, path: str) -> bool:
    op = condition["op"]
    left = _operand(condition, "left", scope, path)
    try:
        if op in _UNARY:
            return _UNARY[op](left)
        return _BINARY[op](left, _operand(condition, "right", scope, path))
    except ConditionError as error:
        raise ActionFailed("condition_error", f"{path}: {error}.") from None


def _operand(condition: dict, side: str, scope: dict, path: str) -> Any:
    if side not in condition:
        return UNDEFINED
    try:
        # Masked values are compared by what they hold; the result (a boolean) reveals nothing more.
        return reveal(resolve(condition[side], scope))
    except ExpressionError as error:
        raise ActionFailed("expression_error", str(error.with_param(f"{path}.{side}"))) from None


# --- Validation ---------------------------------------------------------------------------------------


def group_errors(group: Any, path: str = "if", depth: int = 1) -> list[str]:
    """What is wrong with the structure of a group, each message naming where."""
    if not isinstance(group, dict):
        return [f'{path}: expected a group {{"operator": "AND" or "OR", "conditions": […]}}.']
    errors = []
    unknown = sorted(set(group) - {"operator", "conditions"})
    if unknown:
        errors.append(f"{path}: unknown key {', '.join(unknown)}.")
    if group.get("operator") not in OPERATORS:
        errors.append(f'{path}.operator: expected "AND" or "OR".')
    conditions = group.get("conditions")
    if not isinstance(conditions, list) or not conditions:
        errors.append(f"{path}.conditions: expected a list of at least one condition or group.")
        return errors
    if depth >= MAX_DEPTH and any(isinstance(item, dict) and "conditions" in item for item in conditions):
        errors.append(f"{path}: groups are nested more than {MAX_DEPTH} deep.")
        return errors
    for index, item in enumerate(conditions):
        where = f"{path}.conditions[{index}]"
        if isinstance(item, dict) and "conditions" in item:
            errors.extend(group_errors(item, where, depth + 1))
        else:
            errors.extend(_condition_errors(item, where))
    return errors


def _condition_errors(condition: Any, path: str) -> list[str]:
    if not isinstance(condition, dict):
        return [f'{path}: expected a condition {{"left": …, "op": …, "right": …}} or a group.']
    op = condition.get("op")
    if op not in _BINARY and op not in _UNARY:
        return [f"{path}.op: expected one of {', '.join(BINARY_OPS + UNARY_OPS)}."]
    errors = []
    allowed = {"left", "op"} if op in _UNARY else {"left", "op", "right"}
    unknown = sorted(set(condition) - allowed)
    if unknown:
        errors.append(f"{path}: unknown key {', '.join(unknown)} for {op}.")
    if "left" not in condition:
        errors.append(f"{path}.left: required.")
    if op in _BINARY and "right" not in condition:
        errors.append(f"{path}.right: required for {op}.")
    return errors


class ConditionGroupField(JSONParam):
    def validate(self, value: Any) -> None:
        super().validate(value)
        errors = group_errors(value)
        if errors:
            raise ValidationError(errors)


class ConditionForm(ExpressionParamsForm):
    pass


# "if" is a Python keyword, so the field cannot be declared as a class attribute.
ConditionForm.base_fields["if"] = ConditionGroupField(
    label="If",
    help_text='{"operator": "AND" or "OR", "conditions": [{"left": …, "op": "EQUALS", "right": …}, …]}',
)


def run(params: dict, ctx: RunContext) -> ActionResult:
    return ActionResult({"result": evaluate(params["if"], ctx.scope)})


register(
    ActionType(
        type="FLOW",
        action="BOOLEAN_CONDITION",
        label="If/then",
        icon="split",
        description="Run the “then” or the “else” actions depending on conditions, then continue.",
        form_class=ConditionForm,
        run=run,
        output_keys=("result",),
    )
)
