"""The Test view beyond API clients: Import from cURL, Copy as cURL, the history of a saved action's tests
(reopen, compare) and the result panel's details."""

import html
import json
import re
from datetime import UTC, datetime

import pytest
from django.template import Context, Template
from django.urls import reverse

from actions.curl import parse_curl
from actions.models import Action, Flow, TestRun
from actions.views.editor import HISTORY_SIZE
from tests.http_action.conftest import make_connection
from tests.http_action.test_editor_views import form_data
from vault.secrets import Secret

HTMX = {"HX-Request": "true"}


@pytest.fixture
def action(flow):
    return Action.objects.create(
        flow=flow, action_id="call", type="HTTP", action="SEND_REQUEST", params={"url": "https://x.test/"}
    )


def url_of_test(action: Action) -> str:
    return reverse("actions:action_test", args=[action.flow_id, action.pk])


def import_url(action: Action) -> str:
    return reverse("actions:action_import_curl", args=[action.flow_id, action.pk])


def run_url(test_run: TestRun) -> str:
    action = test_run.action
    return reverse("actions:action_test_run", args=[action.flow_id, action.pk, test_run.pk])


def compare_url(action: Action) -> str:
    return reverse("actions:action_test_compare", args=[action.flow_id, action.pk])


def make_runs(action: Action, count: int, **fields) -> list[TestRun]:
    return [
        TestRun.objects.create(
            action=action,
            status=200,
            success=True,
            url=f"https://x.test/{number}",
            output={"n": number},
            **fields,
        )
        for number in range(count)
    ]


def pre_texts(text: str, css_class: str = "wrap") -> list[str]:
    return [
        html.unescape(found)
        for found in re.findall(rf'<pre class="{css_class}"><code>(.*?)</code></pre>', text, re.S)
    ]


def curl_of(text: str) -> str:
    [command] = [found for found in pre_texts(text) if found.startswith("curl ")]
    return command


def input_value(text: str, name: str) -> str:
    match = re.search(rf'<input type="[a-z]+" name="{name}" value="([^"]*)"', text)
    assert match, f"no input {name}"
    return html.unescape(match[1])


# --- Access ----------------------------------------------------------------------------------------------


def urls(flow: Flow, action: Action, test_run: TestRun) -> dict[str, str]:
    return {
        "post": import_url(action),
        "post_new": reverse("actions:action_import_curl_new", args=[flow.pk]),
        "get_run": run_url(test_run),
        "get_compare": compare_url(action),
    }


def test_anonymous_is_sent_to_login(client, flow, action):
    for kind, url in urls(flow, action, make_runs(action, 1)[0]).items():
        response = client.post(url) if kind.startswith("post") else client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))
        response = (
            client.post(url, headers=HTMX) if kind.startswith("post") else client.get(url, headers=HTMX)
        )
        assert response.status_code == 204, url
        assert response["HX-Redirect"].startswith(reverse("login"))


def test_outsider_is_forbidden(outsider_client, flow, action):
    test_run = make_runs(action, 1)[0]
    for kind, url in urls(flow, action, test_run).items():
        if kind.startswith("post"):
            response = outsider_client.post(url, {"command": "curl https://x.test/"})
        else:
            response = outsider_client.get(url, {"run": [test_run.pk]})
        assert response.status_code == 403, url


def test_staff_uses_every_view(staff_client, flow, action):
    first, second = make_runs(action, 2)
    assert staff_client.post(import_url(action), {"command": "curl https://x.test/"}).status_code == 200
    new = reverse("actions:action_import_curl_new", args=[flow.pk])
    assert staff_client.post(new, {"command": "curl https://x.test/"}).status_code == 200
    assert staff_client.get(run_url(first)).status_code == 200
    assert staff_client.get(compare_url(action), {"run": [first.pk, second.pk]}).status_code == 200


def test_methods_are_enforced(staff_client, flow, action):
    test_run = make_runs(action, 1)[0]
    assert staff_client.get(import_url(action)).status_code == 405
    assert staff_client.post(run_url(test_run)).status_code == 405
    assert staff_client.post(compare_url(action)).status_code == 405


