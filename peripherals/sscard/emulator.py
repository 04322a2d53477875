"""A social-security card on vpcd's socket: the card side of the PC/SC tests and demo.

vpcd (Debian ``vsmartcard-vpcd``, loaded by pcscd) *listens* on a TCP port
per reader slot; a virtual card *connects* to it. Connecting is inserting
the card, closing the socket is removing it. Byte-exact after
frankmorgner/vsmartcard ``virtualsmartcard/src/vpcd/vpcd.c``:

- every message, both ways, is a 2-byte big-endian length + payload;
- a 1-byte payload from vpcd is control: 0 power off, 1 power on, 2 reset
  (no answer to these), 4 "send the ATR" (answer: the ATR). vpcd asks for the
  ATR at every presence poll (about every 0.4 s);
- a longer payload is a command APDU; the answer is data + SW1 SW2.

vpcd has no receive timeout: while the card stays mute, pcscd's reader
is blocked until the socket closes (see the driver's deadline).

Run alone against a running pcscd/vpcd:
``python -m peripherals.sscard.emulator --port 35963``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import socket
import struct
import threading
import time
from typing import Literal

from kiosk.identity import Gender, IdCard, SocialSecurityCard
from peripherals.sscard import apdu

log = logging.getLogger(__name__)

# T=0, TB1/TC1 = 00, 12 historical bytes: category 80, card service data
# (31 80), pre-issuing data "SSCRD" (65 ...), status 90 00 (82 90 00).
# T=0 only, so no TCK.
DEFAULT_ATR = bytes.fromhex("3B6C0000803180655353435244829000")

CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0, 1, 2, 4

Fault = Literal["mute", "wrong_sw", "remove_mid_read"] | None
FAULTS = ("mute", "wrong_sw", "remove_mid_read")
_SELECT_EF06 = apdu.select_ef(apdu.EF06)
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


def sample_card() -> SocialSecurityCard:
    """李秀英, female, born 1958-03-12 in 新干县 (code 362424 until 2000), card of 360824."""
    return SocialSecurityCard(
        ss_number="362424195803120022",  # GB 11643 check digit verified with stdnum.cn.ric
        name="李秀英",
        gender=Gender.FEMALE,
        birth_date=dt.date(1958, 3, 12),
        card_number="G36082417",
        region="360824",
        issue_date=dt.date(2019, 6, 11),
        expiry_date=dt.date(2029, 6, 11),
        nation="01",
        spec_version="3.00",
    )


def card_of(holder: IdCard) -> SocialSecurityCard:
    """The social-security card of the holder of ``holder`` (an ID card): the same citizen
    number (the social security number is the ID number), name, gender and birth date,
    issued where the ID number's first six digits say, for ten years from 2019."""
    return SocialSecurityCard(
        ss_number=holder.id_number,
        name=holder.name,
        gender=holder.gender,
        birth_date=holder.birth_date,
        card_number="G" + holder.id_number[2:10],
        region=holder.id_number[:6],
        issue_date=dt.date(2019, 6, 11),
        expiry_date=dt.date(2029, 6, 11),
        nation=holder.nation,
        spec_version="3.00",
    )


class CardLogic:
    """The card's answers, one APDU at a time (pure: bytes in, bytes out or None)."""

    def __init__(self, image: apdu.SocialCardImage) -> None:
        self.image = image
        self.fault: Fault = None
        self.reset()

    def reset(self) -> None:
        self.app_selected = False
        self.current_ef: int | None = None
        self.pending = b""  # data waiting for GET RESPONSE

    def answer(self, command: bytes) -> bytes | None:
        """The response APDU, or None for "do not answer" (mute)."""
        if self.fault == "mute":
            return None
        if len(command) < 4:
            return _sw(0x6700)
        cla, ins, p1, p2 = command[:4]
        body = command[5 : 5 + command[4]] if len(command) > 5 else b""
        if cla != 0x00:
            return _sw(0x6E00)
        if ins == 0xA4:
            return self._select(p1, body)
        if ins == 0xB2:
            le = command[4] if len(command) == 5 else 0
            return self._read_record(p1, p2, le)
        if ins == 0xC0:
            data, self.pending = self.pending, b""
            return data + _sw(0x9000) if data else _sw(0x6985)
        return _sw(0x6D00)

    def _select(self, p1: int, body: bytes) -> bytes:
        self.pending = b""
        if p1 == 0x04:
            if body != apdu.SSSE_AID:
                return _sw(0x6A82)
            self.app_selected, self.current_ef = True, None
            # T=0 card: the FCI is fetched with GET RESPONSE
            self.pending = self.image.fci
            return _sw(0x6100 | len(self.pending))
        if p1 == 0x00 and len(body) == 2:
            fid = int.from_bytes(body, "big")
            if not self.app_selected or fid not in self.image.files():
                return _sw(0x6A82)
            if self.fault == "wrong_sw":
                return _sw(0x6A82)
            self.current_ef = fid
            return _sw(0x9000)
        return _sw(0x6A86)

    def _read_record(self, number: int, p2: int, le: int) -> bytes:
        if self.fault == "wrong_sw":
            return _sw(0x6F00)
        if p2 & 0x07 != 0x04:
            return _sw(0x6A86)
        sfi = p2 >> 3
        if sfi:
            fid = 0xEF00 | sfi
            if not self.app_selected or fid not in self.image.files():
                return _sw(0x6A82)
            self.current_ef = fid
        if self.current_ef is None:
            return _sw(0x6986)
        record = self.image.record(self.current_ef, number)
        if record is None:
            return _sw(0x6A83)
        if le not in (0, len(record)):
            return _sw(0x6C00 | len(record))
        return record + _sw(0x9000)


