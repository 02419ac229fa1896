"""The flow canvas: cards and branches, insert from the catalog, reorder, move up/down, delete."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from actions import catalog
from actions.models import Action, Flow
from actions.views.canvas import default_params

HTMX = {"HX-Request": "true"}


@pytest.fixture
def flow(db):
    return Flow.objects.create(name="Canvas flow")


def add(flow: Flow, action_id: str, position: int, kind: str = "FLOW/DO_NOTHING", **fields) -> Action:
    type_, action = kind.split("/")
    return Action.objects.create(
        flow=flow, action_id=action_id, position=position, type=type_, action=action, **fields
    )


def tree(flow: Flow, parent: Action | None = None, branch: str = "") -> list:
    """The flow's shape as nested lists of ids: an If/then is (id, then, else)."""
    shape = []
    for action in Action.objects.filter(flow=flow, parent=parent, branch=branch).order_by("position"):
        if action.kind == "FLOW/BOOLEAN_CONDITION":
            shape.append((action.action_id, tree(flow, action, "then"), tree(flow, action, "else")))
        else:
            shape.append(action.action_id)
    return shape


def version(flow: Flow) -> int:
    flow.refresh_from_db()
    return flow.version


@pytest.fixture
def three(flow):
    return [add(flow, name, i) for i, name in enumerate(["a", "b", "c"])]


@pytest.fixture
def branched(flow):
    """start, check(then: [yes], else: [no1, no2]), end"""
    start = add(flow, "start", 0)
    check = add(flow, "check", 1, "FLOW/BOOLEAN_CONDITION")
    end = add(flow, "end", 2)
    yes = add(flow, "yes", 0, parent=check, branch="then")
    no1 = add(flow, "no1", 0, parent=check, branch="else")
    no2 = add(flow, "no2", 1, parent=check, branch="else")
    return {a.action_id: a for a in (start, check, end, yes, no1, no2)}


def _urls(flow: Flow, action: Action) -> list[tuple[str, str]]:
    return [
        ("get", reverse("actions:canvas_catalog", args=[flow.pk])),
        ("post", reverse("actions:canvas_insert", args=[flow.pk])),
        ("post", reverse("actions:canvas_reorder", args=[flow.pk])),
        ("post", reverse("actions:canvas_move", args=[flow.pk, action.pk, "up"])),
        ("post", reverse("actions:canvas_delete", args=[flow.pk, action.pk])),
    ]


# --- Access -----------------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, flow, three):
    for method, url in _urls(flow, three[0]):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))
    assert tree(flow) == ["a", "b", "c"]


def test_outsider_is_forbidden(outsider_client, flow, three):
    for method, url in _urls(flow, three[0]):
        assert getattr(outsider_client, method)(url, {"version": 1}).status_code == 403, url
    assert tree(flow) == ["a", "b", "c"]
    assert version(flow) == 1


def test_actions_of_another_flow_are_404(staff_client, flow, three):
    other = Flow.objects.create(name="Other")
    foreign = add(other, "x", 0)
    move = reverse("actions:canvas_move", args=[flow.pk, foreign.pk, "up"])
    delete = reverse("actions:canvas_delete", args=[flow.pk, foreign.pk])
    assert staff_client.post(move, {"version": 1}).status_code == 404
    assert staff_client.post(delete, {"version": 1}).status_code == 404
    assert Action.objects.filter(pk=foreign.pk).exists()


# --- The page ---------------------------------------------------------------------------------------------


def test_cards_show_id_alias_icon_type_summary_and_editor_link(staff_client, flow):
    http = add(
        flow,
        "get_user",
        0,
        "HTTP/SEND_REQUEST",
        alias="Get the user",
        params={"method": "POST", "url": "https://api.example.com/users"},
    )
    text = staff_client.get(reverse("actions:flow_detail", args=[flow.pk])).text
    assert "<code>get_user</code>" in text
    assert "Get the user" in text
    assert 'href="#icon-globe"' in text
    assert "HTTP Request" in text
    assert "POST https://api.example.com/users" in text
    assert reverse("actions:action_edit", args=[flow.pk, http.pk]) in text
    assert "to fix" not in text
    assert 'class="flow-node flow-start"' in text