def test_another_flows_or_actions_runs_are_404(staff_client, flow, action):
    test_run = make_runs(action, 1)[0]
    other = Action.objects.create(
        flow=flow, action_id="other", type="HTTP", action="SEND_REQUEST", params={"url": "https://x.test/"}
    )
    stray = reverse("actions:action_test_run", args=[flow.pk, other.pk, test_run.pk])
    assert staff_client.get(stray).status_code == 404
    other_flow = Flow.objects.create(name="Other")
    assert (
        staff_client.get(
            reverse("actions:action_test_run", args=[other_flow.pk, action.pk, test_run.pk])
        ).status_code
        == 404
    )
    assert (
        staff_client.post(reverse("actions:action_import_curl", args=[other_flow.pk, action.pk])).status_code
        == 404
    )


# --- Import from cURL ------------------------------------------------------------------------------------


def test_the_editor_offers_the_import_for_http_requests_only(staff_client, flow, action):
    page = staff_client.get(reverse("actions:action_edit", args=[flow.pk, action.pk])).text
    assert "<summary>Import from cURL</summary>" in page
    assert f'hx-post="{import_url(action)}"' in page
    store = Action.objects.create(
        flow=flow, action_id="store", type="FLOW", action="STORE_VARS", params={"vars": {"a": 1}}
    )
    assert (
        "Import from cURL"
        not in staff_client.get(reverse("actions:action_edit", args=[flow.pk, store.pk])).text
    )
    store_import = reverse("actions:action_import_curl", args=[flow.pk, store.pk])
    assert staff_client.post(store_import, {"command": "curl https://x.test/"}).status_code == 404


def test_import_fills_method_url_params_headers_and_body(staff_client, flow, action):
    command = (
        "curl -X PUT 'https://api.example.com/users?page=2&tag=a&tag=b' "
        "-H 'Content-Type: application/json' -H 'X-Trace: <1>' -d '{\"name\": \"Ada\"}'"
    )
    response = staff_client.post(import_url(action), {"command": command}, headers=HTMX)
    text = response.text
    assert response.status_code == 200
    assert '<fieldset class="card" id="params-card" hx-swap-oob="true">' in text
    assert input_value(text, "url") == "https://api.example.com/users"
    assert '<option value="PUT" selected>PUT</option>' in text
    assert re.search(r'<option value="JSON" selected>', text)
    assert re.findall(r'name="params_key" value="([^"]*)"', text) == ["page", "tag", "tag"]
    assert re.findall(r'name="params_value" value="([^"]*)"', text) == ["2", "a", "b"]
    assert re.findall(r'name="headers_key" value="([^"]*)"', text) == ["X-Trace"]
    assert re.findall(r'name="headers_value" value="([^"]*)"', text) == ["&lt;1&gt;"]
    assert "{&quot;name&quot;: &quot;Ada&quot;}</textarea>" in text
    assert "Imported into the parameters below. Nothing is saved until you save." in text
    # The panel comes back open and empty, ready for another command.
    assert '<details class="card curl-import" id="curl-import" open>' in text
    assert "X-Trace: &lt;1&gt;</textarea>" not in text
    assert Action.objects.get(pk=action.pk).params == {"url": "https://x.test/"}
    assert Flow.objects.get().version == 1


def test_import_of_a_form_body_and_advanced_options(staff_client, flow, action):
    command = "curl https://x.test/form -d 'a=1&a=2&b=x y' -L -m 10 --retry 2"
    text = staff_client.post(import_url(action), {"command": command}).text
    assert '<option value="POST" selected>POST</option>' in text
    assert '<option value="FORM" selected>' in text
    body = re.search(r'<textarea name="payload"[^>]*>\n?(.*?)</textarea>', text, re.S)[1]
    assert json.loads(html.unescape(body)) == {"a": ["1", "2"], "b": "x y"}
    assert input_value(text, "timeout") == "10"
    assert input_value(text, "retry_attempts") == "3"
    assert re.search(r'<input type="checkbox" name="follow_redirects"[^>]*checked', text)


