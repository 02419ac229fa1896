"""The only code that opens connections to user-chosen URLs (DESIGN §4 and §8).

`send()` checks every hop with the SSRF guard (actions/ssrf.py) and connects to the checked address,
follows redirects itself, enforces one total deadline and a size cap measured after decompression,
reveals secrets only on the wire request, and returns the output object of DESIGN §4.2 with every
secret masked. A request that cannot complete raises OutboundError with a short, safe message.
"""

import base64
import codecs
import contextlib
import contextvars
import email.utils
import http.client
import ipaddress
import json
import logging
import os
import random
import re
import socket
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlencode, urljoin, urlsplit

import idna
import requests
import urllib3
from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests_hardened.ip_filter_adapter import IPFilterAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from actions import ssrf
from vault.secrets import MASK, Secret

logger = logging.getLogger(__name__)

USER_AGENT = "FlowDesigner/0.1"
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_ATTEMPTS = 10
CHUNK_SIZE = 64 * 1024
BLOCKED_MESSAGE = "This destination is not allowed: only public addresses can be reached."
BLOCKED_REDIRECT_MESSAGE = (
    "The server redirected to a destination that is not allowed: only public addresses can be reached."
)
# Headers that carry credentials: dropped when a redirect leaves the origin.
CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
# Describe a body that is no longer sent once a redirect turns the request into a GET.
BODY_HEADERS = frozenset({"content-type", "content-encoding", "content-length", "transfer-encoding"})
# Framing is computed from the body we send; a typed value could desynchronise it.
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding"})
RETRYABLE_CODES = frozenset({"connection_error", "timeout"})

