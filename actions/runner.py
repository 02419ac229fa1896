"""Running one action: its params through the catalog, with `allow_failure` and `mask_output` applied.

Params go to the action type as stored; the type resolves their expressions against the scope, since
how a value is substituted depends on where it goes (a URL, a header, a JSON body…).
"""

import json
from dataclasses import dataclass
from typing import Any

from actions import catalog
from actions.catalog import ActionFailed, RunContext
from actions.expressions import ExpressionError
from actions.models import Action
from actions.views.canvas import action_problems

INPUT_KEYS = ("fields", "vars", "context", "actions")
MASKED = "masked"


@dataclass(frozen=True)
class ActionRun:
    """One run of one action. `output` is what later actions read as `actions.<id>`."""

    output: Any
    meta: dict
    error: ActionFailed | None = None
    failure_allowed: bool = False  # it failed, and `allow_failure` made the error its output
    mask_output: bool = False

    @property
    def failed(self) -> bool:
        """The run must stop: the action failed and does not allow failure."""
        return self.error is not None and not self.failure_allowed

    @property
    def recorded_output(self) -> Any:
        """The output as executions store it."""
        return MASKED if self.mask_output and self.output is not None else self.output


def run_action(action: Action, scope: dict) -> ActionRun:
    """Run `action` (saved or not) with `scope` = {fields, vars, actions, context}."""
    action_type = catalog.get(action.type, action.action)
    try:
        if action_type is None:
            raise ActionFailed(
                "unsupported_action", f'The action type "{action.type}/{action.action}" is not supported.'
            )
        try:
            result = action_type.run(
                action.params or {}, RunContext(scope=scope, secret_params=action.secret_params)
            )
        except ExpressionError as error:
            raise ActionFailed("invalid_request", str(error)) from None
        except ActionFailed:
            raise
        except Exception:
            # Only now, off the hot path: params that never passed the form (an action added with "+" and
            # not configured) fail the action; valid ones mean a bug, which the engine records as such.
            if problems := action_problems(action):
                raise ActionFailed(
                    "invalid_params",
                    f'{action_type.label} "{action.action_id}" is not configured: {" ".join(problems)}',
                ) from None
            raise
    except ActionFailed as error:
        if action.allow_failure:
            output = error.output if error.output is not None else {"error": error.as_dict()}
            return ActionRun(output, error.meta, error, failure_allowed=True, mask_output=action.mask_output)
        return ActionRun(output=None, meta=error.meta, error=error, mask_output=action.mask_output)
    return ActionRun(output=result.output, meta=result.meta, mask_output=action.mask_output)


def parse_input(text: str) -> dict:
    """`--input` JSON (and the editor's Test input) → an expression scope; ValueError saying why not."""
    if not text.strip():
        return scope_from({})
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"The input is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})."
        ) from None
    return scope_from(data)


def scope_from(data: Any) -> dict:
    if not isinstance(data, dict):
        raise ValueError('The input must be a JSON object, e.g. {"fields": {"email": "a@example.com"}}.')
    if unknown := sorted(set(data) - set(INPUT_KEYS)):
        raise ValueError(f"Unknown input key {', '.join(unknown)}: expected {', '.join(INPUT_KEYS)}.")
    for key in INPUT_KEYS:
        if not isinstance(data.get(key, {}), dict):
            raise ValueError(f'The input\'s "{key}" must be a JSON object.')
    return {key: data.get(key, {}) for key in INPUT_KEYS}
