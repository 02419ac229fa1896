"""The SSRF guard of the outbound HTTP client (DESIGN §8).

A destination is allowed when every address its name resolves to is public, or matches an entry of
`settings.FLOWS_OUTBOUND_ALLOWLIST`. The client resolves each hop once through `check_destination` and
connects to the address it returns, so a second DNS answer can never swap in an internal address.
"""

import functools
import ipaddress
import re
import socket
from dataclasses import dataclass

from django.conf import settings
from django.core import checks
from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES
from urllib3.util.connection import allowed_gai_family

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Cloud instance-metadata endpoints hand out credentials: blocked even when an allowlist entry covers them.
METADATA_HOSTS = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal"}
)
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "168.63.129.16")
)
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_HOSTNAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")


class DestinationBlocked(Exception):
    """The destination is not public and no allowlist entry covers it."""


def _resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in resolver order (tests replace this to control DNS)."""
    infos = socket.getaddrinfo(host, port, family=allowed_gai_family(), type=socket.SOCK_STREAM)
    families = (socket.AF_INET, socket.AF_INET6)
    return list(dict.fromkeys(str(info[4][0]) for info in infos if info[0] in families))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address carried by an IPv4-mapped, NAT64 or 6to4 address, which is what is reached."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def is_blocked_address(ip: IPAddress) -> bool:
    """True for every address that is not plainly public (loopback, private, link-local, CGNAT, …)."""
    if ip.version == 6 and (embedded := _embedded_ipv4(ip)) is not None:
        return is_blocked_address(embedded)
    return (
        ip in METADATA_ADDRESSES
        or not ip.is_global
        or ip.is_private
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_link_local
        or ip.is_loopback
        or ip.is_unspecified
        or any(ip in net for net in EXTRA_BLOCKED_NET_RANGES)
    )


def _is_metadata(ip: IPAddress) -> bool:
    if ip.version == 6 and (embedded := _embedded_ipv4(ip)) is not None:
        ip = embedded
    return ip in METADATA_ADDRESSES


@dataclass(frozen=True)
class AllowEntry:
    host: str | None  # a host name, or None for an address entry
    network: IPNetwork | None
    port: int | None  # None: any port

    def matches(self, host: str, port: int, ip: IPAddress) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            return ip.version == self.network.version and ip in self.network
        return self.host == host


def parse_allow_entry(entry: str) -> AllowEntry | None:
    """Parse `host`, `IP`, `CIDR`, each optionally with `:port` (`[IPv6]:port`); None when malformed."""
    text = entry.strip().lower().rstrip(".")
    port: int | None = None
    if bracketed := re.fullmatch(r"\[([0-9a-f:./]+)\](?::(\d+))?", text):
        text, port_text = bracketed.group(1), bracketed.group(2)
        port = int(port_text) if port_text else None
    elif text.count(":") == 1:
        text, port_text = text.split(":")
        if not port_text.isdigit():
            return None
        port = int(port_text)
    if port is not None and not 0 < port < 65536:
        return None
    try:
        return AllowEntry(None, ipaddress.ip_network(text, strict=False), port)
    except ValueError:
        pass
    if _HOSTNAME.fullmatch(text):
        return AllowEntry(text, None, port)
    return None


def allow_entries() -> tuple[AllowEntry, ...]:
    """The allowlist as configured now (read at call time: settings may change between requests)."""
    return _parsed(tuple(settings.FLOWS_OUTBOUND_ALLOWLIST))


@functools.lru_cache(maxsize=8)
def _parsed(configured: tuple[str, ...]) -> tuple[AllowEntry, ...]:
    # Parsed once per configured list, not once per request.
    entries = (parse_allow_entry(e) for e in configured if e.strip())
    return tuple(e for e in entries if e is not None)


def check_destination(host: str, port: int) -> str:
    """Resolve `host` once and return the address to connect to.

    Raises DestinationBlocked when any address is not allowed, socket.gaierror when the name does
    not resolve.
    """
    name = host.lower().rstrip(".")
    if name in METADATA_HOSTS:
        raise DestinationBlocked
    addresses = _resolve(host, port)
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, "no address")
    entries = allow_entries()
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if _is_metadata(ip):
            raise DestinationBlocked
        if is_blocked_address(ip) and not any(e.matches(name, port, ip) for e in entries):
            raise DestinationBlocked
    return addresses[0]


def check_outbound_allowlist(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """System check: malformed allowlist entries are errors; any allowlist in production is a warning."""
    messages: list[checks.CheckMessage] = []
    configured = [e for e in settings.FLOWS_OUTBOUND_ALLOWLIST if e.strip()]
    malformed = [e for e in configured if parse_allow_entry(e) is None]
    if malformed:
        messages.append(
            checks.Error(
                "FLOWS_OUTBOUND_ALLOWLIST has entries that are not a host, IP or CIDR: "
                + ", ".join(malformed),
                hint="Write host, host:port, 10.0.0.0/8, 10.1.2.3:8080 or [fd00::1]:8080.",
                id="actions.E801",
            )
        )
    if configured and not settings.DEBUG:
        messages.append(
            checks.Warning(
                "FLOWS_OUTBOUND_ALLOWLIST is set: HTTP actions can reach these internal destinations.",
                hint="Keep it to the few internal services flows really need.",
                id="actions.W801",
            )
        )
    return messages
