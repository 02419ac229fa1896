"""`manage.py flows import|export|run|list` (DESIGN §7).

JSON on stdout, human messages on stderr; exit 0 on success, 1 when a run failed, 2 for invalid input.
- `flows import FILE` (`-` reads stdin) prints `[{"id", "name", "version"}]`, and on stderr what was
  imported as is (invalid params, unsupported types);
- `flows export NAME_OR_ID` prints the flow JSON (Auth0 shape, connection names, no secrets);
- `flows run NAME_OR_ID --input JSON` runs synchronously and prints
  `{"id", "status", "output", "error", "actions": [{"id", "status", "output"}]}`;
- `flows list` prints `[{"id", "name", "version", "actions"}]`.
"""

import json
import sys
import uuid
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count

from actions.engine import run_flow
from actions.flowjson import FlowImportError, export_flow, import_flows
from actions.models import Flow, Status, Trigger
from actions.runner import scope_from

RUN_INPUT_KEYS = ("fields", "vars", "context")


def _invalid(message: str) -> CommandError:
    return CommandError(message, returncode=2)


class Command(BaseCommand):
    help = "Import, export, run and list flows."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        imported = commands.add_parser("import", help="Create or replace flows from a flow JSON file.")
        imported.add_argument("file", help="A JSON file holding one flow or a list (- reads stdin).")
        exported = commands.add_parser("export", help="Print a flow as JSON.")
        exported.add_argument("flow", metavar="NAME_OR_ID")
        run = commands.add_parser("run", help="Run a flow now and print its execution.")
        run.add_argument("flow", metavar="NAME_OR_ID")
        run.add_argument("--input", default="", help='JSON {"fields": {…}, "vars": {…}, "context": {…}}.')
        commands.add_parser("list", help="Print every flow.")

    def handle(self, *args: Any, command: str, **options: Any) -> None:
        getattr(self, f"_{command}")(options)

    def _import(self, options: dict) -> None:
        data = self._read_json(options["file"])
        warnings: list[str] = []
        try:
            flows = import_flows(data, warnings)
        except FlowImportError as error:
            raise _invalid(f"{options['file']}: cannot import:\n  " + "\n  ".join(error.problems)) from None
        self._print([{"id": str(flow.id), "name": flow.name, "version": flow.version} for flow in flows])
        for flow in flows:
            self.stderr.write(f"Flow “{flow.name}” imported (version {flow.version}).")
        if warnings:
            self.stderr.write("Imported as is, fix in the editor:\n  " + "\n  ".join(warnings))

    def _export(self, options: dict) -> None:
        self._print(export_flow(self._find(options["flow"])))

    def _run(self, options: dict) -> None:
        flow = self._find(options["flow"])
        scope = self._run_input(options["input"])
        execution = run_flow(
            flow, fields=scope["fields"], vars=scope["vars"], context=scope["context"], trigger=Trigger.CLI
        )
        self._print(execution.summary())
        if execution.status == Status.FAILED:
            error = execution.error or {}
            where = f" at action “{error['action_id']}”" if error.get("action_id") else ""
            raise CommandError(
                f"The run failed{where} ({error.get('code')}): {error.get('message')}", returncode=1
            )
        self.stderr.write(f"Flow “{flow.name}” ran: execution {execution.id} completed.")

    def _run_input(self, text: str) -> dict:
        try:
            data = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as error:
            raise _invalid(
                f"--input: not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})."
            ) from None
        if isinstance(data, dict) and (unknown := sorted(set(data) - set(RUN_INPUT_KEYS))):
            raise _invalid(
                f"--input: unknown key {', '.join(unknown)}; a flow run takes {', '.join(RUN_INPUT_KEYS)}."
            )
        try:
            return scope_from(data)
        except ValueError as error:
            raise _invalid(f"--input: {error}") from None

    def _list(self, options: dict) -> None:
        flows = Flow.objects.annotate(action_count=Count("actions")).order_by("name")
        self._print(
            [
                {"id": str(flow.id), "name": flow.name, "version": flow.version, "actions": flow.action_count}
                for flow in flows
            ]
        )

    def _read_json(self, path: str) -> Any:
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise _invalid(f"{path}: no such file.") from None
        except (OSError, UnicodeDecodeError) as error:
            raise _invalid(f"{path}: cannot be read ({error.__class__.__name__}).") from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise _invalid(
                f"{path}: not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})."
            ) from None

    def _find(self, ref: str) -> Flow:
        try:
            flow = Flow.objects.filter(pk=uuid.UUID(ref)).first()
        except ValueError:
            flow = None
        flow = flow or Flow.objects.filter(name=ref).first()
        if flow is None:
            raise _invalid(f"No flow named or with id “{ref}”.")
        return flow

    def _print(self, value: Any) -> None:
        self.stdout.write(json.dumps(value, indent=2, ensure_ascii=False))
