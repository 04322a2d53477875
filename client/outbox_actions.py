"""What the outbox should do next (pure: entries and a time in, actions out).

The functional core of the durable outbox (STYLE.md, after cosmicpython's
``sync.determine_actions``): no disk, no network, no clock of its own.
Submissions go strictly in order; a submission the platform refused for good
is set aside (never deleted) so the line keeps moving; a transport failure
waits with exponential backoff and jitter.
"""

from __future__ import annotations

from dataclasses import dataclass

QUEUED, DEAD = "queued", "dead"
REJECTED = "rejected"  # last_error of a permanent refusal (4xx)
BACKOFF_BASE = 2.0  # seconds
BACKOFF_CAP = 300.0  # never wait longer than five minutes between tries
MAX_AGE = 30 * 24 * 3600.0  # after a month queued, set aside for a technician
# No entry was kept before this (2025-01-01, before this software): one stamped earlier was
# kept under a clock that had lost its time (a flat RTC battery boots in 2000), and its age
# is unknown, not decades: it is never set aside for its age
SANE_SINCE = 1_735_689_600.0


@dataclass(frozen=True)
class Entry:
    """One queued submission as the outbox sees it (no personal data: the body stays encrypted)."""

    id: int
    key: str
    local_number: str
    created_at: float
    attempts: int = 0
    next_attempt_at: float = 0.0
    state: str = QUEUED
    last_error: str = ""


@dataclass(frozen=True)
class Send:
    entry_id: int


@dataclass(frozen=True)
class GiveUp:
    entry_id: int
    reason: str


Action = Send | GiveUp


def determine_actions(entries: list[Entry], now: float, max_age: float = MAX_AGE) -> list[Action]:
    """The actions for this round, in order.

    Entries are taken in id order. Refused or too old entries are given up;
    due entries are sent; the first entry still waiting for its retry time
    stops the round, so nothing overtakes an earlier submission.
    """
    actions: list[Action] = []
    for e in sorted(entries, key=lambda e: e.id):
        if e.state != QUEUED:
            continue
        if e.last_error == REJECTED:
            actions.append(GiveUp(e.id, REJECTED))
        elif now - e.created_at > max_age and e.created_at >= SANE_SINCE:
            actions.append(GiveUp(e.id, "too_old"))
        elif due_at(e, now) <= now:
            actions.append(Send(e.id))
        else:
            break
    return actions


def due_at(e: Entry, now: float) -> float:
    """When ``e`` is due. A retry time further ahead than any backoff sets means the clock
    was set back since (NTP correcting a clock hours fast): it is due now, not in hours,
    with every submission queued behind it."""
    if e.next_attempt_at > now + 1.5 * BACKOFF_CAP:  # retry_at adds at most 1.5 × the cap
        return now
    return e.next_attempt_at


def retry_at(attempts: int, now: float, rand: float) -> float:
    """When to try again after ``attempts`` failures; ``rand`` in [0, 1) spreads terminals out."""
    return now + min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(attempts - 1, 0)) * (0.5 + rand)


def next_wake(entries: list[Entry], now: float) -> float | None:
    """The earliest time a queued entry becomes due (None when nothing is queued)."""
    times = [due_at(e, now) for e in entries if e.state == QUEUED]
    return max(now, min(times)) if times else None
