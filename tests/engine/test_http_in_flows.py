"""HTTP Request actions inside a whole flow run (DESIGN §4.2, §6; cases C16, C18, C19): a request that
cannot complete fails the execution with its error, `allow_failure` lets later actions read that error,
and nothing oversized is stored. Each test runs `run_flow` against a local raw-socket server."""

import json
import time

import pytest

from actions.engine import run_flow
from actions.models import Execution
from tests.engine.builders import act, make_flow
from tests.http_client.servers import RawServer, reply


@pytest.fixture
def server(allow_loopback, db):
    """`server(handler)` starts a RawServer on 127.0.0.1; all stop at teardown."""
    started: list[RawServer] = []

    def start(handler) -> RawServer:
        started.append(RawServer(handler))
        return started[-1]

    yield start
    for item in started:
        item.stop()


def never_answers(conn, server) -> None:
    server.stopped.wait(10)


def endless_chunked(conn, server) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
    block = b"y" * 8192
    while not server.stopped.is_set():
        conn.sendall(b"2000\r\n" + block + b"\r\n")


def call_then_return(url: str, **flags) -> list[dict]:
    return [
        act("call", "HTTP/SEND_REQUEST", {"url": url, "timeout": 1}, **flags),
        act(
            "out",
            "FLOW/RETURN_JSON",
            {"payload": {"code": "{{actions.call.error.code}}", "status": "{{actions.call.status}}"}},
        ),
    ]


def stored_size(execution: Execution) -> int:
    """The JSON size of everything the execution and its action runs store."""
    execution = Execution.objects.get(pk=execution.pk)
    values = [execution.output, execution.error, execution.fields]
    for run in execution.action_runs.all():
        values += [run.params, run.output, run.meta, run.error]
    return len(json.dumps(values))


def test_c19_a_timeout_fails_the_execution_with_the_action_and_its_error(server):
    url = server(never_answers).url("/slow")
    clock = time.monotonic()
    execution = run_flow(make_flow(call_then_return(url)))
    assert time.monotonic() - clock < 3

    execution = Execution.objects.get(pk=execution.pk)
    assert execution.status == "failed"
    assert execution.ended is not None and execution.ended >= execution.started
    assert execution.output is None
    assert execution.error == {
        "action_id": "call",
        "code": "timeout",
        "message": "The request did not complete within 1 s.",
    }
    (run,) = execution.action_runs.all()
    assert (run.action_id, run.status) == ("call", "failed")
    assert run.error == {"code": "timeout", "message": "The request did not complete within 1 s."}


def test_with_allow_failure_the_run_goes_on_and_a_later_action_reads_the_error(server):
    url = server(never_answers).url("/slow")
    execution = run_flow(make_flow(call_then_return(url, allow_failure=True)))

    execution = Execution.objects.get(pk=execution.pk)
    assert execution.status == "completed"
    assert execution.error is None
    assert execution.output == {"code": "timeout", "status": 0}
    assert [(run.action_id, run.status) for run in execution.action_runs.all()] == [
        ("call", "failed"),
        ("out", "completed"),
    ]
    call = execution.action_runs.get(action_id="call")
    assert call.output == {
        "headers": {},
        "body": None,
        "status": 0,
        "success": False,
        "error": {"code": "timeout", "message": "The request did not complete within 1 s."},
    }


@pytest.mark.parametrize("allow_failure", [False, True])
def test_c16_an_oversized_response_is_not_stored_in_the_execution(server, settings, allow_failure):
    settings.FLOWS_HTTP_MAX_RESPONSE_BYTES = 1024 * 1024
    url = server(endless_chunked).url("/big")
    execution = run_flow(make_flow(call_then_return(url, allow_failure=allow_failure)))

    execution = Execution.objects.get(pk=execution.pk)
    call = execution.action_runs.get(action_id="call")
    error = {"code": "response_too_large", "message": "The response is larger than the 1 MiB limit."}
    assert call.error == error
    failure = {"headers": {}, "body": None, "status": 0, "success": False, "error": error}
    assert call.output == (failure if allow_failure else None)
    assert call.meta["size_bytes"] == 0
    assert execution.status == ("completed" if allow_failure else "failed")
    assert stored_size(execution) < 10 * 1024


def test_c18_a_later_action_reads_the_body_of_an_error_response(server):
    body = b'{"error": {"code": "user_not_found", "detail": "No user 42"}}'
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    url = server(reply("404 Not Found", headers, body)).url("/users/42")
    flow = make_flow(
        [
            act("call", "HTTP/SEND_REQUEST", {"url": url}),
            act(
                "out",
                "FLOW/RETURN_JSON",
                {
                    "payload": {
                        "status": "{{actions.call.status}}",
                        "success": "{{actions.call.success}}",
                        "why": "{{actions.call.body.error.code}}: {{actions.call.body.error.detail}}",
                    }
                },
            ),
        ]
    )
    execution = run_flow(flow)
    assert execution.status == "completed"
    assert execution.output == {"status": 404, "success": False, "why": "user_not_found: No user 42"}
