import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actions.models import Action, Flow


@pytest.fixture
def flow(db):
    return Flow.objects.create(name="Sync users", description="Copies users to the CRM")


def _page_urls(flow: Flow) -> list[str]:
    return [
        reverse("actions:flow_list"),
        reverse("actions:flow_create"),
        reverse("actions:flow_detail", args=[flow.pk]),
        reverse("actions:flow_edit", args=[flow.pk]),
        reverse("actions:flow_delete", args=[flow.pk]),
    ]


def _edit_data(flow: Flow, **changes) -> dict:
    return {"name": flow.name, "description": flow.description, "version": flow.version, **changes}


def test_anonymous_is_sent_to_login(client, flow):
    for url in _page_urls(flow):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next=")


def test_anonymous_htmx_request_gets_hx_redirect(client, flow):
    response = client.get(reverse("actions:flow_list"), {"q": "x"}, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("login"))


def test_outsider_is_forbidden(outsider_client, flow):
    for url in _page_urls(flow):
        assert outsider_client.get(url).status_code == 403, url
    assert outsider_client.post(reverse("actions:flow_delete", args=[flow.pk])).status_code == 403
    assert outsider_client.post(reverse("actions:flow_create"), {"name": "x"}).status_code == 403
    assert Flow.objects.count() == 1


def test_staff_sees_every_page(staff_client, flow):
    for url in _page_urls(flow):
        assert staff_client.get(url).status_code == 200, url


def test_missing_flow_is_404(staff_client, db):
    url = reverse("actions:flow_detail", args=["00000000-0000-0000-0000-000000000000"])
    assert staff_client.get(url).status_code == 404


def test_list_shows_flows_with_action_counts(staff_client, flow):
    Action.objects.create(flow=flow, action_id="a", type="HTTP", action="SEND_REQUEST")
    Flow.objects.create(name="Other")
    response = staff_client.get(reverse("actions:flow_list"))
    rows = list(response.context["flows"])
    assert [f.name for f in rows] == ["Other", "Sync users"]
    assert rows[1].action_count == 1
    assert reverse("actions:flow_detail", args=[flow.pk]) in response.text


def test_empty_list_invites_to_create_a_flow(staff_client):
    response = staff_client.get(reverse("actions:flow_list"))
    assert "No flows yet" in response.text
    assert "Create your first flow" in response.text


def test_search_filters_by_name_and_description(staff_client, flow):
    Flow.objects.create(name="Billing export", description="nightly")
    by_name = staff_client.get(reverse("actions:flow_list"), {"q": "bill"})
    assert [f.name for f in by_name.context["flows"]] == ["Billing export"]
    by_description = staff_client.get(reverse("actions:flow_list"), {"q": "crm"})
    assert [f.name for f in by_description.context["flows"]] == ["Sync users"]
    assert 'value="crm"' in by_description.text