_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_BAD_HEADER_VALUE = re.compile(r"[\r\n\x00]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Characters that may not appear in a URL, and a "%" that does not start an escape.
_NOT_IN_URL = re.compile(r"[^\x21-\x7e]|[\"<>\\^`{|}]|%(?![0-9A-Fa-f]{2})")
_NETLOC = re.compile(r"(\[[^\]]*\]|[^:\[\]]*)(?::(\d*))?")


class OutboundError(Exception):
    """The request could not complete. `message` is safe to show: no secret, no internal address."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        # What was recorded before the failure (same shape as OutboundResult.meta), set by send().
        self.meta: dict | None = None


@dataclass
class RetryPolicy:
    attempts: int = 1
    backoff: str = "exponential"  # or "fixed"
    delay: float = 1.0
    on_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})
    on_network_errors: bool = True
    max_retry_after: float = 30.0


@dataclass
class OutboundRequest:
    method: str
    url: str
    headers: list[tuple[str, str | Secret]] = field(default_factory=list)
    query: list[tuple[str, str | Secret]] = field(default_factory=list)
    body: bytes | None = None
    timeout: float | None = None  # None: settings.FLOWS_HTTP_DEFAULT_TIMEOUT, read when sent
    follow_redirects: bool = True
    max_redirects: int = 5
    success_statuses: frozenset[int] | None = None
    retry: RetryPolicy | None = None
    # Secrets inside the URL or the body (e.g. from functions.mask): masked in records and output too.
    secrets: tuple[Secret, ...] = ()


@dataclass
class OutboundResult:
    output: dict
    meta: dict


def failure_output(error: OutboundError) -> dict:
    """The output of a failed action that has `allow_failure` (DESIGN §4.2)."""
    return {
        "headers": {},
        "body": None,
        "status": 0,
        "success": False,
        "error": {"code": error.code, "message": error.message},
    }


def _invalid(message: str) -> OutboundError:
    return OutboundError("invalid_request", message)


def _encode_illegal(text: str) -> str:
    return _NOT_IN_URL.sub(lambda m: quote(m.group(), safe=""), text)


def normalize_url(url: str) -> str:
    """The URL as it goes on the wire (DESIGN §4.1), or OutboundError("invalid_request") saying why."""
    text = url.strip() if isinstance(url, str) else ""
    if not text:
        raise _invalid("The URL is empty.")
    if _CONTROL.search(text):
        raise _invalid("The URL contains a control character (such as a line break or a tab).")
    scheme, colon, rest = text.partition(":")
    if not colon or scheme.lower() not in ("http", "https"):
        raise _invalid("The URL must start with http:// or https://.")
    if not rest.startswith("//"):
        raise _invalid("The URL has no host: write it as http://host/path.")
    try:
        parts = urlsplit(text)
    except ValueError:
        raise _invalid("The URL's host is not valid.") from None
    if "@" in parts.netloc:
        raise _invalid(
            "The URL must not contain a user name or password (user:pass@): "
            "use Basic Auth or a vault connection instead."
        )
    netloc = _NETLOC.fullmatch(parts.netloc)
    if netloc is None:
        raise _invalid("The URL's host or port is not valid.")
    host = _normalize_host(netloc.group(1))
    port = netloc.group(2)
    if port:
        if not 0 < int(port) < 65536:
            raise _invalid("The URL's port must be between 1 and 65535.")
        host = f"{host}:{int(port)}"
    path = _encode_illegal(parts.path)
    query = _encode_illegal(parts.query)
    return f"{parts.scheme}://{host}{path}" + (f"?{query}" if query else "")


def _normalize_host(host: str) -> str:
    if not host:
        raise _invalid("The URL has no host.")
    if host.startswith("["):
        if "%" in host:
            raise _invalid("The URL's IPv6 address must not have a zone (%).")
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise _invalid("The URL's IPv6 address is not valid.") from None
        return host.lower()
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError:
            raise _invalid("The URL's host name is not a valid international domain name.") from None
    host = host.lower()
    if not re.fullmatch(r"[a-z0-9._-]+", host) or ".." in host or host.startswith("."):
        raise _invalid("The URL's host name is not valid.")
    return host


# -- Secrets: revealed on the wire only, masked everywhere else ------------------------------------


# Characters no encoder escapes (URL, form, JSON, XML): matched as themselves only, which keeps the
# scrubbing pattern mostly literal, hence fast.
_NEVER_ESCAPED = re.compile(r"[A-Za-z0-9_.-]")
_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_XML_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}


def _spellings(char: str) -> str:
    """A regex for one character of a secret as a server may echo it: as is, percent-encoded (UTF-8),
    `+` for a space, a JSON escape, an XML entity. Each character independently, since servers mix
    them (werkzeug echoes `%20` beside a decoded `"`)."""
    if _NEVER_ESCAPED.fullmatch(char):
        return re.escape(char)
    code = ord(char)
    if code > 0xFFFF:
        high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
        json_unicode = f"\\\\u(?i:{high:04x})\\\\u(?i:{low:04x})"
    else:
        json_unicode = f"\\\\u(?i:{code:04x})"
    forms = [
        "".join(f"%(?i:{byte:02x})" for byte in char.encode()),
        json_unicode,
        f"&\\#0*{code};",
        f"&\\#[xX]0*(?i:{code:x});",
    ]
    if char in _JSON_ESCAPES:
        forms.append(re.escape(_JSON_ESCAPES[char]))
    if char in _XML_ENTITIES:
        forms.append(re.escape(_XML_ENTITIES[char]))
    if char == " ":
        forms.append(r"\+")
    # The character itself last: "%" must not match the start of "%25".
    return f"(?:{'|'.join(forms)}|{re.escape(char)})"


class _Scrubber:
    """Replaces every spelling of the request's secrets with the mask: as is, in base64, and escaped
    the ways a URL, a form, JSON or XML escape them, since a server may echo a value in any of those."""

    def __init__(self, secrets: list[Secret]) -> None:
        texts = {text for secret in secrets for text in map(str, secret.sensitive) if text}
        encoded = {base64.b64encode(text.encode()).decode("ascii") for text in texts}
        exact = texts | encoded | {e.rstrip("=") for e in encoded} | {quote(t, safe="") for t in texts}
        patterns = ["".join(map(_spellings, text)) for text in texts]
        patterns += [re.escape(form) for form in encoded | {e.rstrip("=") for e in encoded} if form]
        # Longest first, so that a secret is never masked only partly by a shorter one inside it.
        self._pattern = re.compile("|".join(sorted(patterns, key=len, reverse=True))) if patterns else None
        self._byte_forms = [f.encode() for f in sorted((f for f in exact if f), key=len, reverse=True)]

    @property
    def active(self) -> bool:
        return self._pattern is not None

    def text(self, value: str) -> str:
        return self._pattern.sub(MASK, value) if self._pattern is not None else value

    def data(self, value: bytes) -> bytes:
        for form in self._byte_forms:
            if form in value:
                value = value.replace(form, MASK.encode())
        return value

    def tree(self, value: Any) -> Any:
        """Scrub strings (values and keys) through parsed JSON, iteratively: nesting may be deep."""
        if not self.active:
            return value
        if isinstance(value, str):
            return self.text(value)
        stack = [value] if isinstance(value, dict | list) else []
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                items = [(self.text(k), v) for k, v in node.items()]
                node.clear()
                for key, item in items:
                    node[key] = self.text(item) if isinstance(item, str) else item
                    if isinstance(item, dict | list):
                        stack.append(item)
            else:
                for i, item in enumerate(node):
                    if isinstance(item, str):
                        node[i] = self.text(item)
                    elif isinstance(item, dict | list):
                        stack.append(item)
        return value


_in_flight: contextvars.ContextVar[_Scrubber | None] = contextvars.ContextVar("in_flight", default=None)


class _RedactSecrets(logging.Filter):
    """urllib3 logs full request targets at DEBUG, and a query value may be a secret: mask them."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrubber = _in_flight.get()
        if scrubber is not None and scrubber.active:
            message = record.getMessage()
            clean = scrubber.text(message)
            if clean != message:
                record.msg, record.args = clean, None
        return True


def _install_log_filter() -> None:
    # A filter on a logger only sees that logger's own records, so every urllib3 logger gets one.
    names = [n for n in logging.root.manager.loggerDict if n == "urllib3" or n.startswith("urllib3.")]
    for name in [*names, "requests"]:
        target = logging.getLogger(name)
        if not any(isinstance(f, _RedactSecrets) for f in target.filters):
            target.addFilter(_RedactSecrets())


_install_log_filter()


# -- Deadline: one watchdog thread shuts down the sockets of exchanges past their deadline ----------


class _Exchange:
    """One attempt: its deadline and the sockets it uses."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.expired = False
        self.target: str | None = None  # the request target of the hop in progress, as typed
        self.connect_ms: float | None = None  # TCP connect time of the hop in progress
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            if sock not in self._sockets:
                self._sockets.append(sock)
            if self.expired:
                _shutdown(sock)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    # A blocked recv() returns at once; the plain-socket method also works on a TLS socket.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """Socket timeouts bound each read, not the exchange: a server dripping bytes would never end."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._exchanges: set[_Exchange] = set()
        self._thread: threading.Thread | None = None
        self._wake_at = float("inf")  # when the thread wakes next, unless notified

    def watch(self, exchange: _Exchange) -> None:
        with self._cond:
            self._exchanges.add(exchange)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="outbound-deadlines", daemon=True)
                self._thread.start()
            elif exchange.deadline < self._wake_at:
                # Waking the thread costs a context switch per request: only when it would wake too late.
                self._cond.notify()

    def unwatch(self, exchange: _Exchange) -> None:
        with self._cond:
            self._exchanges.discard(exchange)

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for exchange in [e for e in self._exchanges if e.deadline <= now]:
                    self._exchanges.discard(exchange)
                    exchange.expire()
                self._wake_at = min((e.deadline for e in self._exchanges), default=now + 3600)
                self._cond.wait(self._wake_at - now)


