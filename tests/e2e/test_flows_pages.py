import re

import pytest
from playwright.sync_api import Page, expect

from actions.models import Action, Flow
from tests.conftest import STAFF_PASSWORD, make_user
from tests.e2e.conftest import E2E_USERNAME

pytestmark = pytest.mark.e2e


def test_create_find_rename_and_delete_a_flow(logged_in_page: Page):
    page = logged_in_page
    expect(page.get_by_role("heading", name="No flows yet")).to_be_visible()

    page.get_by_role("link", name="Create your first flow").click()
    page.get_by_label("Name").fill("Sync users")
    page.get_by_label("Description").fill("Copies new users to the CRM")
    page.get_by_role("button", name="Create flow").click()

    expect(page.get_by_role("heading", name="Sync users")).to_be_visible()
    expect(page.get_by_text("Flow “Sync users” created.")).to_be_visible()
    expect(page.get_by_role("heading", name="This flow has no actions yet")).to_be_visible()
    Flow.objects.create(name="Billing export", description="nightly CSV")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Flows").click()
    page.wait_for_load_state()  # htmx (deferred) is ready
    results = page.locator("#flow-results")
    expect(results.get_by_role("link")).to_have_text(["Billing export", "Sync users"])

    # The search filters in place (HTMX), without reloading the page.
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_role("searchbox", name="Search flows").press_sequentially("crm")
    expect(results.get_by_role("link")).to_have_text(["Sync users"])
    expect(page).to_have_url(re.compile(r"\?q=crm$"))
    page.get_by_role("searchbox", name="Search flows").fill("nothing like it")
    expect(results).to_contain_text("No flow matches “nothing like it”")
    assert page.evaluate("window.stillTheSamePage") is True

    page.get_by_role("searchbox", name="Search flows").fill("sync")
    results.get_by_role("link", name="Sync users").click()
    page.get_by_role("link", name="Edit flow").click()
    page.get_by_label("Name").fill("Sync all users")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Sync all users")).to_be_visible()
    expect(page.get_by_text("v2", exact=True)).to_be_visible()

    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete “Sync all users”?")).to_be_visible()
    page.get_by_role("button", name="Delete flow").click()
    expect(page.get_by_text("Flow “Sync all users” deleted.")).to_be_visible()
    expect(results.get_by_role("link")).to_have_text(["Billing export"])
    assert list(Flow.objects.values_list("name", flat=True)) == ["Billing export"]


def test_login_sends_back_to_the_page_asked_for(page: Page):
    make_user(E2E_USERNAME)
    flow = Flow.objects.create(name="Deep link")
    page.goto(f"/flows/{flow.pk}/")
    expect(page).to_have_url(re.compile(r"/login/\?next="))
    page.get_by_label("Username").fill(E2E_USERNAME)
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username and password")

    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Deep link")).to_be_visible()


def test_an_invalid_form_keeps_the_input_and_focuses_the_field(logged_in_page: Page):
    page = logged_in_page
    Flow.objects.create(name="Taken")
    page.goto("/flows/new/")
    page.get_by_label("Name").fill("Taken")
    page.get_by_label("Description").fill("my words")
    page.get_by_role("button", name="Create flow").click()
    name = page.get_by_label("Name")
    expect(page.get_by_text("A flow with this name already exists.")).to_be_visible()
    expect(name).to_be_focused()
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Description")).to_have_value("my words")


def test_saving_over_a_newer_version_is_refused(logged_in_page: Page):
    page = logged_in_page
    flow = Flow.objects.create(name="Shared")
    page.goto(f"/flows/{flow.pk}/edit/")
    page.get_by_label("Name").fill("Mine")
    Flow.objects.filter(pk=flow.pk).update(name="Theirs", version=2)
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("alert")).to_contain_text("changed by someone else (now version 2)")
    expect(page.get_by_label("Name")).to_have_value("Mine")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Mine")).to_be_visible()
    flow.refresh_from_db()
    assert (flow.name, flow.version) == ("Mine", 3)


def test_flow_detail_lists_actions_and_links_to_the_editor(logged_in_page: Page):
    page = logged_in_page
    flow = Flow.objects.create(name="With actions")
    action = Action.objects.create(
        flow=flow,
        action_id="get_user",
        alias="Get user",
        type="HTTP",
        action="SEND_REQUEST",
        params={"method": "GET", "url": "https://api.example.com/users"},
    )
    page.goto(f"/flows/{flow.pk}/")
    card = page.locator(".action-card").filter(has_text="get_user")
    expect(card).to_contain_text("Get user")
    expect(card).to_contain_text("HTTP Request")
    expect(card).to_contain_text("GET https://api.example.com/users")
    expect(card.get_by_role("link", name="get_user")).to_have_attribute(
        "href", f"/flows/{flow.pk}/actions/{action.pk}/"
    )


def test_outsider_is_refused_at_login(page: Page):
    make_user("outsider", staff=False, superuser=False)
    page.goto("/login/")
    page.get_by_label("Username").fill("outsider")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text(
        "This account may not use Flow Designer: ask an administrator for staff access."
    )
    expect(page).to_have_url(re.compile(r"/login/$"))
