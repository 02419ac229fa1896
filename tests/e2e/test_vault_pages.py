"""The vault's main path in a real browser: create (switching type), edit keeping the secret, delete."""

import re

import pytest
from playwright.sync_api import Page, expect

from vault.models import Connection

pytestmark = pytest.mark.e2e


def test_it_creates_edits_and_deletes_a_connection(logged_in_page: Page):
    page = logged_in_page
    page.get_by_role("link", name="Vault").click()
    expect(page.get_by_role("heading", name="No connections yet")).to_be_visible()
    page.get_by_role("link", name="New connection").click()

    page.get_by_label("Name", exact=True).fill("Payments")
    expect(page.get_by_label("Token", exact=True)).to_be_visible()
    page.get_by_role("radio", name="API key").check()
    expect(page.get_by_label("Value", exact=True)).to_be_visible()
    expect(page.get_by_label("Token", exact=True)).to_have_count(0)
    expect(page.get_by_label("Name", exact=True)).to_have_value("Payments")
    page.get_by_label("Key name", exact=True).fill("api_key")
    page.get_by_label("Value", exact=True).fill("key_SENTINEL")
    page.get_by_role("radio", name="Query parameter", exact=True).check()
    page.get_by_role("button", name="Create connection").click()

    expect(page.get_by_text("Connection “Payments” created.")).to_be_visible()
    row = page.get_by_role("row", name=re.compile("Payments"))
    expect(row).to_contain_text("API key")
    expect(row).to_contain_text("Ready")
    fingerprint = Connection.objects.get(name="Payments").fingerprint
    expect(row).to_contain_text(fingerprint)

    row.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Value", exact=True)).to_have_value("")
    expect(page.locator("body")).not_to_contain_text("key_SENTINEL")
    page.get_by_label("Name", exact=True).fill("Payments API")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Connection “Payments API” saved.")).to_be_visible()
    connection = Connection.objects.get(name="Payments API")
    assert connection.fingerprint == fingerprint
    assert connection.setup.reveal()["value"] == "key_SENTINEL"

    page.get_by_role("row", name=re.compile("Payments API")).get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete connection").click()
    expect(page.get_by_text("Connection “Payments API” deleted.")).to_be_visible()
    assert not Connection.objects.exists()


def test_the_admin_shows_only_the_chosen_types_setup(logged_in_page: Page, browser_errors: list[str]):
    page = logged_in_page
    page.goto("/admin/vault/connection/add/")
    expect(page.locator("fieldset.setup-BEARER")).to_be_visible()
    expect(page.locator("fieldset.setup-BASIC_AUTH")).to_be_hidden()
    page.get_by_role("radio", name="Basic auth").check()
    expect(page.locator("fieldset.setup-BASIC_AUTH")).to_be_visible()
    expect(page.locator("fieldset.setup-BEARER")).to_be_hidden()
    page.get_by_label("Name:", exact=True).fill("legacy")
    page.get_by_label("Username:", exact=True).fill("alice")
    page.get_by_label("Password:", exact=True).fill("pass_SENTINEL")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#result_list").get_by_role("link", name="legacy")).to_be_visible()
    assert Connection.objects.get(name="legacy").setup.reveal() == {
        "username": "alice",
        "password": "pass_SENTINEL",
    }
    # Django's admin templates ask for /favicon.ico, which the site does not serve.
    browser_errors[:] = [e for e in browser_errors if "/favicon.ico" not in e]
