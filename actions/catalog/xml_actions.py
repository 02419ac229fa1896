"""The `XML/*` actions: Parse XML `{xml}` → `{object}`, Serialize XML `{object}` → `{xml}` (DESIGN §6).

The mapping between XML and JSON values, one rule each way (the widespread "xmltodict" convention):
- an element is a key of its parent; a repeated element is a list; the root is the one top-level key;
- attributes are `@name` keys, and text beside attributes or child elements is `#text`;
- an element with only text is that text (trimmed); an empty element is null; values stay text.
Serializing an object with one top-level key uses it as the root element, anything else goes inside
`<root>`, like the XML body of the HTTP action.

Parsing is safe against entity expansion ("billion laughs") and external entities (XXE): a document
with a DOCTYPE is refused outright, so no entity can be declared, and expat is told never to read
external parameter entities. This is what `defusedxml` does with `forbid_dtd=True`, with the stdlib alone.
"""

import re
from typing import Any
from xml.parsers import expat
from xml.sax.saxutils import escape

from django import forms

from actions.catalog import ActionFailed, ActionResult, ActionType, RunContext, register
from actions.catalog.flow import resolved
from actions.catalog.params import ExpressionParamsForm, JSONParam
from actions.expressions import UNDEFINED, reveal, to_text
from actions.functions import find_secrets, kind, masked

MAX_DEPTH = 256
_NAME = re.compile(r"[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?")
# Characters XML 1.0 cannot carry, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ATTRIBUTE_ESCAPES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


class XMLRefused(ValueError):
    """A document this parser does not read (a DOCTYPE, an entity declaration)."""


# --- XML → value ---------------------------------------------------------------------------------------


class _Element:
    __slots__ = ("attributes", "children", "name", "text")

    def __init__(self, name: str, attributes: dict[str, str]) -> None:
        self.name = name
        self.attributes = attributes
        self.children: dict[str, Any] = {}
        self.text: list[str] = []

    def add(self, name: str, value: Any) -> None:
        if name not in self.children:
            self.children[name] = value
        elif isinstance(self.children[name], _Repeated):
            self.children[name].append(value)
        else:
            self.children[name] = _Repeated([self.children[name], value])

    def value(self) -> Any:
        text = "".join(self.text).strip()
        if not self.attributes and not self.children:
            return text or None
        value: dict[str, Any] = {f"@{name}": item for name, item in self.attributes.items()}
        value.update(
            {
                name: list(item) if isinstance(item, _Repeated) else item
                for name, item in self.children.items()
            }
        )
        if text:
            value["#text"] = text
        return value


class _Repeated(list):
    """The values of an element that occurs more than once (a value may itself be a list only this way)."""


def _refuse_dtd(*args: Any) -> None:
    raise XMLRefused("documents with a DOCTYPE are not accepted (entities and DTDs are disabled for safety)")


def _refuse_entity(*args: Any) -> None:
    raise XMLRefused("entity declarations are not accepted")


def parse_xml(text: str) -> dict:
    """`{root: value}` for an XML document; ValueError (with line and column) when it is not one."""
    parser = expat.ParserCreate()  # no namespace processing: names are kept as written (`soap:Body`)
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_entity
    parser.UnparsedEntityDeclHandler = _refuse_entity
    parser.ExternalEntityRefHandler = _refuse_entity
    parser.buffer_text = True
    parser.ordered_attributes = False
    document = _Element("", {})
    stack = [document]

    def start(name: str, attributes: dict[str, str]) -> None:
        if len(stack) > MAX_DEPTH:
            raise XMLRefused(f"elements are nested more than {MAX_DEPTH} deep")
        stack.append(_Element(name, attributes))

    def end(name: str) -> None:
        element = stack.pop()
        stack[-1].add(element.name, element.value())

    def characters(data: str) -> None:
        stack[-1].text.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    try:
        parser.Parse(text, True)
    except expat.ExpatError as error:
        message = expat.errors.messages[error.code]
        raise ValueError(f"{message} at line {error.lineno} column {error.offset + 1}") from None
    except XMLRefused as error:
        raise ValueError(f"{error} (line {parser.CurrentLineNumber})") from None
    return {
        name: list(value) if isinstance(value, _Repeated) else value
        for name, value in document.children.items()
    }


# --- Value → XML ---------------------------------------------------------------------------------------


