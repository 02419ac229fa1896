"""The output object (DESIGN §4.2): C13, C14, C17, C18 and empty bodies, against real local servers."""

import base64
import json
import struct
import zlib

import pytest
from werkzeug import Response

from actions.http_client import OutboundError, OutboundRequest, failure_output, send
from tests.http_client.servers import reply


def get(url: str, **kwargs) -> dict:
    return send(OutboundRequest("GET", url, timeout=5, **kwargs)).output


def test_output_has_exactly_the_four_keys(httpserver, up):
    httpserver.expect_request("/ok").respond_with_json({"a": 1})
    output = get(up("/ok"))
    assert set(output) == {"headers", "body", "status", "success"}
    assert output["status"] == 200
    assert output["success"] is True
    assert output["body"] == {"a": 1}
    assert output["headers"]["content-type"] == "application/json"


def test_c13a_204_json_without_body_is_null(httpserver, up):
    httpserver.expect_request("/gone").respond_with_response(
        Response(status=204, content_type="application/json")
    )
    output = get(up("/gone"))
    assert output["status"] == 204
    assert output["body"] is None
    assert output["success"] is True


def test_c13b_json_with_content_length_zero_is_null(httpserver, up):
    httpserver.expect_request("/empty").respond_with_data(b"", content_type="application/json")
    output = get(up("/empty"))
    assert output["headers"]["content-length"] == "0"
    assert output["body"] is None


def test_c13c_json_keeps_html_in_strings(httpserver, up):
    httpserver.expect_request("/say").respond_with_json({"say": "<script></script>"})
    assert get(up("/say"))["body"] == {"say": "<script></script>"}


def test_c13d_html_page_is_text(httpserver, up):
    page = "<html><body>Down for maintenance — back soon</body></html>"
    httpserver.expect_request("/maint").respond_with_data(
        page, status=503, content_type="text/html; charset=utf-8"
    )
    output = get(up("/maint"))
    assert output["body"] == page
    assert output["status"] == 503
    assert output["success"] is False


def test_c13e_truncated_json_is_the_raw_text(httpserver, up):
    httpserver.expect_request("/cut").respond_with_data('{"a":', content_type="application/json")
    output = get(up("/cut"))
    assert output["body"] == '{"a":'
    assert output["success"] is True


def test_c13f_problem_json_is_parsed(httpserver, up):
    problem = {"type": "about:blank", "title": "Not Found", "status": 404}
    httpserver.expect_request("/p").respond_with_data(
        json.dumps(problem), status=404, content_type="application/problem+json"
    )
    output = get(up("/p"))
    assert output["body"] == problem
    assert output["success"] is False


def test_json_with_utf8_bom_is_parsed(httpserver, up):
    httpserver.expect_request("/bom").respond_with_data(
        "\ufeff" + json.dumps({"name": "grün"}), content_type="application/json"
    )
    assert get(up("/bom"))["body"] == {"name": "grün"}


def test_json_nan_is_not_json(httpserver, up):
    httpserver.expect_request("/nan").respond_with_data('{"x": NaN}', content_type="application/json")
    assert get(up("/nan"))["body"] == '{"x": NaN}'


def test_deeply_nested_json_does_not_crash(httpserver, up):
    deep = "[" * 100_000 + "]" * 100_000
    httpserver.expect_request("/deep").respond_with_data(deep, content_type="application/json")
    assert get(up("/deep"))["body"] == deep


def test_text_uses_the_declared_charset(httpserver, up):
    httpserver.expect_request("/latin").respond_with_data(
        "grün".encode("iso-8859-1"), content_type="text/plain; charset=ISO-8859-1"
    )
    assert get(up("/latin"))["body"] == "grün"


def test_text_without_charset_is_utf8_with_replacement(httpserver, up):
    httpserver.expect_request("/bad").respond_with_data(b"ok \xff", headers={"Content-Type": "text/plain"})
    assert get(up("/bad"))["body"] == "ok \ufffd"


def test_xml_is_text(httpserver, up):
    xml = '<?xml version="1.0"?><order><id>42</id></order>'
    httpserver.expect_request("/x").respond_with_data(xml, content_type="application/xml")
    assert get(up("/x"))["body"] == xml


