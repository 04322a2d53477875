"""Device and service health, as every driver reports it (heartbeat, self-test)."""

from __future__ import annotations

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
