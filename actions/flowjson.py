"""Flow JSON: import and export in the shape of Auth0's Management API (DESIGN §7).

    {"name": "…", "actions": [{"id", "alias", "type", "action", "allow_failure", "mask_output",
                               "params"}, …]}

An If/then (`FLOW/BOOLEAN_CONDITION`) holds its branches in its params, `"then": [actions]` and
`"else": [actions]`; here they are the condition's nested actions. A file holds one flow or a list.

Export writes a vault connection by its name and never a secret (the inline basic-auth password is left
out). Whatever the app lets you save imports: only a structurally broken file is refused (every problem
reported with the flow and action it concerns). Each action goes through its params form, exactly as the
editor would validate it; params the form refuses (an action added and not configured, a connection
deleted since the export, a password the export left out) are imported as written, with a warning, and
the canvas shows their problem; `connection_id` may name a connection by id or by name. An action of a
type the catalog does not know is kept as written too, and fails the run if reached.
A flow whose name exists, whatever its case, is updated (a new version of the same flow, its executions
kept): actions are matched by their id and updated in place, so their URLs and Test history survive.
"""

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from actions import catalog
from actions.catalog.flow import copy_value
from actions.models import Action, Branch, Flow
from vault.models import Connection
from vault.secrets import Secret

CONDITION = ("FLOW", "BOOLEAN_CONDITION")
BRANCHES = (Branch.THEN, Branch.ELSE)
MAX_NESTING = 20


class FlowImportError(ValueError):
    """The file cannot be imported; `problems` says everything that is wrong with it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# --- Export --------------------------------------------------------------------------------------------


def export_flow(flow: Flow) -> dict:
    """The flow as Auth0 flow JSON (one query for the actions, one for the connection names)."""
    children: dict[tuple[int | None, str], list[Action]] = {}
    actions = list(flow.actions.order_by("position", "pk"))
    for action in actions:
        children.setdefault((action.parent_id, action.branch), []).append(action)
    names = _connection_names(action.params.get("connection_id") for action in actions)

    def envelope(action: Action) -> dict:
        params = copy_value(action.params or {})
        if ref := params.get("connection_id"):
            params["connection_id"] = names.get(str(ref), ref)
        if isinstance(params.get("basic"), dict):
            params["basic"].pop("password", None)
        if (action.type, action.action) == CONDITION:
            for branch in BRANCHES:
                params[branch.value] = [envelope(child) for child in children.get((action.pk, branch), [])]
        return {
            "id": action.action_id,
            "alias": action.alias,
            "type": action.type,
            "action": action.action,
            "allow_failure": action.allow_failure,
            "mask_output": action.mask_output,
            "params": params,
        }

    return {"name": flow.name, "actions": [envelope(action) for action in children.get((None, ""), [])]}


def _connection_names(refs) -> dict[str, str]:
    ids = set()
    for ref in refs:
        try:
            ids.add(uuid.UUID(str(ref)))
        except ValueError:
            continue  # already a name
    return {str(pk): name for pk, name in Connection.objects.filter(pk__in=ids).values_list("pk", "name")}


# --- Import --------------------------------------------------------------------------------------------


@dataclass
class _Planned:
    """An action ready to be saved, with its nested actions."""

    action: Action
    children: list["_Planned"] = field(default_factory=list)


@dataclass
class _PlannedFlow:
    name: str
    description: str | None
    actions: list[_Planned]


def import_flows(data: Any, warnings: list[str] | None = None) -> list[Flow]:
    """Create or update the flows of `data` (one flow, a list, or `{"flows": […]}`), all or none.

    Raises FlowImportError listing every problem found, before anything is written. What was imported
    as is (invalid params, unsupported types) is appended to `warnings`.
    """
    warnings = [] if warnings is None else warnings
    items = data.get("flows") if isinstance(data, dict) and "actions" not in data else data
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items:
        raise FlowImportError(['Expected a flow {"name": …, "actions": […]} or a list of flows.'])
    problems: list[str] = []
    plans: list[_PlannedFlow] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        plan = _plan_flow(item, f"flows[{index}]" if len(items) > 1 else "flow", problems, warnings)
        if plan is None:
            continue
        if plan.name.lower() in seen:
            problems.append(f"flow “{plan.name}”: the file holds two flows with this name.")
        seen.add(plan.name.lower())
        plans.append(plan)
    if problems:
        raise FlowImportError(problems)
    with transaction.atomic():
        return [_save(plan) for plan in plans]


def _plan_flow(item: Any, where: str, problems: list[str], warnings: list[str]) -> _PlannedFlow | None:
    if not isinstance(item, dict):
        problems.append(f'{where}: expected an object {{"name": …, "actions": […]}}.')
        return None
    name = item.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 150:
        problems.append(f"{where}: “name” must be text of 1 to 150 characters.")
        return None
    name = name.strip()
    description = item.get("description")
    if description is not None and not isinstance(description, str):
        problems.append(f"flow “{name}”: “description” must be text.")
    actions = item.get("actions", [])
    if not isinstance(actions, list):
        problems.append(f"flow “{name}”: “actions” must be a list.")
        return None
    # The actions of the flow this file updates: a matched action keeps its stored password.
    stored = {
        action.action_id: action
        for action in Action.objects.filter(flow__name__iexact=name).only(
            "action_id", "type", "action", "secret_params"
        )
    }
    plan = _Plan(f"flow “{name}”", set(), stored, problems, warnings)
    return _PlannedFlow(name, description, _plan_actions(actions, plan, 1))


@dataclass
class _Plan:
    """What planning one flow's actions shares: where they are, the ids seen, the stored actions."""

    where: str
    ids: set[str]
    stored: dict[str, Action]
    problems: list[str]
    warnings: list[str]


