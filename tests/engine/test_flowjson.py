"""Flow JSON import and export (Auth0 Management API shape)."""

import json

import pytest

from actions.engine import run_flow
from actions.flowjson import FlowImportError, export_flow, import_flows
from actions.models import Action, Execution, Flow
from tests.engine.builders import act, condition, make_bearer

pytestmark = pytest.mark.django_db


def envelope(id: str, type_action: str, params: dict, **flags) -> dict:
    """A full envelope, as export writes it."""
    return {"allow_failure": False, "mask_output": False, **act(id, type_action, params), **flags}


def full_flow(connection_name: str = "api token") -> dict:
    return {
        "name": "Round trip",
        "actions": [
            envelope(
                "get_user",
                "HTTP/SEND_REQUEST",
                {"connection_id": connection_name, "url": "https://api.example.com/users/{{fields.id}}"},
                alias="Get the user",
            ),
            envelope(
                "check",
                "FLOW/BOOLEAN_CONDITION",
                {
                    "if": {
                        "operator": "AND",
                        "conditions": [condition("{{actions.get_user.status}}", "EQUALS", 200)],
                    },
                    "then": [
                        envelope(
                            "keep", "FLOW/STORE_VARS", {"vars": {"email": "{{actions.get_user.body.email}}"}}
                        ),
                        envelope(
                            "inner",
                            "FLOW/BOOLEAN_CONDITION",
                            {
                                "if": {
                                    "operator": "OR",
                                    "conditions": [condition("{{vars.email}}", "IS_EMPTY")],
                                },
                                "then": [envelope("empty", "FLOW/ERROR_MESSAGE", {"message": "No email"})],
                                "else": [],
                            },
                        ),
                    ],
                    "else": [
                        envelope("fail", "FLOW/ERROR_MESSAGE", {"message": "No user"}, allow_failure=True)
                    ],
                },
            ),
            envelope(
                "odd", "AUTH0/UNKNOWN_THING", {"anything": [1, {"goes": "{{ not checked"}]}, mask_output=True
            ),
            envelope("done", "FLOW/RETURN_JSON", {"payload": {"email": "{{vars.email}}"}}),
        ],
    }


def stored(flow: Flow) -> list[tuple]:
    return [
        (a.action_id, a.parent.action_id if a.parent else None, a.branch, a.position, a.kind)
        for a in Action.objects.filter(flow=flow).select_related("parent").order_by("pk")
    ]


def test_import_then_export_gives_the_same_flow_json():
    connection = make_bearer()
    data = full_flow()

    (flow,) = import_flows(data)
    exported = export_flow(flow)

    assert stored(flow) == [
        ("get_user", None, "", 0, "HTTP/SEND_REQUEST"),
        ("check", None, "", 1, "FLOW/BOOLEAN_CONDITION"),
        ("odd", None, "", 2, "AUTH0/UNKNOWN_THING"),
        ("done", None, "", 3, "FLOW/RETURN_JSON"),
        ("keep", "check", "then", 0, "FLOW/STORE_VARS"),
        ("inner", "check", "then", 1, "FLOW/BOOLEAN_CONDITION"),
        ("fail", "check", "else", 0, "FLOW/ERROR_MESSAGE"),
        ("empty", "inner", "then", 0, "FLOW/ERROR_MESSAGE"),
    ]
    get_user = Action.objects.get(action_id="get_user")
    assert get_user.params["connection_id"] == str(connection.id)  # stored by id …
    assert exported["actions"][0]["params"]["connection_id"] == "api token"  # … exported by name
    assert exported["name"] == data["name"]
    for got, want in zip(exported["actions"], data["actions"], strict=True):
        assert {k: got[k] for k in want if k != "params"} == {k: v for k, v in want.items() if k != "params"}
    assert exported["actions"][1]["params"] == data["actions"][1]["params"]
    assert exported["actions"][2]["params"] == data["actions"][2]["params"]  # unsupported: kept verbatim
    assert exported["actions"][3]["params"] == data["actions"][3]["params"]
    assert import_flows(exported)[0].pk == flow.pk
    assert export_flow(Flow.objects.get(pk=flow.pk)) == exported


def test_connection_may_be_named_by_id():
    connection = make_bearer()

    (flow,) = import_flows(full_flow(connection_name=str(connection.id)))

    assert Action.objects.get(flow=flow, action_id="get_user").params["connection_id"] == str(connection.id)
    assert export_flow(flow)["actions"][0]["params"]["connection_id"] == "api token"


def test_export_never_writes_secrets():
    data = {
        "name": "Basic",
        "actions": [
            act(
                "call",
                "HTTP/SEND_REQUEST",
                {
                    "url": "https://api.example.com/",
                    "basic": {"username": "ada", "password": "pass_SENTINEL"},
                },
            )
        ],
    }

    (flow,) = import_flows(data)
    exported = export_flow(flow)

    action = Action.objects.get(flow=flow)
    assert action.secret_params.reveal() == {"basic_password": "pass_SENTINEL"}
    assert "pass_SENTINEL" not in json.dumps(action.params)
    assert exported["actions"][0]["params"]["basic"] == {"username": "ada"}
    assert "pass_SENTINEL" not in json.dumps(exported)


