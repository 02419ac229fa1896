"""What the actions app may ask the vault: a connection's credential, ready to attach to a request.

The vault never does HTTP: an OAuth client-credentials connection hands over its setup (as a Secret)
and the outbound HTTP client fetches the token.
"""

import base64
from dataclasses import dataclass

from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from vault.crypto import DecryptionError
from vault.hosts import normalize_host
from vault.models import Connection, ConnectionType
from vault.secrets import MASK, Secret


class CredentialUnavailable(Exception):
    """A connection cannot provide a credential. The message is safe to show and to store."""


@dataclass(frozen=True)
class Credential:
    connection_id: str
    name: str
    type: str
    headers: tuple[tuple[str, Secret], ...]
    query: tuple[tuple[str, Secret], ...]
    allowed_hosts: tuple[str, ...]  # empty: any host
    oauth: Secret | None  # OAUTH_CLIENT_CREDENTIALS: the setup dict, for the client to fetch a token
    fingerprint: str


@sensitive_variables()
def credential_for(ref: str) -> Credential:
    """The credential of the connection whose id or name is `ref`."""
    connection = Connection.find(ref)
    if connection is None:
        raise CredentialUnavailable(f'Connection "{ref}" does not exist.')
    if connection.setup is None:
        raise CredentialUnavailable(f'Connection "{connection.name}" has no secret set.')
    try:
        setup = connection.setup.reveal()
    except DecryptionError:
        raise CredentialUnavailable(
            f'Connection "{connection.name}" cannot be decrypted: FIELD_ENCRYPTION_KEYS lacks its key.'
        ) from None
    headers: tuple[tuple[str, Secret], ...] = ()
    query: tuple[tuple[str, Secret], ...] = ()
    oauth = None
    match connection.type:
        case ConnectionType.BEARER:
            token = setup["token"]
            bearer = Secret(f"Bearer {token}", display=f"Bearer {MASK}", sensitive=(token,))
            headers = (("Authorization", bearer),)
        case ConnectionType.BASIC_AUTH:
            headers = (("Authorization", basic_auth_secret(setup["username"], setup["password"])),)
        case ConnectionType.API_KEY:
            pair = ((setup["name"], Secret(setup["value"])),)
            if setup["in"] == "QUERY":
                query = pair
            else:
                headers = pair
        case ConnectionType.OAUTH_CLIENT_CREDENTIALS:
            oauth = Secret(dict(setup), sensitive=(setup["client_secret"],))
        case _:
            raise CredentialUnavailable(f'Connection "{connection.name}" has an unknown type.')
    return Credential(
        connection_id=str(connection.id),
        name=connection.name,
        type=connection.type,
        headers=headers,
        query=query,
        allowed_hosts=tuple(connection.allowed_hosts),
        oauth=oauth,
        fingerprint=connection.fingerprint,
    )


def mark_used(connection_id: str) -> None:
    Connection.objects.filter(pk=connection_id).update(last_used=timezone.now())


USE_PERMISSION = "vault.use_connection"
NO_USE_PERMISSION = (
    "You may not use vault connections: ask an administrator for the "
    "'Can use a connection in actions' permission."
)


def may_use(user) -> bool:
    """DESIGN §8: choosing a connection for an action is its own permission, apart from changing one
    (runs of a saved flow are not checked: its author chose the connection)."""
    return user.has_perm(USE_PERMISSION)


def connection_choices() -> list[tuple[str, str]]:
    """[(id, "name (type)")] for select widgets; reads no secret."""
    labels = dict(ConnectionType.choices)
    return [
        (str(pk), f"{name} ({labels.get(type_, type_)})")
        for pk, name, type_ in Connection.objects.values_list("id", "name", "type")
    ]


@sensitive_variables()
def basic_auth_secret(username: str, password: str) -> Secret:
    """The `Authorization: Basic …` header value (RFC 7617, UTF-8), masked as "Basic ********"."""
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return Secret(f"Basic {encoded}", display=f"Basic {MASK}", sensitive=(password, encoded))


def is_host_allowed(credential: Credential, host: str) -> bool:
    if not credential.allowed_hosts:
        return True
    try:
        return normalize_host(host) in credential.allowed_hosts
    except ValueError:
        return False
