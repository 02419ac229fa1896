"""Builders for engine tests: flows and actions in the Auth0 shape, vault connections."""

from actions.flowjson import import_flows
from vault.models import Connection


def make_flow(actions: list[dict], name: str = "test flow"):
    """A saved flow built from Auth0-shaped actions (through the importer, as a user would)."""
    return import_flows({"name": name, "actions": actions})[0]


def act(id: str, type_action: str, params: dict | None = None, **flags) -> dict:
    """An Auth0 action envelope: act("s", "FLOW/STORE_VARS", {"vars": {...}}, allow_failure=True)."""
    type_, action = type_action.split("/")
    return {"id": id, "alias": "", "type": type_, "action": action, "params": params or {}, **flags}


def condition(left, op: str, right=None) -> dict:
    item = {"left": left, "op": op}
    if right is not None:
        item["right"] = right
    return item


SENTINEL_TOKEN = "tok_SENTINEL"


def make_bearer(name: str = "api token", token: str = SENTINEL_TOKEN) -> Connection:
    connection = Connection(name=name, type="BEARER")
    connection.set_setup({"token": token})
    connection.save()
    return connection
