"""Values masked with `functions.mask(…)` in a body, the URL or a header: the upstream receives the real
value; the request as sent, the output (httpbin echoes the request) and the logs show `********`."""

import json
import logging
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from actions.functions import mask
from tests.http_action.conftest import run_http

# Characters that each place escapes its own way: JSON, form, XML and URL spellings all differ.
PW = 'pass_SENTINEL "<&>+ é/?#%'
MASKED = "{{functions.mask(fields.pw)}}"
SCOPE = {"fields": {"pw": PW, "doc": {"password": PW}}}


def json_body(received) -> str:
    return json.loads(received.body)["password"]


def form_body(received) -> str:
    (value,) = parse_qs(received.body.decode(), strict_parsing=True)["password"]
    return value


def xml_body(received) -> str:
    return ET.fromstring(received.body).find("password").text  # noqa: S314 (the body we built)


def url_path(received) -> str:
    return unquote(urlsplit(received.target).path).removeprefix("/anything/")


def url_query(received) -> str:
    (value,) = parse_qs(urlsplit(received.target).query)["pw"]
    return value


CASES = {
    "JSON object": ({"method": "POST", "payload": {"password": MASKED}}, json_body),
    "JSON text": ({"method": "POST", "payload": f'{{"password": "{MASKED}"}}'}, json_body),
    "JSON text that is one masked object": (
        {"method": "POST", "payload": "{{functions.mask(fields.doc)}}"},
        json_body,
    ),
    "FORM": ({"method": "POST", "content_type": "FORM", "payload": {"password": MASKED}}, form_body),
    "XML text": (
        {"method": "POST", "content_type": "XML", "payload": f"<login><password>{MASKED}</password></login>"},
        xml_body,
    ),
    "XML object": (
        {"method": "POST", "content_type": "XML", "payload": {"login": {"password": MASKED}}},
        xml_body,
    ),
    "URL path": ({"path": f"/anything/{MASKED}"}, url_path),
    "URL query": ({"path": f"/anything?pw={MASKED}"}, url_query),
}


def params_for(base: str, case: dict) -> dict:
    case = dict(case)
    return {"url": base + case.pop("path", "/anything"), **case}


@pytest.mark.parametrize(("case", "received_value"), CASES.values(), ids=CASES.keys())
def test_the_upstream_receives_the_real_value(upstream, case, received_value):
    run = run_http(params_for(upstream.url("").rstrip("/"), case), SCOPE)
    assert not run.failed, run.error
    assert received_value(upstream.last) == PW


@pytest.mark.parametrize(("case", "received_value"), CASES.values(), ids=CASES.keys())
def test_records_and_echoes_show_the_mask(httpbin_url, allow_loopback, caplog, case, received_value):
    caplog.set_level(logging.DEBUG)
    run = run_http(params_for(httpbin_url, case), SCOPE)
    assert run.output["status"] == 200
    sent = run.meta["request"]
    assert "********" in (sent["url"] if "path" in case else sent["body"])
    shown = [
        json.dumps([run.output, run.meta]),
        json.dumps([run.output, run.meta], ensure_ascii=False),
        *(record.getMessage() for record in caplog.records),
    ]
    assert [text for text in shown if "SENTINEL" in text] == []


def test_the_echoed_json_body_shows_the_mask(httpbin_url, allow_loopback):
    run = run_http(
        {"url": f"{httpbin_url}/anything", "method": "POST", "payload": {"password": MASKED, "user": "ada"}},
        {"fields": {"pw": "pass_SENTINEL"}},
    )
    body = run.output["body"]
    assert body["json"] == {"password": "********", "user": "ada"}
    assert json.loads(body["data"]) == {"password": "********", "user": "ada"}
    assert run.meta["request"]["body"] == '{"password":"********","user":"ada"}'


def test_a_masked_value_inside_an_object_is_sent_and_masked(upstream, httpbin_url):
    """A variable holding an object with a masked value inside, used in a body and a header."""
    scope = {"vars": {"creds": {"pw": mask("pass_SENTINEL")}}}
    params = {
        "method": "POST",
        "payload": {"creds": "{{vars.creds}}"},
        "headers": [{"key": "X-Creds", "value": "{{vars.creds}}"}],
    }
    run_http({"url": upstream.url("/anything"), **params}, scope)
    assert upstream.last.json() == {"creds": {"pw": "pass_SENTINEL"}}
    assert upstream.last.header("X-Creds") == '{"pw":"pass_SENTINEL"}'
    run = run_http({"url": f"{httpbin_url}/anything", **params}, scope)
    assert ["X-Creds", '{"pw":"********"}'] in run.meta["request"]["headers"]
    assert run.output["body"]["json"] == {"creds": {"pw": "********"}}
    assert "SENTINEL" not in json.dumps([run.output, run.meta])


def test_a_failed_request_records_the_mask(db):
    run = run_http({"url": f"http://10.0.0.5/{MASKED}", "method": "POST", "payload": {"p": MASKED}}, SCOPE)
    assert run.failed and run.error.code == "blocked_destination"
    assert "SENTINEL" not in json.dumps([run.meta, run.error.message])
