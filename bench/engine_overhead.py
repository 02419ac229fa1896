"""Engine overhead (DESIGN §9): a flow of 10 HTTP actions run in-process vs the same 10 requests made
directly with one requests.Session, against the same fast local upstream. Prints medians and the ratio.

    .venv/bin/python bench/engine_overhead.py [--rounds 30]

It uses its own SQLite database under bench/.work/ (or DATABASE_URL if set) and a small threaded upstream
on a free port. The CPU figures (the process's, both sides alike) vary less than wall time on a busy
machine.
"""

import argparse
import base64
import json
import os
import secrets
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
sys.path.insert(0, str(ROOT))


class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else delayed ACKs add ~40 ms to every response
    body = json.dumps({"id": 7, "email": "ada@example.com", "tags": ["a", "b"]}).encode()

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    WORK.mkdir(parents=True, exist_ok=True)
    db = WORK / "bench.sqlite3"
    db.unlink(missing_ok=True)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="flowdesigner.settings",
        DATABASE_URL=os.environ.get("DATABASE_URL", f"sqlite:///{db}"),
        FLOWS_OUTBOUND_ALLOWLIST="127.0.0.1",
        LOG_LEVEL="WARNING",
        # As in production: with DEBUG on, Django logs every query (and re-quotes its parameters).
        DEBUG="False",
        SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEYS=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    )
    import django

    django.setup()
    import requests
    from django.core.management import call_command
    from django.db import connection

    from actions.engine import run_flow
    from actions.models import Action, Flow

    call_command("migrate", verbosity=0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"

    Flow.objects.filter(name="bench").delete()
    flow = Flow.objects.create(name="bench")
    for i in range(10):
        Action.objects.create(
            flow=flow,
            position=i,
            action_id=f"step_{i}",
            type="HTTP",
            action="SEND_REQUEST",
            params={"url": f"{base}/items/{i}", "method": "GET", "content_type": "JSON", "payload": ""},
        )

    def engine() -> None:
        execution = run_flow(flow, trigger="cli")
        assert execution.status == "completed", execution.error

    session = requests.Session()

    def direct() -> None:
        for i in range(10):
            response = session.get(f"{base}/items/{i}", timeout=30)
            response.json()

    def timed(fn) -> tuple[float, float]:
        """Wall time and CPU time (of the whole process, the upstream's thread included), in ms."""
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000

    for _ in range(3):  # warm up: connection pools, imports, caches
        direct()
        engine()
    # Interleaved, so that a change in the machine's load during the run weighs on both sides alike.
    times: dict[str, list[tuple[float, float]]] = {"direct": [], "engine": []}
    for _ in range(args.rounds):
        times["direct"].append(timed(direct))
        times["engine"].append(timed(engine))
    (d, d_cpu), (e, e_cpu) = (
        [statistics.median(t[i] for t in times[side]) for i in (0, 1)] for side in ("direct", "engine")
    )
    print(f"rounds: {args.rounds}, 10 GET requests each, upstream {base}, database {connection.vendor}")
    print(f"direct requests.Session  median {d:8.2f} ms   (CPU {d_cpu:6.2f} ms)")
    print(f"flow engine (run_flow)   median {e:8.2f} ms   (CPU {e_cpu:6.2f} ms)")
    print(f"ratio engine/direct      {e / d:8.2f}      (CPU {e_cpu / d_cpu:6.2f})  target <= 1.10")
    server.shutdown()


if __name__ == "__main__":
    main()
