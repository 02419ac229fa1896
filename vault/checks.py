"""The Check of a connection: does its secret work, without revealing anything?

Every type gets the vault's own check: the secret decrypts, holds its fields, and its values can go in
a request (a header name, no line break). A type whose check needs the network (an OAuth client fetches
a token) registers a checker here from the app that does HTTP, since the vault never imports it.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.views.decorators.debug import sensitive_variables

from vault.api import Credential, CredentialUnavailable, credential_for
from vault.crypto import DecryptionError
from vault.models import Connection, ConnectionType


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str  # safe to show: never a secret


Checker = Callable[[Credential], CheckResult]

REQUIRED_FIELDS = {
    ConnectionType.BEARER: ("token",),
    ConnectionType.BASIC_AUTH: ("username", "password"),
    ConnectionType.API_KEY: ("name", "value", "in"),
    ConnectionType.OAUTH_CLIENT_CREDENTIALS: ("client_id", "client_secret", "token_endpoint"),
}
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_BAD_VALUE = re.compile(r"[\r\n\x00]")

_checkers: dict[str, Checker] = {}


def register_checker(type: str, checker: Checker) -> None:
    """Run `checker` on connections of `type`, after the vault's own check has passed."""
    _checkers[type] = checker


@sensitive_variables()
def check_connection(connection: Connection) -> CheckResult:
    """Check `connection` as an action would use it. Failure messages are sentences; success messages
    follow "OK — "."""
    if connection.setup is None:
        return CheckResult(ok=False, message="No secret is set.")
    try:
        setup = connection.setup.reveal()
    except DecryptionError:
        return CheckResult(
            ok=False, message="The secret cannot be decrypted: FIELD_ENCRYPTION_KEYS lacks its key."
        )
    if problem := _setup_problem(connection.type, setup):
        return CheckResult(ok=False, message=problem)
    try:
        credential = credential_for(str(connection.pk))
    except CredentialUnavailable as error:
        return CheckResult(ok=False, message=str(error))
    for name, value in credential.headers:
        if not _HEADER_NAME.fullmatch(name):
            return CheckResult(ok=False, message=f'"{name[:40]}" is not a valid header name.')
        if _BAD_VALUE.search(value.reveal()):
            return CheckResult(ok=False, message=f'The value of header "{name}" contains a line break.')
    if checker := _checkers.get(connection.type):
        return checker(credential)
    return CheckResult(ok=True, message="the secret decrypts and its values can be sent.")


@sensitive_variables()
def _setup_problem(type: str, setup: object) -> str | None:
    """Why a decrypted setup cannot be used (a field missing or not text), naming the field only."""
    if not isinstance(setup, dict):
        return "The stored secret is not a setup object: enter the setup again."
    for field in REQUIRED_FIELDS.get(type, ()):
        if not isinstance(setup.get(field), str) or not setup[field]:
            return f'The stored secret has no "{field}": enter the setup again.'
    if type == ConnectionType.API_KEY and setup["in"] not in ("HEADER", "QUERY"):
        return 'The stored secret\'s "in" is neither HEADER nor QUERY: enter the setup again.'
    return None
