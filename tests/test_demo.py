import io
import json
import re

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from actions.models import Action, Flow
from vault.models import Connection

LOGIN_LINE = re.compile(r"^Log in at http://127\.0\.0\.1:8000/ as admin / (\S+)$")


def run_demo(*args: str) -> tuple[dict, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("demo", *args, stdout=out, stderr=err)
    match = LOGIN_LINE.match(err.getvalue().strip())
    assert match, err.getvalue()
    return json.loads(out.getvalue()), match.group(1)


@pytest.mark.django_db
def test_it_creates_the_admin_the_connection_and_the_flow():
    summary, password = run_demo("--httpbin-url", "http://127.0.0.1:8001/")

    admin = authenticate(username="admin", password=password)
    assert admin is not None and admin.is_staff and admin.is_superuser
    connection = Connection.objects.get(name="Demo httpbin token")
    assert connection.type == "BEARER"
    assert connection.ready
    assert connection.setup.reveal()["token"].startswith("demo-token-")
    flow = Flow.objects.get(name="Demo: call httpbin")
    action = Action.objects.get(flow=flow)
    assert (action.action_id, action.alias, action.kind, action.position) == (
        "call_httpbin",
        "Call httpbin",
        "HTTP/SEND_REQUEST",
        0,
    )
    assert action.params == {
        "connection_id": str(connection.id),
        "url": "http://127.0.0.1:8001/anything",
        "method": "GET",
        "content_type": "JSON",
        "payload": "",
        "headers": [{"key": "X-Demo", "value": "hello"}],
        "params": [{"key": "q", "value": "flow designer"}],
    }
    assert summary["flow"] == {"id": str(flow.id), "name": flow.name, "version": flow.version}
    assert summary["connection"]["id"] == str(connection.id)


@pytest.mark.django_db
def test_it_is_idempotent_and_resets_the_password():
    _, first_password = run_demo()
    token = Connection.objects.get().setup.reveal()["token"]

    _, second_password = run_demo("--httpbin-url", "http://127.0.0.1:9999")

    assert first_password != second_password
    assert authenticate(username="admin", password=first_password) is None
    assert authenticate(username="admin", password=second_password) is not None
    assert (Connection.objects.count(), Flow.objects.count(), Action.objects.count()) == (1, 1, 1)
    assert Connection.objects.get().setup.reveal()["token"] == token
    assert Action.objects.get().params["url"] == "http://127.0.0.1:9999/anything"


@pytest.mark.django_db
def test_it_never_prints_the_token():
    out, err = io.StringIO(), io.StringIO()
    call_command("demo", stdout=out, stderr=err)
    token = Connection.objects.get().setup.reveal()["token"]
    assert token not in out.getvalue() + err.getvalue()


@pytest.mark.django_db
def test_it_refuses_a_bad_httpbin_url():
    with pytest.raises(CommandError, match="must be an http"):
        call_command("demo", "--httpbin-url", "ftp://example.com", stdout=io.StringIO(), stderr=io.StringIO())
    assert not Flow.objects.exists()


@pytest.mark.django_db
def test_it_names_the_app_url_given_in_the_login_message():
    err = io.StringIO()
    call_command("demo", "--app-url", "https://flows.example.com:8443/", stdout=io.StringIO(), stderr=err)
    assert re.fullmatch(r"Log in at https://flows\.example\.com:8443/ as admin / \S+", err.getvalue().strip())


@pytest.mark.django_db
def test_it_refuses_a_bad_app_url():
    with pytest.raises(CommandError, match="--app-url must be an http"):
        call_command("demo", "--app-url", "javascript:alert(1)", stdout=io.StringIO(), stderr=io.StringIO())
    assert not Flow.objects.exists()
