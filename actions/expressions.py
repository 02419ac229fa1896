"""The expression engine: `{{ … }}` in action params (DESIGN §5, compatible with Auth0 Forms variables).

A small tokenizer and recursive-descent parser; nothing reaches `eval` or a template engine (Django's
HTML-escapes), and values are only looked into when they are dicts, lists or text — never `getattr`.

The language, inside `{{ }}` (whitespace ignored):
- Namespaces: `fields`, `vars`, `actions`, `context` (the scope's entries) and `functions` (the library
  in `actions.functions`, whose docstrings pin each function's semantics).
- Access: `a.b`, `a[0]`, `a["key with spaces"]`, `a['k']`, `a[fields.i]`. After a dot a name may hold
  `-` and start with a digit, since action ids are slugs (`actions.get-user.body`, `a.0`). Text and
  lists also answer `.length` and integer indexes, as in JavaScript. A missing key, an index past the
  end, or access into undefined, null or a scalar gives undefined, never an error.
- Literals: strings in single or double quotes (backslash escapes `\\n \\t \\" \\' \\\\ \\uXXXX`…),
  numbers (`42`, `-1`, `2.5`, `1e3`), `true`, `false`, `null`.
- `x ?? y`: `y` when `x` is undefined or null (not when it is `false`, `0` or `""`); left-associative.
- Calls: `functions.name(arg, …)`, any expressions as arguments; a call may be followed by access
  (`functions.split(x, ",")[0]`). No other operators.

Templates: text with any number of `{{ … }}`. An unterminated `{{` is an error; a lone `}}` is text; in
a run of braces such as `{{{x}}` the expression opens at the last two (JSON text like `{"a":{{x}}}`
works). A template that is one expression with nothing but whitespace around it keeps the value's type
(a textarea's trailing newline does not turn a JSON body into text); otherwise each expression becomes
text by `to_text`. Substituted values are never parsed again: `{{` inside a value is just text.

`functions.mask` returns a `vault.secrets.Secret`: its `str`/`repr` is the mask. Text around a masked
value becomes a Secret as a whole (`"Bearer {{functions.mask(x)}}"` displays `Bearer ********`), and
values computed from one stay masked. `reveal(params)` gives the real values where the outbound request
is built; `redact(params)` gives what executions and pages may show.

Parsing is cached (`parse_template` is an LRU cache): flows run the same params many times.
"""

import functools
import math
import re
from dataclasses import dataclass, field
from typing import Any

from actions.functions import (
    FUNCTIONS,
    UNDEFINED,
    Function,
    FunctionError,
    Undefined,
    find_secrets,
    is_missing,
    masked,
    redact,
    reveal,
    spell,
    to_text,
)
from vault.secrets import Secret

__all__ = [
    "UNDEFINED",
    "Expression",
    "ExpressionError",
    "Template",
    "Undefined",
    "check",
    "parse_template",
    "redact",
    "references",
    "rename_action",
    "resolve",
    "reveal",
    "to_text",
]

_NAMESPACES = frozenset({"fields", "vars", "actions", "context"})
_KEYWORDS = {"true": True, "false": False, "null": None}
_MAX_DEPTH = 32


class ExpressionError(ValueError):
    """A template that does not parse, or a function given an argument it cannot use.

    `position` is the 0-based offset in the template text; `param` is the path of the param holding
    the template (`headers[1].value`), set by `check()` and `resolve()`.
    """

    def __init__(self, message: str, position: int, param: str | None = None) -> None:
        super().__init__(message, position, param)
        self.message = message
        self.position = position
        self.param = param

    def __str__(self) -> str:
        text = f"{self.message} at position {self.position}"
        return f"{self.param}: {text}" if self.param else text

    def with_param(self, param: str | None) -> "ExpressionError":
        return ExpressionError(self.message, self.position, param)


# --- Syntax tree --------------------------------------------------------------------------------------


class _Node:
    __slots__ = ("position",)

    def __init__(self, position: int) -> None:
        self.position = position

    def eval(self, scope: dict) -> Any:
        raise NotImplementedError

    def path(self) -> tuple[str, ...] | None:
        """The fixed path this node reads (namespace, keys…), when it is one."""
        return None

    def collect(self, paths: list[tuple[str, ...]]) -> None:
        """Append the paths this node reads."""


class _Literal(_Node):
    __slots__ = ("value",)

    def __init__(self, position: int, value: Any) -> None:
        super().__init__(position)
        self.value = value

    def eval(self, scope: dict) -> Any:
        return self.value