def test_basic_auth_fills_the_username_and_never_echoes_the_password(staff_client, flow):
    url = reverse("actions:action_import_curl_new", args=[flow.pk])
    text = staff_client.post(url, {"command": "curl -u ada:pass_SENTINEL https://x.test/"}).text
    assert input_value(text, "basic_username") == "ada"
    assert re.search(r'<input type="checkbox" name="basic_enabled"[^>]*checked', text)
    assert "pass_SENTINEL" not in text
    assert 'name="basic_password" autocomplete="new-password"' in text
    assert "Type the password from the command into Password" in text
    assert "Basic auth is enabled: enter a password." in text


def test_with_a_stored_password_the_note_says_a_blank_one_keeps_it(staff_client, flow, action):
    Action.objects.filter(pk=action.pk).update(secret_params=Secret({"basic_password": "old_SENTINEL"}))
    text = staff_client.post(import_url(action), {"command": "curl -u ada:new_SENTINEL https://x.test/"}).text
    assert "(left blank, the stored password is kept)" in text
    assert "Basic auth is enabled: enter a password." not in text
    assert "SENTINEL" not in text


def test_unsupported_options_are_named(staff_client, flow, action):
    command = "curl -k --proxy http://p:8080 --cert c.pem https://x.test/"
    text = staff_client.post(import_url(action), {"command": command}).text
    assert "Not imported (the HTTP Request action has no equivalent): --insecure, --proxy, --cert" in text
    assert input_value(text, "url") == "https://x.test/"


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("curl --nope 'https://x.test/?a=<b>'", "This command cannot be imported: unknown option --nope."),
        (
            'curl -H "Accept: x"',
            "This command cannot be imported: no URL: a curl command names the URL to call.",
        ),
    ],
)
def test_a_parse_error_is_shown_beside_the_text_which_is_kept(staff_client, flow, action, command, message):
    text = staff_client.post(import_url(action), {"command": command}, headers=HTMX).text
    assert html.escape(message) in text
    textarea = re.search(
        r'<textarea name="command"[^>]*aria-invalid="true"[^>]*>\n?(.*?)</textarea>', text, re.S
    )
    assert textarea, text
    assert html.unescape(textarea[1]) == command
    assert "params-card" not in text
    assert Action.objects.get(pk=action.pk).params == {"url": "https://x.test/"}


def test_an_imported_url_that_is_invalid_is_marked_in_the_form(staff_client, flow, action):
    text = staff_client.post(import_url(action), {"command": "curl ftp://x.test/file"}).text
    assert input_value(text, "url") == "ftp://x.test/file"
    assert "The URL must start with http:// or https://." in text


# --- Copy as cURL and the result panel -------------------------------------------------------------------


def test_copy_as_curl_masks_the_bearer_token(staff_client, flow, action, httpbin_url, allow_loopback):
    connection = make_connection("crm", "BEARER", {"token": "tok_SENTINEL"})
    data = form_data(
        flow,
        url=f"{httpbin_url}/anything?x=1",
        method="POST",
        payload='{"a": 1}',
        connection_id=str(connection.pk),
    )
    text = staff_client.post(url_of_test(action), data, headers=HTMX).text
    assert "tok_SENTINEL" not in text
    assert '<button type="button" class="small" data-copy-curl>Copy as cURL</button>' in text
    command = curl_of(text)
    assert "-H 'Authorization: Bearer ********'" in command
    assert "tok_SENTINEL" not in command
    # The command reads back as the same request.
    params = parse_curl(command).params
    assert params["url"] == f"{httpbin_url}/anything"
    assert params["params"] == [{"key": "x", "value": "1"}]
    assert params["payload"] == '{"a":1}'
    assert {"key": "Authorization", "value": "Bearer ********"} in params["headers"]


