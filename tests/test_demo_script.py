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
PORTS = (8000, 8001)  # the demo's fixed ports: Flow Designer, httpbin
SERVING = "Serving Flow Designer"


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the project sharing its virtualenv, so the demo's database and logs stay in tmp_path."""
    if not all(port_free(port) for port in PORTS):
        pytest.skip("ports 8000 and 8001 must be free to run the demo")
    copy = tmp_path / "flowdesigner"
    ignored = shutil.ignore_patterns(
        ".git", ".venv", "var", "__pycache__", ".*_cache", "test-results", "bench"
    )
    shutil.copytree(ROOT, copy, ignore=ignored)
    (copy / ".venv").symlink_to(ROOT / ".venv")
    return copy


def stop(demo: subprocess.Popen) -> None:
    """Stop the demo's process group (the script, httpbin, the server), forcibly if TERM is not enough."""
    os.killpg(demo.pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (demo.poll() is None or not all(map(port_free, PORTS))):
        time.sleep(0.2)
    if demo.poll() is None or not all(map(port_free, PORTS)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(demo.pid, signal.SIGKILL)
    demo.wait()


def run_demo_until_serving(project: Path) -> str:
    """Everything the demo prints (stdout and stderr) until it serves, then stop it and its servers."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "FLOWS_OUTBOUND_ALLOWLIST")}
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
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                break
            printed.append(line)
            if line.startswith(SERVING):
                break
    finally:
        stop(demo)
        reader.join()
        demo.stdout.close()
    output = "".join(printed)
    assert SERVING in output, output
    return output


def test_the_demo_prints_no_httpbin_warning_and_says_where_its_log_is(project):
    output = run_demo_until_serving(project)

    assert "flasgger" not in output
    assert "httpbin on http://127.0.0.1:8001, its log in var/httpbin.log" in output
    assert "flasgger is not installed" in (project / "var" / "httpbin.log").read_text()
