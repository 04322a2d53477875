"""What the hall manager sees, decided from data alone (no database, no clock, no HTTP).

A terminal's severity comes from its last heartbeat and when it arrived:
red when offline over the threshold, a device is at fault or the paper is out;
amber when the paper is near its end or a device is degraded; green otherwise.
Nothing is remembered: a terminal that beats again is judged afresh, so a
missed heartbeat clears itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from kiosk.config import china_time
from kiosk.health import FailedReads


class Severity(IntEnum):
    """Sort order too: red first."""

    RED = 0
    AMBER = 1
    GREEN = 2

    @property
    def css(self) -> str:
        return self.name.lower()


# kinds of condition; the ones in ALERTING open an alert a person must close
OFFLINE, PAPER_OUT, PAPER_NEAR_END = "offline", "paper_out", "paper_near_end"
DEVICE_FAULT, DEVICE_DEGRADED, HELP = "device_fault", "device_degraded", "help"
FAILED_READS = "failed_reads"  # a reader failing card after card: dirty, or failing
# a pending slip's submission the platform took in with a correction notice (补齐补正):
# its citizen left the kiosk and is to be told what to bring (detail: the application's number)
CORRECTION = "correction"
# a terminal submits for another service point than it was enrolled at (its settings file
# is wrong: the platform records the enrolled one); detail: "<terminal> <its point>"
POINT_MISMATCH = "point_mismatch"
# a terminal online and well that no citizen has used for a long while (a day): a screen
# dark or dead to touch, a kiosk out of sight, a door locked: nothing its devices report
UNUSED = "unused"
# alerts people open and close (a call, a citizen to contact), never a heartbeat's sweep
BY_PEOPLE = (HELP, CORRECTION, POINT_MISMATCH)
ALERTING = (OFFLINE, PAPER_OUT, PAPER_NEAR_END, DEVICE_FAULT, FAILED_READS)
RED_KINDS = (OFFLINE, PAPER_OUT, DEVICE_FAULT, HELP)

# an enrolled terminal that has never beaten: not a power cut in the night but a kiosk never
# set up to reach us (its platform address, its network, its program not started)
NEVER_HEARD = ("enrolled but never heard from: check that the kiosk program runs, its "
               "platform address and its network (technician screen, self-test)")

# the printer driver reports PrinterStatus values, the printer emulator short ones
_PAPER = {"ok": "ok", "paper_near_end": "near_end", "near_end": "near_end",
          "paper_out": "out", "out": "out"}  # fmt: skip

FOLLOW_UP = ("new", "assigned", "contacted", "resolved")


@dataclass(frozen=True)
class Condition:
    kind: str
    detail: str = ""  # a device name, never personal data
    # what the device itself said (its driver's words for a technician: "cover open: close
    # the printer cover"); not part of the condition's identity
    reason: str = field(default="", compare=False)

    @property
    def severity(self) -> Severity:
        return Severity.RED if self.kind in RED_KINDS else Severity.AMBER

    def key(self, terminal_id: str) -> str:
        return f"{terminal_id}|{self.kind}|{self.detail}"


@dataclass(frozen=True)
class TerminalView:
    terminal_id: str
    service_point: str
    last_seen: dt.datetime | None
    software_version: str
    screen: str
    paper: str  # ok | near_end | out | unknown
    paper_raw: str
    devices: tuple[Mapping[str, str], ...]
    online: bool
    conditions: tuple[Condition, ...] = field(default=())
    uptime: int | None = None  # seconds the kiosk has run, as its last beat said
    catalog_version: str = ""  # the catalog's fingerprint (the platform's catalog ETag)
    config_version: int | None = None  # the remote settings it applied

    @property
    def severity(self) -> Severity:
        return min((c.severity for c in self.conditions), default=Severity.GREEN)


def paper_level(raw: str) -> str:
    return _PAPER.get(raw, "unknown")


def assess(terminal_id: str, service_point: str, last_seen: dt.datetime | None,
           beat: Mapping | None, now: dt.datetime, offline_after: float,
           calls: Iterable[str] = (), unused_for: float | None = None) -> TerminalView:  # fmt: skip
    """Judge one terminal from its latest heartbeat (``beat`` None: it never sent one) and
    its calls for staff still open (``calls``: the screen of each; red until a person
    closes it, or, for a card left, until the card is taken). ``unused_for``: whole hours
    since a citizen's last visit, query or ticket there (or its enrolment), once too many
    (None: used lately, or nobody asked): said while it is online (offline says more)."""
    beat = beat or {}
    devices = tuple(d for d in beat.get("devices") or () if isinstance(d, Mapping))
    paper_raw = str(beat.get("paper") or "")
    online = last_seen is not None and (now - last_seen).total_seconds() <= offline_after
    conds: list[Condition] = [] if online else [
        Condition(OFFLINE, reason=NEVER_HEARD if last_seen is None else "")]
    # an offline terminal keeps its last known problems: going quiet does not refill paper
    level = paper_level(paper_raw)
    printer = next((d for d in devices if d.get("device") == "printer"), {})
    paper_said = _reason(printer) if (level, printer.get("state")) in _PAPER_STATES else ""
    if level == "out":
        conds.append(Condition(PAPER_OUT, reason=paper_said))
    elif level == "near_end":
        conds.append(Condition(PAPER_NEAR_END, reason=paper_said))
    for d in devices:
        state, name = d.get("state", ""), str(d.get("device", ""))
        if name == "printer" and (level, state) in _PAPER_STATES:
            continue  # that fault or warning is the paper, said above: one alarm, not two
        if state == "fault":
            conds.append(Condition(DEVICE_FAULT, name, _reason(d)))
        elif _count(d.get("failed_reads")) >= FailedReads.ALERT_AT:
            conds.append(Condition(FAILED_READS, name, _reason(d)))
        elif state == "degraded":
            conds.append(Condition(DEVICE_DEGRADED, name, _reason(d)))
    conds.extend(Condition(HELP, screen) for screen in calls)
    if online and unused_for is not None:
        conds.append(Condition(UNUSED, reason=unused_reason(unused_for)))
    uptime = beat.get("uptime")
    return TerminalView(terminal_id, service_point, last_seen,
                        str(beat.get("software_version") or ""), str(beat.get("screen") or ""),
                        level, paper_raw, devices, online, tuple(conds),
                        uptime=uptime if isinstance(uptime, int) else None,
                        catalog_version=str(beat.get("catalog_version") or ""),
                        config_version=beat.get("config_version"))  # fmt: skip


def working_hours(start: dt.datetime, end: dt.datetime, is_workday: Callable[[dt.date], bool],
                  enough: float) -> float:  # fmt: skip
    """Hours between ``start`` and ``end`` that fall on working days (China time), counted
    back from ``end`` and no further than ``enough``: a weekend or a holiday with nobody at
    a kiosk in a closed building is not a kiosk gone unused."""
    total, cursor, start = 0.0, china_time(end), china_time(start)
    while cursor > start and total < enough:
        midnight = cursor.replace(hour=0, minute=0, second=0, microsecond=0)
        if midnight == cursor:
            midnight -= dt.timedelta(days=1)
        begin = max(midnight, start)
        if is_workday(begin.date()):
            total += (cursor - begin).total_seconds() / 3600
        cursor = begin
    return min(total, enough)


def unused_reason(hours: float) -> str:
    """What to look at on a terminal nobody has used for ``hours`` (in Chinese from
    central/dashboard/reasons.py)."""
    return (f"no visit in the last {hours:g} h: is its screen on, does it answer touch, "
            "can citizens see and reach it?")


# a printer's state that is its paper's level, already said by the paper alarm
_PAPER_STATES = (("out", "fault"), ("near_end", "degraded"))
REASON_KEPT = 300  # characters, as the heartbeat keeps them (central/app.py DEVICE_TEXT)


def _reason(device: Mapping) -> str:
    reason = device.get("reason")
    return reason[:REASON_KEPT] if isinstance(reason, str) else ""


def _count(raw) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return 0


def by_severity(views: Iterable[TerminalView]) -> list[TerminalView]:
    """Red before amber before green; among the red, a terminal whose citizen has called
    for staff first (a person is waiting at it)."""
    return sorted(views, key=lambda v: (v.severity, not any(c.kind == HELP for c in v.conditions),
                                        v.service_point, v.terminal_id))  # fmt: skip


@dataclass(frozen=True)
class AlertPlan:
    open: tuple[tuple[str, str, Condition], ...]  # (terminal, point, condition)
    clear: tuple[int, ...]  # alert ids whose condition ended
    recur: tuple[int, ...]  # cleared but not yet closed, and back again
    # what each recurring one's device says now (it may be another cause: a cover open
    # before, a paper jam now); by alert id
    recur_reasons: Mapping[int, str] = field(default_factory=dict)


def plan_alerts(
    views: Iterable[TerminalView], existing: Mapping[str, tuple[int, bool]]
) -> AlertPlan:
    """Compare what holds now with the alerts not yet closed.

    ``existing`` maps an open key to (alert id, already cleared); help requests
    are not in it (people, not heartbeats, end those).
    """
    wanted: dict[str, tuple[str, str, Condition]] = {}
    for v in views:
        for c in v.conditions:
            if c.kind in ALERTING:
                wanted[c.key(v.terminal_id)] = (v.terminal_id, v.service_point, c)
    to_open = tuple(w for k, w in wanted.items() if k not in existing)
    clear = tuple(i for k, (i, cleared) in existing.items() if k not in wanted and not cleared)
    recur = tuple(i for k, (i, cleared) in existing.items() if k in wanted and cleared)
    reasons = {i: wanted[k][2].reason for k, (i, cleared) in existing.items()
               if k in wanted and cleared}  # fmt: skip
    return AlertPlan(to_open, clear, recur, reasons)


def next_follow_up(current: str) -> str | None:
    """The next state of a bad rating's follow-up, or None when it is resolved."""
    if current not in FOLLOW_UP:
        return None
    i = FOLLOW_UP.index(current)
    return FOLLOW_UP[i + 1] if i + 1 < len(FOLLOW_UP) else None
