"""The durable outbox: submissions on disk, encrypted, until the platform acknowledges them.

``put`` commits (SQLite WAL, ``synchronous=FULL``: fsync before it returns)
before the citizen is told anything. ``drain`` sends queued submissions in
order with their own keys, so a replay after a lost answer is stored once.
Each body is sealed with AES-GCM under a key kept in a file only the kiosk's
user can read; the submission key is the associated data, so a body cannot be
moved to another row. The decision logic lives in ``outbox_actions`` (pure).

One connection serves the outbox's lifetime (any thread, one call at a time).
Only ``put`` must reach the disk before it returns; an acknowledgement is
committed without its own fsync (WAL, ``synchronous=NORMAL``): lost in a power
cut, the entry is sent again and the platform answers the stored outcome, as it
does any replay under the same key.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import os
import random
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from client.outbox_actions import (
    DEAD,
    QUEUED,
    REJECTED,
    Entry,
    GiveUp,
    Send,
    determine_actions,
    next_wake,
    retry_at,
)
from kiosk.errors import (
    OutboxError,
    PlatformAuthError,
    PlatformError,
    PlatformRejected,
    UnreadableEntry,
)
from kiosk.health import Health
from kiosk.outcomes import MatterOutcome, Outcome, OutcomeKind, Submission
from kiosk.query import slip_number

log = logging.getLogger("client.outbox")

# a submission not delivered this long is worth a look (the platform away so long, or a fault)
STUCK_AFTER = 3600.0
# a citizen's submission is not tried while the platform was out of reach this recently
# (a pending slip at once); after that it is tried once again, as the queue's next round is
AWAY_FOR = 60.0
LINKS_KEPT = 180 * 24 * 3600.0  # seconds a slip's local number stays linked to its acceptance number
SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    local_number TEXT NOT NULL,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'queued',
    last_error TEXT NOT NULL DEFAULT '',
    nonce BLOB NOT NULL,
    sealed BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS links (  -- kept LINKS_KEPT seconds
    local_number TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    acceptance_number TEXT NOT NULL,
    kind TEXT NOT NULL,
    linked_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class DrainReport:
    sent: int = 0
    failed: int = 0
    given_up: int = 0


def load_key(key_file: Path) -> bytes:
    """The outbox key, created (32 random bytes, mode 0600) on first use.

    :raises OutboxError: unreadable, the wrong size, or readable by others.
    """
    key_file = Path(key_file)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as fh:
            fh.write(AESGCM.generate_key(bit_length=256))
            fh.flush()
            os.fsync(fh.fileno())
    try:
        mode = key_file.stat().st_mode
        key = key_file.read_bytes()
    except OSError as err:
        raise OutboxError(f"outbox key file unreadable: {err}") from err
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise OutboxError(
            f"outbox key file {key_file} is open to others (mode {oct(mode & 0o777)})"
        )
    if len(key) != 32:
        raise OutboxError(f"outbox key file {key_file} is not a 256-bit key")
    return key


class Outbox:
    """Queued submissions in one SQLite file at ``path``, sealed with the key in ``key_file``.

    Blocking methods are quick (one small transaction each); call them from
    a worker thread (``asyncio.to_thread``) on the UI loop.
    """

    def __init__(self, path: Path, key_file: Path, terminal_id: str = "") -> None:
        self.path = Path(path)
        self.terminal_id = terminal_id
        self._aead = AESGCM(load_key(key_file))
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._unreachable_at: float | None = None  # monotonic: the platform last out of reach
        # keys being sent right now, by the kiosk's own try (a citizen waiting on it) or by
        # the queue: never both at once (see claim)
        self._claimed: set[str] = set()
        with self._db() as db:
            db.executescript(SCHEMA)

    @contextlib.contextmanager
    def _db(self, fsync: bool = True) -> Iterator[sqlite3.Connection]:
        """The outbox's connection, for one call; ``fsync=False``: its commit may be lost
        in a power cut (and only that: the file stays consistent)."""
        with self._lock:
            if self._conn is None:
                try:
                    db = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                         check_same_thread=False)  # fmt: skip
                    db.execute("PRAGMA journal_mode=WAL")
                    db.execute("PRAGMA synchronous=FULL")
                except sqlite3.Error as err:
                    raise OutboxError(f"outbox unavailable: {err}") from err
                self._conn = db
            db = self._conn
            try:
                if not fsync:
                    db.execute("PRAGMA synchronous=NORMAL")
                yield db
                if not fsync:
                    db.execute("PRAGMA synchronous=FULL")
            except BaseException as err:
                self._conn = None  # whatever state it is in, the next call starts afresh
                with contextlib.suppress(sqlite3.Error):
                    db.close()
                if isinstance(err, sqlite3.Error):
                    raise OutboxError(f"outbox: {err}") from err
                raise

    # -- writing ------------------------------------------------------------------

    def put(self, submission: Submission) -> Submission:
        """Keep ``submission`` durably (on disk when this returns) and give it a local number.

        Returns the submission stamped with its local number (收件凭证); putting
        the same key again returns the one kept under it (the same body, sent again)
        without a second entry.

        :raises OutboxError: the disk refused the write, or the key file is unusable.
        """
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT id FROM entries WHERE key = ?", (submission.key,)).fetchone()
            if row is None:
                return self._add(db, submission)
            db.execute("ROLLBACK")
        return self.submission(row[0])  # (its own call: the connection is one at a time)

    def _add(self, db: sqlite3.Connection, submission: Submission) -> Submission:
        """``submission`` as a new entry, numbered, in the transaction ``put`` began."""
        db.execute("INSERT OR IGNORE INTO counters VALUES ('local', 0)")
        db.execute("UPDATE counters SET value = value + 1 WHERE name = 'local'")
        seq = db.execute("SELECT value FROM counters WHERE name = 'local'").fetchone()[0]
        stamped = replace(
            submission, local_number=slip_number(self.terminal_id or submission.terminal_id, seq)
        )
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(
            nonce, json.dumps(stamped.to_dict()).encode(), stamped.key.encode()
        )
        db.execute(
            "INSERT INTO entries (key, local_number, created_at, nonce, sealed) VALUES (?, ?, ?, ?, ?)",
            (stamped.key, stamped.local_number, time.time(), nonce, sealed),
        )
        db.execute("COMMIT")  # synchronous=FULL: the WAL is fsynced here
        return stamped

    def entries(self) -> list[Entry]:
        with self._db() as db:
            rows = db.execute(
                "SELECT id, key, local_number, created_at, attempts, next_attempt_at, state, last_error"
                " FROM entries ORDER BY id"
            ).fetchall()
        return [Entry(*r) for r in rows]

    def submission(self, entry_id: int) -> Submission:
        """The decrypted submission of one entry.

        :raises OutboxError: no such entry, or it does not decrypt (wrong key, tampered).
        """
        with self._db() as db:
            row = db.execute(
                "SELECT key, nonce, sealed FROM entries WHERE id = ?", (entry_id,)
            ).fetchone()
        if row is None:
            raise OutboxError(f"no outbox entry {entry_id}")
        try:
            plain = self._aead.decrypt(row[1], row[2], row[0].encode())
        except InvalidTag as err:
            raise OutboxError(f"outbox entry {entry_id} does not decrypt") from err
        try:
            return Submission.from_dict(json.loads(plain))
        except (ValueError, KeyError, TypeError, AttributeError) as err:  # (no value in the message)
            raise UnreadableEntry(
                f"outbox entry {entry_id} is not a submission this version reads ({type(err).__name__})"
            ) from None

    def acknowledge(self, entry_id: int, outcome: Outcome) -> None:
        """The platform has it: forget the body, remember which number it became."""
        with self._db(fsync=False) as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute(
                "SELECT key, local_number FROM entries WHERE id = ?", (entry_id,)
            ).fetchone()
            if row is not None:
                now = time.time()
                db.execute(
                    "INSERT OR REPLACE INTO links VALUES (?, ?, ?, ?, ?)",
                    (row[1], row[0], outcome.acceptance_number, outcome.kind.value, now),
                )
                db.execute("DELETE FROM entries WHERE id = ?", (entry_id,))
                # a slip's number is looked up for weeks, not for ever: the table stays small
                db.execute("DELETE FROM links WHERE linked_at < ?", (now - LINKS_KEPT,))
            db.execute("COMMIT")

    def claim(self, key: str) -> bool:
        """Take the submission under ``key`` to send it; False while someone else sends it.

        The kiosk's own try (its citizen waiting at the screen: a refusal is theirs to put
        right there) and the queue's (its citizen gone with a pending slip: a refusal
        comes back a correction notice, ``ON_SLIP``) never send one submission at once,
        or the one would store the notice the other's citizen never sees. In memory, on
        the event loop: the kiosk is one process, and after a restart nobody waits."""
        if key in self._claimed:
            return False
        self._claimed.add(key)
        return True

    def unclaim(self, key: str) -> None:
        self._claimed.discard(key)

    def failed(self, entry_id: int, error: str, now: float) -> None:
        with self._db(fsync=False) as db:  # lost: it is retried a little sooner
            db.execute(
                "UPDATE entries SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?"
                " WHERE id = ?",
                (
                    error,
                    0
                    if error == REJECTED
                    else retry_at(self._attempts(db, entry_id) + 1, now, random.random()),
                    entry_id,
                ),
            )

    def _attempts(self, db: sqlite3.Connection, entry_id: int) -> int:
        row = db.execute("SELECT attempts FROM entries WHERE id = ?", (entry_id,)).fetchone()
        return row[0] if row else 0

    def give_up(self, entry_id: int, reason: str) -> None:
        """Set aside (kept encrypted for a technician; no longer sent)."""
        with self._db() as db:
            db.execute(
                "UPDATE entries SET state = ?, last_error = ? WHERE id = ?",
                (DEAD, reason, entry_id),
            )

    def linked(self, local_number: str) -> str | None:
        """The acceptance number a pending slip's local number became, once known."""
        with self._db() as db:
            row = db.execute(
                "SELECT acceptance_number FROM links WHERE local_number = ?", (local_number,)
            ).fetchone()
        return row[0] if row else None

    def entry_id(self, key: str) -> int | None:
        with self._db() as db:
            row = db.execute("SELECT id FROM entries WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def remove(self, entry_id: int) -> None:
        """Drop an entry the platform refused while the citizen was still at the kiosk."""
        with self._db() as db:
            db.execute("DELETE FROM entries WHERE id = ?", (entry_id,))

    def pending(self) -> int:
        return sum(1 for e in self.entries() if e.state == QUEUED)

    def reached(self, ok: bool) -> None:
        """Whether a send reached the platform (an answer, even a refusal) or not (no
        answer, a 5xx, garbage): ``platform_away`` goes by the latest."""
        self._unreachable_at = None if ok else time.monotonic()

    def platform_away(self, within: float = AWAY_FOR) -> bool:
        """The platform was out of reach at the last send, within ``within`` seconds."""
        at = self._unreachable_at
        return at is not None and time.monotonic() - at < within

    def health(self, now: float | None = None) -> Health:
        """The queue as a technician and the hall's dashboard judge it, in counts only:
        a fault while a submission is set aside unsent (its citizen holds a slip the
        platform will never link) or waits on a platform that refuses this terminal;
        degraded while one has waited longer than STUCK_AFTER; else ok."""
        now = time.time() if now is None else now
        entries = self.entries()
        queued = [e for e in entries if e.state == QUEUED]
        aside = [e for e in entries if e.state == DEAD]
        details = {"queued": str(len(queued)), "set_aside": str(len(aside))}
        if aside:
            why = collections.Counter(e.last_error or "unknown" for e in aside)
            return Health.fault("outbox", (
                f"{len(aside)} submission(s) set aside unsent ("
                + ", ".join(f"{reason}: {n}" for reason, n in sorted(why.items()))
                + "); their citizens hold pending slips: see `kiosk outbox`"), **details)  # fmt: skip
        refused = sum(1 for e in queued if e.last_error == "auth")
        if refused:
            return Health.fault("outbox", f"{refused} submission(s) waiting: the platform refuses "
                                "this terminal (its clock? its enrolment?)", **details)  # fmt: skip
        oldest = min((e.created_at for e in queued), default=now)
        if now - oldest > STUCK_AFTER:
            # in whole hours: the reason is kept with the terminal's history when it changes
            hours = int((now - oldest) // 3600)
            return Health.degraded("outbox", f"{len(queued)} submission(s) not yet delivered, the "
                                   f"oldest for over {hours} h", **details)  # fmt: skip
        return Health.good("outbox", **details)

    def adopt(self, terminal_id: str) -> int:
        """Re-enrolled (a new terminal id): what waits, kept under the old id, goes as this
        terminal's, due at once; how many. (Under the old id the platform refused each
        ``auth.terminal_mismatch``, for as long as the month lasted, while the dashboard
        showed the terminal healthy.) The citizens' slip numbers stay as printed."""
        moved = 0
        for e in self.entries():
            if e.state != QUEUED:
                continue
            try:
                sub = self.submission(e.id)
            except UnreadableEntry as err:  # (an older version's): set aside, as the drain does
                log.error("outbox: %s: set aside for a technician", err)
                self.give_up(e.id, "unreadable")
                continue
            except OutboxError as err:  # it does not decrypt: left for the drain to report
                log.error("outbox: %s", err)
                continue
            if sub.terminal_id == terminal_id:
                continue
            nonce = os.urandom(12)
            sealed = self._aead.encrypt(
                nonce, json.dumps(replace(sub, terminal_id=terminal_id).to_dict()).encode(), sub.key.encode()
            )
            with self._db() as db:
                db.execute("UPDATE entries SET nonce = ?, sealed = ?, last_error = '', next_attempt_at = 0"
                           " WHERE id = ?", (nonce, sealed, e.id))  # fmt: skip
            moved += 1
        if moved:
            log.info("outbox: %d waiting submission(s) now go as terminal %s", moved, terminal_id)
        return moved

    def resend_set_aside(self) -> int:
        """Queue again what was set aside (once the cause is put right: the catalog, the
        clock, the enrolment), to be sent at once; how many."""
        with self._db() as db:
            # its month counts afresh (a month-old one was set aside again at once)
            cur = db.execute(
                "UPDATE entries SET state = ?, last_error = '', attempts = 0, next_attempt_at = 0,"
                " created_at = ? WHERE state = ?",
                (QUEUED, time.time(), DEAD),
            )
            return cur.rowcount

    def set_aside(self) -> list[tuple[str, str]]:
        """What was set aside: (slip number, why) each, as the slips were printed (the
        numbers are no personal data: the hall finds the citizen's application by them)."""
        return [(e.local_number, e.last_error or "unknown") for e in self.entries() if e.state == DEAD]

    def discard_set_aside(self) -> int:
        """Forget what was set aside, once the hall has dealt with each by hand; how many
        (their slip numbers are logged, a record that they were)."""
        gone = self.set_aside()
        with self._db() as db:
            n = db.execute("DELETE FROM entries WHERE state = ?", (DEAD,)).rowcount
        if gone:
            log.warning("outbox: discarded, set aside unsent: %s",
                        ", ".join(f"{number} ({why})" for number, why in gone))  # fmt: skip
        return n

    # -- sending --------------------------------------------------------------------

    async def drain(self, client, now: float | None = None, window: int = 8) -> DrainReport:
        """One round: send what is due, oldest first, through ``client`` (a PlatformClient).

        Up to ``window`` submissions are in flight at once (the platform stores a
        hall's backlog in shared transactions, each citizen's row still fsynced before
        it answers). After a transport failure nothing more is started (the next
        entries would fail too); what is in flight finishes. Never raises a
        PlatformError; an OutboxError means the disk failed.
        """
        now = time.time() if now is None else now
        entries = await asyncio.to_thread(self.entries)
        counts = {"sent": 0, "failed": 0, "given_up": 0}
        stopped = False
        slots = asyncio.Semaphore(max(1, window))

        keys = {e.id: e.key for e in entries}

        async def send(entry_id: int) -> None:
            nonlocal stopped
            try:
                try:
                    sub = await asyncio.to_thread(self.submission, entry_id)
                except UnreadableEntry as err:  # (an older version's body): set aside, kept
                    log.error("outbox: %s: set aside for a technician", err)
                    await asyncio.to_thread(self.give_up, entry_id, "unreadable")
                    counts["given_up"] += 1
                    return
                try:
                    # its citizen left with a pending slip (or the kiosk stopped before they
                    # heard): nobody is there to put right what the platform's rules refuse
                    outcome = await client.submit(sub, on_slip=True)
                except PlatformAuthError as err:  # an untrusted terminal: nothing goes through
                    self.reached(True)
                    log.error("outbox: platform refuses this terminal (%s)", err.message_key)
                    stopped = True
                    await asyncio.to_thread(self.failed, entry_id, "auth", now)
                    counts["failed"] += 1
                    return
                except PlatformRejected as err:
                    self.reached(True)
                    log.error("outbox: entry %d refused for good (%s)", entry_id, err.message_key)
                    await asyncio.to_thread(self.failed, entry_id, REJECTED, now)
                    counts["failed"] += 1
                    return
                except PlatformError as err:
                    self.reached(False)
                    log.info("outbox: entry %d not sent (%s)", entry_id, type(err).__name__)
                    stopped = True
                    await asyncio.to_thread(self.failed, entry_id, type(err).__name__, now)
                    counts["failed"] += 1
                    return
                except Exception as err:  # noqa: BLE001 - one entry's surprise stops no queue
                    # tried again later, as after a network fault; by its type only (its
                    # words may quote the citizen's data)
                    log.error("outbox: entry %d not sent (unexpected %s)", entry_id, type(err).__name__)
                    await asyncio.to_thread(self.failed, entry_id, type(err).__name__, now)
                    counts["failed"] += 1
                    return
                self.reached(True)
                await asyncio.to_thread(self.acknowledge, entry_id, outcome)
                counts["sent"] += 1
            finally:
                self.unclaim(keys[entry_id])
                slots.release()

        in_flight: list[asyncio.Task] = []
        try:
            for action in determine_actions(entries, now):
                if isinstance(action, GiveUp):
                    await asyncio.to_thread(self.give_up, action.entry_id, action.reason)
                    counts["given_up"] += 1
                    continue
                assert isinstance(action, Send)
                await slots.acquire()
                # a citizen waiting on the kiosk's own try of it: the next round's (and
                # nothing overtakes it meanwhile)
                if stopped or not self.claim(keys[action.entry_id]):
                    slots.release()
                    break
                in_flight.append(asyncio.create_task(send(action.entry_id)))
        finally:
            # every send finishes (a disk failure of one is raised after the others)
            results = await asyncio.gather(*in_flight, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return DrainReport(counts["sent"], counts["failed"], counts["given_up"])

    async def run(self, client, stop: asyncio.Event, interval: float = 5.0) -> None:
        """Drain until ``stop`` is set: every ``interval`` seconds, or sooner when an entry is due."""
        while not stop.is_set():
            try:
                await self.drain(client)
            except OutboxError:
                log.exception("outbox: disk failure while draining")
            except Exception as err:  # noqa: BLE001 - the loop outlives any one round
                log.error("outbox: a round of sending failed (%s); going on", type(err).__name__)
            now = time.time()
            try:
                wake = next_wake(await asyncio.to_thread(self.entries), now)
            except Exception as err:  # noqa: BLE001 - (the disk): the next round tries again
                log.error("outbox: the queue could not be read (%s)", type(err).__name__)
                wake = None
            delay = interval if wake is None else min(interval, max(0.05, wake - now))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)


def pending_outcome(sub: Submission) -> Outcome:
    """The pending slip (收件凭证) for a submission queued while the platform was unreachable."""
    return Outcome(
        kind=OutcomeKind.PENDING,
        submission_key=sub.key,
        accepting_point=sub.accepting_point,
        local_number=sub.local_number,
        # what was handed in, so the slip lists it (names and authorities come from the catalog)
        matters=tuple(MatterOutcome(code, code, "") for code in sub.matters),
        delivery=sub.delivery,
        deferred=sub.deferred,
    )
