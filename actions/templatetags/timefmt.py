"""`{% when value %}` and `{{ ms|duration }}`: one way to show a moment and a length of time everywhere.

A moment reads `3 Dec 2026, 17:53:25 UTC` in the TIME_ZONE setting, inside `<time datetime="ISO">`,
with "5 minutes ago" as its title; a duration in milliseconds reads `850 ms`, `1.2 s`, `2 min 5 s`.
"""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince, timeuntil

register = template.Library()

# No-break spaces: a narrow column wraps only between the date and the time.
DATETIME_FORMAT = "j\u00a0M\u00a0Y, H:i:s\u00a0T"
DATE_FORMAT = "j\u00a0M\u00a0Y, H:i\u00a0T"


@register.simple_tag
def when(value: datetime | None, seconds: bool = True) -> SafeString | str:
    """`seconds=False` for lists where the minute is enough (updated, last used)."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    text = date_format(local, DATETIME_FORMAT if seconds else DATE_FORMAT)
    return format_html('<time datetime="{}" title="{}">{}</time>', local.isoformat(), relative(value), text)


def relative(value: datetime) -> str:
    now = timezone.now()
    if abs((now - value).total_seconds()) < 60:
        return "just now"
    if value > now:
        return f"in {timeuntil(value, now, depth=1)}"
    return f"{timesince(value, now, depth=1)} ago"


@register.filter
def duration(ms: float | None) -> str:
    if ms is None:
        return ""
    if ms < 999.5:
        return f"{ms:.0f} ms"
    if ms < 59_950:
        return f"{ms / 1000:.1f} s"
    seconds = round(ms / 1000)
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
