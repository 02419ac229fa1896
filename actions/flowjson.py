"""Flow JSON: import and export in the shape of Auth0's Management API (DESIGN §7).

    {"name": "…", "actions": [{"id", "alias", "type", "action", "allow_failure", "mask_output",
                               "params"}, …]}

An If/then (`FLOW/BOOLEAN_CONDITION`) holds its branches in its params, `"then": [actions]` and
`"else": [actions]`; here they are the condition's nested actions. A file holds one flow or a list.

Export writes a vault connection by its name and never a secret (the inline basic-auth password is left
out). Import validates every action through its params form, exactly as the editor would, and reports
every problem with the flow and action it concerns; `connection_id` may name a connection by id or by
name. A flow whose name exists, whatever its case, is replaced (a new version of the same flow, its
executions kept).
An action of a type the catalog does not know is kept as written, and fails the run if reached.
"""

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.db.models import F

from actions import catalog
from actions.catalog.flow import copy_value
from actions.models import Action, Branch, Flow
from vault.models import Connection

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


def import_flows(data: Any) -> list[Flow]:
    """Create or replace the flows of `data` (one flow, a list, or `{"flows": […]}`), all or none.

    Raises FlowImportError listing every problem found, before anything is written.
    """
    items = data.get("flows") if isinstance(data, dict) and "actions" not in data else data
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items:
        raise FlowImportError(['Expected a flow {"name": …, "actions": […]} or a list of flows.'])
    problems: list[str] = []
    plans: list[_PlannedFlow] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        plan = _plan_flow(item, f"flows[{index}]" if len(items) > 1 else "flow", problems)
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


def _plan_flow(item: Any, where: str, problems: list[str]) -> _PlannedFlow | None:
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
    ids: set[str] = set()
    planned = _plan_actions(actions, f"flow “{name}”", ids, 1, problems)
    return _PlannedFlow(name, description, planned)


def _plan_actions(items: list, where: str, ids: set[str], depth: int, problems: list[str]) -> list[_Planned]:
    planned = []
    for index, item in enumerate(items):
        action = _plan_action(item, index, where, ids, depth, problems)
        if action is not None:
            planned.append(action)
    return planned


def _plan_action(
    item: Any, index: int, where: str, ids: set[str], depth: int, problems: list[str]
) -> _Planned | None:
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
        return _Planned(action)

    is_condition = (type_, kind) == CONDITION
    form_params = {k: v for k, v in params.items() if not (is_condition and k in ("then", "else"))}
    form_class = action_type.form_class
    form = form_class(data=form_class.data_from_params(form_params))
    planned = _Planned(action)
    if form.is_valid():
        action.params = form.params
        action.secret_params = form.secret_params(None)
    else:
        for name, messages in form.errors.items():
            label = "" if name == "__all__" else f"{name}: "
            problems.extend(f"{here}: {label}{message}" for message in messages)
    if is_condition:
        # Nested actions are checked even when the condition is not, so that one import reports all.
        for branch in BRANCHES:
            nested = params.get(branch.value, [])
            if not isinstance(nested, list):
                problems.append(f"{here}: “{branch.value}” must be a list of actions.")
            elif nested and depth >= MAX_NESTING:
                problems.append(f"{here}: If/then actions are nested more than {MAX_NESTING} deep.")
            else:
                for child in _plan_actions(nested, where, ids, depth + 1, problems):
                    child.action.branch = branch
                    planned.children.append(child)
    return planned


def _save(plan: _PlannedFlow) -> Flow:
    # Names are unique whatever their case: "demo" replaces "Demo", and takes the file's spelling.
    flow = Flow.objects.select_for_update().filter(name__iexact=plan.name).first()
    if flow is None:
        flow = Flow.objects.create(name=plan.name, description=plan.description or "")
    else:
        flow.actions.all().delete()
        flow.name = plan.name
        flow.version = F("version") + 1
        if plan.description is not None:
            flow.description = plan.description
        flow.save()
        flow.refresh_from_db(fields=["version"])
    level = plan.actions
    parents: dict[int, Action] = {}
    while level:
        for planned in level:
            planned.action.flow = flow
            planned.action.parent = parents.get(id(planned))
        Action.objects.bulk_create([planned.action for planned in level])
        parents = {id(child): planned.action for planned in level for child in planned.children}
        level = [child for planned in level for child in planned.children]
    return flow
