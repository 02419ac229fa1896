"""The flow canvas: a flow drawn as chains of action cards (an If/then holds a chain per branch), and the
endpoints that change its shape: insert from the catalog, drag-and-drop reorder, move up/down, delete.

Every change names the flow version the canvas showed; a change over a newer version is refused, so two
people editing one flow never silently undo each other's work.
"""

import copy
import json
from dataclasses import dataclass, field
from uuid import UUID

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from actions import catalog
from actions.catalog import ActionType, ParamsForm
from actions.models import Action, Branch, Flow
from flowdesigner.access import staff_required

TEMPLATE = "actions/flow_detail.html"
CONDITION = ("FLOW", "BOOLEAN_CONDITION")
BRANCHES = (Branch.THEN, Branch.ELSE)
# The event canvas.js answers by opening the named card's editor in the side panel.
OPEN_IN_PANEL = "open-in-panel"


@dataclass
class Card:
    """One action as the canvas draws it; an If/then carries the cards of its two branches."""

    action: Action
    action_type: ActionType | None
    problems: list[str] = field(default_factory=list)
    then: list["Card"] = field(default_factory=list)
    otherwise: list["Card"] = field(default_factory=list)

    @property
    def is_condition(self) -> bool:
        return (self.action.type, self.action.action) == CONDITION

    @property
    def summary(self) -> str:
        params = self.action.params if isinstance(self.action.params, dict) else {}
        summarize = SUMMARIES.get(self.action.kind)
        return summarize(params) if summarize else ""


def _condition_summary(params: dict) -> str:
    group = params.get("if") if isinstance(params.get("if"), dict) else {}
    conditions = group.get("conditions")
    count = len(conditions) if isinstance(conditions, list) else 0
    return f"{count} condition{'' if count == 1 else 's'}, {group.get('operator') or 'AND'}" if count else ""


# One line that tells cards of the same type apart (the editor shows the rest).
SUMMARIES = {
    "HTTP/SEND_REQUEST": lambda p: f"{p.get('method') or 'GET'} {p.get('url') or '(no URL)'}",
    "FLOW/BOOLEAN_CONDITION": _condition_summary,
    "FLOW/DELAY_FLOW": lambda p: (
        f"{p['number']} {str(p.get('units') or 'SECONDS').lower()}" if "number" in p else ""
    ),
    "FLOW/ERROR_MESSAGE": lambda p: str(p.get("message") or ""),
    "FLOW/STORE_VARS": lambda p: ", ".join(f"vars.{name}" for name in p.get("vars") or {}),
    "FLOW/MAP_VALUE": lambda p: str(p.get("input") or ""),
}


def action_problems(
    action: Action,
    earlier: frozenset[str] | None = None,
    prototypes: dict[tuple[str, bool], ParamsForm] | None = None,
) -> list[str]:
    """What the editor would flag on this action's stored params: errors, then warnings (references to
    actions not in `earlier`; None checks no reference). The runner reuses it on an unexpected error."""
    prototypes = {} if prototypes is None else prototypes
    action_type = catalog.get(action.type, action.action)
    if action_type is None:
        return [f"{action.kind} is not in the catalog: a run fails when it reaches this action."]
    if not isinstance(action.params, dict):
        return ["The params are not a JSON object: open the action to set them again."]
    has_secret = action.secret_params is not None
    key = (action_type.kind, has_secret)
    # A params form may read the database when it is built (the HTTP form lists the vault's connections):
    # build one per type and validate copies of it, so the page's queries do not grow with its actions.
    if key not in prototypes:
        prototypes[key] = action_type.form_class(has_secret=has_secret)
    form = copy.copy(prototypes[key])
    form.fields = copy.deepcopy(form.fields)
    form._bound_fields_cache = {}
    form.warnings = {}
    form.earlier_ids = earlier
    form.data = action_type.form_class.data_from_params(action.params, {})
    form.is_bound = True
    form.is_valid()
    problems = []
    for name, errors in [*form.errors.items(), *form.warnings.items()]:
        # The label the editor shows beside the field ("Vars", not "vars"), so both say the same.
        label = form[name].label if name in form.fields else ""
        problems += [f"{label}: {error}" if label else str(error) for error in errors]
    return problems


