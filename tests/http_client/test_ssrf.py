"""The SSRF guard in its default, strict setting (C20), its allowlist, and the system check."""

import ipaddress
import socket

import pytest
from django.core.checks import run_checks

from actions import ssrf
from actions.http_client import BLOCKED_MESSAGE, OutboundError, OutboundRequest, send
from tests.http_client.servers import reply


def blocked(url: str) -> OutboundError:
    with pytest.raises(OutboundError) as caught:
        send(OutboundRequest("GET", url, timeout=2))
    assert caught.value.code == "blocked_destination"
    assert caught.value.message == BLOCKED_MESSAGE
    return caught.value


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:5432/",
        "http://localhost/",
        "http://10.0.0.5/",
        "http://192.168.1.1/",
        "http://[::1]/",
        "http://0.0.0.0:8000/",
        "http://100.64.0.1/",
    ],
)
def test_c20_direct_destinations_are_blocked(fake_dns, url):
    blocked(url)


@pytest.mark.parametrize(
    "url",
    ["http://2130706433/", "http://0x7f.1/", "http://127.1/", "http://017700000001/", "http://0x7f000001/"],
)
def test_numeric_spellings_of_loopback_are_blocked(fake_dns, url):
    blocked(url)


@pytest.mark.parametrize(
    "address",
    [
        "::ffff:127.0.0.1",
        "::ffff:7f00:1",
        "::ffff:10.0.0.5",
        "64:ff9b::a00:5",  # NAT64 of 10.0.0.5
        "64:ff9b::7f00:1",
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::",  # 6to4 of 169.254.169.254
        "2001::1",  # Teredo
        "fe80::1",
        "fd00::5",
        "fd00:ec2::254",
        "ff02::1",
        "::",
        "::7f00:1",
        "100::1",
        "2001:db8::1",
    ],
)
def test_ipv6_forms_are_blocked(fake_dns, address):
    blocked(f"http://[{address}]/")


@pytest.mark.parametrize(
    "address",
    [
        "172.16.0.1",
        "169.254.1.1",
        "198.18.0.1",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.0.8",
        "0.1.2.3",
    ],
)
def test_other_non_public_ipv4_ranges_are_blocked(fake_dns, address):
    blocked(f"http://{address}/")


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700::1111", "64:ff9b::808:808", "2002:808:808::"])
def test_public_addresses_pass_the_guard(address):
    assert not ssrf.is_blocked_address(ipaddress.ip_address(address))


def test_same_message_whatever_listens(fake_dns, raw_server):
    listening = raw_server(reply("200 OK", [("Content-Length", "0")]))
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    open_error = blocked(listening.url("/"))
    closed_error = blocked(f"http://127.0.0.1:{closed_port}/")
    assert open_error.message == closed_error.message
    assert listening.accepted == 0


def test_names_resolving_to_private_addresses_are_blocked(fake_dns):
    fake_dns["evil.test"] = ["10.0.0.5"]
    blocked("http://evil.test/")


def test_a_name_with_one_private_address_among_public_ones_is_blocked(fake_dns):
    fake_dns["rebind.test"] = ["93.184.216.34", "127.0.0.1"]
    blocked("http://rebind.test/")


@pytest.mark.parametrize("host", ["metadata.google.internal", "METADATA.google.internal.", "metadata.goog"])
def test_metadata_names_are_blocked_without_resolving(fake_dns, settings, host):
    settings.FLOWS_OUTBOUND_ALLOWLIST = [host.lower().rstrip("."), "169.254.0.0/16"]
    blocked(f"http://{host}/computeMetadata/v1/")


def test_metadata_address_stays_blocked_even_when_allowlisted(fake_dns, settings):
    settings.FLOWS_OUTBOUND_ALLOWLIST = ["169.254.0.0/16", "fd00::/8"]
    blocked("http://169.254.169.254/latest/meta-data/")
    blocked("http://[fd00:ec2::254]/")
    blocked("http://[::ffff:169.254.169.254]/")


def test_dns_is_resolved_once_per_hop_and_the_checked_address_is_used(
    fake_dns, settings, raw_server, monkeypatch
):
    server = raw_server(reply("200 OK", [("Content-Length", "2")], b"ok"))
    calls = []
    answers = iter([["127.0.0.1"], ["10.0.0.5"]])

    def resolve(host, port):
        calls.append(host)
        return next(answers)

    monkeypatch.setattr(ssrf, "_resolve", resolve)
    settings.FLOWS_OUTBOUND_ALLOWLIST = ["127.0.0.1"]
    output = send(OutboundRequest("GET", server.url("/", host="flip.test"), timeout=2)).output
    assert output["body"] == "ok"
    assert calls == ["flip.test"]
    assert f"Host: flip.test:{server.port}" in server.requests[-1].decode()


