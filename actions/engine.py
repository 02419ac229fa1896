"""Running a whole flow: walking its actions in order, recording an execution (DESIGN §6).

Each action goes through `actions.runner.run_action` (catalog dispatch, `allow_failure`, `mask_output`);
this module adds what only a flow has: the order of the actions and If/then branches, the shared scope
(`fields`, `vars`, `actions.<id>`, `context`), the actions that end a run (Error message, Return JSON,
an action that fails without `allow_failure`, an unsupported type), and the records.

Nothing of a Secret's value is ever written: inputs, params, outputs and metadata are redacted (masked
values shown as their mask) before they are stored.
"""

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from actions import runner
from actions.catalog.flow import copy_value
from actions.expressions import UNDEFINED, ExpressionError, redact, resolve
from actions.models import Action, ActionRun, Execution, Flow, Status, Trigger

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
    records: list[ActionRun] = field(default_factory=list)
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
            ActionRun(
                execution=self.execution,
                position=len(self.records),
                action_id=action.action_id,
                type=action.type,
                action=action.action,
                status=Status.FAILED if error else Status.COMPLETED,
                params=params,
                output=recordable(result.recorded_output),
                meta=recordable(result.meta) or {},
                error=error,
                duration_ms=duration_ms,
                attempts=_attempts(result.meta),
                started=started,
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
    execution = Execution.objects.create(
        flow=flow,
        flow_version=flow.version,
        trigger=trigger,
        fields=recordable(fields),
        status=Status.RUNNING,
        started=timezone.now(),
    )
    walk = _Walk(execution=execution, scope={}, children={})
    try:
        for action in flow.actions.order_by("position", "pk"):
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


def _finish(execution: Execution, records: list[ActionRun]) -> None:
    try:
        with transaction.atomic():
            ActionRun.objects.bulk_create(records)
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


def _recorded_params(action: Action, scope: dict) -> Any:
    """The params as this run resolves them, masked; as stored when an expression cannot be resolved
    (the action itself then reports the error)."""
    try:
        return recordable(resolve(action.params or {}, scope))
    except ExpressionError:
        return recordable(action.params or {})


def _attempts(meta: dict) -> int:
    attempts = meta.get("attempts") if isinstance(meta, dict) else None
    return attempts if isinstance(attempts, int) and attempts > 0 else 1


def recordable(value: Any) -> Any:
    """A JSON value safe to store: masked values as their mask, anything else JSON cannot hold as text.

    Serializing also copies, so nothing done to the scope later can change a record.
    """
    return json.loads(json.dumps(redact(value), ensure_ascii=False, default=_json_default))


def _json_default(value: Any) -> Any:
    return None if value is UNDEFINED else str(value)