class _Root(_Node):
    __slots__ = ("name",)

    def __init__(self, position: int, name: str) -> None:
        super().__init__(position)
        self.name = name

    def eval(self, scope: dict) -> Any:
        return scope.get(self.name, UNDEFINED) if isinstance(scope, dict) else UNDEFINED

    def path(self) -> tuple[str, ...]:
        return (self.name,)

    def collect(self, paths: list[tuple[str, ...]]) -> None:
        paths.append((self.name,))


class _Member(_Node):
    __slots__ = ("key", "target")

    def __init__(self, position: int, target: _Node, key: _Node) -> None:
        super().__init__(position)
        self.target = target
        self.key = key

    def eval(self, scope: dict) -> Any:
        return _member(self.target.eval(scope), self.key.eval(scope))

    def path(self) -> tuple[str, ...] | None:
        base = self.target.path()
        if base is None or not isinstance(self.key, _Literal):
            return None
        return (*base, to_text(self.key.value))

    def collect(self, paths: list[tuple[str, ...]]) -> None:
        path = self.path()
        if path is not None:
            paths.append(path)
        else:
            self.target.collect(paths)
            self.key.collect(paths)


class _Call(_Node):
    __slots__ = ("args", "function", "name")

    def __init__(self, position: int, name: str, function: Function, args: tuple[_Node, ...]) -> None:
        super().__init__(position)
        self.name = name
        self.function = function
        self.args = args

    def eval(self, scope: dict) -> Any:
        args = [arg.eval(scope) for arg in self.args]
        if self.function.passes_missing and args and is_missing(args[0]):
            return args[0]
        secrets: list[Secret] = []
        for arg in args:
            find_secrets(arg, secrets)
        if secrets:
            args = [reveal(arg) for arg in args]
        try:
            result = self.function.impl(*args)
        except FunctionError as error:
            raise ExpressionError(f"functions.{self.name}: {error}", self.position) from None
        except OverflowError:
            raise ExpressionError(f"functions.{self.name}: number out of range", self.position) from None
        if secrets and not is_missing(result) and not isinstance(result, Secret):
            return masked(result, secrets)
        return result

    def collect(self, paths: list[tuple[str, ...]]) -> None:
        for arg in self.args:
            arg.collect(paths)


class _Coalesce(_Node):
    __slots__ = ("left", "right")

    def __init__(self, position: int, left: _Node, right: _Node) -> None:
        super().__init__(position)
        self.left = left
        self.right = right

    def eval(self, scope: dict) -> Any:
        value = self.left.eval(scope)
        return self.right.eval(scope) if value is UNDEFINED or value is None else value

    def collect(self, paths: list[tuple[str, ...]]) -> None:
        self.left.collect(paths)
        self.right.collect(paths)


_CANONICAL_INDEX = re.compile(r"0|[1-9][0-9]*")


def _member(target: Any, key: Any) -> Any:
    """`target[key]` with JavaScript's reading of keys, or undefined."""
    if isinstance(target, Secret) or isinstance(key, Secret):
        value = _member(reveal(target), reveal(key))
        return value if is_missing(value) else masked(value, find_secrets([target, key], []))
    if isinstance(key, bool):
        return UNDEFINED
    if isinstance(target, dict):
        return target.get(key if isinstance(key, str) else to_text(key), UNDEFINED)
    if not isinstance(target, list | str):
        return UNDEFINED
    if isinstance(key, str):
        if key == "length":
            return len(target)
        if not _CANONICAL_INDEX.fullmatch(key):
            return UNDEFINED
        key = int(key)
    elif isinstance(key, float) and key.is_integer():
        key = int(key)
    if isinstance(key, int) and 0 <= key < len(target):
        return target[key]
    return UNDEFINED


