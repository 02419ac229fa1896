"""The flows pages: list (with live search), create, detail, edit, duplicate and delete."""

from copy import copy
from dataclasses import dataclass
from uuid import UUID

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import Count, F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from actions.models import Action, Flow
from actions.views.canvas import canvas_context
from flowdesigner.access import staff_required


class FlowForm(forms.ModelForm):
    class Meta:
        model = Flow
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}
        help_texts = {
            "name": "Unique, up to 150 characters.",
            "description": "Optional: what the flow is for.",
        }
        error_messages = {"name": {"unique": "A flow with this name already exists."}}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        # Unique whatever the case, as the database (and an import) sees names.
        if Flow.objects.filter(name__iexact=name).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("A flow with this name already exists.", code="unique")
        return name


class FlowEditForm(FlowForm):
    # The version the form was loaded at: saving over a newer version is refused.
    version = forms.IntegerField(
        min_value=1,
        widget=forms.HiddenInput,
        error_messages={
            key: "This form does not say which version of the flow it was loaded from: reload the page."
            for key in ("required", "invalid", "min_value")
        },
    )


@dataclass(frozen=True)
class ActionRow:
    """One line of the flow's action list: nested If/then branches are indented under their parent."""

    action: Action
    depth: int
    branch: str

    @property
    def summary(self) -> str:
        if self.action.kind == "HTTP/SEND_REQUEST":
            params = self.action.params or {}
            return f"{params.get('method') or 'GET'} {params.get('url') or '(no URL)'}"
        return ""


def action_rows(flow: Flow) -> list[ActionRow]:
    """The flow's actions in run order, with one query whatever the nesting."""
    children: dict[int | None, list[Action]] = {}
    for action in flow.actions.order_by("position", "pk"):
        children.setdefault(action.parent_id, []).append(action)

    rows: list[ActionRow] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for action in children.get(parent_id, []):
            rows.append(ActionRow(action, depth, action.branch))
            walk(action.pk, depth + 1)

    walk(None, 0)
    return rows


@staff_required
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "HEAD"])
def flow_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    flows = Flow.objects.annotate(action_count=Count("actions")).order_by("name")
    if query:
        flows = flows.filter(Q(name__icontains=query) | Q(description__icontains=query))
    context = {"flows": flows, "query": query}
    template = "actions/flow_list.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    return render(request, template, context)


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def flow_create(request: HttpRequest) -> HttpResponse:
    form = FlowForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        flow = form.save()
        messages.success(request, f"Flow “{flow.name}” created.")
        return redirect("actions:flow_detail", flow_id=flow.pk)
    return render(request, "actions/flow_form.html", {"form": form})


@staff_required
@require_http_methods(["GET", "HEAD"])
def flow_detail(request: HttpRequest, flow_id: UUID) -> HttpResponse:
    flow = get_object_or_404(Flow, pk=flow_id)
    return render(request, "actions/flow_detail.html", canvas_context(flow))


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def flow_edit(request: HttpRequest, flow_id: UUID) -> HttpResponse:
    flow = get_object_or_404(Flow, pk=flow_id)
    if request.method != "POST":
        form = FlowEditForm(instance=flow, initial={"version": flow.version})
        return render(request, "actions/flow_form.html", {"form": form, "flow": flow})

    # The form works on a copy: the page keeps showing the saved name if the input is refused.
    form = FlowEditForm(request.POST, instance=copy(flow))
    if not form.is_valid():
        return render(request, "actions/flow_form.html", {"form": form, "flow": flow})

    loaded = form.cleaned_data["version"]
    # One conditional UPDATE, so two editors saving at once cannot both win.
    saved = Flow.objects.filter(pk=flow_id, version=loaded).update(
        name=form.cleaned_data["name"],
        description=form.cleaned_data["description"],
        version=F("version") + 1,
        updated=timezone.now(),
    )
    if saved:
        messages.success(request, f"Flow “{form.cleaned_data['name']}” saved (version {loaded + 1}).")
        return redirect("actions:flow_detail", flow_id=flow_id)

    # Someone saved a newer version: keep what this user typed, show theirs, and let a second
    # save deliberately replace it (the form now carries the newer version number).
    current = get_object_or_404(Flow, pk=flow_id)
    data = request.POST.copy()
    data["version"] = str(current.version)
    form = FlowEditForm(data, instance=Flow.objects.get(pk=flow_id))
    form.is_valid()
    form.add_error(
        None,
        f"Not saved: this flow was changed by someone else (now version {current.version}) after you "
        f"opened it at version {loaded}. Your changes are still in the form below; compare them with "
        "the saved version, then save again to replace it.",
    )
    return render(request, "actions/flow_form.html", {"form": form, "flow": current, "conflict": current})


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def flow_delete(request: HttpRequest, flow_id: UUID) -> HttpResponse:
    flow = get_object_or_404(Flow, pk=flow_id)
    if request.method == "POST":
        flow.delete()
        messages.success(request, f"Flow “{flow.name}” deleted.")
        return redirect("actions:flow_list")
    return render(
        request, "actions/flow_confirm_delete.html", {"flow": flow, "action_count": flow.actions.count()}
    )


def copy_name(name: str) -> str:
    """The first free name of "X (copy)", "X (copy 2)", … that fits the 150 characters of a name."""
    # Every candidate starts with the first 100 characters of the name: one query finds those taken
    # (names are unique whatever their case).
    names = Flow.objects.filter(name__istartswith=name[:100]).values_list("name", flat=True)
    taken = {n.lower() for n in names}
    number = 1
    while True:
        suffix = " (copy)" if number == 1 else f" (copy {number})"
        candidate = name[: 150 - len(suffix)] + suffix
        if candidate.lower() not in taken:
            return candidate
        number += 1


@transaction.atomic
def duplicate_flow(flow: Flow) -> Flow:
    """A new flow with a copy of every action (secret params stay encrypted), under a free name."""
    duplicate = Flow.objects.create(name=copy_name(flow.name), description=flow.description)
    children: dict[int | None, list[Action]] = {}
    for action in flow.actions.order_by("position", "pk"):
        children.setdefault(action.parent_id, []).append(action)
    # Level by level, so that every nested action's parent is saved (and has its pk) before it.
    level, copies = children.get(None, []), {}
    while level:
        new = [
            Action(
                flow=duplicate,
                parent=copies.get(action.parent_id),
                branch=action.branch,
                position=action.position,
                action_id=action.action_id,
                alias=action.alias,
                type=action.type,
                action=action.action,
                allow_failure=action.allow_failure,
                mask_output=action.mask_output,
                params=action.params,
                secret_params=action.secret_params,
            )
            for action in level
        ]
        Action.objects.bulk_create(new)
        copies.update({action.pk: copied for action, copied in zip(level, new, strict=True)})
        level = [child for action in level for child in children.get(action.pk, [])]
    return duplicate


@staff_required
@require_POST
def flow_duplicate(request: HttpRequest, flow_id: UUID) -> HttpResponse:
    flow = get_object_or_404(Flow, pk=flow_id)
    copy_ = duplicate_flow(flow)
    messages.success(request, f"Flow “{flow.name}” duplicated as “{copy_.name}”.")
    return redirect("actions:flow_detail", flow_id=copy_.pk)
