"""How a run's records are written: every step, in order, JSON as JSONField would store it."""

import sqlite3

import pytest
from django.db import connection

from actions.engine import run_flow
from tests.engine.builders import act, make_flow

pytestmark = pytest.mark.django_db


@pytest.fixture
def few_sql_parameters():
    """SQLite accepts only 30 parameters per statement: 2 action runs (13 columns each) per INSERT."""
    if connection.vendor != "sqlite":
        pytest.skip("the parameter limit is SQLite's")
    connection.ensure_connection()
    limit = sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER
    before = connection.connection.setlimit(limit, 30)
    yield
    connection.connection.setlimit(limit, before)


def test_runs_beyond_one_statement_are_all_recorded_in_order(few_sql_parameters):
    flow = make_flow([act(f"step{i}", "FLOW/STORE_VARS", {"vars": {"n": i}}) for i in range(5)])

    execution = run_flow(flow)

    runs = list(execution.action_runs.values_list("position", "action_id", "output"))
    assert runs == [(i, f"step{i}", {"n": i}) for i in range(5)]


def test_json_columns_hold_values_null_and_text_as_typed():
    flow = make_flow(
        [
            act("text", "FLOW/STORE_VARS", {"vars": {"word": "café ✓", "none": None}}),
            act("fail", "AUTH0/SEND_EMAIL"),
        ]
    )

    execution = run_flow(flow)

    stored, failed = execution.action_runs.all()
    assert stored.params == {"vars": {"word": "café ✓", "none": None}}
    assert stored.output == {"word": "café ✓", "none": None}
    assert failed.error["code"] == "unsupported_action"
    # None is SQL NULL, as JSONField stores it, so that `__isnull` finds it.
    assert list(execution.action_runs.filter(error__isnull=True)) == [stored]
    assert list(execution.action_runs.filter(output__isnull=True)) == [failed]