def test_the_result_shows_timings_views_and_a_folding_tree(
    staff_client, flow, action, httpbin_url, allow_loopback
):
    data = form_data(flow, url=f"{httpbin_url}/anything", params_key=["q"], params_value=["<b>&"])
    text = staff_client.post(url_of_test(action), data, headers=HTMX).text
    assert "<dt>Timing</dt>" in text
    for label in ("connect", "first byte", "download"):
        assert re.search(rf"<span>{label} [0-9.]+ m?s</span>", text), label
    assert '<button type="button" role="tab" aria-selected="true" data-view="pretty">Pretty</button>' in text
    assert '<pre class="json" role="tabpanel" data-view-panel="raw" hidden>' in text
    assert '<div class="json-tree"><details class="json-node" open>' in text
    # Headers (already in their own table) start folded; the body is open.
    assert '<details class="json-node"><summary><span class="json-key">&quot;headers&quot;</span>' in text
    assert '<details class="json-node" open><summary><span class="json-key">&quot;body&quot;</span>' in text
    query = (
        '<span class="json-key">&quot;q&quot;</span>: <span class="json-string">&quot;&lt;b&gt;&amp;&quot;'
    )
    assert query in text
    assert "<b>&" not in text
    assert "<h3>Response headers</h3>" in text


def test_the_json_tree_escapes_and_is_cut_when_very_large():
    template = Template("{% load json_tree %}{% json_tree value limit=8 %}")
    rendered = template.render(Context({"value": {"<k>": ["<script>", 1, None, True, [], "a\nb", 7, 8]}}))
    assert "<script>" not in rendered and "<k>" not in rendered
    assert '<span class="json-key">&quot;&lt;k&gt;&quot;</span>' in rendered
    assert '<span class="json-string">&quot;&lt;script&gt;&quot;</span>' in rendered
    assert '<span class="json-null">null</span>' in rendered
    assert '<span class="json-bool">true</span>' in rendered
    assert '<span class="json-punct">[]</span>' in rendered
    assert '<span class="json-key">&quot;&lt;k&gt;&quot;</span>' in rendered
    assert '<span class="json-index">5</span>: <pre class="json-text">a\nb</pre>' in rendered
    assert '<div class="json-more">… 2 more: see Raw</div>' in rendered


# --- History ---------------------------------------------------------------------------------------------


def test_a_test_of_a_saved_action_is_kept(staff_client, flow, action, httpbin_url, allow_loopback):
    data = form_data(flow, url=f"{httpbin_url}/status/404")
    text = staff_client.post(url_of_test(action), data, headers=HTMX).text
    test_run = TestRun.objects.get()
    assert (test_run.action, test_run.status, test_run.success) == (action, 404, False)
    assert test_run.method == "GET" and test_run.url == f"{httpbin_url}/status/404"
    assert test_run.duration_ms > 0 and test_run.size_bytes == 0
    assert test_run.output["status"] == 404 and test_run.meta["request"]["method"] == "GET"
    # The history below the form is refreshed out of band with the new run.
    assert 'id="test-history" aria-labelledby="history-heading" hx-swap-oob="true">' in text
    assert f'hx-get="{run_url(test_run)}"' in text


def test_a_test_before_the_first_save_is_not_kept(staff_client, flow, httpbin_url, allow_loopback):
    url = reverse("actions:action_test_new", args=[flow.pk])
    text = staff_client.post(url, form_data(flow, url=f"{httpbin_url}/get", kind="HTTP/SEND_REQUEST")).text
    assert "Copy as cURL" in text
    assert "test-history" not in text
    assert not TestRun.objects.exists()


def test_a_form_that_does_not_validate_is_not_kept(staff_client, flow, action):
    staff_client.post(url_of_test(action), form_data(flow, url="ftp://x"), headers=HTMX)
    assert not TestRun.objects.exists()


def test_the_history_keeps_the_last_twenty(staff_client, flow, action, httpbin_url, allow_loopback):
    old = make_runs(action, HISTORY_SIZE + 2)
    staff_client.post(url_of_test(action), form_data(flow, url=f"{httpbin_url}/get"), headers=HTMX)
    kept = list(action.test_runs.all())
    assert len(kept) == HISTORY_SIZE == 20
    assert kept[0].url == f"{httpbin_url}/get"
    assert {run.pk for run in kept[1:]} == {run.pk for run in old[-19:]}
    page = staff_client.get(reverse("actions:action_edit", args=[flow.pk, action.pk])).text
    assert page.count('<input type="checkbox" name="run"') == 20


