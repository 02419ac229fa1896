"""Import from cURL and Copy as cURL for the HTTP Request action.

`parse_curl(command)` reads a curl command line as API docs, browsers' "Copy as cURL" and terminals write
it, and returns the HTTP action's stored params (the shape in `actions.catalog.http`) together with the
options it recognised but cannot honour, so the editor can name them. `to_curl(...)` writes the Test
view's request-as-sent as a command that curl runs once the masked secret is filled in.

Reading the command:
- Words are split like a POSIX shell: single quotes, double quotes (backslash escapes only `$ \\` " \\\\`
  and newline), `$'…'` ANSI-C strings, backslash escapes and backslash-newline continuations; `#` starts
  a comment; `|`, `;` or `&` starting a word, and redirections, end the command. A command whose lines
  end with `^` is read as Windows cmd (caret escapes, then the C runtime's quoting rules).
- Nothing is expanded: `$TOKEN` stays the text `$TOKEN`, URL globs (`{a,b}`, `[1-3]`) stay literal.
- Options follow curl's man page: short flags may be combined (`-sSL`, `-XPOST`); `--name=value` is
  accepted too. An option curl does not have is an error; one that cannot be honoured (client
  certificates, proxies, `--insecure`, files) is listed in `unsupported`; output and progress options are
  ignored.

Mapping to params:
- `method`: `-X` (upper-cased); else POST when there is data or a form (unless `-G`), else GET.
- `url` without its query and fragment; the query becomes `params` rows (decoded; `+` is a space, as in
  every form decoder), order and repeats kept. A query that rows cannot reproduce (a part without `=`,
  bytes that are not UTF-8) stays in the URL. `user:pass@` in the URL becomes basic auth, like curl does.
- `headers` rows in command order; `-A`, `-e`, `-b`, `-r` and `--oauth2-bearer` add their header unless
  `-H` sets the same one. The action sends a header name once, so a repeated header becomes one row
  whose values are joined as HTTP defines (", "; "; " for Cookie). A Content-Type that merely repeats
  the one `content_type` implies is dropped.
- The body: JSON or XML content types keep the text exactly as given; a form body (`-d` without a
  Content-Type, `-F` text fields, `--data-urlencode`) becomes an object of fields whose repeated keys
  hold lists. `-d` text that is a JSON document and has no Content-Type is taken as JSON (curl would
  send it labelled as a form, which no API wants). Any other body (text/plain, a form that is not
  `name=value` fields) keeps its Content-Type header and is sent as typed.
- `basic` `{username, password}` from `-u` (the password belongs in the action's secret params);
  `follow_redirects` from `-L`; `timeout` from `-m`; `retry` from `--retry`/`--retry-delay` (curl's
  retry statuses; a value past the action's limits is cut to them).
"""

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import quote, unquote, unquote_plus

MASK = "********"
CONTENT_TYPES = {
    "JSON": "application/json",
    "FORM": "application/x-www-form-urlencoded",
    "XML": "application/xml",
}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# The HTTP action's limits: a longer timeout, more attempts or a longer delay are cut to them.
MAX_TIMEOUT = 120
MAX_ATTEMPTS = 5
MAX_RETRY_DELAY = 60
# curl's own retry statuses (its man page, --retry): 408, 429, 500, 502, 503 and 504.
CURL_RETRY_STATUSES = "408, 429, 500, 502-504"


