"""Finding personal data where none may be: in a diagnostics bundle, in a log line.

``scan_bundle(zip)`` reports every resident ID number (18 characters whose check
digit and birth date are valid, GB 11643 via python-stdnum), mobile phone number,
given name (the caller passes the names it knows of, e.g. the sample cards) and
photo (an image file, image bytes, or a base64-encoded image) in any member.
``scrub(text)`` replaces ID numbers (valid or not), other long digit runs (bank and card
numbers) and phone numbers; it is the last line of defence for logs (``ScrubFilter`` on every
handler, tracebacks included: ``scrub_logs``), and the bundle builder runs the scan on its own
result before writing it.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass

from kiosk.validation import id_number_valid

ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
# what a log never needs whole: an ID number typed wrong (a check digit that fails), a bank
# account or card number (16–19 digits), an old 15-digit ID number
LONG_NUMBER_RE = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[Xx]|\d{15,19})(?![0-9A-Za-z])")
PHONE_RE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".wlt", ".tif", ".tiff")
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"RIFF")
BASE64_IMAGE = re.compile(rb"/9j/[A-Za-z0-9+/]{40}|iVBORw0KGgo[A-Za-z0-9+/]{30}")
REMOVED = "[已移除 removed]"


@dataclass(frozen=True)
class Finding:
    member: str
    kind: str  # id_number | phone | name | photo
    where: str  # a masked excerpt, or a byte offset: never the datum itself

    def __str__(self) -> str:
        return f"{self.member}: {self.kind} at {self.where}"


def is_id_number(text: str) -> bool:
    return id_number_valid(text.upper())


def _mask(value: str) -> str:
    return (
        value[:3] + "*" * max(0, len(value) - 5) + value[-2:]
        if len(value) > 5
        else "*" * len(value)
    )


def scan_text(member: str, text: str, names: Iterable[str] = ()) -> list[Finding]:
    found = [Finding(member, "id_number", _mask(m.group()))
             for m in ID_RE.finditer(text) if is_id_number(m.group())]  # fmt: skip
    found += [Finding(member, "phone", _mask(m.group())) for m in PHONE_RE.finditer(text)]
    for name in names:
        if len(name) >= 2 and name in text:
            found.append(Finding(member, "name", f"offset {text.index(name)}"))
    return found


def scan_bytes(member: str, data: bytes, names: Iterable[str] = ()) -> list[Finding]:
    found: list[Finding] = []
    if member.lower().endswith(IMAGE_EXTENSIONS) or data.startswith(IMAGE_MAGIC):
        found.append(Finding(member, "photo", "the whole file"))
    else:
        for magic in IMAGE_MAGIC[:4]:
            at = data.find(magic)
            if at >= 0:
                found.append(Finding(member, "photo", f"byte {at}"))
    m = BASE64_IMAGE.search(data)
    if m:
        found.append(Finding(member, "photo", f"base64 at byte {m.start()}"))
    return found + scan_text(member, data.decode("utf-8", errors="replace"), names)


MAX_UNPACKED = 64 * 1024 * 1024  # bytes a bundle may unpack to, nested zips included


class BundleTooLarge(ValueError):
    """A zip that unpacks to more than ``MAX_UNPACKED`` (a zip bomb), or nests zips deeper
    than one level: refused before it is unpacked."""


def scan_bundle(bundle: bytes | str, names: Iterable[str] = (), *,
                _budget: list[int] | None = None, _depth: int = 0) -> list[Finding]:  # fmt: skip
    """Every personal datum found in the zip ``bundle`` (bytes, or a path), a zip inside it
    included (one level).

    :raises zipfile.BadZipFile: not a zip.
    :raises BundleTooLarge: it would unpack to more than ``MAX_UNPACKED``, or nests deeper.
    """
    names = tuple(names)
    budget = [MAX_UNPACKED] if _budget is None else _budget  # what is left, shared with nested zips
    source = io.BytesIO(bundle) if isinstance(bundle, bytes) else bundle
    found: list[Finding] = []
    with zipfile.ZipFile(source) as zf:
        members = [info for info in zf.infolist() if not info.is_dir()]
        # the sizes the zip declares: zipfile never unpacks a member past its own
        budget[0] -= sum(info.file_size for info in members)
        if budget[0] < 0:
            raise BundleTooLarge(f"unpacks to more than {MAX_UNPACKED // 2**20} MB")
        for info in members:
            data = zf.read(info)
            if info.filename.lower().endswith(".zip"):
                if _depth >= 1:
                    raise BundleTooLarge("a zip in a zip in a zip")
                found += [Finding(f"{info.filename}/{f.member}", f.kind, f.where)
                          for f in scan_bundle(data, names, _budget=budget, _depth=_depth + 1)]  # fmt: skip
                continue
            found += scan_bytes(info.filename, data, names)
    return found


def scrub(text: str) -> str:
    """``text`` with every ID number (valid or not), run of 15–19 digits and mobile number
    replaced."""
    return PHONE_RE.sub(REMOVED, LONG_NUMBER_RE.sub(REMOVED, text))


class ScrubFilter(logging.Filter):
    """``scrub`` over a record's final message (after %-formatting), its traceback and its
    stack: an exception's text (a driver's error quoting a value) is in the traceback."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed call: logging reports it, not the caller
            message = str(record.msg)
            record.args = None
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:  # as a Formatter would, once per record
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


def scrub_logs(logger: logging.Logger | None = None) -> None:
    """Every handler of ``logger`` (the root logger) scrubs what it writes; idempotent.
    On each handler, not the logger: records of child loggers reach handlers directly."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, ScrubFilter) for f in handler.filters):
            handler.addFilter(ScrubFilter())
