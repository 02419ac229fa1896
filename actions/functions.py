"""The values expressions compute with, and the `functions.*` library (Auth0 Forms helper functions).

`actions.expressions` parses and evaluates `{{ … }}` and re-exports `UNDEFINED`, `Undefined` and
`to_text`; this module holds what the evaluator and the functions share, so neither imports the other.

Values are JSON values (dict, list, str, int, float, bool, None), plus `UNDEFINED` (a path that does not
resolve) and `vault.secrets.Secret` (the result of `functions.mask`, and anything computed from one).

Rules shared by every function (pinned here so that docs and tests agree):
- **Missing in, missing out.** When the value a function works on (its first argument) is undefined
  or null, the function returns it unchanged, so `{{functions.toUpperCase(fields.x) ?? "n/a"}}` works.
  The conversions (`toArray toBoolean toNumber toString`) and `merge` define their own results instead.
- **Text arguments.** Where text is expected, numbers and booleans are taken as their JSON spelling
  (`1`, `2.5`, `true`); a list or an object there is an error, and so is undefined or null in any
  argument but the first.
- **Errors.** An argument of a type the function cannot use raises `FunctionError` (the evaluator turns
  it into an `ExpressionError` with the call's position), where JavaScript would throw or would
  silently print `undefined`. Messages name types, never values, so a masked value cannot leak.
- **No value.** A result JavaScript spells `NaN` or `Infinity` (not JSON) is undefined instead.
- **Indexes** count Unicode code points (JavaScript counts UTF-16 units; they differ only for
  characters outside the Basic Multilingual Plane, such as emoji).
- **Equality** (`includes`, `indexOf`) is JSON equality: `1` equals `1.0`, `true` is not `1`, and
  lists and objects are equal when their contents are.
"""

import hashlib
import json
import math
import random
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from vault.secrets import MASK, Secret


class Undefined:
    """The value of a path that does not resolve; JavaScript's `undefined`, distinct from null (None)."""

    __slots__ = ()
    _instance: "Undefined | None" = None

    def __new__(cls) -> "Undefined":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "undefined"

    def __reduce__(self) -> str:
        return "UNDEFINED"

    def __copy__(self) -> "Undefined":
        return self

    def __deepcopy__(self, memo: dict) -> "Undefined":
        return self


UNDEFINED = Undefined()


class FunctionError(ValueError):
    """A function was given an argument it cannot use."""


def is_missing(value: Any) -> bool:
    return value is UNDEFINED or value is None


def kind(value: Any) -> str:
    """The JSON type name of a value, for error messages (never the value itself)."""
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "an unsupported value"


# --- Text spelling ------------------------------------------------------------------------------------


def to_text(value: Any) -> str:
    """The text of a value inside a longer string.

    Strings as is; numbers and booleans in JSON spelling (`1`, `2.5`, `true`; an integral float is
    written like JavaScript writes it, `2`); objects and lists as compact JSON with non-ASCII kept;
    undefined and null as empty text; a masked value as its mask.
    """
    return spell(value, None)


def spell(value: Any, found: list[Secret] | None) -> str:
    """`to_text`, also collecting into `found` every Secret met (shown by its mask)."""
    if isinstance(value, str):
        return value
    if value is None or value is UNDEFINED:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return json.dumps(value)
    if isinstance(value, Secret):
        if found is not None:
            found.append(value)
        return str(value)
    if isinstance(value, dict | list | tuple):
        return json.dumps(
            value, separators=(",", ":"), ensure_ascii=False, default=lambda o: _json_default(o, found)
        )
    return spell(_json_default(value, found), found)


def _json_default(value: Any, found: list[Secret] | None) -> Any:
    if value is UNDEFINED:
        return None
    if isinstance(value, Secret):
        if found is not None:
            found.append(value)
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


# --- Secrets (functions.mask) ------------------------------------------------------------------------


def find_secrets(value: Any, found: list[Secret]) -> list[Secret]:
    """Append every Secret inside `value` (searched deeply) to `found`, and return it."""
    if isinstance(value, Secret):
        found.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            find_secrets(item, found)
    elif isinstance(value, list):
        for item in value:
            find_secrets(item, found)
    return found


