"""The deadline watchdog sleeps until the earliest deadline it knows: a shorter deadline that arrives
while it sleeps must still end its exchange on time."""

import threading
import time

import pytest

from actions.http_client import OutboundError, OutboundRequest, send
from tests.http_client.test_limits import drip_headers


def test_a_shorter_deadline_after_a_longer_one_ends_on_time(allow_loopback, raw_server):
    server = raw_server(drip_headers)
    elapsed: dict[float, float] = {}

    def run(timeout: float) -> None:
        started = time.monotonic()
        with pytest.raises(OutboundError) as caught:
            send(OutboundRequest("GET", server.url("/"), timeout=timeout))
        assert caught.value.code == "timeout"
        elapsed[timeout] = time.monotonic() - started

    long = threading.Thread(target=run, args=(3.0,))
    long.start()
    time.sleep(0.3)  # the watchdog now sleeps until the 3 s deadline
    run(0.5)
    long.join(timeout=6)

    assert 0.4 < elapsed[0.5] < 1.1
    assert 2.9 < elapsed[3.0] < 3.6
