"""HTTP Request (`HTTP/SEND_REQUEST`): calls an external API and hands its response to later actions.

Stored params — Auth0's shape, plus optional extras that are left out when they hold their default:

    {
      "connection_id": "<vault connection id or name>",      optional
      "url": "https://api.example.com/users/{{fields.id}}",  required, http or https
      "method": "GET" | "POST" | "PUT" | "PATCH" | "DELETE",  default GET
      "content_type": "JSON" | "FORM" | "XML",                default JSON
      "payload": {…} | […] | "text",                          optional: the body (see below)
      "headers": [{"key": "Accept", "value": "application/json"}, …],
      "params": [{"key": "tag", "value": "a"}, {"key": "tag", "value": "b"}, …],
      "basic": {"username": "…"},                             present = "Enable Basic Auth"
      "timeout": 30,                                          seconds, 1 to 120 (default: the setting)
      "follow_redirects": false,                              default true (at most 5 hops)
      "retry": {"attempts": 3, "backoff": "exponential", "delay": 1.0, "on_statuses": "429, 502-504"},
      "success_statuses": "200-299, 304"                      default 200-299
    }

`headers` and `params` are rows (order kept, a key may repeat); Auth0's object form (`{"Accept": "…"}`)
is read too. The basic-auth password is a secret: it lives in the action's `secret_params`
(`{"basic_password": "…"}`), never in `params`.

An OAuth client-credentials connection sends `Authorization: Bearer <token>`, the token fetched and
cached by the outbound client; when the upstream answers 401, a new token is fetched and the request
sent once more. Values masked with `functions.mask(…)` are sent as they are, and masked wherever the
request or its echo in the response is shown, whether they sit in a header, the URL or the body.

The payload is sent, whatever the method, whenever it is present (the editor always shows it, so no
hidden body is ever sent). By `content_type`:
- JSON: a structure whose strings are templates (a string that is exactly one `{{…}}` keeps the value's
  type; object keys whose value is undefined are dropped), or JSON *text* in which `{{…}}` may stand
  for a value (`{"ids": {{actions.s1.body.ids}}}`) — the text is read as the same structure, so the
  result is valid JSON whatever the values hold. Text that is only one expression whose value is text is
  sent as is (it already is JSON).
- FORM: an object of flat fields (or the same as JSON text); a list value repeats the key.
- XML: text, sent as typed with substituted values XML-escaped; or an object, serialized to XML.
"""

import json
import re
from typing import Any
from urllib.parse import quote, urlencode, urlsplit
from xml.sax.saxutils import escape as xml_escape

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import QueryDict

from actions import http_client
from actions.catalog import (
    ActionFailed,
    ActionResult,
    ActionType,
    ParamsForm,
    RowsField,
    RunContext,
    register,
)
from actions.catalog.xml_actions import to_xml
from actions.expressions import (
    UNDEFINED,
    Expression,
    ExpressionError,
    check,
    parse_template,
    references,
    resolve,
    reveal,
    to_text,
)
from actions.functions import find_secrets, masked
from vault import api as vault
from vault.checks import CheckResult
from vault.crypto import DecryptionError
from vault.models import Connection
from vault.secrets import MASK, Secret

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
CONTENT_TYPES = {
    "JSON": "application/json",
    "FORM": "application/x-www-form-urlencoded",
    "XML": "application/xml",
}
DEFAULT_SUCCESS = "200-299"
DEFAULT_RETRY_ON = "429, 502-504"
BACKOFFS = (("fixed", "Fixed delay"), ("exponential", "Exponential (doubles each time)"))
MAX_REDIRECTS = 5
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization"})
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
XML_NAME = re.compile(r"[A-Za-z_][\w.-]*")


# --- Params as stored ----------------------------------------------------------------------------------


def rows(value: Any) -> list[tuple[str, Any]]:
    """Key/value rows, from our list of `{"key", "value"}` or from Auth0's object form."""
    if isinstance(value, dict):
        return [(str(key), item) for key, item in value.items()]
    if isinstance(value, list):
        return [(str(row.get("key", "")), row.get("value", "")) for row in value if isinstance(row, dict)]
    return []


def parse_statuses(text: str) -> frozenset[int]:
    """ "200-299, 304" → the set of status codes; ValueError saying what is wrong."""
    codes: set[int] = set()
    for item in re.split(r"[,\s]+", text.strip()):
        if not item:
            continue
        low, _, high = item.partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError:
            raise ValueError(f'"{item}" is not a status code or a range such as 200-299.') from None
        if not 100 <= first <= last <= 599:
            raise ValueError(f'"{item}" is not within 100-599 (or the range is reversed).')
        codes.update(range(first, last + 1))
    if not codes:
        raise ValueError("Give at least one status code, e.g. 200-299.")
    return frozenset(codes)


_MARK = re.compile("\ufdd0([0-9]+)\ufdd1")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def loads(text: str) -> Any:
    """Strict JSON: NaN and Infinity, which json.loads takes, are not JSON."""
    return json.loads(text, parse_constant=_reject_constant)


