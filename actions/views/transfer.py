"""Import flows from a JSON file (or pasted JSON) and export one flow as a download (DESIGN §7)."""

import json
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods

from actions.flowjson import FlowImportError, export_flow, import_flows
from actions.models import Flow
from flowdesigner.access import staff_required
from vault import api as vault

MAX_IMPORT_BYTES = 5 * 1024 * 1024


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Flow file",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
        help_text="A .json file holding one flow or a list of flows, as exported here or by Auth0.",
    )
    text = forms.CharField(
        label="Or paste the JSON",
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false", "class": "code"}),
        help_text='{"name": "…", "actions": [{"id", "type", "action", "params", …}]}',
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        upload, text = cleaned.get("file"), (cleaned.get("text") or "").strip()
        if upload and text:
            raise forms.ValidationError("Choose a file or paste JSON, not both.")
        if not upload and not text:
            raise forms.ValidationError("Choose a flow file or paste its JSON.")
        if upload:
            if upload.size > MAX_IMPORT_BYTES:
                self.add_error("file", f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MiB.")
                return cleaned
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                self.add_error("file", "The file is not UTF-8 text.")
                return cleaned
        field = "file" if upload else "text"
        try:
            cleaned["data"] = json.loads(text)
        except json.JSONDecodeError as error:
            self.add_error(field, f"Not valid JSON (line {error.lineno}, column {error.colno}): {error.msg}.")
        return cleaned


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def flow_import(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    warnings: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data["data"]
        if _uses_connections(data) and not vault.may_use(request.user):
            problems = [f"This file sets a vault connection on an action. {vault.NO_USE_PERMISSION}"]
            return render(request, "actions/flow_import.html", {"form": form, "problems": problems})
        try:
            flows = import_flows(data, warnings)
        except FlowImportError as error:
            problems = error.problems
        else:
            names = ", ".join(f"“{flow.name}” (version {flow.version})" for flow in flows)
            messages.success(request, f"Imported {len(flows)} flow{'s' if len(flows) > 1 else ''}: {names}.")
            if not warnings:
                return redirect("actions:flow_detail", flow_id=flows[0].pk)
            # What was imported as is must be read before moving on: the page lists it, with the flows.
            context = {"form": ImportForm(), "imported": flows, "warnings": warnings}
            return render(request, "actions/flow_import.html", context)
    return render(request, "actions/flow_import.html", {"form": form, "problems": problems})


def _uses_connections(data: Any) -> bool:
    """Whether any action params, at any depth (branches hold actions too), name a connection."""
    if isinstance(data, list):
        return any(_uses_connections(item) for item in data)
    if not isinstance(data, dict):
        return False
    params = data.get("params")
    if isinstance(params, dict) and params.get("connection_id"):
        return True
    return any(_uses_connections(value) for value in data.values())


def _download_name(flow: Flow) -> str:
    # Path separators and control characters have no place in a file name; the rest is encoded
    # by content_disposition_header (RFC 6266 filename*).
    safe = "".join("_" if ch in '/\\"' or ord(ch) < 32 else ch for ch in flow.name).strip(" .")
    return f"{safe or 'flow'}.json"


@staff_required
@require_http_methods(["GET", "HEAD"])
def flow_export(request: HttpRequest, flow_id: UUID) -> HttpResponse:
    flow = get_object_or_404(Flow, pk=flow_id)
    data: dict[str, Any] = export_flow(flow)
    body = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return HttpResponse(
        body,
        content_type="application/json; charset=utf-8",
        headers={"Content-Disposition": content_disposition_header(True, _download_name(flow))},
    )
