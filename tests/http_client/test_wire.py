"""What the upstream receives (DESIGN §4.1): URL and query encoding, headers, bodies."""

import json

import pytest

from actions import ssrf
from actions.http_client import OutboundError, OutboundRequest, normalize_url, send
from tests.http_client.servers import read_request, reply
from vault.secrets import Secret


def head_lines(raw: bytes) -> list[str]:
    return raw.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")


def header_lines(raw: bytes, name: str) -> list[str]:
    return [line for line in head_lines(raw)[1:] if line.split(":", 1)[0].lower() == name.lower()]


@pytest.fixture
def recorder(allow_loopback, raw_server):
    return raw_server(reply("200 OK", [("Content-Length", "0")]))


def test_c01_repeated_keys_with_brackets_are_sent_in_order(httpserver, up):
    httpserver.expect_request("/search").respond_with_data("ok")
    send(
        OutboundRequest(
            "GET", up("/search"), query=[("tags[]", "financial"), ("tags[]", "investment")], timeout=5
        )
    )
    request = httpserver.log[-1][0]
    assert request.query_string == b"tags%5B%5D=financial&tags%5B%5D=investment"
    assert request.args.getlist("tags[]") == ["financial", "investment"]


def test_c02_unicode_in_url_and_plus_in_params_decode_exactly(httpserver, up):
    httpserver.expect_request("/q").respond_with_data("ok")
    url = up("/q") + "?q=русский-текст"
    send(OutboundRequest("GET", url, query=[("email", "user+tag@example.com"), ("name", "grün")], timeout=5))
    request = httpserver.log[-1][0]
    assert request.args["q"] == "русский-текст"
    assert request.args["email"] == "user+tag@example.com"
    assert request.args["name"] == "grün"
    assert b"email=user%2Btag%40example.com" in request.query_string


def test_param_values_are_encoded_exactly_once(recorder):
    send(OutboundRequest("GET", recorder.url("/p?x=%41"), query=[("v", "FOO%3D"), ("s", "a b")], timeout=5))
    assert head_lines(recorder.requests[-1])[0] == "GET /p?x=%41&v=FOO%253D&s=a%20b HTTP/1.1"


def test_url_is_sent_as_typed_except_illegal_characters(recorder):
    url = recorder.url('/a b/ü/[x]/%7e?q="q"&r=^|#fragment')
    send(OutboundRequest("GET", "  " + url + "\n", timeout=5))
    assert head_lines(recorder.requests[-1])[0] == "GET /a%20b/%C3%BC/[x]/%7e?q=%22q%22&r=%5E%7C HTTP/1.1"


def test_c11_user_headers_replace_defaults_and_keep_their_spelling(recorder):
    headers = [
        ("accept", "application/xml"),
        ("content-type", "application/vnd.api+json"),
        ("X-Case", "Value"),
    ]
    body = json.dumps({"data": {"type": "things"}}).encode()
    send(OutboundRequest("POST", recorder.url("/"), headers=headers, body=body, timeout=5))
    raw = recorder.requests[-1]
    assert header_lines(raw, "accept") == ["accept: application/xml"]
    assert header_lines(raw, "content-type") == ["content-type: application/vnd.api+json"]
    assert header_lines(raw, "x-case") == ["X-Case: Value"]
    assert header_lines(raw, "content-length") == [f"Content-Length: {len(body)}"]
    assert raw.endswith(body)


def test_defaults_are_sent_once(recorder):
    send(OutboundRequest("GET", recorder.url("/"), timeout=5))
    raw = recorder.requests[-1]
    assert len(header_lines(raw, "user-agent")) == 1
    assert header_lines(raw, "accept") == ["Accept: */*"]
    assert header_lines(raw, "host") == [f"Host: 127.0.0.1:{recorder.port}"]
    assert header_lines(raw, "content-length") == []


