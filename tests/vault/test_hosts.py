import pytest

from vault.hosts import normalize_host


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("API.Example.COM", "api.example.com"),
        ("example.com.", "example.com"),
        (" localhost ", "localhost"),
        ("10.0.0.1", "10.0.0.1"),
        ("[2001:DB8::1]", "2001:db8::1"),
        ("2001:db8:0:0:0:0:0:1", "2001:db8::1"),
        ("bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_it_normalizes_host_names_and_addresses(value, expected):
    assert normalize_host(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "bad_host",
        "a b.com",
        "http://x.com",
        "x.com/path",
        "-x.com",
        "a..b",
        "10.1",
        "1.2.3.4.5",
        "x" * 64 + ".com",
    ],
)
def test_it_refuses_what_is_not_a_host(value):
    with pytest.raises(ValueError, match="not a host name"):
        normalize_host(value)