def test_allowlist_by_host_name(fake_dns, settings, raw_server):
    server = raw_server(reply("200 OK", [("Content-Length", "0")]))
    fake_dns["internal.test"] = ["127.0.0.1"]
    blocked(server.url("/", host="internal.test"))
    settings.FLOWS_OUTBOUND_ALLOWLIST = ["INTERNAL.test"]
    assert (
        send(OutboundRequest("GET", server.url("/", host="internal.test"), timeout=2)).output["status"] == 200
    )
    blocked(server.url("/"))  # the name is allowed, not its address


def test_allowlist_by_cidr(fake_dns, settings, raw_server):
    server = raw_server(reply("200 OK", [("Content-Length", "0")]))
    settings.FLOWS_OUTBOUND_ALLOWLIST = ["127.0.0.0/8"]
    assert send(OutboundRequest("GET", server.url("/"), timeout=2)).output["status"] == 200
    blocked("http://10.0.0.5/")


def test_allowlist_by_host_and_port(fake_dns, settings, raw_server):
    server = raw_server(reply("200 OK", [("Content-Length", "0")]))
    fake_dns["svc.test"] = ["127.0.0.1"]
    settings.FLOWS_OUTBOUND_ALLOWLIST = [f"svc.test:{server.port}", f"127.0.0.2:{server.port}"]
    assert send(OutboundRequest("GET", server.url("/", host="svc.test"), timeout=2)).output["status"] == 200
    blocked(f"http://svc.test:{server.port + 1}/")
    blocked(server.url("/"))


def test_allowlist_by_ip_and_port(fake_dns, settings, raw_server):
    server = raw_server(reply("200 OK", [("Content-Length", "0")]))
    settings.FLOWS_OUTBOUND_ALLOWLIST = [f"127.0.0.1:{server.port}"]
    assert send(OutboundRequest("GET", server.url("/"), timeout=2)).output["status"] == 200
    blocked(f"http://127.0.0.1:{server.port + 1}/")


def test_allowlisted_ipv6_loopback_is_reached(fake_dns, settings, raw_server):
    server = raw_server(reply("200 OK", [("Content-Length", "2")], b"v6"), host="::1")
    settings.FLOWS_OUTBOUND_ALLOWLIST = [f"[::1]:{server.port}"]
    result = send(OutboundRequest("GET", server.url("/"), timeout=2))
    assert result.output["body"] == "v6"
    assert f"Host: [::1]:{server.port}" in server.requests[-1].decode()


def test_allowlist_is_read_when_sending(fake_dns, settings, raw_server):
    server = raw_server(reply("200 OK", [("Content-Length", "0")]))
    settings.FLOWS_OUTBOUND_ALLOWLIST = ["127.0.0.1"]
    assert send(OutboundRequest("GET", server.url("/"), timeout=2)).output["status"] == 200
    settings.FLOWS_OUTBOUND_ALLOWLIST = []
    blocked(server.url("/"))


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("api.internal", ssrf.AllowEntry("api.internal", None, None)),
        ("api.internal:8443", ssrf.AllowEntry("api.internal", None, 8443)),
        ("10.1.2.3", ssrf.AllowEntry(None, ipaddress.ip_network("10.1.2.3/32"), None)),
        ("10.1.2.3:8080", ssrf.AllowEntry(None, ipaddress.ip_network("10.1.2.3/32"), 8080)),
        ("10.0.0.0/8", ssrf.AllowEntry(None, ipaddress.ip_network("10.0.0.0/8"), None)),
        ("::1", ssrf.AllowEntry(None, ipaddress.ip_network("::1/128"), None)),
        ("[fd00::1]:8080", ssrf.AllowEntry(None, ipaddress.ip_network("fd00::1/128"), 8080)),
        ("fd00::/8", ssrf.AllowEntry(None, ipaddress.ip_network("fd00::/8"), None)),
        ("host:notaport", None),
        ("10.0.0.0/33", None),
        ("bad host", None),
        ("svc.test:70000", None),
    ],
)
def test_parse_allow_entry(entry, expected):
    assert ssrf.parse_allow_entry(entry) == expected


def test_system_check_warns_about_an_allowlist_in_production(settings):
    settings.DEBUG = False
    settings.FLOWS_OUTBOUND_ALLOWLIST = ["10.0.0.0/8"]
    ids = [m.id for m in run_checks(tags=["security"])]
    assert "actions.W801" in ids
    settings.DEBUG = True
    assert "actions.W801" not in [m.id for m in run_checks(tags=["security"])]
    settings.DEBUG = False
    settings.FLOWS_OUTBOUND_ALLOWLIST = []
    assert "actions.W801" not in [m.id for m in run_checks(tags=["security"])]


def test_system_check_reports_malformed_entries(settings):
    settings.FLOWS_OUTBOUND_ALLOWLIST = ["10.0.0.0/33", "ok.internal"]
    errors = [m for m in run_checks(tags=["security"]) if m.id == "actions.E801"]
    assert len(errors) == 1
    assert "10.0.0.0/33" in errors[0].msg
    assert "ok.internal" not in errors[0].msg
