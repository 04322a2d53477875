"""The holiday calendar a terminal counts working days by, kept in step with the platform's.

Deferred materials (容缺) are due a number of working days from today, and the receipt says
when. chinese-calendar carries the State Council's notices up to its release, and a year
past it is only a rule-based estimate (make-up working days, 调休, missed). The platform
publishes each year's calendar as it is announced (``GET /calendar``, with an ETag); a
terminal asks with the catalog (every tenth heartbeat), checks what it gets (a malformed
calendar is refused and the one in use stays), keeps it on disk atomically for a restart
or a night offline, and counts by it from the next visit on.
"""

from __future__ import annotations

from pathlib import Path

from kiosk.downloads import EtagCache
from kiosk.errors import CalendarError
from kiosk.workdays import WorkdayCalendar

CACHE_FILE = "calendar.json"


def accept(data: object) -> WorkdayCalendar:
    """The calendar in the platform's answer ``{"years": {"2027": {"holidays": […],
    "workdays": […]}}}``.

    :raises CalendarError: it is not a valid calendar.
    """
    years = data.get("years") if isinstance(data, dict) else None
    if not isinstance(years, dict):
        raise CalendarError("the platform's calendar has no years")
    try:
        return WorkdayCalendar(years)
    except (TypeError, ValueError, AttributeError) as err:  # a list that is not one, a bad date
        raise CalendarError(f"the platform's calendar does not parse: {err}") from err


class CalendarCache(EtagCache[WorkdayCalendar]):
    """``<data_dir>/calendar.json``: the last calendar the platform published, with its ETag."""

    def __init__(self, data_dir: Path | str) -> None:
        super().__init__(Path(data_dir) / CACHE_FILE, "calendar", accept)