def _sw(sw: int) -> bytes:
    return sw.to_bytes(2, "big")


class VirtualSocialCard:
    """A card that can be inserted into (connected to) one vpcd reader slot.

    ``insert()`` connects and starts a thread answering vpcd; ``remove()``
    closes the socket; ``set_fault()`` changes behaviour live; ``stop()``
    removes the card and joins the thread. Not thread-safe against itself:
    drive it from one controlling thread (a test or the supervisor).
    """

    def __init__(
        self,
        card: SocialSecurityCard,
        port: int,
        host: str = "127.0.0.1",
        atr: bytes = DEFAULT_ATR,
    ) -> None:
        self.card = card
        self.port = port
        self.host = host
        self.atr = atr
        self.logic = CardLogic(apdu.SocialCardImage.from_card(card))
        self.commands: list[bytes] = []  # every APDU received, for tests and traces
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()

    @property
    def inserted(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def hold(self, card: SocialSecurityCard) -> None:
        """Be ``card`` from its next insertion on (a fault set stays set)."""
        if self.inserted:
            raise RuntimeError("take the card out before it becomes another")
        fault = self.logic.fault
        self.card = card
        self.logic = CardLogic(apdu.SocialCardImage.from_card(card))
        self.logic.fault = fault

    def set_fault(self, mode: Fault) -> None:
        """ "mute" (no answer to APDUs), "wrong_sw" (6A82 to SELECT EF, 6F00 to
        READ RECORD), "remove_mid_read" (pulled out right after SELECT EF06
        is answered; stays set for later insertions), or None."""
        if mode is not None and mode not in FAULTS:
            raise ValueError(f"unknown fault {mode!r}; one of {FAULTS}")
        self.logic.fault = mode

    def insert(self, timeout: float = 5.0) -> None:
        """Connect to vpcd (= put the card in the reader); retries until ``timeout``.

        :raises ConnectionError: vpcd does not listen on host:port.
        """
        if self.inserted:
            return
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
                break
            except OSError as err:
                if time.monotonic() >= deadline:
                    raise ConnectionError(
                        f"vpcd not listening on {self.host}:{self.port} ({err.strerror or err})"
                    ) from err
                time.sleep(0.1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # one APDU = one segment
        sock.settimeout(0.2)  # lets the thread notice stop() between messages
        self.logic.reset()
        self._stop.clear()
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, args=(sock,), name="vicc", daemon=True)
        self._thread.start()

    def remove(self) -> None:
        """Close the socket (= pull the card out); vpcd sees it at its next poll."""
        self._stop.set()
        with self._lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed by vpcd
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)

    def stop(self) -> None:
        self.remove()

    # ------------------------------------------------------------------ thread

    def _serve(self, sock: socket.socket) -> None:
        try:
            while not self._stop.is_set():
                payload = self._receive(sock)
                if payload is None:
                    break
                reply = self._handle(payload)
                if reply is not None:
                    sock.sendall(struct.pack(">H", len(reply)) + reply)
                if self.logic.fault == "remove_mid_read" and payload == _SELECT_EF06:
                    log.info("emulated card pulled out after SELECT EF06")
                    break
        except OSError as err:
            if not self._stop.is_set():
                log.info("vpcd link closed: %s", err)
        finally:
            with self._lock:
                if self._sock is sock:
                    self._sock = None
            sock.close()

    def _receive(self, sock: socket.socket) -> bytes | None:
        header = self._read_exact(sock, 2)
        if header is None:
            return None
        (length,) = struct.unpack(">H", header)
        return self._read_exact(sock, length) if length else b""

    def _read_exact(self, sock: socket.socket, size: int) -> bytes | None:
        buf = b""
        while len(buf) < size:
            if self._stop.is_set():
                return None
            if _QUICKACK is not None:
                # vpcd's writes wait for our ACK (Nagle); a delayed ACK costs
                # 40 ms per APDU. Linux resets QUICKACK, so set it each time.
                sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
            try:
                chunk = sock.recv(size - len(buf))
            except TimeoutError:
                continue
            if not chunk:
                return None  # vpcd closed (pcscd stopped)
            buf += chunk
        return buf

    def _handle(self, payload: bytes) -> bytes | None:
        if len(payload) == 1:
            code = payload[0]
            if code == CTRL_ATR:
                return self.atr
            if code in (CTRL_RESET, CTRL_OFF):
                self.logic.reset()
            return None  # power on/off/reset are not answered
        self.commands.append(payload)
        return self.logic.answer(payload)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Virtual social-security card for vpcd")
    parser.add_argument("--port", type=int, default=35963, help="vpcd slot port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--fault", choices=FAULTS, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    card = VirtualSocialCard(sample_card(), args.port, args.host)
    card.set_fault(args.fault)
    card.insert(timeout=30.0)
    log.info("card inserted into vpcd at %s:%d; Ctrl-C to remove", args.host, args.port)
    try:
        while card.inserted:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        card.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
