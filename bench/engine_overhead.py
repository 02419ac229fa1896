"""Engine overhead (DESIGN §9): a flow of 10 HTTP actions run in-process vs the same 10 requests made
directly with one requests.Session, against the same fast local upstream. Prints medians and the ratio.

    .venv/bin/python bench/engine_overhead.py [--rounds 30]

It uses its own SQLite database under bench/.work/ (or DATABASE_URL if set) and a small threaded upstream
on a free port.
"""

import argparse
import json
import os
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
    )
    import django

    django.setup()
    import requests
    from django.core.management import call_command

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

    def measure(fn) -> list[float]:
        fn()  # warm up: connection pools, imports, caches
        times = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1000)
        return times

    direct_ms = measure(direct)
    engine_ms = measure(engine)
    d, e = statistics.median(direct_ms), statistics.median(engine_ms)
    print(f"rounds: {args.rounds}, 10 GET requests each, upstream {base}")
    print(f"direct requests.Session  median {d:8.2f} ms")
    print(f"flow engine (run_flow)   median {e:8.2f} ms")
    print(f"ratio engine/direct      {e / d:8.2f}  (target <= 1.10)")
    server.shutdown()


if __name__ == "__main__":
    main()
