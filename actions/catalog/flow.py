"""The `FLOW/*` actions besides If/then: Store variables, Error message, Map value, Return JSON, Delay,
Do nothing (DESIGN §6).

How a flow reacts to them is the engine's business (`actions.engine`): Error message ends the run as
failed with its message, Return JSON ends it with its payload as the flow's output. Here each one only
computes its output from its params.
"""

import time
from typing import Any

from django import forms
from django.conf import settings

from actions.catalog import ActionFailed, ActionResult, ActionType, RunContext, register
from actions.catalog.flow_condition import equals
from actions.catalog.params import ExpressionParamsForm, JSONParam
from actions.expressions import UNDEFINED, ExpressionError, resolve, reveal, to_text

DEFAULT_MAX_INLINE_DELAY = 10.0
UNIT_SECONDS = {"SECONDS": 1, "MINUTES": 60, "HOURS": 3600, "DAYS": 86400}


def resolved(value: Any, scope: dict, param: str) -> Any:
    """`value` with its expressions resolved; an expression error fails the action, naming the param."""
    try:
        return resolve(value, scope)
    except ExpressionError as error:
        raise ActionFailed("expression_error", str(error.with_param(_path(param, error.param)))) from None


def _path(param: str, inner: str | None) -> str:
    if not inner:
        return param
    return f"{param}{inner}" if inner.startswith("[") else f"{param}.{inner}"


def copy_value(value: Any) -> Any:
    """A copy of the containers (values such as masked Secrets are immutable and shared)."""
    if isinstance(value, dict):
        return {key: copy_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_value(item) for item in value]
    return value


# --- Store variables -----------------------------------------------------------------------------------


class StoreVarsForm(ExpressionParamsForm):
    vars = JSONParam(
        types=(dict,),
        type_name="an object of variables",
        help_text='Names and values: {"plan": "{{actions.get_user.body.plan}}", "count": 1}. '
        "Later actions read them as {{vars.plan}}.",
    )


def run_store_vars(params: dict, ctx: RunContext) -> ActionResult:
    values = resolved(params["vars"], ctx.scope, "vars")
    # The scope and the output each get their own copy: nothing done later to one changes the other.
    ctx.scope.setdefault("vars", {}).update(copy_value(values))
    return ActionResult(values)


register(
    ActionType(
        type="FLOW",
        action="STORE_VARS",
        label="Store variables",
        icon="box",
        description="Keep values in vars.* for the rest of the run.",
        form_class=StoreVarsForm,
        run=run_store_vars,
    )
)


# --- Error message -------------------------------------------------------------------------------------


class ErrorMessageForm(ExpressionParamsForm):
    message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="Ends the run as failed with this message."
    )


def run_error_message(params: dict, ctx: RunContext) -> ActionResult:
    # to_text shows a masked value as its mask, so the message can be recorded as is.
    return ActionResult({"message": to_text(resolved(params["message"], ctx.scope, "message"))})


register(
    ActionType(
        type="FLOW",
        action="ERROR_MESSAGE",
        label="Error message",
        icon="alert",
        description="Stop the run as failed, with a message.",
        form_class=ErrorMessageForm,
        run=run_error_message,
    )
)


# --- Map value -----------------------------------------------------------------------------------------


class MapValueForm(ExpressionParamsForm):
    input = forms.CharField(help_text="The value to map, e.g. {{fields.country}}.")
    cases = JSONParam(
        types=(dict,),
        type_name="an object of cases",
        help_text='Match → result: {"FR": "France", "200": "ok"}. Numbers match numeric text ("200" = 200).',
    )
    fallback = forms.CharField(required=False, help_text="The result when no case matches (optional).")


def run_map_value(params: dict, ctx: RunContext) -> ActionResult:
    value = reveal(resolved(params["input"], ctx.scope, "input"))
    for match, result in params["cases"].items():
        if equals(value, match):
            return _map_result(resolved(result, ctx.scope, f"cases.{match}"))
    if "fallback" in params:
        return _map_result(resolved(params["fallback"], ctx.scope, "fallback"))
    return ActionResult({})


def _map_result(value: Any) -> ActionResult:
    return ActionResult({} if value is UNDEFINED else {"result": value})


register(
    ActionType(
        type="FLOW",
        action="MAP_VALUE",
        label="Map value",
        icon="shuffle",
        description="Turn a value into another by a table of cases, with a fallback.",
        form_class=MapValueForm,
        run=run_map_value,
        output_keys=("result",),
    )
)


# --- Return JSON ---------------------------------------------------------------------------------------


class ReturnJSONForm(ExpressionParamsForm):
    payload = JSONParam(help_text='Ends the run with this as its output: {"id": "{{vars.id}}"}.')


def run_return_json(params: dict, ctx: RunContext) -> ActionResult:
    payload = resolved(params["payload"], ctx.scope, "payload")
    return ActionResult(None if payload is UNDEFINED else payload)


register(
    ActionType(
        type="FLOW",
        action="RETURN_JSON",
        label="Return JSON",
        icon="reply",
        description="End the run with a JSON output.",
        form_class=ReturnJSONForm,
        run=run_return_json,
    )
)


# --- Delay ---------------------------------------------------------------------------------------------


def max_inline_delay() -> float:
    """Seconds a run may wait in-process: longer delays would hold a web worker, so they fail instead."""
    return float(getattr(settings, "FLOWS_MAX_INLINE_DELAY", DEFAULT_MAX_INLINE_DELAY))


class DelayForm(ExpressionParamsForm):
    number = forms.FloatField(min_value=0)
    units = forms.ChoiceField(choices=[(unit, unit.capitalize()) for unit in UNIT_SECONDS], initial="SECONDS")

    def clean(self) -> dict:
        cleaned = super().clean()
        number, units = cleaned.get("number"), cleaned.get("units")
        # Saved anyway (the limit is a server setting that may change), but the run would fail here.
        limit = max_inline_delay()
        if number is not None and units in UNIT_SECONDS and number * UNIT_SECONDS[units] > limit:
            self.warnings.setdefault("number", []).append(
                f"Runs fail on delays over {limit:g} s: FLOWS_MAX_INLINE_DELAY."
            )
        return cleaned

    def to_params(self) -> dict:
        number = self.cleaned_data["number"]
        return {"number": int(number) if number.is_integer() else number, "units": self.cleaned_data["units"]}


def run_delay(params: dict, ctx: RunContext) -> ActionResult:
    seconds = float(params["number"]) * UNIT_SECONDS[params.get("units") or "SECONDS"]
    limit = max_inline_delay()
    if seconds > limit:
        raise ActionFailed(
            "delay_too_long",
            f"A delay of {seconds:g} s is longer than this server waits inside a run "
            f"(FLOWS_MAX_INLINE_DELAY = {limit:g} s).",
        )
    time.sleep(seconds)
    return ActionResult({"seconds": seconds})


register(
    ActionType(
        type="FLOW",
        action="DELAY_FLOW",
        label="Delay",
        icon="clock",
        description="Wait before the next action.",
        form_class=DelayForm,
        run=run_delay,
    )
)


# --- Do nothing ----------------------------------------------------------------------------------------


class DoNothingForm(ExpressionParamsForm):
    pass


def run_do_nothing(params: dict, ctx: RunContext) -> ActionResult:
    return ActionResult({})


register(
    ActionType(
        type="FLOW",
        action="DO_NOTHING",
        label="Do nothing",
        icon="dot",
        description="A placeholder that does nothing (e.g. an empty branch).",
        form_class=DoNothingForm,
        run=run_do_nothing,
    )
)