def json_text_structure(text: str) -> Any:
    """JSON text in which `{{…}}` may stand for a value or sit inside a string → the same structure with
    each expression as a template string (`{"ids": {{x}}}` → `{"ids": "{{x}}"}`).

    Raises ExpressionError for a bad expression and ValueError for text that is not JSON.
    """
    template = parse_template(text)
    pieces: list[str] = []
    expressions: list[Expression] = []
    in_string = escaped = False
    for part in template.parts:
        if isinstance(part, Expression):
            # A marker stands for the expression while the JSON is parsed (U+FDD0/U+FDD1 are noncharacters).
            marker = f"\ufdd0{len(expressions)}\ufdd1"
            expressions.append(part)
            pieces.append(marker if in_string else f'"{marker}"')
            continue
        for char in part:
            if escaped:
                escaped = False
            elif in_string and char == "\\":
                escaped = True
            elif char == '"':
                in_string = not in_string
        pieces.append(part)
    try:
        parsed = loads("".join(pieces))
    except json.JSONDecodeError as error:
        raise ValueError(f"Not valid JSON: {error.msg} (line {error.lineno}).") from None
    except ValueError as error:
        raise ValueError(f"Not valid JSON: {error}.") from None

    def restore(value: Any) -> Any:
        if isinstance(value, str):
            return _MARK.sub(lambda m: "{{" + expressions[int(m[1])].source + "}}", value)
        if isinstance(value, dict):
            return {restore(key): restore(item) for key, item in value.items()}
        if isinstance(value, list):
            return [restore(item) for item in value]
        return value

    return restore(parsed)


def payload_structure(payload: Any) -> Any:
    """A payload as a structure of templates: JSON text is read (see `json_text_structure`)."""
    return json_text_structure(payload) if isinstance(payload, str) else payload


def form_pairs_problem(structure: Any) -> str | None:
    """Why a FORM payload is not flat fields, naming the key; None when it is."""
    if not isinstance(structure, dict):
        return 'A form body must be an object of fields, e.g. {"name": "Ada", "tags": ["a", "b"]}.'
    for key, value in structure.items():
        items = value if isinstance(value, list) else [value]
        if any(isinstance(item, dict | list) for item in items):
            return f'Form field "{key}" holds a nested object or list: a form body takes flat values only.'
    return None


def xml_names_problem(value: Any) -> str | None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not XML_NAME.fullmatch(key) or key.lower().startswith("xml"):
                return f'"{key}" cannot be an XML element name.'
            if problem := xml_names_problem(item):
                return problem
    elif isinstance(value, list):
        for item in value:
            if problem := xml_names_problem(item):
                return problem
    return None


def authorization_note(params: dict) -> str | None:
    """Which Authorization is sent when several are set (user header > basic > connection)."""
    has_connection = bool(params.get("connection_id"))
    user_header = any(key.strip().lower() == "authorization" for key, _ in rows(params.get("headers")))
    basic = bool(params.get("basic"))
    if user_header and (basic or has_connection):
        others = " and ".join(
            name for name, present in (("basic auth", basic), ("the connection", has_connection)) if present
        )
        return f"Authorization: your header is sent; the one from {others} is not."
    if basic and has_connection:
        return (
            "Authorization: basic auth is sent; the connection's Authorization header is not "
            "(its other headers and query params still are)."
        )
    return None


# --- Building the request ------------------------------------------------------------------------------


def _failed(code: str, message: str) -> ActionFailed:
    return ActionFailed(
        code, message, output=http_client.failure_output(http_client.OutboundError(code, message))
    )


def _encode_component(text: str) -> str:
    """JavaScript's encodeURIComponent."""
    try:
        return quote(text, safe="!*'()")
    except UnicodeEncodeError:
        raise _failed("invalid_request", "url: a value is not valid Unicode text.") from None


def _revealed(value: Any, found: list[Secret]) -> Any:
    """The real value for the wire, noting each masked value inside it in `found`, so that the client
    masks it wherever the request or its echo is shown."""
    find_secrets(value, found)
    return reveal(value)


def build_url(url: str, scope: dict, found: list[Secret], undefined: list[dict] | None = None) -> str:
    """The URL with its expressions substituted (DESIGN §4.1): literal text as typed; an expression
    percent-encoded as a URI component, unless it starts the URL (a base URL) or is already
    `functions.encodeURIComponent(…)`. Masked values go to `found`, undefined ones to `undefined`."""
    pieces = []
    for index, part in enumerate(parse_template(url.strip()).parts):
        if isinstance(part, str):
            pieces.append(part)
            continue
        try:
            value = part.evaluate(scope)
        except ExpressionError as error:
            raise error.with_param("url") from None
        if value is UNDEFINED and undefined is not None:
            where = "the URL starts with" if index == 0 else "the URL has"
            _note(undefined, f"{{{{{part.source}}}}}", f"{where} empty text where it stands")
        text = to_text(_revealed(value, found))
        pieces.append(text if index == 0 or part.is_call("encodeURIComponent") else _encode_component(text))
    return "".join(pieces)


