"""The editor inside a flow: references suggested at an action's place, Test with the outputs of the flow's
last run, renaming an action id (its references rewritten), a deleted connection, undefined values."""

import json
import re

import pytest
from django.urls import reverse

from actions.engine import run_flow
from actions.expressions import rename_action
from actions.flow_scope import LastRun, earlier_actions, suggestions
from actions.models import Action, Execution, Flow
from tests.engine.builders import act, condition, make_flow
from tests.http_action.conftest import make_connection, run_http
from tests.http_action.test_editor_views import form_data

HTMX = {"HX-Request": "true"}


def edit_url(action: Action) -> str:
    return reverse("actions:action_edit", args=[action.flow_id, action.pk])


def url_to_test(action: Action) -> str:
    return reverse("actions:action_test", args=[action.flow_id, action.pk])


def references_of(response) -> list[dict]:
    match = re.search(r'<script id="references" type="application/json">(.*?)</script>', response.text, re.S)
    assert match, "the page has no references"
    return json.loads(match.group(1))


def paths_of(response) -> list[str]:
    return [item["path"] for item in references_of(response)]


def http(id: str, url: str, **params) -> dict:
    return act(id, "HTTP/SEND_REQUEST", {"url": url, "method": "GET", "content_type": "JSON", **params})


def branching_flow(upstream_url: str = "https://api.example.com/") -> Flow:
    """before → check (then: in_then, then_2 / else: in_else) → call."""
    return make_flow(
        [
            act("set_plan", "FLOW/STORE_VARS", {"vars": {"plan": "{{fields.plan}}", "count": 2}}),
            act("make", "JSON/CREATE_JSON", {"object": {"user": {"email": "{{fields.email}}"}}}),
            act(
                "check",
                "FLOW/BOOLEAN_CONDITION",
                {
                    "if": {"operator": "AND", "conditions": [condition("{{vars.count}}", "EQUALS", 2)]},
                    "then": [
                        act("in_then", "JSON/CREATE_JSON", {"object": {"side": "then"}}),
                        act("then_2", "FLOW/DO_NOTHING"),
                    ],
                    "else": [act("in_else", "JSON/CREATE_JSON", {"object": {"side": "else"}})],
                },
            ),
            http("call", upstream_url + "users/{{actions.make.result.user.email}}"),
        ]
    )


def by_id(flow: Flow, action_id: str) -> Action:
    return flow.actions.get(action_id=action_id)


# --- Which actions run before -------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_action_in_a_branch_sees_what_runs_before_it_and_not_the_other_branch():
    flow = branching_flow()

    def ids(action_id: str | None) -> list[str]:
        action = by_id(flow, action_id) if action_id else None
        return [each.action_id for each in earlier_actions(flow, action)]

    assert ids("set_plan") == []
    assert ids("check") == ["set_plan", "make"]
    assert ids("then_2") == ["set_plan", "make", "check", "in_then"]
    assert ids("in_else") == ["set_plan", "make", "check"]
    assert ids("call") == ["set_plan", "make", "check", "in_then", "then_2", "in_else"]
    assert ids(None) == ["set_plan", "make", "check", "in_then", "then_2", "in_else", "call"]


@pytest.mark.django_db
def test_a_reference_to_the_other_branch_is_warned_about(staff_client):
    flow = branching_flow()
    in_else = by_id(flow, "in_else")
    in_else.params = {"object": {"x": "{{actions.in_then.result}}", "y": "{{actions.check.result}}"}}
    in_else.save()
    text = staff_client.get(edit_url(in_else)).text
    assert "“actions.in_then” does not run before this action" in text
    assert "“actions.check” does not run" not in text


# --- Suggestions ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_before_any_run_the_page_suggests_ids_var_names_output_keys_context_and_functions(staff_client):
    flow = branching_flow()
    paths = paths_of(staff_client.get(edit_url(by_id(flow, "call"))))
    for path in (
        "vars.plan",
        "vars.count",
        "actions.make",
        "actions.make.result",
        "actions.check.result",
        "actions.in_then",
        "context.flow_id",
        "context.flow_name",
        "context.execution_id",
        "context.trigger",
        "context.time",
        "functions.toUpperCase(",
        "functions.encodeURIComponent(",
    ):
        assert path in paths, path
    assert "actions.call" not in paths
    assert not [path for path in paths if path.startswith("fields.")]

    # The first action sees no earlier output; the branch action in "else" not the "then" branch.
    first = paths_of(staff_client.get(edit_url(by_id(flow, "set_plan"))))
    assert not [path for path in first if path.startswith(("actions.", "vars."))]
    in_else = paths_of(staff_client.get(edit_url(by_id(flow, "in_else"))))
    assert "actions.check.result" in in_else
    assert "actions.in_then" not in in_else


