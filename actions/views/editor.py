"""The action editor: create, edit and delete an action, add key/value rows, import a curl command, and
Test it unsaved (with the earlier outputs of the flow's last run), with a history of the tests of a saved
action to reopen and compare. Params fields suggest the references available at the action's place, and
renaming an action's id rewrites the other actions' references to it."""

import difflib
import json
import time
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import F, Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat, pluralize
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from actions import catalog
from actions.catalog import ActionFailed, ActionType, ParamsForm
from actions.curl import CurlImport, CurlParseError, parse_curl, to_curl
from actions.engine import recordable
from actions.flow_scope import LastRun, Reference, earlier_actions, references_to, suggestions
from actions.models import Action, Flow, TestRun
from actions.runner import ActionRun, parse_input, run_action
from actions.templatetags.timefmt import DATETIME_FORMAT
from flowdesigner.access import staff_required
from vault import api as vault

TEMPLATE = "actions/action_edit.html"
# The id of the canvas's side panel: an htmx request aimed at it gets the editor alone.
PANEL = "side-panel"
# Tells the canvas (static/js/canvas.js) to fetch its cards again.
CANVAS_CHANGED = "canvas-changed"
ROW_FIELDS = {"headers": "header", "params": "URL param"}
TEST_INPUT_EXAMPLE = '{"fields": {"email": "ada@example.com"}, "actions": {"get_user": {"body": {"id": 7}}}}'
HTTP_KIND = ("HTTP", "SEND_REQUEST")
HISTORY_SIZE = 20
# A test's output whose JSON is larger than this is not kept in the history (nor a request body as large).
MAX_STORED_JSON = 256 * 1024
TIMINGS = (("connect_ms", "connect"), ("first_byte_ms", "first byte"), ("download_ms", "download"))


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
        f"e.g. {TEST_INPUT_EXAMPLE}. Left empty, the test uses the flow's last run.",
    )

    def clean_test_input(self) -> dict:
        try:
            return parse_input(self.cleaned_data["test_input"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


class CurlImportForm(forms.Form):
    command = forms.CharField(
        label="curl command",
        max_length=100_000,
        strip=False,
        widget=forms.Textarea(
            attrs={
                "rows": 5,
                "class": "code",
                "spellcheck": "false",
                "placeholder": "curl https://api.example.com/users -H 'Accept: application/json'",
            }
        ),
        help_text="A command as API docs or a browser's “Copy as cURL” write it.",
    )

    def clean_command(self) -> CurlImport:
        try:
            return parse_curl(self.cleaned_data["command"])
        except CurlParseError as error:
            raise forms.ValidationError(f"This command cannot be imported: {error.message}.") from None


class CompareForm(forms.Form):
    run = forms.ModelMultipleChoiceField(
        queryset=TestRun.objects.none(),
        error_messages={
            "required": "Tick two tests in the history to compare them.",
            "invalid_choice": "That test is no longer in the history.",
        },
    )

    def __init__(self, *args, action: Action, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["run"].queryset = action.test_runs.all()

    def clean_run(self) -> list[TestRun]:
        runs = sorted(self.cleaned_data["run"], key=lambda run: (run.created, run.pk))
        if len(runs) != 2:
            raise forms.ValidationError("Tick exactly two tests in the history to compare them.")
        return runs


# --- Helpers ---------------------------------------------------------------------------------------------


def _get_action(flow_id: UUID, pk: int) -> Action:
    return get_object_or_404(Action.objects.select_related("flow"), flow_id=flow_id, pk=pk)


def _action_type(type: str, action: str) -> ActionType:
    action_type = catalog.get(type, action)
    if action_type is None:
        raise Http404("This action type is not in the catalog.")
    return action_type


def _ids(actions: list[Action]) -> frozenset[str]:
    return frozenset(action.action_id for action in actions)


def _flag(data: Any, name: str) -> bool:
    return forms.CheckboxInput().value_from_datadict(data, {}, name)


def _params_context(params_form: ParamsForm) -> dict:
    return {
        "params_form": params_form,
        "warnings": params_form.warnings,
        "field_warnings": [
            (params_form[name], params_form.warnings.get(name, [])) for name in params_form.fields
        ],
    }


def _import_url(flow: Flow, action: Action | None) -> str:
    if action is None:
        return reverse("actions:action_import_curl_new", args=[flow.pk])
    return reverse("actions:action_import_curl", args=[flow.pk, action.pk])


def in_panel(request: HttpRequest) -> bool:
    """Whether the request comes from the canvas's side panel, which shows the editor alone."""
    return bool(request.htmx) and request.htmx.target == PANEL


def _page(request: HttpRequest, context: dict, earlier: list[Action]) -> HttpResponse:
    flow, action, action_type = context["flow"], context.get("action"), context["action_type"]
    context["in_panel"] = in_panel(request)
    last_run = LastRun.of(flow)
    context |= _params_context(context["params_form"])
    context |= {
        "references": suggestions(earlier, last_run),
        "last_execution": last_run.execution if last_run else None,
    }
    context["test_url"] = (
        reverse("actions:action_test", args=[flow.pk, action.pk])
        if action
        else reverse("actions:action_test_new", args=[flow.pk])
    )
    if (action_type.type, action_type.action) == HTTP_KIND:
        context |= {"curl_form": CurlImportForm(), "import_url": _import_url(flow, action)}
    if context["in_panel"]:
        context["references_json"] = json.dumps(context["references"])
    if action:
        context |= _history_context(action)
    return render(request, f"{TEMPLATE}#editor" if context["in_panel"] else TEMPLATE, context)


def _save(
    request: HttpRequest, flow: Flow, action: Action, envelope: EnvelopeForm, params_form: ParamsForm
) -> bool:
    """Store the action and bump the flow's version; False when the flow changed since the page loaded.

    A renamed action's references in the other actions are rewritten in the same transaction (the
    editor asked first)."""
    loaded = envelope.cleaned_data["version"]
    new_id = envelope.cleaned_data["action_id"]
    now = timezone.now()
    with transaction.atomic():
        bumped = Flow.objects.filter(pk=flow.pk, version=loaded).update(version=F("version") + 1, updated=now)
        if not bumped:
            return False
        if action.pk is None:
            last = flow.actions.filter(parent=None).aggregate(last=Max("position"))["last"]
            action.position = 0 if last is None else last + 1
            references = []
        else:
            references = _references(flow, action, new_id)
        for reference in references:
            reference.action.params, reference.action.updated = reference.renamed_params, now
        Action.objects.bulk_update([reference.action for reference in references], ["params", "updated"])
        action.action_id = new_id
        action.alias = envelope.cleaned_data["alias"]
        action.allow_failure = envelope.cleaned_data["allow_failure"]
        action.mask_output = envelope.cleaned_data["mask_output"]
        action.params = params_form.params
        action.secret_params = params_form.secret_params(action.secret_params)
        action.save()
    updated = ""
    if references:
        count = sum(reference.count for reference in references)
        updated = (
            f" {count} reference{pluralize(count)} in {len(references)} other "
            f"action{pluralize(len(references))} updated."
        )
    messages.success(request, f"Action “{action.action_id}” saved (flow version {loaded + 1}).{updated}")
    return True


def _references(flow: Flow, action: Action, new_id: str) -> list[Reference]:
    """The other actions that read `action`'s output, when its id changes to `new_id`."""
    if action.pk is None or action.action_id == new_id:
        return []
    return references_to(flow, action, new_id)


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
    earlier_list = earlier_actions(flow, None if is_new else action)
    earlier = _ids(earlier_list)
    has_secret = action.secret_params is not None
    rename = None
    saved = False
    if request.method == "POST":
        envelope = EnvelopeForm(request.POST, flow=flow, action=None if is_new else action)
        params_form = action_type.form_class(
            request.POST,
            params=action.params,
            has_secret=has_secret,
            earlier_ids=earlier,
            may_use_connections=vault.may_use(request.user),
        )
        envelope_ok, params_ok = envelope.is_valid(), params_form.is_valid()
        if envelope_ok and params_ok:
            new_id = envelope.cleaned_data["action_id"]
            references = _references(flow, action, new_id)
            if references and request.POST.get("rename_confirmed") != new_id:
                # Nothing is saved until the user agrees to rewrite the other actions too.
                rename = {
                    "old": action.action_id,
                    "new": new_id,
                    "references": references,
                    "count": sum(reference.count for reference in references),
                }
            elif _save(request, flow, action, envelope, params_form):
                if not in_panel(request):
                    return redirect("actions:action_edit", flow_id=flow.pk, pk=action.pk)
                # The panel shows the form as saved, at the new version, and the canvas redraws its cards.
                flow.refresh_from_db()
                saved = True
            else:
                envelope = _refuse_stale(request, flow, None if is_new else action)
        test_form = TestInputForm(request.POST)
        test_form.is_valid()
    else:
        test_form = TestInputForm()
    if request.method != "POST" or saved:
        envelope, params_form = _opened(request, flow, action_type, action, earlier)
    response = _page(
        request,
        {
            "flow": flow,
            "action": None if action.pk is None else action,
            "action_type": action_type,
            "envelope": envelope,
            "params_form": params_form,
            "test_form": test_form,
            "rename": rename,
            "saved": saved,
        },
        earlier_list,
    )
    if saved:
        response["HX-Trigger"] = CANVAS_CHANGED
    return response


def _opened(
    request: HttpRequest, flow: Flow, action_type: ActionType, action: Action, earlier: frozenset[str]
) -> tuple[EnvelopeForm, ParamsForm]:
    """The editor's forms as it opens: a new action's defaults, or the stored action."""
    initial = {"version": flow.version}
    may_use = vault.may_use(request.user)
    if action.pk is None:
        initial["action_id"] = flow.free_action_id(action_type.label)
        params_form = action_type.form_class(earlier_ids=earlier, may_use_connections=may_use)
        return EnvelopeForm(initial=initial, flow=flow), params_form
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
        has_secret=action.secret_params is not None,
        earlier_ids=earlier,
        may_use_connections=may_use,
    )
    params_form.is_valid()
    return EnvelopeForm(initial=initial, flow=flow, action=action), params_form


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
    if in_panel(request):
        # The panel closes (emptied); the canvas redraws its cards and shows the message.
        return HttpResponse(headers={"HX-Trigger": CANVAS_CHANGED})
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
@require_POST
def action_import_curl(request: HttpRequest, flow_id: UUID, pk: int) -> HttpResponse:
    action = _get_action(flow_id, pk)
    return _import_curl(request, action.flow, _action_type(action.type, action.action), action)


@staff_required
@require_POST
def action_import_curl_new(request: HttpRequest, flow_id: UUID) -> HttpResponse:
    flow = get_object_or_404(Flow, pk=flow_id)
    return _import_curl(request, flow, _action_type(*HTTP_KIND), None)


@staff_required
@require_GET
def action_test_run(request: HttpRequest, flow_id: UUID, pk: int, run_pk: int) -> HttpResponse:
    """One stored test, reopened in the result panel."""
    action = _get_action(flow_id, pk)
    test_run = get_object_or_404(TestRun, action=action, pk=run_pk)
    return render(request, f"{TEMPLATE}#test_result", _result_context(_as_action_run(test_run), test_run))


@staff_required
@require_GET
def action_test_compare(request: HttpRequest, flow_id: UUID, pk: int) -> HttpResponse:
    action = _get_action(flow_id, pk)
    form = CompareForm(request.GET, action=action)
    context: dict[str, Any] = {"compare_form": form}
    if form.is_valid():
        first, second = runs = form.cleaned_data["run"]
        texts = [_output_text(run) for run in runs]
        for run in runs:
            run.status_class = _status_class(run.status)
        context |= {
            "compared": list(zip(runs, texts, strict=True)),
            "diff": _diff(texts, [f"{_when(run)} (#{run.pk})" for run in (first, second)]),
        }
    return render(request, f"{TEMPLATE}#compare", context)


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
    earlier = earlier_actions(flow, stored)
    params_form = action_type.form_class(
        request.POST,
        params=stored.params if stored else None,
        has_secret=stored_secret is not None,
        earlier_ids=_ids(earlier),
        may_use_connections=vault.may_use(request.user),
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
    if params_form.params.get("connection_id") and not vault.may_use(request.user):
        # A Test sends what the form holds now: a kept connection would authenticate a changed request.
        problem = ("Connection", vault.NO_USE_PERMISSION)
        return render(request, f"{TEMPLATE}#test_result", {"problems": [problem]})
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
    scope, last_scope = test_form.cleaned_data["test_input"], None
    # An empty Test input means: what the earlier actions gave in the flow's last run.
    if not request.POST.get("test_input", "").strip() and (last_run := LastRun.of(flow)):
        last_scope = last_run.scope(earlier)
        scope = last_scope.scope
    clock = time.perf_counter()
    run = run_action(action, scope)
    duration_ms = (time.perf_counter() - clock) * 1000
    result = render_to_string(
        f"{TEMPLATE}#test_result", _result_context(run) | {"last_scope": last_scope}, request
    )
    if stored is None:
        return HttpResponse(result)
    _record(stored, run, duration_ms)
    # The history below the form gets the new run too (an out-of-band swap).
    history = render_to_string(
        f"{TEMPLATE}#history",
        {"flow": flow, "action": stored, "oob": True} | _history_context(stored),
        request,
    )
    return HttpResponse(result + history)


def _status_class(status: Any) -> str:
    return f"status-{status // 100}xx" if isinstance(status, int) else "status-0xx"


def _result_context(run: ActionRun, stored: TestRun | None = None) -> dict:
    """What the result panel shows of a fresh run, or of a `stored` one (whose output may be masked)."""
    output = run.output if isinstance(run.output, dict) else {}
    status = stored.status if stored else output.get("status")
    meta = run.meta or {}
    headers = output.get("headers") if isinstance(output.get("headers"), dict) else {}
    timings = meta.get("timings") if isinstance(meta.get("timings"), dict) else {}
    sent = meta.get("request")
    return {
        "run": run,
        "status": status,
        "success": stored.success if stored else output.get("success"),
        "status_class": _status_class(status),
        "test_run": stored,
        "output_json": json.dumps(run.output, indent=2, ensure_ascii=False, default=str),
        "response_headers": [
            (name, value if isinstance(value, list) else [value]) for name, value in headers.items()
        ],
        "meta": meta,
        "timings": [(label, timings[key]) for key, label in TIMINGS if timings.get(key) is not None],
        "sent": sent,
        "curl": to_curl(sent["method"], sent["url"], [tuple(h) for h in sent["headers"]], sent["body"])
        if isinstance(sent, dict)
        else None,
    }


# --- History of the tests of a saved action ----------------------------------------------------------


def _record(action: Action, run: ActionRun, duration_ms: float) -> TestRun:
    """Keep the run as the result panel shows it (redacted like an execution), and only the last runs."""
    output = recordable(run.recorded_output)
    meta = _capped_meta(recordable(run.meta) or {})
    shown = run.output if isinstance(run.output, dict) else {}
    status, success = shown.get("status"), shown.get("success")
    sent = meta.get("request") if isinstance(meta.get("request"), dict) else {}
    truncated = _json_size(output) > MAX_STORED_JSON
    test_run = TestRun.objects.create(
        action=action,
        status=status if type(status) is int and 0 <= status <= 999 else None,
        success=success if isinstance(success, bool) else None,
        duration_ms=meta.get("duration_ms", round(duration_ms, 3)),
        size_bytes=meta.get("size_bytes"),
        method=str(sent.get("method") or "")[:10],
        url=str(sent.get("url") or ""),
        error_code=run.error.code if run.error else "",
        error_message=run.error.message if run.error else "",
        failure_allowed=run.failure_allowed,
        mask_output=run.mask_output,
        output=None if truncated else output,
        truncated=truncated,
        meta=meta,
    )
    kept = list(action.test_runs.values_list("pk", flat=True)[:HISTORY_SIZE])
    action.test_runs.exclude(pk__in=kept).delete()
    return test_run


def _json_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False).encode())


def _capped_meta(meta: dict) -> dict:
    """The meta to store: a request body too large to keep is replaced by a note of its size."""
    sent = meta.get("request")
    if isinstance(sent, dict) and isinstance(sent.get("body"), str):
        size = len(sent["body"].encode())
        if size > MAX_STORED_JSON:
            return meta | {"request": sent | {"body": f"[not kept: a body of {filesizeformat(size)}]"}}
    return meta


def _history_context(action: Action) -> dict:
    runs = list(action.test_runs.defer("output", "meta")[:HISTORY_SIZE])
    for run in runs:
        run.status_class = _status_class(run.status)
    return {"history": runs, "history_size": HISTORY_SIZE}


def _as_action_run(test_run: TestRun) -> ActionRun:
    """A stored test as the result panel renders a fresh one."""
    error = ActionFailed(test_run.error_code, test_run.error_message) if test_run.error_code else None
    return ActionRun(
        output=test_run.output,
        meta=test_run.meta,
        error=error,
        failure_allowed=test_run.failure_allowed,
        mask_output=test_run.mask_output,
    )


def _when(test_run: TestRun) -> str:
    """As the history shows it."""
    return format_date(timezone.localtime(test_run.created), DATETIME_FORMAT)


def _output_text(test_run: TestRun) -> str:
    if test_run.truncated:
        return "(the output was too large to keep)"
    return json.dumps(test_run.output, indent=2, ensure_ascii=False)


def _diff(texts: list[str], names: list[str]) -> list[tuple[str, str]]:
    """A unified diff of two texts, each line with its kind (file, hunk, add, del, same)."""
    lines = difflib.unified_diff(
        texts[0].splitlines(), texts[1].splitlines(), fromfile=names[0], tofile=names[1], lineterm=""
    )
    kinds = []
    for line in lines:
        if line.startswith(("---", "+++")):
            kind = "file"
        else:
            kind = {"@": "hunk", "+": "add", "-": "del"}.get(line[:1], "same")
        kinds.append((kind, line))
    return kinds


# --- Import from cURL --------------------------------------------------------------------------------


def _import_curl(
    request: HttpRequest, flow: Flow, action_type: ActionType, stored: Action | None
) -> HttpResponse:
    """Fill the params form from a curl command (nothing is saved): the import panel again, and the
    params swapped in out of band."""
    if (action_type.type, action_type.action) != HTTP_KIND:
        raise Http404("Only an HTTP Request can be imported from a curl command.")
    context: dict[str, Any] = {"curl_open": True, "import_url": _import_url(flow, stored)}
    curl_form = CurlImportForm(request.POST)
    if not curl_form.is_valid():
        return render(request, f"{TEMPLATE}#curl_import", context | {"curl_form": curl_form})
    imported: CurlImport = curl_form.cleaned_data["command"]
    params = dict(imported.params)
    has_secret = stored is not None and stored.secret_params is not None
    notes = [("success", "Imported into the parameters below. Nothing is saved until you save.")]
    if basic := params.get("basic"):
        # The password is never written into the page: the user types it into the write-only field.
        params["basic"] = {"username": basic.get("username", "")}
        if basic.get("password"):
            keep = " (left blank, the stored password is kept)" if has_secret else ""
            notes.append(
                (
                    "warning",
                    "Basic auth: the username is filled in. Type the password from the command into "
                    f"Password{keep}: it is not copied into the page.",
                )
            )
    if imported.unsupported:
        notes.append(
            (
                "warning",
                "Not imported (the HTTP Request action has no equivalent): "
                + ", ".join(imported.unsupported),
            )
        )
    params_form = action_type.form_class(
        action_type.form_class.data_from_params(params),
        params=params,
        has_secret=has_secret,
        earlier_ids=_ids(earlier_actions(flow, stored)),
        may_use_connections=vault.may_use(request.user),
    )
    params_form.is_valid()
    context |= {"curl_form": CurlImportForm(), "curl_notes": notes}
    panel = render_to_string(f"{TEMPLATE}#curl_import", context, request)
    params_card = render_to_string(
        f"{TEMPLATE}#params_card",
        {"flow": flow, "action": stored, "action_type": action_type, "oob": True}
        | _params_context(params_form),
        request,
    )
    return HttpResponse(panel + params_card)
