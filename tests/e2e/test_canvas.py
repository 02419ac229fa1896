"""The flow canvas in a real browser: build a flow with "+", reorder by drag and drop and by keyboard."""

import re

import pytest
from playwright.sync_api import Page, expect

from actions.models import Action, Flow

pytestmark = pytest.mark.e2e


def card_ids(page: Page) -> list[str]:
    """The ids on the main chain's cards, top to bottom."""
    return page.locator(
        "#canvas .canvas-flow > .chain-wrap > ol.chain > li.node > .action-card .action-card-link"
    ).all_inner_texts()


def add_from_catalog(page: Page, flow: Flow, plus: str, label: str) -> None:
    page.get_by_role("link", name=plus).click()
    dialog = page.get_by_role("dialog", name="Add an action")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=label).click()
    # The canvas is redrawn with the new card and its editor opens beside it (see test_canvas_panel.py).
    expect(dialog).to_be_hidden()
    expect(page.locator("#side-panel #action-form")).to_be_visible()
    page.goto(f"/flows/{flow.pk}/")


def drag(page: Page, source, target) -> None:
    """Sortable follows pointer events: press on the handle, move in steps, release over the target."""
    start = source.bounding_box()
    end = target.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + 8, steps=4)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + 4, steps=20)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + 2, steps=2)
    page.mouse.up()


def test_build_a_flow_with_plus_then_reorder_by_drag_and_drop(logged_in_page: Page):
    page = logged_in_page
    flow = Flow.objects.create(name="Three steps")
    page.goto(f"/flows/{flow.pk}/")
    expect(page.get_by_role("heading", name="This flow has no actions yet")).to_be_visible()

    add_from_catalog(page, flow, "Add an action at the start", "Store variables")
    add_from_catalog(page, flow, "Add an action after store_variables_1", "Do nothing")
    add_from_catalog(page, flow, "Add an action after do_nothing_1", "Return JSON")
    assert card_ids(page) == ["store_variables_1", "do_nothing_1", "return_json_1"]
    expect(page.get_by_text("v4", exact=True)).to_be_visible()

    # Drag the last card above the first one.
    handle = page.locator("li.node", has_text="return_json_1").locator(".drag-handle")
    with page.expect_response(re.compile(r"/canvas/reorder/$")) as response:
        drag(page, handle, page.locator(".action-card", has_text="store_variables_1"))
    assert response.value.status == 200
    expect(page.get_by_text("Order saved (flow version 5).")).to_be_visible()
    assert card_ids(page) == ["return_json_1", "store_variables_1", "do_nothing_1"]

    page.reload()
    assert card_ids(page) == ["return_json_1", "store_variables_1", "do_nothing_1"]
    assert list(
        Action.objects.filter(flow=flow).order_by("position").values_list("action_id", flat=True)
    ) == [
        "return_json_1",
        "store_variables_1",
        "do_nothing_1",
    ]


