"""An action added with "+" and never configured (params `{}`) fails its step with `invalid_params`,
naming its fields, in a run, in the editor's Test and in `actions test`; never an internal error."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from actions import catalog
from actions.catalog import ActionResult, ActionType, ParamsForm
from actions.engine import run_flow
from actions.models import Action, ActionRun, Status, TestRun
from actions.runner import run_action, scope_from
from tests.engine.builders import act, condition, make_flow

TYPES = [action_type.kind for action_type in catalog.all_types()]
# What `{}` gives where the type's own checks speak first: nothing to do, or a request with no URL.
OWN_OUTCOME = {"FLOW/DO_NOTHING": None, "HTTP/SEND_REQUEST": "invalid_request"}


def unconfigured_flow(kind: str, **flags):
    """A flow holding one action as the canvas's "+" stores it before the editor is opened."""
    flow = make_flow([])
    type_, action = kind.split("/")
    Action.objects.create(flow=flow, action_id="added_1", type=type_, action=action, params={}, **flags)
    return flow


@pytest.mark.parametrize("kind", TYPES)
def test_a_run_fails_an_unconfigured_action_with_invalid_params(db, kind):
    execution = run_flow(unconfigured_flow(kind))

    (step,) = ActionRun.objects.filter(execution=execution)
    assert step.action_id == "added_1"
    expected = OWN_OUTCOME.get(kind, "invalid_params")
    if expected is None:
        assert execution.status == Status.COMPLETED and step.status == Status.COMPLETED
        return
    assert execution.status == Status.FAILED
    assert execution.error["code"] == expected and execution.error["action_id"] == "added_1"
    assert step.status == Status.FAILED and step.error["code"] == expected
    if expected == "invalid_params":
        label = catalog.get(*kind.split("/")).label
        assert step.error["message"].startswith(f'{label} "added_1" is not configured: ')
        assert "This field is required." in step.error["message"]


def test_the_message_names_the_action_and_its_fields_as_the_canvas_does(db):
    flow = make_flow([])
    Action.objects.create(
        flow=flow, action_id="store_variables_1", type="FLOW", action="STORE_VARS", params={}
    )
    execution = run_flow(flow)
    assert execution.error == {
        "action_id": "store_variables_1",
        "code": "invalid_params",
        "message": 'Store variables "store_variables_1" is not configured: Vars: This field is required.',
    }


def test_allow_failure_makes_the_invalid_params_the_output_and_the_run_goes_on(db):
    flow = make_flow([act("reply", "FLOW/RETURN_JSON", {"payload": {"stored": "{{actions.added_1}}"}})])
    flow.actions.update(position=1)
    Action.objects.create(
        flow=flow,
        action_id="added_1",
        type="FLOW",
        action="STORE_VARS",
        params={},
        allow_failure=True,
        position=0,
    )
    execution = run_flow(flow)

    assert execution.status == Status.COMPLETED
    assert execution.output["stored"]["error"]["code"] == "invalid_params"
    assert [run.status for run in execution.action_runs.order_by("position")] == ["failed", "completed"]


def test_unconfigured_actions_inside_a_branch_fail_too(db):
    flow = make_flow(
        [
            act(
                "check",
                "FLOW/BOOLEAN_CONDITION",
                {"if": {"operator": "AND", "conditions": [condition(1, "EQUALS", 1)]}},
            )
        ]
    )
    check = flow.actions.get()
    Action.objects.create(
        flow=flow,
        action_id="added_1",
        type="JSON",
        action="CREATE_JSON",
        params={},
        parent=check,
        branch="then",
    )
    execution = run_flow(flow)
    assert execution.error["code"] == "invalid_params" and execution.error["action_id"] == "added_1"
    assert execution.action_runs.count() == 2


class _AnyForm(ParamsForm):
    pass


def _broken_run(params: dict, ctx) -> ActionResult:
    raise RuntimeError("a bug in the action type")


@pytest.fixture
def broken_type():
    """A type whose params always validate and whose run has a bug (registered for this test only)."""
    broken = catalog.register(
        ActionType("TEST", "BROKEN", "Broken", "", "Raises a bug.", _AnyForm, _broken_run)
    )
    yield broken
    del catalog._registry[(broken.type, broken.action)]


def test_a_bug_with_valid_params_is_not_hidden_as_invalid_params(db, broken_type):
    action = Action(action_id="b", type="TEST", action="BROKEN", params={})
    with pytest.raises(RuntimeError):
        run_action(action, scope_from({}))

    flow = make_flow([])
    Action.objects.create(
        flow=flow, action_id="b", type="TEST", action="BROKEN", params={}, allow_failure=True
    )
    execution = run_flow(flow)
    assert execution.error["code"] == "internal_error"


@pytest.mark.parametrize("kind", TYPES)
def test_the_editors_test_of_an_unconfigured_action_lists_its_problems(staff_client, kind):
    flow = unconfigured_flow(kind)
    action = flow.actions.get()
    action_type = catalog.get(action.type, action.action)
    data = dict(action_type.form_class.data_from_params({}, {}).lists()) | {"test_input": ""}

    response = staff_client.post(
        reverse("actions:action_test", args=[flow.pk, action.pk]), data, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    if kind == "FLOW/DO_NOTHING":
        assert TestRun.objects.filter(action=action).count() == 1
    else:
        assert "This field is required." in response.text or "URL" in response.text
        assert TestRun.objects.filter(action=action).count() == 0


@pytest.mark.parametrize("kind", TYPES)
def test_actions_test_of_an_unconfigured_action_says_what_is_missing(db, tmp_path, kind):
    type_, action = kind.split("/")
    path = tmp_path / "action.json"
    path.write_text(json.dumps({"id": "added_1", "type": type_, "action": action, "params": {}}))
    out = StringIO()
    if kind == "FLOW/DO_NOTHING":
        call_command("actions", "test", str(path), stdout=out, stderr=StringIO())
        assert json.loads(out.getvalue())["output"] == {}
        return
    with pytest.raises(CommandError) as failed:
        call_command("actions", "test", str(path), stdout=out, stderr=StringIO())
    assert failed.value.returncode == 2
    assert "invalid params" in str(failed.value)
