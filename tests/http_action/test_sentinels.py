"""Secrets never leave the vault in clear: pages, partials, command output, logs, database (C22, C23)."""

import base64
import json
import logging
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection as db_connection
from django.urls import reverse

from actions.models import Action
from tests.http_action.conftest import make_connection
from tests.http_action.test_editor_views import form_data

SENTINELS = ("tok_SENTINEL", "pass_SENTINEL", "key_SENTINEL")


def leaks(text: str) -> list[str]:
    forms = [*SENTINELS, base64.b64encode(b"ada:pass_SENTINEL").decode()]
    return [form for form in forms if form in text]


@pytest.fixture
def secrets_everywhere(flow, staff_client, httpbin_url, allow_loopback, caplog):
    """An action saved through the editor with basic auth, and a bearer connection, all planted."""
    caplog.set_level(logging.DEBUG)
    bearer = make_connection("crm", "BEARER", {"token": "tok_SENTINEL"})
    make_connection("key", "API_KEY", {"name": "api_key", "value": "key_SENTINEL", "in": "QUERY"})
    data = form_data(
        flow,
        url=f"{httpbin_url}/anything",
        connection_id=str(bearer.pk),
        basic_enabled="on",
        basic_username="ada",
        basic_password="pass_SENTINEL",
    )
    staff_client.post(reverse("actions:action_create", args=[flow.pk, "HTTP", "SEND_REQUEST"]), data)
    return Action.objects.get()


def test_no_sentinel_in_pages_partials_output_logs_or_the_database(
    secrets_everywhere, staff_client, httpbin_url, caplog, tmp_path
):
    action = secrets_everywhere
    seen: list[str] = []

    page = staff_client.get(reverse("actions:action_edit", args=[action.flow_id, action.pk]))
    seen.append(page.text)

    test_url = reverse("actions:action_test", args=[action.flow_id, action.pk])
    flow = action.flow
    flow.refresh_from_db()
    for changes in ({}, {"connection_id": "", "basic_enabled": ""}, {"url": f"{httpbin_url}/status/401"}):
        partial = staff_client.post(test_url, form_data(flow, **(_saved(action) | changes)))
        assert partial.status_code == 200
        seen.append(partial.text)
    assert "Basic ********" in seen[1]

    key_envelope = tmp_path / "key.json"
    key_envelope.write_text(
        json.dumps(
            {
                "type": "HTTP",
                "action": "SEND_REQUEST",
                "params": {"url": f"{httpbin_url}/anything", "connection_id": "key"},
            }
        )
    )
    out = StringIO()
    call_command("actions", "test", str(key_envelope), stdout=out)
    seen.append(out.getvalue())
    assert json.loads(out.getvalue())["output"]["body"]["args"] == {"api_key": "********"}

    seen.extend(record.getMessage() for record in caplog.records)
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT params, secret_params FROM actions_action")
        seen.extend(str(value) for row in cursor.fetchall() for value in row)

    assert [leaks(text) for text in seen] == [[] for _ in seen]


def _saved(action: Action) -> dict:
    """The form fields of the saved action (the password blank: the stored one is used)."""
    return {
        "url": action.params["url"],
        "connection_id": action.params["connection_id"],
        "basic_enabled": "on",
        "basic_username": "ada",
        "basic_password": "",
    }
