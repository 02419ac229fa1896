"""Secrets never leave the wire request: not in logs (C22), outputs, meta or errors."""

import base64
import logging
import traceback

import pytest

from actions.http_client import OutboundError, OutboundRequest, send
from tests.http_client.servers import reply
from vault.secrets import MASK, Secret

BASIC = base64.b64encode(b"user:pass_SENTINEL").decode()
SENTINELS = ("tok_SENTINEL", "key_SENTINEL", "pass_SENTINEL", BASIC)


def secret_request(url: str, **kwargs) -> OutboundRequest:
    return OutboundRequest(
        "GET",
        url,
        headers=[
            (
                "Authorization",
                Secret(f"Basic {BASIC}", display=f"Basic {MASK}", sensitive=("pass_SENTINEL", BASIC)),
            ),
            (
                "X-Upstream-Token",
                Secret("Bearer tok_SENTINEL", display=f"Bearer {MASK}", sensitive=("tok_SENTINEL",)),
            ),
        ],
        query=[("api_key", Secret("key_SENTINEL")), ("page", "1")],
        timeout=2,
        **kwargs,
    )


def assert_clean(text: str) -> None:
    for sentinel in SENTINELS:
        assert sentinel not in text


@pytest.fixture
def every_logger_at_debug(caplog):
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    yield caplog
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def all_log_text(caplog) -> str:
    """Every record, formatted with its traceback, except the in-process test upstream's access log."""
    formatter = logging.Formatter("%(name)s %(message)s")
    return "\n".join(formatter.format(r) for r in caplog.records if not r.name.startswith("werkzeug"))


def test_c22_no_secret_in_logs_against_a_401(allow_loopback, raw_server, every_logger_at_debug):
    server = raw_server(
        reply("401 Unauthorized", [("Content-Type", "application/json"), ("Content-Length", "2")], b"{}")
    )
    result = send(secret_request(server.url("/private")))
    assert result.output["status"] == 401
    assert b"api_key=key_SENTINEL" in server.requests[-1]
    text = all_log_text(every_logger_at_debug)
    assert "api_key=********" in text  # urllib3 did log the request target, masked
    assert_clean(text)
    assert_clean(repr(result))


def test_c22_no_secret_in_logs_or_errors_when_the_request_fails(
    allow_loopback, raw_server, every_logger_at_debug
):
    server = raw_server(reply("200 OK", []))
    url = server.url("/gone")
    server.stop()
    with pytest.raises(OutboundError) as caught:
        send(secret_request(url))
    error = caught.value
    assert error.code == "connection_error"
    assert_clean(all_log_text(every_logger_at_debug))
    assert_clean(str(error) + repr(error) + error.message + repr(error.meta))
    assert_clean("".join(traceback.format_exception(error)))
    assert error.__context__ is None
    assert error.__cause__ is None


def test_c22_no_secret_through_a_redirect(httpserver, up, every_logger_at_debug):
    from werkzeug import Response

    httpserver.expect_request("/from").respond_with_response(
        Response(status=302, headers={"Location": "/to"})
    )
    httpserver.expect_request("/to").respond_with_data("no", status=401)
    result = send(secret_request(up("/from")))
    assert result.output["status"] == 401
    assert_clean(all_log_text(every_logger_at_debug))
    assert_clean(repr(result.meta))


def test_c23_echoed_secrets_are_masked_in_the_output(allow_loopback, httpbin_url):
    result = send(secret_request(f"{httpbin_url}/anything"))
    body = result.output["body"]
    assert body["headers"]["Authorization"] == f"Basic {MASK}"
    assert body["headers"]["X-Upstream-Token"] == f"Bearer {MASK}"
    assert body["args"] == {"api_key": MASK, "page": "1"}
    assert MASK in body["url"]
    assert_clean(repr(result.output))
    assert_clean(repr(result.meta))
    sent = {name.lower(): value for name, value in result.meta["request"]["headers"]}
    assert sent["authorization"] == f"Basic {MASK}"
    assert sent["x-upstream-token"] == f"Bearer {MASK}"


def test_echoed_secrets_are_masked_in_headers_text_and_binary(allow_loopback, raw_server):
    for content_type in ("text/plain", "application/octet-stream"):
        body = b"token tok_SENTINEL and key key_SENTINEL"
        headers = [
            ("X-Echo", "tok_SENTINEL"),
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
        ]
        server = raw_server(reply("200 OK", headers, body))
        output = send(secret_request(server.url("/"))).output
        assert output["headers"]["x-echo"] == MASK
        assert_clean(repr(output))
        if content_type == "application/octet-stream":
            assert base64.b64decode(output["body"]["base64"]) == b"token ******** and key ********"


def test_secret_objects_stay_masked_in_reprs():
    request = secret_request("http://example.com/")
    assert_clean(repr(request))