def test_cards_summarize_their_params(staff_client, flow):
    check = add(
        flow,
        "check",
        0,
        "FLOW/BOOLEAN_CONDITION",
        params={
            "if": {
                "operator": "OR",
                "conditions": [{"left": 1, "op": "IS_TRUE"}, {"left": 2, "op": "IS_TRUE"}],
            }
        },
    )
    add(flow, "wait", 1, "FLOW/DELAY_FLOW", params={"number": 5, "units": "MINUTES"})
    add(flow, "fail", 2, "FLOW/ERROR_MESSAGE", params={"message": "No user {{fields.id}}"})
    add(flow, "keep", 3, "FLOW/STORE_VARS", params={"vars": {"a": 1, "b": 2}})
    add(flow, "odd", 4, "FLOW/STORE_VARS", params=["not", "a", "dict"])
    response = staff_client.get(reverse("actions:flow_detail", args=[flow.pk]))
    summaries = [card.summary for card in response.context["cards"]]
    assert summaries == ["2 conditions, OR", "5 minutes", "No user {{fields.id}}", "vars.a, vars.b", ""]
    assert f'aria-label="“else” branch of {check.action_id}"' in response.text
    assert response.context["cards"][4].problems == [
        "The params are not a JSON object: open the action to set them again."
    ]


def test_card_with_invalid_params_shows_a_warning(staff_client, flow):
    add(flow, "broken", 0, "HTTP/SEND_REQUEST", params={"url": "ftp://example.com/{{ nope("})
    add(flow, "fine", 1, "FLOW/DO_NOTHING")
    response = staff_client.get(reverse("actions:flow_detail", args=[flow.pk]))
    broken, fine = response.context["cards"]
    assert broken.problems and not fine.problems
    assert "URL:" in broken.problems[0]
    assert f"⚠ {len(broken.problems)} to fix" in response.text


SAMPLE_PARAMS = [
    {},
    {"url": "ftp://x/{{ nope(", "method": "POST", "connection_id": "00000000-0000-0000-0000-000000000000"},
    {"url": "https://api.example.com/{{actions.later.body}}", "payload": "{", "content_type": "JSON"},
    {"number": -1, "units": "YEARS", "message": "", "vars": {"": 1}, "payload": {"a": "{{ x. }}"}},
    {
        "if": {"operator": "XOR", "conditions": []},
        "json": "{{actions.later.x}}",
        "object": {"k": "{{vars.v}}"},
    },
]


@pytest.mark.parametrize("params", SAMPLE_PARAMS)
def test_card_problems_are_the_editors_errors_and_warnings(staff_client, flow, params):
    """The canvas validates copies of one form per type (to keep its queries constant): it must still
    report exactly what the editor's own form reports for the same stored params."""
    types = catalog.all_types()
    for position, action_type in enumerate(types):
        add(flow, f"a{position}", position, action_type.kind, params=params)
    cards = staff_client.get(reverse("actions:flow_detail", args=[flow.pk])).context["cards"]
    for position, (action_type, card) in enumerate(zip(types, cards, strict=True)):
        earlier = frozenset(f"a{i}" for i in range(position))
        form = action_type.form_class(
            action_type.form_class.data_from_params(params, {}), params=params, earlier_ids=earlier
        )
        form.is_valid()
        # A card prefixes each message with the label the editor shows beside the field.
        expected = [
            f"{form[name].label}: {message}" if name in form.fields else str(message)
            for name, messages in [*form.errors.items(), *form.warnings.items()]
            for message in messages
        ]
        assert card.problems == expected, action_type.kind


def test_card_problems_name_fields_by_their_label_not_their_param(staff_client, flow, settings):
    settings.FLOWS_MAX_INLINE_DELAY = 10
    add(flow, "keep", 0, "FLOW/STORE_VARS", params={"vars": {"a": "{{actions.late.x}}"}})
    add(flow, "answer", 1, "FLOW/RETURN_JSON", params={"payload": "{{actions.late.x}}"})
    add(flow, "check", 2, "FLOW/BOOLEAN_CONDITION", params={"if": {"operator": "XOR", "conditions": []}})
    add(flow, "wait", 3, "FLOW/DELAY_FLOW", params={"number": 1, "units": "MINUTES"})
    add(flow, "late", 4, "FLOW/DO_NOTHING")
    cards = staff_client.get(reverse("actions:flow_detail", args=[flow.pk])).context["cards"]
    later = "“actions.late” does not run before this action: it is undefined here."
    assert cards[0].problems == [f"Vars: {later}"]
    assert cards[1].problems == [f"Payload: {later}"]
    assert cards[2].problems and all(problem.startswith("If: ") for problem in cards[2].problems)
    assert cards[3].problems == ["Number: Runs fail on delays over 10 s: FLOWS_MAX_INLINE_DELAY."]


