"""The hall's data: dashboard users, terminal overviews, alerts, ratings and help requests.

Blocking methods (SQLAlchemy Core), called from handlers in worker threads and
from the ``central users`` command. Every read takes a scope: the service
points a user may see (None = all). What must hold across processes is kept by
the database: one open alert per condition (a unique open key), a follow-up
step applies only from the state the person saw (a conditional update).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from central import tables as t
from central.dashboard import status
from central.dashboard.security import hash_password
from central.errors import ApiError

ROLES = ("manager", "technician", "admin")
SIGN_IN_TRIES = 5  # wrong passwords in a row that lock an account…
SIGN_IN_LOCK = dt.timedelta(minutes=5)  # …for this long (as the kiosk's technician PIN)
HELP_REPEAT = dt.timedelta(minutes=2)  # the same call from the same screen within this is one call

HALL_MESSAGES: dict[str, tuple[str, str]] = {
    "hall.forbidden": ("您无权查看该服务点。", "You may not see this service point."),
    "hall.not_found": ("没有找到该记录。", "No such record."),
    "hall.wrong_state": ("状态已被他人更新，请刷新后再试。", "Someone changed it meanwhile; reload and try again."),
    "hall.bad_place": ("位置最多 32 个字，不能有控制字符。",
                       "A place is 32 characters at most, with no control characters."),
    "hall.still_ongoing": ("问题仍在持续：关闭后会立即重新告警。请先确认，恢复后再关闭。",
                           "It still holds: closed, it would open again at once. Acknowledge it; "
                           "close it once it has recovered."),
    "hall.contact_note": ("请写明如何告知了申请人（例如“已电话告知补交材料”），再关闭。",
                          "Say how the applicant was told (\u201cphoned: to bring the missing "
                          "papers\u201d), then close."),
    "hall.unanswered_call": ("这条呼叫还没有人确认，群众可能仍在等待。",
                             "Nobody has acknowledged this call yet: the citizen may still be waiting."),
    "hall.unknown_reason": ("不认识的评价原因“{field}”。", "Unknown rating reason “{field}”."),
    "hall.key_reused": ("同一评价编号对应了不同的内容。", "This rating key was already used for different content."),
    "hall.unknown_terminal": ("该终端未登记。", "This terminal is not enrolled."),
    "diagnostics.personal_data": ("诊断包中含有个人信息，已拒收。", "The diagnostics bundle holds personal data; refused."),
    "diagnostics.already_uploaded": ("该诊断请求已有上传。", "This diagnostics request was answered already."),
    "hall.self_disable": ("不能停用自己的账号。", "You cannot disable your own account."),
    "hall.last_admin": ("这是最后一个可用的系统管理员账号，不能停用。", "This is the last active administrator; it cannot be disabled."),
}  # fmt: skip


SWEEP_CLOCK_SLACK_MS = 5 * 60 * 1000  # a sweep's judgement older than the newest by more: a clock set back


def unanswered_call(alert: Mapping[str, Any]) -> bool:
    """A call for staff (or a card to collect) that nobody has acknowledged and that is
    not over by itself: closing it by a slip would leave someone waiting."""
    return (alert["kind"] == status.HELP and alert["acknowledged_at"] is None
            and alert["cleared_at"] is None and alert["closed_at"] is None)  # fmt: skip


PLACE_MAX = 32  # characters of a terminal's place in its hall (tables.terminals.place)


NOTE_MAX = 200  # characters of a note on an alert's step (tables.alert_events.note)


def needs_contact_note(alert: Mapping[str, Any]) -> bool:
    """A correction notice's alert (收件待补正): the only reminder that a citizen who left
    with a pending slip is to be told what to bring. It is closed only with a word on how
    they were told, kept in its history."""
    return alert["kind"] == status.CORRECTION and alert["closed_at"] is None


def still_ongoing(alert: Mapping[str, Any]) -> bool:
    """An alert a terminal's own state opened (paper out, a device down, offline) that still
    holds: closed, the next sweep would open it again at once, as a new alert (its start and
    its acknowledgement lost). It is acknowledged meanwhile, and closed once recovered."""
    return (alert["kind"] in status.ALERTING and alert["cleared_at"] is None
            and alert["closed_at"] is None)  # fmt: skip


class HallError(ApiError):
    """An ApiError whose keys live here (central/errors.py stays as it is)."""

    def body(self) -> dict[str, Any]:
        if self.key not in HALL_MESSAGES:
            return super().body()
        zh, en = HALL_MESSAGES[self.key]
        return {"error": {"key": self.key, "field": self.field, "details": self.details,
                          "message": {"zh": zh.format(field=self.field),
                                      "en": en.format(field=self.field)}}}  # fmt: skip


@dataclass(frozen=True)
class User:
    name: str
    role: str
    points: tuple[str, ...]
    epoch: int = 0  # raised by a password reset or change: older session cookies are void

    @property
    def scope(self) -> tuple[str, ...] | None:
        """The service points this user sees; None = every point."""
        if self.role == "admin" or (self.role == "technician" and not self.points):
            return None
        return self.points

    def may(self, page: str) -> bool:
        if page in ("ratings", "savings", "volumes"):
            return self.role in ("manager", "admin")
        if page in ("accounts", "lookups"):
            return self.role == "admin"
        if page == "notices":  # a hall's own notices: its manager's (technicians: config)
            return self.role in ("manager", "admin")
        if page in ("diagnostics", "config"):
            return self.role in ("technician", "admin")
        return True  # terminals, alerts


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=dt.UTC)


def _in_scope(column: sa.ColumnElement, scope: Sequence[str] | None) -> sa.ColumnElement[bool]:
    return sa.true() if scope is None else column.in_(list(scope))


def bump_counter(name: str, conn: sa.Connection) -> sa.Insert:
    """The upsert that adds one to counter ``name`` (made at 1): its row stays locked until
    the transaction ends, so transactions that start with it go one at a time."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(t.counters).values(name=name, value=1).on_conflict_do_update(
        index_elements=[t.counters.c.name], set_={"value": t.counters.c.value + 1})  # fmt: skip


