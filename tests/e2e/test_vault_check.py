"""The Check button in a real browser: HTMX posts with the CSRF token, under the CSP, and shows the result
in place on the list and edit pages."""

import re

import pytest
from django.utils import timezone
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
    legacy = make_connection("Legacy", "BASIC_AUTH", {"username": "ada", "password": "pass_SENTINEL"})
    page = logged_in_page
    page.goto("/vault/")

    row = page.get_by_role("row", name=re.compile("Auth0"))
    row.get_by_role("button", name="Check").click()
    expect(page.locator(f"#check-result-{oauth.pk}")).to_contain_text(
        "OK — token obtained, expires in 3600 s"
    )
    page.get_by_role("row", name=re.compile("Legacy")).get_by_role("button", name="Check").click()
    expect(page.locator(f"#check-result-{legacy.pk}")).to_contain_text(
        "OK — the secret decrypts and its values can be sent."
    )

    httpserver.clear()
    httpserver.expect_request("/oauth/token").respond_with_json({"error": "invalid_client"}, status=401)
    page.goto(f"/vault/{oauth.pk}/")
    page.get_by_role("button", name="Check").click()
    expect(page.locator(f"#check-result-{oauth.pk}")).to_have_text(
        "Check failed: The OAuth token endpoint did not issue a token (HTTP 401: invalid_client)."
    )
    expect(page.locator("body")).not_to_contain_text("SENTINEL")


def test_list_buttons_share_a_line_and_the_check_result_spans_the_table(
    logged_in_page: Page, httpserver, allow_loopback
):
    httpserver.expect_request("/oauth/token").respond_with_json({"error": "invalid_client"}, status=401)
    setup = {"client_id": "cid", "client_secret": "s", "token_endpoint": httpserver.url_for("/oauth/token")}
    oauth = make_connection(
        "Auth0 management API of the production tenant",
        "OAUTH_CLIENT_CREDENTIALS",
        setup,
        allowed_hosts=["login.example.com", "api.payments.example.com"],
        last_used=timezone.now(),
    )
    make_connection("Legacy", "BASIC_AUTH", {"username": "ada", "password": "pass"})
    page = logged_in_page
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/vault/")

    row = page.get_by_role("row", name=re.compile("Auth0"))
    buttons = [row.get_by_role("button", name="Check"), row.get_by_role("link", name="Edit")]
    buttons.append(row.get_by_role("link", name="Delete"))
    boxes = [button.bounding_box() for button in buttons]
    assert len({round(box["y"]) for box in boxes}) == 1, boxes
    assert len({round(box["height"]) for box in boxes}) == 1, boxes
    assert [box["x"] for box in boxes] == sorted(box["x"] for box in boxes)
    card = page.get_by_role("region", name="Connections").bounding_box()
    assert boxes[-1]["x"] + boxes[-1]["width"] <= card["x"] + card["width"], (boxes, card)

    buttons[0].click()
    result = page.locator(f"#check-result-{oauth.pk}")
    expect(result).to_contain_text("Check failed: The OAuth token endpoint did not issue a token")
    result_box, ready_box = result.bounding_box(), row.get_by_text("Ready", exact=True).bounding_box()
    assert result_box["y"] >= max(box["y"] + box["height"] for box in boxes)
    assert result_box["width"] > 3 * ready_box["width"]
    # Still one line of buttons once the result is shown, and nothing wider than the window.
    assert len({round(button.bounding_box()["y"]) for button in buttons}) == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