def flow_cards(flow: Flow) -> list[Card]:
    """The flow's main chain of cards, branches nested, with one query whatever the size or depth."""
    children: dict[tuple[int | None, str], list[Action]] = {}
    for action in flow.actions.order_by("position", "pk"):
        children.setdefault((action.parent_id, action.branch), []).append(action)
    prototypes: dict[tuple[str, bool], ParamsForm] = {}
    earlier: list[str] = []

    def chain(parent_id: int | None, branch: str) -> list[Card]:
        cards = []
        for action in children.get((parent_id, branch), []):
            card = Card(action, catalog.get(action.type, action.action))
            card.problems = action_problems(action, frozenset(earlier), prototypes)
            earlier.append(action.action_id)
            if card.is_condition:
                card.then = chain(action.pk, Branch.THEN)
                card.otherwise = chain(action.pk, Branch.ELSE)
            cards.append(card)
        return cards

    return chain(None, Branch.MAIN)


def catalog_groups() -> list[tuple[str, list[ActionType]]]:
    """The catalog's types grouped by their `type` (FLOW, HTTP, JSON, XML)."""
    types: dict[str, list[ActionType]] = {}
    for action_type in catalog.all_types():
        types.setdefault(action_type.type, []).append(action_type)
    return sorted(types.items())


def canvas_context(flow: Flow) -> dict:
    return {"flow": flow, "cards": flow_cards(flow), "catalog_groups": catalog_groups()}


# --- Forms ------------------------------------------------------------------------------------------------


class ChangeForm(forms.Form):
    """Every change names the version of the flow the canvas showed."""

    version = forms.IntegerField(min_value=1)


