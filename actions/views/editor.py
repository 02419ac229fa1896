"""The action editor: create, edit and delete an action, add key/value rows, and Test it unsaved."""

import json
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import F, Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from actions import catalog
from actions.catalog import ActionType, ParamsForm
from actions.models import Action, Flow
from actions.runner import ActionRun, parse_input, run_action
from actions.views.flows import action_rows
from flowdesigner.access import staff_required

TEMPLATE = "actions/action_edit.html"
ROW_FIELDS = {"headers": "header", "params": "URL param"}
TEST_INPUT_EXAMPLE = '{"fields": {"email": "ada@example.com"}, "actions": {"get_user": {"body": {"id": 7}}}}'


class EnvelopeForm(forms.Form):
    """The Auth0 envelope every action has, plus the flow version the editor was opened at."""

    action_id = forms.SlugField(
        label="ID",
        max_length=100,
        help_text="Unique in the flow. Later actions read the output as {{actions.<id>.body}}.",
    )
    alias = forms.CharField(label="Alias", max_length=150, required=False, help_text="A readable name.")
    allow_failure = forms.BooleanField(
        label="Allow failure",
        required=False,
        help_text="When the action fails, the flow goes on with an output that holds the error.",
    )
    mask_output = forms.BooleanField(
        label="Mask output", required=False, help_text='Executions record "masked" instead of the output.'
    )
    # Saving over a newer version of the flow is refused, not lost.
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, flow: Flow, action: Action | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.flow = flow
        self.action = action

    def clean_action_id(self) -> str:
        action_id = self.cleaned_data["action_id"]
        taken = Action.objects.filter(flow=self.flow, action_id=action_id)
        if self.action is not None:
            taken = taken.exclude(pk=self.action.pk)
        if taken.exists():
            raise forms.ValidationError(f'Another action of this flow already has the id "{action_id}".')
        return action_id


