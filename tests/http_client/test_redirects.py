"""Redirects are followed by the client itself (DESIGN §4.1): method rules, credentials, chain, limits."""

import pytest
from werkzeug import Response

from actions.http_client import (
    BLOCKED_MESSAGE,
    BLOCKED_REDIRECT_MESSAGE,
    OutboundError,
    OutboundRequest,
    send,
)
from tests.http_client.servers import reply
from vault.secrets import Secret


def redirect(httpserver, path: str, status: int, location: str) -> None:
    httpserver.expect_request(path).respond_with_response(
        Response(status=status, headers={"Location": location})
    )


def echo(request):
    return Response(
        f"{request.method} {request.headers.get('Content-Type')} {request.get_data(as_text=True)}",
        content_type="text/plain",
    )


@pytest.mark.parametrize(
    ("status", "method", "expected"),
    [
        (307, "POST", "POST application/json {}"),
        (308, "PUT", "PUT application/json {}"),
        (303, "POST", "GET None "),
        (303, "PUT", "GET None "),
        (301, "POST", "GET None "),
        (302, "POST", "GET None "),
        (302, "PUT", "PUT application/json {}"),
        (301, "DELETE", "DELETE application/json {}"),
    ],
)
def test_each_status_rule(httpserver, up, status, method, expected):
    redirect(httpserver, "/from", status, "/to")
    httpserver.expect_request("/to").respond_with_handler(echo)
    request = OutboundRequest(
        method, up("/from"), headers=[("Content-Type", "application/json")], body=b"{}", timeout=5
    )
    result = send(request)
    assert result.output["body"] == expected
    assert result.meta["redirects"] == [{"status": status, "url": up("/from")}]
    assert result.meta["final_url"] == up("/to")


def test_head_stays_head_after_303(httpserver, up):
    redirect(httpserver, "/from", 303, "/to")
    httpserver.expect_request("/to", method="HEAD").respond_with_data("")
    assert send(OutboundRequest("HEAD", up("/from"), timeout=5)).output["status"] == 200


def test_chain_is_recorded_and_relative_locations_resolve(httpserver, up):
    redirect(httpserver, "/a", 301, "/b?x=1")
    redirect(httpserver, "/b", 302, "c")
    redirect(httpserver, "/c", 307, up("/done"))
    httpserver.expect_request("/done").respond_with_json({"ok": True})
    result = send(OutboundRequest("GET", up("/a"), timeout=5))
    assert result.output == {
        "headers": result.output["headers"],
        "body": {"ok": True},
        "status": 200,
        "success": True,
    }
    assert result.meta["redirects"] == [
        {"status": 301, "url": up("/a")},
        {"status": 302, "url": up("/b?x=1")},
        {"status": 307, "url": up("/c")},
    ]
    assert result.meta["final_url"] == up("/done")


def test_too_many_redirects(httpserver, up):
    for i in range(4):
        redirect(httpserver, f"/r{i}", 302, f"/r{i + 1}")
    httpserver.expect_request("/r4").respond_with_data("end")
    with pytest.raises(OutboundError) as caught:
        send(OutboundRequest("GET", up("/r0"), max_redirects=3, timeout=5))
    assert caught.value.code == "too_many_redirects"
    assert len(caught.value.meta["redirects"]) == 4
    assert send(OutboundRequest("GET", up("/r0"), max_redirects=4, timeout=5)).output["body"] == "end"


def test_redirect_loop_ends_with_too_many_redirects(httpserver, up):
    redirect(httpserver, "/loop", 302, "/loop")
    with pytest.raises(OutboundError) as caught:
        send(OutboundRequest("GET", up("/loop"), timeout=5))
    assert caught.value.code == "too_many_redirects"
    assert len(caught.value.meta["redirects"]) == 6


def test_follow_redirects_off_returns_the_3xx(httpserver, up):
    redirect(httpserver, "/from", 302, "/to")
    output = send(OutboundRequest("GET", up("/from"), follow_redirects=False, timeout=5)).output
    assert output["status"] == 302
    assert output["headers"]["location"] == "/to"
    assert output["success"] is False


def test_redirect_to_another_scheme_is_refused(httpserver, up):
    redirect(httpserver, "/from", 302, "ftp://up.test/file")
    with pytest.raises(OutboundError) as caught:
        send(OutboundRequest("GET", up("/from"), timeout=5))
    assert caught.value.code == "invalid_request"


def credentials_request(url: str) -> OutboundRequest:
    return OutboundRequest(
        "GET",
        url,
        headers=[
            (
                "Authorization",
                Secret("Bearer tok_SENTINEL", display="Bearer ********", sensitive=("tok_SENTINEL",)),
            ),
            ("Cookie", "sid=1"),
            ("X-Api-Key", Secret("key_SENTINEL")),
            ("X-Plain", "kept"),
            ("Host", "vhost.example"),
        ],
        query=[("api_key", Secret("key_SENTINEL"))],
        timeout=5,
    )


