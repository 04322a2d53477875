"""Diagnostics bundles on the platform: asked for on the dashboard, uploaded by the terminal,
downloaded by a technician or an administrator.

A request is a row in state "requested"; the terminal learns of it in its heartbeat
reply, builds the zip (kiosk.diagnostics) and uploads it against the request, which
becomes "uploaded". A technician at the terminal may also upload one unasked. Each
upload is scanned again here (kiosk.privacy): a zip holding personal data is refused.
Blocking functions (SQLAlchemy Core), called in worker threads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from central import tables as t
from central.dashboard.data import HallError
from central.errors import ApiError
from kiosk import privacy
from kiosk.diagnostics import MAX_BUNDLE

KEEP = 20  # bundles kept per terminal; older uploads are deleted
OPEN_FOR = dt.timedelta(days=7)  # a request the terminal never answered stops being asked


def _in_scope(column, scope: Sequence[str] | None):
    return sa.true() if scope is None else column.in_(list(scope))


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=dt.UTC)


def request_bundle(engine: sa.Engine, terminal_id: str, by: str, scope: Sequence[str] | None,
                   now: dt.datetime) -> int:  # fmt: skip
    """Ask ``terminal_id`` for a bundle (one open request per terminal); the request's id.

    :raises ApiError: 404 no such terminal in scope.
    """
    d, term = t.diagnostics_bundles, t.terminals
    with engine.begin() as conn:
        point = conn.execute(sa.select(term.c.service_point).where(
            term.c.id == terminal_id, term.c.revoked_at.is_(None),
            _in_scope(term.c.service_point, scope))).scalar()  # fmt: skip
        if point is None:
            raise ApiError(404, "request.not_found", "terminal")
        open_id = conn.execute(sa.select(d.c.id).where(
            d.c.terminal_id == terminal_id, d.c.state == "requested",
            d.c.requested_at >= now - OPEN_FOR)).scalar()  # fmt: skip
        if open_id is not None:
            return int(open_id)
        return int(conn.execute(d.insert().values(
            terminal_id=terminal_id, service_point=point, state="requested", requested_by=by,
            requested_at=now).returning(d.c.id)).scalar_one())  # fmt: skip


def open_requests(engine: sa.Engine, terminal_id: str, now: dt.datetime) -> list[int]:
    """The requests ``terminal_id`` has yet to answer (its heartbeat reply carries them)."""
    d = t.diagnostics_bundles
    with engine.connect() as conn:
        return [int(i) for i in conn.execute(sa.select(d.c.id).where(
            d.c.terminal_id == terminal_id, d.c.state == "requested",
            d.c.requested_at >= now - OPEN_FOR).order_by(d.c.id)).scalars()]  # fmt: skip


def check_bundle(content: bytes) -> None:
    """:raises ApiError: 413 too big, or unpacking to too much (a zip bomb); 400 not a zip;
    422 personal data found in it."""
    if len(content) > MAX_BUNDLE:
        raise ApiError(413, "request.too_large")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            # what it unpacks to, before anything is unpacked (testzip reads every member)
            if sum(i.file_size for i in zf.infolist()) > privacy.MAX_UNPACKED:
                raise ApiError(413, "request.too_large", "bundle")
            if zf.testzip() is not None or "manifest.json" not in zf.namelist():
                raise ApiError(400, "request.wrong_type", "bundle")
        found = privacy.scan_bundle(content)
    except zipfile.BadZipFile:
        raise ApiError(400, "request.wrong_type", "bundle") from None
    except privacy.BundleTooLarge:  # a zip inside that unpacks to too much, or nests deeper
        raise ApiError(413, "request.too_large", "bundle") from None
    if found:
        raise HallError(422, "diagnostics.personal_data", found[0].member[:64],
                       details=[str(f) for f in found[:10]])  # fmt: skip


def store_upload(engine: sa.Engine, terminal_id: str, request_id: int | None, content: bytes,
                 now: dt.datetime) -> int:  # fmt: skip
    """Keep an uploaded bundle (checked by ``check_bundle`` first); its id.

    :raises ApiError: 404 no such request of this terminal; 409 already answered.
    """
    d = t.diagnostics_bundles
    values = {"state": "uploaded", "uploaded_at": now, "size": len(content),
              "sha256": hashlib.sha256(content).hexdigest(), "content": content}  # fmt: skip
    with engine.begin() as conn:
        if request_id is None:
            point = conn.execute(sa.select(t.terminals.c.service_point)
                                 .where(t.terminals.c.id == terminal_id)).scalar()  # fmt: skip
            if point is None:
                raise ApiError(401, "auth.unknown_terminal")
            bundle_id = int(conn.execute(d.insert().values(
                terminal_id=terminal_id, service_point=point, requested_by="",
                requested_at=now, **values).returning(d.c.id)).scalar_one())  # fmt: skip
        else:
            row = conn.execute(sa.select(d.c.state).where(
                d.c.id == request_id, d.c.terminal_id == terminal_id)).first()  # fmt: skip
            if row is None:
                raise ApiError(404, "request.not_found", "request")
            done = conn.execute(d.update().where(d.c.id == request_id, d.c.state == "requested")
                                .values(**values))  # fmt: skip
            if done.rowcount != 1:
                raise HallError(409, "diagnostics.already_uploaded", "request")
            bundle_id = request_id
        old = conn.execute(sa.select(d.c.id).where(d.c.terminal_id == terminal_id,
                                                   d.c.state == "uploaded")
                           .order_by(d.c.id.desc()).offset(KEEP)).scalars().all()  # fmt: skip
        if old:
            conn.execute(d.delete().where(d.c.id.in_(old)))
    return bundle_id


REFUSED = {422: "refused:personal", 413: "refused:size", 400: "refused:broken"}  # by status
# what a terminal says when its own scan stops the bundle before it is sent
TERMINAL_REFUSED = {"personal": "refused:personal", "size": "refused:size"}


def refuse_request(engine: sa.Engine, terminal_id: str, request_id: int, state: str) -> int:
    """The bundle a terminal sent for ``request_id`` was refused (personal data found in
    it, too big, not a bundle: REFUSED by the answer's status), or the terminal refused to
    send it (TERMINAL_REFUSED): the request says so (``state``), rather than wait, then
    expire. How many (0 or 1)."""
    d = t.diagnostics_bundles
    with engine.begin() as conn:
        return conn.execute(d.update().where(d.c.id == request_id, d.c.terminal_id == terminal_id,
                                             d.c.state == "requested")
                            .values(state=state, uploaded_at=_now())).rowcount  # fmt: skip


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def bundles(engine: sa.Engine, scope: Sequence[str] | None, terminal: str = "",
            limit: int = 200) -> list[dict[str, Any]]:  # fmt: skip
    """Requests and uploads in scope, newest first (without their content); ``expired``: a
    request the terminal no longer hears."""
    d = t.diagnostics_bundles
    q = sa.select(d.c.id, d.c.terminal_id, d.c.service_point, d.c.state, d.c.requested_by,
                  d.c.requested_at, d.c.uploaded_at, d.c.size, d.c.sha256).where(
        _in_scope(d.c.service_point, scope))  # fmt: skip
    if terminal:
        q = q.where(d.c.terminal_id == terminal)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q.order_by(d.c.id.desc()).limit(limit))]
    now = dt.datetime.now(dt.UTC)
    for r in rows:
        r["requested_at"], r["uploaded_at"] = _aware(r["requested_at"]), _aware(r["uploaded_at"])
        # a request past OPEN_FOR is no longer asked at the terminal's heartbeats
        r["expired"] = r["state"] == "requested" and r["requested_at"] < now - OPEN_FOR
    return rows


def content(engine: sa.Engine, bundle_id: int, scope: Sequence[str] | None) -> tuple[dict, bytes]:
    """An uploaded bundle's row and bytes.

    :raises ApiError: 404 unknown, not uploaded yet, or out of scope.
    """
    d = t.diagnostics_bundles
    with engine.connect() as conn:
        row = conn.execute(sa.select(d).where(d.c.id == bundle_id, d.c.state == "uploaded",
                                              _in_scope(d.c.service_point, scope))).first()  # fmt: skip
    if row is None or row.content is None:
        raise ApiError(404, "request.not_found", "bundle")
    meta = dict(row._mapping)
    data = bytes(meta.pop("content"))
    meta["uploaded_at"] = _aware(meta["uploaded_at"])
    return meta, data


def terminals_in_scope(engine: sa.Engine, scope: Sequence[str] | None) -> list[tuple[str, str]]:
    """(terminal, service point) of every unrevoked terminal in scope, by point."""
    term = t.terminals
    with engine.connect() as conn:
        return [(r.id, r.service_point) for r in conn.execute(
            sa.select(term.c.id, term.c.service_point).where(
                term.c.revoked_at.is_(None), _in_scope(term.c.service_point, scope))
            .order_by(term.c.service_point, term.c.id))]  # fmt: skip
