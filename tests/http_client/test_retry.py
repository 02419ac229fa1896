"""Retries per RetryPolicy: statuses, network errors, Retry-After, attempts counted."""

import email.utils
import itertools
import time

import pytest
from werkzeug import Response

from actions.http_client import OutboundError, OutboundRequest, RetryPolicy, send


def sequence(httpserver, path: str, responses: list[Response]):
    calls = []

    def handler(request):
        calls.append(time.monotonic())
        return responses[min(len(calls), len(responses)) - 1]

    httpserver.expect_request(path).respond_with_handler(handler)
    return calls


def test_retries_on_listed_statuses_until_success(httpserver, up):
    calls = sequence(httpserver, "/flaky", [Response(status=503), Response(status=502), Response("ok")])
    policy = RetryPolicy(attempts=3, delay=0.01)
    result = send(OutboundRequest("GET", up("/flaky"), retry=policy, timeout=5))
    assert result.output["body"] == "ok"
    assert result.meta["attempts"] == 3
    assert len(calls) == 3


def test_exhausted_retries_return_the_last_response(httpserver, up):
    sequence(httpserver, "/down", [Response("busy", status=503)])
    result = send(OutboundRequest("GET", up("/down"), retry=RetryPolicy(attempts=2, delay=0.01), timeout=5))
    assert result.output["status"] == 503
    assert result.output["body"] == "busy"
    assert result.meta["attempts"] == 2


def test_statuses_not_listed_are_not_retried(httpserver, up):
    calls = sequence(httpserver, "/bad", [Response(status=400)])
    result = send(OutboundRequest("GET", up("/bad"), retry=RetryPolicy(attempts=3, delay=0.01), timeout=5))
    assert result.meta["attempts"] == 1
    assert len(calls) == 1


def test_retry_after_seconds_is_honoured(httpserver, up):
    calls = sequence(
        httpserver, "/limited", [Response(status=429, headers={"Retry-After": "1"}), Response("ok")]
    )
    result = send(
        OutboundRequest("GET", up("/limited"), retry=RetryPolicy(attempts=2, delay=0.01), timeout=5)
    )
    assert result.output["body"] == "ok"
    assert 0.9 < calls[1] - calls[0] < 1.5


def test_retry_after_date_is_honoured(httpserver, up):
    when = email.utils.formatdate(time.time() + 2, usegmt=True)
    calls = sequence(
        httpserver, "/limited", [Response(status=503, headers={"Retry-After": when}), Response("ok")]
    )
    send(OutboundRequest("GET", up("/limited"), retry=RetryPolicy(attempts=2, delay=0.01), timeout=5))
    assert 0.5 < calls[1] - calls[0] < 2.5


def test_retry_after_is_capped(httpserver, up):
    calls = sequence(
        httpserver, "/limited", [Response(status=503, headers={"Retry-After": "120"}), Response("ok")]
    )
    policy = RetryPolicy(attempts=2, delay=0.01, max_retry_after=0.2)
    send(OutboundRequest("GET", up("/limited"), retry=policy, timeout=5))
    assert calls[1] - calls[0] < 0.6


def test_fixed_and_exponential_backoff(httpserver, up):
    calls = sequence(httpserver, "/x", [Response(status=500)])
    send(
        OutboundRequest("GET", up("/x"), retry=RetryPolicy(attempts=3, backoff="fixed", delay=0.2), timeout=5)
    )
    assert all(0.15 < b - a < 0.5 for a, b in itertools.pairwise(calls))
    calls.clear()
    send(OutboundRequest("GET", up("/x"), retry=RetryPolicy(attempts=3, delay=0.2), timeout=5))
    first, second = calls[1] - calls[0], calls[2] - calls[1]
    assert 0.08 < first < 0.4
    assert 0.18 < second < 0.7


def test_network_errors_are_retried_and_counted(allow_loopback):
    with pytest.raises(OutboundError) as caught:
        send(
            OutboundRequest(
                "GET", "http://127.0.0.1:9/", retry=RetryPolicy(attempts=3, delay=0.01), timeout=2
            )
        )
    assert caught.value.code == "connection_error"
    assert caught.value.meta["attempts"] == 3


def test_network_errors_are_not_retried_when_the_policy_says_so(allow_loopback):
    policy = RetryPolicy(attempts=3, delay=0.01, on_network_errors=False)
    with pytest.raises(OutboundError) as caught:
        send(OutboundRequest("GET", "http://127.0.0.1:9/", retry=policy, timeout=2))
    assert caught.value.meta["attempts"] == 1


def test_blocked_destinations_are_not_retried(fake_dns):
    with pytest.raises(OutboundError) as caught:
        send(OutboundRequest("GET", "http://10.0.0.5/", retry=RetryPolicy(attempts=3, delay=0.01), timeout=2))
    assert caught.value.code == "blocked_destination"
    assert caught.value.meta["attempts"] == 1
