"""The Test view in a real browser: import a curl command, Test it, copy it back as cURL, keep a history of
the tests, reopen one and compare two."""

import re

import pytest
from playwright.sync_api import Page, expect

from actions.models import Action, Flow, TestRun

pytestmark = pytest.mark.e2e


def test_import_test_copy_and_reopen_from_the_history(
    logged_in_page: Page, browser_errors, live_server, httpbin_url, settings
):
    # The live server runs in this process: it reaches the local httpbin through the allowlist.
    settings.FLOWS_OUTBOUND_ALLOWLIST = ["127.0.0.1", "::1", "localhost"]
    flow = Flow.objects.create(name="Sync users")
    page = logged_in_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto(f"/flows/{flow.pk}/")
    page.get_by_role("link", name="Add HTTP Request").first.click()
    page.wait_for_load_state()

    # Import from cURL fills the form; nothing is saved yet.
    page.get_by_text("Import from cURL").click()
    page.get_by_label("curl command").fill(
        f"curl '{httpbin_url}/anything?tag=a&tag=b' -H 'X-Case: Value' -u ada:pass_SENTINEL -k "
        """--json '{"name": "Ada"}'"""
    )
    page.get_by_role("button", name="Import", exact=True).click()
    panel = page.locator("#curl-import")
    expect(panel).to_contain_text("Imported into the parameters below.")
    expect(panel).to_contain_text("Not imported (the HTTP Request action has no equivalent): --insecure")
    expect(panel).to_contain_text("Type the password from the command into Password")
    expect(page.get_by_label("URL", exact=True)).to_have_value(f"{httpbin_url}/anything")
    expect(page.get_by_label("Method")).to_have_value("POST")
    expect(page.get_by_label("Body")).to_have_value('{"name": "Ada"}')
    expect(page.locator("#params-rows .kv-row")).to_have_count(2)
    expect(page.locator("#headers-rows").get_by_label("Header name").first).to_have_value("X-Case")
    expect(page.get_by_label("Username")).to_have_value("ada")
    assert not Action.objects.exists()

    # The password is typed, not imported; Test sends the request as filled in.
    page.get_by_label("Password", exact=True).fill("pass_SENTINEL")
    page.get_by_role("button", name="Test", exact=True).click()
    result = page.locator("#test-result")
    expect(result.locator(".result-summary .badge.status-2xx")).to_have_text("200")
    expect(result).to_contain_text("first byte")

    # Copy as cURL: the request as sent, the password masked.
    result.get_by_role("button", name="Copy as cURL").click()
    expect(result.locator("[data-copy-status]")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == result.locator(".curl-copy pre").inner_text()
    assert copied.startswith(f"curl '{httpbin_url}/anything?tag=a&tag=b'")
    assert "-H 'Authorization: Basic ********'" in copied
    assert "pass_SENTINEL" not in copied

    # Pretty shows the folding tree; Raw the JSON text.
    raw = result.locator("[data-view-panel=raw]")
    expect(raw).to_be_hidden()
    result.get_by_role("tab", name="Raw").click()
    expect(raw).to_be_visible()
    expect(raw).to_contain_text('"X-Case": "Value"')
    expect(result.locator("[data-view-panel=pretty]")).to_be_hidden()

    # Saved, the action keeps a history of its tests.
    page.get_by_role("button", name="Add to flow").click()
    expect(page.get_by_text("Action “http_request_1” saved (flow version 2).")).to_be_visible()
    page.wait_for_load_state()
    history = page.locator("#test-history")
    expect(history).to_contain_text("No tests yet.")
    page.get_by_role("button", name="Test", exact=True).click()
    expect(history.locator("tbody tr")).to_have_count(1)
    page.locator("#headers-rows").get_by_label("Header value").first.fill("Other")
    page.get_by_role("button", name="Test", exact=True).click()
    expect(history.locator("tbody tr")).to_have_count(2)
    expect(result).to_contain_text('"X-Case": "Other"')
    assert TestRun.objects.count() == 2

    # Reopen the earlier run (the second row: newest first).
    history.locator("tbody tr").nth(1).get_by_role("button", name=re.compile("^Open")).click()
    expect(result.locator(".reopened")).to_contain_text("from the history")
    expect(result).to_contain_text('"X-Case": "Value"')
    expect(result).not_to_contain_text('"X-Case": "Other"')
    expect(result.locator(".result-summary .badge.status-2xx")).to_have_text("200")

    # Compare the two.
    for row in range(2):
        history.locator("tbody tr").nth(row).get_by_role("checkbox").check()
    history.get_by_role("button", name="Compare the two ticked").click()
    expect(result.locator(".compare-side")).to_have_count(2)
    expect(result.locator(".diff-del").filter(has_text='"X-Case": "Value"')).to_have_count(1)
    expect(result.locator(".diff-add").filter(has_text='"X-Case": "Other"')).to_have_count(1)
    assert "pass_SENTINEL" not in page.content()
    assert browser_errors == []
