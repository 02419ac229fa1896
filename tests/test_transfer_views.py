"""Import flows from a file or pasted JSON, export one as a download, duplicate one (never a secret)."""

import base64
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from actions.engine import run_flow
from actions.models import Action, Execution, Flow
from tests.engine.builders import act, make_bearer, make_flow

SENTINELS = ("tok_SENTINEL", "pass_SENTINEL")

SMALL_FLOW = {
    "name": "Imported",
    "actions": [
        act("store", "FLOW/STORE_VARS", {"vars": {"who": "{{fields.name}}"}}),
        act("reply", "FLOW/RETURN_JSON", {"payload": {"hello": "{{vars.who}}"}}),
    ],
}


def _upload(data, name: str = "flow.json") -> SimpleUploadedFile:
    content = data if isinstance(data, bytes) else json.dumps(data).encode()
    return SimpleUploadedFile(name, content, content_type="application/json")


@pytest.fixture
def flow(db) -> Flow:
    return make_flow(SMALL_FLOW["actions"], name="Greeter")


@pytest.fixture
def secret_flow(db, httpbin_url) -> Flow:
    """HTTP actions with a bearer connection and an inline basic-auth password (it wins): sentinels."""
    make_bearer("crm")
    return make_flow(
        [
            act(
                "call",
                "HTTP/SEND_REQUEST",
                {
                    "url": f"{httpbin_url}/anything",
                    "method": "GET",
                    "connection_id": "crm",
                    "basic": {"username": "ada", "password": "pass_SENTINEL"},
                },
            ),
            act("bearer", "HTTP/SEND_REQUEST", {"url": f"{httpbin_url}/bearer", "connection_id": "crm"}),
            act("reply", "FLOW/RETURN_JSON", {"payload": {"sent": "{{actions.call.body.headers}}"}}),
        ],
        name="Secretive",
    )


# --- Access -----------------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, flow):
    for url in (reverse("actions:flow_import"), reverse("actions:flow_export", args=[flow.pk])):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next=")
    assert client.post(reverse("actions:flow_import"), {"text": json.dumps(SMALL_FLOW)}).status_code == 302
    assert client.post(reverse("actions:flow_duplicate", args=[flow.pk])).status_code == 302
    assert list(Flow.objects.values_list("name", flat=True)) == ["Greeter"]


def test_outsider_is_forbidden(outsider_client, flow):
    assert outsider_client.get(reverse("actions:flow_import")).status_code == 403
    assert outsider_client.get(reverse("actions:flow_export", args=[flow.pk])).status_code == 403
    assert (
        outsider_client.post(reverse("actions:flow_import"), {"text": json.dumps(SMALL_FLOW)}).status_code
        == 403
    )
    assert outsider_client.post(reverse("actions:flow_duplicate", args=[flow.pk])).status_code == 403
    assert list(Flow.objects.values_list("name", flat=True)) == ["Greeter"]


def test_staff_sees_the_import_page_and_the_list_buttons(staff_client, flow):
    assert staff_client.get(reverse("actions:flow_import")).status_code == 200
    listing = staff_client.get(reverse("actions:flow_list")).text
    assert reverse("actions:flow_import") in listing
    assert reverse("actions:flow_export", args=[flow.pk]) in listing
    assert reverse("actions:flow_duplicate", args=[flow.pk]) in listing
    assert reverse("actions:flow_run", args=[flow.pk]) in listing
    assert reverse("actions:execution_list") in listing


def test_duplicate_accepts_only_post(staff_client, flow):
    assert staff_client.get(reverse("actions:flow_duplicate", args=[flow.pk])).status_code == 405


# --- Import -----------------------------------------------------------------------------------------------


def test_import_a_file_creates_the_flow_and_opens_it(staff_client, db):
    response = staff_client.post(reverse("actions:flow_import"), {"file": _upload(SMALL_FLOW)}, follow=True)

    flow = Flow.objects.get()
    assert response.redirect_chain[-1][0] == reverse("actions:flow_detail", args=[flow.pk])
    assert "Imported 1 flow: “Imported” (version 1)." in response.text
    assert list(flow.actions.values_list("action_id", flat=True)) == ["store", "reply"]
    assert run_flow(flow, fields={"name": "Ada"}).output == {"hello": "Ada"}


def test_import_pasted_json_with_a_list_opens_the_first_flow(staff_client, db):
    data = [SMALL_FLOW, {"name": "Second", "actions": [act("only", "FLOW/DO_NOTHING")]}]
    response = staff_client.post(reverse("actions:flow_import"), {"text": json.dumps(data)})

    first = Flow.objects.get(name="Imported")
    assert response["Location"] == reverse("actions:flow_detail", args=[first.pk])
    assert Flow.objects.count() == 2


