"""Django admin: executions are read-only records; flows show their actions, never a secret."""

from django.urls import reverse

from actions.engine import run_flow
from tests.engine.builders import act, make_flow


def test_execution_admin_lists_and_shows_executions_read_only(staff_client):
    flow = make_flow(
        [act("keep", "FLOW/STORE_VARS", {"vars": {"plan": "{{fields.plan}}"}})], name="Admin flow"
    )
    execution = run_flow(flow, fields={"plan": "pro"})

    listing = staff_client.get(reverse("admin:actions_execution_changelist"))
    page = staff_client.get(reverse("admin:actions_execution_change", args=[execution.pk]))
    post = staff_client.post(
        reverse("admin:actions_execution_change", args=[execution.pk]), {"status": "failed"}
    )
    add = staff_client.get(reverse("admin:actions_execution_add"))

    assert listing.status_code == 200 and "Admin flow" in listing.text
    assert page.status_code == 200
    assert "keep" in page.text and "pro" in page.text
    assert 'name="_save"' not in page.text
    assert post.status_code == 403
    assert add.status_code == 403
    execution.refresh_from_db()
    assert execution.status == "completed"


def test_flow_admin_shows_actions_without_their_secrets(staff_client):
    flow = make_flow(
        [
            act(
                "call",
                "HTTP/SEND_REQUEST",
                {
                    "url": "https://api.example.com/",
                    "basic": {"username": "ada", "password": "pass_SENTINEL"},
                },
            )
        ],
        name="Secret flow",
    )

    page = staff_client.get(reverse("admin:actions_flow_change", args=[flow.pk]))
    listing = staff_client.get(reverse("admin:actions_flow_changelist"))

    assert page.status_code == 200 and listing.status_code == 200
    assert "api.example.com" in page.text
    assert "pass_SENTINEL" not in page.text
    assert "secret_params" not in page.text


def test_admin_pages_refuse_outsiders(outsider_client):
    response = outsider_client.get(reverse("admin:actions_execution_changelist"))
    assert response.status_code == 302
