from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from flowdesigner.access import staff_required
from vault.models import Connection


@staff_required
def connection_list(request: HttpRequest) -> HttpResponse:
    return render(request, "vault/connection_list.html", {"connections": Connection.objects.all()})
