"""The action editor in a real browser: HTMX rows, the Basic Auth toggle, Test in place, save."""

import pytest
from playwright.sync_api import Page, expect

from actions.models import Action, Flow

pytestmark = pytest.mark.e2e


def test_build_test_and_save_an_http_request(
    logged_in_page: Page, browser_errors, httpbin_url, allow_loopback
):
    flow = Flow.objects.create(name="Sync users")
    page = logged_in_page
    page.goto(f"/flows/{flow.pk}/")
    page.get_by_role("link", name="Add HTTP Request").first.click()
    page.wait_for_load_state()

    page.get_by_label("URL", exact=True).fill(f"{httpbin_url}/anything/{{{{fields.id}}}}")
    page.get_by_label("Method").select_option("POST")
    page.get_by_label("Body").fill('{"name": "{{fields.name}}"}')

    headers = page.locator("#headers-rows .kv-row")
    page.get_by_role("button", name="Add header").click()
    expect(headers).to_have_count(2)
    headers.nth(0).get_by_label("Header name").fill("X-Drop")
    headers.nth(1).get_by_label("Header name").fill("X-Case")
    headers.nth(1).get_by_label("Header value").fill("Value")
    headers.nth(0).get_by_role("button", name="Remove this header").click()
    expect(headers).to_have_count(1)

    username = page.get_by_label("Username")
    expect(username).to_be_hidden()
    page.get_by_label("Enable Basic Auth").check()
    expect(username).to_be_visible()
    page.get_by_label("Enable Basic Auth").uncheck()
    expect(username).to_be_hidden()

    page.get_by_label("Test input").fill('{"fields": {"id": "a b", "name": "Ada"}}')
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_role("button", name="Test", exact=True).click()
    result = page.locator("#test-result")
    expect(result.locator(".badge.status-2xx")).to_have_text("200")
    expect(result).to_contain_text(f"{httpbin_url}/anything/a%20b")
    expect(result).to_contain_text('"X-Case": "Value"')
    assert page.evaluate("window.stillTheSamePage") is True
    assert not Action.objects.exists()

    page.get_by_role("button", name="Add to flow").click()
    expect(page.get_by_text("Action “http_request_1” saved (flow version 2).")).to_be_visible()
    action = Action.objects.get()
    assert action.params["headers"] == [{"key": "X-Case", "value": "Value"}]
    assert action.params["payload"] == {"name": "{{fields.name}}"}
    assert browser_errors == []