class TestInputForm(forms.Form):
    test_input = forms.CharField(
        label="Test input",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "code", "spellcheck": "false"}),
        help_text="JSON with any of fields, vars, context and actions (earlier outputs by id), "
        f"e.g. {TEST_INPUT_EXAMPLE}",
    )

    def clean_test_input(self) -> dict:
        try:
            return parse_input(self.cleaned_data["test_input"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


# --- Helpers ---------------------------------------------------------------------------------------------


def _get_action(flow_id: UUID, pk: int) -> Action:
    return get_object_or_404(Action.objects.select_related("flow"), flow_id=flow_id, pk=pk)


def _action_type(type: str, action: str) -> ActionType:
    action_type = catalog.get(type, action)
    if action_type is None:
        raise Http404("This action type is not in the catalog.")
    return action_type


def _earlier_ids(flow: Flow, action: Action | None) -> frozenset[str]:
    """Ids of the actions that run before `action` (a new action runs after all of them)."""
    ids = []
    for row in action_rows(flow):
        if action is not None and row.action.pk == action.pk:
            break
        ids.append(row.action.action_id)
    return frozenset(ids)


def _new_action_id(flow: Flow, action_type: ActionType) -> str:
    base = slugify(action_type.label).replace("-", "_") or "action"
    taken = set(flow.actions.values_list("action_id", flat=True))
    number = 1
    while f"{base}_{number}" in taken:
        number += 1
    return f"{base}_{number}"


def _flag(data: Any, name: str) -> bool:
    return forms.CheckboxInput().value_from_datadict(data, {}, name)


def _page(request: HttpRequest, context: dict) -> HttpResponse:
    params_form: ParamsForm = context["params_form"]
    context |= {
        "warnings": params_form.warnings,
        "field_warnings": [
            (params_form[name], params_form.warnings.get(name, [])) for name in params_form.fields
        ],
        "test_url": (
            reverse("actions:action_test", args=[context["flow"].pk, context["action"].pk])
            if context.get("action")
            else reverse("actions:action_test_new", args=[context["flow"].pk])
        ),
    }
    return render(request, TEMPLATE, context)


def _save(
    request: HttpRequest, flow: Flow, action: Action, envelope: EnvelopeForm, params_form: ParamsForm
) -> bool:
    """Store the action and bump the flow's version; False when the flow changed since the page loaded."""
    loaded = envelope.cleaned_data["version"]
    with transaction.atomic():
        bumped = Flow.objects.filter(pk=flow.pk, version=loaded).update(
            version=F("version") + 1, updated=timezone.now()
        )
        if not bumped:
            return False
        if action.pk is None:
            last = flow.actions.filter(parent=None).aggregate(last=Max("position"))["last"]
            action.position = 0 if last is None else last + 1
        action.action_id = envelope.cleaned_data["action_id"]
        action.alias = envelope.cleaned_data["alias"]
        action.allow_failure = envelope.cleaned_data["allow_failure"]
        action.mask_output = envelope.cleaned_data["mask_output"]
        action.params = params_form.params
        action.secret_params = params_form.secret_params(action.secret_params)
        action.save()
    messages.success(request, f"Action “{action.action_id}” saved (flow version {loaded + 1}).")
    return True


def _refuse_stale(request: HttpRequest, flow: Flow, action: Action | None) -> EnvelopeForm:
    """The envelope again, carrying the current version (so a second save replaces it), with the reason."""
    current = Flow.objects.get(pk=flow.pk)
    data = request.POST.copy()
    data["version"] = str(current.version)
    envelope = EnvelopeForm(data, flow=current, action=action)
    envelope.is_valid()
    envelope.add_error(
        None,
        f"Not saved: this flow was changed by someone else (now version {current.version}) after you "
        f"opened it at version {request.POST.get('version')}. Your changes are still in the form; save "
        "again to replace that version.",
    )
    return envelope


def _editor(request: HttpRequest, flow: Flow, action_type: ActionType, action: Action) -> HttpResponse:
    """GET shows the editor, POST saves it; `action` is unsaved for a new one."""
    is_new = action.pk is None
    earlier = _earlier_ids(flow, None if is_new else action)
    has_secret = action.secret_params is not None
    if request.method == "POST":
        envelope = EnvelopeForm(request.POST, flow=flow, action=None if is_new else action)
        params_form = action_type.form_class(
            request.POST, params=action.params, has_secret=has_secret, earlier_ids=earlier
        )
        envelope_ok, params_ok = envelope.is_valid(), params_form.is_valid()
        if envelope_ok and params_ok:
            if _save(request, flow, action, envelope, params_form):
                return redirect("actions:action_edit", flow_id=flow.pk, pk=action.pk)
            envelope = _refuse_stale(request, flow, None if is_new else action)
        test_form = TestInputForm(request.POST)
        test_form.is_valid()
    else:
        initial = {"version": flow.version}
        if is_new:
            initial["action_id"] = _new_action_id(flow, action_type)
            params_form = action_type.form_class(earlier_ids=earlier)
        else:
            initial |= {
                "action_id": action.action_id,
                "alias": action.alias,
                "allow_failure": action.allow_failure,
                "mask_output": action.mask_output,
            }
            # Bound to the stored params, so that problems and warnings show as soon as the page opens.
            params_form = action_type.form_class(
                action_type.form_class.data_from_params(action.params or {}),
                params=action.params,
                has_secret=has_secret,
                earlier_ids=earlier,
            )
            params_form.is_valid()
        envelope = EnvelopeForm(initial=initial, flow=flow, action=None if is_new else action)
        test_form = TestInputForm()
    return _page(
        request,
        {
            "flow": flow,
            "action": None if is_new else action,
            "action_type": action_type,
            "envelope": envelope,
            "params_form": params_form,
            "test_form": test_form,
        },
    )


# --- Views -----------------------------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def action_create(request: HttpRequest, flow_id: UUID, type: str, action: str) -> HttpResponse:
    flow = get_object_or_404(Flow, pk=flow_id)
    action_type = _action_type(type, action)
    new = Action(flow=flow, type=action_type.type, action=action_type.action, params={})
    return _editor(request, flow, action_type, new)


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def action_edit(request: HttpRequest, flow_id: UUID, pk: int) -> HttpResponse:
    action = _get_action(flow_id, pk)
    return _editor(request, action.flow, _action_type(action.type, action.action), action)


@staff_required
@require_POST
def action_delete(request: HttpRequest, flow_id: UUID, pk: int) -> HttpResponse:
    action = _get_action(flow_id, pk)
    with transaction.atomic():
        action.delete()
        Flow.objects.filter(pk=flow_id).update(version=F("version") + 1, updated=timezone.now())
    messages.success(request, f"Action “{action.action_id}” deleted.")
    url = reverse("actions:flow_detail", args=[flow_id])
    if request.htmx:
        return HttpResponse(headers={"HX-Redirect": url})
    return redirect(url)


@staff_required
@require_POST
def action_test(request: HttpRequest, flow_id: UUID, pk: int) -> HttpResponse:
    action = _get_action(flow_id, pk)
    return _test(request, action.flow, _action_type(action.type, action.action), action)


@staff_required
@require_POST
def action_test_new(request: HttpRequest, flow_id: UUID) -> HttpResponse:
    flow = get_object_or_404(Flow, pk=flow_id)
    type_, _, action = request.POST.get("kind", "").partition("/")
    return _test(request, flow, _action_type(type_, action), None)


@staff_required
@require_GET
def row(request: HttpRequest, flow_id: UUID, field: str) -> HttpResponse:
    flow = get_object_or_404(Flow, pk=flow_id)
    if field not in ROW_FIELDS:
        raise Http404("No such rows.")
    context = {"flow": flow, "name": field, "noun": ROW_FIELDS[field], "key": "", "value": ""}
    return render(request, f"{TEMPLATE}#kv_row", context)


# --- Test ------------------------------------------------------------------------------------------------


def _test(request: HttpRequest, flow: Flow, action_type: ActionType, stored: Action | None) -> HttpResponse:
    """Run the action as the form is filled in now (unsaved); a blank password means the stored one."""
    stored_secret = stored.secret_params if stored else None
    params_form = action_type.form_class(
        request.POST,
        params=stored.params if stored else None,
        has_secret=stored_secret is not None,
        earlier_ids=_earlier_ids(flow, stored),
    )
    test_form = TestInputForm(request.POST)
    params_ok, input_ok = params_form.is_valid(), test_form.is_valid()
    if not (params_ok and input_ok):
        problems = [
            (form[name].label if name in form.fields else "Form", message)
            for form in (params_form, test_form)
            for name, errors in form.errors.items()
            for message in errors
        ]
        return render(request, f"{TEMPLATE}#test_result", {"problems": problems})
    action = Action(
        flow=flow,
        action_id=stored.action_id if stored else "test",
        type=action_type.type,
        action=action_type.action,
        allow_failure=_flag(request.POST, "allow_failure"),
        mask_output=_flag(request.POST, "mask_output"),
        params=params_form.params,
        secret_params=params_form.secret_params(stored_secret),
    )
    run = run_action(action, test_form.cleaned_data["test_input"])
    return render(request, f"{TEMPLATE}#test_result", _result_context(run))


def _result_context(run: ActionRun) -> dict:
    output = run.output if isinstance(run.output, dict) else {}
    status = output.get("status")
    meta = run.meta or {}
    headers = output.get("headers") if isinstance(output.get("headers"), dict) else {}
    return {
        "run": run,
        "status": status,
        "success": output.get("success"),
        "status_class": f"status-{status // 100}xx" if isinstance(status, int) else "status-0xx",
        "output_json": json.dumps(run.output, indent=2, ensure_ascii=False, default=str),
        "response_headers": [
            (name, value if isinstance(value, list) else [value]) for name, value in headers.items()
        ],
        "meta": meta,
        "sent": meta.get("request"),
    }