_watchdog = _Watchdog()


def _new_watchdog_after_fork() -> None:
    global _watchdog  # a forked worker has no watchdog thread
    _watchdog = _Watchdog()


os.register_at_fork(after_in_child=_new_watchdog_after_fork)
_current_exchange: contextvars.ContextVar[_Exchange | None] = contextvars.ContextVar(
    "outbound_exchange", default=None
)


class _WatchedConnectionMixin:
    """Hands each socket to the exchange in progress, for the watchdog."""

    def _new_conn(self) -> socket.socket:
        started = time.monotonic()
        sock = super()._new_conn()  # type: ignore[misc]
        if (exchange := _current_exchange.get()) is not None:
            exchange.connect_ms = (time.monotonic() - started) * 1000
            exchange.add(sock)
        return sock

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> None:
        exchange = _current_exchange.get()
        if exchange is not None:
            # A pooled connection (or a TLS one, whose socket replaced the plain one) is registered here.
            if self.sock is not None:  # type: ignore[attr-defined]
                exchange.add(self.sock)  # type: ignore[attr-defined]
            # urllib3 re-encodes the target ("[" -> "%5B", "%7e" -> "%7E"); DESIGN §4.1 sends the URL
            # as typed, so the same target, spelled as typed, goes on the wire.
            if exchange.target and unquote(exchange.target) == unquote(url):
                url = exchange.target
        super().request(method, url, *args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPConnection(_WatchedConnectionMixin, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnectionMixin, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


@dataclass(frozen=True)
class _Destination:
    host: str  # the URL's host name (lower case, no brackets)
    address: str  # the address the guard checked


class _PinnedRequest(requests.PreparedRequest):
    destination: _Destination


class _PinnedAdapter(IPFilterAdapter):
    """requests-hardened's IP-pinning adapter, fed by our guard instead of its own filter.

    Its filter resolves the name itself, blocks every private address (no allowlist) and cannot be
    given a test-controlled resolver. So the client resolves and checks each hop once
    (ssrf.check_destination) and puts the checked address on the request; this adapter connects to
    exactly that address and keeps the URL's name for TLS SNI and certificate checks (the client sets
    the Host header).
    """

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: bool | str, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = HTTPAdapter.build_connection_pool_key_attributes(
            self, request, verify, cert
        )
        destination = getattr(request, "destination", None)
        if destination is None or destination.host != host_params["host"]:
            raise requests.exceptions.InvalidURL("the destination was not checked by the SSRF guard")
        if self._is_https_proto:
            pool_kwargs["assert_hostname"] = destination.host
            pool_kwargs["server_hostname"] = destination.host
        address = destination.address
        host_params["host"] = f"[{address}]" if ":" in address else address
        return host_params, pool_kwargs


# No requests.Session: its send() reads proxy variables and ~/.netrc (trust_env), keeps a cookie jar that
# flows would share, and reads a whole redirect body even with allow_redirects=False. The adapters are
# used directly, one per scheme as requests-hardened mounts them.
_ADAPTERS = {"http": _PinnedAdapter(is_https_proto=False), "https": _PinnedAdapter(is_https_proto=True)}


# -- One exchange -----------------------------------------------------------------------------------


@dataclass
class _Hop:
    method: str
    url: str  # on the wire (secrets revealed in the query of the first hop)
    display_url: str  # secrets masked
    headers: list[tuple[str, str | Secret]]
    body: bytes | None


@dataclass
class _Exchanged:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    content_type: str
    connect_ms: float | None  # None: the connection was reused from the pool
    first_byte_ms: float
    download_ms: float


class _DecodeFailed(Exception):
    pass


class _Inflater:
    """gzip or deflate, incrementally, never producing more than asked for in one call."""

    def __init__(self, coding: str) -> None:
        self._gzip = coding in ("gzip", "x-gzip")
        self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS if self._gzip else zlib.MAX_WBITS)
        self._fed = False
        self._first = True

    def feed(self, data: bytes, limit: int) -> bytes:
        if not data:
            return b""
        self._fed = True
        try:
            try:
                out = self._obj.decompress(data, limit)
            except zlib.error:
                if self._gzip or not self._first:
                    raise
                # "deflate" is often sent raw, without the zlib wrapper.
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                out = self._obj.decompress(data, limit)
            self._first = False
            while self._obj.eof and self._obj.unused_data and len(out) < limit:
                if not self._gzip:
                    raise _DecodeFailed
                rest = self._obj.unused_data  # another gzip member, or garbage
                self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
                out += self._obj.decompress(rest, limit - len(out))
        except zlib.error:
            raise _DecodeFailed from None
        return out

    def finish(self) -> None:
        if self._fed and not self._obj.eof:
            raise _DecodeFailed


class _BodyReader:
    """Decodes Content-Encoding and enforces the size cap on the decoded bytes."""

    def __init__(self, content_encoding: str, cap: int) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        known = all(c in ("gzip", "x-gzip", "deflate") for c in codings)
        # An encoding we cannot decode is kept as received (we only ask for gzip and deflate).
        self._inflaters = [_Inflater(c) for c in reversed(codings)] if known else []
        self._cap = cap
        self._parts: list[bytes] = []
        self.size = 0

    def feed(self, data: bytes) -> None:
        for inflater in self._inflaters:
            data = inflater.feed(data, self._cap - self.size + 1)
        self._add(data)

    def finish(self) -> bytes:
        for inflater in self._inflaters:
            inflater.finish()
        return b"".join(self._parts)

    def _add(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self._cap:
            raise OutboundError("response_too_large", _too_large_message(self._cap))
        if data:
            self._parts.append(data)


def _too_large_message(cap: int) -> str:
    for unit, size in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if cap >= size:
            return f"The response is larger than the {cap / size:.4g} {unit} limit."
    return f"The response is larger than the {cap} bytes limit."


def _timeout_message(timeout: float) -> str:
    return f"The request did not complete within {timeout:g} s."


def _cause_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if current in chain or len(chain) > 20:
            continue
        chain.append(current)
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        pending += [e for e in linked if isinstance(e, BaseException)]
    return chain


_INCOMPLETE = (http.client.IncompleteRead, requests.exceptions.ChunkedEncodingError)
_TRANSPORT_ERRORS = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
)


def _is_timeout(exc: BaseException) -> bool:
    # urllib3's NewConnectionError subclasses ConnectTimeoutError for compatibility: it is no timeout.
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        return False
    return isinstance(exc, TimeoutError | requests.exceptions.Timeout | urllib3.exceptions.TimeoutError)


def _classify(exc: BaseException, timeout: float) -> OutboundError:
    """Map a transport exception to a safe OutboundError (never its text: it may hold the URL)."""
    chain = _cause_chain(exc)
    if any(isinstance(e, requests.exceptions.SSLError | urllib3.exceptions.SSLError) for e in chain) or any(
        type(e).__module__ == "ssl" for e in chain
    ):
        if any(type(e).__name__ == "SSLCertVerificationError" for e in chain):
            return OutboundError("tls_error", "The server's TLS certificate could not be verified.")
        return OutboundError("tls_error", "The TLS connection could not be established.")
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return OutboundError("connection_error", "The connection was refused.")
    if any(_is_timeout(e) for e in chain):
        return OutboundError("timeout", _timeout_message(timeout))
    if any(isinstance(e, _INCOMPLETE) for e in chain):
        return OutboundError("connection_error", "The response ended before it was complete.")
    if any(isinstance(e, requests.exceptions.ProxyError) for e in chain):
        return OutboundError("connection_error", "The outbound proxy could not be reached.")
    if any(isinstance(e, http.client.HTTPException | urllib3.exceptions.HeaderParsingError) for e in chain):
        return OutboundError("connection_error", "The server sent an invalid HTTP response.")
    return OutboundError("connection_error", "The connection failed or was closed unexpectedly.")


def _transport_failure(exc: BaseException, exchange: _Exchange, timeout: float) -> OutboundError:
    # Past the deadline the watchdog closed the socket: whatever broke, the cause is the deadline.
    if exchange.expired:
        return OutboundError("timeout", _timeout_message(timeout))
    return _classify(exc, timeout)


def _host_header(parts: Any) -> str:
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    default_port = 443 if parts.scheme == "https" else 80
    if parts.port is not None and parts.port != default_port:
        host = f"{host}:{parts.port}"
    return host


@sensitive_variables()
def _prepare(hop: _Hop, parts: Any, destination: _Destination) -> _PinnedRequest:
    """The wire request: the one place header secrets are revealed."""
    given = {name.lower() for name, _ in hop.headers}
    headers = CaseInsensitiveDict()
    if "host" not in given:
        headers["Host"] = _host_header(parts)
    defaults = (("User-Agent", USER_AGENT), ("Accept", "*/*"), ("Accept-Encoding", "gzip, deflate"))
    for name, value in defaults:
        if name.lower() not in given:
            headers[name] = value
    for name, value in hop.headers:
        if name.lower() in FRAMING_HEADERS:
            continue
        if isinstance(value, Secret):
            value = value.reveal()
            if not isinstance(value, str) or _BAD_HEADER_VALUE.search(value):
                raise _invalid(f'The value of header "{name}" contains a line break or is not text.')
        headers[name] = value
    if hop.body is not None:
        headers["Content-Length"] = str(len(hop.body))
    elif hop.method in ("POST", "PUT", "PATCH"):
        headers["Content-Length"] = "0"
    prepared = _PinnedRequest()
    prepared.method = hop.method
    prepared.url = hop.url
    prepared.headers = headers
    prepared.body = hop.body
    prepared.destination = destination
    return prepared


def _sent_record(prepared: requests.PreparedRequest, hop: _Hop, scrub: _Scrubber) -> dict:
    shown = {name.lower(): value.display for name, value in hop.headers if isinstance(value, Secret)}
    headers = [[name, shown.get(name.lower()) or scrub.text(v)] for name, v in prepared.headers.items()]
    body = None if hop.body is None else scrub.text(hop.body.decode("utf-8", errors="replace"))
    return {"method": hop.method, "url": hop.display_url, "headers": headers, "body": body}


def _origin(parts: Any) -> tuple[str, str, int]:
    return parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def _next_hop(hop: _Hop, status: int, location: str, scrub: _Scrubber) -> _Hop:
    """The request a redirect asks for (DESIGN §4.1 redirects)."""
    try:
        url = normalize_url(urljoin(hop.url, location))
    except OutboundError:
        raise _invalid("The server redirected to a URL that is not a valid http or https URL.") from None
    method, body, headers = hop.method, hop.body, list(hop.headers)
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        method, body = "GET", None
        headers = [(n, v) for n, v in headers if n.lower() not in BODY_HEADERS]
    if _origin(urlsplit(url)) != _origin(urlsplit(hop.url)):
        # A typed Host header named the old origin: the new one gets its own.
        dropped = CREDENTIAL_HEADERS | {"host"}
        headers = [(n, v) for n, v in headers if n.lower() not in dropped and isinstance(v, str)]
    return _Hop(method, url, scrub.text(url), headers, body)


def _attempt(
    first: _Hop, request: OutboundRequest, timeout: float, scrub: _Scrubber, record: dict
) -> _Exchanged:
    """One exchange, redirects included, within one deadline. Fills `record` as it goes."""
    started = time.monotonic()
    exchange = _Exchange(started + timeout)
    token = _current_exchange.set(exchange)
    _watchdog.watch(exchange)
    try:
        return _exchange(first, request, timeout, scrub, record, exchange)
    finally:
        _watchdog.unwatch(exchange)
        _current_exchange.reset(token)


def _exchange(
    first: _Hop, request: OutboundRequest, timeout: float, scrub: _Scrubber, record: dict, exchange: _Exchange
) -> _Exchanged:
    hop = first
    redirects: list[dict] = record.setdefault("redirects", [])
    redirects.clear()
    cap = settings.FLOWS_HTTP_MAX_RESPONSE_BYTES
    proxy = settings.FLOWS_HTTP_PROXY
    proxies = {"http": proxy, "https": proxy} if proxy else {}
    verify: bool | str = settings.FLOWS_HTTP_CA_BUNDLE or True
    while True:
        parts = urlsplit(hop.url)
        record["final_url"] = hop.display_url
        remaining = exchange.deadline - time.monotonic()
        if remaining <= 0:
            raise OutboundError("timeout", _timeout_message(timeout))
        try:
            address = ssrf.check_destination(parts.hostname, _origin(parts)[2])
        except ssrf.DestinationBlocked:
            logger.info("Outbound request to a blocked destination refused: %s", parts.hostname)
            if not redirects:
                raise OutboundError("blocked_destination", BLOCKED_MESSAGE) from None
            # The refused URL is final_url, as the upstream wrote it (never an address it resolves to);
            # the message names neither.
            redirects[-1]["blocked"] = True
            raise OutboundError("blocked_destination", BLOCKED_REDIRECT_MESSAGE) from None
        except (socket.gaierror, UnicodeError):
            raise OutboundError("dns_error", "The host name could not be resolved.") from None
        prepared = _prepare(hop, parts, _Destination(parts.hostname, address))
        if "request" not in record:
            record["request"] = _sent_record(prepared, hop, scrub)
        exchange.target, exchange.connect_ms = prepared.path_url, None
        sent = time.monotonic()
        remaining = max(exchange.deadline - sent, 0.001)
        try:
            response = _ADAPTERS[parts.scheme].send(
                prepared,
                stream=True,
                timeout=urllib3.Timeout(connect=remaining, read=remaining),
                verify=verify,
                proxies=proxies,
            )
        except _TRANSPORT_ERRORS as exc:
            raise _transport_failure(exc, exchange, timeout) from None
        first_byte_ms = (time.monotonic() - sent) * 1000
        status = response.status_code
        location = response.raw.headers.get("location")
        if status in REDIRECT_STATUSES and request.follow_redirects and location:
            response.close()
            redirects.append({"status": status, "url": hop.display_url})
            if len(redirects) > request.max_redirects:
                raise OutboundError(
                    "too_many_redirects", f"The server redirected more than {request.max_redirects} times."
                )
            hop = _next_hop(hop, status, _header_text(location), scrub)
            continue
        started_download = time.monotonic()
        body = _read_body(response, hop.method, cap, timeout, exchange)
        return _Exchanged(
            status=status,
            headers=[(name, _header_text(value)) for name, value in response.raw.headers.items()],
            body=body,
            content_type=response.raw.headers.get("content-type", ""),
            connect_ms=exchange.connect_ms,
            first_byte_ms=first_byte_ms,
            download_ms=(time.monotonic() - started_download) * 1000,
        )


def _read_body(
    response: requests.Response, method: str, cap: int, timeout: float, exchange: _Exchange
) -> bytes:
    raw = response.raw
    status = response.status_code
    declared = raw.headers.get("content-length", "")
    has_body = method != "HEAD" and status not in (204, 304) and status >= 200
    if has_body and declared.isdigit() and int(declared) > cap:
        response.close()
        raise OutboundError("response_too_large", _too_large_message(cap))
    reader = _BodyReader(raw.headers.get("content-encoding", ""), cap)
    failure: OutboundError | None = None
    try:
        while True:
            if time.monotonic() >= exchange.deadline:
                raise OutboundError("timeout", _timeout_message(timeout))
            chunk = raw.read1(CHUNK_SIZE, decode_content=False)
            if not chunk:
                break
            reader.feed(chunk)
        if exchange.expired:
            # The watchdog ends the read with an EOF; a body without a length would look complete.
            raise OutboundError("timeout", _timeout_message(timeout))
        body = reader.finish()
    except OutboundError as error:
        failure = error
    except _DecodeFailed:
        failure = OutboundError(
            "connection_error", "The response body could not be decompressed: its encoding is invalid."
        )
    except _TRANSPORT_ERRORS as exc:
        failure = _transport_failure(exc, exchange, timeout)
    if failure is not None:
        response.close()
        raise failure
    raw.release_conn()
    return body


def _header_text(value: str) -> str:
    """http.client decodes header bytes as Latin-1; most non-ASCII header values are UTF-8."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


# -- Output object (DESIGN §4.2) --------------------------------------------------------------------


def _media_type(content_type: str) -> tuple[str, str | None]:
    mime, *params = content_type.split(";")
    charset = None
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"').lower() or None
    return mime.strip().lower(), charset


def _decode(data: bytes, charset: str | None) -> str:
    codec = "utf-8"
    if charset:
        try:
            codec = codecs.lookup(charset).name
        except LookupError:
            codec = "utf-8"
    return data.decode("utf-8-sig" if codec == "utf-8" else codec, errors="replace")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _is_text(mime: str) -> bool:
    return (
        mime.startswith("text/")
        or mime.endswith(("/xml", "+xml"))
        or mime in ("application/javascript", "application/x-www-form-urlencoded", "application/yaml")
    )


def _parse_body(data: bytes, content_type: str, scrub: _Scrubber) -> Any:
    """The `body` of the output object, by Content-Type, with the request's secrets masked."""
    if not data:
        return None
    mime, charset = _media_type(content_type)
    if mime == "application/json" or mime.endswith("+json"):
        text = _decode(data, charset)
        try:
            return scrub.tree(json.loads(text, parse_constant=_reject_constant))
        except (ValueError, RecursionError):
            return scrub.text(text)
    if _is_text(mime):
        return scrub.text(_decode(data, charset))
    if not mime:
        try:
            return scrub.text(data.decode("utf-8"))
        except UnicodeDecodeError:
            mime = "application/octet-stream"
    data = scrub.data(data)
    return {"content_type": mime, "size": len(data), "base64": base64.b64encode(data).decode("ascii")}


def _output_headers(pairs: list[tuple[str, str]], scrub: _Scrubber) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    for name, value in pairs:
        key, value = name.lower(), scrub.text(value)
        if key == "set-cookie":
            headers.setdefault(key, []).append(value)
        elif key in headers:
            headers[key] = f"{headers[key]}, {value}"
        else:
            headers[key] = value
    return headers


# -- send -------------------------------------------------------------------------------------------


def _validate(request: OutboundRequest) -> str:
    method = request.method.upper() if isinstance(request.method, str) else ""
    if method not in METHODS:
        raise _invalid(f"The method must be one of {', '.join(sorted(METHODS))}.")
    for name, value in request.headers:
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise _invalid("A header name is empty or contains characters that are not allowed.")
        if isinstance(value, Secret):
            continue  # checked when revealed, in _prepare
        if not isinstance(value, str) or _BAD_HEADER_VALUE.search(value):
            raise _invalid(f'The value of header "{name}" contains a line break or is not text.')
    if request.body is not None and not isinstance(request.body, bytes):
        raise _invalid("The request body must be bytes.")
    return method


def _first_hop(request: OutboundRequest, method: str, scrub: _Scrubber) -> _Hop:
    url = normalize_url(request.url)
    wire, shown = [], []
    for key, value in request.query:
        encoded_key = quote(str(key), safe="")
        if isinstance(value, Secret):
            wire.append(f"{encoded_key}={quote(str(value.reveal()), safe='')}")
            shown.append(f"{encoded_key}={value.display}")
        else:
            wire.append(f"{encoded_key}={quote(str(value), safe='')}")
            shown.append(wire[-1])
    separator = "" if url.endswith(("?", "&")) else "&" if "?" in url else "?"
    wire_url = f"{url}{separator}{'&'.join(wire)}" if wire else url
    display_url = scrub.text(f"{url}{separator}{'&'.join(shown)}" if shown else url)
    return _Hop(method, wire_url, display_url, list(request.headers), request.body)


def _retry_delay(policy: RetryPolicy, attempt: int, retry_after: str | None) -> float:
    if retry_after:
        seconds: float | None = None
        if retry_after.strip().isdigit():
            seconds = float(retry_after.strip())
        else:
            try:
                when = email.utils.parsedate_to_datetime(retry_after)
                seconds = when.timestamp() - time.time()
            except (TypeError, ValueError, IndexError):
                seconds = None
        if seconds is not None:
            return min(max(seconds, 0.0), policy.max_retry_after)
    if policy.backoff == "fixed":
        return min(policy.delay, policy.max_retry_after)
    jitter = random.uniform(0.5, 1.0)  # noqa: S311 - spreads retries, not a secret
    return min(policy.delay * 2 ** (attempt - 1) * jitter, policy.max_retry_after)


def send(request: OutboundRequest) -> OutboundResult:
    """Send `request` (DESIGN §4) and return its output object and metadata.

    Raises OutboundError when the request could not complete; its `meta` holds what was recorded.
    """
    secrets = [v for _, v in [*request.headers, *request.query] if isinstance(v, Secret)]
    scrub = _Scrubber([*secrets, *request.secrets])
    token = _in_flight.set(scrub)
    started = time.monotonic()
    record: dict = {"redirects": [], "attempts": 0}
    failure: OutboundError | None = None
    try:
        result = _send(request, scrub, record, started)
    except OutboundError as error:
        failure = OutboundError(error.code, error.message)
    finally:
        _in_flight.reset(token)
    if failure is not None:
        # A new exception, raised outside the handler: no chained transport error, no frame holding
        # the revealed request.
        failure.meta = _meta(record, started, size=0, timings={})
        raise failure
    return result


def _meta(record: dict, started: float, size: int, timings: dict) -> dict:
    return {
        "duration_ms": round((time.monotonic() - started) * 1000, 3),
        "size_bytes": size,
        "final_url": record.get("final_url", ""),
        "redirects": list(record.get("redirects", [])),
        "attempts": record.get("attempts", 0),
        "timings": timings,
        "request": record.get("request"),
    }


def _send(request: OutboundRequest, scrub: _Scrubber, record: dict, started: float) -> OutboundResult:
    method = _validate(request)
    first = _first_hop(request, method, scrub)
    record["final_url"] = first.display_url
    timeout = request.timeout if request.timeout is not None else settings.FLOWS_HTTP_DEFAULT_TIMEOUT
    if not timeout > 0:
        raise _invalid("The timeout must be a positive number of seconds.")
    timeout = min(float(timeout), settings.FLOWS_HTTP_MAX_TIMEOUT)
    policy = request.retry or RetryPolicy()
    attempts = max(1, min(policy.attempts, MAX_ATTEMPTS))
    success_statuses = request.success_statuses
    while True:
        record["attempts"] += 1
        attempt = record["attempts"]
        try:
            exchanged = _attempt(first, request, timeout, scrub, record)
        except OutboundError as error:
            if attempt < attempts and policy.on_network_errors and error.code in RETRYABLE_CODES:
                time.sleep(_retry_delay(policy, attempt, None))
                continue
            raise
        if attempt < attempts and exchanged.status in policy.on_statuses:
            retry_after = next((v for n, v in exchanged.headers if n.lower() == "retry-after"), None)
            time.sleep(_retry_delay(policy, attempt, retry_after))
            continue
        break
    body = _parse_body(exchanged.body, exchanged.content_type, scrub)
    status = exchanged.status
    success = status in success_statuses if success_statuses is not None else 200 <= status <= 299
    output = {
        "headers": _output_headers(exchanged.headers, scrub),
        "body": body,
        "status": status,
        "success": success,
    }
    timings = {
        "first_byte_ms": round(exchanged.first_byte_ms, 3),
        "download_ms": round(exchanged.download_ms, 3),
    }
    if exchanged.connect_ms is not None:
        timings["connect_ms"] = round(exchanged.connect_ms, 3)
    return OutboundResult(output=output, meta=_meta(record, started, len(exchanged.body), timings))


# -- OAuth client credentials (DESIGN §3) -----------------------------------------------------------

# A token is refreshed this long before it expires, so that a request never carries one about to lapse.
_OAUTH_MARGIN = 60.0
_OAUTH_DEFAULT_LIFETIME = 3600.0
_OAUTH_ERROR = re.compile(r"[A-Za-z0-9_.-]{1,64}")

_tokens: dict[str, tuple[Secret, float]] = {}
_tokens_lock = threading.Lock()


@dataclass(frozen=True)
class OAuthToken:
    authorization: Secret  # "Bearer <token>", displayed "Bearer ********"
    expires_in: float | None  # seconds, as the endpoint said; None when it did not say


def fetch_oauth_token(setup: Secret) -> OAuthToken:
    """A new access token for an OAUTH_CLIENT_CREDENTIALS setup, never from the cache.

    `setup` is the connection's secret {client_id, client_secret, token_endpoint, audience?, resource?,
    scope?}. The token is fetched with the client-credentials grant through send(), so the SSRF guard
    covers the token endpoint and the client secret is masked wherever the exchange is recorded.
    Raises OutboundError with a safe message (no client secret, no token) when no token is issued.
    """
    config = setup.reveal()
    form = {"grant_type": "client_credentials", "client_id": config["client_id"]}
    form["client_secret"] = config["client_secret"]
    form.update({k: config[k] for k in ("audience", "resource", "scope") if config.get(k)})
    request = OutboundRequest(
        "POST",
        str(config["token_endpoint"]),
        headers=[("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
        body=urlencode(form).encode(),
        follow_redirects=False,
        secrets=(setup,),
    )
    failure: OutboundError | None = None
    try:
        result = send(request)
    except OutboundError as error:
        failure = OutboundError(error.code, f"OAuth token endpoint: {error.message}")
    if failure is not None:
        raise failure
    body = result.output["body"]
    token = body.get("access_token") if isinstance(body, dict) else None
    if not result.output["success"] or not isinstance(token, str) or not token:
        # RFC 6749 §5.2 error codes ("invalid_client") say what is wrong; descriptions are free text.
        code = body.get("error") if isinstance(body, dict) else None
        reason = f": {code}" if isinstance(code, str) and _OAUTH_ERROR.fullmatch(code) else ""
        status = result.output["status"]
        # invalid_request, not connection_error: the exchange worked but cannot authenticate the request,
        # and connection_error would be retried although the endpoint gives the same answer again.
        if result.output["success"] and not reason:
            message = f"The OAuth token endpoint answered HTTP {status} without an access_token."
        else:
            message = f"The OAuth token endpoint did not issue a token (HTTP {status}{reason})."
        raise OutboundError("invalid_request", message)
    return OAuthToken(
        authorization=Secret(f"Bearer {token}", display=f"Bearer {MASK}", sensitive=(token,)),
        expires_in=_seconds(body.get("expires_in")),
    )


def _seconds(value: Any) -> float | None:
    """`expires_in` is a number, though some endpoints send it as text."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < float("inf"):
        return float(value)
    return None


def oauth_token(setup: Secret, cache_key: str, *, fresh: bool = False) -> Secret:
    """The `Authorization` value (`Bearer …`) of an OAUTH_CLIENT_CREDENTIALS connection.

    Cached under `cache_key` until shortly before the token expires: make the key change when the
    setup changes (e.g. connection id and fingerprint). `fresh` fetches a new token even when one is
    cached (the upstream refused it) and caches the new one.
    """
    if not fresh:
        with _tokens_lock:
            cached = _tokens.get(cache_key)
            if cached is not None and cached[1] > time.monotonic():
                return cached[0]
    token = fetch_oauth_token(setup)
    lifetime = token.expires_in or _OAUTH_DEFAULT_LIFETIME
    with _tokens_lock:
        _tokens[cache_key] = (
            token.authorization,
            time.monotonic() + lifetime - min(_OAUTH_MARGIN, lifetime / 10),
        )
    return token.authorization
