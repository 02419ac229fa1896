"""The action editor pages: access, create, edit (with the flow version), delete, rows, warnings."""

import pytest
from django.db import connection as db_connection
from django.urls import reverse

from actions.models import Action, Flow
from tests.http_action.conftest import make_connection


@pytest.fixture
def action(flow):
    return Action.objects.create(
        flow=flow,
        action_id="get_user",
        type="HTTP",
        action="SEND_REQUEST",
        params={"url": "https://api.example.com/users/1", "method": "GET", "content_type": "JSON"},
    )


def create_url(flow: Flow) -> str:
    return reverse("actions:action_create", args=[flow.pk, "HTTP", "SEND_REQUEST"])


def edit_url(action: Action) -> str:
    return reverse("actions:action_edit", args=[action.flow_id, action.pk])


def form_data(flow: Flow, **changes) -> dict:
    data = {
        "version": flow.version,
        "action_id": "get_user",
        "alias": "",
        "url": "https://api.example.com/users/{{fields.id}}",
        "method": "GET",
        "content_type": "JSON",
        "payload": "",
        "headers_key": [""],
        "headers_value": [""],
        "params_key": [""],
        "params_value": [""],
        "follow_redirects": "on",
        "retry_attempts": "1",
        "retry_backoff": "exponential",
        "retry_delay": "1",
        "retry_on_statuses": "429, 502-504",
        "success_statuses": "200-299",
    }
    return data | changes


def page_urls(flow: Flow, action: Action) -> list[str]:
    return [create_url(flow), edit_url(action), reverse("actions:row", args=[flow.pk, "headers"])]


def post_urls(flow: Flow, action: Action) -> list[str]:
    return [
        create_url(flow),
        edit_url(action),
        reverse("actions:action_delete", args=[flow.pk, action.pk]),
        reverse("actions:action_test", args=[flow.pk, action.pk]),
        reverse("actions:action_test_new", args=[flow.pk]),
    ]


def test_anonymous_is_sent_to_login(client, flow, action):
    for url in page_urls(flow, action) + post_urls(flow, action):
        response = client.post(url) if url in post_urls(flow, action) else client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))