def reveal(value: Any) -> Any:
    """A copy of `value` with every Secret inside replaced by its real value.

    For the one place that builds the outbound request from resolved params.
    """
    if isinstance(value, Secret):
        return reveal(value.reveal())
    if isinstance(value, dict):
        return {key: reveal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [reveal(item) for item in value]
    return value


def redact(value: Any) -> Any:
    """A copy of `value` with every Secret inside replaced by its mask: what records and pages show."""
    if isinstance(value, Secret):
        return str(value)
    if isinstance(value, dict):
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def masked(value: Any, secrets: Sequence[Secret] = (), display: str = MASK) -> Secret:
    """`value` (already revealed), computed from `secrets`, as a Secret that remembers the texts to
    scrub: those of the secrets and its own text leaves (never a derived `true` or `3`)."""
    sensitive = [text for secret in secrets for text in secret.sensitive]
    sensitive.extend(_string_leaves(value))
    return Secret(value, display=display, sensitive=tuple(dict.fromkeys(s for s in sensitive if s)))


def _string_leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in _string_leaves(item)]
    if isinstance(value, list):
        return [text for item in value for text in _string_leaves(item)]
    return [value] if isinstance(value, str) and value else []


# --- Argument helpers --------------------------------------------------------------------------------


def same(a: Any, b: Any) -> bool:
    """JSON equality: numbers by value, booleans only equal booleans, containers by contents."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[key], b[key]) for key in a)
    return a is b


def _text(value: Any, position: int) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return to_text(value)
    raise FunctionError(f"argument {position} must be text, got {kind(value)}")


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise FunctionError("argument 1 is not valid Unicode text") from None


_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
_RADIX = re.compile(r"0([xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)")
_BASES = {"x": 16, "o": 8, "b": 2}


def _number_from_float(value: float) -> int | float | Undefined:
    if not math.isfinite(value):
        return UNDEFINED
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _parse_number(text: str) -> int | float | Undefined:
    text = text.strip()
    try:
        if _INTEGER.fullmatch(text):
            return int(text)
        if _DECIMAL.fullmatch(text):
            return _number_from_float(float(text))
        if match := _RADIX.fullmatch(text):
            digits = match.group(1)
            return int(digits[1:], _BASES[digits[0].lower()])
    except ValueError:  # more digits than Python converts
        return UNDEFINED
    return UNDEFINED


def _number(value: Any, position: int) -> int | float:
    """A number argument: a number, or text spelling one."""
    number = _parse_number(value) if isinstance(value, str) else value
    if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
        raise FunctionError(f"argument {position} must be a number, got {kind(value)}")
    return number


def _index(value: Any, position: int, default: int) -> int:
    """An index argument, as JavaScript converts it: undefined takes the default, null is 0, a
    fraction is truncated, Infinity is past any end."""
    if value is UNDEFINED:
        return default
    if value is None:
        return 0
    if isinstance(value, float) and math.isinf(value):
        return 2**63 if value > 0 else -(2**63)
    return int(_number(value, position))


# --- The functions -----------------------------------------------------------------------------------


def to_array(value: Any) -> list:
    """A list as is; undefined and null → `[]`; anything else → a one-item list (`'abc'` → `['abc']`)."""
    if isinstance(value, list):
        return value
    if is_missing(value):
        return []
    return [value]


_FALSE_TEXTS = frozenset({"", "false", "0"})


def to_boolean(value: Any) -> bool:
    """JavaScript truthiness (`0`, `""`, null, undefined are false; lists and objects are true), except
    that text is read as a form answer: `"false"` and `"0"` (any case, trimmed) and blank are false."""
    if isinstance(value, str):
        return value.strip().lower() not in _FALSE_TEXTS
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0 and not math.isnan(value)
    return not is_missing(value)


def to_number(value: Any) -> int | float | Undefined:
    """JavaScript `Number()`: numbers as is, `true`/`false` → 1/0, null → 0, text spelling a number
    (decimal, exponent, `0x`/`0o`/`0b`; whitespace trimmed) → that number, an integral result as an
    integer. No number (`"abc"`, blank text, undefined, a list or an object) → undefined, never NaN."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return _number_from_float(value)
    if value is None:
        return 0
    if isinstance(value, str):
        return _parse_number(value)
    return UNDEFINED


def to_string(value: Any) -> str:
    """`to_text`: objects and lists as compact JSON, undefined and null as empty text."""
    return to_text(value)


def length(value: Any) -> int:
    """Characters of text, items of a list, keys of an object."""
    if isinstance(value, str | list | dict):
        return len(value)
    raise FunctionError(f"argument 1 must be text, a list or an object, got {kind(value)}")


