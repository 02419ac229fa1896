from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from actions.models import Flow


@pytest.fixture
def flow(db):
    return Flow.objects.create(name="Access")


def test_an_expired_session_on_a_partial_returns_to_the_page_after_login(client, flow):
    page = reverse("actions:flow_detail", args=[flow.pk])
    response = client.get(
        reverse("actions:row", args=[flow.pk, "headers"]),
        headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver{page}"},
    )
    assert response.status_code == 204
    login = urlsplit(response["HX-Redirect"])
    assert login.path == reverse("login")
    assert parse_qs(login.query)["next"] == [page]


def test_an_expired_session_on_a_page_returns_to_that_page(client, flow):
    page = reverse("actions:flow_detail", args=[flow.pk])
    response = client.get(page)
    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query)["next"] == [page]


def test_a_user_who_is_not_staff_gets_a_page_with_a_way_out(outsider_client):
    response = outsider_client.get(reverse("actions:flow_list"))
    assert response.status_code == 403
    assert b"Not allowed" in response.content
    assert reverse("logout").encode() in response.content


def test_a_request_over_the_size_limit_gets_a_page_that_says_so(staff_client, settings, flow):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = staff_client.post(reverse("actions:flow_run", args=[flow.pk]), {"fields": "x" * 2000})
    assert response.status_code == 400
    assert b"larger than the server accepts" in response.content
