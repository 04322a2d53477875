"""One citizen's visit as a state machine, and its timeout as a pure function.

identified → choosing → answering → form → materials → review → submitted →
rated → ended, with steps back before submission, a warning state before an
inactivity timeout, and a wipe of every piece of personal data on end.
No threads: the shell calls ``tick(now)`` (e.g. once a second).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kiosk.errors import SessionError
from kiosk.identity import IdCard, Identity, SocialSecurityCard

# The "screen" of the help request a kiosk raises when a card stays in its reader after the
# goodbye (screens/end.py): the hall's dashboard names it for what it is, a card to collect
CARD_LEFT_HELP = "end.card_left"


class State(StrEnum):
    IDENTIFIED = "identified"
    CHOOSING = "choosing"
    ANSWERING = "answering"
    FORM = "form"
    MATERIALS = "materials"
    REVIEW = "review"
    SUBMITTED = "submitted"
    RATED = "rated"
    WARNING = "warning"  # inactivity: a countdown is on screen
    ENDED = "ended"


_NEXT: dict[State, frozenset[State]] = {
    State.IDENTIFIED: frozenset({State.CHOOSING}),
    State.CHOOSING: frozenset({State.ANSWERING, State.FORM}),
    State.ANSWERING: frozenset({State.CHOOSING, State.FORM}),
    State.FORM: frozenset({State.ANSWERING, State.CHOOSING, State.MATERIALS}),
    State.MATERIALS: frozenset({State.FORM, State.REVIEW}),
    State.REVIEW: frozenset({State.FORM, State.MATERIALS, State.SUBMITTED}),
    State.SUBMITTED: frozenset({State.RATED}),
    State.RATED: frozenset(),
    State.WARNING: frozenset(),
    State.ENDED: frozenset(),
}


class TimeoutStatus(StrEnum):
    ACTIVE = "active"
    WARNING = "warning"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Timeouts:
    """Seconds of inactivity before the warning, and of the warning countdown."""

    idle: float = 120.0
    warning: float = 30.0
    elderly_idle: float = 240.0
    elderly_warning: float = 60.0


@dataclass(frozen=True)
class TimeoutCheck:
    status: TimeoutStatus
    seconds_left: float  # until the warning (ACTIVE) or the end (WARNING); 0 when EXPIRED


def timeout_status(
    now: dt.datetime,
    last_activity: dt.datetime,
    paused: bool,
    elderly: bool,
    limits: Timeouts = Timeouts(),
) -> TimeoutCheck:
    """Where inactivity has got to. Paused (printing, scanning) never times out."""
    idle = limits.elderly_idle if elderly else limits.idle
    warning = limits.elderly_warning if elderly else limits.warning
    if paused:
        return TimeoutCheck(TimeoutStatus.ACTIVE, idle)
    quiet = max((now - last_activity).total_seconds(), 0.0)
    if quiet < idle:
        return TimeoutCheck(TimeoutStatus.ACTIVE, idle - quiet)
    if quiet < idle + warning:
        return TimeoutCheck(TimeoutStatus.WARNING, idle + warning - quiet)
    return TimeoutCheck(TimeoutStatus.EXPIRED, 0.0)


@dataclass(repr=False)
class Session:
    """One visit. Personal data lives here only, and only until ``end``."""

    card: Identity | None  # ID card, social-security card or verified electronic ID
    started_at: dt.datetime
    social_card: SocialSecurityCard | None = None  # read later in the visit (e.g. for benefits)
    elderly: bool = False
    limits: Timeouts = field(default_factory=Timeouts)
    state: State = State.IDENTIFIED
    last_activity: dt.datetime | None = None
    paused: bool = False
    life_event: str = ""
    answers: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)  # form field → value
    scans: dict[str, str] = field(default_factory=dict)  # material code → stored scan ref
    certificates: set[str] = field(default_factory=set)  # e-certs found for this citizen
    receipt_number: str = ""
    receipt_printed: bool = False  # the outcome's slip came out of the printer
    printed: int = 0  # slips printed in this visit (receipt, record, ticket): paper to take
    rating: int = 0
    face_verified: bool = False  # the face match (人证比对) passed in this visit
    face_attempts: int = 0  # face photos the platform refused in this visit
    end_reason: str = ""
    # a random secret of this visit (not personal): with what is submitted, it makes the
    # submission's key, the same for the same application however often Submit is tapped
    visit_secret: str = field(default_factory=lambda: uuid.uuid4().hex, repr=False)
    _before_warning: State | None = None

    def __post_init__(self) -> None:
        self.last_activity = self.last_activity or self.started_at

    def __repr__(self) -> str:
        return f"Session(state={self.state}, life_event={self.life_event!r})"

    # transitions -----------------------------------------------------------
    def go(self, target: State, now: dt.datetime) -> None:
        """Move to ``target`` on the citizen's action.

        :raises SessionError: the move is not allowed from the current state.
        """
        if target is State.ENDED:
            self.end("finished")
            return
        if self.state is State.WARNING:
            self.touch(now)  # acting during the countdown cancels it
        if target not in _NEXT[self.state]:
            raise SessionError(f"{self.state} → {target} is not allowed")
        self.state = target
        self.touch(now)

    def rate(self, stars: int, now: dt.datetime) -> None:
        """:raises SessionError: not submitted yet, or ``stars`` not 1..5."""
        if not 1 <= stars <= 5:
            raise SessionError(f"rating {stars} is not 1..5")
        self.go(State.RATED, now)
        self.rating = stars

    def touch(self, now: dt.datetime) -> None:
        """The citizen did something: restart the inactivity clock (and leave WARNING)."""
        if self.state is State.ENDED:
            raise SessionError("session has ended")
        self.last_activity = now
        if self.state is State.WARNING and self._before_warning is not None:
            self.state, self._before_warning = self._before_warning, None

    def pause(self, paused: bool, now: dt.datetime) -> None:
        """Hold the timeout while the kiosk itself is busy (printing, scanning)."""
        self.paused = paused
        if not paused and self.state is not State.ENDED:
            self.last_activity = now

    def tick(self, now: dt.datetime) -> TimeoutCheck:
        """Apply inactivity: enter WARNING, or end (and wipe) when it runs out."""
        if self.state is State.ENDED:
            return TimeoutCheck(TimeoutStatus.EXPIRED, 0.0)
        if now < self.last_activity:  # the clock was set back (NTP, an RTC kept in local time):
            self.last_activity = now  # count from now, not from a moment hours ahead
        check = timeout_status(now, self.last_activity, self.paused, self.elderly, self.limits)
        if check.status is TimeoutStatus.WARNING and self.state is not State.WARNING:
            self._before_warning, self.state = self.state, State.WARNING
        elif check.status is TimeoutStatus.EXPIRED:
            self.end("timeout")
        return check

    def end(self, reason: str = "finished") -> None:
        """End the visit and wipe every piece of personal data."""
        self.card = None
        self.social_card = None
        self.answers.clear()
        self.values.clear()
        self.scans.clear()
        self.certificates.clear()
        self.life_event = ""
        self.receipt_number = ""
        self.receipt_printed = False
        self.printed = 0
        self.face_verified = False
        self.face_attempts = 0
        self._before_warning = None
        self.state = State.ENDED
        self.end_reason = reason

    def to_take(self) -> list[str]:
        """What the citizen must not leave behind, as the end of the visit names it:
        "id_card" and "social_card" (each one read in this visit: it is on or in its
        reader), then "receipt" (the acceptance receipt, once it printed) or "printout"
        (another slip)."""
        things = ["id_card"] if isinstance(self.card, IdCard) else []
        if isinstance(self.card, SocialSecurityCard) or self.social_card is not None:
            things.append("social_card")
        if self.receipt_printed:
            things.append("receipt")
        elif self.printed:
            things.append("printout")
        return things

    def holds_personal_data(self) -> bool:
        return bool(
            self.card or self.social_card or self.answers or self.values or self.scans
            or self.receipt_number
        )

    def snapshot(self) -> dict[str, Any]:
        """Non-personal view for diagnostics (no names, numbers or values)."""
        return {
            "state": self.state.value,
            "life_event": self.life_event,
            "fields": len(self.values),
        }
