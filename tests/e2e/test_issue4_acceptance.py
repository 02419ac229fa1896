"""Issue 4, acceptance in a real browser: the Auth0-shaped flow file imported and run from the UI, a
three-action flow built on the canvas with "+" and drag and drop then run, and two editors saving the
same action at once."""

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from actions.models import Action, Execution, Flow
from tests.conftest import STAFF_PASSWORD, make_user
from tests.e2e.test_canvas import drag
from vault.models import Connection

pytestmark = pytest.mark.e2e

FLOW_FILE = Path(__file__).parent.parent / "fixtures" / "auth0_user_flow.json"
TOKEN = "tok_SENTINEL"


def card_ids(page: Page) -> list[str]:
    """The ids on the main chain's cards, top to bottom."""
    return page.locator(
        "#canvas .canvas-flow > .chain-wrap > ol.chain > li.node > .action-card .action-card-link"
    ).all_inner_texts()


def add_from_catalog(page: Page, plus: str, label: str) -> None:
    """Pick `label` in the catalog opened by the "+" named `plus`: the new action's editor opens in the
    side panel, beside the canvas."""
    canvas_url = page.url
    page.get_by_role("link", name=plus).click()
    dialog = page.get_by_role("dialog", name="Add an action")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=label).click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#side-panel #action-form")).to_be_visible()
    assert page.url == canvas_url


def save_action(page: Page, action_id: str) -> None:
    page.get_by_role("button", name="Save").click()
    expect(
        page.get_by_text(re.compile(rf"Action “{action_id}” saved \(flow version \d+\)\."))
    ).to_be_visible()


def test_the_auth0_flow_file_imports_runs_and_shows_every_step(logged_in_page: Page, httpbin_url, settings):
    settings.FLOWS_OUTBOUND_ALLOWLIST = ["127.0.0.1"]
    connection = Connection(name="auth0 management api", type="BEARER")
    connection.set_setup({"token": TOKEN})
    connection.save()
    page = logged_in_page

    page.get_by_role("link", name="Import").click()
    page.get_by_label("Flow file").set_input_files(FLOW_FILE)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("Imported 1 flow: “Auth0 user sync” (version 1).")).to_be_visible()
    flow = Flow.objects.get(name="Auth0 user sync")
    expect(page).to_have_url(re.compile(rf"/flows/{flow.pk}/$"))
    assert card_ids(page) == ["get_user", "found", "post_user", "done"]
    expect(page.locator(".branch-then .action-card")).to_contain_text("remember")
    expect(page.locator(".branch-else .action-card")).to_contain_text("not_found")

    page.get_by_role("link", name="Run", exact=True).click()
    expect(page.get_by_role("heading", name="Run “Auth0 user sync”")).to_be_visible()
    page.get_by_label("Input fields").fill(
        json.dumps(
            {"base_url": httpbin_url, "user_id": "auth0|42", "email": "ada@example.com", "plan": "pro"}
        )
    )
    page.get_by_role("button", name="Run", exact=True).click()

    expect(page.get_by_text("Flow “Auth0 user sync” ran to completion.")).to_be_visible()
    execution = Execution.objects.get()
    expect(page).to_have_url(re.compile(rf"/flows/executions/{execution.pk}/$"))
    expect(page.get_by_role("heading", name=re.compile("Execution of “Auth0 user sync”"))).to_contain_text(
        "completed"
    )
    steps = page.locator("details.step")
    expect(steps).to_have_count(5)
    ran = [
        ("get_user", "HTTP/SEND_REQUEST"),
        ("found", "FLOW/BOOLEAN_CONDITION"),
        ("remember", "FLOW/STORE_VARS"),
        ("post_user", "HTTP/SEND_REQUEST"),
        ("done", "FLOW/RETURN_JSON"),
    ]
    for index, (action_id, kind) in enumerate(ran):
        summary = steps.nth(index).locator("summary")
        expect(summary.locator("code")).to_have_text(action_id)
        expect(summary).to_contain_text(kind)
        expect(summary.locator(".badge.success")).to_have_text("completed")
    # The Error message of the else branch did not run, so it is not a step.
    expect(page.locator("#steps-heading ~ details.step", has_text="not_found")).to_have_count(0)
    expect(page.locator("section", has=page.locator("#steps-heading"))).not_to_contain_text("not_found")

    # The POST's echoed body carried the user's email (read from the GET's body, kept in vars).
    post = steps.nth(3)
    post.locator("summary").click()
    expect(post).to_contain_text('"email": "ada@example.com"')
    expect(post).to_contain_text('"method_seen": "GET"')
    output = page.locator("#summary-heading ~ pre.json").nth(1)
    expect(output).to_contain_text('"plan": "pro"')
    expect(output).to_contain_text('"status": 200')

    # The bearer header was sent and is shown masked: the token is nowhere in the page.
    get_user = steps.nth(0)
    get_user.locator("summary").click()
    expect(get_user).to_contain_text("Authorization")
    assert TOKEN not in page.content()


