"""The editor's Test: the form as filled in now, sent for real, the result rendered in place."""

import pytest
from django.urls import reverse

from actions.http_client import BLOCKED_MESSAGE
from actions.models import Action, Flow
from tests.http_action.conftest import make_connection
from tests.http_action.test_editor_views import form_data
from vault.secrets import Secret

HTMX = {"HX-Request": "true"}


def url_of(action: Action) -> str:
    return reverse("actions:action_test", args=[action.flow_id, action.pk])


@pytest.fixture
def action(flow):
    return Action.objects.create(
        flow=flow, action_id="call", type="HTTP", action="SEND_REQUEST", params={"url": "https://x.test/"}
    )


def test_c23_a_bearer_connection_is_masked_in_the_result(
    staff_client, flow, action, httpbin_url, allow_loopback
):
    connection = make_connection("crm", "BEARER", {"token": "tok_SENTINEL"})
    data = form_data(flow, url=f"{httpbin_url}/anything?x=1", connection_id=str(connection.pk))
    response = staff_client.post(url_of(action), data, headers=HTMX)
    assert response.status_code == 200
    text = response.text
    assert "<html" not in text
    assert '<span class="badge status-2xx">200</span>' in text
    assert '<span class="badge success">success</span>' in text
    assert "Bearer ********" in text
    assert "tok_SENTINEL" not in text
    assert f"<code>{httpbin_url}/anything?x=1</code>" in text
    assert "Request as sent" in text
    assert '<td><code>content-type</code></td><td class="wrap">application/json</td>' in text


def test_the_test_uses_the_form_as_filled_in_not_the_saved_action(
    staff_client, flow, action, httpbin_url, allow_loopback
):
    data = form_data(
        flow,
        url=f"{httpbin_url}/anything/{{{{fields.id}}}}",
        method="POST",
        payload='{"note": "{{fields.note}}"}',
        test_input='{"fields": {"id": "a b", "note": "<b>&"}}',
    )
    response = staff_client.post(url_of(action), data, headers=HTMX)
    assert f"{httpbin_url}/anything/a%20b" in response.text
    assert "&quot;note&quot;: &quot;&lt;b&gt;&amp;&quot;" in response.text
    assert "<b>&" not in response.text
    assert Action.objects.get().params == {"url": "https://x.test/"}


def test_a_blank_password_means_the_stored_one(staff_client, flow, action, httpbin_url, allow_loopback):
    Action.objects.filter(pk=action.pk).update(secret_params=Secret({"basic_password": "pass_SENTINEL"}))
    data = form_data(
        flow, url=f"{httpbin_url}/basic-auth/ada/pass_SENTINEL", basic_enabled="on", basic_username="ada"
    )
    response = staff_client.post(url_of(action), data, headers=HTMX)
    assert '<span class="badge status-2xx">200</span>' in response.text
    assert "Basic ********" in response.text
    assert "pass_SENTINEL" not in response.text


def test_a_404_is_a_result_not_an_error(staff_client, flow, action, httpbin_url, allow_loopback):
    response = staff_client.post(
        url_of(action), form_data(flow, url=f"{httpbin_url}/status/404"), headers=HTMX
    )
    assert '<span class="badge status-4xx">404</span>' in response.text
    assert '<span class="badge failure">not a success</span>' in response.text


def test_a_blocked_destination_renders_a_clear_message(staff_client, flow, action):
    response = staff_client.post(
        url_of(action), form_data(flow, url="http://127.0.0.1:9/admin"), headers=HTMX
    )
    assert response.status_code == 200
    assert BLOCKED_MESSAGE in response.text
    assert "<code>blocked_destination</code>" in response.text
    assert "Traceback" not in response.text


def test_with_allow_failure_the_failure_output_is_shown(staff_client, flow, action):
    data = form_data(flow, url="http://127.0.0.1:9/admin", allow_failure="on")
    response = staff_client.post(url_of(action), data, headers=HTMX)
    assert "It allows failure, so the flow would go on with this output." in response.text
    assert "&quot;status&quot;: 0" in response.text


def test_validation_errors_are_listed_and_nothing_is_sent(staff_client, flow, action):
    data = form_data(flow, url="ftp://x", basic_enabled="on", test_input="{bad")
    response = staff_client.post(url_of(action), data, headers=HTMX)
    assert response.status_code == 200
    assert "Not sent: fix these first." in response.text
    assert "<strong>URL</strong>: The URL must start with http:// or https://." in response.text
    assert "<strong>Username</strong>: Basic auth is enabled: enter a username." in response.text
    assert "<strong>Test input</strong>: The input is not valid JSON" in response.text


def test_a_missing_connection_renders_a_clear_message(staff_client, flow, action, db):
    connection = make_connection("gone", "BEARER", {"token": "t"})
    gone = str(connection.pk)
    data = form_data(flow, connection_id=gone)
    connection.delete()
    response = staff_client.post(url_of(action), data, headers=HTMX)
    assert f"Connection &quot;{gone}&quot; does not exist" in response.text


def test_test_before_the_first_save(staff_client, flow, httpbin_url, allow_loopback):
    url = reverse("actions:action_test_new", args=[flow.pk])
    data = form_data(flow, url=f"{httpbin_url}/get", kind="HTTP/SEND_REQUEST")
    response = staff_client.post(url, data, headers=HTMX)
    assert '<span class="badge status-2xx">200</span>' in response.text
    assert not Action.objects.exists()
    assert Flow.objects.get().version == 1
    assert staff_client.post(url, {**data, "kind": "NOPE/NOPE"}).status_code == 404


def test_the_test_is_post_only(staff_client, action):
    assert staff_client.get(url_of(action)).status_code == 405


def test_the_redirect_chain_and_final_url_are_shown(staff_client, flow, action, httpbin_url, allow_loopback):
    response = staff_client.post(
        url_of(action), form_data(flow, url=f"{httpbin_url}/redirect/2"), headers=HTMX
    )
    text = response.text
    assert f"<dt>Final URL</dt><dd><code>{httpbin_url}/get</code></dd>" in text
    assert text.count('<li><span class="badge">302</span>') == 2
    assert f"<code>{httpbin_url}/redirect/2</code>" in text