def test_import_an_existing_name_makes_a_new_version(staff_client, flow):
    data = {"name": "Greeter", "actions": [act("only", "FLOW/DO_NOTHING")]}
    response = staff_client.post(reverse("actions:flow_import"), {"file": _upload(data)}, follow=True)

    flow.refresh_from_db()
    assert Flow.objects.count() == 1
    assert flow.version == 2
    assert list(flow.actions.values_list("action_id", flat=True)) == ["only"]
    assert "“Greeter” (version 2)" in response.text


@pytest.mark.parametrize(
    ("data", "field"),
    [({"file": b'{"name": "x",'}, "file"), ({"text": '{"name": "x",'}, "text")],
)
def test_import_invalid_json_says_where(staff_client, db, data, field):
    if "file" in data:
        data = {"file": _upload(data["file"])}
    response = staff_client.post(reverse("actions:flow_import"), data)

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [
        "Not valid JSON (line 1, column 14): Expecting property name enclosed in double quotes."
    ]
    assert Flow.objects.count() == 0


def test_import_keeps_the_pasted_text_on_error(staff_client, db):
    response = staff_client.post(reverse("actions:flow_import"), {"text": "[1, 2"})
    assert "[1, 2</textarea>" in response.text


def test_import_needs_exactly_one_source(staff_client, db):
    empty = staff_client.post(reverse("actions:flow_import"), {"text": "  "})
    assert "Choose a flow file or paste its JSON." in empty.text
    both = staff_client.post(
        reverse("actions:flow_import"), {"file": _upload(SMALL_FLOW), "text": json.dumps(SMALL_FLOW)}
    )
    assert "Choose a file or paste JSON, not both." in both.text
    assert Flow.objects.count() == 0


def test_import_lists_every_problem_with_the_action_id(staff_client, db):
    data = {
        "name": "Broken",
        "actions": [
            act("fine", "FLOW/DO_NOTHING"),
            act("bad_call", "HTTP/SEND_REQUEST", {"url": "ftp://example.com/", "method": "FETCH"}),
            act("bad_call", "FLOW/DELAY_FLOW", {"number": 1, "units": "WEEKS"}),
            {"id": "bad_delay", "type": "FLOW"},
        ],
    }
    response = staff_client.post(reverse("actions:flow_import"), {"file": _upload(data)})

    assert response.status_code == 200
    problems = response.context["problems"]
    assert problems
    assert any("“bad_call”" in problem for problem in problems)
    assert any("“bad_delay”" in problem for problem in problems)
    assert all("“fine”" not in problem for problem in problems)
    assert "Nothing was imported" in response.text
    assert "action “bad_call”" in response.text
    assert Flow.objects.count() == 0


def test_import_keeps_invalid_params_as_is_and_lists_them_as_warnings(staff_client, db):
    data = {
        "name": "Unfinished",
        "actions": [
            act("fine", "FLOW/DO_NOTHING"),
            act("bad_call", "HTTP/SEND_REQUEST", {"url": "ftp://example.com/", "method": "FETCH"}),
            act("store_variables_1", "FLOW/STORE_VARS", {}),
        ],
    }
    response = staff_client.post(reverse("actions:flow_import"), {"file": _upload(data)})

    assert response.status_code == 200
    flow = Flow.objects.get()
    assert flow.actions.count() == 3
    warnings = response.context["warnings"]
    assert any("“bad_call”: url:" in warning for warning in warnings)
    assert any("“store_variables_1”: vars:" in warning for warning in warnings)
    assert "Imported 1 flow: “Unfinished” (version 1)." in response.text
    assert "action “store_variables_1”: vars:" in response.text
    assert reverse("actions:flow_detail", args=[flow.pk]) in response.text


def test_import_rejects_a_non_flow(staff_client, db):
    response = staff_client.post(reverse("actions:flow_import"), {"text": "42"})
    assert "Expected a flow" in response.text
    assert Flow.objects.count() == 0


# --- Export -----------------------------------------------------------------------------------------------


