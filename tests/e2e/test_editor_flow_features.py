"""The action editor inside a flow, in a real browser: "{{" suggests references (mouse and keyboard), an id
renamed with its references rewritten, and a warning before leaving unsaved edits."""

import re

import pytest
from playwright.sync_api import Dialog, Page, expect

from actions.models import Action, Flow
from tests.engine.builders import act, make_flow

pytestmark = pytest.mark.e2e


def http(id: str, url: str, **params) -> dict:
    return act(id, "HTTP/SEND_REQUEST", {"url": url, "method": "GET", "content_type": "JSON", **params})


def two_actions() -> Flow:
    return make_flow(
        [
            http("get_user", "https://api.example.com/users/1"),
            http("notify", "https://api.example.com/notify/{{actions.get_user.body.id}}"),
        ]
    )


def open_editor(page: Page, flow: Flow, action_id: str) -> None:
    action = flow.actions.get(action_id=action_id)
    page.goto(f"/flows/{flow.pk}/actions/{action.pk}/")


def test_typing_two_braces_suggests_references_to_pick(logged_in_page: Page, browser_errors):
    flow = two_actions()
    page = logged_in_page
    open_editor(page, flow, "notify")
    suggestions = page.get_by_role("listbox", name="References to insert")
    expect(suggestions).to_be_hidden()

    # The mouse: type "{{act", click a suggestion, get the whole expression.
    url = page.get_by_label("URL", exact=True)
    url.fill("")
    url.press_sequentially("https://api.example.com/{{act")
    expect(suggestions).to_be_visible()
    options = suggestions.get_by_role("option")
    expect(options.first).to_contain_text("actions.get_user")
    expect(suggestions).not_to_contain_text("actions.notify")
    expect(suggestions).not_to_contain_text("fields.")
    suggestions.get_by_role("option", name=re.compile(r"^actions\.get_user\.body ")).click()
    expect(url).to_have_value("https://api.example.com/{{ actions.get_user.body }}")
    expect(suggestions).to_be_hidden()
    expect(url).to_be_focused()

    # The keyboard: the list narrows as one types; arrows move, Enter inserts.
    url.press_sequentially("?s={{ act.stat")
    expect(options).to_have_count(1)
    expect(options.first).to_have_attribute("aria-selected", "true")
    url.press("Enter")
    expect(url).to_have_value(
        "https://api.example.com/{{ actions.get_user.body }}?s={{ actions.get_user.status }}"
    )

    # Escape closes the list for this expression; a function is inserted with its parentheses, and
    # Tab inserts a reference as its argument.
    body = page.get_by_label("Body")
    body.press_sequentially('{"name": {{con')
    expect(suggestions).to_be_visible()
    expect(options.first).to_contain_text("context.flow_id")
    body.press("Escape")
    expect(suggestions).to_be_hidden()
    body.press_sequentially("t")
    expect(suggestions).to_be_hidden()
    body.fill("")
    body.press_sequentially('{"name": {{functions.toUpp')
    expect(options).to_have_count(1)
    body.press("Tab")
    expect(body).to_have_value('{"name": {{ functions.toUpperCase() }}')
    body.press_sequentially("actions.get_user.he")
    expect(options.first).to_contain_text("actions.get_user.headers")
    body.press("ArrowDown")
    body.press("ArrowUp")
    body.press("Tab")
    expect(body).to_have_value('{"name": {{ functions.toUpperCase(actions.get_user.headers) }}')
    assert browser_errors == []


def test_renaming_an_action_rewrites_the_references_after_a_warning(logged_in_page: Page, browser_errors):
    flow = two_actions()
    page = logged_in_page
    open_editor(page, flow, "get_user")
    page.get_by_label("ID").fill("fetch_user")
    page.get_by_role("button", name="Save").click()

    warning = page.locator(".rename-warning")
    expect(warning).to_contain_text("renaming “get_user” to “fetch_user” breaks 1 reference")
    expect(warning.get_by_role("link", name="notify")).to_be_visible()
    assert Action.objects.filter(action_id="get_user").exists()

    warning.get_by_role("button", name="Rename and update 1 reference").click()
    expect(page.get_by_text("1 reference in 1 other action updated.")).to_be_visible()
    expect(page.get_by_label("ID")).to_have_value("fetch_user")
    notify = Action.objects.get(action_id="notify")
    assert notify.params["url"] == "https://api.example.com/notify/{{actions.fetch_user.body.id}}"
    assert Flow.objects.get().version == 2
    assert browser_errors == []


def test_leaving_with_unsaved_edits_asks_first(logged_in_page: Page, browser_errors):
    flow = two_actions()
    page = logged_in_page
    open_editor(page, flow, "notify")
    editor_url = page.url
    dialogs: list[str] = []

    def stay(dialog: Dialog) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    page.get_by_label("Alias").click()
    page.get_by_label("Alias").press_sequentially("Tell the team")
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_label("Alias")).to_have_value("Tell the team")
    assert dialogs == ["beforeunload"]
    assert page.url == editor_url

    # Saving is not leaving: no question, and the saved page leaves freely.
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Action “notify” saved")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(re.compile(rf"/flows/{flow.pk}/$"))
    assert dialogs == ["beforeunload"]
    assert browser_errors == []
