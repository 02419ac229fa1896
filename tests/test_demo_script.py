"""`make demo` (scripts/demo) run for real, in a copy of the project with its own SQLite database."""

import contextlib
import os
import queue
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVING = "Serving Flow Designer"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the project sharing its virtualenv, so the demo's database and logs stay in tmp_path."""
    copy = tmp_path / "flowdesigner"
    ignored = shutil.ignore_patterns(".git", ".venv", "var", "__pycache__", ".*_cache", "test-results")
    shutil.copytree(ROOT, copy, ignore=ignored)
    (copy / ".venv").symlink_to(ROOT / ".venv")
    return copy


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop(demo: subprocess.Popen) -> None:
    """Stop the demo's whole process group (the script, httpbin, the server), by force if TERM is not
    enough: a process forked just as TERM was sent would otherwise outlive the test."""
    os.killpg(demo.pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (demo.poll() is None or group_alive(demo.pid)):
        time.sleep(0.2)
    if group_alive(demo.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(demo.pid, signal.SIGKILL)
    demo.wait()


def run_demo_until_serving(project: Path, app_port: int, httpbin_port: int) -> str:
    """Everything the demo prints (stdout and stderr) until its server answers, then stop it."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "FLOWS_OUTBOUND_ALLOWLIST")}
    env["DEMO_PORT"], env["DEMO_HTTPBIN_PORT"] = str(app_port), str(httpbin_port)
    demo = subprocess.Popen(
        [str(project / "scripts" / "demo")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=lambda: [*map(lines.put, demo.stdout), lines.put(None)], daemon=True)
    reader.start()
    printed, deadline = [], time.monotonic() + 120
    try:
        while time.monotonic() < deadline and not (SERVING in "".join(printed) and listening(app_port)):
            with contextlib.suppress(queue.Empty):
                line = lines.get(timeout=0.2)
                if line is None:
                    break
                printed.append(line)
    finally:
        stop(demo)
        reader.join()
        demo.stdout.close()
    output = "".join(printed)
    assert SERVING in output, output
    return output


def test_the_demo_prints_no_httpbin_warning_and_says_where_its_log_is(project):
    app_port, httpbin_port = free_port(), free_port()
    output = run_demo_until_serving(project, app_port, httpbin_port)

    assert f"Serving Flow Designer on http://127.0.0.1:{app_port}/" in output
    assert "flasgger" not in output
    assert f"httpbin on http://127.0.0.1:{httpbin_port}, its log in var/httpbin.log" in output
    assert "flasgger is not installed" in (project / "var" / "httpbin.log").read_text()