def test_build_a_three_action_flow_reorder_it_by_drag_and_drop_and_run_it(logged_in_page: Page):
    page = logged_in_page
    flow = Flow.objects.create(name="Greeting")
    page.goto(f"/flows/{flow.pk}/")

    # Added in an order that cannot work: Return JSON ends the run before the variable is stored.
    add_from_catalog(page, "Add an action at the start", "Do nothing")
    page.goto(f"/flows/{flow.pk}/")
    add_from_catalog(page, "Add an action after do_nothing_1", "Return JSON")
    page.get_by_label("Payload", exact=True).fill('{"said": "{{vars.greeting}}"}')
    save_action(page, "return_json_1")
    page.goto(f"/flows/{flow.pk}/")
    add_from_catalog(page, "Add an action after return_json_1", "Store variables")
    page.get_by_label("Vars", exact=True).fill('{"greeting": "hello"}')
    save_action(page, "store_variables_1")
    page.goto(f"/flows/{flow.pk}/")
    assert card_ids(page) == ["do_nothing_1", "return_json_1", "store_variables_1"]
    version = Flow.objects.get(pk=flow.pk).version

    # Drag Store variables above the first card.
    handle = page.locator("li.node", has_text="store_variables_1").locator(".drag-handle")
    with page.expect_response(re.compile(r"/canvas/reorder/$")) as response:
        drag(page, handle, page.locator(".action-card", has_text="do_nothing_1"))
    assert response.value.status == 200
    expect(page.get_by_text(f"Order saved (flow version {version + 1}).")).to_be_visible()
    page.reload()
    assert card_ids(page) == ["store_variables_1", "do_nothing_1", "return_json_1"]

    page.locator(".canvas-toolbar").get_by_role("link", name="Run", exact=True).click()
    expect(page.get_by_role("heading", name="Run “Greeting”")).to_be_visible()
    page.get_by_role("button", name="Run", exact=True).click()

    expect(page.get_by_text("Flow “Greeting” ran to completion.")).to_be_visible()
    execution = Execution.objects.get()
    expect(page).to_have_url(re.compile(rf"/flows/executions/{execution.pk}/$"))
    # The output exists only if Store variables now runs before Return JSON.
    expect(page.locator("#summary-heading ~ pre.json").nth(1)).to_have_text(
        json.dumps({"said": "hello"}, indent=2)
    )
    steps = page.locator("details.step")
    expect(steps).to_have_count(3)
    for index, action_id in enumerate(["store_variables_1", "do_nothing_1", "return_json_1"]):
        expect(steps.nth(index).locator("summary code")).to_have_text(action_id)
        expect(steps.nth(index).locator("summary .badge.success")).to_have_text("completed")
    assert execution.output == {"said": "hello"}
    assert execution.flow_version == version + 1


@pytest.fixture
def second_editor(browser: Browser, live_server, browser_errors: list[str]) -> Iterator[Page]:
    """Another user, in another browser context, logged in on the flow list."""
    make_user("second-editor")
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    context.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page = context.new_page()
    page.on("pageerror", lambda error: browser_errors.append(f"uncaught (second editor): {error}"))
    page.on(
        "console",
        lambda message: (
            message.type == "error" and browser_errors.append(f"console (second editor): {message.text}")
        ),
    )
    page.goto("/login/")
    page.get_by_label("Username").fill("second-editor")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/flows/$"))
    yield page
    context.close()