def test_anonymous_htmx_gets_hx_redirect(client, flow, action):
    response = client.post(
        reverse("actions:action_test", args=[flow.pk, action.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("login"))


def test_outsider_is_forbidden(outsider_client, flow, action):
    for url in page_urls(flow, action):
        assert outsider_client.get(url).status_code == 403, url
    for url in post_urls(flow, action):
        assert outsider_client.post(url, form_data(flow, action_id="other")).status_code == 403, url
    assert Action.objects.get() == action
    assert Flow.objects.get().version == 1


def test_staff_sees_the_editor(staff_client, flow, action):
    for url in page_urls(flow, action):
        assert staff_client.get(url).status_code == 200, url


def test_an_action_of_another_flow_is_404(staff_client, action):
    other = Flow.objects.create(name="Other")
    assert staff_client.get(reverse("actions:action_edit", args=[other.pk, action.pk])).status_code == 404
    test_url = reverse("actions:action_test", args=[other.pk, action.pk])
    assert staff_client.post(test_url, form_data(other)).status_code == 404
    assert staff_client.post(reverse("actions:action_delete", args=[other.pk, action.pk])).status_code == 404
    assert Action.objects.filter(pk=action.pk).exists()


def test_an_unknown_action_type_or_row_field_is_404(staff_client, flow):
    assert (
        staff_client.get(reverse("actions:action_create", args=[flow.pk, "HTTP", "NOPE"])).status_code == 404
    )
    assert staff_client.get(reverse("actions:row", args=[flow.pk, "payload"])).status_code == 404


def test_create_saves_the_action_and_bumps_the_flow_version(staff_client, flow):
    page = staff_client.get(create_url(flow))
    assert 'value="http_request_1"' in page.text
    data = form_data(
        flow,
        action_id="get_user",
        alias="Get the user",
        method="POST",
        payload='{"id": {{fields.id}}}',
        headers_key=["Accept", ""],
        headers_value=["application/json", ""],
        params_key=["tag", "tag"],
        params_value=["a", "b"],
        allow_failure="on",
    )
    response = staff_client.post(create_url(flow), data)
    action = Action.objects.get()
    assert response.status_code == 302
    assert response["Location"] == edit_url(action)
    assert (action.action_id, action.alias, action.allow_failure, action.mask_output) == (
        "get_user",
        "Get the user",
        True,
        False,
    )
    assert action.params == {
        "url": "https://api.example.com/users/{{fields.id}}",
        "method": "POST",
        "content_type": "JSON",
        "payload": '{"id": {{fields.id}}}',
        "headers": [{"key": "Accept", "value": "application/json"}],
        "params": [{"key": "tag", "value": "a"}, {"key": "tag", "value": "b"}],
    }
    assert Flow.objects.get().version == 2
    follow = staff_client.get(response["Location"])
    assert "Action “get_user” saved (flow version 2)." in follow.text


def test_invalid_input_is_shown_beside_the_fields_and_nothing_is_saved(staff_client, flow):
    data = form_data(
        flow, url="ftp://x", headers_key=["", "X"], headers_value=["v", "a\nb"], basic_enabled="on"
    )
    response = staff_client.post(create_url(flow), data)
    assert response.status_code == 200
    assert "Not saved: fix the fields marked below." in response.text
    assert "The URL must start with http:// or https://." in response.text
    assert "Row 1 has a value but no name." in response.text
    assert "Basic auth is enabled: enter a username." in response.text
    assert 'name="headers_value" value="v"' in response.text
    assert Action.objects.count() == 0
    assert Flow.objects.get().version == 1


def test_the_id_must_be_unique_in_the_flow(staff_client, flow, action):
    response = staff_client.post(create_url(flow), form_data(flow, action_id="get_user"))
    assert "Another action of this flow already has the id &quot;get_user&quot;." in response.text
    assert Action.objects.count() == 1


def test_saving_over_a_newer_version_is_refused_then_allowed(staff_client, flow, action):
    stale = form_data(flow, alias="mine")
    Flow.objects.filter(pk=flow.pk).update(version=5)
    refused = staff_client.post(edit_url(action), stale)
    assert "Not saved: this flow was changed by someone else (now version 5)" in refused.text
    assert 'value="mine"' in refused.text
    assert 'name="version" value="5"' in refused.text
    assert Action.objects.get().alias == ""
    saved = staff_client.post(edit_url(action), form_data(flow, alias="mine", version=5))
    assert saved.status_code == 302
    assert Action.objects.get().alias == "mine"
    assert Flow.objects.get().version == 6


def test_c09_the_body_is_always_shown_and_never_sent_once_cleared(staff_client, flow, action):
    staff_client.post(edit_url(action), form_data(flow, method="POST", payload='{"ids": [1, 2]}'))
    assert Action.objects.get().params["payload"] == {"ids": [1, 2]}
    page = staff_client.get(edit_url(action))
    assert 'id="id_payload"' in page.text
    assert "Sent with every method, GET and DELETE included, whenever it is not empty." in page.text
    staff_client.post(edit_url(action), form_data(Flow.objects.get(), method="GET", payload=""))
    assert "payload" not in Action.objects.get().params


def test_the_password_is_write_only_and_encrypted(staff_client, flow, action):
    data = form_data(flow, basic_enabled="on", basic_username="ada", basic_password="pass_SENTINEL")
    staff_client.post(edit_url(action), data)
    action.refresh_from_db()
    assert action.params["basic"] == {"username": "ada"}
    assert action.secret_params.reveal() == {"basic_password": "pass_SENTINEL"}
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT secret_params, params FROM actions_action WHERE id = %s", [action.pk])
        stored = " ".join(map(str, cursor.fetchone()))
    assert "pass_SENTINEL" not in stored
    page = staff_client.get(edit_url(action))
    assert "pass_SENTINEL" not in page.text
    assert "A password is stored (write-only). Leave blank to keep it." in page.text
    keep = form_data(Flow.objects.get(), basic_enabled="on", basic_username="ada", basic_password="")
    staff_client.post(edit_url(action), keep)
    action.refresh_from_db()
    assert action.secret_params.reveal() == {"basic_password": "pass_SENTINEL"}
    off = form_data(Flow.objects.get())
    staff_client.post(edit_url(action), off)
    action.refresh_from_db()
    assert action.secret_params is None and "basic" not in action.params


def test_c08_the_editor_warns_about_a_reference_that_does_not_resolve(staff_client, flow, action):
    later = Action.objects.create(
        flow=flow,
        action_id="notify",
        type="HTTP",
        action="SEND_REQUEST",
        position=1,
        params={
            "url": "https://x.test/{{actions.get_user.body.id}}",
            "headers": [{"key": "X-Ref", "value": "{{actions.nope.body.id}}"}],
        },
    )
    page = staff_client.get(edit_url(later))
    assert "&quot;actions.nope&quot; is not an action that runs before this one" in page.text
    assert "actions.get_user&quot; is not" not in page.text
    earlier = staff_client.get(edit_url(action))
    assert "is not an action that runs before this one" not in earlier.text


def test_c10c_the_editor_says_which_authorization_wins(staff_client, flow, action):
    connection = make_connection("crm", "BEARER", {"token": "tok_SENTINEL"})
    data = form_data(
        flow,
        connection_id=str(connection.pk),
        basic_enabled="on",
        basic_username="ada",
        basic_password="pw",
        headers_key=["Authorization"],
        headers_value=["Token mine"],
    )
    staff_client.post(edit_url(action), data)
    page = staff_client.get(edit_url(action))
    assert (
        "Authorization: your header is sent; the one from basic auth and the connection is not." in page.text
    )
    assert "tok_SENTINEL" not in page.text


def test_delete_removes_the_action_and_bumps_the_version(staff_client, flow, action):
    response = staff_client.post(reverse("actions:action_delete", args=[flow.pk, action.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("actions:flow_detail", args=[flow.pk])
    assert not Action.objects.exists()
    assert Flow.objects.get().version == 2


def test_delete_from_htmx_redirects_with_hx_redirect(staff_client, flow, action):
    url = reverse("actions:action_delete", args=[flow.pk, action.pk])
    response = staff_client.post(url, headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == reverse("actions:flow_detail", args=[flow.pk])
    assert staff_client.get(url).status_code == 405


def test_the_row_partial_is_one_empty_key_value_row(staff_client, flow):
    headers = staff_client.get(
        reverse("actions:row", args=[flow.pk, "headers"]), headers={"HX-Request": "true"}
    )
    assert headers.text.count('class="kv-row"') == 1
    assert 'name="headers_key" value=""' in headers.text
    assert 'name="headers_value" value=""' in headers.text
    assert "<html" not in headers.text
    params = staff_client.get(reverse("actions:row", args=[flow.pk, "params"]))
    assert 'name="params_key"' in params.text


def test_the_page_loads_its_script_with_the_csp_nonce_and_no_inline_code(staff_client, flow, action):
    page = staff_client.get(edit_url(action))
    nonce = page["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'src="/static/js/editor.js" nonce="{nonce}"' in page.text
    assert "hx-on" not in page.text and "onclick" not in page.text and "<style" not in page.text


def test_another_action_type_gets_a_field_by_field_editor_and_its_test(staff_client, flow):
    url = reverse("actions:action_create", args=[flow.pk, "FLOW", "STORE_VARS"])
    assert 'name="vars"' in staff_client.get(url).text
    response = staff_client.post(
        url, {"version": 1, "action_id": "keep", "vars": '{"plan": "{{fields.plan}}"}'}
    )
    action = Action.objects.get()
    assert response.status_code == 302 and action.params == {"vars": {"plan": "{{fields.plan}}"}}
    test = staff_client.post(
        reverse("actions:action_test", args=[flow.pk, action.pk]),
        {"vars": '{"plan": "{{fields.plan}}"}', "test_input": '{"fields": {"plan": "pro"}}'},
    )
    assert '<span class="badge success">completed</span>' in test.text
    assert "&quot;plan&quot;: &quot;pro&quot;" in test.text


def test_the_advanced_section_opens_when_one_of_its_fields_is_wrong(staff_client, flow):
    closed = staff_client.get(create_url(flow))
    assert '<details class="advanced">' in closed.text
    response = staff_client.post(create_url(flow), form_data(flow, timeout="121"))
    assert '<details class="advanced" open>' in response.text
    assert "Ensure this value is less than or equal to 120." in response.text
