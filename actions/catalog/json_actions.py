"""The `JSON/*` actions: Create JSON `{object}` → `{result}`, Parse JSON `{json}` → `{object}`,
Serialize JSON `{object}` → `{json}` (DESIGN §6).

A masked value (`functions.mask`) stays masked through them: parsing or serializing it gives a masked
result, usable by later actions and shown as `********` in executions.
"""

import json
from typing import Any

from django import forms

from actions.catalog import ActionFailed, ActionResult, ActionType, RunContext, register
from actions.catalog.flow import resolved
from actions.catalog.params import ExpressionParamsForm, JSONParam, parse_json
from actions.expressions import UNDEFINED, reveal
from actions.functions import find_secrets, kind, masked
from vault.secrets import Secret


def _masked_like(value: Any, source: Any) -> Any:
    """`value` computed from `source`: masked when `source` held a masked value."""
    secrets = find_secrets(source, [])
    return masked(value, secrets) if secrets else value


# --- Create JSON ---------------------------------------------------------------------------------------


class CreateJSONForm(ExpressionParamsForm):
    object = JSONParam(
        types=(dict,),
        type_name="an object",
        help_text='The object to build; strings may hold expressions: {"email": "{{fields.email}}"}. '
        "A string that is exactly one expression keeps the value's type.",
    )


def run_create_json(params: dict, ctx: RunContext) -> ActionResult:
    return ActionResult({"result": resolved(params["object"], ctx.scope, "object")})


register(
    ActionType(
        type="JSON",
        action="CREATE_JSON",
        label="Create JSON",
        icon="braces",
        description="Build an object from values and expressions.",
        form_class=CreateJSONForm,
        run=run_create_json,
        output_keys=("result",),
    )
)


# --- Parse JSON ----------------------------------------------------------------------------------------


class ParseJSONForm(ExpressionParamsForm):
    json = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "class": "code"}),
        help_text="JSON text to read, e.g. {{actions.get_user.body}} when an API answers JSON as text.",
    )


def run_parse_json(params: dict, ctx: RunContext) -> ActionResult:
    source = resolved(params["json"], ctx.scope, "json")
    text = reveal(source)
    if not isinstance(text, str):
        raise ActionFailed(
            "invalid_json", f"json: expected JSON text, got {kind(text)} (a value that is already parsed)."
        )
    try:
        value = parse_json(text.removeprefix("\ufeff"))
    except ValueError as error:
        raise ActionFailed("invalid_json", f"json: not valid JSON: {error}.") from None
    return ActionResult({"object": _masked_like(value, source)})


register(
    ActionType(
        type="JSON",
        action="PARSE_JSON",
        label="Parse JSON",
        icon="braces",
        description="Read JSON text into a value.",
        form_class=ParseJSONForm,
        run=run_parse_json,
        output_keys=("object",),
    )
)


# --- Serialize JSON ------------------------------------------------------------------------------------


class SerializeJSONForm(ExpressionParamsForm):
    object = JSONParam(
        help_text='The value to write as JSON text, e.g. "{{actions.get_user.body}}" or {"a": 1}.',
    )


def run_serialize_json(params: dict, ctx: RunContext) -> ActionResult:
    source = resolved(params["object"], ctx.scope, "object")
    if source is UNDEFINED:
        return ActionResult({})
    # Compact, non-ASCII kept: the text JavaScript's JSON.stringify gives.
    text = json.dumps(reveal(source), ensure_ascii=False, separators=(",", ":"))
    result: str | Secret = _masked_like(text, source)
    return ActionResult({"json": result})


register(
    ActionType(
        type="JSON",
        action="SERIALIZE_JSON",
        label="Serialize JSON",
        icon="braces",
        description="Write a value as JSON text.",
        form_class=SerializeJSONForm,
        run=run_serialize_json,
        output_keys=("json",),
    )
)
