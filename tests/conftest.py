import pytest
from django.contrib.auth import get_user_model

STAFF_PASSWORD = "correct-horse-battery-staple"


def make_user(username: str = "admin", *, staff: bool = True, superuser: bool = True):
    return get_user_model().objects.create_user(
        username=username, password=STAFF_PASSWORD, is_staff=staff, is_superuser=superuser
    )


@pytest.fixture
def staff_user(db):
    return make_user()


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def outsider_client(client, db):
    """Logged in, but not staff: every page must answer 403."""
    client.force_login(make_user("outsider", staff=False, superuser=False))
    return client


@pytest.fixture
def allow_loopback(settings):
    """Let the outbound client reach local test servers (the SSRF guard stays on for everything else)."""
    settings.FLOWS_OUTBOUND_ALLOWLIST = ["127.0.0.1", "::1", "localhost"]
    return settings


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def httpbin_url():
    """A real httpbin served by gunicorn on a free local port, for the whole session."""
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    port = _free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [
            str(gunicorn),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
            "httpbin:app",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"{url}/get", timeout=1).close()  # noqa: S310 (our own local URL)
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("httpbin did not start") from None
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=10)
