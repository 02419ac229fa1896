"""The canvas's side panel in a real browser: a card opens its editor beside the canvas; Save, Test, the
Basic Auth toggle, autocomplete, Close and Delete work there, and the canvas stays usable (and current)."""

import re

import pytest
from playwright.sync_api import Page, expect

from actions.models import Action, Flow, TestRun

pytestmark = pytest.mark.e2e


def card_ids(page: Page) -> list[str]:
    return page.locator(
        "#canvas .canvas-flow > .chain-wrap > ol.chain > li.node .action-card-link"
    ).all_inner_texts()


def http_flow(url: str) -> tuple[Flow, Action, Action]:
    flow = Flow.objects.create(name="Panel flow")
    fetch = Action.objects.create(
        flow=flow,
        action_id="fetch",
        position=0,
        type="HTTP",
        action="SEND_REQUEST",
        params={"method": "GET", "url": url, "content_type": "JSON"},
    )
    after = Action.objects.create(flow=flow, action_id="after", position=1, type="FLOW", action="DO_NOTHING")
    return flow, fetch, after


def test_edit_save_and_test_in_the_panel_then_reorder(logged_in_page: Page, httpbin_url, settings):
    settings.FLOWS_OUTBOUND_ALLOWLIST = ["127.0.0.1"]
    flow, fetch, _ = http_flow(f"{httpbin_url}/get")
    page = logged_in_page
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"/flows/{flow.pk}/")
    canvas_url = page.url

    page.get_by_role("link", name="fetch", exact=True).click()
    panel = page.locator("#side-panel")
    expect(panel.get_by_role("heading", name="fetch")).to_be_focused()
    assert page.url == canvas_url
    width = panel.bounding_box()["width"]
    assert 0.35 * 1280 < width < 0.5 * 1280
    expect(page.locator("#canvas")).to_be_visible()

    # Save: the panel shows the saved form, the card its new alias, without a reload.
    panel.get_by_label("Alias").fill("Fetch the thing")
    with page.expect_response(re.compile(r"/flows/[^/]+/$")):
        panel.get_by_role("button", name="Save").click()
    expect(panel).to_contain_text("Action “fetch” saved (flow version 2).")
    expect(panel.get_by_label("Alias")).to_have_value("Fetch the thing")
    expect(page.locator(".action-card", has_text="fetch").locator(".action-card-alias")).to_have_text(
        "Fetch the thing"
    )
    expect(page.locator("#flow-title .badge")).to_have_text("v2")
    assert page.url == canvas_url

    # Test: the result and the history, in the panel.
    panel.get_by_role("button", name="Test", exact=True).click()
    expect(panel.locator("#test-result .result-summary .badge.status-2xx")).to_have_text("200")
    expect(panel.locator("#test-history tbody tr")).to_have_count(1)
    assert TestRun.objects.filter(action=fetch).count() == 1

    # The Basic Auth toggle and the references' autocomplete work in the panel too.
    expect(panel.locator("#basic-auth")).to_be_hidden()
    panel.get_by_label("Enable Basic Auth").check()
    expect(panel.get_by_label("Username")).to_be_visible()
    panel.get_by_label("Enable Basic Auth").uncheck()
    expect(panel.locator("#basic-auth")).to_be_hidden()
    body = panel.get_by_label("Body")
    body.fill("")
    body.press_sequentially("{{")
    suggestions = page.get_by_role("listbox", name="References to insert")
    expect(suggestions).to_be_visible()
    page.keyboard.press("Escape")
    expect(suggestions).to_be_hidden()
    expect(panel).to_be_visible()

    # Escape again closes the panel; the unsaved edits are confirmed away; the focus goes back to the card.
    page.once("dialog", lambda dialog: dialog.accept())
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(page.get_by_role("link", name="fetch", exact=True)).to_be_focused()

    # The canvas carries the version the panel's save made: a move is not refused as stale.
    page.get_by_role("button", name="Move fetch down").click()
    expect(page.get_by_text("“fetch” moved down.")).to_be_visible()
    assert card_ids(page) == ["after", "fetch"]
    assert Flow.objects.get(pk=flow.pk).version == 3
    page.get_by_role("button", name="Move fetch up").click()
    expect(page.get_by_text("“fetch” moved up.")).to_be_visible()
    assert card_ids(page) == ["fetch", "after"]
    fetch.refresh_from_db()
    assert fetch.alias == "Fetch the thing"