def test_c14_repeated_set_cookie_is_a_list_of_intact_values(httpserver, up):
    cookies = ["session=abc; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Path=/", "theme=dark; HttpOnly"]
    httpserver.expect_request("/login").respond_with_response(
        Response("ok", headers=[("Set-Cookie", cookies[0]), ("Set-Cookie", cookies[1])])
    )
    output = get(up("/login"))
    assert output["headers"]["set-cookie"] == cookies


def test_repeated_headers_are_joined_and_names_lower_cased(allow_loopback, raw_server):
    server = raw_server(reply("200 OK", [("X-Thing", "a"), ("x-thing", "b"), ("Content-Length", "0")]))
    output = send(OutboundRequest("GET", server.url("/"), timeout=5)).output
    assert output["headers"]["x-thing"] == "a, b"
    assert all(name == name.lower() for name in output["headers"])


def png_67_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )
    return data


def test_c17_binary_body_round_trips(httpserver, up):
    png = png_67_bytes()
    assert len(png) == 67
    httpserver.expect_request("/logo.png").respond_with_data(png, content_type="image/png")
    output = get(up("/logo.png"))
    assert output["body"]["content_type"] == "image/png"
    assert output["body"]["size"] == 67
    assert base64.b64decode(output["body"]["base64"]) == png


def test_octet_stream_and_pdf_are_binary(httpserver, up):
    blob = bytes(range(256))
    httpserver.expect_request("/blob").respond_with_data(blob, content_type="application/octet-stream")
    httpserver.expect_request("/doc").respond_with_data(b"%PDF-1.4 ...", content_type="application/pdf")
    assert base64.b64decode(get(up("/blob"))["body"]["base64"]) == blob
    assert get(up("/doc"))["body"]["content_type"] == "application/pdf"


@pytest.mark.parametrize(
    ("status", "body", "content_type", "expected"),
    [
        (400, json.dumps({"error": "bad email"}), "application/json", {"error": "bad email"}),
        (500, "<h1>Internal Server Error</h1>", "text/html", "<h1>Internal Server Error</h1>"),
        (404, "", "text/plain", None),
    ],
)
def test_c18_error_statuses_are_outputs(httpserver, up, status, body, content_type, expected):
    httpserver.expect_request("/e").respond_with_data(body, status=status, content_type=content_type)
    output = get(up("/e"))
    assert output["status"] == status
    assert output["success"] is False
    assert output["body"] == expected


def test_success_statuses_decide_success(httpserver, up):
    httpserver.expect_request("/nf").respond_with_data("", status=404)
    output = send(OutboundRequest("GET", up("/nf"), timeout=5, success_statuses=frozenset({404}))).output
    assert output["success"] is True


def test_head_has_no_body(httpserver, up):
    httpserver.expect_request("/h", method="HEAD").respond_with_data(
        "", headers={"Content-Length": "5000000000"}
    )
    output = send(OutboundRequest("HEAD", up("/h"), timeout=5)).output
    assert output["status"] == 200
    assert output["body"] is None


def test_c18_connection_refused_fails_with_connection_error(allow_loopback, raw_server):
    server = raw_server(reply("200 OK", []))
    url = server.url("/")
    server.stop()
    with pytest.raises(OutboundError) as caught:
        send(OutboundRequest("GET", url, timeout=5))
    assert caught.value.code == "connection_error"
    assert caught.value.message == "The connection was refused."


def test_c18_unresolvable_name_fails_with_dns_error(fake_dns):
    with pytest.raises(OutboundError) as caught:
        send(OutboundRequest("GET", "http://nowhere.test/", timeout=5))
    assert caught.value.code == "dns_error"
    assert "Traceback" not in caught.value.message
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


def test_failure_output_shape():
    output = failure_output(OutboundError("timeout", "The request did not complete within 2 seconds."))
    assert output == {
        "headers": {},
        "body": None,
        "status": 0,
        "success": False,
        "error": {"code": "timeout", "message": "The request did not complete within 2 seconds."},
    }


def test_meta_records_size_duration_and_timings(httpserver, up):
    httpserver.expect_request("/m").respond_with_data("hello", content_type="text/plain")
    result = send(OutboundRequest("GET", up("/m"), timeout=5))
    assert result.meta["size_bytes"] == 5
    assert result.meta["duration_ms"] > 0
    assert result.meta["attempts"] == 1
    assert result.meta["final_url"] == up("/m")
    assert result.meta["redirects"] == []
    assert set(result.meta["timings"]) == {"connect_ms", "first_byte_ms", "download_ms"}
