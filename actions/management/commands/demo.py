"""`manage.py demo`: a ready-to-try setup — an admin login, a vault token and a flow that calls httpbin.

Idempotent: re-running updates the same objects (and gives the admin a new password) instead of adding
more. The password is printed once, on stderr; stdout gets a JSON summary without secrets.
"""

import json
import secrets
from argparse import ArgumentParser

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import URLValidator
from django.db import transaction

from actions.models import Action, Flow
from vault.models import Connection, ConnectionType

ADMIN_USERNAME = "admin"
CONNECTION_NAME = "Demo httpbin token"
FLOW_NAME = "Demo: call httpbin"
ACTION_ID = "call_httpbin"


class Command(BaseCommand):
    help = "Create (or refresh) the demo: admin user, a BEARER vault connection and a flow calling httpbin."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--httpbin-url",
            default="http://127.0.0.1:8001",
            help="Base URL of the httpbin the demo action calls (default: %(default)s).",
        )
        parser.add_argument(
            "--app-url",
            default="http://127.0.0.1:8000/",
            help="Where Flow Designer is served, for the login message (default: %(default)s).",
        )

    def handle(self, *args, httpbin_url: str, app_url: str, **options) -> None:
        httpbin = http_url("--httpbin-url", httpbin_url).rstrip("/")
        app = http_url("--app-url", app_url)

        with transaction.atomic():
            password = ensure_admin()
            connection = ensure_connection()
            flow, action = ensure_flow(httpbin, connection)

        summary = {
            "user": ADMIN_USERNAME,
            "connection": {"id": str(connection.id), "name": connection.name},
            "flow": {"id": str(flow.id), "name": flow.name, "version": flow.version},
            "action": {"id": action.action_id, "pk": action.pk},
        }
        self.stdout.write(json.dumps(summary))
        self.stderr.write(f"Log in at {app} as {ADMIN_USERNAME} / {password}")


def http_url(option: str, value: str) -> str:
    url = value.strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise CommandError(f"{option} must be an http(s) URL, got {value!r}", returncode=2) from None
    return url


def ensure_admin() -> str:
    """The demo superuser, with a new random password every run (returned, never stored in clear)."""
    user, _ = get_user_model().objects.get_or_create(username=ADMIN_USERNAME)
    password = secrets.token_urlsafe(12)
    user.set_password(password)
    user.is_active = user.is_staff = user.is_superuser = True
    user.save()
    return password


def ensure_connection() -> Connection:
    """The demo bearer token; an existing ready connection of that name keeps its token."""
    connection, created = Connection.objects.get_or_create(
        name=CONNECTION_NAME, defaults={"type": ConnectionType.BEARER}
    )
    if created or not connection.ready or connection.type != ConnectionType.BEARER:
        connection.type = ConnectionType.BEARER
        connection.set_setup({"token": "demo-token-" + secrets.token_hex(8)})
        connection.save()
    return connection


def ensure_flow(httpbin: str, connection: Connection) -> tuple[Flow, Action]:
    flow, _ = Flow.objects.get_or_create(
        name=FLOW_NAME,
        defaults={"description": "Calls httpbin's /anything, which echoes the request it received."},
    )
    action, _ = Action.objects.update_or_create(
        flow=flow,
        action_id=ACTION_ID,
        defaults={
            "alias": "Call httpbin",
            "type": "HTTP",
            "action": "SEND_REQUEST",
            "position": 0,
            "parent": None,
            "branch": "",
            "params": {
                "connection_id": str(connection.id),
                "url": f"{httpbin}/anything",
                "method": "GET",
                "content_type": "JSON",
                "payload": "",
                "headers": [{"key": "X-Demo", "value": "hello"}],
                "params": [{"key": "q", "value": "flow designer"}],
            },
        },
    )
    return flow, action
