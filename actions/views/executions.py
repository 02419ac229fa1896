"""Running a flow from the browser, and the executions it leaves: lists (all flows, one flow) and detail."""

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from actions.engine import run_flow
from actions.models import ActionRun, Execution, Flow, Status, Trigger
from flowdesigner.access import staff_required

PAGE_SIZE = 50


def _run_input_key(flow: Flow) -> str:
    return f"actions.run_input.{flow.pk}"


class RunForm(forms.Form):
    fields = forms.CharField(
        label="Input fields",
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false", "class": "code"}),
        help_text='A JSON object; actions read it as {{fields.name}}. Example: {"email": "ada@example.com"}',
    )

    def clean_fields(self) -> dict:
        text = self.cleaned_data["fields"].strip() or "{}"
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                f"Not valid JSON (line {error.lineno}, column {error.colno}): {error.msg}."
            ) from None
        if not isinstance(value, dict):
            raise forms.ValidationError('The input fields must be a JSON object, such as {"name": "value"}.')
        return value


def _last_input(request: HttpRequest, flow: Flow) -> str:
    """What this user typed last time for this flow, else the input of the flow's latest execution."""
    if (typed := request.session.get(_run_input_key(flow))) is not None:
        return typed
    latest = flow.executions.only("fields").first()
    return json.dumps(latest.fields, indent=2, ensure_ascii=False) if latest and latest.fields else "{}"


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def flow_run(request: HttpRequest, flow_id: UUID) -> HttpResponse:
    flow = get_object_or_404(Flow, pk=flow_id)
    if request.method != "POST":
        form = RunForm(initial={"fields": _last_input(request, flow)})
        return render(request, "actions/flow_run.html", {"flow": flow, "form": form})
    form = RunForm(request.POST)
    if not form.is_valid():
        return render(request, "actions/flow_run.html", {"flow": flow, "form": form})
    request.session[_run_input_key(flow)] = request.POST.get("fields", "")
    execution = run_flow(flow, fields=form.cleaned_data["fields"], trigger=Trigger.MANUAL)
    _announce(request, execution)
    return redirect("actions:execution_detail", execution_id=execution.pk)


def _announce(request: HttpRequest, execution: Execution) -> None:
    if execution.status == Status.COMPLETED:
        messages.success(request, f"Flow “{execution.flow.name}” ran to completion.")
    else:
        messages.error(request, f"Flow “{execution.flow.name}” failed: see the highlighted step.")


class ExecutionFilter(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *Status.choices], required=False, label="Status")


def _execution_list(request: HttpRequest, flow: Flow | None) -> HttpResponse:
    # An unknown status is ignored rather than refused: the list is a bookmarkable read-only page.
    filter_form = ExecutionFilter(request.GET)
    status = filter_form.cleaned_data["status"] if filter_form.is_valid() else ""
    executions = Execution.objects.select_related("flow").order_by("-created")
    if flow is not None:
        executions = executions.filter(flow=flow)
    if status:
        executions = executions.filter(status=status)
    page = Paginator(executions, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"flow": flow, "page": page, "status": status, "filter_form": filter_form}
    template = "actions/execution_list.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    return render(request, template, context)


@staff_required
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "HEAD"])
def execution_list(request: HttpRequest) -> HttpResponse:
    return _execution_list(request, None)


@staff_required
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "HEAD"])
def flow_execution_list(request: HttpRequest, flow_id: UUID) -> HttpResponse:
    return _execution_list(request, get_object_or_404(Flow, pk=flow_id))


def as_json(value: Any) -> str:
    """Indented JSON for a <pre> block (the template escapes it)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


@dataclass(frozen=True)
class Step:
    """One action run as the detail page shows it; the failed step is opened and highlighted."""

    run: ActionRun
    failed: bool

    @property
    def masked(self) -> bool:
        return self.run.output == "masked"

    @property
    def params_json(self) -> str:
        return as_json(self.run.params)

    @property
    def output_json(self) -> str:
        return as_json(self.run.output)

    @property
    def error_json(self) -> str:
        return as_json(self.run.error)

    @property
    def request_json(self) -> str:
        """The HTTP request exactly as sent (recorded with its secrets masked), if the step sent one."""
        request = self.run.meta.get("request") if isinstance(self.run.meta, dict) else None
        return as_json(request) if request else ""


def _steps(execution: Execution) -> list[Step]:
    runs = list(execution.action_runs.order_by("position"))
    failed_id = (execution.error or {}).get("action_id") if execution.status == Status.FAILED else None
    # The step that stopped the run: the last failed run of the action named by the error (an earlier
    # failure whose action allows failure did not stop anything).
    failed_run = next(
        (run for run in reversed(runs) if run.status == Status.FAILED and run.action_id == failed_id), None
    )
    return [Step(run, run is failed_run) for run in runs]


@staff_required
@require_http_methods(["GET", "HEAD"])
def execution_detail(request: HttpRequest, execution_id: UUID) -> HttpResponse:
    execution = get_object_or_404(Execution.objects.select_related("flow"), pk=execution_id)
    context = {
        "execution": execution,
        "flow": execution.flow,
        "steps": _steps(execution),
        "fields_json": as_json(execution.fields),
        "output_json": as_json(execution.output),
    }
    return render(request, "actions/execution_detail.html", context)


@staff_required
@require_POST
def execution_rerun(request: HttpRequest, execution_id: UUID) -> HttpResponse:
    previous = get_object_or_404(Execution.objects.select_related("flow"), pk=execution_id)
    execution = run_flow(previous.flow, fields=previous.fields, trigger=Trigger.MANUAL)
    _announce(request, execution)
    return redirect("actions:execution_detail", execution_id=execution.pk)