def _text_value(value: Any) -> str | Secret:
    """A resolved value as text; a value holding a masked one (itself, or inside a list or object) is a
    Secret whose display keeps the mask."""
    secrets = find_secrets(value, [])
    if not secrets:
        return to_text(value)
    return masked(to_text(reveal(value)), secrets, display=to_text(value))


def build_query(
    params: dict, scope: dict, undefined: list[dict] | None = None
) -> list[tuple[str, str | Secret]]:
    query = []
    for index, (key, value) in enumerate(rows(params.get("params"))):
        try:
            name, resolved = to_text(resolve(key, scope)), resolve(value, scope)
        except ExpressionError as error:
            raise error.with_param(f"params[{index}]") from None
        if undefined is not None:
            _note_row(undefined, value, scope, resolved, f'the URL param "{name}"')
        if resolved is UNDEFINED:
            continue
        for item in resolved if isinstance(resolved, list) else [resolved]:
            query.append((name, _text_value(item)))
    return query


def _note(undefined: list[dict], expression: str, effect: str) -> None:
    note = {"expression": expression, "effect": effect}
    if note not in undefined:
        undefined.append(note)


def _undefined_parts(value: Any, scope: dict) -> list[str]:
    """The `{{…}}` of a template whose value is undefined. They are evaluated a second time, only to
    explain a result; an error is left to the evaluation that builds the request."""
    if not isinstance(value, str) or "{{" not in value:
        return []
    try:
        parts = parse_template(value).parts
        return [
            f"{{{{{part.source}}}}}"
            for part in parts
            if isinstance(part, Expression) and part.evaluate(scope) is UNDEFINED
        ]
    except ExpressionError:
        return []


def _note_row(undefined: list[dict], value: Any, scope: dict, resolved: Any, what: str) -> None:
    """A header or URL param row: left out when its value is undefined, else it has empty text."""
    effect = f"{what} was not sent" if resolved is UNDEFINED else f"{what} has empty text where it stands"
    for expression in _undefined_parts(value, scope):
        _note(undefined, expression, effect)


def note_undefined_in_body(params: dict, scope: dict, undefined: list[dict]) -> None:
    """What the undefined values of the payload did to the body (a field left out, empty text…)."""
    payload = params.get("payload")
    if payload is None or payload == "":
        return
    content_type = params.get("content_type") or "JSON"
    if isinstance(payload, str) and content_type == "JSON" and parse_template(payload).single_expression:
        effect = "no body was sent"
    elif isinstance(payload, str) and content_type == "XML" and _is_xml_text(payload):
        effect = "the body has empty text where it stands"
    else:
        try:
            structure = payload_structure(payload)
        except ValueError:  # ExpressionError too: building the body reports it
            return
        _note_structure(structure, "", None, scope, undefined)
        return
    for expression in _undefined_parts(payload, scope):
        _note(undefined, expression, effect)


def _note_structure(value: Any, path: str, container: type | None, scope: dict, undefined: list) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _note_structure(item, f"{path}.{key}" if path else str(key), dict, scope, undefined)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _note_structure(item, f"{path}[{index}]", list, scope, undefined)
    elif expressions := _undefined_parts(value, scope):
        single = parse_template(value).single_expression is not None
        if single and container is dict:
            effect = f'the body field "{path}" was left out'
        elif single and container is list:
            effect = f"the body item {path} is null"
        elif path:
            effect = f'the body field "{path}" has empty text where it stands'
        else:
            effect = "the body has empty text where it stands"
        for expression in expressions:
            _note(undefined, expression, effect)


def _check_header(name: str, value: str | Secret, origin: str) -> None:
    text = value.reveal() if isinstance(value, Secret) else value
    if not HEADER_NAME.fullmatch(name):
        raise _failed("invalid_request", f'{origin}: "{name[:40]}" is not a valid header name.')
    if any(char in str(text) for char in "\r\n\x00"):
        raise _failed("invalid_request", f'{origin}: the value of header "{name}" contains a line break.')


def _set_header(headers: list[tuple[str, str | Secret]], name: str, value: str | Secret) -> None:
    """Case-insensitive replace: a later source overrides an earlier one, never duplicates it."""
    headers[:] = [(key, item) for key, item in headers if key.lower() != name.lower()]
    headers.append((name, value))


def _user_header_value(name: str, value: str | Secret) -> str | Secret:
    """A typed Authorization is masked in records ("Bearer ********") like a vault secret."""
    if name.lower() not in SENSITIVE_HEADERS or isinstance(value, Secret):
        return value
    scheme, _, credentials = value.partition(" ")
    display = f"{scheme} {MASK}" if credentials else MASK
    return Secret(value, display=display, sensitive=(credentials.strip() or value,))


def _serialize_xml(value: Any) -> str:
    """An object payload as XML, by the same rules as the Serialize XML action (root `root` unless the
    object has a single top-level key)."""
    try:
        return to_xml(value)
    except ValueError as error:
        raise _failed("invalid_request", f"payload: {error}") from None


def _xml_text(text: str, scope: dict, found: list[Secret]) -> str:
    pieces = []
    for part in parse_template(text).parts:
        if isinstance(part, str):
            pieces.append(part)
        else:
            value = to_text(_revealed(part.evaluate(scope), found))
            pieces.append(xml_escape(value, {'"': "&quot;", "'": "&apos;"}))
    return "".join(pieces)


