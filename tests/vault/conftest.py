import pytest

from vault.models import Connection

SETUPS = {
    "BEARER": {"token": "tok_example"},
    "BASIC_AUTH": {"username": "alice", "password": "pass_example"},
    "API_KEY": {"name": "X-API-Key", "value": "key_example", "in": "HEADER"},
    "OAUTH_CLIENT_CREDENTIALS": {
        "client_id": "client-1",
        "client_secret": "secret_example",
        "token_endpoint": "https://auth.example.com/oauth/token",
        "audience": "https://api.example.com/",
    },
}


def make_connection(name: str = "github", type_: str = "BEARER", setup: dict | None = None, **fields):
    connection = Connection(name=name, type=type_, **fields)
    connection.set_setup(SETUPS[type_] if setup is None else setup)
    connection.save()
    return connection


@pytest.fixture
def bearer(db):
    return make_connection()
