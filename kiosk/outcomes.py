"""What a submission is and what the platform answers, as plain data.

Shared by the core (which builds submissions and receipts), the client (which
sends them) and the reference platform in central/ (which decides outcomes).
Everything here round-trips through ``to_dict`` / ``from_dict`` as JSON.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Stage(StrEnum):
    """Stages of an application, in order (办理环节)."""

    RECEIVED = "received"  # 收件
    ACCEPTED = "accepted"  # 受理
    ROUTED = "routed"  # 流转
    REVIEWED = "reviewed"  # 审核
    SEALED = "sealed"  # 签章
    CERTIFICATE_MADE = "certificate_made"  # 制证
    DELIVERED = "delivered"  # 送达
    ARCHIVED = "archived"  # 归档

    @property
    def zh(self) -> str:
        return _STAGE_ZH[self]

    def next(self) -> Stage | None:
        order = list(Stage)
        i = order.index(self)
        return order[i + 1] if i + 1 < len(order) else None


_STAGE_ZH = {
    Stage.RECEIVED: "收件",
    Stage.ACCEPTED: "受理",
    Stage.ROUTED: "流转",
    Stage.REVIEWED: "审核",
    Stage.SEALED: "签章",
    Stage.CERTIFICATE_MADE: "制证",
    Stage.DELIVERED: "送达",
    Stage.ARCHIVED: "归档",
}


class OutcomeKind(StrEnum):
    ACCEPTED = "accepted"  # 受理回执 / 受理通知书
    NEEDS_MORE = "needs_more"  # 材料补齐补正通知书
    REFUSED = "refused"  # 不予受理
    PENDING = "pending"  # 收件凭证: received offline, not yet accepted


class Delivery(StrEnum):
    PICKUP = "pickup"  # window pickup at a service point
    MAIL = "mail"  # free mail to an address
    ECERT = "ecert"  # electronic certificate


@dataclass(frozen=True)
class DeferredMaterial:
    """A material accepted as missing (容缺) that the citizen will supply by ``due``."""

    code: str
    name: str
    due: dt.date


# The query parameter (``?on_slip=1``) with which a kiosk delivers a submission whose citizen
# has left with a pending slip (收件凭证): a submission the platform's catalog no longer
# accepts as it is is then taken in with a correction notice (补齐补正), not refused, since
# nobody stands at the kiosk to put it right. (In the query, so the request's signature
# covers it; not in the body, whose hash a replay must match.)
ON_SLIP = "on_slip"


@dataclass(frozen=True, repr=False)
class Submission:
    """One citizen's one submission for a life event (or a single matter).

    ``key`` is chosen by the kiosk and makes the submission idempotent.
    ``fields`` maps field id → value (the merged form); ``consumers`` maps
    matter code → the field ids that matter uses. Its ``repr`` names the fields but
    shows none of their values (a submission logged by accident carries no one's data).
    """

    key: str
    terminal_id: str
    accepting_point: str  # service point code where the citizen applied
    life_event: str | None
    matters: tuple[str, ...]
    fields: dict[str, str]
    consumers: dict[str, tuple[str, ...]]
    materials: dict[str, str] = field(default_factory=dict)  # material code → stored scan ref
    deferred: tuple[DeferredMaterial, ...] = ()
    delivery: Delivery = Delivery.PICKUP
    delivery_address: str = ""
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    local_number: str = ""  # the pending slip's number (收件凭证) when it was queued offline
    # the citizen's signed promise to bring the deferred materials: a reference to the
    # signature image kept with the scans ("signature:<bytes>:<sha256 prefix>")
    commitment_signature: str = ""

    def __repr__(self) -> str:
        return (f"Submission(key={self.key!r}, terminal_id={self.terminal_id!r}, "
                f"life_event={self.life_event!r}, matters={self.matters!r}, "
                f"fields={sorted(self.fields)!r}, materials={sorted(self.materials)!r})")  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        # written out rather than dataclasses.asdict (a deep copy): the platform and the
        # client build this for every submission (tests/unit pin it to every field)
        return {
            "key": self.key,
            "terminal_id": self.terminal_id,
            "accepting_point": self.accepting_point,
            "life_event": self.life_event,
            "matters": list(self.matters),
            "fields": dict(self.fields),
            "consumers": {k: list(v) for k, v in self.consumers.items()},
            "materials": dict(self.materials),
            "deferred": [
                {"code": m.code, "name": m.name, "due": m.due.isoformat()} for m in self.deferred
            ],
            "delivery": self.delivery.value,
            "delivery_address": self.delivery_address,
            "created_at": self.created_at.isoformat(),
            "local_number": self.local_number,
            "commitment_signature": self.commitment_signature,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Submission:
        return cls(
            key=str(d["key"]),
            terminal_id=str(d["terminal_id"]),
            accepting_point=str(d["accepting_point"]),
            life_event=d.get("life_event"),
            matters=tuple(d["matters"]),
            fields={str(k): str(v) for k, v in d["fields"].items()},
            consumers={k: tuple(v) for k, v in d.get("consumers", {}).items()},
            materials=dict(d.get("materials", {})),
            deferred=tuple(
                DeferredMaterial(m["code"], m["name"], dt.date.fromisoformat(m["due"]))
                for m in d.get("deferred", [])
            ),
            delivery=Delivery(d.get("delivery", "pickup")),
            delivery_address=d.get("delivery_address", ""),
            local_number=str(d.get("local_number", "")),
            commitment_signature=str(d.get("commitment_signature", "")),
            created_at=dt.datetime.fromisoformat(d["created_at"])
            if d.get("created_at")
            else dt.datetime.now(dt.UTC),
        )


@dataclass(frozen=True)
class MatterOutcome:
    """Per matter: who handles it and by when."""

    code: str
    name: str
    handling_authority: str
    promised_date: dt.date | None = None


@dataclass(frozen=True)
class Outcome:
    """The platform's answer to a submission.

    - ACCEPTED: ``acceptance_number``, matters, ``promised_date``, delivery,
      deferred materials with due dates.
    - NEEDS_MORE: ``missing`` lists everything missing, told once.
    - REFUSED: ``reason``.
    - PENDING: ``local_number`` only (offline); linked later to an acceptance number.
    """

    kind: OutcomeKind
    submission_key: str
    accepting_point: str = ""
    acceptance_number: str = ""
    local_number: str = ""
    matters: tuple[MatterOutcome, ...] = ()
    promised_date: dt.date | None = None
    promised_date_provisional: bool = False
    delivery: Delivery = Delivery.PICKUP
    deferred: tuple[DeferredMaterial, ...] = ()
    missing: tuple[str, ...] = ()
    reason: str = ""
    stage: Stage = Stage.RECEIVED

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "submission_key": self.submission_key,
            "accepting_point": self.accepting_point,
            "acceptance_number": self.acceptance_number,
            "local_number": self.local_number,
            "matters": [
                {
                    "code": m.code,
                    "name": m.name,
                    "handling_authority": m.handling_authority,
                    "promised_date": m.promised_date.isoformat() if m.promised_date else None,
                }
                for m in self.matters
            ],
            "promised_date": self.promised_date.isoformat() if self.promised_date else None,
            "promised_date_provisional": self.promised_date_provisional,
            "delivery": self.delivery.value,
            "deferred": [
                {"code": m.code, "name": m.name, "due": m.due.isoformat()} for m in self.deferred
            ],
            "missing": list(self.missing),
            "reason": self.reason,
            "stage": self.stage.value,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Outcome:
        """:raises KeyError, ValueError: the dict is not an outcome."""

        def date(v: Any) -> dt.date | None:
            return dt.date.fromisoformat(v) if v else None

        return cls(
            kind=OutcomeKind(d["kind"]),
            submission_key=str(d["submission_key"]),
            accepting_point=str(d.get("accepting_point", "")),
            acceptance_number=str(d.get("acceptance_number", "")),
            local_number=str(d.get("local_number", "")),
            matters=tuple(
                MatterOutcome(
                    str(m["code"]),
                    str(m["name"]),
                    str(m["handling_authority"]),
                    date(m.get("promised_date")),
                )
                for m in d.get("matters", [])
            ),
            promised_date=date(d.get("promised_date")),
            promised_date_provisional=bool(d.get("promised_date_provisional", False)),
            delivery=Delivery(d.get("delivery", "pickup")),
            deferred=tuple(
                DeferredMaterial(m["code"], m["name"], dt.date.fromisoformat(m["due"]))
                for m in d.get("deferred", [])
            ),
            missing=tuple(d.get("missing", [])),
            reason=str(d.get("reason", "")),
            stage=Stage(d.get("stage", "received")),
        )


@dataclass(frozen=True)
class StageEvent:
    """One step in an application's history: a stage reached, or a notice issued."""

    stage: Stage
    kind: OutcomeKind
    at: dt.datetime
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage.value, "kind": self.kind.value, "at": self.at.isoformat(),
                "note": self.note}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StageEvent:
        """:raises KeyError, ValueError, TypeError: the dict is not a stage event."""
        return cls(Stage(d["stage"]), OutcomeKind(d["kind"]), dt.datetime.fromisoformat(d["at"]),
                   str(d.get("note", "")))  # fmt: skip


@dataclass(frozen=True)
class Progress:
    """Where an application is: its current outcome and the stages it went through."""

    outcome: Outcome
    history: tuple[StageEvent, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome.to_dict(), "history": [e.to_dict() for e in self.history]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Progress:
        """:raises KeyError, ValueError, TypeError: the dict is not a progress report."""
        return cls(Outcome.from_dict(d["outcome"]),
                   tuple(StageEvent.from_dict(e) for e in d.get("history", [])))  # fmt: skip
