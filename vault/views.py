"""The vault page: list, create, edit and delete connections. Secrets go in, never come out."""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.middleware import HtmxDetails

from flowdesigner.access import staff_required
from vault.checks import check_connection
from vault.forms import ConnectionForm
from vault.models import Connection, ConnectionType

FORM_TEMPLATE = "vault/connection_form.html"


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _require(request: HttpRequest, *perms: str) -> None:
    """Staff is not enough: the vault's own permissions decide who may see or change connections."""
    if not any(request.user.has_perm(p) for p in perms):
        raise PermissionDenied


@staff_required
@require_safe
def connection_list(request: HtmxHttpRequest) -> HttpResponse:
    _require(request, "vault.view_connection", "vault.change_connection")
    return render(request, "vault/connection_list.html", {"connections": Connection.objects.all()})


def _form_page(request: HtmxHttpRequest, connection: Connection | None) -> HttpResponse:
    """The create/edit form. An HTMX GET with ?type= answers only that type's setup fields."""
    if request.method == "POST":
        form = ConnectionForm(request.POST, instance=connection)
        if form.is_valid():
            saved = form.save()
            messages.success(request, f"Connection “{saved.name}” {'saved' if connection else 'created'}.")
            return redirect("vault:list")
    else:
        chosen = request.GET.get("type")
        initial = {"type": chosen} if chosen in ConnectionType.values else None
        form = ConnectionForm(instance=connection, initial=initial)
        if request.htmx:
            return render(request, f"{FORM_TEMPLATE}#setup_fields", {"form": form})
    return render(request, FORM_TEMPLATE, {"form": form, "connection": connection})


@staff_required
@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def connection_create(request: HtmxHttpRequest) -> HttpResponse:
    _require(request, "vault.add_connection")
    return _form_page(request, None)


@staff_required
@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def connection_edit(request: HtmxHttpRequest, pk: UUID) -> HttpResponse:
    _require(request, "vault.change_connection")
    return _form_page(request, get_object_or_404(Connection, pk=pk))


@staff_required
@require_http_methods(["GET", "POST"])
def connection_delete(request: HtmxHttpRequest, pk: UUID) -> HttpResponse:
    _require(request, "vault.delete_connection")
    connection = get_object_or_404(Connection, pk=pk)
    if request.method == "POST":
        connection.delete()
        messages.success(request, f"Connection “{connection.name}” deleted.")
        return redirect("vault:list")
    return render(request, "vault/connection_confirm_delete.html", {"connection": connection})


@staff_required
@require_POST
def connection_check(request: HtmxHttpRequest, pk: UUID) -> HttpResponse:
    """Check the connection's secret (an OAuth client fetches a token) and say how it went, revealing
    nothing: the result partial for the page's Check button."""
    _require(request, "vault.view_connection", "vault.change_connection")
    connection = get_object_or_404(Connection, pk=pk)
    result = check_connection(connection)
    return render(request, "vault/connection_list.html#check_result", {"result": result})
