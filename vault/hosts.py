"""Host names as a connection's `allowed_hosts` stores and compares them."""

import ipaddress
import re

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def normalize_host(value: str) -> str:
    """The canonical spelling of a host name or IP address; ValueError when it is neither.

    Lower-cased, without a trailing dot or IPv6 brackets, internationalized names in their ASCII
    (punycode) form, IP addresses in their compressed form — so that one host has one spelling.
    """
    host = value.strip().lower().removesuffix(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        pass
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError("not a host name") from None
    labels = host.split(".")
    # An all-digit last label is a malformed IP address (e.g. "10.1"), which resolvers read as one.
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels) or labels[-1].isdigit():
        raise ValueError("not a host name")
    return host