def slice_(value: Any, start: Any, end: Any = UNDEFINED) -> str | list:
    """JavaScript `slice` of text or a list: `end` exclusive (default: the end); a negative index
    counts from the end; `start` at or after `end` gives an empty result. `slice('example', 3, 5)` →
    `'mp'`, `slice('example', -3)` → `'ple'`."""
    if isinstance(value, dict):
        raise FunctionError("argument 1 must be text or a list, got an object")
    if not isinstance(value, list):
        value = _text(value, 1)
    size = len(value)
    first = _index(start, 2, 0)
    last = _index(end, 3, size)
    first = max(size + first, 0) if first < 0 else min(first, size)
    last = max(size + last, 0) if last < 0 else min(last, size)
    return value[first:last]


def substring(value: Any, start: Any, end: Any = UNDEFINED) -> str:
    """JavaScript `substring` of text: `end` exclusive (default: the end); a negative index is 0;
    `start` after `end` swaps them. `substring('example', 5, 3)` → `'mp'`."""
    text = _text(value, 1)
    size = len(text)
    first = min(max(_index(start, 2, 0), 0), size)
    last = min(max(_index(end, 3, size), 0), size)
    if first > last:
        first, last = last, first
    return text[first:last]


def to_lower_case(value: Any) -> str:
    return _text(value, 1).lower()


def to_upper_case(value: Any) -> str:
    return _text(value, 1).upper()


def replace(value: Any, pattern: Any, replacement: Any) -> str:
    """The first occurrence of the text `pattern` replaced. Both are plain text: no regular
    expressions, and JavaScript's `$&`-style replacement patterns are not interpreted."""
    return _text(value, 1).replace(_text(pattern, 2), _text(replacement, 3), 1)


def replace_all(value: Any, pattern: Any, replacement: Any) -> str:
    """Every occurrence of the text `pattern` replaced (plain text, as in `replace`)."""
    return _text(value, 1).replace(_text(pattern, 2), _text(replacement, 3))


def split(value: Any, separator: Any, limit: Any = UNDEFINED) -> list[str]:
    """JavaScript `split`: an undefined separator gives `[value]`; `""` splits into characters;
    `limit` keeps at most that many items (a negative limit keeps all)."""
    text = _text(value, 1)
    if separator is UNDEFINED:
        parts = [text]
    else:
        sep = _text(separator, 2)
        parts = list(text) if sep == "" else text.split(sep)
    if limit is not UNDEFINED:
        count = _index(limit, 3, 0)
        if count >= 0:
            parts = parts[:count]
    return parts


def _start(from_index: Any, size: int, *, negative_from_end: bool) -> int:
    start = _index(from_index, 3, 0)
    if start < 0:
        return max(size + start, 0) if negative_from_end else 0
    return min(start, size)


def includes(collection: Any, item: Any, from_index: Any = UNDEFINED) -> bool:
    """Whether a list (or an object's values) holds `item` (JSON equality), or text contains the text
    `item`; searching from `from_index` (negative counts from the end of a list)."""
    if isinstance(collection, dict):
        collection = list(collection.values())
    if isinstance(collection, list):
        start = _start(from_index, len(collection), negative_from_end=True)
        return any(same(entry, item) for entry in collection[start:])
    text = _text(collection, 1)
    return text.find(_text(item, 2), _start(from_index, len(text), negative_from_end=False)) != -1


def index_of(collection: Any, item: Any, from_index: Any = UNDEFINED) -> int:
    """The first index of `item` in a list (JSON equality) or of the text `item` in text, else -1."""
    if isinstance(collection, list):
        start = _start(from_index, len(collection), negative_from_end=True)
        return next((i for i in range(start, len(collection)) if same(collection[i], item)), -1)
    if isinstance(collection, dict):
        raise FunctionError("argument 1 must be text or a list, got an object")
    text = _text(collection, 1)
    return text.find(_text(item, 2), _start(from_index, len(text), negative_from_end=False))


def merge(base: Any, value: Any) -> Any:
    """By the type of `base`: lists are concatenated (a non-list `value` is appended as one item),
    objects are merged shallowly (`value`'s keys win), text is concatenated with the text of `value`.
    An undefined or null side counts as empty: the result is the other side."""
    if is_missing(base):
        return base if is_missing(value) else value
    if is_missing(value):
        return base
    if isinstance(base, list):
        return base + value if isinstance(value, list) else [*base, value]
    if isinstance(base, dict):
        if not isinstance(value, dict):
            raise FunctionError(f"argument 2 must be an object to merge into an object, got {kind(value)}")
        return {**base, **value}
    if isinstance(base, str):
        return base + _text(value, 2)
    raise FunctionError(f"argument 1 must be a list, an object or text, got {kind(base)}")


