"""Long names (one word, no spaces) wrap inside their cells: no page or table gets wider than the window."""

import pytest
from django.utils import timezone
from playwright.sync_api import Page

from actions.models import Action, ActionRun, Execution, Flow, Status
from vault.models import Connection

pytestmark = pytest.mark.e2e

WIDTH = 1280  # the `page` fixture's viewport
LONG_NAME = "n" * 150
LONG_ACTION_ID = "a" * 100
LONG_HOST = ".".join(["h" * 63] * 3) + ".example"

# A table in a card that clips its overflow would hide columns without widening the page.
TABLES_INSIDE_THEIR_CARD = """() => [...document.querySelectorAll("table")].every(
  (table) => table.getBoundingClientRect().right <= table.parentElement.getBoundingClientRect().right
)"""


def assert_fits(page: Page, path: str) -> None:
    page.goto(path)
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH, path
    assert page.evaluate(TABLES_INSIDE_THEIR_CARD), path


def test_the_vault_list_fits_the_window_with_a_150_character_name(logged_in_page: Page):
    connection = Connection(name=LONG_NAME, type="BEARER", allowed_hosts=[LONG_HOST, "api.example.com"])
    connection.set_setup({"token": "tok"})
    connection.save()
    assert_fits(logged_in_page, "/vault/")
    delete = logged_in_page.get_by_role("link", name="Delete").bounding_box()
    assert delete["x"] + delete["width"] <= WIDTH
    assert_fits(logged_in_page, f"/vault/{connection.pk}/")
    assert_fits(logged_in_page, f"/vault/{connection.pk}/delete/")


def test_the_flow_list_fits_the_window_with_a_150_character_name(logged_in_page: Page):
    Flow.objects.create(name=LONG_NAME, description="d" * 400)
    assert_fits(logged_in_page, "/flows/")
    logged_in_page.get_by_text(f"More for {LONG_NAME}").click()
    assert logged_in_page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    assert logged_in_page.evaluate(TABLES_INSIDE_THEIR_CARD)


def test_execution_pages_fit_the_window_with_long_names_and_action_ids(logged_in_page: Page):
    flow = Flow.objects.create(name=LONG_NAME)
    Action.objects.create(flow=flow, action_id=LONG_ACTION_ID, type="FLOW", action="DO_NOTHING")
    now = timezone.now()
    execution = Execution.objects.create(
        flow=flow,
        flow_version=1,
        status=Status.FAILED,
        started=now,
        ended=now,
        error={"action_id": LONG_ACTION_ID, "code": "failed", "message": "m" * 300},
    )
    ActionRun.objects.create(
        execution=execution,
        position=0,
        action_id=LONG_ACTION_ID,
        type="FLOW",
        action="DO_NOTHING",
        status=Status.FAILED,
        started=now,
    )
    for path in (
        "/flows/executions/",
        f"/flows/{flow.pk}/executions/",
        f"/flows/executions/{execution.pk}/",
        f"/flows/{flow.pk}/run/",
        f"/flows/{flow.pk}/edit/",
        f"/flows/{flow.pk}/delete/",
    ):
        assert_fits(logged_in_page, path)