class SlotForm(forms.Form):
    """A place in a chain: the main chain (no parent) or one branch of an If/then, and an index in it."""

    parent = forms.IntegerField(required=False, min_value=1)
    branch = forms.ChoiceField(choices=Branch.choices, required=False)
    position = forms.IntegerField(min_value=0, required=False)

    def __init__(self, *args, flow: Flow, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.flow = flow

    def clean(self) -> dict:
        cleaned = super().clean()
        parent_pk, branch = cleaned.get("parent"), cleaned.get("branch") or ""
        if parent_pk is None:
            if branch:
                raise forms.ValidationError("A branch needs its If/then.")
            cleaned["parent"] = None
        else:
            parent = Action.objects.filter(flow=self.flow, pk=parent_pk).first()
            if parent is None or (parent.type, parent.action) != CONDITION:
                raise forms.ValidationError("Actions can only be nested in an If/then of this flow.")
            if branch not in BRANCHES:
                raise forms.ValidationError("Choose the “then” or the “else” branch.")
            cleaned["parent"] = parent
        cleaned["branch"] = branch
        return cleaned


class InsertForm(SlotForm):
    type = forms.CharField(max_length=50)
    action = forms.CharField(max_length=50)
    # The place was chosen on this version: once the flow changed, the same index may mean another place.
    version = forms.IntegerField(min_value=1)

    def clean(self) -> dict:
        cleaned = super().clean()
        action_type = catalog.get(cleaned.get("type", ""), cleaned.get("action", ""))
        if action_type is None:
            raise forms.ValidationError("This action type is not in the catalog.")
        cleaned["action_type"] = action_type
        return cleaned


class ReorderForm(ChangeForm):
    """The whole tree as the canvas now shows it: `node` = "pk:parent pk:branch" for every card, in order."""

    node = forms.CharField(required=False)

    def __init__(self, *args, flow: Flow, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.flow = flow

    def clean(self) -> dict:
        cleaned = super().clean()
        actions = {action.pk: action for action in self.flow.actions.all()}
        placed: list[tuple[Action, Action | None, str]] = []
        for value in self.data.getlist("node"):
            try:
                pk, parent_pk, branch = value.split(":")
                action = actions[int(pk)]
                parent = actions[int(parent_pk)] if parent_pk else None
            except (ValueError, KeyError):
                raise forms.ValidationError(
                    "The new order names actions that are not in this flow."
                ) from None
            if (parent is None) != (branch == "") or (parent and (parent.kind, branch) not in _SLOTS):
                raise forms.ValidationError("Actions can only be nested in the branches of an If/then.")
            placed.append((action, parent, branch))
        if sorted(action.pk for action, _, _ in placed) != sorted(actions):
            raise forms.ValidationError("The new order must place every action of the flow exactly once.")
        parents = {action.pk: parent for action, parent, _ in placed}
        for action, _, _ in placed:
            seen, parent = {action.pk}, parents[action.pk]
            while parent is not None:
                if parent.pk in seen:
                    raise forms.ValidationError("An If/then cannot be moved into its own branches.")
                seen.add(parent.pk)
                parent = parents[parent.pk]
        cleaned["placed"] = placed
        return cleaned


_SLOTS = {("/".join(CONDITION), branch) for branch in BRANCHES}


# --- Changes ----------------------------------------------------------------------------------------------


def _bump(flow: Flow, loaded: int) -> bool:
    """Take the next version, unless the flow changed since `loaded` (one conditional UPDATE)."""
    return bool(
        Flow.objects.filter(pk=flow.pk, version=loaded).update(
            version=F("version") + 1, updated=timezone.now()
        )
    )


def new_action_id(flow: Flow, action_type: ActionType) -> str:
    """A free id built from the type's label: http_request_1, http_request_2…"""
    return flow.free_action_id(action_type.label)


def default_params(action_type: ActionType) -> dict:
    """The params a blank editor would save, or none when the type needs input first (e.g. a URL)."""
    form = action_type.form_class(action_type.form_class.data_from_params({}, {}))
    return form.params if form.is_valid() else {}


def _renumber(siblings: list[Action]) -> None:
    for position, action in enumerate(siblings):
        action.position = position
    Action.objects.bulk_update(siblings, ["position"])


def _siblings(action: Action) -> list[Action]:
    return list(
        Action.objects.filter(
            flow_id=action.flow_id, parent_id=action.parent_id, branch=action.branch
        ).order_by("position", "pk")
    )


# --- Views ------------------------------------------------------------------------------------------------


def _canvas(request: HttpRequest, flow_id: UUID, *, error: str = "", notice: str = "") -> HttpResponse:
    """The refreshed canvas: the partial for htmx, else back to the page with the message."""
    flow = get_object_or_404(Flow, pk=flow_id)
    if not request.htmx:
        if error:
            messages.error(request, error)
        elif notice:
            messages.success(request, notice)
        return redirect("actions:flow_detail", flow_id=flow_id)
    context = canvas_context(flow) | {"error": error, "notice": notice}
    return render(request, f"{TEMPLATE}#canvas", context)


def _stale(flow: Flow, loaded: object) -> str:
    current = Flow.objects.get(pk=flow.pk).version
    return (
        f"Not saved: this flow was changed by someone else (now version {current}) after you opened it at "
        f"version {loaded}. The canvas now shows the current version; make your change again."
    )


@staff_required
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "HEAD"])
def catalog_dialog(request: HttpRequest, flow_id: UUID) -> HttpResponse:
    """The action catalog for one "+": choosing a type inserts it there."""
    flow = get_object_or_404(Flow, pk=flow_id)
    slot = SlotForm(request.GET, flow=flow)
    if not slot.is_valid():
        return HttpResponse(" ".join(slot.non_field_errors()) or "Invalid place.", status=400)
    parent = slot.cleaned_data["parent"]
    # Over htmx only the dialog is drawn; without JavaScript, the page with the dialog open.
    context = {"flow": flow, "catalog_groups": catalog_groups()} if request.htmx else canvas_context(flow)
    context |= {
        "slot": {
            "parent": parent.pk if parent else "",
            "branch": slot.cleaned_data["branch"],
            "position": slot.cleaned_data["position"] if slot.cleaned_data["position"] is not None else "",
        },
    }
    return render(request, f"{TEMPLATE}#catalog" if request.htmx else TEMPLATE, context)


