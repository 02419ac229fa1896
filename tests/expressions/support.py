"""A scope shaped like a run's, and a one-liner to evaluate an expression against it."""

from typing import Any

from actions.expressions import parse_template


def make_scope() -> dict:
    return {
        "fields": {
            "name": "Ana",
            "age": 42,
            "price": 2.5,
            "whole": 2.0,
            "yes": True,
            "no": False,
            "zero": 0,
            "empty": "",
            "nothing": None,
            "list": [1, 2, 3],
            "flags": [True, False],
            "words": ["auth0", "identity", "authentication"],
            "obj": {"a": 1, "b": {"c": "é"}},
            "objs": [{"id": 1}, {"id": 2}],
            "key with spaces": "spaced",
            "quote's": "single",
            "i": 1,
            "card": "4111111111111111",
            "template": "{{fields.name}}",
            "html": "a&b<c>\"d'e",
        },
        "vars": {"external_id": "ext-1", "count": 0},
        "actions": {
            "get_user": {
                "headers": {"content-type": "application/json"},
                "body": {"email": "ana@example.com", "items": ["x", "y"], "amount": {"2026-06-17": 1}},
                "status": 200,
                "success": True,
            },
            "get-user": {"body": {"id": "slug"}},
            "1st": {"body": {"id": "digit"}},
        },
        "context": {"flow": {"id": "f1", "name": "Signup"}, "trigger": "manual"},
    }


SCOPE = make_scope()


def evaluate(source: str, scope: dict | None = None) -> Any:
    """The value of `{{source}}`."""
    return parse_template("{{" + source + "}}").render(SCOPE if scope is None else scope)
