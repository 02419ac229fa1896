"""What an action can read at its place in a flow, for the editor: the actions that run before it, the
scope of the flow's last run (so Test can reuse earlier outputs), the references offered when `{{` is
typed, and the other actions that read an action's output (to rename its id).
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from actions import catalog
from actions.expressions import rename_action
from actions.functions import FUNCTIONS
from actions.models import Action, ActionRun, Execution, Flow, Status
from actions.runner import MASKED

STORE_VARS = "FLOW/STORE_VARS"
CONTEXT_KEYS = ("flow_id", "flow_name", "execution_id", "trigger", "time")
# A key that may follow a dot in an expression (the expression engine's rule); others are quoted.
_DOT_KEY = re.compile(r"[\w$][\w$-]*")
# Suggestions are a list to pick from, not a dump of every output: bounded in depth and number.
MAX_DEPTH = 4
MAX_PATHS_PER_VALUE = 60


def earlier_actions(flow: Flow, action: Action | None) -> list[Action]:
    """The actions that run before `action`, in run order, with one query (a new action runs last).

    An action in an If/then branch sees what runs before the If/then, the If/then itself, and what
    comes earlier in its own branch, not the other branch; an action after an If/then sees both
    branches (the one that did not run is undefined, not an error).
    """
    children: dict[tuple[int | None, str], list[Action]] = {}
    for each in flow.actions.order_by("position", "pk"):
        children.setdefault((each.parent_id, each.branch), []).append(each)

    def walk(parent_id: int | None, branch: str, ordered: list[Action]) -> list[Action]:
        for item in children.get((parent_id, branch), []):
            ordered.append(item)
            walk(item.pk, "then", ordered)
            walk(item.pk, "else", ordered)
        return ordered

    def before(parent_id: int | None, branch: str) -> list[Action] | None:
        """What runs before `action` when it is somewhere in this list, else None."""
        seen: list[Action] = []
        for item in children.get((parent_id, branch), []):
            if item.pk == action.pk:
                return seen
            for nested_branch in ("then", "else"):
                inside = before(item.pk, nested_branch)
                if inside is not None:
                    return [*seen, item, *inside]
            seen.append(item)
            walk(item.pk, "then", seen)
            walk(item.pk, "else", seen)
        return None

    if action is None:
        return walk(None, "", [])
    return before(None, "") or []


@dataclass
class LastRun:
    """The flow's latest finished execution and its action runs (two queries)."""

    execution: Execution
    runs: dict[str, ActionRun] = field(default_factory=dict)

    @classmethod
    def of(cls, flow: Flow) -> "LastRun | None":
        execution = (
            Execution.objects.filter(flow=flow, status__in=[Status.COMPLETED, Status.FAILED])
            .select_related("flow")
            .order_by("-created")
            .first()
        )
        if execution is None:
            return None
        return cls(execution, {run.action_id: run for run in execution.action_runs.order_by("position")})

    def scope(self, earlier: list[Action]) -> "LastRunScope":
        """The scope an action saw in this run: its fields and context, the outputs of the earlier
        actions, and `vars` as the earlier Store variables left them (the variables a run was started
        with are not recorded, so they are not part of it)."""
        execution = self.execution
        outputs: dict[str, Any] = {}
        variables: dict[str, Any] = {}
        masked, not_run = [], []
        for action in earlier:
            run = self.runs.get(action.action_id)
            if run is None:
                not_run.append(action.action_id)
            elif run.output == MASKED:
                masked.append(action.action_id)
            else:
                outputs[action.action_id] = run.output
        stores = [
            run
            for run in self.runs.values()
            if run.kind == STORE_VARS and run.action_id in outputs and run.status == Status.COMPLETED
        ]
        for run in stores:
            if isinstance(run.output, dict):
                variables.update(run.output)
        context = {
            "flow_id": str(execution.flow_id),
            "flow_name": execution.flow.name,
            "execution_id": str(execution.id),
            "trigger": execution.trigger,
            "time": _iso(execution.started or execution.created),
        }
        scope = {
            "fields": execution.fields if isinstance(execution.fields, dict) else {},
            "vars": variables,
            "actions": outputs,
            "context": context,
        }
        return LastRunScope(execution=execution, scope=scope, masked=masked, not_run=not_run)


def _iso(moment: datetime) -> str:
    """As the engine writes `context.time`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class LastRunScope:
    execution: Execution
    scope: dict
    masked: list[str]  # earlier actions whose output the execution records as "masked"
    not_run: list[str]  # earlier actions that did not run in it (another branch, or it stopped before)


# --- Suggestions for `{{` ---------------------------------------------------------------------------------


def suggestions(earlier: list[Action], last_run: LastRun | None) -> list[dict[str, str]]:
    """Every reference an action can use at its place, as `{"path", "kind"}` for the editor's list."""
    found: dict[str, str] = {}

    def add(paths: list[str], kind: str) -> None:
        for path in paths:
            found.setdefault(path, kind)

    scope = last_run.scope(earlier).scope if last_run else {"fields": {}, "vars": {}, "actions": {}}
    add(value_paths("fields", scope["fields"]), "input field")
    for action in earlier:
        if action.kind == STORE_VARS and isinstance((action.params or {}).get("vars"), dict):
            add([f"vars{_step(name)}" for name in action.params["vars"]], f"stored by {action.action_id}")
    add(value_paths("vars", scope["vars"]), "variable")
    for action in earlier:
        base = f"actions{_step(action.action_id)}"
        label = action.alias or action.action_id
        found.setdefault(base, f"output of {label}")
        if action.action_id in scope["actions"]:
            add(value_paths(base, scope["actions"][action.action_id]), f"{label}, last run")
        else:
            action_type = catalog.get(action.type, action.action)
            keys = action_type.output_keys if action_type else ()
            add([f"{base}{_step(key)}" for key in keys], f"output of {label}")
    add([f"context.{key}" for key in CONTEXT_KEYS], "run context")
    add([f"functions.{name}(" for name in FUNCTIONS], "function")
    return [{"path": path, "kind": kind} for path, kind in found.items()]


def value_paths(prefix: str, value: Any) -> list[str]:
    """The paths into a JSON value (`prefix.a`, `prefix.a.b`, `prefix.list[0]`…), bounded."""
    paths: list[str] = []
    _collect(prefix, value, MAX_DEPTH, paths)
    return paths


def _collect(prefix: str, value: Any, depth: int, paths: list[str]) -> None:
    if depth == 0:
        return
    if isinstance(value, dict):
        steps = [(_step(key), item) for key, item in value.items()]
    elif isinstance(value, list) and value:
        steps = [("[0]", value[0])]
    else:
        return
    for step, item in steps:
        if len(paths) >= MAX_PATHS_PER_VALUE:
            return
        paths.append(prefix + step)
        _collect(prefix + step, item, depth - 1, paths)


def _step(key: Any) -> str:
    key = str(key)
    if _DOT_KEY.fullmatch(key):
        return f".{key}"
    return '["' + key.replace("\\", "\\\\").replace('"', '\\"') + '"]'


# --- Renaming an action id ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """Another action of the flow whose params read `actions.<old id>`, and those params renamed."""

    action: Action
    count: int
    renamed_params: dict


def references_to(flow: Flow, renamed: Action, new_id: str) -> list[Reference]:
    """The other actions of the flow whose expressions read `renamed`'s output by its stored id."""
    found = []
    for other in flow.actions.exclude(pk=renamed.pk).order_by("position", "pk"):
        params, count = rename_action(other.params or {}, renamed.action_id, new_id)
        if count:
            found.append(Reference(other, count, params))
    return found