def test_typed_framing_headers_cannot_desynchronise_the_body(recorder):
    headers = [("Content-Length", "999"), ("Transfer-Encoding", "chunked")]
    send(OutboundRequest("POST", recorder.url("/"), headers=headers, body=b"abc", timeout=5))
    raw = recorder.requests[-1]
    assert header_lines(raw, "content-length") == ["Content-Length: 3"]
    assert header_lines(raw, "transfer-encoding") == []


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_get_and_delete_send_no_body_unless_one_is_set(recorder, method):
    send(OutboundRequest(method, recorder.url("/"), timeout=5))
    raw = recorder.requests[-1]
    assert header_lines(raw, "content-length") == []
    assert raw.endswith(b"\r\n\r\n")


def test_c09_delete_with_a_body_sends_it(recorder):
    body = b'{"ids":[1,2]}'
    headers = [("Content-Type", "application/json")]
    send(OutboundRequest("DELETE", recorder.url("/items"), headers=headers, body=body, timeout=5))
    raw = recorder.requests[-1]
    assert head_lines(raw)[0].startswith("DELETE /items ")
    assert header_lines(raw, "content-type") == ["Content-Type: application/json"]
    assert header_lines(raw, "content-length") == ["Content-Length: 13"]
    assert raw.endswith(body)


def test_post_without_body_sends_content_length_zero(recorder):
    send(OutboundRequest("POST", recorder.url("/"), timeout=5))
    assert header_lines(recorder.requests[-1], "content-length") == ["Content-Length: 0"]


def test_meta_request_lists_every_header_sent_with_secrets_masked(recorder):
    token = Secret("Bearer tok_SENTINEL", display="Bearer ********", sensitive=("tok_SENTINEL",))
    request = OutboundRequest(
        "POST",
        recorder.url("/r"),
        headers=[("Authorization", token), ("X-Trace", "t1")],
        query=[("api_key", Secret("key_SENTINEL")), ("page", "2")],
        body=b'{"a": 1}',
        timeout=5,
    )
    meta = send(request).meta
    sent = dict((name.lower(), value) for name, value in meta["request"]["headers"])
    assert sent["authorization"] == "Bearer ********"
    assert sent["x-trace"] == "t1"
    assert {"host", "user-agent", "accept", "accept-encoding", "content-length"} <= set(sent)
    assert meta["request"]["method"] == "POST"
    assert meta["request"]["url"] == recorder.url("/r?api_key=********&page=2")
    assert meta["request"]["body"] == '{"a": 1}'
    assert meta["final_url"] == recorder.url("/r?api_key=********&page=2")
    assert "SENTINEL" not in json.dumps(meta)
    assert b"api_key=key_SENTINEL&page=2" in recorder.requests[-1]
    assert b"Authorization: Bearer tok_SENTINEL" in recorder.requests[-1]


def test_proxy_environment_variables_are_ignored(recorder, monkeypatch, tmp_path):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login u password pass_SENTINEL\n")
    monkeypatch.setenv("NETRC", str(netrc))
    output = send(OutboundRequest("GET", recorder.url("/"), timeout=5)).output
    assert output["status"] == 200
    assert header_lines(recorder.requests[-1], "authorization") == []


@pytest.mark.parametrize(
    "name_value",
    [("X-Evil", "a\r\nInjected: yes"), ("X-Evil", "a\nb"), ("Bad Name", "x"), ("", "x")],
)
def test_header_injection_is_refused_before_sending(recorder, name_value):
    with pytest.raises(OutboundError) as caught:
        send(OutboundRequest("GET", recorder.url("/"), headers=[name_value], timeout=5))
    assert caught.value.code == "invalid_request"
    assert recorder.accepted == 0


