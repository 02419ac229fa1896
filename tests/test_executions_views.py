"""Run a flow from the browser, list and read its executions, run one again, prune old ones."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from actions.engine import run_flow
from actions.models import Execution, Flow
from tests.engine.builders import act, make_flow


@pytest.fixture
def flow(db) -> Flow:
    return make_flow(
        [
            act("greet", "FLOW/STORE_VARS", {"vars": {"greeting": "Hello {{fields.name}}"}}),
            act("reply", "FLOW/RETURN_JSON", {"payload": {"message": "{{vars.greeting}}"}}),
        ],
        name="Greeter",
    )


@pytest.fixture
def failing_flow(db) -> Flow:
    return make_flow(
        [
            act("first", "FLOW/DO_NOTHING"),
            act("tolerated", "JSON/PARSE_JSON", {"json": "{not json"}, allow_failure=True),
            act("stop", "FLOW/ERROR_MESSAGE", {"message": "No user named {{fields.name}}"}),
            act("never", "FLOW/DO_NOTHING"),
        ],
        name="Stopper",
    )


@pytest.fixture
def execution(flow) -> Execution:
    return run_flow(flow, fields={"name": "Ada"})


def _urls(flow: Flow, execution: Execution) -> list[str]:
    return [
        reverse("actions:flow_run", args=[flow.pk]),
        reverse("actions:execution_list"),
        reverse("actions:flow_execution_list", args=[flow.pk]),
        reverse("actions:execution_detail", args=[execution.pk]),
    ]


def test_anonymous_is_sent_to_login(client, flow, execution):
    for url in _urls(flow, execution):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next=")
    for url in (
        reverse("actions:flow_run", args=[flow.pk]),
        reverse("actions:execution_rerun", args=[execution.pk]),
    ):
        assert client.post(url).status_code == 302
    assert Execution.objects.count() == 1


def test_outsider_is_forbidden(outsider_client, flow, execution):
    for url in _urls(flow, execution):
        assert outsider_client.get(url).status_code == 403, url
    assert (
        outsider_client.post(reverse("actions:flow_run", args=[flow.pk]), {"fields": "{}"}).status_code == 403
    )
    assert outsider_client.post(reverse("actions:execution_rerun", args=[execution.pk])).status_code == 403
    assert Execution.objects.count() == 1


def test_staff_sees_every_page(staff_client, flow, execution):
    for url in _urls(flow, execution):
        assert staff_client.get(url).status_code == 200, url


def test_missing_objects_are_404(staff_client, db):
    missing = "00000000-0000-0000-0000-000000000000"
    assert staff_client.get(reverse("actions:flow_run", args=[missing])).status_code == 404
    assert staff_client.get(reverse("actions:flow_execution_list", args=[missing])).status_code == 404
    assert staff_client.get(reverse("actions:execution_detail", args=[missing])).status_code == 404
    assert staff_client.post(reverse("actions:execution_rerun", args=[missing])).status_code == 404


def test_rerun_accepts_only_post(staff_client, execution):
    assert staff_client.get(reverse("actions:execution_rerun", args=[execution.pk])).status_code == 405


# --- Run --------------------------------------------------------------------------------------------------


def test_run_with_valid_input_runs_and_shows_the_execution(staff_client, flow):
    url = reverse("actions:flow_run", args=[flow.pk])
    response = staff_client.post(url, {"fields": '{"name": "Grace"}'})

    execution = Execution.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("actions:execution_detail", args=[execution.pk])
    assert execution.trigger == "manual"
    assert execution.status == "completed"
    assert execution.fields == {"name": "Grace"}
    assert execution.output == {"message": "Hello Grace"}
    page = staff_client.get(response["Location"])
    assert "Flow “Greeter” ran to completion." in page.text


def test_run_with_empty_input_runs_with_no_fields(staff_client, flow):
    staff_client.post(reverse("actions:flow_run", args=[flow.pk]), {"fields": "  "})
    assert Execution.objects.get().fields == {}


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ('{"name": ', "Not valid JSON (line 1, column 9): Expecting value."),
        ('["Ada"]', "The input fields must be a JSON object"),
        ("42", "The input fields must be a JSON object"),
    ],
)
def test_run_with_invalid_input_shows_the_error_and_keeps_the_text(staff_client, flow, typed, error):
    response = staff_client.post(reverse("actions:flow_run", args=[flow.pk]), {"fields": typed})

    assert response.status_code == 200
    assert error in response.text
    assert response.context["form"]["fields"].value() == typed
    assert Execution.objects.count() == 0


def test_run_page_remembers_the_last_input_per_flow(staff_client, flow, failing_flow):
    url = reverse("actions:flow_run", args=[flow.pk])
    assert staff_client.get(url).context["form"]["fields"].value() == "{}"

    staff_client.post(url, {"fields": '{"name": "Grace"}'})

    assert staff_client.get(url).context["form"]["fields"].value() == '{"name": "Grace"}'
    other = staff_client.get(reverse("actions:flow_run", args=[failing_flow.pk]))
    assert other.context["form"]["fields"].value() == "{}"


def test_run_page_starts_from_the_latest_execution_input(staff_client, flow):
    run_flow(flow, fields={"name": "Ada"}, trigger="cli")
    value = staff_client.get(reverse("actions:flow_run", args=[flow.pk])).context["form"]["fields"].value()
    assert json.loads(value) == {"name": "Ada"}


def test_run_of_a_failing_flow_says_so(staff_client, failing_flow):
    response = staff_client.post(
        reverse("actions:flow_run", args=[failing_flow.pk]), {"fields": '{"name": "Bob"}'}, follow=True
    )
    assert "Flow “Stopper” failed" in response.text
    assert Execution.objects.get().status == "failed"


# --- Lists ------------------------------------------------------------------------------------------------


def test_list_shows_every_flow_newest_first(staff_client, flow, failing_flow):
    first = run_flow(flow, fields={"name": "Ada"})
    second = run_flow(failing_flow, trigger="cli")

    response = staff_client.get(reverse("actions:execution_list"))

    assert list(response.context["page"].object_list) == [second, first]
    assert "Greeter" in response.text and "Stopper" in response.text
    assert reverse("actions:execution_detail", args=[first.pk]) in response.text
    assert ">CLI<" in response.text


def test_flow_list_shows_only_that_flow(staff_client, flow, failing_flow):
    mine = run_flow(flow)
    run_flow(failing_flow)
    response = staff_client.get(reverse("actions:flow_execution_list", args=[flow.pk]))
    assert list(response.context["page"].object_list) == [mine]


def test_filter_by_status_renders_the_partial_for_htmx(staff_client, flow, failing_flow):
    completed = run_flow(flow)
    failed = run_flow(failing_flow)
    url = reverse("actions:execution_list")

    page = staff_client.get(url, {"status": "failed"})
    assert list(page.context["page"].object_list) == [failed]
    assert "<html" in page.text

    partial = staff_client.get(url, {"status": "completed"}, headers={"HX-Request": "true"})
    assert list(partial.context["page"].object_list) == [completed]
    assert "<html" not in partial.text
    assert partial.text.lstrip().startswith('<section id="execution-results"')
    assert partial["Vary"] == "HX-Request" or "HX-Request" in partial["Vary"]

    none = staff_client.get(url, {"status": "running"})
    assert "No running executions" in none.text


def test_unknown_status_shows_everything(staff_client, flow):
    run_flow(flow)
    assert len(staff_client.get(reverse("actions:execution_list"), {"status": "bogus"}).context["page"]) == 1


def test_list_is_paginated(staff_client, flow):
    for _ in range(51):
        run_flow(flow)
    url = reverse("actions:execution_list")
    first = staff_client.get(url)
    assert len(first.context["page"].object_list) == 50
    assert "Page 1 of 2" in first.text
    assert len(staff_client.get(url, {"page": 2}).context["page"].object_list) == 1


def test_list_query_count_does_not_grow_with_executions(staff_client, flow, failing_flow):
    run_flow(flow)
    url = reverse("actions:execution_list")
    staff_client.get(url)  # session and user queries warmed alike in both measures
    with CaptureQueriesContext(connection) as few:
        staff_client.get(url)
    for _ in range(5):
        run_flow(flow)
        run_flow(failing_flow)
    with CaptureQueriesContext(connection) as many:
        staff_client.get(url)
    assert len(many) == len(few)
    execution_queries = [q for q in many.captured_queries if "actions_execution" in q["sql"]]
    assert len(execution_queries) <= 2


# --- Detail -----------------------------------------------------------------------------------------------


def test_detail_shows_the_header_and_every_step(staff_client, execution):
    response = staff_client.get(reverse("actions:execution_detail", args=[execution.pk]))
    text = response.text

    assert "Greeter" in text
    assert "version 1" in text
    assert "manual" in text
    assert "Completed" in text or "completed" in text
    assert "&quot;name&quot;: &quot;Ada&quot;" in text  # input fields, escaped JSON
    assert "&quot;message&quot;: &quot;Hello Ada&quot;" in text  # output
    steps = response.context["steps"]
    assert [step.run.action_id for step in steps] == ["greet", "reply"]
    assert not any(step.failed for step in steps)
    assert "FLOW/STORE_VARS" in text and "FLOW/RETURN_JSON" in text
    assert "&quot;greeting&quot;: &quot;Hello Ada&quot;" in text  # resolved params
    assert " open" not in text.split('id="steps-heading"')[1].split(">", 1)[0]


def test_detail_opens_and_highlights_the_step_that_failed(staff_client, failing_flow):
    execution = run_flow(failing_flow, fields={"name": "Bob"})
    response = staff_client.get(reverse("actions:execution_detail", args=[execution.pk]))

    steps = response.context["steps"]
    assert [(step.run.action_id, step.run.status, step.failed) for step in steps] == [
        ("first", "completed", False),
        ("tolerated", "failed", False),
        ("stop", "failed", True),
    ]
    text = response.text
    assert text.count("<details") == 3
    assert text.count('alert alert-error" open') == 1
    failed_block = text.split('alert alert-error" open')[1].split("</details>")[0]
    assert "<code>stop</code>" in failed_block
    assert "stopped the run" in failed_block
    assert "No user named Bob" in text


def test_detail_escapes_json_and_says_masked(staff_client, db):
    flow = make_flow(
        [
            act("evil", "FLOW/STORE_VARS", {"vars": {"html": "<script>alert(1)</script>"}}),
            act("hidden", "JSON/CREATE_JSON", {"object": {"secret": "visible_SENTINEL"}}, mask_output=True),
        ],
        name="<b>Bold</b>",
    )
    execution = run_flow(flow)
    text = staff_client.get(reverse("actions:execution_detail", args=[execution.pk])).text
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<b>Bold</b>" not in text
    assert "masked: this action hides its output." in text


def test_run_again_uses_the_same_input(staff_client, execution):
    response = staff_client.post(reverse("actions:execution_rerun", args=[execution.pk]))

    again = Execution.objects.exclude(pk=execution.pk).get()
    assert response["Location"] == reverse("actions:execution_detail", args=[again.pk])
    assert again.fields == {"name": "Ada"}
    assert again.output == {"message": "Hello Ada"}
    assert again.trigger == "manual"


def test_run_again_requires_the_csrf_token(client, staff_user, execution):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(staff_user)
    assert csrf_client.post(reverse("actions:execution_rerun", args=[execution.pk])).status_code == 403
    assert Execution.objects.count() == 1


# --- Retention --------------------------------------------------------------------------------------------


def _age(execution: Execution, days: float) -> None:
    Execution.objects.filter(pk=execution.pk).update(created=timezone.now() - timedelta(days=days))


def _prune(*args: str) -> dict:
    out, err = StringIO(), StringIO()
    call_command("prune_executions", *args, stdout=out, stderr=err)
    return json.loads(out.getvalue())


def test_prune_deletes_executions_older_than_the_retention_period(flow, settings):
    old, recent = run_flow(flow), run_flow(flow)
    _age(old, 31)
    _age(recent, 29)

    result = _prune()

    assert result["deleted"] == 1
    assert result["days"] == 30
    assert list(Execution.objects.all()) == [recent]


def test_prune_reads_the_setting_and_the_option(flow, settings):
    settings.FLOWS_EXECUTION_RETENTION_DAYS = 5
    executions = [run_flow(flow) for _ in range(3)]
    _age(executions[0], 10)
    _age(executions[1], 3)

    assert _prune()["deleted"] == 1
    assert _prune("--days", "2")["deleted"] == 1
    assert list(Execution.objects.all()) == [executions[2]]
    assert _prune("--days", "0")["deleted"] == 1
    assert _prune()["deleted"] == 0


def test_prune_refuses_a_negative_period(db):
    with pytest.raises(CommandError, match="--days must be 0 or more"):
        call_command("prune_executions", "--days", "-1", stdout=StringIO(), stderr=StringIO())
