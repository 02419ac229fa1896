from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from actions.models import Flow
from flowdesigner.access import staff_required


@staff_required
def flow_list(request: HttpRequest) -> HttpResponse:
    return render(request, "actions/flow_list.html", {"flows": Flow.objects.all()})


def flow_create(request: HttpRequest) -> HttpResponse:
    raise Http404


def flow_detail(request: HttpRequest, flow_id) -> HttpResponse:
    raise Http404


def flow_edit(request: HttpRequest, flow_id) -> HttpResponse:
    raise Http404


def flow_delete(request: HttpRequest, flow_id) -> HttpResponse:
    raise Http404
