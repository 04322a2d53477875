"""GA 467 SAM frames: a pure codec, no I/O (framing apart from reading).

A frame is ``AA AA AA 96 69 | LEN_HI LEN_LO | body | XOR`` where LEN counts
every byte after the length field (checksum included) and XOR covers the
length field and the body. A request body is ``CMD PARA [DATA]``; a response
body is ``SW1 SW2 SW3 [DATA]``. See /work/shared/reference/devices.md §1.

The parsers are fed whatever bytes arrived and hand back whole frames; they
resync on the preamble after garbage, so a reader thread (or the emulator)
stays a thin loop around ``read``.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.errors import CardError, DeviceError, KioskError, NoCard

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_LEN = len(PREAMBLE) + 2  # readers read 7 bytes, then LEN more
# Largest real reply: text + photo + fingerprint = 3 SW + 6 lengths + 256 + 1024 + 1024 + XOR.
MAX_BODY_LEN = 4096

# Commands (CMD, PARA).
RESET_SAM = (0x10, 0xFF)
SAM_STATUS = (0x11, 0xFF)
READ_SAM_ID = (0x12, 0xFF)
FIND_CARD = (0x20, 0x01)
SELECT_CARD = (0x20, 0x02)
READ_TEXT_PHOTO = (0x30, 0x01)
READ_NEWEST_ADDRESS = (0x30, 0x03)
READ_TEXT_PHOTO_FINGERPRINT = (0x30, 0x10)
SET_BAUDRATE = 0x60  # PARA 00..04 picks one of BAUDRATES
SET_MAX_RF_FRAME = (0x61, 0xFF)  # DATA: one byte, max RF frame size

BAUDRATES = (115200, 57600, 38400, 19200, 9600)

# SW3 values that mean "done".
SW_OK = 0x90
SW_FOUND = 0x9F
SW_NO_CARD = 0x80


class FrameError(DeviceError):
    """Bytes that cannot be a frame (bad checksum, impossible length).

    ``kind`` is ``"checksum"`` or ``"length"``, so a host can answer with the
    matching SW3 (0x10 / 0x11) and a driver can tell a technician which.
    """

    def __init__(self, detail: str, *, kind: str) -> None:
        super().__init__(detail)
        self.kind = kind


@dataclass(frozen=True)
class Status:
    """What one SW3 value means, and which kiosk error it becomes."""

    code: int
    meaning: str
    error: type[KioskError] | None  # None: success


_STATUS_TABLE = [
    (0x90, "success", None),
    (0x91, "no content for this item on the card", CardError),
    (0x9F, "find card succeeded", None),
    (0x10, "bad checksum in the host's frame", DeviceError),
    (0x11, "bad length in the host's frame", DeviceError),
    (0x21, "bad command or parameter", DeviceError),
    (0x23, "unauthorised operation", DeviceError),
    (0x24, "unrecognised error", DeviceError),
    (0x31, "card failed to authenticate the SAM", CardError),
    (0x32, "SAM failed to authenticate the card", CardError),
    (0x33, "information verification error", CardError),
    (0x40, "unrecognised card type", CardError),
    (0x41, "read failed", CardError),
    (0x47, "get-random failed", CardError),
    (0x60, "SAM self-test failed", DeviceError),
    (0x66, "SAM not authorised", DeviceError),
    (0x80, "find card failed (no card)", NoCard),
    (0x81, "select card failed", CardError),
]
STATUS: dict[int, Status] = {code: Status(code, text, err) for code, text, err in _STATUS_TABLE}


def status(sw3: int) -> Status:
    """The meaning of ``sw3``; an unknown code is a device fault."""
    return STATUS.get(sw3) or Status(sw3, f"unknown status 0x{sw3:02X}", DeviceError)


def checksum(data: bytes) -> int:
    """XOR of ``data`` (the length field and the body)."""
    x = 0
    for b in data:
        x ^= b
    return x


def _frame(body: bytes) -> bytes:
    length = (len(body) + 1).to_bytes(2, "big")
    return PREAMBLE + length + body + bytes([checksum(length + body)])


def build_request(cmd: int, para: int, data: bytes = b"") -> bytes:
    """The full request frame for ``cmd para [data]``."""
    return _frame(bytes([cmd, para]) + bytes(data))


def build_response(sw3: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    """The full response frame (what a reader sends; used by the emulator)."""
    return _frame(bytes([sw1, sw2, sw3]) + bytes(data))


@dataclass(frozen=True)
class Response:
    sw1: int
    sw2: int
    sw3: int
    data: bytes = b""

    @property
    def status(self) -> Status:
        return status(self.sw3)

    def check(self, *expected: int) -> Response:
        """Return self if SW3 is one of ``expected`` (default: 0x90).

        :raises NoCard: SW3 0x80.
        :raises CardError: the card could not be read (0x31-0x47, 0x81, 0x91).
        :raises DeviceError: a SAM or link fault, or a success code not expected here.
        """
        if self.sw3 in (expected or (SW_OK,)):
            return self
        st = self.status
        error = st.error or DeviceError
        raise error(f"reader status 0x{self.sw3:02X}: {st.meaning}")


@dataclass(frozen=True)
class Request:
    cmd: int
    para: int
    data: bytes = b""


class _Deframer:
    """Splits a byte stream into frame bodies; subclasses turn bodies into messages."""

    min_body = 2  # bytes before the checksum

    def __init__(self) -> None:
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        """Bytes buffered towards an incomplete frame."""
        return len(self._buf)

    def clear(self) -> None:
        self._buf.clear()

    def needed(self) -> int:
        """How many more bytes complete the frame in progress (at least 1)."""
        buf = self._buf
        if len(buf) < HEADER_LEN or not buf.startswith(PREAMBLE):
            return max(1, HEADER_LEN - len(buf))
        total = HEADER_LEN + int.from_bytes(buf[5:7], "big")
        return max(1, total - len(buf))

    def _resync(self) -> None:
        """Drop bytes before the next possible preamble (keeps a partial one at the end)."""
        buf = self._buf
        at = buf.find(PREAMBLE)
        if at < 0:
            # Keep a tail that may be the start of a preamble split across reads.
            keep = 0
            for n in range(min(len(PREAMBLE) - 1, len(buf)), 0, -1):
                if buf.endswith(PREAMBLE[:n]):
                    keep = n
                    break
            del buf[: len(buf) - keep]
        elif at:
            del buf[:at]

    def _next_body(self) -> bytes | None:
        """The next whole frame's body, None if incomplete; FrameError for a bad one."""
        self._resync()
        buf = self._buf
        if len(buf) < HEADER_LEN:
            return None
        length = int.from_bytes(buf[5:7], "big")
        if not self.min_body + 1 <= length <= MAX_BODY_LEN:
            del buf[:1]  # not a frame after all: look for the next preamble
            raise FrameError(f"frame length {length} out of range", kind="length")
        total = HEADER_LEN + length
        if len(buf) < total:
            return None
        frame = bytes(buf[:total])
        del buf[:total]
        want = checksum(frame[5:-1])
        if frame[-1] != want:
            raise FrameError(
                f"frame checksum 0x{frame[-1]:02X}, computed 0x{want:02X}", kind="checksum"
            )
        return frame[HEADER_LEN:-1]

    def _bodies(self, data: bytes) -> list[bytes]:
        """Every whole body now buffered. A bad frame raises FrameError, unless
        good frames came before it: those are returned and the bad one raises on
        the next call, so nothing good is lost."""
        self._buf += data
        out: list[bytes] = []
        while True:
            mark = bytes(self._buf)
            try:
                body = self._next_body()
            except FrameError:
                if out:
                    self._buf[:] = mark  # report it next time
                    return out
                raise
            if body is None:
                return out
            out.append(body)


