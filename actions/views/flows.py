from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from actions.models import Flow
from flowdesigner.access import staff_required


@staff_required
def flow_list(request: HttpRequest) -> HttpResponse:
    return render(request, "actions/flow_list.html", {"flows": Flow.objects.all()})
