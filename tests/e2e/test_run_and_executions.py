import json
import re

import pytest
from playwright.sync_api import Page, expect

from actions.models import Execution, Flow

pytestmark = pytest.mark.e2e


def _flow_file(httpbin_url: str) -> bytes:
    return json.dumps(
        {
            "name": "Echo",
            "actions": [
                {
                    "id": "get_it",
                    "alias": "Ask httpbin",
                    "type": "HTTP",
                    "action": "SEND_REQUEST",
                    "params": {"method": "GET", "url": f"{httpbin_url}/get"},
                },
                {
                    "id": "reply",
                    "type": "FLOW",
                    "action": "RETURN_JSON",
                    "params": {
                        "payload": {"hello": "{{fields.name}}", "status": "{{actions.get_it.status}}"}
                    },
                },
            ],
        }
    ).encode()


def test_import_a_flow_file_run_it_and_read_its_execution(logged_in_page: Page, httpbin_url, settings):
    settings.FLOWS_OUTBOUND_ALLOWLIST = ["127.0.0.1"]
    page = logged_in_page

    page.get_by_role("link", name="Import").click()
    page.get_by_label("Flow file").set_input_files(
        files=[{"name": "echo.json", "mimeType": "application/json", "buffer": _flow_file(httpbin_url)}]
    )
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("Imported 1 flow: “Echo” (version 1).")).to_be_visible()
    flow = Flow.objects.get(name="Echo")
    expect(page).to_have_url(re.compile(rf"/flows/{flow.pk}/$"))

    page.goto("/flows/")
    page.get_by_text("More for Echo").click()
    page.get_by_role("link", name="Run", exact=True).click()
    expect(page.get_by_role("heading", name="Run “Echo”")).to_be_visible()

    fields = page.get_by_label("Input fields")
    fields.fill('{"name": ')
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_text("Not valid JSON")).to_be_visible()
    expect(fields).to_have_value('{"name": ')

    fields.fill('{"name": "Ada"}')
    page.get_by_role("button", name="Run", exact=True).click()

    expect(page.get_by_text("Flow “Echo” ran to completion.")).to_be_visible()
    execution = Execution.objects.get()
    expect(page).to_have_url(re.compile(rf"/flows/executions/{execution.pk}/$"))
    steps = page.locator("details.step")
    expect(steps).to_have_count(2)
    expect(steps.nth(0)).to_contain_text("get_it")
    expect(steps.nth(0)).to_contain_text("HTTP/SEND_REQUEST")
    expect(steps.nth(1)).to_contain_text("reply")
    steps.nth(0).locator("summary").click()
    expect(steps.nth(0).locator("pre").first).to_contain_text(f"{httpbin_url}/get")
    expect(page.locator("pre").nth(1)).to_contain_text('"hello": "Ada"')

    # The run is listed, and the status filter narrows the list in place.
    page.get_by_role("link", name="Executions", exact=True).click()
    page.wait_for_load_state()
    results = page.locator("#execution-results")
    expect(results.get_by_role("row")).to_have_count(2)
    page.get_by_label("Status").select_option("failed")
    expect(results).to_contain_text("No failed executions")
    expect(page).to_have_url(re.compile(r"\?status=failed$"))
    page.get_by_label("Status").select_option("completed")
    expect(results.get_by_role("row")).to_have_count(2)
