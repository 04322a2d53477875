"""The platform's state, behind one small class (SQLAlchemy Core; SQLite or PostgreSQL).

Methods are blocking; the aiohttp handlers call them in worker threads. What
must hold across processes is enforced by the database: a submission key is
unique, acceptance numbers come from a counter row updated inside the storing
transaction, nonces and enrolment codes are used once by a conditional write.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from central import tables as t
from central.errors import ApiError
from kiosk.outcomes import Outcome, OutcomeKind, Progress, Stage, StageEvent, Submission

CHINA = ZoneInfo("Asia/Shanghai")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; everything stored is UTC
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


class Store:
    def __init__(self, engine: sa.Engine):
        self.engine = engine

    # -- counters -------------------------------------------------------------

    def _next(self, conn: sa.Connection, name: str) -> int:
        ins = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(t.counters)
        conn.execute(ins.values(name=name, value=0).on_conflict_do_nothing())
        upd = (
            t.counters.update()
            .where(t.counters.c.name == name)
            .values(value=t.counters.c.value + 1)
            .returning(t.counters.c.value)
        )
        return int(conn.execute(upd).scalar_one())

    # -- submissions ----------------------------------------------------------

    def submit(self, sub: Submission, body_hash: str, prefix: str,
               decide: Callable[[str, dt.date], Outcome]) -> tuple[Outcome, bool]:  # fmt: skip
        """Store ``sub`` once and return (its outcome, whether it was new).

        A replay of the same key returns the stored outcome; the same key with
        another body is a 409. ``decide(number, today)`` builds the outcome.
        """
        for _ in range(3):
            try:
                return self._submit_once(sub, body_hash, prefix, decide)
            except sa.exc.IntegrityError:
                continue  # another process stored the same key first: read its outcome
        raise ApiError(503, "server.error")

    def _submit_once(self, sub, body_hash, prefix, decide) -> tuple[Outcome, bool]:
        now = _now()
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(t.submissions.c.body_hash, t.applications.c.outcome)
                .join(t.applications, t.applications.c.submission_key == t.submissions.c.key)
                .where(t.submissions.c.key == sub.key)
            ).first()
            if row is not None:
                if row.body_hash != body_hash:
                    raise ApiError(409, "submission.key_reused", "key")
                return Outcome.from_dict(row.outcome), False
            today = now.astimezone(CHINA).date()
            seq = self._next(conn, f"acceptance:{today:%Y%m%d}")
            number = f"{prefix}{today:%Y%m%d}{seq:05d}"
            outcome = decide(number, today)
            conn.execute(t.submissions.insert().values(
                key=sub.key, body_hash=body_hash, terminal_id=sub.terminal_id,
                accepting_point=sub.accepting_point, local_number=sub.local_number,
                received_at=now, body=sub.to_dict()))  # fmt: skip
            conn.execute(t.applications.insert().values(
                number=number, submission_key=sub.key, kind=outcome.kind.value,
                stage=outcome.stage.value, outcome=outcome.to_dict(), updated_at=now))  # fmt: skip
            conn.execute(t.stages.insert(), [
                {"number": number, "stage": Stage.RECEIVED.value, "kind": "accepted", "note": "", "at": now},
                {"number": number, "stage": outcome.stage.value, "kind": outcome.kind.value, "note": "", "at": now},
            ])  # fmt: skip
            return outcome, True

    def count_submissions(self, key: str | None = None) -> int:
        q = sa.select(sa.func.count()).select_from(t.submissions)
        if key is not None:
            q = q.where(t.submissions.c.key == key)
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())

    # -- progress and the office ----------------------------------------------

    def _application(self, conn: sa.Connection, number: str, lock: bool = False):
        q = sa.select(t.applications).where(
            sa.or_(
                t.applications.c.number == number,
                t.applications.c.submission_key.in_(
                    sa.select(t.submissions.c.key).where(
                        t.submissions.c.local_number == number, t.submissions.c.local_number != ""
                    )
                ),
            )
        )
        row = conn.execute(q.with_for_update() if lock else q).first()
        if row is None:
            raise ApiError(404, "application.not_found")
        return row

    def progress(self, number: str) -> Progress:
        """By acceptance number or by the pending slip's local number.

        :raises ApiError: 404 when there is no such application.
        """
        with self.engine.connect() as conn:
            app = self._application(conn, number)
            rows = conn.execute(
                sa.select(t.stages).where(t.stages.c.number == app.number).order_by(t.stages.c.id)
            ).all()
        history = tuple(
            StageEvent(Stage(r.stage), OutcomeKind(r.kind), _aware(r.at), r.note) for r in rows
        )
        return Progress(Outcome.from_dict(app.outcome), history)

    def _change(self, number: str, change: Callable[[Outcome], tuple[Outcome, str]]) -> Progress:
        now = _now()
        with self.engine.begin() as conn:
            app = self._application(conn, number, lock=True)
            outcome, note = change(Outcome.from_dict(app.outcome))
            conn.execute(
                t.applications.update().where(t.applications.c.number == app.number).values(
                    kind=outcome.kind.value, stage=outcome.stage.value,
                    outcome=outcome.to_dict(), updated_at=now))  # fmt: skip
            conn.execute(t.stages.insert().values(
                number=app.number, stage=outcome.stage.value, kind=outcome.kind.value,
                note=note, at=now))  # fmt: skip
        return self.progress(app.number)

    def advance(self, number: str, note: str = "") -> Progress:
        """Move an accepted application to its next stage.

        :raises ApiError: 404 unknown; 409 refused, waiting for materials, or archived.
        """

        def step(o: Outcome) -> tuple[Outcome, str]:
            nxt = o.stage.next()
            if o.kind is not OutcomeKind.ACCEPTED or nxt is None:
                raise ApiError(409, "application.wrong_state")
            return _replace(o, stage=nxt), note

        return self._change(number, step)

    def needs_more(self, number: str, missing: list[str], note: str = "") -> Progress:
        """Issue a correction notice (补齐补正) listing everything missing."""

        def step(o: Outcome) -> tuple[Outcome, str]:
            if o.kind is OutcomeKind.REFUSED or o.stage is Stage.ARCHIVED:
                raise ApiError(409, "application.wrong_state")
            return _replace(o, kind=OutcomeKind.NEEDS_MORE, missing=tuple(missing)), note

        return self._change(number, step)

    def resume(self, number: str, note: str = "") -> Progress:
        """The missing materials arrived: the application is accepted again."""

        def step(o: Outcome) -> tuple[Outcome, str]:
            if o.kind is not OutcomeKind.NEEDS_MORE:
                raise ApiError(409, "application.wrong_state")
            return _replace(o, kind=OutcomeKind.ACCEPTED, missing=()), note

        return self._change(number, step)

    def refuse(self, number: str, reason: str) -> Progress:
        """Refuse (不予受理) with the reason the citizen is told."""

        def step(o: Outcome) -> tuple[Outcome, str]:
            if o.kind is OutcomeKind.REFUSED or o.stage is Stage.ARCHIVED:
                raise ApiError(409, "application.wrong_state")
            return _replace(o, kind=OutcomeKind.REFUSED, reason=reason), reason

        return self._change(number, step)

    # -- terminals ------------------------------------------------------------

    def add_code(self, service_point: str, ttl: dt.timedelta = dt.timedelta(hours=24)) -> str:
        """A one-time enrolment code for a terminal at ``service_point``."""
        code = "-".join(secrets.token_hex(2).upper() for _ in range(3))
        now = _now()
        with self.engine.begin() as conn:
            conn.execute(t.enrolment_codes.insert().values(
                code_hash=code_hash(code), service_point=service_point,
                created_at=now, expires_at=now + ttl))  # fmt: skip
        return code

    def enrol(self, code: str) -> dict[str, str]:
        """Use a code once: a new terminal id and its secret.

        :raises ApiError: 403 when the code is unknown, used or expired.
        """
        now = _now()
        terminal_id = f"T{secrets.token_hex(5).upper()}"
        secret = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(t.enrolment_codes).where(t.enrolment_codes.c.code_hash == code_hash(code))
            ).first()
            if row is None or row.used_at is not None or _aware(row.expires_at) < now:
                raise ApiError(403, "enrol.bad_code")
            used = conn.execute(
                t.enrolment_codes.update()
                .where(t.enrolment_codes.c.code_hash == row.code_hash, t.enrolment_codes.c.used_at.is_(None))
                .values(used_at=now, terminal_id=terminal_id)
            )  # fmt: skip
            if used.rowcount != 1:  # another process used it a moment ago
                raise ApiError(403, "enrol.bad_code")
            conn.execute(t.terminals.insert().values(
                id=terminal_id, service_point=row.service_point, secret=secret, enrolled_at=now))  # fmt: skip
        return {"terminal_id": terminal_id, "secret": secret, "service_point": row.service_point}

    def terminal(self, terminal_id: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(t.terminals).where(t.terminals.c.id == terminal_id)
            ).first()

    def revoke(self, terminal_id: str) -> None:
        """:raises ApiError: 404 unknown terminal."""
        with self.engine.begin() as conn:
            done = conn.execute(
                t.terminals.update()
                .where(t.terminals.c.id == terminal_id)
                .values(revoked_at=_now())
            )
            if done.rowcount != 1:
                raise ApiError(404, "request.not_found")

    def use_nonce(self, terminal_id: str, nonce: str, now: dt.datetime, keep: dt.timedelta) -> bool:
        """True the first time (terminal, nonce) is seen; False for a replay."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    t.nonces.insert().values(terminal_id=terminal_id, nonce=nonce, seen_at=now)
                )
        except sa.exc.IntegrityError:
            return False
        if secrets.randbelow(200) == 0:  # now and then, forget nonces too old to be accepted anyway
            with self.engine.begin() as conn:
                conn.execute(t.nonces.delete().where(t.nonces.c.seen_at < now - keep))
        return True

    def heartbeat(self, terminal_id: str, beat: dict[str, Any]) -> None:
        now = _now()
        with self.engine.begin() as conn:
            conn.execute(t.heartbeats.insert().values(terminal_id=terminal_id, at=now, **beat))
            conn.execute(
                t.terminals.update().where(t.terminals.c.id == terminal_id).values(last_seen_at=now)
            )

    def last_heartbeat(self, terminal_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.heartbeats).where(t.heartbeats.c.terminal_id == terminal_id)
                .order_by(t.heartbeats.c.id.desc()).limit(1)
            ).first()  # fmt: skip
        return dict(row._mapping) if row else None


def _replace(o: Outcome, **changes: Any) -> Outcome:
    from dataclasses import replace

    return replace(o, **changes)