class FrameParser(_Deframer):
    """Response frames from a reader (host side)."""

    min_body = 3

    def feed(self, data: bytes) -> list[Response]:
        """Whole responses completed by ``data``.

        :raises FrameError: a frame with a bad checksum or impossible length;
            its bytes are dropped and parsing resumes at the next preamble.
        """
        return [Response(b[0], b[1], b[2], bytes(b[3:])) for b in self._bodies(data)]


class RequestParser(_Deframer):
    """Request frames from a host (reader side, for the emulator)."""

    min_body = 2

    def feed(self, data: bytes) -> list[Request]:
        """Whole requests completed by ``data``.

        :raises FrameError: as :meth:`FrameParser.feed`.
        """
        return [Request(b[0], b[1], bytes(b[2:])) for b in self._bodies(data)]


def split_lengths(data: bytes, count: int) -> list[bytes]:
    """Split a read reply's data (``count`` big-endian lengths, then the blocks).

    :raises CardError: the lengths do not match the data.
    """
    head = 2 * count
    if len(data) < head:
        raise CardError(f"read reply too short for {count} lengths ({len(data)} bytes)")
    lengths = [(data[2 * i] << 8) | data[2 * i + 1] for i in range(count)]
    if head + sum(lengths) != len(data):
        raise CardError(f"read reply lengths {lengths} do not match {len(data) - head} data bytes")
    out, at = [], head
    for n in lengths:
        out.append(bytes(data[at : at + n]))
        at += n
    return out


def format_sam_id(data: bytes) -> str:
    """The SAM id as printed on readers and in vendor tools (e.g. ``05.01-20101117-...``).

    Layout as in public SAM serial code: two little-endian 16-bit fields, then
    three little-endian 32-bit numbers.

    :raises DeviceError: fewer than 16 bytes.
    """
    if len(data) < 16:
        raise DeviceError(f"SAM id reply has {len(data)} bytes, expected 16")

    def le(a: int, b: int) -> int:
        return int.from_bytes(data[a:b], "little")

    return f"{le(0, 2):02d}.{le(2, 4):02d}-{le(4, 8)}-{le(8, 12):09d}-{le(12, 16):09d}"
