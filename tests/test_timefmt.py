"""Moments and durations read the same on every page: `{% when %}` and `|duration` (actions.templatetags)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from actions.engine import run_flow
from actions.models import Execution
from actions.templatetags.timefmt import duration, when
from tests.engine.builders import act, make_flow
from tests.vault.conftest import make_connection
from vault.models import Connection

MOMENT = datetime(2026, 12, 3, 17, 53, 25, 621142, tzinfo=UTC)
ISO = 'datetime="2026-12-03T17:53:25.621142+00:00"'


def test_when_is_a_time_element_with_the_iso_moment_and_the_zone():
    # No-break spaces but after the comma: a narrow column breaks between the date and the time.
    html = when(MOMENT)
    assert html.startswith(f"<time {ISO} title=")
    assert html.endswith(">3\xa0Dec\xa02026, 17:53:25\xa0UTC</time>")
    assert when(MOMENT, seconds=False).endswith(">3\xa0Dec\xa02026, 17:53\xa0UTC</time>")
    assert when(None) == ""


def test_when_uses_the_time_zone_setting(settings):
    settings.TIME_ZONE = "Europe/Paris"
    html = when(MOMENT)
    assert 'datetime="2026-12-03T18:53:25.621142+01:00"' in html
    assert html.endswith(">3\xa0Dec\xa02026, 18:53:25\xa0CET</time>")


@pytest.mark.parametrize(
    ("offset", "title"),
    [
        (timedelta(seconds=-10), "just now"),
        (timedelta(minutes=-5, seconds=-3), "5\xa0minutes ago"),
        (timedelta(days=-3, hours=-2), "3\xa0days ago"),
        (timedelta(hours=2, minutes=1), "in 2\xa0hours"),
    ],
)
def test_when_has_the_relative_moment_as_title(offset, title):
    assert f'title="{title}"' in when(timezone.now() + offset)


def test_when_is_a_tag_that_escapes_nothing_it_should_not():
    html = Template("{% load timefmt %}{% when moment %}").render(Context({"moment": MOMENT}))
    assert html.startswith(f"<time {ISO} ")


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (None, ""),
        (0, "0 ms"),
        (850.4, "850 ms"),
        (999.6, "1.0 s"),
        (1234, "1.2 s"),
        (59_960, "1 min 0 s"),
        (125_000, "2 min 5 s"),
        (3_725_000, "1 h 2 min"),
    ],
)
def test_duration_is_human(ms, text):
    assert duration(ms) == text


def test_execution_pages_show_formatted_moments_and_durations(staff_client, db):
    flow = make_flow([act("wait", "FLOW/DO_NOTHING")], name="Clock")
    execution = run_flow(flow, fields={})
    Execution.objects.filter(pk=execution.pk).update(
        started=MOMENT, ended=MOMENT + timedelta(seconds=2, milliseconds=500)
    )
    execution.action_runs.update(started=MOMENT, duration_ms=1500)
    listing = staff_client.get(reverse("actions:execution_list")).text
    detail = staff_client.get(reverse("actions:execution_detail", args=[execution.pk])).text
    for text in (listing, detail):
        assert f"<time {ISO}" in text
        assert ">3\xa0Dec\xa02026, 17:53:25\xa0UTC</time>" in text
        assert "2.5 s" in text
        assert "2026-12-03 17:53" not in text and "621142<" not in text
    assert ">3\xa0Dec\xa02026, 17:53:28\xa0UTC</time>" in detail
    assert "1.5 s" in detail


def test_flow_and_vault_lists_show_formatted_moments(staff_client, db):
    flow = make_flow([act("noop", "FLOW/DO_NOTHING")], name="Listed")
    type(flow).objects.filter(pk=flow.pk).update(updated=MOMENT)
    make_connection("used")
    Connection.objects.filter(name="used").update(last_used=MOMENT, updated=MOMENT)
    for url in (reverse("actions:flow_list"), reverse("vault:list")):
        text = staff_client.get(url).text
        assert f"<time {ISO}" in text and ">3\xa0Dec\xa02026, 17:53\xa0UTC</time>" in text, url
        assert "2026-12-03 17:53" not in text, url
