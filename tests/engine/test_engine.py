"""run_flow: order and branches, the scope, actions that end a run, failures, records."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from actions import catalog
from actions.catalog import ActionResult, ActionType, ParamsForm
from actions.engine import run_flow
from actions.models import Execution
from tests.engine.builders import act, condition, make_flow

pytestmark = pytest.mark.django_db


def runs(execution: Execution) -> list[tuple[str, str]]:
    return [(run.action_id, run.status) for run in execution.action_runs.all()]


def branch_flow(left, op="EQUALS", right=200, **condition_flags) -> list[dict]:
    return [
        act(
            "check",
            "FLOW/BOOLEAN_CONDITION",
            {
                "if": {"operator": "AND", "conditions": [condition(left, op, right)]},
                "then": [act("yes", "FLOW/STORE_VARS", {"vars": {"branch": "then"}})],
                "else": [act("no", "FLOW/STORE_VARS", {"vars": {"branch": "else"}})],
            },
            **condition_flags,
        ),
        act(
            "after",
            "FLOW/RETURN_JSON",
            {
                "payload": {
                    "branch": "{{vars.branch}}",
                    "yes": "{{actions.yes.branch ?? 'not run'}}",
                    "no": "{{actions.no.branch ?? 'not run'}}",
                    "check": "{{actions.check}}",
                }
            },
        ),
    ]


def test_the_then_branch_runs_then_the_action_after_the_condition():
    execution = run_flow(make_flow(branch_flow("{{fields.status}}")), fields={"status": "200"})

    assert execution.status == "completed"
    assert runs(execution) == [("check", "completed"), ("yes", "completed"), ("after", "completed")]
    assert execution.output == {"branch": "then", "yes": "then", "no": "not run", "check": {"result": True}}


def test_the_else_branch_runs_and_the_other_branch_is_undefined_not_an_error():
    execution = run_flow(make_flow(branch_flow("{{fields.status}}")), fields={"status": 404})

    assert runs(execution) == [("check", "completed"), ("no", "completed"), ("after", "completed")]
    assert execution.output == {"branch": "else", "yes": "not run", "no": "else", "check": {"result": False}}


def test_nested_conditions_and_empty_branches():
    inner = act(
        "inner",
        "FLOW/BOOLEAN_CONDITION",
        {
            "if": {"operator": "OR", "conditions": [condition("{{fields.b}}", "IS_TRUE")]},
            "then": [act("deep", "FLOW/STORE_VARS", {"vars": {"deep": True}})],
        },
    )
    flow = make_flow(
        [
            act(
                "outer",
                "FLOW/BOOLEAN_CONDITION",
                {
                    "if": {"operator": "AND", "conditions": [condition("{{fields.a}}", "EXISTS")]},
                    "then": [inner],
                },
            ),
            act("end", "FLOW/RETURN_JSON", {"payload": "{{vars}}"}),
        ]
    )

    assert run_flow(flow, fields={"a": 1, "b": "TRUE"}).output == {"deep": True}
    assert runs(run_flow(flow, fields={"a": 1, "b": False})) == [
        ("outer", "completed"),
        ("inner", "completed"),
        ("end", "completed"),
    ]
    assert runs(run_flow(flow, fields={})) == [("outer", "completed"), ("end", "completed")]


def test_an_error_in_a_condition_fails_the_run_and_picks_no_branch():
    execution = run_flow(
        make_flow(branch_flow("{{fields.items}}", "GREATER_THAN", 1)), fields={"items": [1, 2]}
    )

    assert execution.status == "failed"
    assert runs(execution) == [("check", "failed")]
    assert execution.error["action_id"] == "check"
    assert execution.error["code"] == "condition_error"
    assert "if.conditions[0]" in execution.error["message"]


def test_an_error_in_a_condition_with_allow_failure_runs_neither_branch():
    flow = make_flow(branch_flow("{{fields.items}}", "GREATER_THAN", 1, allow_failure=True))

    execution = run_flow(flow, fields={"items": [1, 2]})

    assert execution.status == "completed"
    assert runs(execution) == [("check", "failed"), ("after", "completed")]
    assert execution.output["yes"] == execution.output["no"] == "not run"
    assert execution.output["check"]["error"]["code"] == "condition_error"


def test_scope_has_fields_vars_actions_and_context():
    flow = make_flow(
        [
            act("s", "FLOW/STORE_VARS", {"vars": {"b": 2}}),
            act("out", "FLOW/RETURN_JSON", {"payload": "{{functions.merge(context, vars)}}"}),
        ],
        name="Ctx",
    )

    execution = run_flow(
        flow, vars={"a": 1}, context={"source": "test", "flow_name": "spoofed"}, trigger="api"
    )

    output = execution.output
    assert output["a"] == 1 and output["b"] == 2
    assert output["source"] == "test"
    assert output["flow_name"] == "Ctx"
    assert output["flow_id"] == str(flow.id)
    assert output["execution_id"] == str(execution.id)
    assert output["trigger"] == "api" == execution.trigger
    assert output["time"].endswith("Z") and output["time"] >= execution.started.isoformat()[:19]


def test_store_vars_records_copies_and_runs_are_isolated():
    given_vars = {"list": [1]}
    flow = make_flow(
        [
            act("first", "FLOW/STORE_VARS", {"vars": {"list": "{{functions.merge(vars.list, 2)}}"}}),
            act("second", "FLOW/STORE_VARS", {"vars": {"list": "{{functions.merge(vars.list, 3)}}"}}),
            act(
                "out",
                "FLOW/RETURN_JSON",
                {"payload": {"now": "{{vars.list}}", "first": "{{actions.first.list}}"}},
            ),
        ]
    )

    execution = run_flow(flow, vars=given_vars)
    again = run_flow(flow, vars=given_vars)

    assert execution.output == {"now": [1, 2, 3], "first": [1, 2]}
    first, second, _ = execution.action_runs.all()
    assert first.output == {"list": [1, 2]}
    assert second.output == {"list": [1, 2, 3]}
    assert given_vars == {"list": [1]}
    assert again.output == execution.output


def test_return_json_ends_the_run_with_its_payload():
    flow = make_flow(
        [
            act("ret", "FLOW/RETURN_JSON", {"payload": {"id": "{{fields.id}}"}}),
            act("never", "FLOW/ERROR_MESSAGE", {"message": "not reached"}),
        ]
    )

    execution = run_flow(flow, fields={"id": 5})

    assert execution.status == "completed"
    assert execution.output == {"id": 5}
    assert runs(execution) == [("ret", "completed")]


@pytest.mark.parametrize("allow_failure", [False, True])
def test_error_message_ends_the_run_as_failed_whatever_allow_failure_says(allow_failure):
    flow = make_flow(
        [
            act("stop", "FLOW/ERROR_MESSAGE", {"message": "Bad {{fields.x}}"}, allow_failure=allow_failure),
            act("never", "FLOW/DO_NOTHING"),
        ]
    )

    execution = run_flow(flow, fields={"x": "input"})

    assert execution.status == "failed"
    assert execution.output is None
    assert execution.error == {"action_id": "stop", "code": "error_message", "message": "Bad input"}
    (record,) = execution.action_runs.all()
    assert record.status == "failed"
    assert record.error == {"code": "error_message", "message": "Bad input"}
    assert record.output == {"message": "Bad input"}


def test_a_failing_action_stops_the_run_unless_it_allows_failure():
    actions = [
        act("parse", "JSON/PARSE_JSON", {"json": "{{fields.text}}"}),
        act("out", "FLOW/RETURN_JSON", {"payload": {"code": "{{actions.parse.error.code}}"}}),
    ]

    stopped = run_flow(make_flow(actions), fields={"text": "{oops"})
    actions[0]["allow_failure"] = True
    allowed = run_flow(make_flow(actions, name="allowed"), fields={"text": "{oops"})

    assert stopped.status == "failed"
    assert stopped.error["action_id"] == "parse" and stopped.error["code"] == "invalid_json"
    assert runs(stopped) == [("parse", "failed")]
    assert allowed.status == "completed"
    assert runs(allowed) == [("parse", "failed"), ("out", "completed")]
    assert allowed.output == {"code": "invalid_json"}
    record = allowed.action_runs.first()
    assert record.error["code"] == "invalid_json"
    assert record.output == {"error": record.error}


def test_mask_output_hides_the_recorded_output_but_later_actions_read_it():
    flow = make_flow(
        [
            act("secret", "JSON/CREATE_JSON", {"object": {"pin": "{{fields.pin}}"}}, mask_output=True),
            act(
                "out",
                "FLOW/STORE_VARS",
                {"vars": {"length": "{{functions.length(actions.secret.result.pin)}}"}},
            ),
        ]
    )

    execution = run_flow(flow, fields={"pin": "1234"})

    secret, out = execution.action_runs.all()
    assert secret.output == "masked"
    assert out.output == {"length": 4}
    assert execution.summary()["actions"][0]["output"] == "masked"


def test_masked_values_are_recorded_as_their_mask():
    flow = make_flow(
        [
            act("keep", "FLOW/STORE_VARS", {"vars": {"key": "{{functions.mask(fields.key)}}", "n": 1}}),
            act("out", "FLOW/RETURN_JSON", {"payload": {"key": "{{vars.key}}", "ref": "k={{vars.key}}"}}),
        ]
    )

    execution = run_flow(flow, fields={"key": "key_SENTINEL"})

    records = json.dumps(list(execution.action_runs.values("params", "output", "meta", "error")))
    assert "key_SENTINEL" not in records + json.dumps(execution.output)
    assert execution.output == {"key": "********", "ref": "k=********"}
    assert execution.action_runs.first().params == {"vars": {"key": "********", "n": 1}}


def test_an_unsupported_action_is_kept_and_fails_the_run_when_reached():
    flow = make_flow(
        [
            act("first", "FLOW/DO_NOTHING"),
            act("mystery", "AUTH0/SEND_EMAIL", {"to": "{{fields.email}}"}, allow_failure=True),
            act("never", "FLOW/DO_NOTHING"),
        ]
    )

    execution = run_flow(flow)

    assert execution.status == "failed"
    assert runs(execution) == [("first", "completed"), ("mystery", "failed")]
    assert execution.error["action_id"] == "mystery"
    assert execution.error["code"] == "unsupported_action"
    assert "AUTH0/SEND_EMAIL" in execution.error["message"]


def test_records_hold_resolved_params_timing_and_order():
    flow = make_flow(
        [
            act("wait", "FLOW/DELAY_FLOW", {"number": 0.02}),
            act(
                "map", "FLOW/MAP_VALUE", {"input": "{{fields.c}}", "cases": {"FR": "France"}, "fallback": "?"}
            ),
        ]
    )

    execution = run_flow(flow, fields={"c": "FR"})

    wait, mapped = execution.action_runs.all()
    assert (wait.position, mapped.position) == (0, 1)
    assert wait.duration_ms >= 20 and wait.attempts == 1
    assert (wait.type, wait.action) == ("FLOW", "DELAY_FLOW")
    assert mapped.params == {"input": "FR", "cases": {"FR": "France"}, "fallback": "?"}
    assert mapped.output == {"result": "France"}
    assert execution.flow_version == 1
    assert execution.started <= wait.started <= mapped.started <= execution.ended
    assert execution.duration_ms >= 20


def test_the_number_of_queries_does_not_depend_on_the_number_of_actions():
    def queries(count: int) -> int:
        flow = make_flow([act(f"a{i}", "FLOW/DO_NOTHING") for i in range(count)], name=f"flow {count}")
        with CaptureQueriesContext(connection) as captured:
            run_flow(flow)
        return len(captured)

    assert queries(2) == queries(25)


@pytest.fixture
def exploding_type():
    """An action type whose run raises an unexpected error (a bug, not an ActionFailed)."""

    def explode(params: dict, ctx) -> ActionResult:
        raise RuntimeError("bug")

    catalog.get("FLOW", "DO_NOTHING")  # load the catalog before adding to it
    catalog.register(ActionType("TEST", "EXPLODE", "Explode", "x", "", ParamsForm, explode))
    yield
    del catalog._registry[("TEST", "EXPLODE")]


def test_an_unexpected_error_marks_the_execution_failed_never_running(exploding_type, caplog):
    flow = make_flow([act("ok", "FLOW/DO_NOTHING"), act("boom", "TEST/EXPLODE", allow_failure=True)])

    execution = run_flow(flow)

    execution.refresh_from_db()
    assert execution.status == "failed"
    assert execution.ended is not None
    assert execution.error == {
        "action_id": "boom",
        "code": "internal_error",
        "message": "The run stopped on an unexpected error.",
    }
    assert runs(execution) == [("ok", "completed")]
    assert "unexpected error" in caplog.text


def test_an_unknown_trigger_is_refused():
    with pytest.raises(ValueError, match="trigger"):
        run_flow(make_flow([]), trigger="cron")
    assert not Execution.objects.exists()


def test_an_empty_flow_completes_without_output():
    execution = run_flow(make_flow([]))

    assert (execution.status, execution.output, execution.error) == ("completed", None, None)
    assert Execution.objects.get().status == "completed"