@pytest.mark.django_db
def test_an_http_action_without_a_run_offers_the_four_output_keys(staff_client):
    flow = make_flow([http("get_user", "https://api.example.com/users/1")])
    page = staff_client.get(reverse("actions:action_create", args=[flow.pk, "FLOW", "STORE_VARS"]))
    paths = paths_of(page)
    assert [p for p in paths if p.startswith("actions.")] == [
        "actions.get_user",
        "actions.get_user.headers",
        "actions.get_user.body",
        "actions.get_user.status",
        "actions.get_user.success",
    ]
    # Shipped as data, not code (the CSP allows no inline script).
    assert '<script id="references" type="application/json">' in page.text
    assert 'role="listbox"' in page.text


@pytest.mark.django_db
def test_after_a_run_the_suggestions_hold_the_input_fields_and_the_output_keys(staff_client, upstream):
    upstream.respond(
        "200 OK",
        [("Content-Type", "application/json")],
        json.dumps({"email": "ada@example.com", "tags": [{"name": "vip"}], "odd key": 1}).encode(),
    )
    flow = make_flow(
        [
            http("get_user", upstream.url("/users/1")),
            act("set_plan", "FLOW/STORE_VARS", {"vars": {"plan": {"tier": "{{fields.plan}}"}}}),
            act("last", "FLOW/DO_NOTHING"),
        ]
    )
    execution = run_flow(flow, fields={"plan": "gold", "user": {"id": 7}})
    assert execution.status == "completed", execution.error
    references = references_of(staff_client.get(edit_url(by_id(flow, "last"))))
    paths = [item["path"] for item in references]
    for path in (
        "fields.plan",
        "fields.user",
        "fields.user.id",
        "actions.get_user.status",
        "actions.get_user.body.email",
        "actions.get_user.body.tags[0].name",
        'actions.get_user.body["odd key"]',
        "actions.get_user.headers.content-type",
        "vars.plan.tier",
        "actions.set_plan.plan.tier",
    ):
        assert path in paths, path
    kinds = {item["path"]: item["kind"] for item in references}
    assert kinds["fields.plan"] == "input field"
    assert kinds["vars.plan"] == "stored by set_plan"
    assert kinds["functions.mask("] == "function"


# --- Test with the outputs of the last run -------------------------------------------------------------


@pytest.mark.django_db
def test_an_empty_test_input_uses_the_last_run_for_the_earlier_actions(staff_client, upstream):
    upstream.respond("200 OK", [("Content-Type", "application/json")], b'{"id": 42}')
    flow = make_flow(
        [
            http("get_user", upstream.url("/users/1")),
            act("set_plan", "FLOW/STORE_VARS", {"vars": {"plan": "{{fields.plan}}"}}),
            http("notify", upstream.url("/notify")),
        ]
    )
    execution = run_flow(flow, fields={"plan": "gold"})
    notify = by_id(flow, "notify")

    page = staff_client.get(edit_url(notify)).text
    detail = reverse("actions:execution_detail", args=[execution.pk])
    assert "Using the outputs of execution" in page
    assert f'href="{detail}"' in page
    assert "type a Test input to override" in page

    url = upstream.url("/notify/{{actions.get_user.body.id}}/{{vars.plan}}/{{fields.plan}}")
    response = staff_client.post(url_to_test(notify), form_data(flow, url=url), headers=HTMX)
    assert upstream.last.target == "/notify/42/gold/gold"
    assert "Earlier outputs from execution" in response.text
    assert f'href="{detail}"' in response.text

    # A typed Test input replaces the last run entirely.
    data = form_data(flow, url=url, test_input='{"fields": {"plan": "free"}}')
    response = staff_client.post(url_to_test(notify), data, headers=HTMX)
    assert upstream.last.target == "/notify///free"
    assert "Earlier outputs from execution" not in response.text