def test_two_editors_save_the_same_action_the_second_is_refused_and_keeps_its_input(
    logged_in_page: Page, second_editor: Page
):
    first, second = logged_in_page, second_editor
    flow = Flow.objects.create(name="Shared")
    action = Action.objects.create(
        flow=flow, action_id="remember", type="FLOW", action="STORE_VARS", params={"vars": {"greeting": "hi"}}
    )
    url = f"/flows/{flow.pk}/actions/{action.pk}/"
    first.goto(url)
    second.goto(url)

    first.get_by_label("Alias").fill("First's alias")
    first.get_by_label("Vars").fill('{"greeting": "hello"}')
    save_action(first, "remember")

    second.get_by_label("Alias").fill("Second's alias")
    second.get_by_label("Vars").fill('{"greeting": "bonjour", "plan": "pro"}')
    second.get_by_role("button", name="Save").click()

    expect(second.get_by_role("alert").first).to_contain_text(
        "Not saved: this flow was changed by someone else (now version 2) after you opened it at version 1."
    )
    expect(second.get_by_role("alert").first).to_contain_text("Your changes are still in the form")
    expect(second.get_by_label("Alias")).to_have_value("Second's alias")
    expect(second.get_by_label("Vars")).to_have_value(re.compile(r'"bonjour".*"plan": "pro"', re.S))
    # The first save is intact.
    action.refresh_from_db()
    assert (action.alias, action.params) == ("First's alias", {"vars": {"greeting": "hello"}})
    assert Flow.objects.get(pk=flow.pk).version == 2

    # Saving again, knowingly, replaces the version the second editor has now seen.
    save_action(second, "remember")
    action.refresh_from_db()
    assert (action.alias, action.params) == (
        "Second's alias",
        {"vars": {"greeting": "bonjour", "plan": "pro"}},
    )
    assert Flow.objects.get(pk=flow.pk).version == 3


def test_two_editors_save_the_same_flow_the_second_is_refused_and_keeps_its_input(
    logged_in_page: Page, second_editor: Page
):
    first, second = logged_in_page, second_editor
    flow = Flow.objects.create(name="Shared flow", description="As created.")
    first.goto(f"/flows/{flow.pk}/edit/")
    second.goto(f"/flows/{flow.pk}/edit/")

    first.get_by_label("Description").fill("First's words.")
    first.get_by_role("button", name="Save").click()
    expect(first.get_by_role("heading", name="Shared flow")).to_be_visible()

    second.get_by_label("Name").fill("Second's name")
    second.get_by_label("Description").fill("Second's words.")
    second.get_by_role("button", name="Save").click()

    expect(second.get_by_role("alert")).to_contain_text("changed by someone else (now version 2)")
    expect(second.get_by_label("Name")).to_have_value("Second's name")
    expect(second.get_by_label("Description")).to_have_value("Second's words.")
    # The saved version the second editor would replace is shown beside the form.
    expect(second.get_by_text("First's words.")).to_be_visible()
    flow.refresh_from_db()
    assert (flow.name, flow.description, flow.version) == ("Shared flow", "First's words.", 2)


def test_two_editors_reorder_the_same_canvas_the_second_is_refused(logged_in_page: Page, second_editor: Page):
    first, second = logged_in_page, second_editor
    flow = Flow.objects.create(name="Shared canvas")
    for position, name in enumerate(["one", "two", "three"]):
        Action.objects.create(flow=flow, action_id=name, position=position, type="FLOW", action="DO_NOTHING")
    first.goto(f"/flows/{flow.pk}/")
    second.goto(f"/flows/{flow.pk}/")

    first.get_by_role("button", name="Move one down").click()
    expect(first.get_by_text("“one” moved down.")).to_be_visible()

    second.get_by_role("button", name="Move three up").click()
    expect(second.get_by_role("alert")).to_contain_text(
        "changed by someone else (now version 2) after you opened it at version 1"
    )
    # The second canvas now shows the first editor's order, which is what is stored.
    assert card_ids(second) == ["two", "one", "three"]
    assert list(
        Action.objects.filter(flow=flow).order_by("position").values_list("action_id", flat=True)
    ) == ["two", "one", "three"]
