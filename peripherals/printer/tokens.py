"""ESC/POS framing: split a byte stream into commands, nothing more.

Pure and incremental: ``next_token`` answers ``None`` when the buffer ends in
the middle of a command, so the emulator can wait for more bytes while the
renderer, which has the whole job, stops there. Knowing every command's
length is what keeps a DLE EOT hidden inside raster or QR data from being
mistaken for a status query, and what lets unknown commands be skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
LF, CR, HT, EOT = 0x0A, 0x0D, 0x09, 0x04

# Fixed parameter counts after the command byte (ESC x / GS x / FS x).
_ESC_FIXED = {
    b"@": 0, b"E": 1, b"a": 1, b"!": 1, b"d": 1, b"J": 1, b"2": 0, b"3": 1,
    b"-": 1, b"G": 1, b"M": 1, b"t": 1, b"R": 1, b"V": 1, b"{": 1, b"p": 3,
    b"$": 2, b"\\": 2, b"U": 1, b" ": 1, b"%": 1, b"B": 2, b"i": 0, b"m": 0,
    b"L": 0, b"S": 0, b"T": 1, b"W": 8, b"r": 1, b"=": 1, b"e": 1, b"K": 1,
    b"?": 1, b"C": 1, b"c": 2,
}  # fmt: skip
_GS_FIXED = {
    b"!": 1, b"B": 1, b"H": 1, b"h": 1, b"w": 1, b"f": 1, b"L": 2, b"W": 2,
    b"b": 1, b"a": 1, b"r": 1, b"I": 1, b"/": 1, b"P": 2, b"$": 2, b"\\": 2,
    b"^": 3, b":": 0, b"T": 1, b"g": 2, b"j": 1, b"z": 2, b"E": 1, b"C": 2,
}  # fmt: skip
_FS_FIXED = {
    b"&": 0, b".": 0, b"!": 1, b"-": 1, b"W": 1, b"C": 1, b"S": 2, b"p": 2,
    b"?": 2, b"2": 74, b"r": 1, b"s": 1, b"g": 1, b"y": 2,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Token:
    """One command or text run. ``name`` is e.g. ``"ESC a"``, ``"GS v 0"``,
    ``"LF"``, ``"text"``, ``"ctl"`` (a lone control byte) or ``"truncated"``."""

    name: str
    raw: bytes
    args: bytes = b""


def _fixed(buf: bytes, pos: int, name: str, head: int, n: int) -> tuple[Token, int] | None:
    end = pos + head + n
    if end > len(buf):
        return None
    return Token(name, buf[pos:end], buf[pos + head : end]), end


def _lenprefixed(
    buf: bytes, pos: int, name: str, head: int, width: int
) -> tuple[Token, int] | None:
    """Commands whose ``width`` length bytes (little-endian) follow ``head`` bytes."""
    if pos + head + width > len(buf):
        return None
    n = int.from_bytes(buf[pos + head : pos + head + width], "little")
    return _fixed(buf, pos, name, head, width + n)


def _esc(buf: bytes, pos: int) -> tuple[Token, int] | None:
    if pos + 1 >= len(buf):
        return None
    c = buf[pos + 1 : pos + 2]
    name = "ESC " + c.decode("latin-1")
    if c in _ESC_FIXED:
        return _fixed(buf, pos, name, 2, _ESC_FIXED[c])
    if c == b"*":  # bit image: m nL nH, then n columns of 1 or 3 bytes
        if pos + 5 > len(buf):
            return None
        m, n = buf[pos + 2], buf[pos + 3] | buf[pos + 4] << 8
        return _fixed(buf, pos, name, 2, 3 + n * (3 if m in (32, 33) else 1))
    if c == b"D":  # tab stops, NUL-terminated (at most 32)
        end = buf.find(b"\x00", pos + 2, pos + 2 + 33)
        if end < 0:
            return None if len(buf) < pos + 2 + 33 else _fixed(buf, pos, name, 2, 0)
        return _fixed(buf, pos, name, 2, end - pos - 1)
    return _fixed(buf, pos, name, 2, 0)  # unknown: skip ESC and its letter


def _gs(buf: bytes, pos: int) -> tuple[Token, int] | None:
    if pos + 1 >= len(buf):
        return None
    c = buf[pos + 1 : pos + 2]
    name = "GS " + c.decode("latin-1")
    if c in _GS_FIXED:
        return _fixed(buf, pos, name, 2, _GS_FIXED[c])
    if c == b"V":  # cut: m, and n for the "feed and cut" forms
        if pos + 2 >= len(buf):
            return None
        return _fixed(buf, pos, name, 2, 2 if buf[pos + 2] in (65, 66, 97, 98, 103, 104) else 1)
    if c == b"v":  # GS v 0 m xL xH yL yH d1..dk, k = x * y
        if pos + 8 > len(buf):
            return None
        x, y = buf[pos + 4] | buf[pos + 5] << 8, buf[pos + 6] | buf[pos + 7] << 8
        return _fixed(buf, pos, "GS v 0", 2, 6 + x * y)
    if c == b"(":  # GS ( X pL pH ...: the whole family is length-prefixed
        if pos + 2 >= len(buf):
            return None
        return _lenprefixed(buf, pos, "GS ( " + chr(buf[pos + 2]), 3, 2)
    if c == b"8":  # GS 8 X p1..p4 ...: 4-byte length
        if pos + 2 >= len(buf):
            return None
        return _lenprefixed(buf, pos, "GS 8 " + chr(buf[pos + 2]), 3, 4)
    if c == b"*":  # downloaded bit image: x y, x*y*8 bytes
        if pos + 4 > len(buf):
            return None
        return _fixed(buf, pos, name, 2, 2 + buf[pos + 2] * buf[pos + 3] * 8)
    if c == b"k":  # barcode: m<=6 NUL-terminated data, else length byte
        if pos + 3 > len(buf):
            return None
        if buf[pos + 2] <= 6:
            end = buf.find(b"\x00", pos + 3, pos + 3 + 256)
            if end < 0:
                return None if len(buf) < pos + 3 + 256 else _fixed(buf, pos, name, 2, 1)
            return _fixed(buf, pos, name, 2, end - pos - 1)
        if pos + 4 > len(buf):
            return None
        return _fixed(buf, pos, name, 2, 2 + buf[pos + 3])
    return _fixed(buf, pos, name, 2, 0)


def _fs(buf: bytes, pos: int) -> tuple[Token, int] | None:
    if pos + 1 >= len(buf):
        return None
    c = buf[pos + 1 : pos + 2]
    name = "FS " + c.decode("latin-1")
    if c in _FS_FIXED:
        return _fixed(buf, pos, name, 2, _FS_FIXED[c])
    if c == b"(":
        if pos + 2 >= len(buf):
            return None
        return _lenprefixed(buf, pos, "FS ( " + chr(buf[pos + 2]), 3, 2)
    return _fixed(buf, pos, name, 2, 0)


def _dle(buf: bytes, pos: int) -> tuple[Token, int] | None:
    if pos + 1 >= len(buf):
        return None
    c = buf[pos + 1]
    if c == EOT:
        return _fixed(buf, pos, "DLE EOT", 2, 1)
    if c == 0x05:
        return _fixed(buf, pos, "DLE ENQ", 2, 1)
    if c == 0x14:
        return _fixed(buf, pos, "DLE DC4", 2, 3)
    return Token("ctl", buf[pos : pos + 1]), pos + 1  # a lone DLE: drop one byte


def next_token(buf: bytes, pos: int = 0) -> tuple[Token, int] | None:
    """The token starting at ``pos`` and the position after it; ``None`` when
    ``buf`` ends inside a command (more bytes needed). ``pos < len(buf)``."""
    b = buf[pos]
    if b >= 0x20:
        end = pos + 1
        n = len(buf)
        while end < n and buf[end] >= 0x20:
            end += 1
        return Token("text", buf[pos:end]), end
    if b == ESC:
        return _esc(buf, pos)
    if b == GS:
        return _gs(buf, pos)
    if b == FS:
        return _fs(buf, pos)
    if b == DLE:
        return _dle(buf, pos)
    if b == LF:
        return Token("LF", buf[pos : pos + 1]), pos + 1
    return Token("ctl", buf[pos : pos + 1]), pos + 1


def tokenize(buf: bytes) -> Iterator[Token]:
    """Every token of a complete job; a command cut short at the end comes out
    as one ``"truncated"`` token (a printer would wait; a renderer stops)."""
    pos = 0
    while pos < len(buf):
        got = next_token(buf, pos)
        if got is None:
            yield Token("truncated", buf[pos:])
            return
        token, pos = got
        yield token