def build_body(params: dict, scope: dict, found: list[Secret]) -> tuple[bytes | None, str | None]:
    """The body bytes and the Content-Type that goes with them (None, None: no body). Masked values go
    to `found`."""
    try:
        return _body(params, scope, found)
    except ExpressionError as error:
        raise error.with_param(f"payload.{error.param}" if error.param else "payload") from None


def _body(params: dict, scope: dict, found: list[Secret]) -> tuple[bytes | None, str | None]:
    payload = params.get("payload")
    if payload is None or payload == "":
        return None, None
    content_type = params.get("content_type") or "JSON"
    if isinstance(payload, str) and content_type == "XML" and _is_xml_text(payload):
        return _xml_text(payload, scope, found).encode(), CONTENT_TYPES["XML"]
    if isinstance(payload, str) and content_type == "JSON":
        if "{{" not in payload:
            return payload.encode(), CONTENT_TYPES["JSON"]
        if (single := parse_template(payload).single_expression) is not None:
            # JSON text that is one expression: text is already JSON (sent as is), anything else is dumped.
            value = _revealed(single.evaluate(scope), found)
            if value is UNDEFINED:
                return None, None
            return (value if isinstance(value, str) else _json_text(value)).encode(), CONTENT_TYPES["JSON"]
    try:
        structure = payload_structure(payload)
    except ValueError as error:
        raise _failed("invalid_request", f"payload: {error}") from None
    resolved = _revealed(resolve(structure, scope), found)
    if content_type == "FORM":
        if problem := form_pairs_problem(resolved):
            raise _failed("invalid_request", f"payload: {problem}")
        pairs = [
            (key, to_text(item))
            for key, value in resolved.items()
            for item in (value if isinstance(value, list) else [value])
        ]
        return urlencode(pairs).encode(), CONTENT_TYPES["FORM"]
    if content_type == "XML":
        return _serialize_xml(resolved).encode(), CONTENT_TYPES["XML"]
    return _json_text(resolved).encode(), CONTENT_TYPES["JSON"]


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _is_xml_text(payload: str) -> bool:
    """An XML payload given as text is XML, unless it is a JSON object (the structure, typed as text)."""
    try:
        return not isinstance(json_text_structure(payload), dict)
    except ValueError:
        return True


def build_request(
    params: dict, ctx: RunContext, undefined: list[dict] | None = None
) -> tuple[http_client.OutboundRequest, vault.Credential | None]:
    """The request exactly as it goes on the wire (DESIGN §4.1), and the vault credential it uses.

    An OAuth client-credentials connection adds no header here: `run` fetches its token, so that
    building a request (e.g. to copy it as cURL) never calls the token endpoint.
    Each expression whose value is undefined goes to `undefined` as `{"expression", "effect"}`: what it
    did to the request (a header left out, an empty part of the URL…).
    """
    scope = ctx.scope
    found: list[Secret] = []
    url = build_url(str(params.get("url") or ""), scope, found, undefined)
    try:
        host = urlsplit(http_client.normalize_url(url)).hostname or ""
    except http_client.OutboundError as error:
        raise _failed(error.code, f"url: {error.message}") from None
    method = str(params.get("method") or "GET").upper()
    if method not in METHODS:
        raise _failed("invalid_request", f'method: "{method}" is not one of {", ".join(METHODS)}.')

    credential = None
    if ref := params.get("connection_id"):
        try:
            credential = vault.credential_for(str(ref))
        except vault.CredentialUnavailable as error:
            raise _failed("invalid_request", str(error)) from None
        if not vault.is_host_allowed(credential, host):
            raise _failed(
                "blocked_destination",
                f'Connection "{credential.name}" may only be sent to {", ".join(credential.allowed_hosts)}; '
                f'the URL goes to "{host}".',
            )

    body, default_type = build_body(params, scope, found)
    if undefined is not None:
        note_undefined_in_body(params, scope, undefined)
    headers: list[tuple[str, str | Secret]] = []
    if default_type:
        headers.append(("Content-Type", default_type))
    query = build_query(params, scope, undefined)
    if credential:
        for name, value in credential.headers:
            _check_header(name, value, f'connection "{credential.name}"')
            _set_header(headers, name, value)
        user_keys = {key for key, _ in query}
        query.extend((name, value) for name, value in credential.query if name not in user_keys)
    if basic := params.get("basic"):
        try:
            username = basic.get("username") if isinstance(basic, dict) else ""
            if undefined is not None:
                for expression in _undefined_parts(username, scope):
                    _note(undefined, expression, "the basic auth username has empty text where it stands")
            username = to_text(_revealed(resolve(str(username or ""), scope), found))
        except ExpressionError as error:
            raise error.with_param("basic.username") from None
        password = _basic_password(ctx.secret_params)
        if not username or not password or ":" in username:
            raise _failed(
                "invalid_request", "basic: basic auth is enabled but has no valid username or password."
            )
        _set_header(headers, "Authorization", vault.basic_auth_secret(username, password))
    for index, (name, value) in enumerate(rows(params.get("headers"))):
        try:
            resolved = resolve(value, scope)
        except ExpressionError as error:
            raise error.with_param(f"headers[{index}].value") from None
        name = name.strip()
        if undefined is not None:
            _note_row(undefined, value, scope, resolved, f"the header {name}")
        if resolved is UNDEFINED:
            continue
        text = _text_value(resolved)
        if isinstance(text, str):
            text = text.strip()
        _check_header(name, text, f"headers[{index}]")
        _set_header(headers, name, _user_header_value(name, text))

    timeout = min(
        float(params.get("timeout") or settings.FLOWS_HTTP_DEFAULT_TIMEOUT), settings.FLOWS_HTTP_MAX_TIMEOUT
    )
    retry = params.get("retry")
    request = http_client.OutboundRequest(
        method=method,
        url=url,
        headers=headers,
        query=query,
        body=body,
        timeout=timeout,
        follow_redirects=params.get("follow_redirects", True) is not False,
        max_redirects=MAX_REDIRECTS,
        success_statuses=parse_statuses(params["success_statuses"])
        if params.get("success_statuses")
        else None,
        retry=_retry_policy(retry)
        if isinstance(retry, dict) and int(retry.get("attempts") or 1) > 1
        else None,
        secrets=tuple(found),
    )
    return request, credential


