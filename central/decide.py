"""Deciding an accepted submission's outcome (pure: data in, Outcome out).

The bundle's promised date is ``kiosk.timelimits.bundle_limit`` over the life
event's ordering graph (parallel matters take the longest, a chain its
compressed sum), counted in working days on ``kiosk.workdays.WorkdayCalendar``
with the platform's published calendar on top. Each matter's own date is the
limit of the matter together with every selected matter that must come before
it, so the last matter of the critical chain carries the bundle's date. A date
in a year nobody has published a calendar for is marked provisional.

The one impure helper, :func:`published_calendar`, reads the published
calendar file (config/calendar/published.toml, or the file named by
``CENTRAL_CALENDAR``) and rereads it when it changes, so publishing a new year
needs no restart.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import os
import threading
import tomllib
from dataclasses import replace
from pathlib import Path

from central.errors import ApiError
from central.validate import PerCatalog
from kiosk.catalog import Catalog
from kiosk.errors import CalendarError
from kiosk.outcomes import MatterOutcome, Outcome, OutcomeKind, Stage, Submission
from kiosk.query import DELIVERY_ADDRESS
from kiosk.timelimits import bundle_limit, reach
from kiosk.workdays import DueDate, WorkdayCalendar

log = logging.getLogger("central.decide")
CALENDAR_FILE = Path(__file__).resolve().parents[1] / "config" / "calendar" / "published.toml"


def calendar_file() -> Path:
    return Path(os.environ.get("CENTRAL_CALENDAR") or CALENDAR_FILE)


_CALENDAR_NAME = str(CALENDAR_FILE)
_cache: dict[tuple[str, int, int], tuple[WorkdayCalendar, dict, str]] = {}
_cache_lock = threading.Lock()


def published_calendar() -> tuple[WorkdayCalendar, dict[str, dict[str, list[str]]], str]:
    """The published calendar: (calendar, its years as JSON-ready data, a content tag).

    :raises CalendarError: the file is unreadable or malformed.
    """
    # this runs for every accepted submission: one stat of the file, no Path built
    name = os.environ.get("CENTRAL_CALENDAR") or _CALENDAR_NAME
    try:
        st = os.stat(name)
        key = (name, st.st_mtime_ns, st.st_size)
    except OSError:
        key = (name, 0, 0)  # from_toml below says what is wrong
    found = _cache.get(key)
    if found is not None:
        return found
    with _cache_lock:
        if key not in _cache:
            path = Path(name)
            calendar = WorkdayCalendar.from_toml(path)
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
            years = {
                str(y): {
                    k: sorted(str(d) for d in raw[y].get(k, ())) for k in ("holidays", "workdays")
                }
                for y in sorted(raw, key=int)
            }
            tag = hashlib.sha256(repr(sorted(years.items())).encode()).hexdigest()[:32]
            _cache.clear()
            _cache[key] = (calendar, years, tag)
        return _cache[key]


def _before(order: tuple[tuple[str, str], ...], selected: tuple[str, ...]) -> dict[str, list[str]]:
    """For each selected matter, the selected matters that must finish before it."""
    later = reach(order)
    return {m: [p for p in selected if m in later.get(p, set())] for m in selected}


# Working days per matter and for the bundle depend on the catalog and the set of matters
# alone, and a due date on the calendar, the day and the days alone: every kiosk of a hall
# submits the same few bundles all day, and this runs inside the storing transaction.
_LIMITS = PerCatalog()


def _limits(catalog: Catalog, life_event: str, selected: tuple[str, ...],
            ) -> tuple[tuple[tuple[str, str, str, int], ...], int]:  # fmt: skip
    """((code, name, handling authority, working days) per matter, the bundle's days)."""
    event = catalog.life_events.get(life_event)
    order = event.order if event else ()
    before = _before(order, selected)
    matters = []
    for code in selected:
        days = bundle_limit(catalog.matters, [*before[code], code], order).days
        matters.append((*_named(catalog, code), days))
    return tuple(matters), bundle_limit(catalog.matters, selected, order).days


def _named(catalog: Catalog, code: str) -> tuple[str, str, str]:
    """(code, name, handling authority) of a matter the catalog offers, as outcomes say them."""
    m = catalog.matters[code]
    dept = catalog.departments.get(m.department)
    return code, m.name.zh, dept.name.zh if dept else m.department


@functools.lru_cache(maxsize=512)
def _due(calendar: WorkdayCalendar, today: dt.date, days: int) -> DueDate:
    return calendar.promise(today, days)  # a calendar is not changed once made


def calendar_in_use() -> WorkdayCalendar:
    """The published calendar; when its file is broken, chinese-calendar's data and the
    rule-based estimate (dates beyond it are marked provisional): a broken calendar file
    must not refuse citizens."""
    try:
        return published_calendar()[0]
    except CalendarError as err:
        log.error("published calendar not used: %s", err)
        return WorkdayCalendar()


def accept(sub: Submission, catalog: Catalog, number: str, today: dt.date,
           calendar: WorkdayCalendar | None = None) -> Outcome:  # fmt: skip
    """The acceptance (受理) of a submission already checked against the catalog.

    ``calendar`` defaults to the published calendar (:func:`published_calendar`).
    """
    if calendar is None:
        calendar = calendar_in_use()
    event, selected = sub.life_event or "", tuple(dict.fromkeys(sub.matters))
    limits, bundle_days = _LIMITS.get(
        catalog, (event, selected), lambda: _limits(catalog, event, selected)
    )
    # 容缺受理: a matter waiting for a material the citizen promised to bring is not done
    # before that material's due date, nor is the bundle (the receipt never promises a
    # result before the paper it needs)
    waiting = {d.code: d.due for d in sub.deferred}
    matters = [
        MatterOutcome(code, name, authority, max(
            [_due(calendar, today, days).date,
             *(waiting[m] for m in catalog.matters[code].materials if m in waiting)]))
        for code, name, authority, days in limits
    ]  # fmt: skip
    due = _due(calendar, today, bundle_days)
    if waiting and matters:
        latest = max(m.promised_date for m in matters)
        if latest > due.date:
            due = DueDate(latest, due.provisional or calendar.is_provisional(latest))
    return Outcome(
        kind=OutcomeKind.ACCEPTED,
        submission_key=sub.key,
        accepting_point=sub.accepting_point,
        acceptance_number=number,
        local_number=sub.local_number,
        matters=tuple(matters),
        promised_date=due.date,
        promised_date_provisional=due.provisional,
        delivery=sub.delivery,
        deferred=sub.deferred,
        stage=Stage.ACCEPTED,
    )


# What only the citizen can put right (the office tells them what to bring), when the
# catalog changed while their submission waited on the kiosk; a code the catalog does not
# know (renamed, withdrawn, or the kiosk's own fault) is not among them: a technician's
CITIZEN_CAN_MEND = frozenset({
    "submission.fields_missing", "submission.materials_missing", "submission.not_deferrable",
    "submission.commitment_unsigned", "submission.id_number_invalid", "submission.address_missing",
})  # fmt: skip


def received_needing_more(sub: Submission, catalog: Catalog, problems: list[ApiError],
                          number: str, today: dt.date) -> Outcome:  # fmt: skip
    """收件 with a correction notice (补齐补正), for a submission delivered after its citizen
    left with a pending slip that the catalog in force does not accept as it is (the
    catalog changed while it waited, say): taken in and numbered, not refused, so the
    slip is linked and its citizen learns from it what to bring; the office sees it with
    everything missing told at once (``missing``: material codes, form field ids and
    ``DELIVERY_ADDRESS``, named by ``kiosk.query.missing_name``), and resumes it when
    they have brought it.

    ``problems``: ``validate.catalog_problems`` of ``sub``, each in CITIZEN_CAN_MEND.
    """
    missing: dict[str, None] = {}
    for p in problems:
        if p.key in ("submission.fields_missing", "submission.materials_missing"):
            missing.update(dict.fromkeys(p.details))
        elif p.key == "submission.address_missing":
            missing[DELIVERY_ADDRESS] = None
        elif p.key == "submission.commitment_unsigned":  # brought, no promise to sign
            missing.update(dict.fromkeys(d.code for d in sub.deferred))
        else:  # a material that may not wait, an ID number to correct
            missing[p.field] = None
    return Outcome(
        kind=OutcomeKind.NEEDS_MORE,
        submission_key=sub.key,
        accepting_point=sub.accepting_point,
        acceptance_number=number,
        local_number=sub.local_number,
        matters=tuple(MatterOutcome(*_named(catalog, code)) for code in dict.fromkeys(sub.matters)),
        delivery=sub.delivery,
        deferred=tuple(d for d in sub.deferred if d.code not in missing),
        missing=tuple(missing),
        stage=Stage.RECEIVED,
    )


def accept_corrected(catalog: Catalog, notice: Outcome, sub: Submission, number: str,
                     today: dt.date) -> Outcome:  # fmt: skip
    """The acceptance (受理), once the office has what was missing, of an application taken
    in with a correction notice (``received_needing_more``; ``notice``): promised from
    ``today``, over the matters the catalog still offers; what the notice asked for was
    brought, so no longer waits as deferred.

    :raises ApiError: 409 ``application.matters_gone``: the catalog offers none of its
        matters any more (the office refuses it).
    """
    known = tuple(m for m in sub.matters if m in catalog.matters)
    if not known:
        raise ApiError(409, "application.matters_gone")
    event = sub.life_event if sub.life_event in catalog.life_events else None
    brought = set(notice.missing)
    sub = replace(sub, matters=known, life_event=event,
                  deferred=tuple(d for d in sub.deferred if d.code not in brought))  # fmt: skip
    return accept(sub, catalog, number, today)