def test_cross_host_hop_drops_credentials_and_secret_query(httpserver, up, fake_dns, settings, raw_server):
    other = raw_server(reply("200 OK", [("Content-Length", "2")], b"ok"))
    fake_dns["other.test"] = ["127.0.0.1"]
    settings.FLOWS_OUTBOUND_ALLOWLIST = ["up.test", "other.test"]
    redirect(httpserver, "/from", 302, other.url("/landing?page=1", host="other.test"))
    result = send(credentials_request(up("/from")))
    assert result.output["body"] == "ok"
    first = httpserver.log[-1][0]
    assert first.headers["Authorization"] == "Bearer tok_SENTINEL"
    assert first.args["api_key"] == "key_SENTINEL"
    wire = other.requests[-1].decode("latin-1")
    assert wire.startswith("GET /landing?page=1 HTTP/1.1")
    assert "SENTINEL" not in wire
    assert "authorization" not in wire.lower()
    assert "cookie" not in wire.lower()
    assert "X-Plain: kept" in wire
    assert f"Host: other.test:{other.port}" in wire
    assert first.headers["Host"] == "vhost.example"


def test_same_origin_hop_keeps_credentials(httpserver, up):
    redirect(httpserver, "/from", 302, "/to")
    httpserver.expect_request("/to").respond_with_data("ok")
    send(credentials_request(up("/from")))
    second = httpserver.log[-1][0]
    assert second.path == "/to"
    assert second.headers["Authorization"] == "Bearer tok_SENTINEL"
    assert second.headers["X-Api-Key"] == "key_SENTINEL"
    assert second.headers["Cookie"] == "sid=1"
    assert "api_key" not in second.args


def test_port_change_counts_as_another_origin(httpserver, up, raw_server):
    other = raw_server(reply("200 OK", [("Content-Length", "0")]))
    redirect(httpserver, "/from", 307, other.url("/x", host="up.test"))
    send(credentials_request(up("/from")))
    assert b"SENTINEL" not in other.requests[-1]


def test_c21_redirect_to_loopback_is_blocked_before_any_request(httpserver, fake_dns, settings, raw_server):
    private = raw_server(reply("200 OK", [("Content-Length", "6")], b"secret"))
    fake_dns["up.test"] = ["127.0.0.1"]
    settings.FLOWS_OUTBOUND_ALLOWLIST = [f"up.test:{httpserver.port}"]
    redirect(httpserver, "/go", 302, private.url("/private"))
    with pytest.raises(OutboundError) as caught:
        send(OutboundRequest("GET", f"http://up.test:{httpserver.port}/go", timeout=5))
    assert caught.value.code == "blocked_destination"
    assert private.accepted == 0
    # The message says a redirect was refused, without the address; the meta shows which hop asked for
    # it and the URL refused, as the upstream wrote it.
    assert caught.value.message == BLOCKED_REDIRECT_MESSAGE
    assert "127.0.0.1" not in caught.value.message
    assert caught.value.meta["redirects"] == [
        {"status": 302, "url": f"http://up.test:{httpserver.port}/go", "blocked": True}
    ]
    assert caught.value.meta["final_url"] == private.url("/private")


def test_redirect_to_a_name_resolving_privately_is_blocked(httpserver, up, fake_dns):
    fake_dns["evil.test"] = ["10.0.0.5"]
    redirect(httpserver, "/go", 301, "http://evil.test/")
    with pytest.raises(OutboundError) as caught:
        send(OutboundRequest("GET", up("/go"), timeout=5))
    assert caught.value.code == "blocked_destination"
    assert caught.value.message == BLOCKED_REDIRECT_MESSAGE
    assert caught.value.meta["final_url"] == "http://evil.test/"
    assert "10.0.0.5" not in repr(caught.value.meta)


def test_a_blocked_hop_after_several_redirects_marks_the_last_one(httpserver, up):
    redirect(httpserver, "/one", 307, "/two")
    redirect(httpserver, "/two", 302, "http://169.254.169.254/latest/meta-data/")
    with pytest.raises(OutboundError) as caught:
        send(OutboundRequest("GET", up("/one"), timeout=5))
    assert caught.value.message == BLOCKED_REDIRECT_MESSAGE
    assert caught.value.meta["redirects"] == [
        {"status": 307, "url": up("/one")},
        {"status": 302, "url": up("/two"), "blocked": True},
    ]


def test_httpbin_redirecting_to_the_metadata_address_says_the_redirect_was_refused(httpbin_url, settings):
    settings.FLOWS_OUTBOUND_ALLOWLIST = ["127.0.0.1"]
    url = f"{httpbin_url}/redirect-to?url=http://169.254.169.254/"
    with pytest.raises(OutboundError) as caught:
        send(OutboundRequest("GET", url, timeout=5))
    assert (caught.value.code, caught.value.message) == ("blocked_destination", BLOCKED_REDIRECT_MESSAGE)
    assert caught.value.meta["redirects"] == [{"status": 302, "url": url, "blocked": True}]


def test_a_blocked_url_without_redirect_keeps_the_plain_message(fake_dns):
    with pytest.raises(OutboundError) as caught:
        send(OutboundRequest("GET", "http://169.254.169.254/", timeout=5))
    assert (caught.value.code, caught.value.message) == ("blocked_destination", BLOCKED_MESSAGE)
    assert caught.value.meta["redirects"] == []


def test_secret_echoed_in_location_is_masked_in_the_chain(httpserver, up):
    redirect(httpserver, "/from", 302, "/to?echo=key_SENTINEL")
    httpserver.expect_request("/to").respond_with_data("ok")
    result = send(OutboundRequest("GET", up("/from"), query=[("k", Secret("key_SENTINEL"))], timeout=5))
    assert result.meta["redirects"] == [{"status": 302, "url": up("/from?k=********")}]
    assert result.meta["final_url"] == up("/to?echo=********")
