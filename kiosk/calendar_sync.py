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

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.errors import CalendarError
from kiosk.workdays import WorkdayCalendar

log = logging.getLogger(__name__)
CACHE_FILE = "calendar.json"


@dataclass(frozen=True)
class CachedCalendar:
    calendar: WorkdayCalendar
    etag: str


class CalendarCache:
    """``<data_dir>/calendar.json``: the last calendar the platform published, with its ETag."""

    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / CACHE_FILE

    def load(self) -> CachedCalendar | None:
        """The cached calendar, or None (none yet, or unreadable: then it is ignored, and said)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return CachedCalendar(accept(data["calendar"]), str(data["etag"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, CalendarError) as err:
            log.warning("cached calendar ignored: %s", str(err)[:200])
            return None

    def save(self, data: dict[str, Any], etag: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            json.dump({"etag": etag, "calendar": data}, f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


def accept(data: object) -> WorkdayCalendar:
    """The calendar in the platform's answer ``{"years": {"2027": {"holidays": […],
    "workdays": […]}}}``.

    :raises CalendarError: it is not a valid calendar.
    """
    years = data.get("years") if isinstance(data, dict) else None
    if not isinstance(years, dict):
        raise CalendarError("the platform's calendar has no years")
    return WorkdayCalendar(years)