def _copy(value: Any) -> Any:
    """A copy of the containers, so that no caller can change the scope through a result."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


# --- Tokenizer ----------------------------------------------------------------------------------------

_SPACE = re.compile(r"\s*")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_NAME = re.compile(r"(?:[^\W\d]|\$)[\w$-]*")
_SEGMENT = re.compile(r"[\w$][\w$-]*")
_PUNCTUATION = frozenset(".[](),")
_STRING_RUN = {'"': re.compile(r'[^"\\]+'), "'": re.compile(r"[^'\\]+")}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_HEX = re.compile(r"[0-9a-fA-F]+")

# A token: (kind, value, position, source text). Kinds: "name", "number", "string", "??", "end" and
# the punctuation characters themselves.
_Token = tuple[str, Any, int, str]


def _tokenize(text: str, pos: int, opened_at: int) -> tuple[list[_Token], int]:
    """The tokens of the expression starting at `pos`, up to its closing `}}`, and the offset after it."""
    if text.find("}}", pos) == -1:
        raise ExpressionError('unterminated "{{": no closing "}}"', opened_at)
    tokens: list[_Token] = []
    size = len(text)
    while True:
        pos = _SPACE.match(text, pos).end()
        if pos >= size:  # the only "}}" left was inside a string literal
            raise ExpressionError('unterminated "{{": no closing "}}"', opened_at)
        char = text[pos]
        if text.startswith("}}", pos):
            tokens.append(("end", None, pos, "}}"))
            return tokens, pos + 2
        if text.startswith("??", pos):
            tokens.append(("??", None, pos, "??"))
            pos += 2
        elif char in _PUNCTUATION:
            tokens.append((char, None, pos, char))
            pos += 1
        elif char in _STRING_RUN:
            value, end = _string(text, pos)
            tokens.append(("string", value, pos, text[pos:end]))
            pos = end
        elif tokens and tokens[-1][0] == "." and (match := _SEGMENT.match(text, pos)):
            tokens.append(("name", match.group(), pos, match.group()))
            pos = match.end()
        elif match := _NUMBER.match(text, pos):
            spelled = match.group()
            try:
                value = float(spelled) if match.group(1) or match.group(2) else int(spelled)
            except ValueError:  # more digits than Python converts
                raise ExpressionError("number too long", pos) from None
            if not math.isfinite(value):
                raise ExpressionError("number out of range", pos)
            tokens.append(("number", value, pos, spelled))
            pos = match.end()
        elif match := _NAME.match(text, pos):
            tokens.append(("name", match.group(), pos, match.group()))
            pos = match.end()
        else:
            raise ExpressionError(f'unexpected character "{char}"', pos)


def _string(text: str, start: int) -> tuple[str, int]:
    """A quoted string literal starting at `start`: its value and the offset after it."""
    quote = text[start]
    run = _STRING_RUN[quote]
    chunks: list[str] = []
    pos = start + 1
    while pos < len(text):
        if match := run.match(text, pos):
            chunks.append(match.group())
            pos = match.end()
            continue
        if text[pos] == quote:
            value = "".join(chunks)
            if any("\ud800" <= char <= "\udfff" for char in value):  # join \uXXXX surrogate pairs
                value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
            return value, pos + 1
        escape = text[pos + 1 : pos + 2]
        if escape in ("u", "x"):
            digits = text[pos + 2 : pos + (6 if escape == "u" else 4)]
            if len(digits) != (4 if escape == "u" else 2) or not _HEX.fullmatch(digits):
                raise ExpressionError(f'invalid escape "\\{escape}"', pos)
            chunks.append(chr(int(digits, 16)))
            pos += 2 + len(digits)
        else:
            chunks.append(_ESCAPES.get(escape, escape))
            pos += 2
    raise ExpressionError("unterminated string", start)


# --- Parser -------------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        if token[0] != "end":
            self.index += 1
        return token

    def expect(self, kind: str, what: str) -> _Token:
        token = self.take()
        if token[0] != kind:
            raise self.unexpected(token, what)
        return token

    @staticmethod
    def unexpected(token: _Token, what: str) -> ExpressionError:
        found = "the end of the expression" if token[0] == "end" else f'"{token[3][:30]}"'
        return ExpressionError(f"expected {what}, found {found}", token[2])

    def parse(self) -> _Node:
        if self.peek()[0] == "end":
            raise ExpressionError("empty expression", self.peek()[2])
        node = self.coalesce()
        if self.peek()[0] != "end":
            raise self.unexpected(self.peek(), '"}}" (the only operator is "??")')
        return node

    def coalesce(self) -> _Node:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise ExpressionError("expression nested too deeply", self.peek()[2])
        node = self.postfix()
        while self.peek()[0] == "??":
            position = self.take()[2]
            node = _Coalesce(position, node, self.postfix())
        self.depth -= 1
        return node

    def postfix(self) -> _Node:
        node = self.primary()
        while True:
            kind, _, position, _ = self.peek()
            if kind == ".":
                self.take()
                name = self.expect("name", 'a name after "."')
                node = _Member(position, node, _Literal(name[2], name[1]))
            elif kind == "[":
                self.take()
                key = self.coalesce()
                self.expect("]", '"]"')
                node = _Member(position, node, key)
            else:
                return node

    def primary(self) -> _Node:
        token = self.take()
        kind, value, position, _ = token
        if kind in ("number", "string"):
            return _Literal(position, value)
        if kind != "name":
            raise self.unexpected(token, "a value")
        if value in _KEYWORDS:
            return _Literal(position, _KEYWORDS[value])
        if value in _NAMESPACES:
            return _Root(position, value)
        if value == "functions":
            return self.call(position)
        raise ExpressionError(
            f'unknown namespace "{value}" (expected fields, vars, actions, context or functions)', position
        )

    def call(self, position: int) -> _Node:
        self.expect(".", 'a function name ("functions.name(…)")')
        name = self.expect("name", "a function name")[1]
        function = FUNCTIONS.get(name)
        if function is None:
            raise ExpressionError(f'unknown function "functions.{name}"', position)
        if self.peek()[0] != "(":
            raise ExpressionError(f'"functions.{name}" must be called: functions.{name}(…)', position)
        self.take()
        args: list[_Node] = []
        if self.peek()[0] == ")":
            self.take()
        else:
            while True:
                args.append(self.coalesce())
                token = self.take()
                if token[0] == ")":
                    break
                if token[0] != ",":
                    raise self.unexpected(token, '"," or ")"')
        if not function.min_args <= len(args) <= function.max_args:
            raise ExpressionError(f"functions.{name} expects {_arity(function)}, got {len(args)}", position)
        return _Call(position, name, function, tuple(args))


def _arity(function: Function) -> str:
    low, high = function.min_args, function.max_args
    if low == high:
        return f"{low} argument{'' if low == 1 else 's'}"
    return f"{low} or {high} arguments" if high == low + 1 else f"{low} to {high} arguments"


# --- Public API ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expression:
    """One `{{ … }}`: `source` is the text between the braces (trimmed); `start`/`end` are the offsets
    of the whole `{{ … }}` in the template."""

    source: str
    start: int
    end: int
    node: _Node = field(repr=False, compare=False)

    def evaluate(self, scope: dict) -> Any:
        """The value, possibly UNDEFINED; containers are copies. Raises ExpressionError only when a
        function is given an argument it cannot use, never for missing data."""
        return _copy(self.node.eval(scope))

    def is_call(self, name: str) -> bool:
        """Whether the whole expression is one call to `functions.<name>`."""
        return isinstance(self.node, _Call) and self.node.name == name

    def references(self) -> list[tuple[str, ...]]:
        """The paths it reads, e.g. `("actions", "get_user", "body", "email")`, in order, once each."""
        paths: list[tuple[str, ...]] = []
        self.node.collect(paths)
        return list(dict.fromkeys(paths))


@dataclass(frozen=True)
class Template:
    """Text and expressions, in order."""

    parts: tuple[str | Expression, ...]

    @functools.cached_property
    def single_expression(self) -> Expression | None:
        """The expression, when the template is exactly one (whitespace around it allowed)."""
        expressions = [part for part in self.parts if isinstance(part, Expression)]
        if len(expressions) == 1 and all(
            isinstance(part, Expression) or part.isspace() for part in self.parts
        ):
            return expressions[0]
        return None

    def render(self, scope: dict) -> Any:
        """One expression → its value with its type (maybe UNDEFINED); otherwise text, where each
        expression is spelled by `to_text`. Text around a masked value is a Secret as a whole."""
        single = self.single_expression
        if single is not None:
            return single.evaluate(scope)
        values = [part if isinstance(part, str) else part.node.eval(scope) for part in self.parts]
        secrets: list[Secret] = []
        text = "".join([spell(value, secrets) for value in values])
        if not secrets:
            return text
        revealed = "".join([to_text(reveal(value)) for value in values])
        return masked(revealed, secrets, display=text)


@functools.lru_cache(maxsize=4096)
def parse_template(text: str) -> Template:
    """Parse text with `{{ … }}` expressions. Raises ExpressionError (syntax, unknown namespace,
    unknown function, wrong number of arguments) with the offset of the problem."""
    parts: list[str | Expression] = []
    literal_start = 0
    while (opened_at := text.find("{{", literal_start)) != -1:
        while text.startswith("{", opened_at + 2):
            opened_at += 1
        tokens, end = _tokenize(text, opened_at + 2, opened_at)
        node = _Parser(tokens).parse()
        if opened_at > literal_start:
            parts.append(text[literal_start:opened_at])
        parts.append(Expression(text[opened_at + 2 : end - 2].strip(), opened_at, end, node))
        literal_start = end
    if literal_start < len(text):
        parts.append(text[literal_start:])
    return Template(tuple(parts))


def resolve(value: Any, scope: dict) -> Any:
    """A new structure with every string rendered as a template (dict keys are left as written).

    Dict entries whose value is undefined are dropped; undefined list items become None. Errors carry
    the param path (`payload.user.name`).
    """
    if isinstance(value, str):
        return parse_template(value).render(scope) if "{{" in value else value
    if isinstance(value, dict):
        resolved_dict = {}
        for key, item in value.items():
            try:
                resolved = resolve(item, scope)
            except ExpressionError as error:
                raise error.with_param(_join_path(str(key), error.param)) from None
            if resolved is not UNDEFINED:
                resolved_dict[key] = resolved
        return resolved_dict
    if isinstance(value, list):
        resolved_list = []
        for index, item in enumerate(value):
            try:
                resolved = resolve(item, scope)
            except ExpressionError as error:
                raise error.with_param(_join_path(f"[{index}]", error.param)) from None
            resolved_list.append(None if resolved is UNDEFINED else resolved)
        return resolved_list
    return value


def _join_path(step: str, inner: str | None) -> str:
    if not inner:
        return step
    return f"{step}{inner}" if inner.startswith("[") else f"{step}.{inner}"


def check(value: Any, path: str = "") -> list[ExpressionError]:
    """Parse every string in a structure (for save time); each error carries its param path."""
    errors: list[ExpressionError] = []
    _check(value, path, errors)
    return errors


def _check(value: Any, path: str, errors: list[ExpressionError]) -> None:
    if isinstance(value, str):
        if "{{" in value:
            try:
                parse_template(value)
            except ExpressionError as error:
                errors.append(error.with_param(path or None))
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(item, f"{path}.{key}" if path else str(key), errors)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]", errors)


def references(value: Any) -> list[tuple[str, ...]]:
    """Every path read by the expressions in a structure, in order, once each (invalid ones skipped)."""
    paths: list[tuple[str, ...]] = []
    _references(value, paths)
    return list(dict.fromkeys(paths))


def _references(value: Any, paths: list[tuple[str, ...]]) -> None:
    if isinstance(value, str):
        if "{{" in value:
            try:
                template = parse_template(value)
            except ExpressionError:
                return
            for part in template.parts:
                if isinstance(part, Expression):
                    paths.extend(part.references())
    elif isinstance(value, dict):
        for item in value.values():
            _references(item, paths)
    elif isinstance(value, list):
        for item in value:
            _references(item, paths)


def rename_action(value: Any, old: str, new: str) -> tuple[Any, int]:
    """`value` with every expression reference to `actions.<old>` (`actions.old.body`, `actions["old"]`)
    made to `actions.<new>`, and how many were renamed. Text outside `{{ }}`, dict keys and templates
    that do not parse are left as written. `new` must be an action id (a slug)."""
    if not _SEGMENT.fullmatch(new):
        raise ValueError(f"{new!r} is not an action id.")
    if isinstance(value, str):
        return _rename_in_template(value, old, new) if "{{" in value else (value, 0)
    if isinstance(value, dict | list):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        renamed, total = {}, 0
        for key, item in items:
            renamed[key], count = rename_action(item, old, new)
            total += count
        return (renamed if isinstance(value, dict) else list(renamed.values())), total
    return value, 0


def _rename_in_template(text: str, old: str, new: str) -> tuple[str, int]:
    try:
        template = parse_template(text)
    except ExpressionError:
        return text, 0
    spans: list[tuple[int, int, str]] = []
    for part in template.parts:
        if isinstance(part, Expression):
            _action_spans(part.node, text, old, new, spans)
    for start, end, replacement in sorted(spans, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text, len(spans)


def _action_spans(node: _Node, text: str, old: str, new: str, spans: list[tuple[int, int, str]]) -> None:
    """The (start, end, replacement) of each `old` read as an action id under `node`."""
    if isinstance(node, _Member):
        key = node.key
        if (
            isinstance(node.target, _Root)
            and node.target.name == "actions"
            and isinstance(key, _Literal)
            and key.value == old
        ):
            quote = text[key.position]
            if quote in _STRING_RUN:  # actions["old"]
                spans.append((key.position, _string(text, key.position)[1], f"{quote}{new}{quote}"))
            else:  # actions.old
                spans.append((key.position, key.position + len(old), new))
        _action_spans(node.target, text, old, new, spans)
        _action_spans(node.key, text, old, new, spans)
    elif isinstance(node, _Call):
        for arg in node.args:
            _action_spans(arg, text, old, new, spans)
    elif isinstance(node, _Coalesce):
        _action_spans(node.left, text, old, new, spans)
        _action_spans(node.right, text, old, new, spans)