def test_the_editor_lists_the_history(staff_client, flow, action):
    make_runs(action, 1)
    TestRun.objects.create(
        action=action,
        error_code="timeout",
        error_message="Too slow.",
        url="https://x.test/slow",
        method="GET",
        duration_ms=30001.2,
    )
    TestRun.objects.filter(error_code="timeout").update(created=datetime(2026, 12, 3, 17, 53, 25, tzinfo=UTC))
    page = staff_client.get(reverse("actions:action_edit", args=[flow.pk, action.pk])).text
    assert '<h2 id="history-heading">History</h2>' in page
    assert '<span class="badge status-2xx">200</span>' in page
    assert '<span class="badge failure" title="Too slow.">timeout</span>' in page
    # The project's formats (actions/templatetags/timefmt.py): a moment with its zone, a readable length.
    assert '<td class="num nowrap">30.0 s</td>' in page
    assert '<td class="nowrap"><time datetime="2026-12-03T17:53:25+00:00" title="' in page
    assert ">3\u00a0Dec\u00a02026, 17:53:25\u00a0UTC</time></td>" in page
    assert "<code>GET https://x.test/slow</code>" in page
    other = Action.objects.create(
        flow=flow, action_id="fresh", type="HTTP", action="SEND_REQUEST", params={"url": "https://x.test/"}
    )
    fresh = staff_client.get(reverse("actions:action_edit", args=[flow.pk, other.pk])).text
    assert "No tests yet." in fresh
    assert (
        "History"
        not in staff_client.get(reverse("actions:action_create", args=[flow.pk, "HTTP", "SEND_REQUEST"])).text
    )


def test_reopen_shows_the_stored_run(staff_client, flow, action, httpbin_url, allow_loopback):
    connection = make_connection("crm", "BEARER", {"token": "tok_SENTINEL"})
    data = form_data(flow, url=f"{httpbin_url}/anything?x=1", connection_id=str(connection.pk))
    fresh = staff_client.post(url_of_test(action), data, headers=HTMX).text
    test_run = TestRun.objects.get()
    text = staff_client.get(run_url(test_run), headers=HTMX).text
    assert '<p class="reopened muted">Test of <time' in text
    assert '<span class="badge status-2xx">200</span>' in text
    assert f"<dt>Final URL</dt><dd><code>{httpbin_url}/anything?x=1</code></dd>" in text
    assert curl_of(text) == curl_of(fresh)
    assert pre_texts(text, "json") == pre_texts(fresh, "json")
    assert "Bearer ********" in text
    assert "tok_SENTINEL" not in text


def test_reopen_a_failed_run(staff_client, flow, action):
    staff_client.post(url_of_test(action), form_data(flow, url="http://127.0.0.1:9/admin"), headers=HTMX)
    test_run = TestRun.objects.get()
    assert (test_run.error_code, test_run.status, test_run.output) == ("blocked_destination", None, None)
    text = staff_client.get(run_url(test_run)).text
    assert "<code>blocked_destination</code>" in text
    assert "the action failed, so a flow would stop here" in text


def test_mask_output_is_honoured_by_the_history(staff_client, flow, action, httpbin_url, allow_loopback):
    data = form_data(flow, url=f"{httpbin_url}/anything?card=4242", mask_output="on")
    fresh = staff_client.post(url_of_test(action), data, headers=HTMX).text
    assert "&quot;card&quot;" in fresh
    test_run = TestRun.objects.get()
    assert (test_run.output, test_run.status, test_run.success) == ("masked", 200, True)
    text = staff_client.get(run_url(test_run)).text
    assert 'Mask output was on: the history keeps "masked" instead of the output.' in text
    assert '<span class="badge status-2xx">200</span>' in text


def test_a_very_large_output_is_not_kept(staff_client, flow, action, httpserver, allow_loopback):
    httpserver.expect_request("/big").respond_with_json({"items": ["x" * 1000] * 300})
    text = staff_client.post(
        url_of_test(action), form_data(flow, url=httpserver.url_for("/big")), headers=HTMX
    ).text
    assert "&quot;items&quot;" in text
    test_run = TestRun.objects.get()
    assert test_run.truncated and test_run.output is None
    assert test_run.size_bytes > 256 * 1024
    reopened = staff_client.get(run_url(test_run)).text
    assert "The output was too large to keep in the history" in reopened
    assert "Copy as cURL" in reopened