@staff_required
@require_POST
def action_insert(request: HttpRequest, flow_id: UUID) -> HttpResponse:
    """Create an action of the chosen type at the slot, with a free id and default params, then edit it."""
    flow = get_object_or_404(Flow, pk=flow_id)
    form = InsertForm(request.POST, flow=flow)
    if not form.is_valid():
        return HttpResponse(" ".join(form.non_field_errors()) or "Invalid insertion.", status=400)
    action_type: ActionType = form.cleaned_data["action_type"]
    parent, branch = form.cleaned_data["parent"], form.cleaned_data["branch"]
    with transaction.atomic():
        if not _bump(flow, form.cleaned_data["version"]):
            return _canvas(request, flow_id, error=_stale(flow, form.cleaned_data["version"]))
        siblings = list(flow.actions.filter(parent=parent, branch=branch).order_by("position", "pk"))
        position = form.cleaned_data["position"]
        position = len(siblings) if position is None else min(position, len(siblings))
        action = Action.objects.create(
            flow=flow,
            parent=parent,
            branch=branch,
            position=position,
            action_id=new_action_id(flow, action_type),
            type=action_type.type,
            action=action_type.action,
            params=default_params(action_type),
        )
        siblings.insert(position, action)
        _renumber(siblings)
    if request.htmx:
        # Like a click on the new card: once the canvas is redrawn, canvas.js opens its editor in the panel.
        response = _canvas(request, flow_id, notice=f"Action “{action.action_id}” added.")
        response["HX-Trigger-After-Settle"] = json.dumps({OPEN_IN_PANEL: f"card-{action.pk}"})
        return response
    messages.success(request, f"Action “{action.action_id}” added: set it up below.")
    return redirect("actions:action_edit", flow_id=flow.pk, pk=action.pk)


@staff_required
@require_POST
def actions_reorder(request: HttpRequest, flow_id: UUID) -> HttpResponse:
    """Save the order (and branch) of every card, as the canvas shows it after a drag and drop."""
    flow = get_object_or_404(Flow, pk=flow_id)
    form = ReorderForm(request.POST, flow=flow)
    if not form.is_valid():
        return _canvas(
            request, flow_id, error="Not saved: " + " ".join(form.errors.get("__all__", ["invalid order."]))
        )
    with transaction.atomic():
        if not _bump(flow, form.cleaned_data["version"]):
            return _canvas(request, flow_id, error=_stale(flow, form.cleaned_data["version"]))
        positions: dict[tuple[int | None, str], int] = {}
        changed = []
        for action, parent, branch in form.cleaned_data["placed"]:
            slot = (parent.pk if parent else None, branch)
            action.parent, action.branch, action.position = parent, branch, positions.get(slot, 0)
            positions[slot] = action.position + 1
            changed.append(action)
        Action.objects.bulk_update(changed, ["parent", "branch", "position"])
    return _canvas(request, flow_id, notice=f"Order saved (flow version {form.cleaned_data['version'] + 1}).")


@staff_required
@require_POST
def action_move(request: HttpRequest, flow_id: UUID, pk: int, direction: str) -> HttpResponse:
    """Swap a card with the one before ("up") or after ("down") it in its chain."""
    action = get_object_or_404(Action.objects.select_related("flow"), flow_id=flow_id, pk=pk)
    form = ChangeForm(request.POST)
    if direction not in ("up", "down") or not form.is_valid():
        return HttpResponse("Invalid move.", status=400)
    with transaction.atomic():
        siblings = _siblings(action)
        index = [sibling.pk for sibling in siblings].index(action.pk)
        other = index - 1 if direction == "up" else index + 1
        if not 0 <= other < len(siblings):
            end = "first" if direction == "up" else "last"
            return _canvas(request, flow_id, notice=f"“{action.action_id}” is already {end}.")
        if not _bump(action.flow, form.cleaned_data["version"]):
            return _canvas(request, flow_id, error=_stale(action.flow, form.cleaned_data["version"]))
        siblings[index], siblings[other] = siblings[other], siblings[index]
        _renumber(siblings)
    return _canvas(request, flow_id, notice=f"“{action.action_id}” moved {direction}.")


@staff_required
@require_POST
def action_remove(request: HttpRequest, flow_id: UUID, pk: int) -> HttpResponse:
    """Delete a card; an If/then takes its branches with it."""
    action = get_object_or_404(Action.objects.select_related("flow"), flow_id=flow_id, pk=pk)
    form = ChangeForm(request.POST)
    if not form.is_valid():
        return HttpResponse("This request does not say which version of the flow it was made on.", status=400)
    with transaction.atomic():
        if not _bump(action.flow, form.cleaned_data["version"]):
            return _canvas(request, flow_id, error=_stale(action.flow, form.cleaned_data["version"]))
        action.delete()
        _renumber(_siblings(action))
    return _canvas(request, flow_id, notice=f"Action “{action.action_id}” deleted.")