def test_card_referring_to_a_later_action_is_warned(staff_client, flow):
    add(flow, "early", 0, "FLOW/RETURN_JSON", params={"payload": {"x": "{{actions.late.result}}"}})
    add(flow, "late", 1, "JSON/CREATE_JSON", params={"object": {}})
    early, late = staff_client.get(reverse("actions:flow_detail", args=[flow.pk])).context["cards"]
    assert any("does not run before this action" in problem for problem in early.problems)
    assert late.problems == []


def test_unsupported_type_is_shown_as_such(staff_client, flow):
    add(flow, "odd", 0, "AUTH0/MAKE_CALL")
    response = staff_client.get(reverse("actions:flow_detail", args=[flow.pk]))
    assert "unsupported" in response.text
    assert "AUTH0/MAKE_CALL is not in the catalog" in response.text
    assert 'href="#icon-unknown"' in response.text


def test_condition_draws_both_branches_with_their_own_add_buttons(staff_client, flow, branched):
    response = staff_client.get(reverse("actions:flow_detail", args=[flow.pk]))
    text = response.text
    check = response.context["cards"][1]
    assert [c.action.action_id for c in check.then] == ["yes"]
    assert [c.action.action_id for c in check.otherwise] == ["no1", "no2"]
    pk = branched["check"].pk
    assert f'data-parent="{pk}" data-branch="then"' in text
    assert f'data-parent="{pk}" data-branch="else"' in text
    assert f"?parent={pk}&amp;branch=then&amp;position=0" in text
    assert f"?parent={pk}&amp;branch=else&amp;position=2" in text
    assert "?parent=&amp;branch=&amp;position=3" in text
    assert "Add an action at the start of else" in text


def test_nested_conditions_draw_to_any_depth(staff_client, flow):
    outer = add(flow, "outer", 0, "FLOW/BOOLEAN_CONDITION")
    inner = add(flow, "inner", 0, "FLOW/BOOLEAN_CONDITION", parent=outer, branch="else")
    add(flow, "deep", 0, parent=inner, branch="then")
    response = staff_client.get(reverse("actions:flow_detail", args=[flow.pk]))
    assert response.context["cards"][0].otherwise[0].then[0].action.action_id == "deep"
    assert f'data-parent="{inner.pk}" data-branch="then"' in response.text


def test_page_queries_do_not_grow_with_actions(staff_client, flow, django_assert_max_num_queries):
    url = reverse("actions:flow_detail", args=[flow.pk])
    kinds = [t.kind for t in catalog.all_types()]

    def grow(n: int) -> None:
        start = Action.objects.filter(flow=flow, parent=None).count()
        for i in range(start, n):
            action = add(flow, f"a{i}", i, kinds[i % len(kinds)], params={"url": f"https://x.test/{i}"})
            if action.kind == "FLOW/BOOLEAN_CONDITION":
                add(flow, f"a{i}_then", 0, parent=action, branch="then")

    add(flow, "first", 0, "HTTP/SEND_REQUEST")
    with CaptureQueriesContext(connection) as one:
        assert staff_client.get(url).status_code == 200
    grow(100)
    with django_assert_max_num_queries(len(one)):
        response = staff_client.get(url)
    assert response.text.count('class="node"') > 100


def test_toolbar_links_to_the_flow_pages(staff_client, flow):
    text = staff_client.get(reverse("actions:flow_detail", args=[flow.pk])).text
    for name in (
        "flow_run",
        "flow_execution_list",
        "flow_edit",
        "flow_export",
        "flow_duplicate",
        "flow_delete",
    ):
        url = reverse(f"actions:{name}", args=[flow.pk])
        assert f'href="{url}"' in text or f'action="{url}"' in text, name
    assert '<span class="badge" title="Version: every change adds one">v1</span>' in text


