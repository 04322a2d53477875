"""The technician's way in, and what the technician screen shows. Pure logic.

How a technician reaches the technician screen, and why a citizen does not:

1. **A corner gesture on the header** (:class:`CornerGesture`): three quick taps
   in the header's top-right corner, then two in its top-left corner, all
   within four seconds. Each tap must be short and still (a press, not a
   drag or a hold) and land in a corner zone of the blue header, where no
   button is (the title and the clock are drawn there). Any other touch
   anywhere, a tap in the wrong corner, or a pause past four seconds starts
   the count again. A citizen tapping at one place, even many times and
   fast (an elderly user tapping the clock because nothing happens), never
   completes it, because the pattern crosses the whole width of the screen
   in a fixed order; a stray tap on a button in between resets it.
2. **A PIN** (:class:`PinLock`, :func:`hash_pin`, :func:`verify_pin`): six to
   twelve digits, configured per terminal and stored only as a salted scrypt
   hash (``kiosk set-pin`` writes ``data_dir/technician-pin``, mode 0600; the
   config's ``technician.pin_hash`` is the fallback for provisioned terminals).
   Five wrong tries lock the pad for five minutes and raise a help request for
   the hall ("technician PIN failures": the terminal, nothing personal); the
   count and the lock-out are kept in ``data_dir/technician-lock.json``, so a
   power cycle does not buy more tries. The
   digits are never shown, only how many were typed.

The gesture only keeps the PIN pad out of a citizen's way: the PIN is the lock.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.errors import DeviceError, ValidationError
from kiosk.files import replace_file

if TYPE_CHECKING:
    from kiosk.config import KioskConfig
    from kiosk.terminal import Terminal

PIN_FILE = "technician-pin"
LOCK_FILE = "technician-lock.json"  # wrong tries and a running lock-out (PinLock)
PIN_LENGTHS = (6, 12)
log = logging.getLogger(__name__)
MAX_TRIES = 5
LOCK_SECONDS = 300.0
HELP_SCREEN = "technician.pin_failures"  # what the hall's dashboard shows for a lock-out
# scrypt's cost: 16 MiB and about 50 ms a try on a kiosk's CPU (RFC 7914 interactive values)
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


# -- the PIN, as a salted hash -----------------------------------------------------------


def check_new_pin(pin: str) -> str:
    """``pin`` if it is a PIN a technician may set: 6 to 12 digits, not one digit repeated
    nor a run like 123456.

    :raises ValidationError: ``technician.pin_rule``.
    """
    low, high = PIN_LENGTHS
    if not (pin.isascii() and pin.isdigit() and low <= len(pin) <= high):
        raise ValidationError(f"a PIN is {low} to {high} digits", message_key="technician.pin_rule")
    steps = {(int(b) - int(a)) % 10 for a, b in zip(pin, pin[1:], strict=False)}
    if steps in ({0}, {1}, {9}):
        raise ValidationError(
            "a PIN must not be one digit or a run", message_key="technician.pin_rule"
        )
    return pin


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64), the only form in which a PIN is kept."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_pin(pin: str, stored: str) -> bool:
    """Whether ``pin`` is the one ``stored`` (from :func:`hash_pin`) was made of. A stored
    value that is not such a hash matches nothing. About 50 ms: call it off the UI thread."""
    try:
        scheme, n, r, p, salt, digest = stored.strip().split("$")
        n_, r_, p_ = int(n), int(r), int(p)
        salt_b, digest_b = (
            base64.b64decode(salt, validate=True),
            base64.b64decode(digest, validate=True),
        )
    except (ValueError, TypeError):
        return False
    if (
        scheme != "scrypt"
        or not (2 <= n_ <= 2**20 and 1 <= r_ <= 32 and 1 <= p_ <= 16)
        or not digest_b
    ):
        return False
    got = hashlib.scrypt(pin.encode(), salt=salt_b, n=n_, r=r_, p=p_, dklen=len(digest_b),
                         maxmem=n_ * r_ * 256 + 1024 * 1024)  # fmt: skip
    return hmac.compare_digest(got, digest_b)


def save_pin(data_dir: Path | str, pin: str) -> Path:
    """Keep the hash of a new PIN in ``data_dir/technician-pin`` (atomically, mode 0600).

    :raises ValidationError: not a PIN a technician may set (see :func:`check_new_pin`).
    """
    stored = hash_pin(check_new_pin(pin))
    path = Path(data_dir) / PIN_FILE
    replace_file(path, stored + "\n")
    return path


def stored_pin(cfg: KioskConfig) -> str:
    """The PIN hash this terminal checks against: the one ``kiosk set-pin`` kept in the
    data dir, else the config's ``technician.pin_hash``; '' when none is set (then the
    technician screen cannot be opened at all). A PIN file other users can read is
    ignored, as a leaked hash can be guessed offline."""
    path = Path(cfg.data_dir) / PIN_FILE
    try:
        if not path.stat().st_mode & 0o077:
            text = path.read_text(encoding="ascii").strip()
            if text:
                return text
    except (OSError, UnicodeDecodeError):
        pass
    return cfg.technician.pin_hash.strip()


# -- wrong tries and the lock-out ----------------------------------------------------------


@dataclass(frozen=True)
class PinAttempt:
    ok: bool
    tries_left: int  # before the lock-out
    locked_for: float  # seconds the pad stays locked (0: not locked)
    just_locked: bool = False  # this try started the lock-out: tell the hall, once


class PinLock:
    """Counts wrong PINs: after ``max_tries`` in a row the pad is locked for
    ``lock_seconds`` (times on a monotonic clock, so changing the clock does not
    unlock it). A right PIN clears the count.

    With a ``path`` (``data_dir/technician-lock.json``, see :meth:`kept_in`) the count
    and the lock-out outlive a restart or a power cycle: each change is written
    atomically, and a new PinLock reads them back. A lock-out read back runs for what
    was left of it less the wall-clock time since it was written, never longer than
    that remainder; a clock that went backwards counts as no time passed. A file that
    cannot be read counts as no wrong tries; one that cannot be written leaves the
    count in memory (the pad still locks until the next restart)."""

    def __init__(self, max_tries: int = MAX_TRIES, lock_seconds: float = LOCK_SECONDS,
                 path: Path | str | None = None, now: float | None = None,
                 wall: Callable[[], float] = time.time):  # fmt: skip
        self.max_tries = max_tries
        self.lock_seconds = lock_seconds
        self.path = Path(path) if path is not None else None
        self._wall = wall
        self.wrong = 0
        self.locked_until = 0.0
        if self.path is not None:
            self._load(time.monotonic() if now is None else now)

    @classmethod
    def kept_in(cls, data_dir: Path | str, **kw) -> PinLock:
        return cls(path=Path(data_dir) / LOCK_FILE, **kw)

    def _load(self, now: float) -> None:
        try:
            kept = json.loads(self.path.read_text(encoding="utf-8"))
            wrong, left, at = int(kept["wrong"]), float(kept["locked_for"]), float(kept["at"])
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError) as err:
            log.warning("technician PIN lock state ignored: %s", str(err)[:200])
            return
        self.wrong = min(max(0, wrong), self.max_tries - 1)
        passed = max(0.0, self._wall() - at)
        left = min(max(0.0, left), self.lock_seconds)
        self.locked_until = now + (left - passed) if left > passed else 0.0

    def _save(self, now: float) -> None:
        if self.path is None:
            return
        kept = {"wrong": self.wrong, "locked_for": self.locked_for(now), "at": self._wall()}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = self.path.with_suffix(".tmp")
            with tmp.open("w", encoding="utf-8") as fh:
                json.dump(kept, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except OSError as err:
            log.warning("technician PIN lock state not kept: %s", err)

    def locked_for(self, now: float) -> float:
        return max(0.0, self.locked_until - now)

    def record(self, ok: bool, now: float) -> PinAttempt:
        """Count one try (already checked against the PIN). A try while locked is not
        checked at all: call :meth:`locked_for` first and refuse it."""
        if self.locked_for(now):
            return PinAttempt(False, 0, self.locked_for(now))
        if ok:
            if self.wrong:
                self.wrong = 0
                self._save(now)
            return PinAttempt(True, self.max_tries, 0.0)
        self.wrong += 1
        if self.wrong >= self.max_tries:
            self.wrong = 0
            self.locked_until = now + self.lock_seconds
            self._save(now)
            return PinAttempt(False, 0, self.lock_seconds, just_locked=True)
        self._save(now)
        return PinAttempt(False, self.max_tries - self.wrong, 0.0)


# -- the gesture ----------------------------------------------------------------------------

PATTERN = ("right", "right", "right", "left", "left")


class CornerGesture:
    """Recognises the technician's taps on the header's corners (see the module's docstring).

    The shell reports every finished touch with :meth:`tap`: which corner zone it
    was in (``"left"``, ``"right"``, or None for anywhere else, or when it began
    and ended in different places), when it went down and up (seconds), and how
    far it moved (the shell's units, compared with ``max_travel``).
    """

    def __init__(self, pattern: Sequence[str] = PATTERN, within: float = 4.0,
                 max_press: float = 0.6, max_travel: float = 40.0):  # fmt: skip
        self.pattern = tuple(pattern)
        self.within = within
        self.max_press = max_press
        self.max_travel = max_travel
        self._taps: deque[tuple[str, float]] = deque(maxlen=len(self.pattern))

    def reset(self) -> None:
        self._taps.clear()

    def tap(self, zone: str | None, down: float, up: float, travel: float = 0.0) -> bool:
        """True when this tap completes the gesture: the last taps, with no other touch
        between them, are the pattern, and the first of them went down at most
        ``within`` s before the last. The count starts again after it."""
        if zone is None or not 0 <= up - down <= self.max_press or travel > self.max_travel:
            self._taps.clear()  # a touch elsewhere, a hold or a drag: not part of it
            return False
        self._taps.append((zone, down))
        if len(self._taps) < len(self.pattern) or tuple(z for z, _ in self._taps) != self.pattern:
            return False
        if self._taps[-1][1] - self._taps[0][1] > self.within:
            return False
        self._taps.clear()
        return True


# -- the technician's visit --------------------------------------------------------------------


class Idle:
    """The technician walked away: ``expired`` after ``limit`` s without a touch
    (never while ``hold`` is set, e.g. during the self-test)."""

    def __init__(self, limit: float, now: float | None = None):
        self.limit = limit
        self.last = time.monotonic() if now is None else now
        self.hold = False

    def touch(self, now: float) -> None:
        self.last = now

    def expired(self, now: float) -> bool:
        if self.hold:
            self.last = now
            return False
        return now - self.last >= self.limit


def enrolment_code(typed: str) -> str:
    """A one-time enrolment code as the platform prints it (``3F9A-0C21-B7E4``): upper case,
    spaces dropped, and twelve characters typed without dashes put in groups of four
    (the on-screen keyboard has no '-' key). A code typed with dashes keeps them."""
    kept = "".join(ch for ch in typed.upper() if ch.isascii() and (ch.isalnum() or ch == "-"))
    if "-" in kept or len(kept) != 12:
        return kept
    return "-".join(kept[i : i + 4] for i in range(0, 12, 4))


@dataclass(frozen=True)
class Facts:
    """What the technician screen says about the terminal (nothing personal)."""

    terminal_id: str
    service_point: str
    point_name: str
    software_version: str
    catalog_version: str  # the catalog's fingerprint, '' when none is loaded
    uptime: int  # seconds since the kiosk started
    enrolled: bool


async def facts(terminal: Terminal) -> Facts:
    from kiosk import __version__

    t = terminal.config.terminal
    return Facts(t.id, t.service_point, t.point_name, __version__,
                 await terminal.catalog_version(), terminal.uptime(), terminal.enrolled)  # fmt: skip


def uptime_parts(seconds: int) -> tuple[int, int, int]:
    """(days, hours, minutes) of an uptime."""
    minutes = max(0, int(seconds)) // 60
    return minutes // 1440, minutes // 60 % 24, minutes % 60


async def send_diagnostics(terminal: Terminal) -> int:
    """Build this terminal's diagnostics bundle (``Terminal.diagnostics``) and upload it
    to the platform unasked; the dashboard offers it for download. Returns its id.

    :raises DeviceError: ``technician.no_diagnostics``, no bundle builder or no platform.
    :raises DiagnosticsError: the bundle would hold personal data (it is not sent).
    :raises PlatformError: not delivered.
    """
    upload = getattr(terminal.ports.platform, "upload_diagnostics", None)
    if terminal.diagnostics is None or upload is None:
        raise DeviceError("no diagnostics bundle here", message_key="technician.no_diagnostics")
    bundle = await asyncio.to_thread(terminal.diagnostics)
    return await upload(bundle)