def _basic_password(secret_params: Secret | None) -> str | None:
    if secret_params is None:
        return None
    try:
        secrets = secret_params.reveal()
    except DecryptionError:
        raise _failed(
            "invalid_request",
            "basic: the stored password cannot be decrypted: FIELD_ENCRYPTION_KEYS lacks its key.",
        ) from None
    return secrets.get("basic_password") if isinstance(secrets, dict) else None


def _retry_policy(retry: dict) -> "http_client.RetryPolicy":
    return http_client.RetryPolicy(
        attempts=int(retry["attempts"]),
        backoff=retry.get("backoff") or "exponential",
        delay=float(retry.get("delay") or 1.0),
        on_statuses=parse_statuses(retry.get("on_statuses") or DEFAULT_RETRY_ON),
    )


def run(params: dict, ctx: RunContext) -> ActionResult:
    """Send the request. The meta (of a failure too) lists under "undefined" the expressions whose value
    was undefined and what that did to the request."""
    undefined: list[dict] = []
    try:
        result = _run(params, ctx, undefined)
    except ActionFailed as error:
        if undefined:
            error.meta = {**error.meta, "undefined": undefined}
        raise
    if undefined:
        return ActionResult(result.output, {**result.meta, "undefined": undefined})
    return result


def _run(params: dict, ctx: RunContext, undefined: list[dict]) -> ActionResult:
    try:
        request, credential = build_request(params, ctx, undefined)
    except ExpressionError as error:
        raise _failed("invalid_request", str(error)) from None
    except ValueError as error:
        raise _failed("invalid_request", str(error)) from None
    oauth_key = None
    # Precedence (DESIGN §4.1): a typed Authorization header or basic auth wins; no token is fetched.
    if credential and credential.oauth is not None and not _has_header(request, "Authorization"):
        # The fingerprint changes with the secret, so a replaced client secret never reuses a token.
        oauth_key = f"{credential.connection_id}:{credential.fingerprint}"
        _set_header(request.headers, "Authorization", _oauth_authorization(credential, oauth_key))
    result = _send(request)
    if oauth_key and result.output["status"] == 401:
        # The token may have been revoked before it expired: one retry with a new one.
        _set_header(request.headers, "Authorization", _oauth_authorization(credential, oauth_key, fresh=True))
        result = _send(request, earlier=result.meta)
    if credential:
        vault.mark_used(credential.connection_id)
    return ActionResult(result.output, result.meta)


def _has_header(request: http_client.OutboundRequest, name: str) -> bool:
    return any(key.lower() == name.lower() for key, _ in request.headers)


def _oauth_authorization(credential: vault.Credential, cache_key: str, *, fresh: bool = False) -> Secret:
    try:
        return http_client.oauth_token(credential.oauth, cache_key, fresh=fresh)
    except http_client.OutboundError as error:
        raise _failed(error.code, f'Connection "{credential.name}": {error.message}') from None


def _send(request: http_client.OutboundRequest, earlier: dict | None = None) -> http_client.OutboundResult:
    """send(), failing the action when the request cannot complete; `earlier` is the meta of a first
    exchange this one repeats, whose attempts and time count too."""
    try:
        result = http_client.send(request)
    except http_client.OutboundError as error:
        raise ActionFailed(
            error.code,
            error.message,
            output=http_client.failure_output(error),
            meta=_after(earlier, error.meta or {}),
        ) from None
    return http_client.OutboundResult(result.output, _after(earlier, result.meta))


def _after(earlier: dict | None, meta: dict) -> dict:
    if earlier is None:
        return meta
    return meta | {
        "attempts": earlier["attempts"] + meta.get("attempts", 0),
        "duration_ms": round(earlier["duration_ms"] + meta.get("duration_ms", 0), 3),
    }