@pytest.mark.django_db
def test_the_last_run_gives_no_output_of_a_later_action_or_of_the_other_branch(staff_client, upstream):
    flow = branching_flow(upstream.url("/"))
    run_flow(flow, fields={"plan": "gold", "email": "ada@example.com"})
    assert upstream.last.target == "/users/ada%40example.com"
    in_else = by_id(flow, "in_else")
    scope = LastRun.of(flow).scope(earlier_actions(flow, in_else))
    assert set(scope.scope["actions"]) == {"set_plan", "make", "check"}
    assert scope.scope["vars"] == {"plan": "gold", "count": 2}
    assert scope.scope["context"]["flow_name"] == flow.name
    assert scope.not_run == []

    after = LastRun.of(flow).scope(earlier_actions(flow, by_id(flow, "call")))
    assert after.not_run == ["in_else"]
    assert after.scope["actions"]["in_then"] == {"result": {"side": "then"}}


@pytest.mark.django_db
def test_masked_outputs_stay_unavailable_and_the_result_says_so(staff_client, upstream):
    flow = make_flow(
        [
            http("get_token", upstream.url("/token")) | {"mask_output": True},
            http("call", upstream.url("/call")),
        ]
    )
    run_flow(flow)
    call = by_id(flow, "call")
    url = upstream.url("/call/{{actions.get_token.body.token}}")
    response = staff_client.post(url_to_test(call), form_data(flow, url=url), headers=HTMX)
    assert upstream.last.target == "/call/"
    assert "Masked in that execution, so undefined here:" in response.text
    assert "<code>actions.get_token</code>" in response.text


@pytest.mark.django_db
def test_without_a_run_the_editor_says_earlier_outputs_are_undefined(staff_client):
    flow = make_flow([http("call", "https://api.example.com/")])
    page = staff_client.get(edit_url(by_id(flow, "call"))).text
    assert "This flow has not run yet" in page
    assert Execution.objects.count() == 0


# --- Renaming an action id -----------------------------------------------------------------------------


def test_rename_action_rewrites_expression_references_only():
    value = {
        "url": "https://x.test/{{actions.old.body.id}}?note=actions.old",
        "payload": {"a": "{{ actions.old }}", "b": '{{actions["old"].status}}', "c": "{{actions.older}}"},
        "headers": [{"key": "X", "value": "{{functions.toUpperCase(actions.old.body[fields.k] ?? 'x')}}"}],
        "broken": "{{ actions.old",
    }
    renamed, count = rename_action(value, "old", "new_id")
    assert count == 4
    assert renamed == {
        "url": "https://x.test/{{actions.new_id.body.id}}?note=actions.old",
        "payload": {
            "a": "{{ actions.new_id }}",
            "b": '{{actions["new_id"].status}}',
            "c": "{{actions.older}}",
        },
        "headers": [{"key": "X", "value": "{{functions.toUpperCase(actions.new_id.body[fields.k] ?? 'x')}}"}],
        "broken": "{{ actions.old",
    }
    with pytest.raises(ValueError):
        rename_action(value, "old", "not an id")


@pytest.fixture
def renamed_flow(db) -> Flow:
    return make_flow(
        [
            http("get_user", "https://api.example.com/users/1"),
            act("keep", "FLOW/STORE_VARS", {"vars": {"email": "{{actions.get_user.body.email}}"}}),
            http(
                "notify",
                "https://api.example.com/notify/{{ actions.get_user.body.id }}",
                headers=[{"key": "X-Note", "value": "actions.get_user stays text"}],
                payload={"status": "{{actions.get_user.status}}", "other": "{{actions.keep.email}}"},
            ),
            act("untouched", "FLOW/DO_NOTHING"),
        ]
    )


def rename_data(flow: Flow, **changes) -> dict:
    return form_data(flow, action_id="get_user", url="https://api.example.com/users/1") | changes


