"""Rotating the platform key (``central key new | reseal | retire``).

The key seals terminal secrets, submission bodies and photos of record, and names
applicants and photo files by a keyed hash (central/sealing.py). A key that may have been
seen (a copied backup, a technician who left) is replaced in three steps, each safe to
run again:

1. ``central key new``: a new key first in the key file, the old one kept after it (or,
   with ``CENTRAL_SECRET_KEY``, the value to set: ``NEW,OLD``). Restart every server of the
   platform on it: they then seal under the new key and still open everything.
2. ``central key reseal``: every terminal secret, submission and photo sealed again under
   the new key, applicants and photos named by its hash, a chunk of rows a transaction
   (the platform keeps serving meanwhile: a citizen's applications are found by the hashes
   of every key). On SQLite the rewritten pages are zeroed (``secure_delete``), not left
   readable in free pages or the write-ahead log.
3. ``central key retire``: once nothing needs the older keys (it looks at everything again
   first, and refuses otherwise), they are dropped from the key file (or the value to set
   is told). Backups taken before step 2 open only with the old key: keep that key with
   them, offline, or destroy them.

Nothing here prints or logs a key: keys are told apart by their fingerprint
(``sealing.fingerprint``), which tells nothing of them.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from central import photos
from central import tables as t
from central.sealing import ENV, SealError, SecretBox, fingerprint, keep_owner, key_file, load_keys
from central.store import Store, applicant_of, open_body, sealed_body

CHUNK = 500  # rows a transaction: the platform's own writes wait milliseconds, not minutes


@dataclass
class Survey:
    """What is sealed under an older key (or named by its hash), per kind; after a reseal,
    how many of those were sealed again."""

    terminals: int = 0
    submissions: int = 0
    photos: int = 0
    photos_needing_number: int = 0  # gcm1 photos: sealed again on their next read
    unopenable: Counter[str] = field(default_factory=Counter)  # kind → rows no key opens
    wal_left: bool = False  # SQLite: readers kept the write-ahead log from being emptied

    def lines(self, done: str) -> list[str]:
        out = [f"terminal secrets {done}: {self.terminals}",
               f"submissions {done}: {self.submissions}",
               f"photos of record {done}: {self.photos}"]  # fmt: skip
        if self.photos_needing_number:
            out.append(f"photos of record sealed by an earlier version: {self.photos_needing_number}"
                       " (each is sealed again when its citizen's face is next compared)")  # fmt: skip
        if self.wal_left:
            out.append("the write-ahead log still holds old pages (readers were busy): they are "
                       "overwritten as the platform writes, or run `central key reseal` again")  # fmt: skip
        for kind, n in self.unopenable.items():
            out.append(f"{kind} that no key opens: {n} (sealed under a key already retired?)")
        return out


def new_key(data_dir: Path, env: Mapping[str, str] = os.environ) -> tuple[str, str | None]:
    """Step 1: a new sealing key before the present ones. (What to tell the technician, the
    value for ``CENTRAL_SECRET_KEY`` when the keys come from it, else None: the key file in
    ``data_dir`` was rewritten.)"""
    keys = load_keys(data_dir, env)
    new = secrets.token_bytes(32)
    ring = [new, *keys]
    if env.get(ENV, "").strip():
        value = ",".join(k.hex() for k in ring)
        return (f"new sealing key {fingerprint(new)}; set {ENV} to the value below on every "
                "server of the platform and restart them all, then run `central key reseal`",
                value)  # fmt: skip
    _write_keys(key_file(data_dir), ring)
    return (f"new sealing key {fingerprint(new)} written first in {key_file(data_dir)} (the "
            f"{len(keys)} before it kept to open what they sealed); restart the platform, "
            "then run `central key reseal`", None)  # fmt: skip


def reseal(store: Store, data_dir: Path, fix: bool = True) -> Survey:
    """Step 2 (``fix``), or only a look at what step 2 would do (not ``fix``)."""
    box = store.box
    if box is None:
        raise RuntimeError("Store needs a SecretBox to reseal")
    survey = Survey()
    survey.terminals = _terminals(store.engine, box, fix, survey)
    survey.submissions = _submissions(store.engine, box, fix, survey)
    found = photos.reseal(data_dir, box, fix=fix)
    survey.photos, survey.photos_needing_number = found.resealed, found.needs_number
    if found.unopenable:
        survey.unopenable["photos of record"] = found.unopenable
    if fix and store.engine.dialect.name == "sqlite":
        survey.wal_left = not _checkpoint(store.engine)
    return survey


def retire(store: Store, data_dir: Path, env: Mapping[str, str] = os.environ,
           force: bool = False) -> str:  # fmt: skip
    """Step 3: the older keys dropped, once nothing needs them.

    ``force``: drop them although photos sealed by an earlier version are left (they will
    not open again: add them anew with ``central photos add``).

    :raises SealError: only one key, or something still needs an older one.
    """
    box = store.box
    if box is None or len(box.keys) < 2:
        raise SealError("there is no older key to retire")
    survey = reseal(store, data_dir, fix=False)
    # what no key opens is lost already: it does not hold the older keys back (it is told)
    blocking = survey.terminals + survey.submissions + survey.photos
    if blocking or (survey.photos_needing_number and not force):
        raise SealError("older keys still needed: run `central key reseal` first; "
                        + "; ".join(survey.lines("still under an older key")))  # fmt: skip
    kept = box.keys[0]
    gone = ", ".join(fingerprint(k) for k in box.keys[1:])
    after = (f"backups taken before `central key reseal` open only with {gone}: keep it with "
             "them, offline, or destroy them")  # fmt: skip
    lost = [line for line in survey.lines("") if "no key opens" in line]
    if lost:
        after += "; " + "; ".join(lost)
    with store.engine.connect() as conn:  # their keyed hashes cannot be made again
        lookups = conn.execute(sa.select(sa.func.count()).select_from(t.personal_lookups)).scalar()
    if lookups:
        after += (f"; the {lookups} personal-data lookups kept so far name each citizen by a "
                  f"hash under the key of their day: those from before the new key are no "
                  f"longer found by ID number on the dashboard's lookups page (they still count "
                  f"for their terminal, until their keeping time ends)")  # fmt: skip
    if env.get(ENV, "").strip():
        return (
            f"nothing needs {gone} any more: set {ENV} to its first key alone "
            f"({fingerprint(kept)}) on every server and restart them; {after}"
        )
    _write_keys(key_file(data_dir), [kept])
    return f"retired {gone}: {key_file(data_dir)} holds {fingerprint(kept)} alone; {after}"


def _terminals(engine: sa.Engine, box: SecretBox, fix: bool, survey: Survey) -> int:
    current, changed, after = box.current(), 0, ""
    while True:
        with engine.begin() as conn:
            _secure(conn)
            rows = conn.execute(sa.select(t.terminals.c.id, t.terminals.c.secret)
                                .where(t.terminals.c.id > after)
                                .order_by(t.terminals.c.id).limit(CHUNK)).all()  # fmt: skip
            if not rows:
                return changed
            after = rows[-1].id
            updates = []
            for r in rows:
                try:
                    current.open(r.secret, r.id)
                    continue
                except SealError:
                    pass
                try:
                    secret = box.open(r.secret, r.id)
                except SealError:
                    survey.unopenable["terminal secrets"] += 1
                    continue
                changed += 1
                updates.append({"b_id": r.id, "b_secret": box.seal(secret, r.id)})
            if fix and updates:
                conn.execute(t.terminals.update()
                             .where(t.terminals.c.id == sa.bindparam("b_id"))
                             .values(secret=sa.bindparam("b_secret")), updates)  # fmt: skip


def _submissions(engine: sa.Engine, box: SecretBox, fix: bool, survey: Survey) -> int:
    current, changed, after = box.current(), 0, 0
    s = t.submissions
    while True:
        with engine.begin() as conn:
            _secure(conn)
            rows = conn.execute(sa.select(s.c.id, s.c.key, s.c.body, s.c.applicant)
                                .where(s.c.id > after).order_by(s.c.id).limit(CHUNK)).all()  # fmt: skip
            if not rows:
                return changed
            after = rows[-1].id
            updates = []
            for r in rows:
                kept = r.body if isinstance(r.body, dict) else json.loads(r.body)
                try:
                    body = open_body(current, r.key, kept)
                    if "sealed" in kept and r.applicant == applicant_of(current, body):
                        continue  # sealed under the new key and found by its hash
                except SealError:
                    try:
                        body = open_body(box, r.key, kept)
                    except SealError:
                        survey.unopenable["submissions"] += 1
                        continue
                changed += 1
                sealed, applicant = sealed_body(current, r.key, body)
                updates.append({"b_id": r.id, "b_body": sealed, "b_applicant": applicant})
            if fix and updates:
                conn.execute(s.update().where(s.c.id == sa.bindparam("b_id"))
                             .values(body=sa.bindparam("b_body"),
                                     applicant=sa.bindparam("b_applicant")), updates)  # fmt: skip


def _checkpoint(engine: sa.Engine) -> bool:
    """SQLite: the write-ahead log copied into the file and emptied (what it held of the
    old pages gone with it); False when readers kept it (it is then reused as it fills)."""
    raw = engine.raw_connection()  # outside any transaction: a checkpoint cannot run in one
    try:
        busy, _, _ = raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        raw.close()
    return busy == 0


def _secure(conn: sa.Connection) -> None:
    if conn.dialect.name == "sqlite":  # what is rewritten is zeroed, not left in free pages
        conn.exec_driver_sql("PRAGMA secure_delete = ON")


def _write_keys(path: Path, keys: list[bytes]) -> None:
    """The key file, whole or not at all (a sibling fsynced and renamed over it), 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # 0600
    keep_owner(fd, path)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write("# the first key seals; every key opens (central/keys.py)\n")
            fh.write("".join(k.hex() + "\n" for k in keys))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
