from django.http import Http404, HttpRequest, HttpResponse


def action_create(request: HttpRequest, flow_id, type: str, action: str) -> HttpResponse:
    raise Http404


def action_edit(request: HttpRequest, flow_id, pk: int) -> HttpResponse:
    raise Http404


def action_delete(request: HttpRequest, flow_id, pk: int) -> HttpResponse:
    raise Http404


def action_test(request: HttpRequest, flow_id, pk: int) -> HttpResponse:
    raise Http404


def action_test_new(request: HttpRequest, flow_id) -> HttpResponse:
    raise Http404


def row(request: HttpRequest, flow_id, field: str) -> HttpResponse:
    raise Http404
