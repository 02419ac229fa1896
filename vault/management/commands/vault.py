"""`manage.py vault create|list|update|delete`: JSON on stdout, messages on stderr, secrets only on stdin."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.views.decorators.debug import sensitive_variables

from vault.forms import SETUP_KEY_OF_FIELD, SETUP_KEYS, ConnectionForm, setup_form_data
from vault.models import Connection, ConnectionType

INVALID = 2


class Command(BaseCommand):
    help = "Manage vault connections. Setups (secrets) are read as JSON from stdin, never from arguments."
    stealth_options = ("stdin",)

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help='Create a connection. Setup JSON on stdin: {"token": "…"}.')
        create.add_argument("--name", required=True)
        create.add_argument("--type", required=True, choices=ConnectionType.values)
        create.add_argument("--allowed-hosts", default="", help="Comma-separated host names.")
        sub.add_parser("list", help="Print every connection (never its secret).")
        update = sub.add_parser(
            "update",
            help="Change a connection. Setup JSON on stdin: given keys replace the stored ones, a missing "
            "secret key keeps the stored secret; empty stdin keeps the setup.",
        )
        update.add_argument("ref", metavar="NAME_OR_ID")
        update.add_argument("--rename", metavar="NEW_NAME")
        update.add_argument("--type", choices=ConnectionType.values)
        update.add_argument("--allowed-hosts", help="Comma-separated host names; empty allows any host.")
        delete = sub.add_parser("delete", help="Delete a connection and its secret.")
        delete.add_argument("ref", metavar="NAME_OR_ID")

    def handle(self, *args, action: str, **options) -> None:
        self.stdin = options.get("stdin") or sys.stdin
        getattr(self, f"_{action}")(options)

    def _create(self, options: dict) -> None:
        data = {"name": options["name"], "type": options["type"], "allowed_hosts": options["allowed_hosts"]}
        connection = self._save(ConnectionForm(self._with_setup(data, options["type"], required=True)))
        self._print(connection.summary())
        self.stderr.write(f"Connection “{connection.name}” created.")

    def _list(self, options: dict) -> None:
        self._print([c.summary() for c in Connection.objects.all()])

    def _update(self, options: dict) -> None:
        connection = self._find(options["ref"])
        # Start from what the edit form shows (name, type, hosts, non-secret setup), then apply the changes.
        current = ConnectionForm(instance=connection)
        data = {bf.html_name: bf.value() for bf in current if bf.value() is not None}
        if options["rename"] is not None:
            data["name"] = options["rename"]
        if options["type"] is not None:
            data["type"] = options["type"]
        if options["allowed_hosts"] is not None:
            data["allowed_hosts"] = options["allowed_hosts"]
        connection = self._save(
            ConnectionForm(self._with_setup(data, data["type"], required=False), instance=connection)
        )
        self._print(connection.summary())
        self.stderr.write(f"Connection “{connection.name}” saved.")

    def _delete(self, options: dict) -> None:
        connection = self._find(options["ref"])
        summary = {"id": str(connection.id), "name": connection.name, "deleted": True}
        connection.delete()
        self._print(summary)
        self.stderr.write(f"Connection “{connection.name}” deleted.")

    @sensitive_variables()
    def _with_setup(self, data: dict, type_: str, *, required: bool) -> dict:
        """`data` plus the setup JSON read from stdin, as form fields."""
        if self.stdin.isatty():
            self.stderr.write("Reading the setup JSON from stdin (end with Ctrl-D)…")
        text = self.stdin.read()
        if not text.strip():
            if not required:
                return data
            example = json.dumps({k.key: "…" for k in SETUP_KEYS[type_] if k.required}, ensure_ascii=False)
            raise CommandError(
                f"stdin is empty: pipe the setup JSON, e.g. echo '{example}' | manage.py vault create …",
                returncode=INVALID,
            )
        try:
            setup = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CommandError(
                f"stdin is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}).",
                returncode=INVALID,
            ) from None
        if not isinstance(setup, dict):
            raise CommandError(
                'The setup on stdin must be a JSON object: {"token": "…"}.', returncode=INVALID
            )
        try:
            return {**data, **setup_form_data(type_, setup)}
        except ValueError as exc:
            raise CommandError(str(exc), returncode=INVALID) from None

    def _save(self, form: ConnectionForm) -> Connection:
        if not form.is_valid():
            problems = [
                f"{SETUP_KEY_OF_FIELD.get(field, field) if field != '__all__' else 'connection'}: {message}"
                for field, messages in form.errors.items()
                for message in messages
            ]
            raise CommandError("Invalid connection:\n  " + "\n  ".join(problems), returncode=INVALID)
        return form.save()

    def _find(self, ref: str) -> Connection:
        connection = Connection.find(ref)
        if connection is None:
            raise CommandError(f"No connection named or with id “{ref}”.", returncode=INVALID)
        return connection

    def _print(self, value) -> None:
        self.stdout.write(json.dumps(value, indent=2, ensure_ascii=False))
