"""DESIGN §8: `vault.use_connection` separates using a connection in an action from changing one.

Staff without it cannot save, Test or import an action with a connection; a connection already stored
is kept when such a user saves other fields; once granted, all of it works.
"""

import json
import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from actions.models import Action, Flow
from tests.conftest import make_user
from tests.http_action.conftest import make_connection
from tests.http_action.test_editor_views import create_url, edit_url, form_data
from vault.api import NO_USE_PERMISSION

HTMX = {"HX-Request": "true"}
# As the page shows it: the apostrophes of the message are HTML-escaped.
SHOWN = NO_USE_PERMISSION.replace("'", "&#x27;")


@pytest.fixture
def staff(db):
    return make_user("editor", superuser=False)


@pytest.fixture
def editor_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def connection(db):
    return make_connection("crm", "BEARER", {"token": "tok_SENTINEL"})


def grant(user) -> None:
    user.user_permissions.add(
        Permission.objects.get(codename="use_connection", content_type__app_label="vault")
    )


def connection_select(html: str) -> str:
    return re.search(r'<select name="connection_id"[^>]*>.*?</select>', html, re.S).group(0)


def test_without_the_permission_the_select_is_disabled_and_says_why(editor_client, flow, connection):
    page = editor_client.get(create_url(flow)).text
    select = connection_select(page)
    assert " disabled" in select
    assert "crm" not in select
    assert SHOWN in page


def test_saving_a_connection_is_refused_then_allowed_once_granted(editor_client, staff, flow, connection):
    data = form_data(flow, connection_id=str(connection.pk))
    refused = editor_client.post(create_url(flow), data)
    assert refused.status_code == 200
    assert SHOWN in refused.text
    assert not Action.objects.exists()
    grant(staff)
    assert " disabled" not in connection_select(editor_client.get(create_url(flow)).text)
    saved = editor_client.post(create_url(flow), data)
    assert saved.status_code == 302
    assert Action.objects.get().params["connection_id"] == str(connection.pk)


def test_a_stored_connection_is_kept_when_other_fields_are_saved(editor_client, flow, connection):
    action = Action.objects.create(
        flow=flow,
        action_id="get_user",
        type="HTTP",
        action="SEND_REQUEST",
        params={
            "connection_id": "crm",
            "url": "https://api.example.com/users/{{fields.id}}",
            "method": "GET",
        },
    )
    page = editor_client.get(edit_url(action)).text
    select = connection_select(page)
    assert " disabled" in select and re.search(r'<option value="crm" selected>crm</option>', select)
    assert "Missing connection" not in page
    # The browser posts no value for a disabled select.
    response = editor_client.post(edit_url(action), form_data(flow, alias="Renamed"))
    assert response.status_code == 302
    action.refresh_from_db()
    assert (action.alias, action.params["connection_id"]) == ("Renamed", "crm")
    # Posting the same connection (by id) is no change; another one is refused.
    other = make_connection("billing", "BEARER", {"token": "tok_SENTINEL"})
    same = form_data(Flow.objects.get(), connection_id=str(connection.pk))
    assert editor_client.post(edit_url(action), same).status_code == 302
    changed = editor_client.post(edit_url(action), form_data(Flow.objects.get(), connection_id=str(other.pk)))
    assert SHOWN in changed.text
    action.refresh_from_db()
    assert action.params["connection_id"] == "crm"


def test_the_url_of_an_action_with_a_stored_connection_cannot_be_changed_without_it(
    editor_client, staff, flow, connection
):
    action = Action.objects.create(
        flow=flow,
        action_id="get_user",
        type="HTTP",
        action="SEND_REQUEST",
        params={
            "connection_id": "crm",
            "url": "https://api.example.com/users/{{fields.id}}",
            "method": "GET",
        },
    )
    elsewhere = form_data(flow, url="https://attacker.example/collect")
    response = editor_client.post(edit_url(action), elsewhere)
    assert response.status_code == 200
    assert "changing its URL needs the permission" in response.text
    action.refresh_from_db()
    assert action.params["url"] == "https://api.example.com/users/{{fields.id}}"
    grant(staff)
    assert (
        editor_client.post(edit_url(action), form_data(Flow.objects.get(), url=elsewhere["url"])).status_code
        == 302
    )
    action.refresh_from_db()
    assert action.params["url"] == "https://attacker.example/collect"


def test_a_test_with_a_connection_is_refused_then_allowed_once_granted(
    editor_client, staff, flow, connection, httpbin_url, allow_loopback
):
    action = Action.objects.create(
        flow=flow, action_id="call", type="HTTP", action="SEND_REQUEST", params={"url": httpbin_url}
    )
    url = reverse("actions:action_test", args=[flow.pk, action.pk])
    data = form_data(flow, url=f"{httpbin_url}/anything", connection_id=str(connection.pk))
    refused = editor_client.post(url, data, headers=HTMX)
    assert SHOWN in refused.text
    assert not action.test_runs.exists()
    # A connection stored by someone else is not sent by a Test of this user either.
    action.params = {"url": httpbin_url, "connection_id": str(connection.pk)}
    action.save()
    kept = editor_client.post(url, form_data(flow, url=f"{httpbin_url}/anything"), headers=HTMX)
    assert SHOWN in kept.text
    assert not action.test_runs.exists()
    grant(staff)
    allowed = editor_client.post(url, data, headers=HTMX)
    assert "Bearer ********" in allowed.text
    assert "tok_SENTINEL" not in allowed.text


def test_a_test_without_a_connection_needs_no_permission(editor_client, flow, httpbin_url, allow_loopback):
    url = reverse("actions:action_test_new", args=[flow.pk])
    response = editor_client.post(
        url, form_data(flow, url=f"{httpbin_url}/anything", kind="HTTP/SEND_REQUEST"), headers=HTMX
    )
    assert "status-2xx" in response.text


def test_importing_a_flow_with_a_connection_is_refused_then_allowed_once_granted(
    editor_client, staff, connection
):
    data = {
        "name": "With a connection",
        "actions": [
            {
                "id": "call",
                "type": "HTTP",
                "action": "SEND_REQUEST",
                "params": {"connection_id": "crm", "url": "https://api.example.com/"},
            }
        ],
    }
    refused = editor_client.post(reverse("actions:flow_import"), {"text": json.dumps(data)})
    assert refused.status_code == 200
    assert "This file sets a vault connection on an action." in refused.text
    assert SHOWN in refused.text
    assert not Flow.objects.exists()
    grant(staff)
    allowed = editor_client.post(reverse("actions:flow_import"), {"text": json.dumps(data)})
    assert allowed.status_code == 302
    assert Flow.objects.get().actions.get().params["connection_id"] == str(connection.pk)


def test_importing_a_flow_without_a_connection_needs_no_permission(editor_client, db):
    data = {
        "name": "Plain",
        "actions": [
            {
                "id": "call",
                "type": "HTTP",
                "action": "SEND_REQUEST",
                "params": {"url": "https://api.example.com/"},
            }
        ],
    }
    assert editor_client.post(reverse("actions:flow_import"), {"text": json.dumps(data)}).status_code == 302