def test_empty_flow_invites_to_use_the_plus(staff_client, flow):
    text = staff_client.get(reverse("actions:flow_detail", args=[flow.pk])).text
    assert "This flow has no actions yet" in text
    assert "Add an action at the start" in text


# --- The catalog ------------------------------------------------------------------------------------------


def test_catalog_lists_every_type_grouped_with_the_slot(staff_client, flow, branched):
    url = reverse("actions:canvas_catalog", args=[flow.pk])
    pk = branched["check"].pk
    response = staff_client.get(url, {"parent": pk, "branch": "else", "position": 1}, headers=HTMX)
    text = response.text
    assert response.status_code == 200
    assert "<html" not in text
    assert text.lstrip().startswith('<div class="catalog">')
    for action_type in catalog.all_types():
        assert action_type.label in text
        assert action_type.description in text
        assert f'name="action" value="{action_type.action}"' in text
    assert text.index("<h3>FLOW</h3>") < text.index("<h3>HTTP</h3>") < text.index("<h3>JSON</h3>")
    assert f'name="parent" value="{pk}"' in text
    assert 'name="branch" value="else"' in text
    assert 'name="position" value="1"' in text
    assert "HX-Request" in response["Vary"]


def test_catalog_without_htmx_is_the_page_with_the_catalog_open(staff_client, flow):
    response = staff_client.get(reverse("actions:canvas_catalog", args=[flow.pk]), {"position": 0})
    assert '<dialog id="catalog-dialog" class="catalog-dialog" aria-labelledby="catalog-title" open>' in (
        response.text
    )
    assert "<html" in response.text


def test_catalog_refuses_a_parent_that_is_not_a_condition(staff_client, flow, three):
    url = reverse("actions:canvas_catalog", args=[flow.pk])
    response = staff_client.get(url, {"parent": three[0].pk, "branch": "then"})
    assert response.status_code == 400
    assert "If/then" in response.text


# --- Insert -----------------------------------------------------------------------------------------------


def _insert(client, flow: Flow, kind: str, **slot) -> Action:
    type_, action = kind.split("/")
    data = {"type": type_, "action": action, "version": version(flow), **slot}
    response = client.post(reverse("actions:canvas_insert", args=[flow.pk]), data)
    new = Action.objects.filter(flow=flow).latest("pk")
    assert response.status_code == 302
    assert response["Location"] == reverse("actions:action_edit", args=[flow.pk, new.pk])
    return new


def test_insert_at_start_middle_and_end(staff_client, flow, three):
    first = _insert(staff_client, flow, "FLOW/DO_NOTHING", position=0)
    middle = _insert(staff_client, flow, "FLOW/DO_NOTHING", position=2)
    last = _insert(staff_client, flow, "FLOW/DO_NOTHING", position=5)
    assert (first.action_id, middle.action_id, last.action_id) == (
        "do_nothing_1",
        "do_nothing_2",
        "do_nothing_3",
    )
    assert tree(flow) == ["do_nothing_1", "a", "do_nothing_2", "b", "c", "do_nothing_3"]
    positions = list(Action.objects.filter(flow=flow).order_by("position").values_list("position", flat=True))
    assert positions == [0, 1, 2, 3, 4, 5]
    assert version(flow) == 4


def test_insert_without_position_appends(staff_client, flow, three):
    _insert(staff_client, flow, "FLOW/STORE_VARS")
    assert tree(flow) == ["a", "b", "c", "store_variables_1"]


def test_insert_inside_a_branch(staff_client, flow, branched):
    check = branched["check"]
    _insert(staff_client, flow, "FLOW/DO_NOTHING", parent=check.pk, branch="else", position=1)
    _insert(staff_client, flow, "FLOW/DO_NOTHING", parent=check.pk, branch="then", position=0)
    assert tree(flow) == [
        "start",
        ("check", ["do_nothing_2", "yes"], ["no1", "do_nothing_1", "no2"]),
        "end",
    ]


def test_insert_picks_a_free_id_and_the_form_defaults(staff_client, flow):
    add(flow, "http_request_1", 0, "HTTP/SEND_REQUEST")
    http = _insert(staff_client, flow, "HTTP/SEND_REQUEST")
    delay = _insert(staff_client, flow, "FLOW/DELAY_FLOW")
    assert http.action_id == "http_request_2"
    assert delay.params == default_params(catalog.get("FLOW", "DELAY_FLOW"))
    # Until its URL is set, the new request is flagged on the canvas.
    cards = staff_client.get(reverse("actions:flow_detail", args=[flow.pk])).context["cards"]
    assert any("URL:" in problem for problem in cards[1].problems)


