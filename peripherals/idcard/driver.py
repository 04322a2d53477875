"""The ID card reader adapter: GA 467 SAM frames over a serial port (pyserial).

A blocking API meant for a worker thread (``asyncio.to_thread``). One lock
serialises exchanges, so ``health()`` from the heartbeat never interleaves
with a read; it answers from the last known state when the reader is busy.
The port is opened lazily and reopened after the device went away (USB
unplugged, pty replaced), so a reader that comes back just works again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import termios
import threading
import time
from collections import deque
from dataclasses import dataclass, replace

import serial

from kiosk.errors import CardExpired, DeviceError
from kiosk.health import Health, HealthState
from kiosk.identity import IdCard
from peripherals.errors import cause
from peripherals.idcard import protocol as p
from peripherals.idcard.photo import NoPhotoDecoder, PhotoDecoder
from peripherals.idcard.text import decode_text

log = logging.getLogger(__name__)

_IO_ERRORS = (serial.SerialException, OSError, termios.error)
_READ_REPLY_BYTES = 2400  # text + photo + fingerprint, for the wire-time budget
_READ_SLICE = 0.05  # s: longest single blocking read; also "quiet" when draining a bad frame


class ReaderTimeout(DeviceError):
    """The reader sent nothing within the time allowed."""


@dataclass(frozen=True)
class CardData:
    """The raw blocks of one card read; ``text`` is 256 bytes UTF-16LE, ``photo`` WLT."""

    text: bytes
    photo: bytes
    fingerprint: bytes = b""


def check_valid(card: IdCard, today: dt.date) -> IdCard:
    """Return ``card`` if it is valid on ``today``.

    :raises CardExpired: the validity period has ended (message key ``error.card_expired``).
    """
    if card.expired(today):
        raise CardExpired(f"card valid until {card.valid_to:%Y-%m-%d}, today is {today:%Y-%m-%d}")
    return card


class SerialIdCardReader:
    """Implements ``kiosk.ports.IdCardReader`` for a SAM reader on ``port``.

    ``reply_timeout`` is how long the reader may think before it answers;
    the time the reply takes on the wire at ``baudrate`` is added to it.
    """

    def __init__(
        self,
        port: str,
        baudrate: int = 115200,
        name: str = "idcard",
        *,
        reply_timeout: float = 1.0,
        poll_interval: float = 0.3,
        photo_decoder: PhotoDecoder | None = None,
        log_faults: bool = True,
    ) -> None:
        """:param log_faults: False for a port only being asked what is on it
            (peripherals/discovery.py): its silence is no reader's fault."""
        self.name = name
        self.log_faults = log_faults
        self.port = port
        self.baudrate = baudrate
        self.reply_timeout = reply_timeout
        self.poll_interval = poll_interval
        self.photo_decoder = photo_decoder or NoPhotoDecoder()
        self._serial: serial.Serial | None = None
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._sam_id = ""
        # health bookkeeping (guarded by _lock where written)
        self._last_exchange = 0.0  # monotonic time of the last exchange, good or bad
        self._recent: deque[bool] = deque(maxlen=20)  # True: a clean frame came back
        self._health = Health(name, HealthState.DEGRADED, "not used yet", {"port": port})
        self._silent = 0  # consecutive exchanges with no answer

    # -- public calls ----------------------------------------------------
    def read_card(self, timeout: float = 0.0) -> IdCard | None:
        """Find, select and read a card (text + photo); None if none turns up.

        With ``timeout`` > 0, polls every ``poll_interval`` s (sleeping, not
        spinning) until a card is read or the time is up. The card is returned
        even if expired: see :func:`check_valid`.

        :raises CardError: a card is there but could not be read.
        :raises DeviceError: the reader is gone, silent, or answers garbage.
        """
        deadline = time.monotonic() + timeout
        while True:
            card = self._read_once()
            left = deadline - time.monotonic()
            if card is not None or left <= 0:
                return card
            if self._closed.wait(min(self.poll_interval, left)):
                return None

    def wait_for_card(self, stop: threading.Event, interval: float | None = None) -> IdCard | None:
        """Poll until a card is read (returned) or ``stop`` is set (None).

        Sleeps ``interval`` s between polls; a card that cannot be read is
        raised to the caller (who shows a message and may call again).

        :raises CardError: a card is there but could not be read.
        :raises DeviceError: the reader is gone, silent, or answers garbage.
        """
        interval = self.poll_interval if interval is None else interval
        while not stop.is_set() and not self._closed.is_set():
            card = self._read_once()
            if card is not None:
                return card
            stop.wait(interval)
        return None

    def find_card(self) -> bool:
        """True if a card is on the reader (command 20 01).

        :raises DeviceError: the reader is gone, silent, or answers garbage.
        """
        reply = self._exchange(*p.FIND_CARD)
        if reply.sw3 == p.SW_NO_CARD:
            return False
        reply.check(p.SW_FOUND)
        return True

    def select_card(self) -> bytes:
        """Select the card found (20 02); returns its 8 serial bytes.

        :raises CardError: the card left or did not answer (0x81).
        :raises DeviceError: the reader is gone, silent, or answers garbage.
        """
        return self._exchange(*p.SELECT_CARD).check().data

    def read_raw(self, fingerprint: bool = False) -> CardData:
        """Read the selected card's text and photo (30 01), and fingerprint (30 10).

        :raises CardError: the card could not be read or the lengths are wrong.
        :raises DeviceError: the reader is gone, silent, or answers garbage.
        """
        cmd = p.READ_TEXT_PHOTO_FINGERPRINT if fingerprint else p.READ_TEXT_PHOTO
        reply = self._exchange(*cmd, expect=_READ_REPLY_BYTES).check()
        blocks = p.split_lengths(reply.data, 3 if fingerprint else 2)
        return CardData(*blocks)

    def sam_id(self) -> str:
        """The SAM's id, as vendor tools print it (12 FF).

        :raises DeviceError: the reader is gone, silent, or answers garbage.
        """
        self._sam_id = p.format_sam_id(self._exchange(*p.READ_SAM_ID).check().data)
        self._health = replace(self._health, details=self._details())
        return self._sam_id

    def sam_status(self) -> None:
        """Ask the SAM whether it is well (11 FF).

        :raises DeviceError: it is not, or the reader is gone or silent.
        """
        self._exchange(*p.SAM_STATUS).check()

    def reset(self) -> None:
        """Reset the SAM (10 FF).

        :raises DeviceError: the reader is gone, silent, or refuses.
        """
        self._exchange(*p.RESET_SAM).check()

    def set_baudrate(self, baudrate: int) -> None:
        """Switch reader and port to ``baudrate`` (60 0n); one of protocol.BAUDRATES.

        :raises ValueError: not a rate the reader supports.
        :raises DeviceError: the reader is gone, silent, or refuses.
        """
        code = p.BAUDRATES.index(baudrate)
        with self._lock:
            self._exchange_locked(p.SET_BAUDRATE, code).check()
            self.baudrate = baudrate
            if self._serial is not None:
                self._serial.baudrate = baudrate

    def decode_photo(self, card: IdCard) -> bytes | None:
        """The card's photo as an image via the photo port, or None (never raises)."""
        try:
            return self.photo_decoder.decode(card.photo) if card.photo else None
        except Exception:  # noqa: BLE001 - a vendor library must not break a visit
            log.warning("photo decoder failed", exc_info=True)
            return None

    def health(self, max_age: float = 5.0) -> Health:
        """The reader's state for the heartbeat and self-test; never raises.

        Probes the SAM (11 FF) if nothing was exchanged for ``max_age`` s and
        the reader is idle; while a read is in progress, answers at once from
        the last exchange.
        """
        if self._closed.is_set():
            return Health.fault(self.name, "driver closed", port=self.port)
        if time.monotonic() - self._last_exchange > max_age and self._lock.acquire(timeout=0.05):
            try:
                self._exchange_locked(*p.SAM_STATUS).check()
            except DeviceError:
                pass  # recorded in self._health by the exchange
            finally:
                self._lock.release()
        return self._health

    def close(self) -> None:
        """Close the port; later calls raise DeviceError. Safe to call twice."""
        self._closed.set()
        port = self._serial
        if port is not None:
            with contextlib.suppress(*_IO_ERRORS):
                port.cancel_read()  # wake a read in progress so the lock frees quickly
        with self._lock:
            self._drop_port()

    # -- one exchange ----------------------------------------------------
    def _read_once(self) -> IdCard | None:
        with self._lock:
            found = self._exchange_locked(*p.FIND_CARD)
            if found.sw3 == p.SW_NO_CARD:
                return None
            found.check(p.SW_FOUND)
            self._exchange_locked(*p.SELECT_CARD).check()
            reply = self._exchange_locked(*p.READ_TEXT_PHOTO, expect=_READ_REPLY_BYTES).check()
        text, photo = p.split_lengths(reply.data, 2)
        return decode_text(text, photo)

    def _exchange(self, cmd: int, para: int, data: bytes = b"", expect: int = 64) -> p.Response:
        with self._lock:
            return self._exchange_locked(cmd, para, data, expect)

    def _exchange_locked(
        self, cmd: int, para: int, data: bytes = b"", expect: int = 64
    ) -> p.Response:
        """Send one request and return the reply, recording health on the way.

        ``expect`` is the largest reply size, for the wire-time part of the timeout.
        """
        if self._closed.is_set():
            raise DeviceError("ID card reader driver is closed")
        port = self._open()
        deadline = time.monotonic() + self.reply_timeout + expect * 10 / self.baudrate
        try:
            port.reset_input_buffer()  # a late reply to an earlier request is not ours
            port.write(p.build_request(cmd, para, data))
            reply = self._receive(port, deadline)
        except _IO_ERRORS as err:
            self._drop_port()
            self._fail(
                HealthState.FAULT,
                f"reader on {self.port} disconnected ({cause(err)}): check the USB cable",
            )
            raise DeviceError(f"ID card reader on {self.port} disconnected: {cause(err)}") from err
        except p.FrameError as err:
            self._drain(port)
            self._recent.append(False)
            bad = self._recent.count(False)
            self._fail(
                HealthState.DEGRADED,
                f"garbled frames from reader ({err.kind}; {bad} of last {len(self._recent)}):"
                " check the cable and the baud rate",
            )
            raise DeviceError(f"garbled reply from ID card reader: {err.detail}") from err
        except ReaderTimeout:
            self._silent += 1
            if self._silent >= 2:
                self._drop_port()  # a re-enumerated USB adapter needs a fresh open
            self._fail(
                HealthState.FAULT,
                f"reader on {self.port} does not answer at {self.baudrate} baud:"
                " check power, cable and baud rate",
            )
            raise
        except DeviceError as err:  # a partial frame
            self._drain(port)
            self._recent.append(False)
            self._fail(HealthState.DEGRADED, f"{err.detail}: check the cable")
            raise
        self._silent = 0
        self._recent.append(True)
        self._record(reply)
        return reply

    def _receive(self, port: serial.Serial, deadline: float) -> p.Response:
        """Read one response frame: the 7-byte header, then ``len`` more, by deadline.

        Each read blocks for at most _READ_SLICE s (the port's fixed timeout), so
        the deadline is kept without reconfiguring the port for every read.
        """
        parser = p.FrameParser()
        got = 0
        while True:
            chunk = port.read(parser.needed())
            if chunk:
                got += len(chunk)
                replies = parser.feed(chunk)
                if replies:
                    return replies[0]
            if time.monotonic() >= deadline:
                break
            if self._closed.is_set():
                raise DeviceError("ID card reader driver closed during a read")
        if got == 0:
            raise ReaderTimeout(f"ID card reader on {self.port} did not answer")
        raise DeviceError(f"partial frame from ID card reader ({got} bytes, then silence)")

    def _drain(self, port: serial.Serial, limit: float = 0.5) -> None:
        """Swallow the rest of a bad frame still on the wire (until quiet, bounded)."""
        end = time.monotonic() + limit
        try:
            while time.monotonic() < end and port.read(4096):
                pass
        except _IO_ERRORS:
            self._drop_port()

    def _open(self) -> serial.Serial:
        if self._serial is not None:
            return self._serial
        try:
            self._serial = serial.Serial(self.port, self.baudrate, timeout=_READ_SLICE)
        except _IO_ERRORS as err:
            self._last_exchange = time.monotonic()
            self._fail(
                HealthState.FAULT, f"cannot open {self.port} ({cause(err)}): check the USB cable"
            )
            raise DeviceError(f"cannot open ID card reader port {self.port}: {cause(err)}") from err
        log.info("ID card reader port %s opened at %d baud", self.port, self.baudrate)
        return self._serial

    def _drop_port(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            with contextlib.suppress(*_IO_ERRORS):
                port.close()

    # -- health ------------------------------------------------------------
    def _details(self) -> dict[str, str]:
        details = {"port": self.port, "baudrate": str(self.baudrate)}
        if self._sam_id:
            details["sam_id"] = self._sam_id
        return details

    def _fail(self, state: HealthState, reason: str) -> None:
        self._last_exchange = time.monotonic()
        if self.log_faults and (self._health.state != state or self._health.reason != reason):
            log.warning("ID card reader %s: %s", state.value, reason)
        self._health = Health(self.name, state, reason, self._details())

    def _record(self, reply: p.Response) -> None:
        self._last_exchange = time.monotonic()
        st = reply.status
        if st.error is DeviceError and reply.sw3 in (0x60, 0x66):
            self._fail(HealthState.FAULT, f"SAM reports 0x{reply.sw3:02X}: {st.meaning}")
            return
        bad = self._recent.count(False)
        if bad:
            health = Health.degraded(
                self.name,
                f"{bad} garbled or partial frames in the last {len(self._recent)} exchanges",
                **self._details(),
            )
        else:
            health = Health.good(self.name, **self._details())
        if health.state != self._health.state:
            log.info("ID card reader %s", health.state.value)
        self._health = health