def test_importing_an_existing_name_replaces_it_as_a_new_version():
    make_bearer()
    (first,) = import_flows(full_flow())
    execution = run_flow(first)
    changed = {"name": "Round trip", "actions": [act("only", "FLOW/DO_NOTHING")]}

    (second,) = import_flows(changed)

    assert second.pk == first.pk
    assert second.version == first.version + 1 == 2
    assert Flow.objects.count() == 1
    assert Flow.objects.get().version == 2
    assert stored(second) == [("only", None, "", 0, "FLOW/DO_NOTHING")]
    assert Execution.objects.get().pk == execution.pk  # history kept
    assert run_flow(second).flow_version == 2


def test_importing_a_name_that_differs_only_by_case_replaces_it_with_the_files_spelling():
    existing = Flow.objects.create(name="Demo: call httpbin")

    (imported,) = import_flows({"name": "demo: CALL httpbin", "actions": [act("only", "FLOW/DO_NOTHING")]})

    assert imported.pk == existing.pk
    assert (imported.name, imported.version) == ("demo: CALL httpbin", 2)
    assert list(Flow.objects.values_list("name", flat=True)) == ["demo: CALL httpbin"]


def test_a_file_with_two_names_that_differ_only_by_case_is_refused():
    data = [{"name": "Demo", "actions": []}, {"name": "DEMO", "actions": []}]
    with pytest.raises(FlowImportError) as failed:
        import_flows(data)
    assert "flow “DEMO”: the file holds two flows with this name." in str(failed.value)
    assert not Flow.objects.exists()


def test_import_reports_every_problem_with_the_action_it_concerns_and_writes_nothing():
    data = [
        {"name": "Fine", "actions": [act("a", "FLOW/DO_NOTHING")]},
        {
            "name": "Broken",
            "actions": [
                act("store", "FLOW/STORE_VARS", {"vars": ["not", "an", "object"]}),
                act("http", "HTTP/SEND_REQUEST", {"url": "ftp://x", "connection_id": "no such connection"}),
                act(
                    "if",
                    "FLOW/BOOLEAN_CONDITION",
                    {
                        "if": {"operator": "AND", "conditions": [condition("{{fields.x", "EQUALS", 1)]},
                        "then": [act("store", "FLOW/DO_NOTHING"), act("bad id!", "FLOW/DO_NOTHING")],
                        "else": "nope",
                    },
                ),
                {"id": "x", "type": "FLOW"},
                "not an action",
            ],
        },
    ]

    warned: list[str] = []
    with pytest.raises(FlowImportError) as failed:
        import_flows(data, warned)

    problems, warnings = "\n".join(failed.value.problems), "\n".join(warned)
    # Params the form refuses would import as is (a warning); the structure is what refuses the file.
    assert "flow “Broken”, action “store”: vars:" in warnings
    assert "action “http”: url:" in warnings
    assert "action “http”: connection_id:" in warnings
    assert "action “if”: if: if.conditions[0].left:" in warnings
    assert "action “store”: another action of the flow has this id" in problems
    assert "action “bad id!”: the id may hold only" in problems
    assert "action “if”: “else” must be a list" in problems
    assert "action “x”: “action” must be text" in problems
    assert "action 5 must be an object" in problems
    assert "Fine" not in problems
    assert not Flow.objects.exists()


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "Expected a flow"),
        ("flow", "Expected a flow"),
        ({"actions": []}, "“name” must be text"),
        ({"name": "x" * 151, "actions": []}, "“name” must be text"),
        ({"name": "A", "actions": {}}, "“actions” must be a list"),
        ([{"name": "A", "actions": []}, {"name": "A", "actions": []}], "two flows with this name"),
        (
            {"name": "A", "actions": [act("a", "FLOW/DO_NOTHING", None) | {"params": []}]},
            "“params” must be an object",
        ),
        (
            {"name": "A", "actions": [act("a", "FLOW/DO_NOTHING", allow_failure="yes")]},
            "“allow_failure” must be",
        ),
    ],
)
def test_import_refuses_malformed_files(data, problem):
    with pytest.raises(FlowImportError) as failed:
        import_flows(data)
    assert problem in str(failed.value)


def test_import_accepts_the_management_api_list_shape_and_a_description():
    (flow,) = import_flows({"flows": [{"name": "Listed", "description": "From Auth0", "actions": []}]})

    assert (flow.name, flow.description, flow.version) == ("Listed", "From Auth0", 1)


def test_nesting_is_bounded():
    nested: list = [act("leaf", "FLOW/DO_NOTHING")]
    for depth in range(25):
        nested = [
            act(
                f"if{depth}",
                "FLOW/BOOLEAN_CONDITION",
                {"if": {"operator": "AND", "conditions": [condition(1, "EXISTS")]}, "then": nested},
            )
        ]

    with pytest.raises(FlowImportError) as failed:
        import_flows({"name": "Deep", "actions": nested})

    assert "nested more than 20 deep" in str(failed.value)
