"""Device and service health, as every driver reports it (heartbeat, self-test)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum


class HealthState(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    FAULT = "fault"


@dataclass(frozen=True)
class Health:
    """One device's state; ``reason`` is for a technician, never personal data."""

    device: str
    state: HealthState
    reason: str = ""
    details: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.state is HealthState.OK

    @classmethod
    def good(cls, device: str, **details: str) -> Health:
        return cls(device, HealthState.OK, "", dict(details))

    @classmethod
    def degraded(cls, device: str, reason: str, **details: str) -> Health:
        return cls(device, HealthState.DEGRADED, reason, dict(details))

    @classmethod
    def fault(cls, device: str, reason: str, **details: str) -> Health:
        return cls(device, HealthState.FAULT, reason, dict(details))


class FailedReads:
    """Cards a reader failed to read, per reader, over the last ``window`` seconds.

    One failure is counted per card: the same card failing again and again on
    the reader counts once, until the reader is seen empty or reads a card.
    Many failures in a short time mean a dirty or failing reader (or a batch of
    damaged cards) that a technician should look at.
    """

    ALERT_AT = 3  # failures within the window that staff should hear of

    def __init__(self, window: float = 3600.0):
        self.window = window
        self._times: dict[str, deque[float]] = {}
        self._failing: set[str] = set()

    def failed(self, reader: str, now: float) -> None:
        if reader in self._failing:
            return
        self._failing.add(reader)
        self._times.setdefault(reader, deque(maxlen=100)).append(now)

    def cleared(self, reader: str) -> None:
        """The reader read a card, or is empty: the next failure is a new one."""
        self._failing.discard(reader)

    def count(self, reader: str, now: float) -> int:
        times = self._times.get(reader)
        while times and now - times[0] > self.window:
            times.popleft()
        return len(times) if times else 0

    def judge(self, health: Health, now: float) -> Health:
        """``health`` with the count in its details; degraded at ``ALERT_AT`` failures."""
        n = self.count(health.device, now)
        if not n:
            return health
        details = {**health.details, "failed_reads": str(n)}
        if n >= self.ALERT_AT and health.state is not HealthState.FAULT:
            minutes = round(self.window / 60)
            reason = f"{n} cards not read in the last {minutes} min: clean the reader, check its cable"
            if health.reason:  # the driver's own finding first (e.g. garbled frames)
                reason = f"{health.reason}; {reason}"
            return Health(health.device, HealthState.DEGRADED, reason, details)
        return Health(health.device, health.state, health.reason, details)