def test_secret_header_with_line_break_is_refused_without_showing_it(recorder):
    evil = Secret("key_SENTINEL\r\nX-Injected: 1")
    with pytest.raises(OutboundError) as caught:
        send(OutboundRequest("GET", recorder.url("/"), headers=[("X-Api-Key", evil)], timeout=5))
    assert caught.value.code == "invalid_request"
    assert "SENTINEL" not in caught.value.message
    assert recorder.accepted == 0


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("  https://Example.COM/Path?Q=1#frag  ", "https://example.com/Path?Q=1"),
        ("http://example.com/a b?x=ü", "http://example.com/a%20b?x=%C3%BC"),
        ("http://example.com/%41%zz", "http://example.com/%41%25zz"),
        ('http://example.com/"<>\\^`{|}', "http://example.com/%22%3C%3E%5C%5E%60%7B%7C%7D"),
        ("http://bücher.example/", "http://xn--bcher-kva.example/"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
        ("http://example.com:8080", "http://example.com:8080"),
        ("http://example.com/?tags[]=a&b=c/d", "http://example.com/?tags[]=a&b=c/d"),
    ],
)
def test_normalize_url(url, expected):
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("", "empty"),
        ("example.com/path", "http:// or https://"),
        ("ftp://example.com/", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("http:example.com", "no host"),
        ("http:///path", "no host"),
        ("http://user:pass@example.com/", "user name or password"),
        ("http://example.com\\@evil.test/", "user name or password"),
        ("http://example.com:0/", "port"),
        ("http://example.com:99999/", "port"),
        ("http://example.com:abc/", "host or port"),
        ("http://exa mple.com/", "host name"),
        ("http://example.com/\r\nX: y", "control character"),
        ("http://[::1%25eth0]/", "IPv6"),
    ],
)
def test_normalize_url_refuses_and_says_why(url, says):
    with pytest.raises(OutboundError) as caught:
        normalize_url(url)
    assert caught.value.code == "invalid_request"
    assert says in caught.value.message


def test_unknown_method_is_refused():
    with pytest.raises(OutboundError) as caught:
        send(OutboundRequest("TRACE", "http://example.com/"))
    assert caught.value.code == "invalid_request"


def test_keep_alive_connections_are_reused_and_each_request_is_still_checked(
    fake_dns, settings, monkeypatch, raw_server
):
    def keep_alive(conn, server):
        conn.settimeout(0.5)
        while not server.stopped.is_set():
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            request = read_request(conn)
            if not request:
                return
            server.requests.append(request)

    server = raw_server(keep_alive)
    lookups = []
    monkeypatch.setattr(ssrf, "_resolve", lambda host, port: lookups.append(host) or ["127.0.0.1"])
    settings.FLOWS_OUTBOUND_ALLOWLIST = ["127.0.0.1"]
    url = server.url("/k?tags[]=a", host="keep.test")
    results = [send(OutboundRequest("GET", url, timeout=5)) for _ in range(3)]
    assert [r.output["body"] for r in results] == ["ok", "ok", "ok"]
    assert server.accepted == 1
    assert lookups == ["keep.test"] * 3
    assert "connect_ms" in results[0].meta["timings"]
    assert "connect_ms" not in results[2].meta["timings"]
    assert all(head_lines(raw)[0] == "GET /k?tags[]=a HTTP/1.1" for raw in server.requests)


def test_configured_proxy_is_used_and_the_guard_still_applies(fake_dns, settings, raw_server):
    proxy = raw_server(reply("200 OK", [("Content-Length", "7")], b"proxied"))
    settings.FLOWS_HTTP_PROXY = proxy.url("").rstrip("/")
    fake_dns["public.test"] = ["93.184.216.34"]
    fake_dns["private.test"] = ["10.0.0.5"]
    output = send(OutboundRequest("GET", "http://public.test/x?q=1", timeout=5)).output
    assert output["body"] == "proxied"
    assert head_lines(proxy.requests[-1])[0] == "GET http://public.test/x?q=1 HTTP/1.1"
    assert header_lines(proxy.requests[-1], "host") == ["Host: public.test"]
    with pytest.raises(OutboundError) as caught:
        send(OutboundRequest("GET", "http://private.test/", timeout=5))
    assert caught.value.code == "blocked_destination"
    assert proxy.accepted == 1