def test_search_over_htmx_returns_only_the_results(staff_client, flow):
    response = staff_client.get(reverse("actions:flow_list"), {"q": "sync"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="flow-results"')
    assert "<html" not in response.text
    assert "Sync users" in response.text
    assert "HX-Request" in response["Vary"]


def test_search_without_match_says_so(staff_client, flow):
    response = staff_client.get(reverse("actions:flow_list"), {"q": "<nope>"}, headers={"HX-Request": "true"})
    assert "No flow matches “&lt;nope&gt;”" in response.text
    assert "show all flows" in response.text


def test_history_restore_gets_the_full_page(staff_client, flow):
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    response = staff_client.get(reverse("actions:flow_list"), {"q": "sync"}, headers=headers)
    assert "<html" in response.text


def test_create_flow(staff_client, db):
    response = staff_client.post(
        reverse("actions:flow_create"), {"name": "  New flow ", "description": "does things"}
    )
    flow = Flow.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("actions:flow_detail", args=[flow.pk])
    assert (flow.name, flow.description, flow.version) == ("New flow", "does things", 1)
    page = staff_client.get(response["Location"])
    assert "Flow “New flow” created." in page.text


def test_create_refuses_a_duplicate_name(staff_client, flow):
    response = staff_client.post(reverse("actions:flow_create"), {"name": "Sync users"})
    assert response.status_code == 200
    assert "A flow with this name already exists." in response.text
    assert 'aria-invalid="true"' in response.text
    assert Flow.objects.count() == 1


def test_create_refuses_a_name_that_differs_only_by_case(staff_client, db):
    Flow.objects.create(name="Demo: call httpbin")
    response = staff_client.post(reverse("actions:flow_create"), {"name": "demo: CALL httpbin"})
    assert response.status_code == 200
    assert "A flow with this name already exists." in response.text
    assert 'aria-invalid="true"' in response.text
    assert list(Flow.objects.values_list("name", flat=True)) == ["Demo: call httpbin"]


def test_the_database_refuses_names_that_differ_only_by_case(db):
    Flow.objects.create(name="Demo")
    with pytest.raises(IntegrityError), transaction.atomic():
        Flow.objects.create(name="DEMO")


def test_create_refuses_an_empty_or_too_long_name(staff_client, db):
    empty = staff_client.post(reverse("actions:flow_create"), {"name": "   "})
    assert "This field is required." in empty.text
    too_long = staff_client.post(reverse("actions:flow_create"), {"name": "x" * 151})
    assert "at most 150 characters" in too_long.text
    assert 'value="' + "x" * 151 + '"' in too_long.text
    assert not Flow.objects.exists()
    assert staff_client.post(reverse("actions:flow_create"), {"name": "x" * 150}).status_code == 302


def test_edit_form_carries_the_loaded_version(staff_client, flow):
    response = staff_client.get(reverse("actions:flow_edit", args=[flow.pk]))
    assert '<input type="hidden" name="version" value="1"' in response.text
    assert 'value="Sync users"' in response.text


def test_rename_bumps_the_version(staff_client, flow):
    url = reverse("actions:flow_edit", args=[flow.pk])
    response = staff_client.post(url, _edit_data(flow, name="Sync all users", description=""))
    assert response.status_code == 302
    flow.refresh_from_db()
    assert (flow.name, flow.description, flow.version) == ("Sync all users", "", 2)
    again = staff_client.post(url, _edit_data(flow, description="v3"))
    assert again.status_code == 302
    flow.refresh_from_db()
    assert flow.version == 3


def test_rename_to_an_existing_name_is_refused(staff_client, flow):
    Flow.objects.create(name="Taken")
    response = staff_client.post(reverse("actions:flow_edit", args=[flow.pk]), _edit_data(flow, name="Taken"))
    assert "A flow with this name already exists." in response.text
    flow.refresh_from_db()
    assert (flow.name, flow.version) == ("Sync users", 1)


def test_rename_to_another_flows_name_in_another_case_is_refused(staff_client, flow):
    Flow.objects.create(name="Taken")
    response = staff_client.post(reverse("actions:flow_edit", args=[flow.pk]), _edit_data(flow, name="TAKEN"))
    assert "A flow with this name already exists." in response.text
    flow.refresh_from_db()
    assert (flow.name, flow.version) == ("Sync users", 1)


def test_rename_to_another_case_of_its_own_name_is_allowed(staff_client, flow):
    response = staff_client.post(
        reverse("actions:flow_edit", args=[flow.pk]), _edit_data(flow, name="SYNC users")
    )
    assert response.status_code == 302
    flow.refresh_from_db()
    assert (flow.name, flow.version) == ("SYNC users", 2)


def test_saving_over_a_newer_version_is_refused_and_keeps_the_input(staff_client, flow):
    url = reverse("actions:flow_edit", args=[flow.pk])
    mine = _edit_data(flow, name="My name", description="my words")
    # Someone else saves first.
    Flow.objects.filter(pk=flow.pk).update(name="Their name", version=2)

    response = staff_client.post(url, mine)

    assert response.status_code == 200
    flow.refresh_from_db()
    assert (flow.name, flow.version) == ("Their name", 2)
    assert "Not saved: this flow was changed by someone else (now version 2)" in response.text
    assert 'value="My name"' in response.text
    assert "my words</textarea>" in response.text
    assert "Their name" in response.text
    # The form now carries version 2: saving again deliberately replaces their version.
    assert '<input type="hidden" name="version" value="2"' in response.text
    assert staff_client.post(url, {**mine, "version": 2}).status_code == 302
    flow.refresh_from_db()
    assert (flow.name, flow.version) == ("My name", 3)


def test_edit_without_version_is_refused(staff_client, flow):
    response = staff_client.post(reverse("actions:flow_edit", args=[flow.pk]), {"name": "New"})
    assert response.status_code == 200
    assert "does not say which version of the flow it was loaded from" in response.text
    flow.refresh_from_db()
    assert flow.name == "Sync users"


def test_refused_edit_keeps_the_saved_name_in_the_page_header(staff_client, flow):
    Flow.objects.create(name="Taken")
    response = staff_client.post(reverse("actions:flow_edit", args=[flow.pk]), _edit_data(flow, name="Taken"))
    assert "<title>Edit Sync users" in response.text
    assert 'value="Taken"' in response.text


def test_detail_lists_actions_in_order_with_editor_links(staff_client, flow):
    second = Action.objects.create(
        flow=flow,
        action_id="post_it",
        type="HTTP",
        action="SEND_REQUEST",
        position=1,
        params={"method": "POST", "url": "https://api.example.com/items"},
    )
    first = Action.objects.create(
        flow=flow,
        action_id="get_user",
        alias="Get user",
        type="HTTP",
        action="SEND_REQUEST",
        position=0,
        params={"url": "https://api.example.com/users/{{fields.id}}"},
    )
    response = staff_client.get(reverse("actions:flow_detail", args=[flow.pk]))
    text = response.text
    assert [card.action for card in response.context["cards"]] == [first, second]
    assert text.index("get_user") < text.index("post_it")
    assert "Get user" in text
    assert "HTTP Request" in text
    assert "GET https://api.example.com/users/{{fields.id}}" in text
    assert "POST https://api.example.com/items" in text
    assert reverse("actions:action_edit", args=[flow.pk, first.pk]) in text
    assert "Copies users to the CRM" in text
    assert "v1" in text


def test_detail_nests_branch_actions_under_their_parent(staff_client, flow):
    condition = Action.objects.create(flow=flow, action_id="check", type="FLOW", action="BOOLEAN_CONDITION")
    Action.objects.create(flow=flow, action_id="last", type="FLOW", action="DO_NOTHING", position=1)
    Action.objects.create(
        flow=flow, parent=condition, branch="then", action_id="inner", type="FLOW", action="DO_NOTHING"
    )
    response = staff_client.get(reverse("actions:flow_detail", args=[flow.pk]))
    check, last = response.context["cards"]
    assert (check.action.action_id, last.action.action_id) == ("check", "last")
    assert [card.action.action_id for card in check.then] == ["inner"]
    assert check.otherwise == []


def test_detail_without_actions_invites_to_add_one(staff_client, flow):
    response = staff_client.get(reverse("actions:flow_detail", args=[flow.pk]))
    assert "This flow has no actions yet" in response.text
    assert "Add an action at the start" in response.text


def test_delete_asks_first_then_deletes(staff_client, flow):
    Action.objects.create(flow=flow, action_id="a", type="HTTP", action="SEND_REQUEST")
    url = reverse("actions:flow_delete", args=[flow.pk])
    confirm = staff_client.get(url)
    assert "Delete “Sync users”?" in confirm.text
    assert "1 action will be deleted" in confirm.text
    assert Flow.objects.exists()

    response = staff_client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("actions:flow_list")
    assert not Flow.objects.exists()
    assert not Action.objects.exists()
    assert "Flow “Sync users” deleted." in staff_client.get(response["Location"]).text


def test_pages_are_csrf_protected(flow, staff_user):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(staff_user)
    assert csrf_client.post(reverse("actions:flow_delete", args=[flow.pk])).status_code == 403
    assert Flow.objects.exists()


def test_detail_and_list_queries_do_not_grow_with_actions(staff_client, flow):
    def add_actions(n: int) -> None:
        Action.objects.bulk_create(
            Action(flow=flow, action_id=f"a{i}", type="HTTP", action="SEND_REQUEST", position=i)
            for i in range(Action.objects.count(), n)
        )

    add_actions(1)
    urls = [reverse("actions:flow_detail", args=[flow.pk]), reverse("actions:flow_list")]

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(url).status_code == 200
        return len(queries)

    baseline = [count(url) for url in urls]
    add_actions(100)
    assert [count(url) for url in urls] == baseline
