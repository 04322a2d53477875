"""Working days on the Chinese calendar: holidays, make-up days, and an
estimate marked provisional for years nobody has published."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.errors import CalendarError
from kiosk.workdays import WorkdayCalendar

CAL = WorkdayCalendar()


def test_spring_festival_2026_rest_days_and_make_up_saturdays():
    # 2026-02-14 (Sat) and 2026-02-28 (Sat) are make-up working days; 15th–23rd rest
    assert CAL.is_workday(dt.date(2026, 2, 14))
    assert CAL.is_workday(dt.date(2026, 2, 28))
    assert not any(CAL.is_workday(dt.date(2026, 2, d)) for d in range(15, 24))
    # accepted Friday 13 Feb with 2 working days: Sat 14 (make-up), then Tue 24
    assert CAL.add_workdays(dt.date(2026, 2, 13), 2).date == dt.date(2026, 2, 24)


def test_national_day_2026_with_its_make_up_days():
    assert CAL.is_workday(dt.date(2026, 9, 20)) and CAL.is_workday(dt.date(2026, 10, 10))
    due = CAL.add_workdays(dt.date(2026, 9, 30), 2)
    assert due.date == dt.date(2026, 10, 9) and not due.provisional


@settings(max_examples=200, deadline=None)
@given(st.dates(dt.date(2025, 1, 1), dt.date(2026, 10, 31)), st.integers(0, 40))
def test_adding_working_days_agrees_with_chinese_calendar(start, days):
    due = CAL.add_workdays(start, days)
    if due.date.year <= 2026:
        expected = [
            d for d in chinese_calendar.get_workdays(start + dt.timedelta(days=1), due.date)
        ]
        assert len(expected) == days
        assert days == 0 or chinese_calendar.is_workday(due.date)
        assert not due.provisional


def test_a_date_in_an_unpublished_year_is_provisional():
    # accepted 2026-11-23 with 30 working days ends in 2027, beyond chinese-calendar's data
    due = CAL.add_workdays(dt.date(2026, 11, 23), 30)
    assert due.date.year == 2027 and due.provisional
    assert CAL.source(2027) == "estimate"
    assert not CAL.is_workday(dt.date(2027, 1, 1))  # 元旦 by rule
    assert not CAL.is_workday(dt.date(2027, 2, 8))  # 春节 初三 (Monday) by rule


def test_a_published_calendar_overrides_the_estimate_and_is_not_provisional():
    published = WorkdayCalendar(
        {2027: {"holidays": ["2027-01-01", "2027-02-05"], "workdays": ["2027-01-02"]}}
    )
    assert published.source(2027) == "published"
    assert published.is_workday(dt.date(2027, 1, 2))  # a make-up Saturday
    assert not published.is_workday(dt.date(2027, 2, 5))
    due = published.add_workdays(dt.date(2026, 12, 31), 1)
    assert due.date == dt.date(2027, 1, 2) and not due.provisional


def test_a_malformed_published_calendar_is_a_clear_error():
    with pytest.raises(CalendarError, match="not a date"):
        WorkdayCalendar({2027: {"holidays": ["2027-13-01"]}})
    with pytest.raises(CalendarError, match="not in 2027"):
        WorkdayCalendar({2027: {"holidays": ["2028-01-01"]}})
    with pytest.raises(CalendarError, match="both"):
        WorkdayCalendar({2027: {"holidays": ["2027-01-01"], "workdays": ["2027-01-01"]}})


def test_a_published_calendar_loads_from_toml(tmp_path):
    path = tmp_path / "2027.toml"
    path.write_text(
        '[2027]\nholidays = [2027-10-01]\nworkdays = ["2027-09-26"]\n', encoding="utf-8"
    )
    cal = WorkdayCalendar.from_toml(path)
    assert cal.is_workday(dt.date(2027, 9, 26)) and not cal.is_workday(dt.date(2027, 10, 1))


def test_zero_days_is_the_same_day():
    assert CAL.add_workdays(dt.date(2026, 5, 6), 0).date == dt.date(2026, 5, 6)


def test_an_application_received_on_a_rest_day_is_promised_from_the_next_working_day():
    # a 24-hour kiosk: Saturday 12 December 2026, and National Day 2026
    assert CAL.accepting_day(dt.date(2026, 12, 12)) == dt.date(2026, 12, 14)
    assert CAL.promise(dt.date(2026, 12, 12), 0).date == dt.date(2026, 12, 14)  # not Saturday
    assert CAL.promise(dt.date(2026, 12, 12), 5).date == dt.date(2026, 12, 21)
    assert CAL.promise(dt.date(2026, 10, 1), 0).date == dt.date(2026, 10, 8)
    # on a working day nothing moves
    assert CAL.promise(dt.date(2026, 12, 7), 0).date == dt.date(2026, 12, 7)
    assert CAL.promise(dt.date(2026, 12, 7), 5) == CAL.add_workdays(dt.date(2026, 12, 7), 5)


@settings(max_examples=200, deadline=None)
@given(st.dates(dt.date(2025, 1, 1), dt.date(2026, 12, 31)), st.integers(0, 40))
def test_a_promise_always_falls_on_a_working_day_and_never_before_its_receipt(received, days):
    due = CAL.promise(received, days).date
    assert CAL.is_workday(due) and due >= received
    # and as many working days after the accepting day as promised
    assert CAL.workdays_between(CAL.accepting_day(received), due) == days