class HallStore:
    def __init__(self, engine: sa.Engine):
        self.engine = engine

    # -- users ------------------------------------------------------------------

    def add_user(self, name: str, role: str, points: Sequence[str], password: str) -> User:
        """:raises ValueError: unknown role, a manager without a point, a short password, a taken name."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if role == "manager" and not points:
            raise ValueError("a hall manager needs at least one --point")
        if len(password) < 8:
            raise ValueError("the password needs at least 8 characters")
        if not name or len(name) > 64:
            raise ValueError("the name needs 1 to 64 characters")
        try:
            with self.engine.begin() as conn:
                conn.execute(t.dashboard_users.insert().values(
                    name=name, role=role, points=list(points), created_at=_now(),
                    password_hash=hash_password(password)))  # fmt: skip
        except sa.exc.IntegrityError as err:
            raise ValueError(f"a user named {name!r} exists already") from err
        return User(name, role, tuple(points))

    def user(self, name: str) -> tuple[User, str] | None:
        """The active user called ``name`` and their password hash."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.dashboard_users).where(
                t.dashboard_users.c.name == name, t.dashboard_users.c.disabled_at.is_(None))).first()  # fmt: skip
        if row is None:
            return None
        user = User(row.name, row.role, tuple(row.points or ()), row.session_epoch or 0)
        return user, row.password_hash

    def locked_for(self, name: str, now: dt.datetime) -> float:
        """Seconds the account ``name`` stays locked after too many wrong passwords (0: not
        locked, or no such account)."""
        u = t.dashboard_users
        with self.engine.connect() as conn:
            until = conn.execute(sa.select(u.c.locked_until).where(u.c.name == name)).scalar()
        return max((_aware(until) - now).total_seconds(), 0.0) if until is not None else 0.0

    def sign_in_failed(self, name: str, now: dt.datetime) -> bool:
        """Count a wrong password for ``name``; the ``SIGN_IN_TRIES``-th in a row locks the
        account for ``SIGN_IN_LOCK`` (and the count starts again). Whether it is now locked."""
        u = t.dashboard_users
        with self.engine.begin() as conn:
            tries = conn.execute(u.update().where(u.c.name == name)
                                 .values(failed_sign_ins=u.c.failed_sign_ins + 1)
                                 .returning(u.c.failed_sign_ins)).scalar()  # fmt: skip
            if tries is None or tries < SIGN_IN_TRIES:
                return False
            conn.execute(u.update().where(u.c.name == name)
                         .values(failed_sign_ins=0, locked_until=now + SIGN_IN_LOCK))  # fmt: skip
        return True

    def signed_in(self, name: str) -> None:
        """A right password: the count of wrong ones starts again."""
        u = t.dashboard_users
        with self.engine.begin() as conn:
            conn.execute(u.update().where(u.c.name == name, u.c.failed_sign_ins != 0)
                         .values(failed_sign_ins=0))  # fmt: skip

    def end_sessions(self, name: str) -> None:
        """Void every session cookie of ``name`` (signing out: a copied cookie stops working)."""
        u = t.dashboard_users
        with self.engine.begin() as conn:
            conn.execute(u.update().where(u.c.name == name)
                         .values(session_epoch=u.c.session_epoch + 1))  # fmt: skip

    def users(self) -> list[dict[str, Any]]:
        """Every account, active first, for the administrator's page (no password hashes)."""
        u = t.dashboard_users
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(u.c.name, u.c.role, u.c.points, u.c.created_at,
                                          u.c.disabled_at)
                                .order_by(u.c.disabled_at.is_not(None), u.c.role, u.c.name)).all()  # fmt: skip
        return [{"name": r.name, "role": r.role, "points": list(r.points or ()),
                 "created_at": _aware(r.created_at), "disabled_at": _aware(r.disabled_at)}
                for r in rows]  # fmt: skip

    def set_disabled(self, name: str, disabled: bool, by: str) -> None:
        """Disable (or enable again) an account; a disabled one can neither sign in nor use a
        session it already has.

        :raises HallError: 404 unknown; 409 disabling oneself or the last active administrator.
        """
        u = t.dashboard_users
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(u).where(u.c.name == name)).first()
            if row is None:
                raise HallError(404, "hall.not_found")
            if disabled and name == by:
                raise HallError(409, "hall.self_disable")
            if disabled and row.role == "admin":
                admins = conn.execute(sa.select(sa.func.count()).where(
                    u.c.role == "admin", u.c.disabled_at.is_(None))).scalar_one()  # fmt: skip
                if admins <= 1:
                    raise HallError(409, "hall.last_admin")
            conn.execute(u.update().where(u.c.name == name).values(
                disabled_at=_now() if disabled else None,
                session_epoch=u.c.session_epoch + (1 if disabled else 0)))  # fmt: skip

    def set_password(self, name: str, password: str) -> int:
        """A new password for ``name``, which ends every session of theirs and lifts a lock
        earned by wrong passwords; the new epoch.

        :raises ValueError: under 8 characters, or the user name itself.
        :raises HallError: 404 unknown.
        """
        if len(password) < 8:
            raise ValueError("short")
        if password.strip().lower() == name.strip().lower():
            raise ValueError("name")
        u = t.dashboard_users
        digest = hash_password(password)
        with self.engine.begin() as conn:
            epoch = conn.execute(u.update().where(u.c.name == name).values(
                password_hash=digest, session_epoch=u.c.session_epoch + 1,
                failed_sign_ins=0, locked_until=None,  # a new password: a lock is lifted
            ).returning(u.c.session_epoch)).scalar()  # fmt: skip
        if epoch is None:
            raise HallError(404, "hall.not_found")
        return int(epoch)

    # -- what terminals send ------------------------------------------------------

    def add_rating(self, terminal_id: str, key: str, stars: int, reasons: list[str],
                   reference: str) -> tuple[int, bool]:  # fmt: skip
        """Store a rating once per ``key``; (its id, whether it is new).

        :raises HallError: 409 the key was used for another rating.
        """
        now = _now()
        try:
            with self.engine.begin() as conn:
                if key:
                    old = conn.execute(sa.select(t.ratings).where(t.ratings.c.key == key)).first()
                    if old is not None:
                        same = (old.terminal_id, old.level, list(old.reasons), old.reference) == (
                            terminal_id, stars, reasons, reference)  # fmt: skip
                        if not same:
                            raise HallError(409, "hall.key_reused", "key")
                        return old.id, False
                number = conn.execute(sa.select(t.applications.c.number).where(sa.or_(
                    t.applications.c.number == reference,
                    t.applications.c.submission_key == reference))).scalar() if reference else None  # fmt: skip
                follow = "new" if stars <= 2 else "none"
                rating_id = conn.execute(t.ratings.insert().values(
                    key=key or None, terminal_id=terminal_id, level=stars, reasons=reasons,
                    reference=reference, number=number, follow_up=follow, at=now,
                ).returning(t.ratings.c.id)).scalar_one()  # fmt: skip
                if follow == "new":
                    conn.execute(t.rating_events.insert().values(
                        rating_id=rating_id, state="new", by=terminal_id, at=now))  # fmt: skip
                return rating_id, True
        except sa.exc.IntegrityError:  # the same key stored by another process a moment ago
            return self.add_rating(terminal_id, key, stars, reasons, reference)

    def add_help_request(self, terminal_id: str, screen: str) -> tuple[int, bool]:
        """Open a help request (and its alert); a repeat within HELP_REPEAT is the same one."""
        now = _now()
        h = t.help_requests
        with self.engine.begin() as conn:
            point = conn.execute(sa.select(t.terminals.c.service_point)
                                 .where(t.terminals.c.id == terminal_id)).scalar()  # fmt: skip
            if point is None:
                raise HallError(401, "hall.unknown_terminal")
            same = conn.execute(sa.select(h.c.id).where(
                h.c.terminal_id == terminal_id, h.c.screen == screen, h.c.closed_at.is_(None),
                h.c.opened_at >= now - HELP_REPEAT)).scalar()  # fmt: skip
            if same is not None:
                return same, False
            help_id = conn.execute(h.insert().values(
                terminal_id=terminal_id, screen=screen, opened_at=now).returning(h.c.id)).scalar_one()  # fmt: skip
            self._open_alert(conn, f"help|{help_id}", terminal_id, point,
                             status.Condition(status.HELP, screen), now, help_id)  # fmt: skip
        return help_id, True

    # -- terminals ------------------------------------------------------------------

    def places(self, scope: Sequence[str] | None,
               terminals: Sequence[str] | None = None) -> dict[str, str]:  # fmt: skip
        """Where each terminal in scope (of ``terminals`` only, when given: the ones a page
        names) stands in its hall, for those a technician has named."""
        term = t.terminals
        q = sa.select(term.c.id, term.c.place).where(
            term.c.place != "", _in_scope(term.c.service_point, scope))
        if terminals is not None:
            q = q.where(term.c.id.in_(sorted(set(terminals))))
        with self.engine.connect() as conn:
            return dict(conn.execute(q).all())

    def set_place(self, terminal_id: str, place: str,
                  conn: sa.Connection | None = None) -> str:  # fmt: skip
        """Name where ``terminal_id`` stands ("" forgets it); the place as kept. ``conn``: in
        that transaction (central.dashboard.remote.save_place's, which pushes it too).

        :raises HallError: 422 a name too long or with control characters.
        """
        place = " ".join(place.split())
        if len(place) > PLACE_MAX or not place.isprintable():
            raise HallError(422, "hall.bad_place")
        with contextlib.nullcontext(conn) if conn is not None else self.engine.begin() as c:
            c.execute(t.terminals.update().where(t.terminals.c.id == terminal_id)
                      .values(place=place))  # fmt: skip
        return place

    def problems_since(self, scope: Sequence[str] | None) -> dict[str, dt.datetime]:
        """When each terminal's oldest problem still holding began (its oldest open alert
        not recovered), by terminal: "since when" beside what is wrong."""
        a = t.alerts
        q = (sa.select(a.c.terminal_id, sa.func.min(a.c.opened_at))
             .where(a.c.closed_at.is_(None), a.c.cleared_at.is_(None),
                    _in_scope(a.c.service_point, scope))
             .group_by(a.c.terminal_id))  # fmt: skip
        with self.engine.connect() as conn:
            return {tid: _aware(at) for tid, at in conn.execute(q)}

    def terminal_views(self, scope: Sequence[str] | None, now: dt.datetime,
                       offline_after: float, unused_after: float = 0,
                       is_workday: Callable[[dt.date], bool] | None = None,
                       ) -> list[status.TerminalView]:  # fmt: skip
        """Every enrolled, unrevoked terminal in scope with its latest heartbeat, red first;
        ``unused_after`` (hours, 0: not asked): those enrolled longer with no visit, query or
        ticket in that time are said to be unused, counting only the hours of working days
        when ``is_workday`` is given (a weekend in a closed building is no fault)."""
        # terminal_state holds each terminal's latest beat (``at``: last seen), one row each
        term, s = t.terminals, t.terminal_state
        q = (
            sa.select(term.c.id, term.c.service_point, term.c.enrolled_at, term.c.last_used_at, s)
            .select_from(term.outerjoin(s, s.c.terminal_id == term.c.id))
            .where(term.c.revoked_at.is_(None), _in_scope(term.c.service_point, scope))
        )
        a = t.alerts
        # calls for staff not yet answered (the same as the badge counts): a hall's screen left
        # on this page shows which terminal a citizen is waiting at, not only the alerts page
        calls_q = (
            sa.select(a.c.terminal_id, a.c.detail)
            .where(a.c.kind == status.HELP, a.c.closed_at.is_(None), a.c.cleared_at.is_(None),
                   _in_scope(a.c.service_point, scope))
            .order_by(a.c.id)
        )  # fmt: skip
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
            calls: dict[str, list[str]] = {}
            for tid, screen in conn.execute(calls_q):
                calls.setdefault(tid, []).append(screen)

        workday = functools.cache(is_workday) if is_workday is not None else None

        def unused_for(r) -> float | None:
            """Whole hours since its last use (or its enrolment), once past ``unused_after``."""
            if unused_after <= 0:
                return None
            since = _aware(r.last_used_at) or _aware(r.enrolled_at)
            hours = (now - since).total_seconds() // 3600
            if hours < unused_after:
                return None
            if workday is not None and status.working_hours(since, now, workday,
                                                             unused_after) < unused_after:
                return None
            return hours

        views = [
            status.assess(r.id, r.service_point, _aware(r.at),
                          r._mapping if r.at is not None else None, now, offline_after,
                          calls.get(r.id, ()), unused_for(r))
            for r in rows
        ]  # fmt: skip
        return status.by_severity(views)

    # -- alerts ---------------------------------------------------------------------

    def help_over(self, terminal_id: str, screen: str) -> int:
        """The terminal says what it called staff for from ``screen`` is over by itself (a
        card left in a reader has been taken): that call's open alerts are marked cleared,
        as a device's recover, still for a person to close; how many."""
        now, a, h = _now(), t.alerts, t.help_requests
        with self.engine.begin() as conn:
            ids = list(conn.scalars(
                sa.select(a.c.id).join(h, h.c.id == a.c.help_request_id)
                .where(a.c.terminal_id == terminal_id, a.c.kind == status.HELP,
                       a.c.detail == screen[:200], h.c.screen == screen,
                       a.c.closed_at.is_(None), a.c.cleared_at.is_(None))))  # fmt: skip
            if ids:
                conn.execute(a.update().where(a.c.id.in_(ids)).values(cleared_at=now))
                conn.execute(t.alert_events.insert(),
                             [{"alert_id": i, "action": "cleared", "at": now} for i in ids])  # fmt: skip
        return len(ids)

    def open_by_people(self, kind: str, terminal_id: str, point: str, detail: str,
                       reason: str = "") -> bool:  # fmt: skip
        """An alert of one of ``status.BY_PEOPLE``'s kinds (a person closes it, no sweep)
        for the hall of ``point``, about ``terminal_id``; ``detail`` names what it is about
        (one open alert each, whichever process opens it first), ``reason`` says what to
        do. No personal data in either. Whether it is new."""
        now, a = _now(), t.alerts
        with self.engine.begin() as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            alert_id = conn.execute(
                dialect.insert(a).values(
                    open_key=f"{kind}|{detail}", terminal_id=terminal_id, service_point=point,
                    kind=kind, detail=detail[:200], reason=reason[:300], opened_at=now)
                .on_conflict_do_nothing(index_elements=[a.c.open_key]).returning(a.c.id)
            ).scalar()  # fmt: skip
            if alert_id is None:  # open already
                return False
            conn.execute(t.alert_events.insert().values(alert_id=alert_id, action="opened", at=now))
        return True

    def _open_alert(self, conn, key, terminal_id, point, cond, now, help_id=None) -> int:
        alert_id = conn.execute(t.alerts.insert().values(
            open_key=key, terminal_id=terminal_id, service_point=point, kind=cond.kind,
            detail=cond.detail[:200], reason=cond.reason[:300], help_request_id=help_id, opened_at=now,
        ).returning(t.alerts.c.id)).scalar_one()  # fmt: skip
        conn.execute(t.alert_events.insert().values(alert_id=alert_id, action="opened", at=now))
        return alert_id

    def take_turn(self, task: str, every: float, now: dt.datetime) -> bool:
        """Whether this process does ``task`` now: only the first of the processes sharing
        the database to ask in each ``every`` seconds does (a lease: the time it was last
        taken, in milliseconds, in the counters table). Every worker of a fleet sweeps on
        its clock; one sweep a period does the work, the others wait for the next."""
        c, name, ms = t.counters, f"turn:{task}", int(now.timestamp() * 1000)
        with self.engine.begin() as conn:
            taken = conn.execute(c.update().where(c.c.name == name, c.c.value <= ms - int(every * 1000))
                                 .values(value=ms)).rowcount  # fmt: skip
            if taken:
                return True
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            made = conn.execute(dialect.insert(c).values(name=name, value=ms)
                                .on_conflict_do_nothing(index_elements=[c.c.name])
                                .returning(c.c.name)).scalar()  # (rowcount: -1 on psycopg)
            return made is not None

    def sweep(self, now: dt.datetime, offline_after: float,
              views: Sequence[status.TerminalView] | None = None) -> status.AlertPlan:  # fmt: skip
        """Open alerts for new conditions, mark ended ones cleared (a person still closes them).
        ``views``: every terminal judged as of ``now`` already (in the page builder's process)."""
        if views is None:
            views = self.terminal_views(None, now, offline_after)
        a = t.alerts
        with self.engine.begin() as conn:
            # Every worker of a fleet sweeps, and a page sweeps before it shows alerts: they
            # queue here (the counter row's lock, held to the commit), so each reads what the
            # last one wrote. Side by side, two plans from one read each recorded the same
            # change (an alert "cleared" twice in its history). The row keeps the time of the
            # newest judgement written: a sweep judged before it (its builder was slower) is
            # out of date and writes nothing, or it would undo the newer one and the next
            # sweep redo it (a "recurred", "cleared" pair that never happened).
            if not self._newest_judgement(conn, now):
                return status.AlertPlan((), (), ())
            rows = conn.execute(sa.select(a.c.id, a.c.open_key, a.c.cleared_at).where(
                a.c.closed_at.is_(None), a.c.kind.not_in(status.BY_PEOPLE))).all()  # fmt: skip
            plan = status.plan_alerts(
                views, {r.open_key: (r.id, r.cleared_at is not None) for r in rows}
            )
            if plan.open:  # all in one statement: a network outage opens hundreds at once
                # (one savepoint each held the write lock, and every heartbeat, for a second)
                dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
                opened = conn.execute(
                    dialect.insert(a).on_conflict_do_nothing(index_elements=[a.c.open_key])
                    .returning(a.c.id),  # another process may open one of them first
                    [{"open_key": cond.key(terminal_id), "terminal_id": terminal_id,
                      "service_point": point, "kind": cond.kind, "detail": cond.detail[:200],
                      "reason": cond.reason, "help_request_id": None, "opened_at": now}
                     for terminal_id, point, cond in plan.open],
                ).scalars().all()  # fmt: skip
                if opened:
                    conn.execute(t.alert_events.insert(),
                                 [{"alert_id": i, "action": "opened", "at": now} for i in opened])  # fmt: skip
            for ids, cleared, action in (
                (plan.clear, now, "cleared"),
                (plan.recur, None, "recurred"),
            ):
                if ids:
                    conn.execute(a.update().where(a.c.id.in_(ids)).values(cleared_at=cleared))
                    conn.execute(t.alert_events.insert(),
                                 [{"alert_id": i, "action": action, "at": now} for i in ids])  # fmt: skip
            if plan.recur:  # back again, perhaps for another cause: the device's words now
                conn.execute(a.update().where(a.c.id == sa.bindparam("alert_id"))
                             .values(reason=sa.bindparam("now_said")),
                             [{"alert_id": i, "now_said": plan.recur_reasons.get(i, "")}
                              for i in plan.recur])  # fmt: skip
        return plan

    @staticmethod
    def _newest_judgement(conn: sa.Connection, now: dt.datetime) -> bool:
        """Take the sweeps' lock (the "alert_sweep" counter row, to the commit) and record
        ``now`` as the newest judgement; False when one newer was written already. A time
        recorded far ahead of ``now`` is a clock set back since (judging takes seconds),
        not a newer judgement: it gives way, or no sweep would write until it passed."""
        c, ms = t.counters, int(now.timestamp() * 1000)
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        ins = dialect.insert(c).values(name="alert_sweep", value=ms)
        newer = sa.or_(ins.excluded.value > c.c.value,
                       c.c.value > ins.excluded.value + SWEEP_CLOCK_SLACK_MS)  # fmt: skip
        newest = conn.execute(ins.on_conflict_do_update(
            index_elements=[c.c.name],
            set_={"value": sa.case((newer, ins.excluded.value), else_=c.c.value)},
        ).returning(c.c.value)).scalar_one()  # fmt: skip
        return newest == ms

    def alerts(self, scope: Sequence[str] | None, closed: bool = False,
               limit: int = 200, alert_id: int | None = None) -> list[dict[str, Any]]:  # fmt: skip
        """Open alerts, or the closed ones (newest first), with their history; ``alert_id``:
        that one only (if open, or closed, and in scope). Open ones: what still holds before
        what recovered by itself, what nobody has seen before what somebody has, a citizen's
        call before a terminal down before the rest, and the longest waiting first (a call
        25 minutes old above a paper warning from a minute ago)."""
        a = t.alerts
        q = sa.select(a).where(_in_scope(a.c.service_point, scope))
        if alert_id is not None:
            q = q.where(a.c.id == alert_id)
        if closed:
            q = q.where(a.c.closed_at.is_not(None)).order_by(a.c.closed_at.desc())
        else:
            # what still holds and nobody has seen first; recovered ones (waiting only to be
            # closed) last
            urgency = sa.case((a.c.kind == status.HELP, 0),
                              (a.c.kind.in_(status.RED_KINDS), 1), else_=2)  # fmt: skip
            q = q.where(a.c.closed_at.is_(None)).order_by(
                a.c.cleared_at.is_not(None), a.c.acknowledged_at.is_not(None), urgency,
                a.c.opened_at, a.c.id)  # fmt: skip
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(q.limit(limit))]
            ids = [r["id"] for r in rows]
            events = conn.execute(sa.select(t.alert_events).where(
                t.alert_events.c.alert_id.in_(ids)).order_by(t.alert_events.c.id)).all() if ids else []  # fmt: skip
        history: dict[int, list[dict]] = {}
        for e in events:
            history.setdefault(e.alert_id, []).append(
                {"action": e.action, "by": e.by, "at": _aware(e.at), "note": e.note}
            )
        for r in rows:
            for k in ("opened_at", "cleared_at", "acknowledged_at", "closed_at"):
                r[k] = _aware(r[k])
            r["history"] = history.get(r["id"], [])
        return rows

    def count_open_alerts(self, scope: Sequence[str] | None) -> int:
        """Alerts that still need someone: not closed, and not recovered by themselves
        (a recovered one is listed, green, until closed, but calls nobody)."""
        a = t.alerts
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).where(
                a.c.closed_at.is_(None), a.c.cleared_at.is_(None),
                _in_scope(a.c.service_point, scope))).scalar_one())  # fmt: skip

    def act_on_alert(self, alert_id: int, action: str, by: str, scope: Sequence[str] | None,
                     confirmed: bool = True, note: str = "") -> None:  # fmt: skip
        """``action`` "acknowledge" or "close" by the person ``by``; closing a call for staff
        that nobody has acknowledged, still open, takes ``confirmed``; closing a correction
        notice's alert takes a ``note`` on how the applicant was told (kept with the step).

        :raises HallError: 404 unknown or out of scope; 409 already done, or
            ``hall.unanswered_call`` (not confirmed); 400 ``hall.contact_note`` (no note).
        """
        note = " ".join(note.split())[:NOTE_MAX]  # one line: the history shows it as one
        a, now = t.alerts, _now()
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(a).where(
                a.c.id == alert_id, _in_scope(a.c.service_point, scope))).first()  # fmt: skip
            if row is None:
                raise HallError(404, "hall.not_found")
            if action == "close" and not confirmed and unanswered_call(row._mapping):
                raise HallError(409, "hall.unanswered_call")
            if action == "close" and still_ongoing(row._mapping):
                raise HallError(409, "hall.still_ongoing")
            if action == "close" and needs_contact_note(row._mapping) and not note:
                raise HallError(400, "hall.contact_note")
            if action == "acknowledge":
                done = conn.execute(a.update().where(
                    a.c.id == alert_id, a.c.acknowledged_at.is_(None), a.c.closed_at.is_(None),
                ).values(acknowledged_at=now, acknowledged_by=by))  # fmt: skip
            elif action == "close":
                done = conn.execute(a.update().where(a.c.id == alert_id, a.c.closed_at.is_(None))
                                    .values(closed_at=now, closed_by=by, open_key=None))  # fmt: skip
                if done.rowcount == 1 and row.help_request_id is not None:
                    conn.execute(t.help_requests.update().where(
                        t.help_requests.c.id == row.help_request_id).values(closed_at=now, closed_by=by))  # fmt: skip
            else:
                raise HallError(404, "hall.not_found")
            if done.rowcount != 1:
                raise HallError(409, "hall.wrong_state")
            conn.execute(t.alert_events.insert().values(
                alert_id=alert_id, action=action + "d", by=by, at=now, note=note))  # fmt: skip

    # -- ratings --------------------------------------------------------------------

    def _ratings_in_scope(self, scope):
        r, term = t.ratings, t.terminals
        return (r.join(term, term.c.id == r.c.terminal_id, isouter=scope is None),
                _in_scope(term.c.service_point, scope))  # fmt: skip

    def rating_distribution(
        self, scope: Sequence[str] | None, since: dt.datetime
    ) -> dict[int, int]:
        joined, where = self._ratings_in_scope(scope)
        r = t.ratings
        q = (sa.select(r.c.level, sa.func.count()).select_from(joined)
             .where(where, r.c.at >= since).group_by(r.c.level))  # fmt: skip
        with self.engine.connect() as conn:
            counts = dict(conn.execute(q).all())
        return {level: int(counts.get(level, 0)) for level in range(1, 6)}

    def bad_ratings(self, scope: Sequence[str] | None, limit: int = 200) -> list[dict[str, Any]]:
        """Bad ratings (1–2 stars), open follow-ups first, with each one's history."""
        joined, where = self._ratings_in_scope(scope)
        r = t.ratings
        q = (sa.select(r, t.terminals.c.service_point).select_from(joined)
             .where(where, r.c.level <= 2)
             .order_by(r.c.follow_up == "resolved", r.c.at.desc()).limit(limit))  # fmt: skip
        with self.engine.connect() as conn:
            rows = [dict(x._mapping) for x in conn.execute(q)]
            ids = [x["id"] for x in rows]
            events = conn.execute(sa.select(t.rating_events).where(
                t.rating_events.c.rating_id.in_(ids)).order_by(t.rating_events.c.id)).all() if ids else []  # fmt: skip
        history: dict[int, list[dict]] = {}
        for e in events:
            history.setdefault(e.rating_id, []).append(
                {"state": e.state, "by": e.by, "note": e.note, "at": _aware(e.at)}
            )
        for x in rows:
            x["at"] = _aware(x["at"])
            x["history"] = history.get(x["id"], [])
        return rows

    def follow_up(self, rating_id: int, seen_state: str, by: str, assignee: str, note: str,
                  scope: Sequence[str] | None) -> str:  # fmt: skip
        """Move a bad rating's follow-up one step on from ``seen_state``; the new state.

        :raises HallError: 404 unknown or out of scope; 409 someone moved it meanwhile, or resolved.
        """
        r, now = t.ratings, _now()
        nxt = status.next_follow_up(seen_state)
        with self.engine.begin() as conn:
            joined, where = self._ratings_in_scope(scope)
            found = conn.execute(sa.select(r.c.id).select_from(joined).where(
                where, r.c.id == rating_id, r.c.level <= 2)).first()  # fmt: skip
            if found is None:
                raise HallError(404, "hall.not_found")
            if nxt is None:
                raise HallError(409, "hall.wrong_state")
            values: dict[str, Any] = {"follow_up": nxt}
            if nxt == "assigned":
                values["assigned_to"] = (assignee or by)[:64]
            done = conn.execute(r.update().where(r.c.id == rating_id, r.c.follow_up == seen_state)
                                .values(**values))  # fmt: skip
            if done.rowcount != 1:
                raise HallError(409, "hall.wrong_state")
            text = note if nxt != "assigned" else f"→ {values['assigned_to']} {note}".strip()
            conn.execute(t.rating_events.insert().values(
                rating_id=rating_id, state=nxt, by=by, note=text[:500], at=now))  # fmt: skip
        return nxt

    # -- volumes --------------------------------------------------------------------

    def volumes(self, scope: Sequence[str] | None, since: dt.datetime) -> Counter[str]:
        """Submissions per life event since ``since`` (its code; "" for single matters)."""
        s = t.submissions
        event = s.c.body["life_event"].as_string()
        q = (sa.select(event, sa.func.count()).where(
            s.c.received_at >= since, _in_scope(s.c.accepting_point, scope)).group_by(event))  # fmt: skip
        with self.engine.connect() as conn:
            return Counter({(k or ""): int(n) for k, n in conn.execute(q)})


