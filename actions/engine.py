"""Running a whole flow: walking its actions in order, recording an execution (DESIGN §6).

Each action goes through `actions.runner.run_action` (catalog dispatch, `allow_failure`, `mask_output`);
this module adds what only a flow has: the order of the actions and If/then branches, the shared scope
(`fields`, `vars`, `actions.<id>`, `context`), the actions that end a run (Error message, Return JSON,
an action that fails without `allow_failure`, an unsupported type), and the records.

Nothing of a Secret's value is ever written: inputs, params, outputs and metadata are redacted (masked
values shown as their mask) before they are stored.
"""

import functools
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models.query import RawQuerySet
from django.utils import timezone

from actions import runner
from actions.catalog.flow import copy_value
from actions.expressions import UNDEFINED, ExpressionError, redact, resolve
from actions.models import Action, ActionRun, Execution, Flow, Status, Trigger
from vault.secrets import Secret

logger = logging.getLogger(__name__)

CONDITION = "FLOW/BOOLEAN_CONDITION"
RETURN_JSON = "FLOW/RETURN_JSON"
ERROR_MESSAGE = "FLOW/ERROR_MESSAGE"
UNSUPPORTED = "unsupported_action"


class _End(Exception):
    """The run ends here (Return JSON, Error message, a failure)."""

    def __init__(self, status: str, *, output: Any = None, error: dict | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.output = output
        self.error = error


@dataclass
class _Walk:
    execution: Execution
    scope: dict
    children: dict[tuple[int | None, str], list[Action]]
    records: list[tuple] = field(default_factory=list)  # ActionRun rows: values in _RUN_COLUMNS order
    current: str | None = None

    def run_list(self, parent_id: int | None, branch: str) -> None:
        for action in self.children.get((parent_id, branch), ()):
            self.step(action)

    def step(self, action: Action) -> None:
        self.current = action.action_id
        params = _recorded_params(action, self.scope)
        started = timezone.now()
        clock = time.perf_counter()
        result = runner.run_action(action, self.scope)
        duration_ms = round((time.perf_counter() - clock) * 1000)
        self.scope["actions"][action.action_id] = result.output

        error = result.error.as_dict() if result.error else None
        end: _End | None = None
        # An unsupported action, or an Error message that could not even compute its message, ends the run
        # whatever `allow_failure` says: neither may be skipped silently.
        if result.error and (
            result.failed or result.error.code == UNSUPPORTED or action.kind == ERROR_MESSAGE
        ):
            end = _End(Status.FAILED, error={"action_id": action.action_id, **error})
        elif action.kind == ERROR_MESSAGE:
            error = {"code": "error_message", "message": result.output["message"]}
            end = _End(Status.FAILED, error={"action_id": action.action_id, **error})
        elif action.kind == RETURN_JSON and not result.error:
            end = _End(Status.COMPLETED, output=result.output)

        self.records.append(
            (
                len(self.records),
                action.action_id,
                action.type,
                action.action,
                Status.FAILED if error else Status.COMPLETED,
                params,
                _json(result.recorded_output),
                _json(result.meta or {}),
                _json(error),
                duration_ms,
                _attempts(result.meta),
                started,
            )
        )
        if end is not None:
            raise end
        if action.kind == CONDITION and not result.error:
            self.run_list(action.pk, "then" if result.output["result"] else "else")
        self.current = None


def run_flow(
    flow: Flow,
    *,
    fields: dict | None = None,
    vars: dict | None = None,
    context: dict | None = None,
    trigger: str = Trigger.MANUAL,
) -> Execution:
    """Run `flow` to its end and return the recorded execution (completed or failed, never running)."""
    if trigger not in Trigger.values:
        raise ValueError(f"Unknown trigger {trigger!r}: expected one of {', '.join(Trigger.values)}.")
    fields = copy_value(fields or {})
    # Created as running: a run started here has no queue to wait in (one commit fewer per run).
    execution = _start(
        flow=flow,
        flow_version=flow.version,
        trigger=trigger,
        fields=recordable(fields),
        status=Status.RUNNING,
        started=timezone.now(),
    )
    walk = _Walk(execution=execution, scope={}, children={})
    try:
        for action in _actions_of(flow):
            walk.children.setdefault((action.parent_id, action.branch), []).append(action)
        walk.scope = {
            "fields": fields,
            "vars": copy_value(vars or {}),
            "actions": {},
            "context": {
                **copy_value(context or {}),
                "flow_id": str(flow.id),
                "flow_name": flow.name,
                "execution_id": str(execution.id),
                "trigger": trigger,
                "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            },
        }
        try:
            walk.run_list(None, "")
            end = _End(Status.COMPLETED)
        except _End as stop:
            end = stop
        execution.status, execution.output, execution.error = end.status, recordable(end.output), end.error
    except BaseException as exc:
        logger.exception("Execution %s of flow %s stopped on an unexpected error.", execution.id, flow.id)
        execution.status = Status.FAILED
        execution.error = {
            "action_id": walk.current,
            "code": "internal_error",
            "message": "The run stopped on an unexpected error.",
        }
        if not isinstance(exc, Exception):
            _finish(execution, walk.records)
            raise
    _finish(execution, walk.records)
    return execution


def _actions_of(flow: Flow) -> RawQuerySet:
    """The flow's actions in order, with the SELECT compiled once: compiling it anew took half of
    the time the query takes."""
    flow_id = Action._meta.get_field("flow").get_db_prep_value(flow.pk, connection)
    return Action.objects.raw(_actions_sql(connection.vendor), [flow_id])


@functools.cache
def _actions_sql(vendor: str) -> str:
    """The SQL of the default database, whose `vendor` is the cache key."""
    query = Action.objects.filter(flow_id=uuid.UUID(int=0)).order_by("position", "pk").query
    return query.sql_with_params()[0]


def _start(**values: Any) -> Execution:
    """The execution, recorded as running.

    On PostgreSQL this commit does not wait for the disk (about 2 ms): the run's last commit does, and
    PostgreSQL flushes its log in order, so that one makes this one durable too. Inside a caller's
    transaction nothing changes: its commit is not ours to relax.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return Execution.objects.create(**values)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        return Execution.objects.create(**values)


# The ActionRun columns of a record, as the walk builds it.
_RUN_COLUMNS = (
    "position",
    "action_id",
    "type",
    "action",
    "status",
    "params",
    "output",
    "meta",
    "error",
    "duration_ms",
    "attempts",
    "started",
)


def _insert_runs(execution: Execution, records: list[tuple]) -> None:
    """Write the action runs with multi-row INSERTs (one for a flow of ordinary size).

    bulk_create would compile the statement anew, pass every value through its field and encode each
    JSON value a second time: the JSON columns get the text `_json` made (masked and copied).
    """
    fields = [ActionRun._meta.get_field(name) for name in ("execution", *_RUN_COLUMNS)]
    # Text (JSON columns' included), numbers and NULL go as they are; the id and times through their field.
    rows = [
        [
            value if value is None or isinstance(value, str | int) else f.get_db_prep_save(value, connection)
            for f, value in zip(fields, (execution.pk, *record), strict=True)
        ]
        for record in records
    ]
    # Names come from the model, quoted by the backend; every value is a parameter.
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    head = f"INSERT INTO {quote(ActionRun._meta.db_table)} ({columns}) VALUES "  # noqa: S608
    row_sql = f"({', '.join(['%s'] * len(fields))})"
    size = max(connection.ops.bulk_batch_size(fields, rows), 1)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            cursor.execute(head + ", ".join([row_sql] * len(batch)), [v for row in batch for v in row])


def _finish(execution: Execution, records: list[tuple]) -> None:
    try:
        with transaction.atomic():
            _insert_runs(execution, records)
            execution.ended = timezone.now()
            execution.save(update_fields=["status", "output", "error", "ended"])
        return
    except Exception:
        logger.exception("The action runs of execution %s could not be recorded.", execution.id)
        execution.status = Status.FAILED
        execution.error = {
            "action_id": None,
            "code": "internal_error",
            "message": "The run could not be recorded.",
        }
    execution.ended = timezone.now()
    execution.save(update_fields=["status", "output", "error", "ended"])


def _recorded_params(action: Action, scope: dict) -> str | None:
    """The params as this run resolves them, masked, as JSON text; as stored when an expression cannot
    be resolved (the action itself then reports the error)."""
    try:
        return _json(resolve(action.params or {}, scope))
    except ExpressionError:
        return _json(action.params or {})


def _attempts(meta: dict) -> int:
    attempts = meta.get("attempts") if isinstance(meta, dict) else None
    return attempts if isinstance(attempts, int) and attempts > 0 else 1


def recordable(value: Any) -> Any:
    """A JSON value safe to store: masked values as their mask, anything else JSON cannot hold as text.

    Serializing also copies, so nothing done to the scope later can change a record. A Secret is no
    JSON type, so the encoder hands it to `_json_default`, which writes its mask (as `redact` would,
    without walking the value once more in Python).
    """
    return json.loads(json.dumps(value, ensure_ascii=False, default=_json_default))


def _json(value: Any) -> str | None:
    """What `recordable` stores, as the JSON text of a record's column (None: SQL NULL, as JSONField
    stores None). Text cannot change, so nothing done to the scope later can change a record."""
    if value is None or value is UNDEFINED:
        return None
    return json.dumps(value, default=_json_default)


def _json_default(value: Any) -> Any:
    if value is UNDEFINED:
        return None
    if isinstance(value, Secret):
        return redact(value)
    return str(value)