def test_insert_over_htmx_redraws_the_canvas_and_opens_the_new_card_in_the_panel(staff_client, flow, three):
    url = reverse("actions:canvas_insert", args=[flow.pk])
    data = {"type": "FLOW", "action": "STORE_VARS", "version": 1, "position": 1}
    response = staff_client.post(url, data, headers=HTMX | {"HX-Target": "canvas"})
    new = Action.objects.get(flow=flow, action_id="store_variables_1")
    assert response.status_code == 200
    assert "HX-Redirect" not in response
    assert response.text.lstrip().startswith('<section id="canvas"')
    assert "Action “store_variables_1” added." in response.text
    # Once settled, canvas.js clicks this card's link: the htmx GET into the side panel a user's click makes.
    assert json.loads(response["HX-Trigger-After-Settle"]) == {"open-in-panel": f"card-{new.pk}"}
    edit = reverse("actions:action_edit", args=[flow.pk, new.pk])
    assert (
        f'id="card-{new.pk}" class="action-card-link" href="{edit}" hx-get="{edit}" hx-target="#side-panel"'
        in (response.text)
    )
    panel = staff_client.get(edit, headers=HTMX | {"HX-Target": "side-panel"})
    assert 'id="action-form"' in panel.text and "<html" not in panel.text
    assert tree(flow) == ["a", "store_variables_1", "b", "c"]


def test_the_catalog_inserts_over_htmx_into_the_canvas_and_posts_without_it(staff_client, flow):
    url = reverse("actions:canvas_catalog", args=[flow.pk])
    dialog = staff_client.get(url, {"position": 0}, headers=HTMX).text
    insert = reverse("actions:canvas_insert", args=[flow.pk])
    assert (
        f'method="post" action="{insert}" hx-post="{insert}" hx-target="#canvas" hx-swap="outerHTML"'
        in dialog
    )


def test_insert_refuses_unknown_types_and_foreign_parents(staff_client, flow, three):
    url = reverse("actions:canvas_insert", args=[flow.pk])
    assert staff_client.post(url, {"type": "NOPE", "action": "NOPE", "version": 1}).status_code == 400
    other_condition = add(Flow.objects.create(name="Other"), "c", 0, "FLOW/BOOLEAN_CONDITION")
    data = {
        "type": "FLOW",
        "action": "DO_NOTHING",
        "version": 1,
        "parent": other_condition.pk,
        "branch": "then",
    }
    assert staff_client.post(url, data).status_code == 400
    data = {"type": "FLOW", "action": "DO_NOTHING", "version": 1, "branch": "then"}
    assert staff_client.post(url, data).status_code == 400
    assert staff_client.post(url, {"type": "FLOW", "action": "DO_NOTHING"}).status_code == 400
    assert tree(flow) == ["a", "b", "c"]
    assert version(flow) == 1


def test_insert_over_a_newer_version_is_refused(staff_client, flow, three):
    Flow.objects.filter(pk=flow.pk).update(version=2)
    url = reverse("actions:canvas_insert", args=[flow.pk])
    data = {"type": "FLOW", "action": "DO_NOTHING", "position": 1, "version": 1}
    response = staff_client.post(url, data, follow=True)
    assert "changed by someone else (now version 2) after you opened it at version 1" in response.text
    assert tree(flow) == ["a", "b", "c"]
    assert version(flow) == 2


def test_catalog_carries_the_version_it_was_opened_at(staff_client, flow):
    Flow.objects.filter(pk=flow.pk).update(version=7)
    response = staff_client.get(reverse("actions:canvas_catalog", args=[flow.pk]), headers=HTMX)
    assert 'name="version" value="7"' in response.text


# --- Reorder ----------------------------------------------------------------------------------------------


def _nodes(*entries: tuple[Action, Action | None, str]) -> list[str]:
    return [f"{a.pk}:{parent.pk if parent else ''}:{branch}" for a, parent, branch in entries]


