"""`manage.py actions test FILE --input JSON`: run one action, from its JSON envelope, outside any flow.

Exactly what the editor's Test button does: the params are validated by the action type's form, then
the action runs once. JSON on stdout, human messages on stderr; exit 0 when the action completed (an
HTTP 404 included: its output says `success: false`), 1 when it failed, 2 for invalid input.
"""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from actions import catalog
from actions.models import Action
from actions.runner import parse_input, run_action

META_KEYS = ("duration_ms", "size_bytes", "final_url", "redirects", "request")
ENVELOPE_KEYS = {"id", "alias", "type", "action", "allow_failure", "mask_output", "params"}


def _invalid(message: str) -> CommandError:
    return CommandError(message, returncode=2)


def _read_envelope(path: str) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _invalid(f"{path}: no such file.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise _invalid(f"{path}: cannot be read ({error.__class__.__name__}).") from None
    try:
        envelope = json.loads(text)
    except json.JSONDecodeError as error:
        raise _invalid(
            f"{path}: not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})."
        ) from None
    if not isinstance(envelope, dict):
        raise _invalid(f"{path}: expected one action, a JSON object with type, action and params.")
    if unknown := sorted(set(envelope) - ENVELOPE_KEYS):
        raise _invalid(
            f"{path}: unknown key {', '.join(unknown)}; an action has {', '.join(sorted(ENVELOPE_KEYS))}."
        )
    return envelope


def _action_from(envelope: dict, path: str) -> Action:
    """The unsaved action the envelope describes, its params validated as the editor validates them."""
    action_type = catalog.get(str(envelope.get("type", "")), str(envelope.get("action", "")))
    if action_type is None:
        known = ", ".join(t.kind for t in catalog.all_types())
        raise _invalid(
            f"{path}: type/action {envelope.get('type')}/{envelope.get('action')} is unknown ({known})."
        )
    params = envelope.get("params", {})
    if not isinstance(params, dict):
        raise _invalid(f"{path}: params must be a JSON object.")
    flags = {name: envelope.get(name, False) for name in ("allow_failure", "mask_output")}
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise _invalid(f"{path}: {name} must be true or false.")
    form = action_type.form_class(action_type.form_class.data_from_params(params))
    if not form.is_valid():
        lines = [f"{name}: {message}" for name, errors in form.errors.items() for message in errors]
        raise _invalid(f"{path}: invalid params:\n  " + "\n  ".join(lines))
    return Action(
        action_id=str(envelope.get("id") or "test"),
        alias=str(envelope.get("alias") or ""),
        type=action_type.type,
        action=action_type.action,
        params=form.params,
        secret_params=form.secret_params(None),
        **flags,
    )


class Command(BaseCommand):
    help = "Work with single actions: `actions test FILE --input JSON` runs one action as the editor's Test."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        test = commands.add_parser("test", help="Run one action (its JSON envelope) and print its output.")
        test.add_argument(
            "file", help="A JSON file: {id, alias, type, action, allow_failure, mask_output, params}."
        )
        test.add_argument(
            "--input",
            default="",
            help='JSON {"fields", "vars", "context", "actions"} that the expressions read.',
        )

    def handle(self, *args: Any, **options: Any) -> None:
        envelope = _read_envelope(options["file"])
        try:
            scope = parse_input(options["input"])
        except ValueError as error:
            raise _invalid(f"--input: {error}") from None
        action = _action_from(envelope, options["file"])
        run = run_action(action, scope)
        if run.failed:
            self.stdout.write(json.dumps({"error": run.error.as_dict()}, ensure_ascii=False))
            raise CommandError(f"The action failed ({run.error.code}): {run.error.message}", returncode=1)
        result = {"output": run.output, "meta": {key: run.meta.get(key) for key in META_KEYS}}
        self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False, default=str))
