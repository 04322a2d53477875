"""Deciding an accepted submission's outcome (pure: data in, Outcome out).

TODO(core): when kiosk/timelimits.py (or kiosk/workdays.py) lands, take the
bundle's promised date from it (parallel = longest, sequence = compressed sum).
Until then each matter's promised date counts its own promised working days on
the chinese-calendar holidays, the bundle's date is the latest of them, and a
date beyond the calendar's known years is counted on weekends only and marked
provisional.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar

from kiosk.catalog import Catalog
from kiosk.outcomes import MatterOutcome, Outcome, OutcomeKind, Stage, Submission


def add_working_days(start: dt.date, days: int) -> tuple[dt.date, bool]:
    """The date ``days`` working days after ``start``, and whether it is provisional."""
    day, left, provisional = start, days, False
    while left > 0:
        day += dt.timedelta(days=1)
        try:
            working = chinese_calendar.is_workday(day)
        except NotImplementedError:  # a year the calendar does not know yet
            working, provisional = day.weekday() < 5, True
        left -= working
    return day, provisional


def accept(sub: Submission, catalog: Catalog, number: str, today: dt.date) -> Outcome:
    """The acceptance (受理) of a submission already checked against the catalog."""
    matters, provisional = [], False
    for code in sub.matters:
        m = catalog.matters[code]
        due, prov = add_working_days(today, m.promised_days)
        provisional |= prov
        dept = catalog.departments.get(m.department)
        authority = dept.name.zh if dept else m.department
        matters.append(MatterOutcome(code, m.name.zh, authority, due))
    return Outcome(
        kind=OutcomeKind.ACCEPTED,
        submission_key=sub.key,
        accepting_point=sub.accepting_point,
        acceptance_number=number,
        local_number=sub.local_number,
        matters=tuple(matters),
        promised_date=max((m.promised_date for m in matters if m.promised_date), default=today),
        promised_date_provisional=provisional,
        delivery=sub.delivery,
        deferred=sub.deferred,
        stage=Stage.ACCEPTED,
    )