def test_compare_renders_both_runs_and_a_diff(staff_client, flow, action, httpbin_url, allow_loopback):
    for code in ("200", "418"):
        staff_client.post(
            url_of_test(action), form_data(flow, url=f"{httpbin_url}/status/{code}"), headers=HTMX
        )
    first, second = TestRun.objects.order_by("created", "pk")
    text = staff_client.get(compare_url(action), {"run": [second.pk, first.pk]}, headers=HTMX).text
    assert '<h3 id="compare-heading">Two tests compared</h3>' in text
    assert text.count('<section class="compare-side">') == 2
    # Older on the left.
    assert text.index('<span class="badge status-2xx">200</span>') < text.index(
        '<span class="badge status-4xx">418</span>'
    )
    assert f"<code>GET {httpbin_url}/status/200</code>" in text
    assert '<span class="diff-del">-  &quot;status&quot;: 200,</span>' in text
    assert '<span class="diff-add">+  &quot;status&quot;: 418,</span>' in text
    assert f"(#{first.pk})" in text and f"(#{second.pk})" in text


def test_compare_of_identical_outputs(staff_client, flow, action):
    first, second = make_runs(action, 2)
    TestRun.objects.filter(pk=second.pk).update(output=first.output)
    text = staff_client.get(compare_url(action), {"run": [first.pk, second.pk]}).text
    assert "The two outputs are identical." in text


def test_compare_needs_two_runs_of_this_action(staff_client, flow, action):
    first, second, third = make_runs(action, 3)
    other = Action.objects.create(flow=flow, action_id="other", type="HTTP", action="SEND_REQUEST", params={})
    [stray] = make_runs(other, 1)
    assert "Tick two tests in the history to compare them." in staff_client.get(compare_url(action)).text
    for runs in ([first.pk], [first.pk, second.pk, third.pk]):
        text = staff_client.get(compare_url(action), {"run": runs}).text
        assert "Tick exactly two tests in the history to compare them." in text
    text = staff_client.get(compare_url(action), {"run": [first.pk, stray.pk]}).text
    assert "That test is no longer in the history." in text
    assert 'class="compare-side"' not in text


# --- Secrets ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["connection", "typed header"])
def test_c23_a_stored_run_never_holds_the_token(staff_client, flow, action, httpbin_url, allow_loopback, how):
    if how == "connection":
        connection = make_connection("crm", "BEARER", {"token": "tok_SENTINEL"})
        data = form_data(flow, url=f"{httpbin_url}/anything", connection_id=str(connection.pk))
    else:
        data = form_data(
            flow,
            url=f"{httpbin_url}/anything",
            headers_key=["Authorization"],
            headers_value=["Bearer tok_SENTINEL"],
        )
    text = staff_client.post(url_of_test(action), data, headers=HTMX).text
    test_run = TestRun.objects.get()
    stored = json.dumps([test_run.output, test_run.meta, test_run.url, test_run.error_message])
    assert "tok_SENTINEL" not in stored
    assert "Bearer ********" in json.dumps(test_run.meta)
    # httpbin echoes the request headers in its body: the echo is masked too.
    assert test_run.output["body"]["headers"]["Authorization"] == "Bearer ********"
    for shown in (text, staff_client.get(run_url(test_run)).text):
        assert "tok_SENTINEL" not in shown
        assert "Bearer ********" in curl_of(shown)


def test_a_basic_auth_password_is_never_stored(staff_client, flow, action, httpbin_url, allow_loopback):
    data = form_data(
        flow,
        url=f"{httpbin_url}/basic-auth/ada/pass_SENTINEL",
        basic_enabled="on",
        basic_username="ada",
        basic_password="pass_SENTINEL",
    )
    staff_client.post(url_of_test(action), data, headers=HTMX)
    test_run = TestRun.objects.get()
    assert test_run.status == 200
    stored = json.dumps([test_run.output, test_run.meta, test_run.url])
    assert "pass_SENTINEL" not in stored
    assert "Basic ********" in stored
