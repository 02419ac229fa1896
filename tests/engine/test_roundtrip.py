"""Export → import round-trips whatever the app lets you save, and a re-import updates actions in place."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from actions import catalog
from actions.engine import run_flow
from actions.flowjson import export_flow, import_flows
from actions.models import Action, Branch, Flow, TestRun
from actions.views.canvas import flow_cards
from tests.engine.builders import act, condition, make_bearer, make_flow

pytestmark = pytest.mark.django_db

PASSWORD = "pass_SENTINEL"


def configured() -> list[dict]:
    """One configured action of every catalog type, If/then branches nested two deep."""
    return [
        act("store", "FLOW/STORE_VARS", {"vars": {"a": "{{fields.a}}"}}),
        act("delay", "FLOW/DELAY_FLOW", {"number": 0, "units": "SECONDS"}),
        act("noop", "FLOW/DO_NOTHING"),
        act("map", "FLOW/MAP_VALUE", {"input": "{{fields.a}}", "cases": {"x": 1}, "fallback": 0}),
        act("create", "JSON/CREATE_JSON", {"object": {"a": 1}}),
        act("parse", "JSON/PARSE_JSON", {"json": '{"a": 1}'}),
        act("serialize", "JSON/SERIALIZE_JSON", {"object": {"a": 1}}),
        act("xml", "XML/PARSE_XML", {"xml": "<a>1</a>"}),
        act("to_xml", "XML/SERIALIZE_XML", {"object": {"a": "1"}}),
        act(
            "check",
            "FLOW/BOOLEAN_CONDITION",
            {
                "if": {"operator": "AND", "conditions": [condition("{{fields.a}}", "EQUALS", "x")]},
                "then": [
                    act(
                        "inner",
                        "FLOW/BOOLEAN_CONDITION",
                        {
                            "if": {"operator": "AND", "conditions": [condition(1, "EQUALS", 1)]},
                            "then": [act("deep", "FLOW/RETURN_JSON", {"payload": {"ok": True}})],
                            "else": [act("stop", "FLOW/ERROR_MESSAGE", {"message": "no"})],
                        },
                    )
                ],
                "else": [
                    act(
                        "basic",
                        "HTTP/SEND_REQUEST",
                        {
                            "url": "https://api.example.com/",
                            "basic": {"username": "ada", "password": PASSWORD},
                        },
                    )
                ],
            },
        ),
    ]


def saved_flow() -> Flow:
    """Every type configured, every type unconfigured (as "+" adds it), an action whose connection was
    deleted, and one holding an inline basic password."""
    connection = make_bearer("doomed")
    flow = make_flow(
        [
            *configured(),
            act("call", "HTTP/SEND_REQUEST", {"url": "https://api.example.com/", "connection_id": "doomed"}),
        ],
        name="Round trip",
    )
    connection.delete()
    check = flow.actions.get(action_id="check")
    for position, action_type in enumerate(catalog.all_types(), start=20):
        Action.objects.create(
            flow=flow,
            action_id=f"added_{position}",
            type=action_type.type,
            action=action_type.action,
            params={},
            position=position,
        )
    Action.objects.create(
        flow=flow,
        action_id="added_in_else",
        type="JSON",
        action="CREATE_JSON",
        parent=check,
        branch=Branch.ELSE,
        position=5,
    )
    return flow


def tree(flow: Flow) -> list[tuple]:
    return sorted(
        (a.action_id, a.type, a.action, getattr(a.parent, "action_id", None), a.branch)
        for a in flow.actions.select_related("parent")
    )


def test_an_export_imports_again_with_warnings_for_what_is_not_configured():
    flow = saved_flow()
    before, exported = tree(flow), export_flow(flow)
    call = next(a for a in exported["actions"] if a["id"] == "call")
    assert "password" not in json.dumps(exported) and PASSWORD not in json.dumps(exported)
    flow.delete()

    warnings: list[str] = []
    (imported,) = import_flows(json.loads(json.dumps(exported)), warnings)

    assert tree(imported) == before
    assert export_flow(imported) == exported  # the order too
    text = "\n".join(warnings)
    assert (
        f'action “call”: connection_id: Connection "{call["params"]["connection_id"]}" does not exist' in text
    )
    assert "action “basic”" in text  # the password the export left out
    for position, action_type in enumerate(catalog.all_types(), start=20):
        warned = f"action “added_{position}”: " in text
        assert warned is (action_type.kind != "FLOW/DO_NOTHING"), action_type.kind
    assert "action “added_in_else”: object:" in text
    basic = imported.actions.get(action_id="basic")
    assert basic.secret_params is None and basic.params["basic"] == {"username": "ada"}
    # The canvas shows each problem; nothing of the unconfigured actions was refused.
    cards = {card.action.action_id: card for card in flow_cards(imported)}
    assert cards["added_20"].problems or cards["added_20"].action.kind == "FLOW/DO_NOTHING"


def test_a_re_import_keeps_each_matched_actions_row_its_test_runs_and_its_password():
    flow = saved_flow()
    pks = dict(flow.actions.values_list("action_id", "pk"))
    TestRun.objects.create(action_id=pks["basic"], method="GET", url="https://api.example.com/")
    TestRun.objects.create(action_id=pks["added_20"])
    exported = export_flow(flow)
    exported["actions"] = [a for a in exported["actions"] if a["id"] != "noop"]
    exported["actions"].append(act("fresh", "FLOW/DO_NOTHING"))
    next(a for a in exported["actions"] if a["id"] == "store")["params"] = {"vars": {"b": "2"}}

    warnings: list[str] = []
    (imported,) = import_flows(exported, warnings)

    assert imported.pk == flow.pk and imported.version == flow.version + 1
    after = dict(imported.actions.values_list("action_id", "pk"))
    assert {key: after[key] for key in pks if key != "noop"} == {
        key: pks[key] for key in pks if key != "noop"
    }
    assert "noop" not in after and "fresh" in after
    assert TestRun.objects.filter(action_id=pks["basic"]).count() == 1
    assert TestRun.objects.filter(action_id=pks["added_20"]).count() == 1
    assert imported.actions.get(action_id="store").params == {"vars": {"b": "2"}}
    basic = imported.actions.get(action_id="basic")
    assert basic.secret_params.reveal() == {"basic_password": PASSWORD}
    assert not any("action “basic”" in warning for warning in warnings)  # the stored password counts
    assert imported.actions.get(action_id="deep").parent.action_id == "inner"


def test_a_re_import_with_a_new_password_replaces_the_stored_one():
    flow = make_flow(configured(), name="Passwords")
    exported = export_flow(flow)
    check = next(a for a in exported["actions"] if a["id"] == "check")
    check["params"]["else"][0]["params"]["basic"]["password"] = "new_SENTINEL"

    import_flows(exported)

    basic = flow.actions.get(action_id="basic")
    assert basic.secret_params.reveal() == {"basic_password": "new_SENTINEL"}


def test_a_re_import_moves_a_kept_action_out_of_a_deleted_condition():
    flow = make_flow(configured(), name="Moves")
    deep_pk = flow.actions.get(action_id="deep").pk
    exported = {"name": "Moves", "actions": [act("deep", "FLOW/RETURN_JSON", {"payload": {"ok": 1}})]}

    import_flows(exported)

    (deep,) = flow.actions.all()
    assert (deep.pk, deep.parent_id, deep.branch, deep.params) == (deep_pk, None, "", {"payload": {"ok": 1}})
    assert run_flow(flow).output == {"ok": 1}


def test_flows_import_prints_the_warnings_on_stderr_and_the_json_on_stdout(tmp_path):
    path = tmp_path / "flow.json"
    path.write_text(json.dumps({"name": "Warned", "actions": [act("store_variables_1", "FLOW/STORE_VARS")]}))
    out, err = StringIO(), StringIO()

    call_command("flows", "import", str(path), stdout=out, stderr=err)

    flow = Flow.objects.get()
    assert json.loads(out.getvalue()) == [{"id": str(flow.id), "name": "Warned", "version": 1}]
    assert "Imported as is" in err.getvalue()
    assert "flow “Warned”, action “store_variables_1”: vars: This field is required." in err.getvalue()


def test_structurally_broken_files_are_still_refused():
    from actions.flowjson import FlowImportError

    for data in (
        {"name": "A", "actions": [act("a", "FLOW/DO_NOTHING"), act("a", "FLOW/DO_NOTHING")]},
        {"name": "A", "actions": [{"id": "a", "action": "DO_NOTHING"}]},
        {"name": "A", "actions": [{"type": "FLOW", "action": "DO_NOTHING"}]},
        {"name": "A", "actions": [act("a", "FLOW/DO_NOTHING") | {"params": "x"}]},
        {"name": "", "actions": []},
    ):
        with pytest.raises(FlowImportError):
            import_flows(data)
    assert not Flow.objects.exists()