def _plan_actions(items: list, plan: _Plan, depth: int) -> list[_Planned]:
    planned = []
    for index, item in enumerate(items):
        action = _plan_action(item, index, plan, depth)
        if action is not None:
            planned.append(action)
    return planned


def _plan_action(item: Any, index: int, plan: _Plan, depth: int) -> _Planned | None:
    where, ids, problems = plan.where, plan.ids, plan.problems
    if not isinstance(item, dict):
        problems.append(f"{where}: action {index + 1} must be an object.")
        return None
    action_id = item.get("id")
    if not isinstance(action_id, str) or not action_id or len(action_id) > 100:
        problems.append(f"{where}: action {index + 1} needs an “id” (text, up to 100 characters).")
        return None
    here = f"{where}, action “{action_id}”"
    try:
        validate_slug(action_id)
    except ValidationError:
        problems.append(f"{here}: the id may hold only letters, digits, “_” and “-”.")
    if action_id in ids:
        problems.append(f"{here}: another action of the flow has this id.")
    ids.add(action_id)

    type_, kind = item.get("type"), item.get("action")
    envelope_ok = True
    for key, value, limit in (
        ("type", type_, 50),
        ("action", kind, 50),
        ("alias", item.get("alias", ""), 150),
    ):
        if not isinstance(value, str) or len(value) > limit or (key != "alias" and not value):
            problems.append(f"{here}: “{key}” must be text (up to {limit} characters).")
            envelope_ok = False
    for key in ("allow_failure", "mask_output"):
        if not isinstance(item.get(key, False), bool):
            problems.append(f"{here}: “{key}” must be true or false.")
            envelope_ok = False
    params = item.get("params", {})
    if not isinstance(params, dict):
        problems.append(f"{here}: “params” must be an object.")
        return None
    if not envelope_ok:
        return None

    action = Action(
        action_id=action_id,
        alias=item.get("alias", ""),
        type=type_,
        action=kind,
        allow_failure=item.get("allow_failure", False),
        mask_output=item.get("mask_output", False),
        position=index,
    )
    action_type = catalog.get(type_, kind)
    if action_type is None:
        action.params = params  # unsupported: kept exactly as written
        plan.warnings.append(f"{here}: {type_}/{kind} is not in the catalog: a run fails when it reaches it.")
        return _Planned(action)

    is_condition = (type_, kind) == CONDITION
    form_params = {k: v for k, v in params.items() if not (is_condition and k in ("then", "else"))}
    previous = plan.stored.get(action_id)
    stored_secret = previous.secret_params if previous and previous.kind == action.kind else None
    form_class = action_type.form_class
    form = form_class(data=form_class.data_from_params(form_params), has_secret=stored_secret is not None)
    planned = _Planned(action)
    if form.is_valid():
        action.params = form.params
        action.secret_params = form.secret_params(stored_secret)
    else:
        # Imported as written (as the canvas would show it), but a password never stays in params.
        action.params = copy_value(form_params)
        basic = action.params.get("basic")
        password = basic.pop("password", None) if isinstance(basic, dict) else None
        action.secret_params = Secret({"basic_password": str(password)}) if password else stored_secret
        for name, messages in form.errors.items():
            label = "" if name == "__all__" else f"{name}: "
            plan.warnings.extend(f"{here}: {label}{message} (imported as is)" for message in messages)
    if is_condition:
        # Nested actions are checked even when the condition is not, so that one import reports all.
        for branch in BRANCHES:
            nested = params.get(branch.value, [])
            if not isinstance(nested, list):
                problems.append(f"{here}: “{branch.value}” must be a list of actions.")
            elif nested and depth >= MAX_NESTING:
                problems.append(f"{here}: If/then actions are nested more than {MAX_NESTING} deep.")
            else:
                for child in _plan_actions(nested, plan, depth + 1):
                    child.action.branch = branch
                    planned.children.append(child)
    return planned