def test_reorder_with_the_keyboard_and_delete_from_the_menu(logged_in_page: Page):
    page = logged_in_page
    flow = Flow.objects.create(name="Keyboard")
    for position, name in enumerate(["first", "second", "third"]):
        Action.objects.create(flow=flow, action_id=name, position=position, type="FLOW", action="DO_NOTHING")
    page.goto(f"/flows/{flow.pk}/")

    down = page.get_by_role("button", name="Move first down")
    down.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("“first” moved down.")).to_be_visible()
    assert card_ids(page) == ["second", "first", "third"]
    # The focus stays on the button, so pressing again keeps moving the same card.
    expect(page.get_by_role("button", name="Move first down")).to_be_focused()
    with page.expect_response(re.compile(r"/move/down/$")):
        page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Move first down")).to_be_disabled()
    assert card_ids(page) == ["second", "third", "first"]

    page.get_by_label("More for second").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("li.node", has_text="second").get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Action “second” deleted.")).to_be_visible()
    assert card_ids(page) == ["third", "first"]
    assert Flow.objects.get(pk=flow.pk).version == 4

    # Anywhere on a card opens its editor, in the side panel; the panel links to the editor's own page.
    page.locator(".action-card", has_text="third").click(position={"x": 60, "y": 45})
    third = Action.objects.get(flow=flow, action_id="third")
    panel = page.locator("#side-panel")
    expect(panel.get_by_role("heading", name="third")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/flows/{flow.pk}/$"))
    panel.get_by_role("link", name="Full page").click()
    expect(page).to_have_url(re.compile(rf"/flows/{flow.pk}/actions/{third.pk}/$"))


def test_a_condition_draws_two_branches_and_inserts_into_one(logged_in_page: Page):
    page = logged_in_page
    flow = Flow.objects.create(name="Branches")
    check = Action.objects.create(flow=flow, action_id="check", type="FLOW", action="BOOLEAN_CONDITION")
    Action.objects.create(
        flow=flow, action_id="yes", parent=check, branch="then", type="FLOW", action="DO_NOTHING"
    )
    page.goto(f"/flows/{flow.pk}/")
    expect(page.locator(".branch-then .action-card")).to_contain_text("yes")
    expect(page.locator(".branch-else .action-card")).to_have_count(0)

    add_from_catalog(page, flow, "Add an action at the start of else", "Do nothing")
    expect(page.locator(".branch-else .action-card")).to_contain_text("do_nothing_1")
    assert Action.objects.get(action_id="do_nothing_1").branch == "else"


def test_drag_a_card_into_an_empty_branch(logged_in_page: Page):
    page = logged_in_page
    flow = Flow.objects.create(name="Into a branch")
    Action.objects.create(flow=flow, action_id="first", type="FLOW", action="DO_NOTHING")
    check = Action.objects.create(
        flow=flow, action_id="check", position=1, type="FLOW", action="BOOLEAN_CONDITION"
    )
    Action.objects.create(
        flow=flow, action_id="yes", parent=check, branch="then", type="FLOW", action="DO_NOTHING"
    )
    page.goto(f"/flows/{flow.pk}/")

    handle = page.locator("li.node", has_text="first").locator(".drag-handle")
    target = page.locator(f"ol.chain[data-parent='{check.pk}'][data-branch='else']")
    start, end = handle.bounding_box(), target.bounding_box()
    with page.expect_response(re.compile(r"/canvas/reorder/$")):
        # Sideways out of the main chain first, then down into the branch.
        page.mouse.move(start["x"] + 5, start["y"] + 5)
        page.mouse.down()
        page.mouse.move(end["x"] + end["width"] / 2, start["y"] + 5, steps=10)
        page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=15)
        # A last small move over the target: under load Sortable may not have taken the previous one yet.
        page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2 + 2, steps=2)
        page.mouse.up()
    expect(page.locator(".branch-else .action-card")).to_contain_text("first")
    assert card_ids(page) == ["check"]
    first = Action.objects.get(action_id="first")
    assert (first.parent_id, first.branch, first.position) == (check.pk, "else", 0)


def test_drag_from_below_into_a_branch_does_not_jump_over_the_condition(logged_in_page: Page):
    page = logged_in_page
    flow = Flow.objects.create(name="From below")
    check = Action.objects.create(flow=flow, action_id="check", type="FLOW", action="BOOLEAN_CONDITION")
    for position, name in enumerate(["yes", "yes_again"]):
        Action.objects.create(
            flow=flow,
            action_id=name,
            position=position,
            parent=check,
            branch="then",
            type="FLOW",
            action="DO_NOTHING",
        )
    Action.objects.create(flow=flow, action_id="last", position=1, type="FLOW", action="DO_NOTHING")
    page.goto(f"/flows/{flow.pk}/")

    handle = page.locator("li.node", has_text="last").last.locator(".drag-handle")
    target = page.locator(f"ol.chain[data-parent='{check.pk}'][data-branch='else']")
    start, end = handle.bounding_box(), target.bounding_box()
    with page.expect_response(re.compile(r"/canvas/reorder/$")):
        # Straight up through the bottom of the If/then, into its (shorter) else branch.
        page.mouse.move(start["x"] + 5, start["y"] + 5)
        page.mouse.down()
        page.mouse.move(start["x"] + 5, start["y"] - 10, steps=3)
        page.mouse.move(end["x"] + end["width"] / 2, end["y"] + 10, steps=25)
        page.mouse.up()
    expect(page.locator(".branch-else .action-card")).to_contain_text("last")
    assert card_ids(page) == ["check"]