def now() -> str:
    """The current time, ISO 8601 in UTC with milliseconds: `2021-04-30T10:31:28.576Z`."""
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def to_timestamp(*date: Any) -> int | Undefined:
    """Unix time in whole seconds: of now with no argument; of an ISO 8601 date-time (no offset means
    UTC; `'2021-04-30T10:02:50.876Z'` → `1619776970`); of a number of milliseconds (JavaScript's
    `new Date(ms)`). Text that is not a date → undefined."""
    if not date:
        return int(time.time())
    (value,) = date
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FunctionError(f"argument 1 must be a date (ISO 8601 text) or milliseconds, got {kind(value)}")
    if not isinstance(value, str):
        return math.floor(value / 1000) if math.isfinite(value) else UNDEFINED
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return UNDEFINED
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return math.floor(moment.timestamp())


_random = random.SystemRandom()


def random_(low: Any, high: Any, floating: Any = UNDEFINED) -> int | float:
    """A random number between `low` and `high` inclusive (swapped if reversed): an integer, unless
    `floating` is true or either bound has a fraction. From the system's secure source."""
    low = _number(low, 1)
    high = _number(high, 2)
    if low > high:
        low, high = high, low
    if to_boolean(floating) or not (float(low).is_integer() and float(high).is_integer()):
        return _random.uniform(low, high)
    return _random.randint(int(low), int(high))


def uuid4() -> str:
    return str(uuid.uuid4())


def _digest(algorithm: str) -> Callable[[Any], str]:
    def digest(value: Any) -> str:
        return hashlib.new(algorithm, _utf8(_text(value, 1)), usedforsecurity=False).hexdigest()

    digest.__doc__ = f"The {algorithm} digest of the UTF-8 text, in lowercase hex."
    return digest


def mask(value: Any) -> Secret:
    """The value, usable by actions but shown as `********` in executions, logs and pages (Auth0:
    "masks a value to avoid it being exposed in Executions"). Text around a masked value in a
    template makes the whole text masked; functions applied to it give masked results."""
    sensitive = _string_leaves(value) or [to_text(value)]
    return Secret(value, sensitive=tuple(dict.fromkeys(sensitive)))


def encode_uri_component(value: Any) -> str:
    """JavaScript `encodeURIComponent`: UTF-8 percent-encoding of all but `A-Z a-z 0-9 - _ . ! ~ * ' ( )`."""
    try:
        return quote(_text(value, 1), safe="!*'()")
    except UnicodeEncodeError:
        raise FunctionError("argument 1 is not valid Unicode text") from None


@dataclass(frozen=True)
class Function:
    impl: Callable[..., Any]
    min_args: int
    max_args: int
    # The first argument, when undefined or null, is returned as is ("missing in, missing out").
    passes_missing: bool = True


FUNCTIONS: dict[str, Function] = {
    "toArray": Function(to_array, 1, 1, passes_missing=False),
    "toBoolean": Function(to_boolean, 1, 1, passes_missing=False),
    "toNumber": Function(to_number, 1, 1, passes_missing=False),
    "toString": Function(to_string, 1, 1, passes_missing=False),
    "length": Function(length, 1, 1),
    "slice": Function(slice_, 2, 3),
    "substring": Function(substring, 2, 3),
    "toLowerCase": Function(to_lower_case, 1, 1),
    "toUpperCase": Function(to_upper_case, 1, 1),
    "replace": Function(replace, 3, 3),
    "replaceAll": Function(replace_all, 3, 3),
    "split": Function(split, 2, 3),
    "includes": Function(includes, 2, 3),
    "indexOf": Function(index_of, 2, 3),
    "merge": Function(merge, 2, 2, passes_missing=False),
    "now": Function(now, 0, 0),
    "toTimestamp": Function(to_timestamp, 0, 1),
    "random": Function(random_, 2, 3, passes_missing=False),
    "uuid": Function(uuid4, 0, 0),
    "md5": Function(_digest("md5"), 1, 1),
    "sha1": Function(_digest("sha1"), 1, 1),
    "sha256": Function(_digest("sha256"), 1, 1),
    "sha512": Function(_digest("sha512"), 1, 1),
    "mask": Function(mask, 1, 1),
    "encodeURIComponent": Function(encode_uri_component, 1, 1),
}
