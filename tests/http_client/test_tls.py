"""TLS through the pinned address: SNI and certificate checks use the URL's name, failures are tls_error."""

import datetime
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pytest_httpserver import HTTPServer

from actions.http_client import OutboundError, OutboundRequest, send


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject, issuer, public_key, signing_key, *, ca: bool, dns_name: str | None = None):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if dns_name:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A private CA and a server certificate for secure.test signed by it."""
    folder = tmp_path_factory.mktemp("tls")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _certificate(_name("Test CA"), _name("Test CA"), ca_key.public_key(), ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate(
        _name("secure.test"), _name("Test CA"), key.public_key(), ca_key, ca=False, dns_name="secure.test"
    )
    (folder / "ca.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return folder


@pytest.fixture
def tls_server(tls_files):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_files / "server.pem", tls_files / "server.key")
    server_names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.server_names = server_names
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def secure(tls_server, fake_dns, settings):
    fake_dns["secure.test"] = ["127.0.0.1"]
    fake_dns["other.test"] = ["127.0.0.1"]
    settings.FLOWS_OUTBOUND_ALLOWLIST = ["127.0.0.1"]
    return tls_server


def test_unknown_ca_is_a_tls_error(secure):
    with pytest.raises(OutboundError) as caught:
        send(OutboundRequest("GET", f"https://secure.test:{secure.port}/", timeout=2))
    assert caught.value.code == "tls_error"
    assert caught.value.message == "The server's TLS certificate could not be verified."


def test_trusted_ca_bundle_reaches_the_pinned_address_with_the_right_name(secure, settings, tls_files):
    settings.FLOWS_HTTP_CA_BUNDLE = str(tls_files / "ca.pem")
    secure.expect_request("/hello").respond_with_json({"tls": True})
    result = send(OutboundRequest("GET", f"https://secure.test:{secure.port}/hello", timeout=2))
    assert result.output["body"] == {"tls": True}
    assert secure.server_names[-1] == "secure.test"
    assert secure.log[-1][0].headers["Host"] == f"secure.test:{secure.port}"


def test_certificate_for_another_name_is_a_tls_error(secure, settings, tls_files):
    settings.FLOWS_HTTP_CA_BUNDLE = str(tls_files / "ca.pem")
    with pytest.raises(OutboundError) as caught:
        send(OutboundRequest("GET", f"https://other.test:{secure.port}/", timeout=2))
    assert caught.value.code == "tls_error"


def test_tls_to_a_plain_http_server_is_a_tls_error(allow_loopback, httpserver):
    with pytest.raises(OutboundError) as caught:
        send(OutboundRequest("GET", f"https://127.0.0.1:{httpserver.port}/", timeout=2))
    assert caught.value.code == "tls_error"
    assert caught.value.message == "The TLS connection could not be established."
