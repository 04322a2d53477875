"""A hall's office hours: when its windows call queue tickets.

The kiosk is open day and night, the windows are not. A service point's hours are
written in the catalog as ``hours = "08:30-12:00,14:00-17:30"`` (China time, on working
days by the county's calendar, kiosk.workdays); a point without them hands out tickets
at any time, as before they were written. A ticket taken at two in the morning, or on
a Sunday, would say "nobody ahead, you are next" for a window that is shut.
"""

from __future__ import annotations

import datetime as dt
import re

from kiosk.workdays import WorkdayCalendar

Spans = tuple[tuple[dt.time, dt.time], ...]
SPAN = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)")


def parse_hours(text: str) -> Spans:
    """``"08:30-12:00,14:00-17:30"`` as spans, in order, each start before its end.

    :raises ValueError: not that shape, or spans out of order or overlapping.
    """
    spans: list[tuple[dt.time, dt.time]] = []
    for part in text.split(","):
        m = SPAN.fullmatch(part.strip())  # (no seconds, no zone: China time is meant)
        if m is None:
            raise ValueError(f"{part.strip()!r} is not HH:MM-HH:MM")
        h1, m1, h2, m2 = map(int, m.groups())
        a, b = dt.time(h1, m1), dt.time(h2, m2)
        if not a < b or (spans and not spans[-1][1] <= a):
            raise ValueError(f"{part.strip()!r}: a span must end after it starts, and after the one before")
        spans.append((a, b))
    return tuple(spans)


def hours_text(spans: Spans) -> str:
    """As a notice writes them: 8:30–12:00, 14:00–17:30."""
    return ", ".join(f"{_clock(a)}–{_clock(b)}" for a, b in spans)


def _clock(t: dt.time) -> str:
    return f"{t.hour}:{t.minute:02d}"


def when_words(moment: dt.datetime, language: str = "zh") -> str:
    """A time to come back, as people say it: 2026年12月8日 8:30, 8 December 2026 8:30."""
    from kiosk.i18n import long_date

    return f"{long_date(moment.date(), language)} {_clock(moment.time())}"


def open_at(spans: Spans, calendar: WorkdayCalendar, moment: dt.datetime) -> bool:
    """Whether the windows are open at ``moment`` (China time: kiosk.config.china_time)."""
    if not calendar.is_workday(moment.date()):
        return False
    now = moment.time().replace(tzinfo=None)
    return any(a <= now < b for a, b in spans)


def next_opening(spans: Spans, calendar: WorkdayCalendar, moment: dt.datetime) -> dt.datetime:
    """When the windows next open after ``moment`` (China time, same tzinfo); ``moment``
    itself when they are open."""
    if open_at(spans, calendar, moment):
        return moment
    day, now = moment.date(), moment.time().replace(tzinfo=None)
    for _ in range(60):  # the longest holiday is 8 days: a bound, not a rule
        if calendar.is_workday(day):
            for a, _b in spans:
                if day > moment.date() or a > now:
                    return dt.datetime.combine(day, a, moment.tzinfo)
        day += dt.timedelta(days=1)
    raise ValueError("no opening within 60 days")