def check_oauth_connection(credential: vault.Credential) -> CheckResult:
    """The vault's Check of an OAuth client-credentials connection: a freshly fetched token."""
    try:
        token = http_client.fetch_oauth_token(credential.oauth)
    except http_client.OutboundError as error:
        return CheckResult(ok=False, message=error.message)
    if token.expires_in is None:
        return CheckResult(ok=True, message="token obtained (the endpoint did not say when it expires)")
    return CheckResult(ok=True, message=f"token obtained, expires in {token.expires_in:g} s")


# --- The params form ------------------------------------------------------------------------------------

PAYLOAD_HELP = (
    "Sent with every method, GET and DELETE included, whenever it is not empty. "
    'JSON: a JSON document; {{…}} may stand for a value ({"ids": {{actions.s1.body.ids}}}) and a string '
    "that is exactly one {{…}} keeps the value's type. "
    'Form: an object of fields, e.g. {"item": ["a", "b"], "note": "x"} (a list repeats the key). '
    "XML: the document as sent (values from {{…}} are escaped), or an object to serialize."
)


def _no_line_breaks(value: str) -> None:
    if any(char in value for char in "\r\n\x00"):
        raise ValidationError("Line breaks are not allowed: this value is sent in an HTTP header.")


def _statuses(value: str) -> str:
    try:
        parse_statuses(value)
    except ValueError as error:
        raise ValidationError(str(error)) from None
    return value


def _connection_key(ref: str) -> str:
    """A connection given by id or by name, as its id (a ref that names none, as it is)."""
    return str(getattr(Connection.find(ref), "id", ref)) if ref else ""


