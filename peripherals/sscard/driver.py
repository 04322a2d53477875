"""Social-security card reader over PC/SC (pcscd + pyscard): kiosk.ports.SocialCardReader.

Every public call is blocking; the kiosk calls it from a worker thread
(``asyncio.to_thread``), never from the UI loop. On top of that each call
runs its PC/SC work in a private daemon thread with a deadline, because
``SCardTransmit`` has no timeout of its own: with vpcd (no receive timeout)
a mute card blocks pcscd's reader, and our call, until the card is pulled
out. After the deadline we raise ``CardError`` and leave that thread behind;
it finishes (and releases its PC/SC context) once the card is removed. Until
then ``read_card`` refuses at once and ``health()`` reports "degraded".

A fresh PC/SC context is opened per call, so the reader recovers by itself
when pcscd or the reader comes back.

Every pyscard result code is converted here to ``kiosk.errors``; the
process must see ``PCSCLITE_CSOCK_NAME`` before its first PC/SC call when a
private pcscd is used (see peripherals/sscard/pcscd.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

from smartcard import scard

from kiosk.errors import CardError, DeviceError, KioskError
from kiosk.health import Health
from kiosk.identity import SocialSecurityCard
from peripherals.sscard import apdu

log = logging.getLogger(__name__)
T = TypeVar("T")

_NO_SERVICE = {scard.SCARD_E_NO_SERVICE, scard.SCARD_E_SERVICE_STOPPED}
_SCARD_ABSENT = 0x0002  # SCardStatus state bit (pcsclite.h); pyscard does not export it
_NO_CARD = {scard.SCARD_E_NO_SMARTCARD, scard.SCARD_W_REMOVED_CARD}
_CARD_TROUBLE = {
    scard.SCARD_W_UNRESPONSIVE_CARD: "card does not answer (no ATR: inserted wrongly or broken)",
    scard.SCARD_W_UNPOWERED_CARD: "card not powered",
    scard.SCARD_W_RESET_CARD: "card was reset by another application",
    scard.SCARD_E_NOT_TRANSACTED: "the reader could not exchange data with the card",
    scard.SCARD_E_PROTO_MISMATCH: "card speaks neither T=0 nor T=1",
}


class CardEvent(StrEnum):
    INSERTED = "inserted"
    REMOVED = "removed"
    NONE = "none"  # nothing changed before the timeout


def _check(hresult: int, what: str, reader: str = "") -> None:
    """Turn a PC/SC result code into a kiosk error (the adapter edge)."""
    if hresult == scard.SCARD_S_SUCCESS:
        return
    if hresult in _NO_SERVICE:
        raise DeviceError("pcscd not running (PC/SC service unavailable)")
    if hresult == scard.SCARD_E_NO_READERS_AVAILABLE:
        raise DeviceError("no card reader attached")
    if hresult in (scard.SCARD_E_UNKNOWN_READER, scard.SCARD_E_READER_UNAVAILABLE):
        raise DeviceError(f"card reader {reader!r} unavailable (unplugged?)")
    if hresult in _NO_CARD:
        raise CardError(f"card removed during {what}")
    if hresult in _CARD_TROUBLE:
        raise CardError(f"{_CARD_TROUBLE[hresult]} ({what})")
    message = scard.SCardGetErrorMessage(hresult)
    raise DeviceError(f"PC/SC {what} failed: {message} (0x{hresult & 0xFFFFFFFF:08X})")


class _Context:
    """One PC/SC context for one call; released on exit (even after errors)."""

    def __init__(self) -> None:
        hresult, self.handle = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        _check(hresult, "connect to pcscd")

    def __enter__(self) -> _Context:
        return self

    def __exit__(self, *exc: object) -> None:
        scard.SCardReleaseContext(self.handle)

    def readers(self) -> list[str]:
        hresult, names = scard.SCardListReaders(self.handle, [])
        if hresult == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        _check(hresult, "list readers")
        return list(names)

    def state(self, reader: str, current: int = scard.SCARD_STATE_UNAWARE, wait_ms: int = 0) -> int:
        """Reader state flags (SCARD_STATE_*; event counter in the upper 16 bits);
        ``current`` unchanged after ``wait_ms`` returns it unchanged."""
        hresult, states = scard.SCardGetStatusChange(self.handle, wait_ms, [(reader, current)])
        if hresult in (scard.SCARD_E_TIMEOUT, scard.SCARD_E_CANCELLED):
            return current
        _check(hresult, "read reader state", reader)
        return int(states[0][1])


class PcscSocialCardReader:
    """A social-security card in a PC/SC reader.

    :param reader_name: reader to use (exact name or its prefix, e.g.
        "Virtual PCD" matches "Virtual PCD 00 00"); None or "" = the first.
    :param read_timeout: deadline in seconds for a whole card read.
    """

    def __init__(
        self, reader_name: str | None = None, name: str = "sscard", *, read_timeout: float = 5.0
    ) -> None:
        self.name = name
        self.reader_name = reader_name or None
        self.read_timeout = read_timeout
        self._lock = threading.Lock()
        self._stuck: threading.Thread | None = None  # a read still waiting on a mute card
        self._hung: threading.Thread | None = None  # a call still waiting on pcscd
        self._last_state = scard.SCARD_STATE_EMPTY  # for wait_for_change
        self._wait_context: int | None = None
        self._last_error = ""
        self._closed = False

    # ------------------------------------------------------------------ plumbing

    def _deadline(self, fn: Callable[[], T], timeout: float, what: str) -> T:
        """Run ``fn`` in a daemon thread; give up waiting after ``timeout``."""
        if self._closed:
            raise DeviceError("social-security card reader closed")
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["result"] = fn()
            except KioskError as err:
                box["error"] = err
            except Exception as err:  # anything pyscard may raise stops at this edge
                box["error"] = DeviceError(f"PC/SC {what}: {type(err).__name__}: {err}")
                box["error"].__cause__ = err

        thread = threading.Thread(target=run, name=f"pcsc-{what}", daemon=True)
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            raise _Overdue(thread)
        if "error" in box:
            raise box["error"]
        return box["result"]

    def _pick(self, readers: list[str]) -> str:
        if not readers:
            raise DeviceError("no card reader attached")
        if self.reader_name is None:
            return readers[0]
        for reader in readers:
            if reader == self.reader_name or reader.startswith(self.reader_name):
                return reader
        raise DeviceError(
            f"card reader {self.reader_name!r} not found (present: {', '.join(readers)})"
        )

    # ------------------------------------------------------------------ port

    def readers(self) -> list[str]:
        """Names of the readers pcscd knows.

        :raises DeviceError: pcscd not running or not answering.
        """

        def work() -> list[str]:
            with _Context() as ctx:
                return ctx.readers()

        return self._call(work, 3.0, "readers")

    def card_present(self) -> bool:
        """:raises DeviceError: pcscd or the reader is unavailable."""

        def work() -> bool:
            with _Context() as ctx:
                return bool(ctx.state(self._pick(ctx.readers())) & scard.SCARD_STATE_PRESENT)

        return self._call(work, 3.0, "presence")

    def read_card(self) -> SocialSecurityCard | None:
        """Select the application and read EF05 and EF06; None when no card is inserted.

        :raises CardError: removed mid-read, mute (no answer within
            ``read_timeout``; also while such a card is still inserted),
            wrong status words or garbled data.
        :raises DeviceError: pcscd or the reader is unavailable.
        """
        with self._lock:
            if self._stuck is not None and self._stuck.is_alive():
                raise CardError("card did not answer an earlier command: remove and reinsert it")
            self._stuck = None
        try:
            card = self._deadline(self._read, self.read_timeout, "read")
        except _Overdue as late:
            with self._lock:
                self._stuck = late.thread
            self._last_error = f"card did not answer within {self.read_timeout:g} s (mute card)"
            raise CardError(self._last_error) from None
        except CardError as err:
            self._last_error = err.detail
            raise
        self._last_error = ""
        return card

    def _read(self) -> SocialSecurityCard | None:
        with _Context() as ctx:
            reader = self._pick(ctx.readers())
            hresult, hcard, protocol = scard.SCardConnect(
                ctx.handle,
                reader,
                scard.SCARD_SHARE_SHARED,
                scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
            )
            if hresult in _NO_CARD:
                return None
            _check(hresult, "power up the card", reader)
            try:
                return apdu.parse_holder(_read_records(hcard, protocol))
            finally:
                # LEAVE: a card removed mid-read makes RESET fail; nothing to undo
                scard.SCardDisconnect(hcard, scard.SCARD_LEAVE_CARD)

    def wait_for_change(self, timeout: float) -> CardEvent:
        """Block up to ``timeout`` s for a card insertion or removal.

        One watcher per reader object (it keeps the last state seen). The first
        call reports INSERTED if a card is already in. A card swapped
        between two calls is reported as REMOVED, then INSERTED.

        :raises DeviceError: pcscd or the reader is unavailable.
        """

        def work() -> CardEvent:
            with _Context() as ctx:
                reader = self._pick(ctx.readers())
                self._wait_context = ctx.handle
                try:
                    return self._wait(ctx, reader, timeout)
                finally:
                    self._wait_context = None

        return self._call(work, timeout + 3.0, "wait")

    def _wait(self, ctx: _Context, reader: str, timeout: float) -> CardEvent:
        deadline = time.monotonic() + timeout
        now = ctx.state(reader)
        while True:
            event = self._event(now)
            if event is not CardEvent.NONE:
                return event
            left = deadline - time.monotonic()
            if left <= 0 or self._closed:
                return CardEvent.NONE
            now = ctx.state(reader, now & ~scard.SCARD_STATE_CHANGED, int(left * 1000))

    def _event(self, now: int) -> CardEvent:
        was = bool(self._last_state & scard.SCARD_STATE_PRESENT)
        present = bool(now & scard.SCARD_STATE_PRESENT)
        swapped = was and present and (now >> 16) != (self._last_state >> 16)
        if swapped:  # out and in again between two calls: a different citizen maybe
            self._last_state = scard.SCARD_STATE_EMPTY
            return CardEvent.REMOVED
        self._last_state = now
        if present != was:
            return CardEvent.INSERTED if present else CardEvent.REMOVED
        return CardEvent.NONE

    def health(self) -> Health:
        """ok (reader ready; details say whether a card is in), degraded (a card
        that does not answer), fault (pcscd not running, no reader); never raises."""
        try:
            state, reader = self._call(self._probe, 3.0, "health")
        except DeviceError as err:
            return Health.fault(self.name, err.detail)
        details = {
            "reader": reader,
            "card": "present" if state & scard.SCARD_STATE_PRESENT else "absent",
        }
        if self._stuck is not None and self._stuck.is_alive():
            return Health.degraded(
                self.name, "card does not answer: remove and reinsert it", **details
            )
        if state & scard.SCARD_STATE_MUTE:
            return Health.degraded(
                self.name, "card gives no ATR: inserted wrongly or broken", **details
            )
        if self._last_error:
            details["last_error"] = self._last_error
        return Health.good(self.name, **details)

    def _probe(self) -> tuple[int, str]:
        with _Context() as ctx:
            reader = self._pick(ctx.readers())
            return ctx.state(reader), reader

    def _call(self, fn: Callable[[], T], timeout: float, what: str) -> T:
        """``fn`` within ``timeout``; while an earlier call still waits on a pcscd that does
        not answer, none is begun (each would leave a thread waiting with it: one a
        heartbeat, thousands by morning)."""
        hung = self._hung
        if hung is not None and hung.is_alive():
            raise DeviceError(f"pcscd has not answered an earlier call ({hung.name}): not asked again yet")
        try:
            return self._deadline(fn, timeout, what)
        except _Overdue as late:
            self._hung = late.thread
            raise DeviceError(f"pcscd did not answer within {timeout:g} s ({what})") from None

    def close(self) -> None:
        """Stop a pending ``wait_for_change``; later calls raise DeviceError."""
        self._closed = True
        context = self._wait_context
        if context is not None:
            scard.SCardCancel(context)


class _Overdue(Exception):
    def __init__(self, thread: threading.Thread) -> None:
        super().__init__(thread.name)
        self.thread = thread


def _transmit(hcard: int, protocol: int, command: bytes) -> apdu.Response:
    hresult, raw = scard.SCardTransmit(hcard, protocol, list(command))
    if hresult == scard.SCARD_S_SUCCESS and len(raw) >= 2:
        return apdu.Response.parse(bytes(raw))
    # vpcd answers nothing, or pcscd "not transacted", when the card went
    # away mid-command; tell the citizen "removed" when that is what happened.
    if _card_gone(hcard):
        raise CardError("card removed during the read")
    _check(hresult, "the read")
    raise CardError("card gave an empty response")


def _card_gone(hcard: int, wait: float = 1.0) -> bool:
    """Whether the card left the reader; pcscd notices within its 0.4 s poll."""
    deadline = time.monotonic() + wait
    while True:
        hresult, _reader, state, _protocol, _atr = scard.SCardStatus(hcard)
        if hresult in _NO_CARD or (hresult == scard.SCARD_S_SUCCESS and state & _SCARD_ABSENT):
            return True
        if hresult != scard.SCARD_S_SUCCESS or time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def _exchange(hcard: int, protocol: int, command: bytes) -> apdu.Response:
    """Send a command, following 61xx (GET RESPONSE) and 6Cxx (resend with Le)."""
    response = _transmit(hcard, protocol, command)
    if response.sw >> 8 == 0x6C and len(command) == 5:
        response = _transmit(hcard, protocol, command[:4] + bytes([response.sw & 0xFF]))
    data = response.data
    for _ in range(16):  # a card that keeps saying 61xx is broken, not long
        if response.sw >> 8 != 0x61:
            break
        response = _transmit(hcard, protocol, apdu.get_response(response.sw & 0xFF))
        data += response.data
    return apdu.Response(data, response.sw)


def _expect_ok(response: apdu.Response, what: str) -> None:
    if not response.ok:
        raise CardError(f"{what}: {apdu.sw_meaning(response.sw)}")


def _read_records(hcard: int, protocol: int) -> list[bytes]:
    _expect_ok(_exchange(hcard, protocol, apdu.select_aid()), "select social-security application")
    records: list[bytes] = []
    for fid in apdu.FILES:
        _expect_ok(_exchange(hcard, protocol, apdu.select_ef(fid)), f"select EF{fid & 0xFF:02X}")
        for number in apdu.records_of(fid):
            response = _exchange(hcard, protocol, apdu.read_record(number))
            if response.sw == 0x6A83:  # optional item this card does not hold
                continue
            _expect_ok(response, f"read EF{fid & 0xFF:02X} record {number}")
            records.append(response.data)
    return records