def to_xml(value: Any) -> str:
    """The XML document of a value (see the module docstring). ValueError for a name XML cannot hold."""
    if isinstance(value, dict) and len(value) == 1:
        ((root, content),) = value.items()
        if not root.startswith(("@", "#")) and not isinstance(content, list):
            return _document(root, content)
    return _document("root", value)


def _document(root: str, content: Any) -> str:
    try:
        return '<?xml version="1.0" encoding="UTF-8"?>' + _element(root, content, 0)
    except RecursionError:
        raise ValueError(f"the value is nested more than {MAX_DEPTH} deep") from None


def _element(tag: str, value: Any, depth: int) -> str:
    _check_name(tag)
    if depth > MAX_DEPTH:
        raise ValueError(f"the value is nested more than {MAX_DEPTH} deep")
    if isinstance(value, dict):
        attributes = "".join(
            f' {_checked_name(key[1:])}="{_escaped(item, _ATTRIBUTE_ESCAPES)}"'
            for key, item in value.items()
            if key.startswith("@")
        )
        inner = "".join(
            _escaped(item) if key == "#text" else _children(key, item, depth)
            for key, item in value.items()
            if not key.startswith("@")
        )
        return f"<{tag}{attributes}>{inner}</{tag}>" if inner else f"<{tag}{attributes}/>"
    if isinstance(value, list):
        return f"<{tag}>{_children('item', value, depth)}</{tag}>" if value else f"<{tag}/>"
    if value is None or value is UNDEFINED:
        return f"<{tag}/>"
    return f"<{tag}>{_escaped(value)}</{tag}>"


def _children(tag: str, value: Any, depth: int) -> str:
    """A list is the element repeated; a list inside a list is an element holding `item`s."""
    if isinstance(value, list):
        return "".join(
            _element(tag, {"item": item} if isinstance(item, list) else item, depth + 1) for item in value
        )
    return _element(tag, value, depth + 1)


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise ValueError(f'"{name[:40]}" cannot be an XML name')


def _checked_name(name: str) -> str:
    _check_name(name)
    return name


def _escaped(value: Any, extra: dict[str, str] | None = None) -> str:
    if isinstance(value, dict | list):
        raise ValueError(f"an attribute or #text must be a plain value, got {kind(value)}")
    text = to_text(value)
    if _NOT_XML.search(text):
        raise ValueError("a value holds a control character that XML 1.0 cannot carry")
    return escape(text, extra or {})


# --- The actions ---------------------------------------------------------------------------------------


class ParseXMLForm(ExpressionParamsForm):
    xml = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "class": "code"}),
        help_text="XML text to read, e.g. {{actions.soap_call.body}}. Documents with a DOCTYPE are refused.",
    )


def run_parse_xml(params: dict, ctx: RunContext) -> ActionResult:
    source = resolved(params["xml"], ctx.scope, "xml")
    text = reveal(source)
    if not isinstance(text, str):
        raise ActionFailed("invalid_xml", f"xml: expected XML text, got {kind(text)}.")
    try:
        value: Any = parse_xml(text)
    except ValueError as error:
        raise ActionFailed("invalid_xml", f"xml: not a readable XML document: {error}.") from None
    secrets = find_secrets(source, [])
    return ActionResult({"object": masked(value, secrets) if secrets else value})


register(
    ActionType(
        type="XML",
        action="PARSE_XML",
        label="Parse XML",
        icon="code",
        description="Read an XML document into an object.",
        form_class=ParseXMLForm,
        run=run_parse_xml,
        output_keys=("object",),
    )
)


class SerializeXMLForm(ExpressionParamsForm):
    object = JSONParam(
        help_text='The value to write as XML: {"order": {"@id": "42", "item": ["a", "b"]}} → '
        '<order id="42"><item>a</item><item>b</item></order>.',
    )


def run_serialize_xml(params: dict, ctx: RunContext) -> ActionResult:
    source = resolved(params["object"], ctx.scope, "object")
    try:
        text: Any = to_xml(reveal(source))
    except ValueError as error:
        raise ActionFailed("invalid_xml", f"object: {error}.") from None
    secrets = find_secrets(source, [])
    return ActionResult({"xml": masked(text, secrets) if secrets else text})


register(
    ActionType(
        type="XML",
        action="SERIALIZE_XML",
        label="Serialize XML",
        icon="code",
        description="Write an object as an XML document.",
        form_class=SerializeXMLForm,
        run=run_serialize_xml,
        output_keys=("xml",),
    )
)