def _save(plan: _PlannedFlow) -> Flow:
    # Names are unique whatever their case: "demo" updates "Demo", and takes the file's spelling.
    flow = Flow.objects.select_for_update().filter(name__iexact=plan.name).first()
    existing: dict[str, int] = {}
    if flow is None:
        flow = Flow.objects.create(name=plan.name, description=plan.description or "")
    else:
        existing = dict(flow.actions.values_list("action_id", "pk"))
        flow.name = plan.name
        flow.version = F("version") + 1
        if plan.description is not None:
            flow.description = plan.description
        flow.save()
        flow.refresh_from_db(fields=["version"])
    # Level by level, so that a parent exists before its children point at it; the actions the file no
    # longer holds go last, once none of the kept ones hangs below them (a parent's delete cascades).
    level = plan.actions
    parents: dict[int, Action] = {}
    now = timezone.now()
    while level:
        for planned in level:
            planned.action.flow = flow
            planned.action.parent = parents.get(id(planned))
            planned.action.pk = existing.get(planned.action.action_id)
        matched = [planned.action for planned in level if planned.action.pk is not None]
        for action in matched:
            action.updated = now
        Action.objects.bulk_update(matched, UPDATED_FIELDS)
        Action.objects.bulk_create([planned.action for planned in level if planned.action.pk is None])
        parents = {id(child): planned.action for planned in level for child in planned.children}
        level = [child for planned in level for child in planned.children]
    kept = {action.action_id for action in _walk(plan.actions)}
    flow.actions.filter(pk__in=[pk for action_id, pk in existing.items() if action_id not in kept]).delete()
    return flow


UPDATED_FIELDS = [
    "parent",
    "branch",
    "position",
    "alias",
    "type",
    "action",
    "allow_failure",
    "mask_output",
    "params",
    "secret_params",
    "updated",
]


def _walk(planned: list[_Planned]):
    for item in planned:
        yield item.action
        yield from _walk(item.children)
