"""A hall's office hours: when its windows call queue tickets (kiosk.hours)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from kiosk.hours import hours_text, next_opening, open_at, parse_hours, when_words
from kiosk.workdays import WorkdayCalendar

CHINA = ZoneInfo("Asia/Shanghai")
CAL = WorkdayCalendar()
HALL = parse_hours("08:30-12:00,14:00-17:30")


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=CHINA)


def test_hours_read_and_write_as_a_notice_has_them():
    assert parse_hours("08:30-12:00,14:00-17:30") == ((dt.time(8, 30), dt.time(12)), (dt.time(14), dt.time(17, 30)))
    assert hours_text(HALL) == "8:30–12:00, 14:00–17:30"
    assert parse_hours("8:30-12:00") == ((dt.time(8, 30), dt.time(12)),)
    # a zone or seconds would make a time the hours cannot be compared with: refused
    for bad in ("8:30", "12:00-08:30", "08:30-12:00,11:00-17:30", "morning-evening",
                "08:30Z-12:00Z", "08:30+08:00-12:00", "08:30:00-12:00:00", "24:00-25:00"):
        with pytest.raises(ValueError):
            parse_hours(bad)


@pytest.mark.parametrize(("moment", "is_open", "opens"), [
    (at(7, 9), True, at(7, 9)),  # Monday morning: open now
    (at(7, 12, 30), False, at(7, 14)),  # lunch: this afternoon
    (at(7, 17, 30), False, at(8, 8, 30)),  # closing time: tomorrow morning
    (at(8, 2), False, at(8, 8, 30)),  # two in the morning: at 8:30
    (at(12, 10), False, at(14, 8, 30)),  # Saturday: Monday
    (at(1, 10, month=10), False, at(8, 8, 30, month=10)),  # National Day: after the holiday
])  # fmt: skip
def test_the_windows_open_on_working_days_in_hours_and_say_when_they_next_do(moment, is_open, opens):
    assert open_at(HALL, CAL, moment) is is_open
    assert next_opening(HALL, CAL, moment) == opens


def test_a_time_to_come_back_reads_as_people_say_it():
    assert when_words(at(8, 8, 30), "zh") == "2026年12月8日 8:30"
    assert when_words(at(8, 14), "en") == "8 December 2026 14:00"