def test_open_with_enter_import_close_and_delete_in_the_panel(logged_in_page: Page, httpbin_url):
    flow, fetch, _ = http_flow(f"{httpbin_url}/get")
    page = logged_in_page
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"/flows/{flow.pk}/")

    page.get_by_role("link", name="after", exact=True).focus()
    page.keyboard.press("Enter")
    panel = page.locator("#side-panel")
    expect(panel.get_by_role("heading", name="after")).to_be_visible()
    expect(page.locator(".action-card", has_text="after")).to_have_class(re.compile(r"\bis-open\b"))
    panel.get_by_role("button", name="Close", exact=True).first.click()
    expect(panel).to_be_hidden()
    expect(page.get_by_role("link", name="after", exact=True)).to_be_focused()

    # Another card: its own editor (Import from cURL and rows), replacing nothing on the canvas.
    page.get_by_role("link", name="fetch", exact=True).click()
    expect(panel.get_by_role("heading", name="fetch")).to_be_visible()
    panel.get_by_text("Import from cURL").click()
    panel.get_by_label("curl command").fill(f"curl '{httpbin_url}/anything' -H 'X-Case: Value'")
    panel.get_by_role("button", name="Import", exact=True).click()
    expect(panel.locator("#curl-import")).to_contain_text("Imported into the parameters below.")
    expect(panel.get_by_label("URL", exact=True)).to_have_value(f"{httpbin_url}/anything")
    panel.get_by_role("button", name="Add header").click()
    expect(panel.locator("#headers-rows .kv-row")).to_have_count(2)

    # Delete: the panel closes and the card leaves the canvas.
    page.once("dialog", lambda dialog: dialog.accept())
    panel.get_by_role("button", name="Delete").click()
    expect(panel).to_be_hidden()
    expect(page.get_by_text("Action “fetch” deleted.")).to_be_visible()
    assert card_ids(page) == ["after"]
    assert not Action.objects.filter(pk=fetch.pk).exists()
    expect(page.locator("#flow-title .badge")).to_have_text("v2")


def test_a_move_on_the_canvas_while_the_panel_is_open_does_not_make_its_save_stale(
    logged_in_page: Page, httpbin_url
):
    flow, fetch, _ = http_flow(f"{httpbin_url}/get")
    page = logged_in_page
    page.goto(f"/flows/{flow.pk}/")
    page.get_by_role("link", name="fetch", exact=True).click()
    panel = page.locator("#side-panel")
    panel.get_by_label("Alias").fill("Moved then saved")
    page.get_by_role("button", name="Move fetch down").click()
    expect(page.get_by_text("“fetch” moved down.")).to_be_visible()
    expect(panel.locator("input[name='version']")).to_have_value("2")
    panel.get_by_role("button", name="Save").click()
    expect(panel).to_contain_text("Action “fetch” saved (flow version 3).")
    expect(page.locator("#flow-title .badge")).to_have_text("v3")
    assert card_ids(page) == ["after", "fetch"]

    # A change by someone else in between is not hidden: the panel's save is refused, the edits kept.
    Flow.objects.filter(pk=flow.pk).update(version=5)
    page.get_by_role("button", name="Move fetch up").click()
    expect(page.get_by_text("changed by someone else")).to_be_visible()
    expect(panel.locator("input[name='version']")).to_have_value("3")
    panel.get_by_label("Alias").fill("Mine")
    panel.get_by_role("button", name="Save").click()
    expect(panel).to_contain_text("Not saved: this flow was changed by someone else (now version 5)")
    expect(panel.get_by_label("Alias")).to_have_value("Mine")
    fetch.refresh_from_db()
    assert fetch.alias == "Moved then saved"


def test_plus_inserts_a_card_and_opens_its_editor_in_the_panel(logged_in_page: Page, httpbin_url):
    flow, _, _ = http_flow(f"{httpbin_url}/get")
    page = logged_in_page
    page.goto(f"/flows/{flow.pk}/")
    canvas_url = page.url
    updated = page.locator("#flow-updated time")
    loaded_at = updated.get_attribute("datetime")

    page.get_by_role("link", name="Add an action after fetch").click()
    dialog = page.get_by_role("dialog", name="Add an action")
    dialog.get_by_role("button", name="Store variables").click()
    expect(dialog).to_be_hidden()
    panel = page.locator("#side-panel")
    expect(panel.get_by_role("heading", name="store_variables_1")).to_be_focused()
    new = Action.objects.get(flow=flow, action_id="store_variables_1")
    expect(page.locator(f"#card-{new.pk}")).to_have_attribute("aria-current", "true")
    expect(page.locator(".action-card.is-open")).to_have_count(1)
    expect(page.get_by_text("Action “store_variables_1” added.")).to_be_visible()
    expect(page.locator("#flow-title .badge")).to_have_text("v2")
    expect(updated).not_to_have_attribute("datetime", loaded_at)
    assert card_ids(page) == ["fetch", "store_variables_1", "after"]
    assert page.url == canvas_url

    inserted_at = updated.get_attribute("datetime")
    panel.get_by_label("Vars").fill('{"greeting": "hello"}')
    panel.get_by_role("button", name="Save").click()
    expect(panel).to_contain_text("Action “store_variables_1” saved (flow version 3).")
    expect(page.locator(".action-card.is-open .action-card-summary")).to_have_text("vars.greeting")
    expect(page.locator("#flow-title .badge")).to_have_text("v3")
    expect(updated).not_to_have_attribute("datetime", inserted_at)
    new.refresh_from_db()
    assert new.params == {"vars": {"greeting": "hello"}}
    assert page.url == canvas_url