# -- who looked up whose data (personal_lookups) ----------------------------------------------

AUDIT = "audit"  # a lookups row of an administrator's search, not a terminal's lookup
SEARCHED_BY = "dashboard:"  # such a row's terminal_id: this, then the user's name


class LookupAudit:
    """The audit trail of citizens' own data read by terminals, for the administrator:
    each terminal's lookups in a while, and every lookup of one citizen (found by the keyed
    hashes of their ID number; the number itself is never stored)."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine

    def by_terminal(self, since: dt.datetime, scope: Sequence[str] | None,
                    limit: int = 100) -> list[dict[str, Any]]:  # fmt: skip
        """Per terminal since ``since``: its point, lookups of each kind, the citizens
        concerned and the last one's time; the busiest first."""
        lk, term = t.personal_lookups, t.terminals
        kinds = [sa.func.sum(sa.case((lk.c.kind == k, 1), else_=0)).label(k)
                 for k in ("applications", "record", "face")]  # fmt: skip
        q = (sa.select(lk.c.terminal_id, term.c.service_point, sa.func.count().label("total"),
                       sa.func.count(sa.distinct(lk.c.applicant)).label("citizens"),
                       sa.func.max(lk.c.at).label("last"), *kinds)
             .select_from(lk.outerjoin(term, term.c.id == lk.c.terminal_id))
             .where(lk.c.at >= since, lk.c.kind != AUDIT, _in_scope(term.c.service_point, scope))
             .group_by(lk.c.terminal_id, term.c.service_point)
             .order_by(sa.desc("total"), lk.c.terminal_id).limit(limit))  # fmt: skip
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(q)]
        for r in rows:
            r["last"] = _aware(r["last"])
        return rows

    def of_citizen(self, blinds: Sequence[str], limit: int = 200) -> list[dict[str, Any]]:
        """Every lookup of the citizen whose ID number has these keyed hashes (one a key
        of the platform's ring), newest first."""
        lk, term = t.personal_lookups, t.terminals
        q = (sa.select(lk.c.at, lk.c.terminal_id, lk.c.kind, term.c.service_point)
             .select_from(lk.outerjoin(term, term.c.id == lk.c.terminal_id))
             .where(lk.c.applicant.in_(list(blinds)))
             .order_by(lk.c.at.desc(), lk.c.id.desc()).limit(limit))  # fmt: skip
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(q)]
        for r in rows:
            r["at"] = _aware(r["at"])
        return rows

    def note_search(self, by: str, applicant: str) -> None:
        """Keep that the administrator ``by`` searched for the citizen ``applicant`` (their
        keyed hash): the audit trail's own reader is in it, shown with that citizen's
        lookups to whoever searches for them next."""
        with self.engine.begin() as conn:
            conn.execute(t.personal_lookups.insert().values(
                terminal_id=f"{SEARCHED_BY}{by}"[:64], kind=AUDIT, applicant=applicant,
                at=_now()))  # fmt: skip

    def prune(self, before: dt.datetime, batch: int = 2000) -> int:
        """Forget up to ``batch`` lookups older than ``before``; how many went."""
        return forget_oldest(self.engine, t.personal_lookups, before, batch=batch)


def forget_oldest(engine: sa.Engine, table: sa.Table, before: dt.datetime,
                  read: sa.Engine | None = None, batch: int = 2000) -> int:  # fmt: skip
    """Delete up to ``batch`` of ``table``'s rows written before ``before`` (its ``at``),
    oldest first; how many went. A row's id grows with its ``at`` (rows are written as
    they come), so only the ``batch`` first rows by primary key are looked at, never the
    whole table (it has no index on ``at``; a table of hundreds of millions of rows is
    read a batch's worth), and a table with nothing old is only read (on ``read``, a
    connection that takes no write lock): its first row is found recent. One small
    transaction, so heartbeats wait for nothing long; called again until it answers 0."""
    oldest = sa.select(table.c.at).order_by(table.c.id).limit(1)
    with (read or engine).connect() as conn:
        first = _aware(conn.execute(oldest).scalar())
    if first is None or first >= before:
        return 0
    ids = sa.select(table.c.id).order_by(table.c.id).limit(batch).scalar_subquery()
    with engine.begin() as conn:
        return conn.execute(table.delete().where(table.c.id.in_(ids), table.c.at < before)).rowcount

