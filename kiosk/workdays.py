"""Working days on the Chinese public-holiday calendar, make-up days (调休) included.

Sources, newest first, for each year:

1. a calendar the platform publishes (the State Council's notice for a year:
   its holidays and make-up working days) — ``published`` overlay;
2. chinese-calendar's data (2004–2026 in version 1.11);
3. for a year nobody has published yet, a rule-based estimate, marked
   provisional: weekends off plus the statutory holidays of the 2024
   《全国年节及纪念日放假办法》 (元旦 1 day, 春节 除夕–初三, 清明 1, 劳动节 May 1–2,
   端午 1, 中秋 1, 国庆 Oct 1–3). Make-up days are not guessed: in the real
   notices they only move rest days around, so the count of working days over
   a few weeks comes out about the same, but a date may shift by a day or two —
   which is why the receipt says the date is provisional.
"""

from __future__ import annotations

import datetime as dt
import functools
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chinese_calendar

from kiosk.errors import CalendarError

# Lunar festivals in Gregorian dates for years beyond chinese-calendar's data
# (astronomical facts, not announcements): 春节 (正月初一), 端午, 中秋.
_LUNAR = {
    2027: ("2027-02-06", "2027-06-09", "2027-09-15"),
    2028: ("2028-01-26", "2028-05-28", "2028-10-03"),
    2029: ("2029-02-13", "2029-06-16", "2029-09-22"),
    2030: ("2030-02-03", "2030-06-05", "2030-09-12"),
}


@dataclass(frozen=True)
class DueDate:
    date: dt.date
    provisional: bool  # some day counted comes from the rule-based estimate


@functools.cache
def _library_years() -> frozenset[int]:
    return frozenset(d.year for d in chinese_calendar.holidays)


@functools.cache
def estimated_holidays(year: int) -> frozenset[dt.date]:
    """Statutory rest days of ``year`` by rule (no make-up days)."""
    days = {dt.date(year, 1, 1), dt.date(year, 5, 1), dt.date(year, 5, 2)}
    days |= {dt.date(year, 10, d) for d in (1, 2, 3)}
    terms = chinese_calendar.get_solar_terms(dt.date(year, 4, 1), dt.date(year, 4, 30))
    days |= {d for d, name in terms if name == "清明"}
    if year in _LUNAR:
        spring, dragon, autumn = (dt.date.fromisoformat(s) for s in _LUNAR[year])
        days |= {spring + dt.timedelta(days=k) for k in range(-1, 3)}  # 除夕 … 初三
        days |= {dragon, autumn}
    return frozenset(days)


def _dates(values: Iterable[Any], year: int, what: str) -> frozenset[dt.date]:
    out = set()
    for v in values:
        try:
            d = v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))
        except ValueError as err:
            raise CalendarError(f"{year}.{what}: {v!r} is not a date") from err
        if d.year != year:
            raise CalendarError(f"{year}.{what}: {d} is not in {year}")
        out.add(d)
    return frozenset(out)


class WorkdayCalendar:
    """Working-day arithmetic over published data, chinese-calendar and an estimate."""

    def __init__(self, published: Mapping[Any, Mapping[str, Iterable[Any]]] | None = None):
        """:raises CalendarError: the published calendar is malformed."""
        self._published: dict[int, tuple[frozenset[dt.date], frozenset[dt.date]]] = {}
        for year, data in (published or {}).items():
            try:
                y = int(year)
            except ValueError as err:
                raise CalendarError(f"{year!r} is not a year") from err
            if not isinstance(data, Mapping) or set(data) - {"holidays", "workdays"}:
                raise CalendarError(f"{y}: expected holidays and workdays lists")
            holidays = _dates(data.get("holidays", ()), y, "holidays")
            workdays = _dates(data.get("workdays", ()), y, "workdays")
            if holidays & workdays:
                raise CalendarError(f"{y}: {min(holidays & workdays)} is both holiday and workday")
            self._published[y] = (holidays, workdays)

    @classmethod
    def from_toml(cls, path: Path) -> WorkdayCalendar:
        """Load a published calendar: ``[2027] holidays = [...] workdays = [...]``.

        :raises CalendarError: unreadable or malformed.
        """
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as err:
            raise CalendarError(f"{path}: {err}") from err
        return cls(data)

    def source(self, year: int) -> str:
        """ "published", "library" or "estimate" (provisional)."""
        if year in self._published:
            return "published"
        return "library" if year in _library_years() else "estimate"

    def is_provisional(self, day: dt.date) -> bool:
        return self.source(day.year) == "estimate"

    def is_workday(self, day: dt.date) -> bool:
        source = self.source(day.year)
        if source == "published":
            holidays, workdays = self._published[day.year]
            if day in workdays:
                return True
            return day not in holidays and day.weekday() < 5
        if source == "library":
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5 and day not in estimated_holidays(day.year)

    def add_workdays(self, start: dt.date, days: int) -> DueDate:
        """The date ``days`` working days after ``start`` (the day of acceptance
        does not count); 0 means the same day (on the spot)."""
        if days < 0:
            raise ValueError("days must not be negative")
        day, left, provisional = start, days, False
        while left:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                left -= 1
                provisional = provisional or self.is_provisional(day)
        # a date in an unpublished year is provisional even when no day was counted there
        return DueDate(day, provisional or self.is_provisional(day))

    def accepting_day(self, received: dt.date) -> dt.date:
        """The day an application received on ``received`` is accepted (受理): that day when
        it is a working day, else the next one. A 24-hour kiosk takes applications on
        weekends and holidays; the offices accept them when they next open."""
        day = received
        for _ in range(60):  # the longest holiday is 8 days: a bound, not a rule
            if self.is_workday(day):
                return day
            day += dt.timedelta(days=1)
        return received

    def promise(self, received: dt.date, days: int) -> DueDate:
        """The date a promise of ``days`` working days falls due for an application received
        on ``received``: counted from its accepting day (``accepting_day``), which itself
        does not count; 0 (on the spot) is the accepting day itself, never a Sunday."""
        return self.add_workdays(self.accepting_day(received), days)

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]."""
        n, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            n += self.is_workday(day)
        return n
