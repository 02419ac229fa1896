"""Designer (DESIGN §9): server time and SQL queries of the flow's canvas page, the action editor and two
HTMX partials, for a flow of 10 and of 100 actions (mixed types, nested If/then branches).

    .venv/bin/python bench/designer.py [--rounds 30]

Each request goes through Django's test client as a logged-in staff user, with DEBUG off as in
production, against its own SQLite database under bench/.work/ (or DATABASE_URL if set). The query count
must not grow with the number of actions; targets: page < 100 ms, partial < 20 ms (medians).
"""

import argparse
import base64
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
sys.path.insert(0, str(ROOT))

PAGE_TARGET_MS, PARTIAL_TARGET_MS = 100, 20


def block(n: int) -> list[dict]:
    """Ten actions of the kinds a real flow mixes, the If/then holding three of them."""

    def act(name: str, kind: str, params: dict) -> dict:
        type_, action = kind.split("/")
        return {"id": f"{name}_{n}", "alias": "", "type": type_, "action": action, "params": params}

    user = f"{{{{actions.get_user_{n}.body}}}}"
    return [
        act(
            "get_user",
            "HTTP/SEND_REQUEST",
            {
                "url": "https://api.example.com/users/{{fields.user_id}}",
                "method": "GET",
                "content_type": "JSON",
                "headers": [{"key": "Accept", "value": "application/json"}],
                "params": [{"key": "include", "value": "groups"}],
            },
        ),
        act("keep", "FLOW/STORE_VARS", {"vars": {"email": f"{{{{actions.get_user_{n}.body.email}}}}"}}),
        act(
            "check",
            "FLOW/BOOLEAN_CONDITION",
            {
                "if": {
                    "operator": "AND",
                    "conditions": [
                        {"left": f"{{{{actions.get_user_{n}.status}}}}", "op": "EQUALS", "right": 200}
                    ],
                },
                "then": [
                    act("payload", "JSON/CREATE_JSON", {"object": {"user": user, "source": "flow"}}),
                    act(
                        "notify",
                        "HTTP/SEND_REQUEST",
                        {
                            "url": "https://hooks.example.com/notify",
                            "method": "POST",
                            "content_type": "JSON",
                            "payload": f'{{"user": {{{{actions.payload_{n}.result}}}}}}',
                        },
                    ),
                ],
                "else": [
                    act(
                        "label",
                        "FLOW/MAP_VALUE",
                        {"input": "{{fields.country}}", "cases": {"FR": "France"}, "fallback": "other"},
                    )
                ],
            },
        ),
        act("parse", "JSON/PARSE_JSON", {"json": '{"a": 1}'}),
        act("to_xml", "XML/SERIALIZE_XML", {"object": {"user": {"email": "{{vars.email}}"}}}),
        act("pause", "FLOW/DELAY_FLOW", {"number": 1, "units": "SECONDS"}),
        act("noop", "FLOW/DO_NOTHING", {}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    WORK.mkdir(parents=True, exist_ok=True)
    db = WORK / "designer.sqlite3"
    db.unlink(missing_ok=True)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="flowdesigner.settings",
        DATABASE_URL=os.environ.get("DATABASE_URL", f"sqlite:///{db}"),
        LOG_LEVEL="WARNING",
        # As in production (cached templates, no query log); the test client's host must be allowed.
        DEBUG="False",
        SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEYS=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="False",
    )
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from actions.flowjson import import_flows
    from actions.models import Flow

    call_command("migrate", verbosity=0)
    Flow.objects.filter(name__startswith="bench designer").delete()
    flows = {}
    for size in (10, 100):
        actions = [action for n in range(size // 10) for action in block(n)]
        flows[size] = import_flows({"name": f"bench designer {size}", "actions": actions})[0]
        assert flows[size].actions.count() == size

    user = get_user_model().objects.filter(username="bench").first() or get_user_model().objects.create_user(
        "bench", password=secrets.token_urlsafe(16), is_staff=True
    )
    client = Client()
    client.force_login(user)
    htmx = {"HTTP_HX_REQUEST": "true"}

    def requests_for(flow) -> list[tuple[str, str, dict, int]]:
        http = flow.actions.filter(type="HTTP").order_by("-position").first()
        return [
            ("canvas page (flow_detail)", reverse("actions:flow_detail", args=[flow.pk]), {}, PAGE_TARGET_MS),
            (
                "action editor page (HTTP)",
                reverse("actions:action_edit", args=[flow.pk, http.pk]),
                {},
                PAGE_TARGET_MS,
            ),
            (
                "partial: editor header row",
                reverse("actions:row", args=[flow.pk, "headers"]),
                htmx,
                PARTIAL_TARGET_MS,
            ),
            (
                "partial: flow list search",
                reverse("actions:flow_list") + "?q=designer",
                htmx,
                PARTIAL_TARGET_MS,
            ),
        ]

    def measure(url: str, headers: dict) -> tuple[float, int]:
        for _ in range(3):  # warm up: template and URL caches
            assert client.get(url, **headers).status_code == 200, url
        with CaptureQueriesContext(connection) as captured:
            client.get(url, **headers)
        queries = len(captured)  # now: the next request clears the query log
        times = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            client.get(url, **headers)
            times.append((time.perf_counter() - start) * 1000)
        return statistics.median(times), queries

    results = {
        size: [measure(url, headers) for _, url, headers, _ in requests_for(flows[size])] for size in flows
    }
    print(f"rounds: {args.rounds}, database {connection.vendor}; median server time, SQL queries")
    print(f"{'':28s} {'10 actions':>18s} {'100 actions':>18s}   target")
    failed = False
    for index, (label, _, _, target) in enumerate(requests_for(flows[10])):
        (small_ms, small_q), (large_ms, large_q) = results[10][index], results[100][index]
        ok = large_ms < target and small_q == large_q
        failed |= not ok
        print(
            f"{label:28s} {small_ms:8.1f} ms {small_q:3d} q {large_ms:8.1f} ms {large_q:3d} q"
            f"   < {target} ms, constant queries: {'ok' if ok else 'MISSED'}"
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