class CurlParseError(ValueError):
    """The command cannot be read; `message` says what is wrong."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class CurlImport:
    params: dict
    unsupported: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        # The basic-auth password is a secret: never printed.
        params = dict(self.params)
        if "basic" in params:
            params["basic"] = {**params["basic"], "password": MASK}
        return f"CurlImport(params={params!r}, unsupported={self.unsupported!r})"


# --- Options ----------------------------------------------------------------------------------------------


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Every curl option, by long name. Options taking an argument:
_WITH_ARG = _names(
    """
    abstract-unix-socket alt-svc aws-sigv4 cacert capath cert cert-type ciphers config connect-timeout
    connect-to continue-at cookie cookie-jar create-file-mode crlfile curves data data-ascii data-binary
    data-raw data-urlencode delegation dns-interface dns-ipv4-addr dns-ipv6-addr dns-servers doh-url
    dump-header ech egd-file engine etag-compare etag-save expect100-timeout form form-string ftp-account
    ftp-alternative-to-user ftp-method ftp-port ftp-ssl-ccc-mode happy-eyeballs-timeout-ms haproxy-clientip
    header hostpubmd5 hostpubsha256 hsts interface ip-tos ipfs-gateway json keepalive-cnt
    keepalive-time key key-type krb libcurl limit-rate local-port login-options mail-auth mail-from
    mail-rcpt max-filesize max-redirs max-time netrc-file noproxy oauth2-bearer output output-dir
    parallel-max pass pinnedpubkey preproxy proto proto-default proto-redir proxy proxy-cacert
    proxy-capath proxy-cert proxy-cert-type proxy-ciphers proxy-crlfile proxy-header proxy-key
    proxy-key-type proxy-pass proxy-pinnedpubkey proxy-service-name proxy-tls13-ciphers
    proxy-tlsauthtype proxy-tlspassword proxy-tlsuser proxy-user proxy1.0 pubkey quote random-file range
    rate referer request request-target resolve retry retry-delay retry-max-time sasl-authzid
    service-name socks4 socks4a socks5 socks5-gssapi-service socks5-hostname speed-limit speed-time
    stderr telnet-option tftp-blksize time-cond tls-max tls13-ciphers tlsauthtype tlspassword tlsuser
    trace trace-ascii trace-config unix-socket upload-file url url-query user user-agent variable
    vlan-priority write-out
    """
)
# Options that are flags:
_FLAGS = _names(
    """
    anyauth append basic ca-native cert-status compressed compressed-ssh create-dirs crlf disable
    disable-eprt disable-epsv disallow-username-in-url doh-cert-status doh-insecure fail fail-early
    fail-with-body false-start follow form-escape ftp-create-dirs ftp-pasv ftp-pret ftp-skip-pasv-ip
    ftp-ssl-ccc ftp-ssl-control get globoff help haproxy-protocol head http0.9 http1.0 http1.1 http2
    http2-prior-knowledge http3 http3-only ignore-content-length include insecure ipv4 ipv6
    junk-session-cookies list-only location location-trusted manual mail-rcpt-allowfails metalink mptcp
    negotiate netrc netrc-optional next no-alpn no-buffer no-clobber no-keepalive no-npn
    no-progress-meter no-sessionid ntlm ntlm-wb parallel parallel-immediate path-as-is post301 post302
    post303 progress-bar proxy-anyauth proxy-basic proxy-digest proxy-http2 proxy-insecure
    proxy-negotiate proxy-ntlm proxy-ssl-allow-beast proxy-ssl-auto-client-cert proxy-tlsv1 proxytunnel
    raw remote-header-name remote-name remote-name-all remote-time remove-on-error retry-all-errors
    retry-connrefused sasl-ir show-error silent skip-existing socks5-basic socks5-gssapi
    socks5-gssapi-nec ssl ssl-allow-beast ssl-auto-client-cert ssl-no-revoke ssl-reqd
    ssl-revoke-best-effort sslv2 sslv3 styled-output suppress-connect-headers tcp-fastopen tcp-nodelay
    tftp-no-options tls-earlydata tlsv1 tlsv1.0 tlsv1.1 tlsv1.2 tlsv1.3 tr-encoding trace-ids
    trace-time use-ascii verbose version xattr digest
    """
)
_SHORT = {
    "0": "http1.0", "1": "tlsv1", "2": "sslv2", "3": "sslv3", "4": "ipv4", "6": "ipv6", ":": "next",
    "#": "progress-bar", "a": "append", "A": "user-agent", "b": "cookie", "B": "use-ascii",
    "c": "cookie-jar", "C": "continue-at", "d": "data", "D": "dump-header", "e": "referer", "E": "cert",
    "f": "fail", "F": "form", "g": "globoff", "G": "get", "h": "help", "H": "header", "i": "include",
    "I": "head", "j": "junk-session-cookies", "J": "remote-header-name", "k": "insecure", "K": "config",
    "l": "list-only", "L": "location", "m": "max-time", "M": "manual", "n": "netrc", "N": "no-buffer",
    "o": "output", "O": "remote-name", "p": "proxytunnel", "P": "ftp-port", "q": "disable", "Q": "quote",
    "r": "range", "R": "remote-time", "s": "silent", "S": "show-error", "t": "telnet-option",
    "T": "upload-file", "u": "user", "U": "proxy-user", "v": "verbose", "V": "version",
    "w": "write-out", "x": "proxy", "X": "request", "y": "speed-time", "Y": "speed-limit",
    "z": "time-cond", "Z": "parallel",
}  # fmt: skip
# Options that do not change the request our action sends: output, progress, protocol versions,
# TLS and connection tuning, options of other protocols (FTP, SSH, mail, telnet).
_IGNORED = _names(
    """
    alt-svc append basic ca-native cert-status ciphers compressed compressed-ssh connect-timeout
    cookie-jar create-dirs create-file-mode curves disable disable-eprt disable-epsv
    disallow-username-in-url dump-header expect100-timeout fail fail-early fail-with-body false-start
    form-escape ftp-create-dirs ftp-pasv ftp-pret ftp-skip-pasv-ip globoff happy-eyeballs-timeout-ms hsts
    http1.0 http1.1 http2 http2-prior-knowledge http3 http3-only include ipv4 ipv6 junk-session-cookies
    keepalive-cnt keepalive-time libcurl limit-rate list-only max-filesize max-redirs metalink mptcp
    no-alpn no-buffer no-clobber no-keepalive no-npn no-progress-meter no-sessionid noproxy output
    output-dir parallel parallel-immediate parallel-max path-as-is progress-bar proto proto-default
    proto-redir rate remote-header-name remote-name remote-name-all remote-time remove-on-error
    retry-all-errors retry-connrefused retry-max-time show-error silent skip-existing speed-limit
    speed-time ssl ssl-reqd sslv2 sslv3 stderr styled-output suppress-connect-headers tcp-fastopen
    tcp-nodelay tls-earlydata tls-max tls13-ciphers tlsv1 tlsv1.0 tlsv1.1 tlsv1.2 tlsv1.3 trace
    trace-ascii trace-config trace-ids trace-time use-ascii verbose write-out xattr
    egd-file engine etag-save ftp-account ftp-alternative-to-user ftp-method ftp-port ftp-ssl-ccc
    ftp-ssl-ccc-mode ftp-ssl-control hostpubmd5 hostpubsha256 http0.9 ignore-content-length ip-tos krb
    login-options mail-auth mail-from mail-rcpt mail-rcpt-allowfails pubkey random-file raw sasl-authzid
    sasl-ir ssl-no-revoke ssl-revoke-best-effort telnet-option tftp-blksize tftp-no-options tr-encoding
    vlan-priority
    """
)
# curl's -d family: data read from a file when it starts with @ (except --data-raw).
_DATA = {"data": True, "data-ascii": True, "data-binary": True, "data-raw": False}
_FORM_FIELD_PARAMS = re.compile(r";\s*(type|filename|headers|encoder)=.*$", re.DOTALL)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# A URL without a scheme that starts like a host (not like `$BASE_URL` or a `{{…}}` base URL).
_HOST_START = re.compile(r"^[A-Za-z0-9\[]")


# --- Words -----------------------------------------------------------------------------------------------


def _split_posix(text: str) -> list[str]:
    words: list[str] = []
    word: list[str] = []
    in_word = False
    i, n = 0, len(text)

    def finish() -> None:
        nonlocal word, in_word
        if in_word:
            words.append("".join(word))
        word, in_word = [], False

    while i < n:
        char = text[i]
        if char == "\\":
            if i + 1 < n and text[i + 1] != "\n":
                word.append(text[i + 1])
                in_word = True
            i += 2
        elif char in " \t\r\n":
            finish()
            i += 1
        elif char == "'":
            end = text.find("'", i + 1)
            if end < 0:
                raise CurlParseError(f"unterminated quote: the ' on line {_line(text, i)} is never closed")
            word.append(text[i + 1 : end])
            in_word, i = True, end + 1
        elif char == '"':
            i = _double_quoted(text, i, word)
            in_word = True
        elif char == "$" and text.startswith("'", i + 1):
            i = _ansi_c(text, i, word)
            in_word = True
        elif char == "$" and text.startswith('"', i + 1):
            i += 1  # $"…" is a translatable string: read as "…"
        elif char == "#" and not in_word:
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif char in "<>" or (char in "|;&" and not in_word):
            # A redirection or the next command: the curl command ends here ("2>" drops its "2").
            if char in "<>" and in_word and "".join(word).isdigit():
                word, in_word = [], False
            break
        else:
            # "&" or ";" inside a word is kept: an unquoted URL such as ?a=1&b=2 means what it says.
            word.append(char)
            in_word = True
            i += 1
    finish()
    return words


def _line(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _double_quoted(text: str, start: int, word: list[str]) -> int:
    i, n = start + 1, len(text)
    while i < n:
        char = text[i]
        if char == '"':
            return i + 1
        if char == "\\" and i + 1 < n and text[i + 1] in '$`"\\\n':
            if text[i + 1] != "\n":
                word.append(text[i + 1])
            i += 2
            continue
        word.append(char)
        i += 1
    raise CurlParseError(f'unterminated quote: the " on line {_line(text, start)} is never closed')


_ANSI_SIMPLE = {
    "a": b"\a", "b": b"\b", "e": b"\x1b", "E": b"\x1b", "f": b"\f", "n": b"\n", "r": b"\r",
    "t": b"\t", "v": b"\v", "\\": b"\\", "'": b"'", '"': b'"', "?": b"?",
}  # fmt: skip
_HEX = "0123456789abcdefABCDEF"


def _ansi_c(text: str, start: int, word: list[str]) -> int:
    """A bash `$'…'` string. Built as bytes: `\\xHH` and octal escapes are bytes (UTF-8 sequences)."""
    data = bytearray()
    i, n = start + 2, len(text)
    while i < n:
        char = text[i]
        if char == "'":
            try:
                word.append(data.decode())
            except UnicodeDecodeError:
                line = _line(text, start)
                raise CurlParseError(f"the $'…' string on line {line} is not valid UTF-8") from None
            return i + 1
        if char != "\\" or i + 1 >= n:
            data += char.encode()
            i += 1
            continue
        code = text[i + 1]
        i += 2
        if code in _ANSI_SIMPLE:
            data += _ANSI_SIMPLE[code]
        elif code in "xuU":
            limit = {"x": 2, "u": 4, "U": 8}[code]
            digits = ""
            while i < n and len(digits) < limit and text[i] in _HEX:
                digits += text[i]
                i += 1
            if not digits:
                data += b"\\" + code.encode()
            elif code == "x":
                data.append(int(digits, 16))
            else:
                try:
                    data += chr(int(digits, 16)).encode()
                except (ValueError, UnicodeEncodeError):
                    raise CurlParseError(f"\\{code}{digits} is not a character") from None
        elif code in "01234567":
            digits = code
            while i < n and len(digits) < 3 and text[i] in "01234567":
                digits += text[i]
                i += 1
            data.append(int(digits, 8) & 0xFF)
        elif code == "c" and i < n:
            data.append(ord(text[i].upper()) ^ 0x40 if text[i] != "?" else 0x7F)
            i += 1
        else:
            data += ("\\" + code).encode()
    raise CurlParseError(f"unterminated quote: the $' on line {_line(text, start)} is never closed")


def _split_windows(text: str) -> list[str]:
    """cmd.exe first removes its caret escapes (outside double quotes; `^` + newline continues the line),
    then curl.exe splits its command line by the C runtime's rules (backslashes before a quote)."""
    stage: list[str] = []
    quoted = False
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "^" and not quoted and i + 1 < n:
            if text[i + 1] != "\n":
                stage.append(text[i + 1])
            i += 2
            continue
        if char == '"':
            quoted = not quoted
        stage.append(char)
        i += 1
    line = "".join(stage)

    words: list[str] = []
    word: list[str] = []
    in_word = quoted = False
    i, n = 0, len(line)
    while i < n:
        char = line[i]
        if char == "\\":
            end = i
            while end < n and line[end] == "\\":
                end += 1
            count = end - i
            if end < n and line[end] == '"':
                word.append("\\" * (count // 2))
                if count % 2:
                    word.append('"')
                    end += 1
            else:
                word.append("\\" * count)
            in_word, i = True, end
        elif char == '"':
            if quoted and line.startswith('"', i + 1):
                word.append('"')
                i += 2
            else:
                quoted, in_word = not quoted, True
                i += 1
        elif char in " \t\r\n" and not quoted:
            if in_word:
                words.append("".join(word))
            word, in_word = [], False
            i += 1
        else:
            word.append(char)
            in_word = True
            i += 1
    if quoted:
        raise CurlParseError('unterminated quote: a " is never closed')
    if in_word:
        words.append("".join(word))
    return words


def _words(command: str) -> list[str]:
    text = command.strip()
    # Blanks (or a CR from a Windows clipboard) after a line-continuation backslash or caret are a
    # copy-and-paste accident, not an escaped blank. A CR anywhere else is kept, as in a shell.
    text = re.sub(r"\\[ \t\r]+\n", "\\\n", text)
    windows = re.search(r"\^[ \t\r]*\n", text) or re.match(r"curl(\.exe)?\s+\^\"", text, re.IGNORECASE)
    if windows:
        text = re.sub(r"\^[ \t\r]+\n", "^\n", text)
        return _split_windows(text)
    return _split_posix(text)


# --- Parsing ---------------------------------------------------------------------------------------------


@dataclass
class _Request:
    urls: list[str] = field(default_factory=list)
    method: str | None = None
    head: bool = False
    get: bool = False
    # (name, value, explicit): explicit rows come from -H; the others from -A, -e, -b, -r, --oauth2-bearer.
    headers: list[tuple[str, str, bool]] = field(default_factory=list)
    data: str | None = None
    # Data was given, even if only from a file we cannot read: curl would POST it.
    has_data: bool = False
    json: bool = False
    form: list[tuple[str, str]] = field(default_factory=list)
    url_query: list[str] = field(default_factory=list)
    user: str | None = None
    cookies: list[str] = field(default_factory=list)
    follow: bool = False
    timeout: float | None = None
    retries: int = 0
    retry_delay: float | None = None
    unsupported: list[str] = field(default_factory=list)

    def skip(self, what: str) -> None:
        if what not in self.unsupported:
            self.unsupported.append(what)

    def add_data(self, piece: str | None, *, is_json: bool = False) -> None:
        # curl joins -d pieces with "&"; --json pieces are concatenated as they are.
        self.has_data = True
        if piece is None:
            return
        if self.data is None:
            self.data = piece
        else:
            self.data += piece if is_json else "&" + piece


def parse_curl(command: str) -> CurlImport:
    """The HTTP action params a curl command describes, and the options it uses that cannot be honoured."""
    words = _words(command)
    if words and words[0] in ("$", "%", ">"):
        words = words[1:]  # a shell prompt copied along with the command
    if not words or _program(words[0]) not in ("curl", "curl.exe"):
        raise CurlParseError("not a curl command: it should start with curl")
    request = _Request()
    args = iter(words[1:])
    only_urls = False
    for word in args:
        if only_urls or not word.startswith("-") or word == "-":
            request.urls.append(word)
        elif word == "--":
            only_urls = True
        elif word.startswith("--"):
            name, has_value, value = word[2:].partition("=")
            if name in _WITH_ARG:
                _apply(request, name, value if has_value else _argument(args, word))
            elif name in _FLAGS and not has_value:
                _apply(request, name, None)
            elif name.startswith("no-") and name[3:] in _FLAGS and not has_value:
                _apply(request, name[3:], None, negated=True)
            elif name.startswith("expand-") and name[7:] in _WITH_ARG:
                request.skip("--variable")
                _apply(request, name[7:], value if has_value else _argument(args, word))
            else:
                raise CurlParseError(f"unknown option {word.split('=')[0]}")
        else:
            _short_options(request, word, args)
    return _build(request)


def _program(word: str) -> str:
    path = PureWindowsPath(word) if "\\" in word else PurePosixPath(word)
    return path.name.lower()


def _argument(args, option: str) -> str:
    value = next(args, None)
    if value is None:
        raise CurlParseError(f"option {option} needs a value")
    return value


def _short_options(request: _Request, word: str, args) -> None:
    letters = word[1:]
    for index, letter in enumerate(letters):
        name = _SHORT.get(letter)
        if name is None:
            raise CurlParseError(f"unknown option -{letter}")
        if name in _WITH_ARG:
            rest = letters[index + 1 :]
            _apply(request, name, rest if rest else _argument(args, f"-{letter}"))
            return
        _apply(request, name, None)


def _apply(request: _Request, name: str, value: str | None, *, negated: bool = False) -> None:
    """One option. `value` is its argument (None for a flag)."""
    match name:
        case "url":
            request.urls.append(value)
        case "request":
            request.method = value
        case "header":
            _header(request, value)
        case "data" | "data-ascii" | "data-binary" | "data-raw":
            if _DATA[name] and value.startswith("@"):
                request.skip(f"--{name} @file")
                request.add_data(None)
            else:
                request.add_data(value)
        case "data-urlencode":
            if (piece := _urlencoded(value)) is None:
                request.skip("--data-urlencode @file")
            request.add_data(piece)
        case "json":
            request.json = True
            if value.startswith("@"):
                request.skip("--json @file")
                request.add_data(None, is_json=True)
            else:
                request.add_data(value, is_json=True)
        case "form" | "form-string":
            _form_field(request, name, value)
        case "url-query":
            _url_query(request, value)
        case "get":
            request.get = not negated
        case "head":
            request.head = not negated
        case "location" | "location-trusted" | "follow":
            request.follow = not negated
        case "user":
            request.user = value
        case "user-agent":
            request.headers.append(("User-Agent", value, False))
        case "referer":
            referer = value.removesuffix(";auto")
            if referer:
                request.headers.append(("Referer", referer, False))
        case "cookie":
            if "=" in value:
                request.cookies.append(value)
            else:
                request.skip("--cookie file")
        case "oauth2-bearer":
            request.headers.append(("Authorization", f"Bearer {value}", False))
        case "range":
            request.headers.append(("Range", f"bytes={value}", False))
        case "max-time":
            request.timeout = _number(value, "--max-time")
        case "retry":
            request.retries = int(_number(value, "--retry"))
        case "retry-delay":
            request.retry_delay = _number(value, "--retry-delay")
        case "help" | "manual" | "version":
            raise CurlParseError(f"--{name} does not send a request")
        case _ if name in _IGNORED or negated:
            pass
        case _:
            request.skip(f"--{name}")


def _number(value: str, option: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise CurlParseError(f"{option} needs a number, not {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise CurlParseError(f"{option} needs a positive number, not {value!r}")
    return number


def _header(request: _Request, value: str) -> None:
    if value.startswith("@"):
        request.skip("--header @file")
        return
    colon, semicolon = value.find(":"), value.find(";")
    if colon > 0 and (semicolon < 0 or colon < semicolon):
        name, header_value = value[:colon].strip(), value[colon + 1 :].strip()
        # "Name:" with nothing after it tells curl to remove one of its own headers: nothing to send.
        if header_value:
            request.headers.append((name, header_value, True))
    elif semicolon > 0 and not value[semicolon + 1 :].strip():
        request.headers.append((value[:semicolon].strip(), "", True))  # "Name;" sends an empty header
    else:
        raise CurlParseError(f"header {value!r} has no name: write it as 'Name: value'")


def _urlencoded(value: str) -> str | None:
    """One --data-urlencode argument as curl encodes it (its man page's five forms); None for a file."""
    if "=" in value:
        name, _, content = value.partition("=")
    elif "@" in value:
        return None
    else:
        name, content = "", value
    encoded = quote(content, safe="")
    return f"{name}={encoded}" if name else encoded


def _url_query(request: _Request, value: str) -> None:
    # --url-query: like --data-urlencode, but "+" in front means "already encoded".
    if value.startswith("+"):
        request.url_query.append(value[1:])
    elif (piece := _urlencoded(value)) is None:
        request.skip("--url-query @file")
    else:
        request.url_query.append(piece)


def _form_field(request: _Request, option: str, value: str) -> None:
    name, has_value, content = value.partition("=")
    if not has_value or not name:
        raise CurlParseError(f"--{option} {value!r} should be name=content")
    if option == "form":
        if content.startswith(("@", "<")):
            request.skip("--form @file")
            return
        if content.startswith('"') and content.endswith('"') and len(content) > 1:
            content = content[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        else:
            content = _FORM_FIELD_PARAMS.sub("", content)
    request.form.append((name, content))


# --- Building the params ---------------------------------------------------------------------------------


def _build(request: _Request) -> CurlImport:
    if not request.urls:
        raise CurlParseError("no URL: a curl command names the URL to call")
    if len(request.urls) > 1:
        urls = ", ".join(request.urls[:3])
        raise CurlParseError(f"more than one URL ({urls}): import one request at a time")
    if request.form and (request.has_data or request.get):
        raise CurlParseError("-F cannot be combined with -d or -G: curl refuses it too")
    params: dict = {}
    unsupported = request.unsupported

    url, query, userinfo = _split_url(request.urls[0].strip())
    extra_query = list(request.url_query)
    body, posts = request.data, request.has_data or bool(request.form)
    if request.get:
        if body is not None:
            extra_query.append(body)
        body, posts = None, False
    query = "&".join(part for part in [query, *extra_query] if part)
    query_rows = _pairs(query) if query else []
    if query_rows is None:
        url = f"{url}?{query}"
    params["url"] = url

    method = "POST" if posts else "GET"
    if request.head:
        unsupported.append("--head")
    if request.method is not None:
        if request.method.upper() in METHODS:
            method = request.method.upper()
        else:
            unsupported.append(f"--request {request.method}")
    params["method"] = method

    headers = _headers(request)
    content_type, payload, headers = _body(request, body if posts else None, headers)
    params["headers"] = [{"key": name, "value": value} for name, value in headers]
    params["params"] = [{"key": key, "value": value} for key, value in query_rows or []]
    if content_type is not None:
        params["content_type"] = content_type
    if payload is not None:
        params["payload"] = payload

    user = request.user if request.user is not None else userinfo
    if user is not None:
        username, _, password = user.partition(":")
        params["basic"] = {"username": username, "password": password}
    if request.follow:
        params["follow_redirects"] = True
    if request.timeout is not None:
        timeout = min(max(request.timeout, 1), MAX_TIMEOUT)
        params["timeout"] = int(timeout) if timeout == int(timeout) else timeout
    if request.retries > 0:
        params["retry"] = {
            "attempts": min(request.retries + 1, MAX_ATTEMPTS),
            "backoff": "fixed" if request.retry_delay else "exponential",
            "delay": float(min(request.retry_delay or 1, MAX_RETRY_DELAY)),
            "on_statuses": CURL_RETRY_STATUSES,
        }
    return CurlImport(params=params, unsupported=unsupported)


def _split_url(url: str) -> tuple[str, str, str | None]:
    """(URL without query and fragment, the query, decoded `user:password` from the URL or None)."""
    if not _SCHEME.match(url) and _HOST_START.match(url):
        url = "http://" + url  # what curl does with a URL without a scheme
    url = url.split("#", 1)[0]
    url, _, query = url.partition("?")
    scheme, separator, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if not separator or "@" not in authority:
        return url, query, None
    raw, _, authority = authority.rpartition("@")
    return f"{scheme}://{authority}{slash}{path}", query, unquote(raw)


def _pairs(text: str) -> list[tuple[str, str]] | None:
    """`a=1&b=x+y` → decoded pairs, or None when pairs cannot reproduce the text (a part without `=` or
    with an empty name, bytes that are not UTF-8). Empty parts (`a=1&&b=2`) are skipped, as by every
    decoder."""
    pairs = []
    for part in text.split("&"):
        if not part:
            continue
        key, has_value, value = part.partition("=")
        if not has_value or not key:
            return None
        try:
            pairs.append((unquote_plus(key, errors="strict"), unquote_plus(value, errors="strict")))
        except UnicodeDecodeError:
            return None
    return pairs


def _headers(request: _Request) -> list[tuple[str, str]]:
    explicit = {name.lower() for name, _, is_explicit in request.headers if is_explicit}
    headers = [
        (name, value)
        for name, value, is_explicit in request.headers
        if is_explicit or name.lower() not in explicit
    ]
    if request.cookies:
        headers.append(("Cookie", "; ".join(request.cookies)))
    if request.json and "accept" not in explicit:
        headers.append(("Accept", "application/json"))
    return _merged(headers)


def _merged(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """One row per header name, where the first one was: the action sends a name once, so the values of a
    repeated header are joined as HTTP defines it (RFC 9110 §5.3: ", "; cookies: "; ")."""
    merged: dict[str, tuple[str, list[str]]] = {}
    for name, value in headers:
        merged.setdefault(name.lower(), (name, []))[1].append(value)
    return [
        (name, ("; " if name.lower() == "cookie" else ", ").join(value for value in values if value))
        for name, values in merged.values()
    ]


def _body(
    request: _Request, body: str | None, headers: list[tuple[str, str]]
) -> tuple[str | None, object, list[tuple[str, str]]]:
    """(content_type, payload, headers): the body in the representation that sends it unchanged. The
    payload is None when there is no body (or only one read from a file), the content type then too
    unless the command declares one."""
    declared = next((value for name, value in reversed(headers) if name.lower() == "content-type"), None)
    if request.form:
        fields = _fields(request.form)
        if declared is not None and declared.lower().startswith("multipart/form-data"):
            headers = _without_content_type(headers)
        return "FORM", fields, _drop_implied(headers, "FORM")
    if not body:
        if request.json:
            return "JSON", None, headers
        kind = _declared_kind(declared) if request.has_data and declared else None
        return kind, None, _drop_implied(headers, kind) if kind else headers
    if declared is None:
        if request.json or _is_json(body):
            return "JSON", body, headers
        if (pairs := _pairs(body)) is not None:
            return "FORM", _fields(pairs), headers
        return _as_typed(body), body, [*headers, ("Content-Type", CONTENT_TYPES["FORM"])]
    kind = _declared_kind(declared)
    if kind == "FORM":
        if (pairs := _pairs(body)) is not None:
            return "FORM", _fields(pairs), _drop_implied(headers, "FORM")
    elif kind is not None:
        return kind, body, _drop_implied(headers, kind)
    return _as_typed(body), body, headers


def _declared_kind(content_type: str) -> str | None:
    """The action's content type for a Content-Type header, or None for any other media type."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return "JSON"
    if media in ("application/xml", "text/xml") or media.endswith("+xml"):
        return "XML"
    if media == CONTENT_TYPES["FORM"]:
        return "FORM"
    return None


def _as_typed(body: str) -> str:
    """The content type under which the action sends this text byte for byte (its own Content-Type header
    says what it really is): JSON text is sent as typed, and so is XML text that is not a JSON object."""
    return "JSON" if _is_json(body) else "XML"


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return text.lstrip()[:1] in ("{", "[")


def _fields(pairs: list[tuple[str, str]]) -> dict:
    """Form pairs as the action's FORM payload: an object whose repeated keys hold lists."""
    fields: dict = {}
    for key, value in pairs:
        if key not in fields:
            fields[key] = value
        elif isinstance(fields[key], list):
            fields[key].append(value)
        else:
            fields[key] = [fields[key], value]
    return fields


def _without_content_type(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in headers if name.lower() != "content-type"]


def _drop_implied(headers: list[tuple[str, str]], content_type: str) -> list[tuple[str, str]]:
    """Drop a Content-Type header that only repeats what `content_type` sends anyway."""
    implied = CONTENT_TYPES[content_type]
    return [
        (name, value)
        for name, value in headers
        if not (name.lower() == "content-type" and value.strip().lower() == implied)
    ]


# --- Writing ---------------------------------------------------------------------------------------------

# Headers curl computes itself: a stale Content-Length (the secret is longer than its mask) would break
# the request.
_COMPUTED = frozenset({"content-length", "transfer-encoding"})


def shell_quote(text: str) -> str:
    """POSIX single quotes: everything literal; a ' is written '\\''."""
    return "'" + text.replace("'", "'\\''") + "'"


def to_curl(method: str, url: str, headers: list[tuple[str, str]], body: str | None) -> str:
    """The request as sent (secrets already masked) as a curl command, one option per line."""
    lines = [f"curl {shell_quote(url)}"]
    if any(char in url for char in "[]{}"):
        lines.append("--globoff")  # curl would read brackets and braces as URL globs
    method = method.upper()
    if not (method == "GET" and body is None) and not (method == "POST" and body is not None):
        lines.append(f"-X {shell_quote(method) if not method.isalpha() else method}")
    compressed = False
    for name, value in headers:
        lowered = name.lower()
        if lowered in _COMPUTED:
            continue
        if lowered == "accept-encoding":
            compressed = True  # curl decodes the answer only when it asked with --compressed
            continue
        # "Name:" would remove the header; "Name;" is curl's spelling of an empty one.
        lines.append(f"-H {shell_quote(f'{name}: {value}' if value else f'{name};')}")
    if compressed:
        lines.append("--compressed")
    if body is not None:
        lines.append(f"--data-raw {shell_quote(body)}")
    return " \\\n  ".join(lines)