@pytest.mark.django_db
def test_renaming_warns_and_saves_nothing_until_confirmed(staff_client, renamed_flow):
    get_user = by_id(renamed_flow, "get_user")
    response = staff_client.post(edit_url(get_user), rename_data(renamed_flow, action_id="fetch_user"))
    assert response.status_code == 200
    text = response.text
    assert "renaming “get_user” to “fetch_user” breaks 3 references" in text
    assert f'href="{edit_url(by_id(renamed_flow, "keep"))}">keep</a>' in text
    assert "(2 references)" in text
    assert 'name="rename_confirmed" value="fetch_user">Rename and update 3 references</button>' in text
    assert "data-unsaved" in text
    assert set(renamed_flow.actions.values_list("action_id", flat=True)) == {
        "get_user",
        "keep",
        "notify",
        "untouched",
    }
    assert Flow.objects.get().version == renamed_flow.version

    # A confirmation for another new id does not count.
    data = rename_data(renamed_flow, action_id="fetch_user", rename_confirmed="something_else")
    assert "Rename and update 3 references" in staff_client.post(edit_url(get_user), data).text
    assert by_id(renamed_flow, "get_user")


@pytest.mark.django_db
def test_confirming_renames_and_rewrites_the_references_in_one_version(staff_client, renamed_flow):
    get_user = by_id(renamed_flow, "get_user")
    data = rename_data(renamed_flow, action_id="fetch_user", rename_confirmed="fetch_user")
    response = staff_client.post(edit_url(get_user), data, follow=True)
    assert "Action “fetch_user” saved (flow version 2). 3 references in 2 other actions updated." in (
        response.text
    )
    assert Flow.objects.get().version == 2
    assert by_id(renamed_flow, "fetch_user").pk == get_user.pk
    assert by_id(renamed_flow, "keep").params == {"vars": {"email": "{{actions.fetch_user.body.email}}"}}
    notify = by_id(renamed_flow, "notify").params
    assert notify["url"] == "https://api.example.com/notify/{{ actions.fetch_user.body.id }}"
    assert notify["headers"] == [{"key": "X-Note", "value": "actions.get_user stays text"}]
    assert notify["payload"] == {"status": "{{actions.fetch_user.status}}", "other": "{{actions.keep.email}}"}
    assert by_id(renamed_flow, "untouched").params == {}


@pytest.mark.django_db
def test_a_stale_confirmation_is_refused_and_rewrites_nothing(staff_client, renamed_flow):
    get_user = by_id(renamed_flow, "get_user")
    Flow.objects.filter(pk=renamed_flow.pk).update(version=5)
    data = rename_data(renamed_flow, action_id="fetch_user", rename_confirmed="fetch_user")
    response = staff_client.post(edit_url(get_user), data)
    assert "Not saved: this flow was changed by someone else" in response.text
    assert by_id(renamed_flow, "keep").params == {"vars": {"email": "{{actions.get_user.body.email}}"}}
    assert by_id(renamed_flow, "get_user")


@pytest.mark.django_db
def test_renaming_an_action_nobody_references_saves_at_once(staff_client, renamed_flow):
    untouched = by_id(renamed_flow, "untouched")
    data = {"version": renamed_flow.version, "action_id": "done", "alias": ""}
    response = staff_client.post(edit_url(untouched), data)
    assert response.status_code == 302
    assert by_id(renamed_flow, "done").pk == untouched.pk


# --- A deleted connection ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_deleted_connection_stays_selected_and_flagged(staff_client, flow):
    connection = make_connection("crm", "BEARER", {"token": "tok_SENTINEL"})
    gone = str(connection.pk)
    action = Action.objects.create(
        flow=flow,
        action_id="call",
        type="HTTP",
        action="SEND_REQUEST",
        params={"url": "https://api.example.com/", "connection_id": gone},
    )
    connection.delete()
    text = staff_client.get(edit_url(action)).text
    assert f'<option value="{gone}" selected>Missing connection — choose another</option>' in text
    assert 'class="missing-connection"' in text
    assert f"Connection &quot;{gone}&quot; does not exist: choose another." in text

    response = staff_client.post(edit_url(action), form_data(flow, action_id="call", connection_id=gone))
    assert response.status_code == 200
    assert "Not saved: fix the fields marked below." in response.text
    assert Action.objects.get().params["connection_id"] == gone

    response = staff_client.post(url_to_test(action), form_data(flow, connection_id=gone), headers=HTMX)
    assert f"Connection &quot;{gone}&quot; does not exist" in response.text
    assert "Request as sent" not in response.text