def test_reorder_saves_the_new_order_and_bumps_the_version(staff_client, flow, three):
    a, b, c = three
    url = reverse("actions:canvas_reorder", args=[flow.pk])
    response = staff_client.post(
        url, {"version": 1, "node": _nodes((c, None, ""), (a, None, ""), (b, None, ""))}, headers=HTMX
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="canvas"')
    assert "Order saved (flow version 2)." in response.text
    assert tree(flow) == ["c", "a", "b"]
    assert version(flow) == 2


def test_reorder_moves_cards_between_branches(staff_client, flow, branched):
    s, check, end, yes, no1, no2 = (branched[k] for k in ("start", "check", "end", "yes", "no1", "no2"))
    nodes = _nodes(
        (check, None, ""),
        (no2, check, "then"),
        (yes, check, "then"),
        (end, check, "else"),
        (no1, None, ""),
        (s, None, ""),
    )
    response = staff_client.post(
        reverse("actions:canvas_reorder", args=[flow.pk]), {"version": 1, "node": nodes}
    )
    assert response.status_code == 302
    assert tree(flow) == [("check", ["no2", "yes"], ["end"]), "no1", "start"]


def test_reorder_over_a_newer_version_is_refused(staff_client, flow, three):
    a, b, c = three
    Flow.objects.filter(pk=flow.pk).update(version=5)
    response = staff_client.post(
        reverse("actions:canvas_reorder", args=[flow.pk]),
        {"version": 4, "node": _nodes((c, None, ""), (b, None, ""), (a, None, ""))},
        headers=HTMX,
    )
    assert "changed by someone else (now version 5) after you opened it at version 4" in response.text
    assert 'role="alert"' in response.text
    assert tree(flow) == ["a", "b", "c"]
    assert version(flow) == 5


def test_reorder_refuses_foreign_missing_or_duplicated_ids(staff_client, flow, three):
    a, b, c = three
    foreign = add(Flow.objects.create(name="Other"), "x", 0)
    url = reverse("actions:canvas_reorder", args=[flow.pk])
    bad_orders = {
        "not in this flow": _nodes((a, None, ""), (b, None, ""), (c, None, ""), (foreign, None, "")),
        "every action of the flow exactly once": _nodes((a, None, ""), (b, None, "")),
        "exactly once": _nodes((a, None, ""), (b, None, ""), (c, None, ""), (c, None, "")),
        "branches of an If/then": _nodes((a, None, ""), (b, a, "then"), (c, None, "")),
    }
    for message, nodes in bad_orders.items():
        response = staff_client.post(url, {"version": 1, "node": nodes}, headers=HTMX)
        assert message in response.text, message
    assert "not in this flow" in staff_client.post(url, {"version": 1, "node": ["junk"]}, headers=HTMX).text
    assert tree(flow) == ["a", "b", "c"]
    assert version(flow) == 1


def test_reorder_refuses_a_condition_inside_its_own_branch(staff_client, flow, branched):
    s, check, end, yes, no1, no2 = (branched[k] for k in ("start", "check", "end", "yes", "no1", "no2"))
    other = add(flow, "other", 3, "FLOW/BOOLEAN_CONDITION")
    nodes = _nodes(
        (s, None, ""),
        (check, other, "then"),
        (other, check, "else"),
        (end, None, ""),
        (yes, check, "then"),
        (no1, check, "else"),
        (no2, check, "else"),
    )
    response = staff_client.post(
        reverse("actions:canvas_reorder", args=[flow.pk]), {"version": 1, "node": nodes}, headers=HTMX
    )
    assert "cannot be moved into its own branches" in response.text
    assert version(flow) == 1


# --- Move up / down ---------------------------------------------------------------------------------------


def test_move_up_and_down(staff_client, flow, three):
    a, _, c = three
    up = staff_client.post(
        reverse("actions:canvas_move", args=[flow.pk, c.pk, "up"]), {"version": 1}, headers=HTMX
    )
    assert "“c” moved up." in up.text
    assert tree(flow) == ["a", "c", "b"]
    staff_client.post(reverse("actions:canvas_move", args=[flow.pk, a.pk, "down"]), {"version": 2})
    assert tree(flow) == ["c", "a", "b"]
    assert version(flow) == 3


def test_the_redrawn_canvas_shows_when_the_flow_was_updated(staff_client, flow, three):
    Flow.objects.filter(pk=flow.pk).update(updated=timezone.now() - timedelta(days=3))
    page = staff_client.get(reverse("actions:flow_detail", args=[flow.pk])).text
    assert "3\u00a0days ago" in page
    move = staff_client.post(
        reverse("actions:canvas_move", args=[flow.pk, three[2].pk, "up"]), {"version": 1}, headers=HTMX
    )
    flow.refresh_from_db()
    updated = timezone.localtime(flow.updated)
    assert f'<dd id="flow-updated"><time datetime="{updated.isoformat()}" title="just now">' in move.text


def test_move_stays_in_its_branch_and_at_the_ends(staff_client, flow, branched):
    no2 = branched["no2"]
    staff_client.post(reverse("actions:canvas_move", args=[flow.pk, no2.pk, "up"]), {"version": 1})
    again = staff_client.post(reverse("actions:canvas_move", args=[flow.pk, no2.pk, "up"]), {"version": 2})
    assert "“no2” is already first." in staff_client.get(again["Location"]).text
    assert tree(flow) == ["start", ("check", ["yes"], ["no2", "no1"]), "end"]
    assert version(flow) == 2


def test_move_refuses_a_stale_version_and_bad_directions(staff_client, flow, three):
    c = three[2]
    stale = staff_client.post(
        reverse("actions:canvas_move", args=[flow.pk, c.pk, "up"]), {"version": 0}, headers=HTMX
    )
    assert stale.status_code == 400
    Flow.objects.filter(pk=flow.pk).update(version=2)
    stale = staff_client.post(
        reverse("actions:canvas_move", args=[flow.pk, c.pk, "up"]), {"version": 1}, headers=HTMX
    )
    assert "changed by someone else" in stale.text
    sideways = staff_client.post(reverse("actions:canvas_move", args=[flow.pk, c.pk, "left"]), {"version": 2})
    assert sideways.status_code == 400
    assert tree(flow) == ["a", "b", "c"]


# --- Delete -----------------------------------------------------------------------------------------------


def test_delete_a_condition_deletes_its_branches(staff_client, flow, branched):
    check = branched["check"]
    response = staff_client.post(
        reverse("actions:canvas_delete", args=[flow.pk, check.pk]), {"version": 1}, headers=HTMX
    )
    assert "Action “check” deleted." in response.text
    assert tree(flow) == ["start", "end"]
    assert list(Action.objects.filter(flow=flow).values_list("position", flat=True).order_by("position")) == [
        0,
        1,
    ]
    assert not Action.objects.filter(action_id__in=["yes", "no1", "no2"]).exists()
    assert version(flow) == 2


def test_delete_asks_for_confirmation_in_the_page(staff_client, flow, branched):
    text = staff_client.get(reverse("actions:flow_detail", args=[flow.pk])).text
    assert 'data-confirm="Delete “check” and every action in its branches?"' in text
    assert 'data-confirm="Delete “yes”?"' in text


def test_delete_without_htmx_redirects_with_a_message(staff_client, flow, three):
    response = staff_client.post(
        reverse("actions:canvas_delete", args=[flow.pk, three[1].pk]), {"version": 1}
    )
    assert response.status_code == 302
    page = staff_client.get(response["Location"])
    assert "Action “b” deleted." in page.text
    assert tree(flow) == ["a", "c"]


def test_delete_over_a_newer_version_is_refused(staff_client, flow, three):
    Flow.objects.filter(pk=flow.pk).update(version=3)
    response = staff_client.post(
        reverse("actions:canvas_delete", args=[flow.pk, three[1].pk]), {"version": 1}
    )
    assert response.status_code == 302
    assert "changed by someone else" in staff_client.get(response["Location"]).text
    assert tree(flow) == ["a", "b", "c"]


# --- Side panel: a card's editor beside the canvas ---------------------------------------------------------

PANEL = HTMX | {"HX-Target": "side-panel"}


def _edit(flow: Flow, action: Action) -> str:
    return reverse("actions:action_edit", args=[flow.pk, action.pk])


def test_card_opens_its_editor_in_the_side_panel_and_stays_a_link(staff_client, flow, three):
    text = staff_client.get(reverse("actions:flow_detail", args=[flow.pk])).text
    url = _edit(flow, three[0])
    assert f'href="{url}" hx-get="{url}" hx-target="#side-panel"' in text
    assert '<aside id="side-panel" class="side-panel" aria-labelledby="panel-title"></aside>' in text
    assert 'hx-trigger="canvas-changed from:body" hx-target="#canvas" hx-select="#canvas"' in text
    assert "js/editor.js" in text
    assert "css/editor.css" in text


def test_panel_request_returns_only_the_editor_partial(staff_client, flow, three):
    url = _edit(flow, three[1])
    panel = staff_client.get(url, headers=PANEL)
    assert panel.status_code == 200
    assert "<html" not in panel.text
    assert "<nav" not in panel.text
    assert 'id="action-form"' in panel.text
    assert f'hx-post="{url}" hx-target="#side-panel"' in panel.text
    assert 'id="panel-title"' in panel.text
    assert "data-close-panel" in panel.text
    assert 'id="test-history"' in panel.text
    # htmx drops the <script>s it swaps in: the panel's references ride on the list.
    assert "<script" not in panel.text
    assert 'data-references="[{&quot;path&quot;: &quot;actions.a&quot;' in panel.text
    # Direct links, other htmx targets and no-JS users get the whole page.
    for headers in ({}, HTMX | {"HX-Target": "main"}):
        page = staff_client.get(url, headers=headers)
        assert "<html" in page.text
        assert "data-close-panel" not in page.text


def _post(flow: Flow, action: Action, **data) -> dict:
    return {"action_id": action.action_id, "alias": "", "version": flow.version, "kind": action.kind} | data


def test_panel_save_shows_the_saved_form_and_redraws_the_canvas(staff_client, flow, three):
    response = staff_client.post(_edit(flow, three[1]), _post(flow, three[1], alias="Second"), headers=PANEL)
    assert response.status_code == 200
    assert response["HX-Trigger"] == "canvas-changed"
    assert "<html" not in response.text
    assert "Action “b” saved (flow version 2)." in response.text
    assert 'name="version" value="2"' in response.text
    assert 'value="Second"' in response.text
    assert "data-unsaved" not in response.text
    three[1].refresh_from_db()
    assert three[1].alias == "Second"
    assert version(flow) == 2
    # The canvas the trigger fetches carries the new version for its reorder and move forms.
    canvas = staff_client.get(reverse("actions:flow_detail", args=[flow.pk])).text
    assert 'name="version" value="2"' in canvas
    assert 'name="version" value="1"' not in canvas
    assert "Second" in canvas


def test_panel_save_with_errors_shows_them_in_the_panel_and_keeps_the_input(staff_client, flow, three):
    data = _post(flow, three[1], action_id="a", alias="Typed alias")
    response = staff_client.post(_edit(flow, three[1]), data, headers=PANEL)
    assert response.status_code == 200
    assert "HX-Trigger" not in response
    assert "<html" not in response.text
    assert "Another action of this flow already has the id &quot;a&quot;." in response.text
    assert 'value="Typed alias"' in response.text
    assert "data-unsaved" in response.text
    assert version(flow) == 1


def test_panel_save_over_a_newer_version_is_refused_in_the_panel(staff_client, flow, three):
    Flow.objects.filter(pk=flow.pk).update(version=4)
    response = staff_client.post(_edit(flow, three[1]), _post(flow, three[1], alias="Mine"), headers=PANEL)
    assert "HX-Trigger" not in response
    assert "<html" not in response.text
    assert "changed by someone else (now version 4)" in response.text
    assert 'name="version" value="4"' in response.text
    three[1].refresh_from_db()
    assert three[1].alias == ""


def test_panel_delete_empties_the_panel_and_redraws_the_canvas(staff_client, flow, three):
    panel = staff_client.get(_edit(flow, three[1]), headers=PANEL).text
    assert 'hx-target="#side-panel" hx-confirm="Delete the action “b”?' in panel
    url = reverse("actions:action_delete", args=[flow.pk, three[1].pk])
    response = staff_client.post(url, headers=PANEL)
    assert response.status_code == 200
    assert response.content == b""
    assert response["HX-Trigger"] == "canvas-changed"
    assert "HX-Redirect" not in response
    assert tree(flow) == ["a", "c"]
    # The canvas fetched next shows the message (swapped into #messages out of band).
    assert "Action “b” deleted." in staff_client.get(reverse("actions:flow_detail", args=[flow.pk])).text