def test_export_downloads_the_flow_json(staff_client, flow):
    response = staff_client.get(reverse("actions:flow_export", args=[flow.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="Greeter.json"'
    data = json.loads(response.content)
    assert data["name"] == "Greeter"
    assert [action["id"] for action in data["actions"]] == ["store", "reply"]


def test_export_round_trips_through_import(staff_client, flow):
    exported = staff_client.get(reverse("actions:flow_export", args=[flow.pk])).content
    flow.delete()
    staff_client.post(reverse("actions:flow_import"), {"file": _upload(exported, "Greeter.json")})
    assert run_flow(Flow.objects.get(name="Greeter"), fields={"name": "Ada"}).output == {"hello": "Ada"}


def test_export_file_name_is_safe(staff_client, db):
    flow = Flow.objects.create(name='../etc/"passwd" é')
    disposition = staff_client.get(reverse("actions:flow_export", args=[flow.pk]))["Content-Disposition"]
    assert "/" not in disposition.split("filename", 1)[1].replace("utf-8''", "")
    assert disposition.startswith("attachment; filename*=utf-8''")
    assert "passwd" in disposition


def test_no_secret_in_the_export_nor_in_any_execution_page(staff_client, secret_flow, allow_loopback):
    export = staff_client.get(reverse("actions:flow_export", args=[secret_flow.pk]))
    assert export.status_code == 200
    assert json.loads(export.content)["actions"][0]["params"]["connection_id"] == "crm"

    run = staff_client.post(reverse("actions:flow_run", args=[secret_flow.pk]), {"fields": "{}"}, follow=True)
    execution = Execution.objects.get()
    assert execution.status == "completed", execution.error
    # The upstream did receive both credentials: the pages hide them, the request did not.
    assert execution.action_runs.get(action_id="call").output["status"] == 200
    assert execution.action_runs.get(action_id="bearer").output["status"] == 200

    pages = [
        export.content.decode(),
        run.text,
        staff_client.get(reverse("actions:execution_detail", args=[execution.pk])).text,
        staff_client.get(reverse("actions:execution_list")).text,
        staff_client.get(reverse("actions:flow_execution_list", args=[secret_flow.pk])).text,
        staff_client.get(reverse("actions:flow_run", args=[secret_flow.pk])).text,
        staff_client.post(reverse("actions:execution_rerun", args=[execution.pk]), follow=True).text,
    ]
    assert "Request as sent (secrets masked)" in pages[2]
    assert "Basic ********" in pages[2]
    assert "Bearer ********" in pages[2]
    for text in pages:
        assert not [sentinel for sentinel in SENTINELS if sentinel in text]
        assert base64.b64encode(b"ada:pass_SENTINEL").decode() not in text


# --- Duplicate --------------------------------------------------------------------------------------------


def test_duplicate_copies_the_flow_and_its_nested_actions(staff_client, db):
    original = make_flow(
        [
            act(
                "check",
                "FLOW/BOOLEAN_CONDITION",
                {
                    "if": {
                        "operator": "AND",
                        "conditions": [{"left": "{{fields.n}}", "op": "EQUALS", "right": 1}],
                    },
                    "then": [act("yes", "FLOW/RETURN_JSON", {"payload": {"branch": "then"}})],
                    "else": [act("no", "FLOW/RETURN_JSON", {"payload": {"branch": "else"}})],
                },
            ),
        ],
        name="Brancher",
    )
    original.description = "Picks a branch"
    original.save()

    response = staff_client.post(reverse("actions:flow_duplicate", args=[original.pk]), follow=True)

    copy = Flow.objects.get(name="Brancher (copy)")
    assert response.redirect_chain[-1][0] == reverse("actions:flow_detail", args=[copy.pk])
    assert "Flow “Brancher” duplicated as “Brancher (copy)”." in response.text
    assert copy.description == "Picks a branch"
    assert copy.version == 1
    assert run_flow(copy, fields={"n": 1}).output == {"branch": "then"}
    assert run_flow(copy, fields={"n": 2}).output == {"branch": "else"}
    nested = copy.actions.get(action_id="yes")
    assert nested.parent.flow_id == copy.pk
    assert original.actions.count() == copy.actions.count() == 3


def test_duplicate_finds_the_next_free_name(staff_client, flow):
    for expected in ("Greeter (copy)", "Greeter (copy 2)", "Greeter (copy 3)"):
        staff_client.post(reverse("actions:flow_duplicate", args=[flow.pk]))
        assert Flow.objects.filter(name=expected).exists()
    staff_client.post(reverse("actions:flow_duplicate", args=[Flow.objects.get(name="Greeter (copy)").pk]))
    assert Flow.objects.filter(name="Greeter (copy) (copy)").exists()


def test_duplicate_skips_a_copy_name_taken_in_another_case(staff_client, flow):
    Flow.objects.create(name="GREETER (COPY)")
    staff_client.post(reverse("actions:flow_duplicate", args=[flow.pk]))
    assert Flow.objects.filter(name="Greeter (copy 2)").exists()


def test_duplicate_of_a_long_name_fits(staff_client, db):
    flow = Flow.objects.create(name="x" * 150)
    staff_client.post(reverse("actions:flow_duplicate", args=[flow.pk]))
    staff_client.post(reverse("actions:flow_duplicate", args=[flow.pk]))
    names = set(Flow.objects.values_list("name", flat=True))
    assert names == {"x" * 150, "x" * 143 + " (copy)", "x" * 141 + " (copy 2)"}


def test_duplicate_keeps_secret_params_encrypted(staff_client, secret_flow):
    staff_client.post(reverse("actions:flow_duplicate", args=[secret_flow.pk]))

    copied = Action.objects.get(flow__name="Secretive (copy)", action_id="call")
    assert copied.secret_params.reveal() == {"basic_password": "pass_SENTINEL"}
    assert "pass_SENTINEL" not in json.dumps(copied.params)
    assert copied.params["connection_id"] == secret_flow.actions.get(action_id="call").params["connection_id"]
