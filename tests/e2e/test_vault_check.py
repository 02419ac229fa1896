"""The Check button in a real browser: HTMX posts with the CSRF token, under the CSP, and shows the result
in place on the list and edit pages."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.vault.conftest import make_connection

pytestmark = pytest.mark.e2e


def test_check_shows_the_result_in_place(logged_in_page: Page, httpserver, allow_loopback):
    token = {"access_token": "at_SENTINEL", "token_type": "Bearer", "expires_in": 3600}
    httpserver.expect_request("/oauth/token", method="POST").respond_with_json(token)
    setup = {
        "client_id": "cid",
        "client_secret": "secret_SENTINEL",
        "token_endpoint": httpserver.url_for("/oauth/token"),
    }
    oauth = make_connection("Auth0", "OAUTH_CLIENT_CREDENTIALS", setup)
    make_connection("Legacy", "BASIC_AUTH", {"username": "ada", "password": "pass_SENTINEL"})
    page = logged_in_page
    page.goto("/vault/")

    row = page.get_by_role("row", name=re.compile("Auth0"))
    row.get_by_role("button", name="Check").click()
    expect(row).to_contain_text("OK — token obtained, expires in 3600 s")
    legacy = page.get_by_role("row", name=re.compile("Legacy"))
    legacy.get_by_role("button", name="Check").click()
    expect(legacy).to_contain_text("OK — the secret decrypts and its values can be sent.")

    httpserver.clear()
    httpserver.expect_request("/oauth/token").respond_with_json({"error": "invalid_client"}, status=401)
    page.goto(f"/vault/{oauth.pk}/")
    page.get_by_role("button", name="Check").click()
    expect(page.locator(f"#check-result-{oauth.pk}")).to_have_text(
        "Check failed: The OAuth token endpoint did not issue a token (HTTP 401: invalid_client)."
    )
    expect(page.locator("body")).not_to_contain_text("SENTINEL")
