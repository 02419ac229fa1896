"""`{% json_tree value %}`: a JSON value as a folding tree, one <details> per object and array.

Every key and value is escaped here (the values come from remote servers); leaves read as JSON
(`"name": "Ada"`), so copying the text gives JSON spelling. A very large value is cut after `limit`
nodes, with a note pointing to the Raw view.
"""

import json
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

OPEN_DEPTH = 3
NODE_LIMIT = 2000


@register.simple_tag
def json_tree(value: Any, closed: str = "", limit: int = NODE_LIMIT) -> SafeString:
    """`closed`: comma-separated top-level keys rendered folded (e.g. "headers", shown elsewhere)."""
    tree = _Tree(limit, frozenset(name for name in closed.split(",") if name))
    tree.node(value, None, 0)
    return mark_safe(f'<div class="json-tree">{"".join(tree.parts)}</div>')  # noqa: S308 (escaped above)


class _Tree:
    def __init__(self, limit: int, closed: frozenset[str]) -> None:
        self.parts: list[str] = []
        self.left = limit
        self.closed = closed

    def node(self, value: Any, key: str | int | None, depth: int) -> None:
        self.left -= 1
        label = _label(key)
        if isinstance(value, dict | list) and value:
            is_dict = isinstance(value, dict)
            opened = depth < OPEN_DEPTH and not (depth == 1 and key in self.closed)
            count = f"{len(value)} {'key' if is_dict else 'item'}{'' if len(value) == 1 else 's'}"
            self.parts.append(
                format_html(
                    '<details class="json-node"{}><summary>{}<span class="json-punct">{}</span>'
                    '<span class="json-count">{}</span></summary><div class="json-children">',
                    " open" if opened else "",
                    label,
                    "{" if is_dict else "[",
                    count,
                )
            )
            items = value.items() if is_dict else enumerate(value)
            for index, (child_key, child) in enumerate(items):
                if self.left <= 0:
                    more = len(value) - index
                    self.parts.append(
                        format_html('<div class="json-more">… {} more: see Raw</div>', f"{more:,}")
                    )
                    break
                self.node(child, child_key, depth + 1)
            self.parts.append(
                format_html('</div><span class="json-punct">{}</span></details>', "}" if is_dict else "]")
            )
        elif isinstance(value, str) and "\n" in value:
            # Multi-line text (HTML, XML, plain text) reads better as it is than as one escaped line.
            self.parts.append(
                format_html('<div class="json-leaf">{}<pre class="json-text">{}</pre></div>', label, value)
            )
        else:
            text = json.dumps(value, ensure_ascii=False, default=str)
            self.parts.append(
                format_html(
                    '<div class="json-leaf">{}<span class="json-{}">{}</span></div>',
                    label,
                    _kind(value),
                    text,
                )
            )


def _label(key: str | int | None) -> str:
    if key is None:
        return ""
    if isinstance(key, int):
        return format_html('<span class="json-index">{}</span>: ', key)
    return format_html('<span class="json-key">{}</span>: ', json.dumps(key, ensure_ascii=False))


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "punct"  # an empty object or array