class HttpRequestForm(ParamsForm):
    """The input-parameter table of DESIGN §4, in its order, then the advanced options."""

    connection_id = forms.ChoiceField(
        label="Connection",
        required=False,
        error_messages={"invalid_choice": 'Connection "%(value)s" does not exist: choose another.'},
        help_text="A vault connection that authenticates the request (optional).",
    )
    url = forms.CharField(
        label="URL",
        max_length=4096,
        widget=forms.TextInput(
            attrs={"class": "code", "placeholder": "https://api.example.com/users/{{fields.id}}"}
        ),
        help_text="http or https. A {{…}} in the URL is percent-encoded, unless it starts it (a base URL).",
    )
    method = forms.ChoiceField(choices=[(m, m) for m in METHODS], initial="GET")
    content_type = forms.ChoiceField(
        label="Content type",
        choices=[(key, f"{key} ({mime})") for key, mime in CONTENT_TYPES.items()],
        initial="JSON",
    )
    payload = forms.CharField(
        label="Body",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8, "class": "code", "spellcheck": "false"}),
        help_text=PAYLOAD_HELP,
    )
    headers = RowsField(label="Headers", strip_values=True)
    params = RowsField(label="URL params", help_text="Encoded for you; a list value repeats the key.")
    basic_enabled = forms.BooleanField(label="Enable Basic Auth", required=False)
    basic_username = forms.CharField(label="Username", required=False, validators=[_no_line_breaks])
    basic_password = forms.CharField(
        label="Password",
        required=False,
        strip=False,
        validators=[_no_line_breaks],
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    basic_password_clear = forms.BooleanField(label="Clear the stored password", required=False)
    timeout = forms.FloatField(
        label="Timeout (seconds)",
        required=False,
        min_value=1,
        max_value=120,
        help_text="1 to 120; default 30.",
    )
    follow_redirects = forms.BooleanField(
        label="Follow redirects", required=False, initial=True, help_text="At most 5 hops."
    )
    retry_attempts = forms.IntegerField(
        label="Attempts", min_value=1, max_value=5, initial=1, help_text="1 sends once, without retrying."
    )
    retry_backoff = forms.ChoiceField(label="Backoff", choices=BACKOFFS, initial="exponential")
    retry_delay = forms.FloatField(label="Delay (seconds)", min_value=0, max_value=60, initial=1.0)
    retry_on_statuses = forms.CharField(
        label="Retry on statuses",
        initial=DEFAULT_RETRY_ON,
        validators=[_statuses],
        help_text="A Retry-After header is honoured.",
    )
    success_statuses = forms.CharField(
        label="Success statuses",
        initial=DEFAULT_SUCCESS,
        validators=[_statuses],
        help_text='Statuses that count as success, e.g. "200-299, 304".',
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.may_use_connections:
            self.fields["connection_id"].choices = [("", "None"), *vault.connection_choices()]
            self.missing_connection = self._flag_missing_connection()
        else:
            self.missing_connection = None
            self._lock_connection()
        self.fields["timeout"].widget.attrs["placeholder"] = f"{settings.FLOWS_HTTP_DEFAULT_TIMEOUT:g}"
        if self.has_secret:
            self.fields[
                "basic_password"
            ].help_text = "A password is stored (write-only). Leave blank to keep it."
        self.payload_value: Any = None
        self.authorization_note: str | None = None

    def _flag_missing_connection(self) -> str | None:
        """A stored connection that no longer exists stays selected, as an option that says so, rather
        than the select silently showing (and saving) "None"."""
        field = self.fields["connection_id"]
        ref = str((self.data if self.is_bound else self.initial).get("connection_id") or "")
        if not ref or ref in {value for value, _ in field.choices}:
            return None
        if not self.is_bound and (connection := Connection.find(ref)) is not None:
            self.initial["connection_id"] = str(connection.id)  # a connection given by name
            return None
        field.choices = [*field.choices, (ref, "Missing connection — choose another")]
        field.widget.attrs |= {"aria-invalid": "true", "class": "missing-connection"}
        return ref

    def _lock_connection(self) -> None:
        """Without `vault.use_connection` the select shows the stored connection (or None) and cannot
        change: a disabled field keeps its initial value, so saving other fields keeps the connection."""
        field = self.fields["connection_id"]
        stored = str(self.initial.get("connection_id") or "")
        choices = [("", "None")]
        if stored:
            connection = Connection.find(stored)
            choices.append((stored, connection.name if connection else "Missing connection"))
        field.choices = choices
        field.disabled = True
        field.help_text = vault.NO_USE_PERMISSION

    def clean_connection_id(self) -> str:
        ref = self.cleaned_data["connection_id"]
        if not self.may_use_connections:
            # A disabled field ignores what is posted: a connection chosen anyway is refused, not dropped.
            posted = str(self.data.get(self.add_prefix("connection_id")) or "")
            if posted and _connection_key(posted) != _connection_key(ref):
                raise ValidationError(vault.NO_USE_PERMISSION)
            return ref
        if ref and ref == self.missing_connection:
            raise ValidationError(f'Connection "{ref}" does not exist: choose another.')
        return ref

    @classmethod
    def initial_from_params(cls, params: dict) -> dict:
        payload = params.get("payload")
        retry = params.get("retry") or {}
        basic = params.get("basic") or {}
        initial = {
            "connection_id": params.get("connection_id") or "",
            "url": params.get("url", ""),
            "method": params.get("method") or "GET",
            "content_type": params.get("content_type") or "JSON",
            "payload": payload
            if isinstance(payload, str) or payload is None
            else json.dumps(payload, indent=2, ensure_ascii=False),
            "headers": _text_rows(params.get("headers")),
            "params": _text_rows(params.get("params")),
            "basic_enabled": bool(params.get("basic")),
            "basic_username": basic.get("username", ""),
            "timeout": params.get("timeout"),
            "follow_redirects": params.get("follow_redirects", True) is not False,
            "retry_attempts": retry.get("attempts", 1),
            "retry_backoff": retry.get("backoff", "exponential"),
            "retry_delay": retry.get("delay", 1.0),
            "retry_on_statuses": retry.get("on_statuses", DEFAULT_RETRY_ON),
            "success_statuses": params.get("success_statuses", DEFAULT_SUCCESS),
        }
        return {key: value for key, value in initial.items() if value is not None}

    @classmethod
    def data_from_params(cls, params: dict, secrets: dict | None = None) -> QueryDict:
        """Also reads Auth0's `basic.password` and a connection named rather than given by id."""
        secrets = dict(secrets or {})
        basic = params.get("basic")
        if isinstance(basic, dict) and basic.get("password") and "basic_password" not in secrets:
            secrets["basic_password"] = str(basic["password"])
        data = super().data_from_params(params, secrets)
        if ref := params.get("connection_id"):
            data["connection_id"] = str(getattr(Connection.find(str(ref)), "id", ref))
        return data

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        # Keeping the stored connection must not let its credential be sent somewhere new.
        stored = self.initial.get("connection_id")
        if stored and not self.may_use_connections and url != str(self.initial.get("url") or "").strip():
            raise ValidationError(
                "This action sends a vault connection: changing its URL needs the permission to use "
                "connections. " + vault.NO_USE_PERMISSION
            )
        try:
            template = parse_template(url)
        except ExpressionError as error:
            raise ValidationError(str(error)) from None
        if template.parts and isinstance(template.parts[0], Expression):
            return url  # a base URL from an expression: checked when it runs
        example = "".join(part if isinstance(part, str) else "x" for part in template.parts)
        try:
            http_client.normalize_url(example)
        except http_client.OutboundError as error:
            raise ValidationError(error.message) from None
        return url

    def clean_headers(self) -> list[tuple[str, str]]:
        headers = self.cleaned_data["headers"]
        errors, seen = [], set()
        for name, value in headers:
            if name.lower() in seen:
                errors.append(f'Header "{name}" is set twice: keep one row.')
            seen.add(name.lower())
            if not HEADER_NAME.fullmatch(name):
                errors.append(
                    f'"{name}" is not a valid header name (letters, digits and !#$%&\'*+-.^_`|~ only).'
                )
            elif any(char in value for char in "\r\n\x00"):
                errors.append(f'The value of header "{name}" contains a line break.')
        if errors:
            raise ValidationError(errors)
        return headers

    def clean(self) -> dict:
        cleaned = super().clean()
        self._clean_payload(cleaned)
        if cleaned.get("basic_enabled"):
            username = cleaned.get("basic_username", "")
            if not username:
                self.add_error("basic_username", "Basic auth is enabled: enter a username.")
            elif ":" in username:
                self.add_error("basic_username", "A Basic auth username cannot contain a colon.")
            keeps = self.has_secret and not cleaned.get("basic_password_clear")
            if not cleaned.get("basic_password") and not keeps:
                self.add_error("basic_password", "Basic auth is enabled: enter a password.")
        for error in check(self._params_to_check(cleaned)):
            field = _field_of(error.param or "")
            if field in self.fields and field not in self.errors:
                self.add_error(field, str(error))
        self._warn_about_references()
        if not self.errors:
            self.authorization_note = authorization_note(self.params)
        return cleaned

    def _clean_payload(self, cleaned: dict) -> None:
        text = cleaned.get("payload") or ""
        if not text.strip():
            self.payload_value = None
            return
        content_type = cleaned.get("content_type") or "JSON"
        try:
            structure = loads(text)
            plain = not isinstance(structure, str)
        except ValueError:
            plain = False
        try:
            if not plain:
                structure = json_text_structure(text)
        except ExpressionError as error:
            self.add_error("payload", str(error))
            return
        except ValueError as error:
            if content_type == "XML":
                structure = None
            elif content_type == "FORM":
                self.add_error("payload", f'{error} A form body is an object of fields, e.g. {{"a": "1"}}.')
                return
            else:
                self.add_error("payload", str(error))
                return
        if content_type == "FORM" and (problem := form_pairs_problem(structure)):
            self.add_error("payload", problem)
            return
        if content_type == "XML" and not isinstance(structure, dict):
            try:
                parse_template(text)
            except ExpressionError as error:
                self.add_error("payload", str(error))
                return
            self.payload_value = text
            return
        if content_type == "XML" and (problem := xml_names_problem(structure)):
            self.add_error("payload", problem)
            return
        self.payload_value = structure if plain else text

    def _params_to_check(self, cleaned: dict) -> dict:
        return {
            "url": cleaned.get("url", ""),
            "payload": self.payload_value,
            "headers": [{"key": k, "value": v} for k, v in cleaned.get("headers") or []],
            "params": [{"key": k, "value": v} for k, v in cleaned.get("params") or []],
            "basic": {"username": cleaned.get("basic_username", "")},
        }

    def _warn_about_references(self) -> None:
        if self.earlier_ids is None:
            return
        for key, value in self._params_to_check(self.cleaned_data).items():
            missing = {
                path[1]
                for path in references(value)
                if len(path) > 1 and path[0] == "actions" and path[1] not in self.earlier_ids
            }
            for action_id in sorted(missing):
                self.warnings.setdefault(_field_of(key), []).append(
                    f'"actions.{action_id}" is not an action that runs before this one: '
                    "the value will be undefined (a header or URL param using it is left out)."
                )

    def to_params(self) -> dict:
        data = self.cleaned_data
        params: dict[str, Any] = {}
        if data["connection_id"]:
            params["connection_id"] = data["connection_id"]
        params |= {"url": data["url"], "method": data["method"], "content_type": data["content_type"]}
        if self.payload_value is not None:
            params["payload"] = self.payload_value
        for name in ("headers", "params"):
            if data[name]:
                params[name] = [{"key": key, "value": value} for key, value in data[name]]
        if data["basic_enabled"]:
            params["basic"] = {"username": data["basic_username"]}
        if (timeout := data["timeout"]) is not None:
            params["timeout"] = int(timeout) if timeout.is_integer() else timeout
        if not data["follow_redirects"]:
            params["follow_redirects"] = False
        if data["retry_attempts"] > 1:
            params["retry"] = {
                "attempts": data["retry_attempts"],
                "backoff": data["retry_backoff"],
                "delay": data["retry_delay"],
                "on_statuses": data["retry_on_statuses"],
            }
        if data["success_statuses"].strip() != DEFAULT_SUCCESS:
            params["success_statuses"] = data["success_statuses"].strip()
        return params

    def secret_params(self, stored: Secret | None) -> Secret | None:
        data = self.cleaned_data
        if not data["basic_enabled"]:
            return None
        if data["basic_password"]:
            return Secret({"basic_password": data["basic_password"]})
        return None if data["basic_password_clear"] else stored


def _text_rows(value: Any) -> list[tuple[str, str]]:
    """Rows as the editor shows them: a list value becomes one row per item."""
    shown = []
    for key, item in rows(value):
        for each in item if isinstance(item, list) else [item]:
            shown.append((key, each if isinstance(each, str) else to_text(each)))
    return shown


def _field_of(param: str) -> str:
    """The form field that edits a param path (`headers[0].value` → headers, `basic.username`)."""
    head = re.split(r"[.\[]", param, maxsplit=1)[0]
    return "basic_username" if head == "basic" else head


register(
    ActionType(
        type="HTTP",
        action="SEND_REQUEST",
        label="HTTP Request",
        icon="globe",
        description="Call an external API and hand its response to later actions.",
        form_class=HttpRequestForm,
        run=run,
        template_name="actions/action_edit.html#http_params",
        output_keys=("headers", "body", "status", "success"),
    )
)