@pytest.mark.django_db
def test_a_flow_run_with_a_deleted_connection_fails_instead_of_sending_without_it(upstream):
    connection = make_connection("crm", "BEARER", {"token": "tok_SENTINEL"})
    flow = make_flow([http("call", upstream.url("/"), connection_id="crm")])
    gone = str(connection.pk)  # the import stored the connection's id
    connection.delete()
    execution = run_flow(flow)
    assert execution.status == "failed"
    assert execution.error["message"] == f'Connection "{gone}" does not exist.'
    assert upstream.requests == []


@pytest.mark.django_db
def test_a_connection_given_by_name_is_selected_by_id(flow):
    from actions.catalog.http import HttpRequestForm

    connection = make_connection("crm", "BEARER", {"token": "t"})
    form = HttpRequestForm(params={"url": "https://x.test", "connection_id": "crm"})
    assert form.missing_connection is None
    assert form["connection_id"].value() == str(connection.pk)


# --- Undefined values ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_undefined_values_are_listed_with_what_they_did(upstream):
    run = run_http(
        {
            "url": upstream.url("/a/{{fields.id}}"),
            "method": "POST",
            "content_type": "JSON",
            "payload": {"keep": 1, "gone": "{{fields.nope}}", "list": ["{{vars.x}}"], "t": "a{{vars.y}}"},
            "headers": [
                {"key": "X-Ref", "value": "{{fields.nope}}"},
                {"key": "X-T", "value": "a {{vars.z}}"},
            ],
            "params": [{"key": "q", "value": "{{fields.q}}"}, {"key": "ok", "value": "{{fields.ok}}"}],
        },
        {"fields": {"ok": "yes"}},
    )
    assert upstream.last.target == "/a/?ok=yes"
    assert upstream.last.json() == {"keep": 1, "list": [None], "t": "a"}
    assert run.meta["undefined"] == [
        {"expression": "{{fields.id}}", "effect": "the URL has empty text where it stands"},
        {"expression": "{{fields.nope}}", "effect": 'the body field "gone" was left out'},
        {"expression": "{{vars.x}}", "effect": "the body item list[0] is null"},
        {"expression": "{{vars.y}}", "effect": 'the body field "t" has empty text where it stands'},
        {"expression": "{{fields.q}}", "effect": 'the URL param "q" was not sent'},
        {"expression": "{{fields.nope}}", "effect": "the header X-Ref was not sent"},
        {"expression": "{{vars.z}}", "effect": "the header X-T has empty text where it stands"},
    ]


@pytest.mark.django_db
def test_nothing_undefined_adds_nothing_to_the_meta(upstream):
    run = run_http({"url": upstream.url("/{{fields.id}}")}, {"fields": {"id": 1}})
    assert "undefined" not in run.meta


@pytest.mark.django_db
def test_an_undefined_base_url_is_explained_even_though_the_request_fails():
    run = run_http({"url": "{{vars.base}}/users"})
    assert run.error.code == "invalid_request"
    assert run.meta["undefined"] == [
        {"expression": "{{vars.base}}", "effect": "the URL starts with empty text where it stands"}
    ]


@pytest.mark.django_db
def test_the_test_result_lists_the_undefined_values(staff_client, flow, upstream):
    action = Action.objects.create(
        flow=flow, action_id="call", type="HTTP", action="SEND_REQUEST", params={"url": "https://x.test/"}
    )
    data = form_data(flow, url=upstream.url("/"), headers_key=["X-Ref"], headers_value=["{{fields.nope}}"])
    response = staff_client.post(url_to_test(action), data, headers=HTMX)
    assert "<code>{{fields.nope}}</code> is undefined: the header X-Ref was not sent" in response.text
    assert upstream.last.header_values("X-Ref") == []


# --- Suggestions helper ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_suggestions_quote_keys_that_cannot_follow_a_dot():
    flow = make_flow([act("set", "FLOW/STORE_VARS", {"vars": {"a b": 1, 'q"uote': 2}})])
    paths = [item["path"] for item in suggestions(list(flow.actions.all()), None)]
    assert 'vars["a b"]' in paths
    assert 'vars["q\\"uote"]' in paths
