"""Receipt (data) → ESC/POS bytes for one paper width. Pure: no I/O.

python-escpos builds the commands it gets right (ESC @, ESC a, ESC E, GS !,
GS ( k, raster QR, cut) into its in-memory ``Dummy`` printer. Text is ours:
its ``text()`` sends Chinese as raw GB18030 without FS & and turns Chinese
punctuation alone (，。￥) into ``?`` (devices.md §4). We send ASCII in the
single-byte path and every other run as ``FS & <GB18030> FS .``, which a
Chinese printer prints from its 24-dot font whatever its default mode.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from dataclasses import dataclass

import qrcode

from kiosk.receipt import Align, Feed, Pair, Qr, Receipt, Row, Rule, Text

FS_CHINESE_ON, FS_CHINESE_OFF = b"\x1c\x26", b"\x1c\x2e"
QR_QUIET_MODULES = 4  # white modules a scanner wants around the symbol


@dataclass(frozen=True)
class Paper:
    mm: int
    dots: int  # printable width at 203 dpi
    columns: int  # font A (12x24) characters per line


PAPERS = {58: Paper(58, 384, 32), 80: Paper(80, 576, 48)}


def paper(mm: int) -> Paper:
    """:raises ValueError: a width we have no profile for."""
    try:
        return PAPERS[mm]
    except KeyError:
        raise ValueError(f"paper width {mm} mm is not supported (58 or 80)") from None


def char_columns(ch: str) -> int:
    """Columns a character takes on the printer.

    ASCII is 12 dots wide (one column). Everything else goes through the
    double-byte path and comes out of the 24-dot font: East Asian wide and
    fullwidth characters, and also ambiguous or narrow ones such as · — “ ”
    (``unicodedata.east_asian_width`` "A"/"N"), which a GB18030 printer still
    prints full width. So: 2 columns for every non-ASCII character.
    """
    return 1 if ch.isascii() else 2


def columns(text: str) -> int:
    return sum(char_columns(c) for c in text)


def clean(text: str) -> str:
    """Receipt text is data: control characters (an ESC in a name, say) must
    never reach the printer as commands. Newlines survive as line breaks."""
    return "".join(c if c == "\n" or unicodedata.category(c)[0] != "C" else " " for c in text)


_NO_LINE_START = set("，。、：；！？）》」』】’”,.;:!?)%")


def _break_at(line: str, nxt: str, width: int) -> int:
    """Where to end ``line`` when ``nxt`` no longer fits after it."""
    if nxt.isascii() and nxt.isalnum() and line[-1:].isascii() and line[-1:].isalnum():
        space = line.rfind(" ")
        if space > 0 and line[:space].strip():
            return space + 1  # keep an English word or a number whole
    if nxt in _NO_LINE_START and len(line) > 1 and columns(line[-1] + nxt) <= width:
        return len(line) - 1  # closing punctuation takes the last character along
    return len(line)


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` columns (CJK counts 2); at least one line."""
    width = max(width, 2)
    lines: list[str] = []
    for para in clean(text).split("\n"):
        start = len(lines)
        line, used = "", 0
        for ch in para:
            w = char_columns(ch)
            if used + w > width and line:
                cut = _break_at(line, ch, width)
                lines.append(line[:cut].rstrip(" "))
                line = line[cut:].lstrip(" ")
                used = columns(line)
                if not line and ch == " ":
                    continue  # a break eats the space it falls on
            line += ch
            used += w
        lines.append(line.rstrip(" "))
        if len(lines) - start >= 2:  # the paragraph's own lines only
            _no_widow(lines)
    return lines


def _no_widow(lines: list[str]) -> None:
    """A paragraph's last line of one Chinese character (and the marks after it), as
    "…服务中心领" / "取", takes the character before it along: a lone character reads as
    cut off (the screens' kiosk.linebreak does the same)."""
    if len(lines) < 2:
        return
    last, before = lines[-1], lines[-2]
    ink = last.rstrip("".join(_NO_LINE_START))
    if len(ink) == 1 and char_columns(ink) == 2 and len(before) > 2 and char_columns(before[-1]) == 2 \
            and before[-1] not in _NO_LINE_START:  # fmt: skip
        lines[-2:] = [before[:-1], before[-1] + last]


_MARKER = re.compile(r"^(?:[·•]\s*|-\s+|\d{1,2}(?:\.\s+|、))")  # "· ", "- ", "2. ", "2、"


def paragraph_lines(text: str, width: int) -> list[str]:
    """``wrap``, with the lines of a list item ("· name", "2. name") after its first
    indented under its words, not under the marker: the next item's marker stays the
    one thing at the left edge."""
    marker = _MARKER.match(clean(text))
    if marker is None or "\n" in text:
        return wrap(text, width)
    lead = columns(marker.group())
    if width - lead < width // 2:
        return wrap(text, width)
    body = wrap(clean(text)[marker.end():], width - lead)
    return [marker.group() + body[0]] + [" " * lead + line for line in body[1:]]


def encode(text: str) -> bytes:
    """One line's bytes: ASCII single-byte, other runs FS & GB18030 FS ."""
    out, run, ascii_run = [], [], True
    for ch in clean(text).replace("\n", " "):
        if run and ch.isascii() != ascii_run:
            out.append(_run_bytes("".join(run), ascii_run))
            run = []
        ascii_run = ch.isascii()
        run.append(ch)
    if run:
        out.append(_run_bytes("".join(run), ascii_run))
    return b"".join(out)


def _run_bytes(run: str, is_ascii: bool) -> bytes:
    if is_ascii:
        return run.encode("ascii")
    return FS_CHINESE_ON + run.encode("gb18030", errors="replace") + FS_CHINESE_OFF


def pair_lines(label: str, value: str, width: int) -> list[str]:
    """Label left, value right; wrapped (value lines right-aligned) when long."""
    label, value = clean(label).replace("\n", " "), clean(value).replace("\n", " ")
    lw, vw = columns(label), columns(value)
    if lw + 2 + vw <= width:
        return [label + " " * (width - lw - vw) + value]
    room = width - lw - 2
    if room >= width // 2:  # value wraps in its own column beside the label
        vals = wrap(value, room)
        heads = [label] + [""] * (len(vals) - 1)
        return [
            h + " " * (width - columns(h) - columns(v)) + v
            for h, v in zip(heads, vals, strict=True)
        ]
    vals = wrap(value, width)
    return wrap(label, width) + [" " * (width - columns(v)) + v for v in vals]


def column_widths(widths: tuple[int, ...], width: int) -> list[int]:
    """``widths`` (given for 80 mm paper) scaled to ``width`` columns in all, the
    columns left over going to the largest remainders."""
    total = sum(max(w, 0) for w in widths)
    exact = [max(w, 0) * width / total if total else width / len(widths) for w in widths]
    out = [int(x) for x in exact]
    for i in sorted(range(len(out)), key=lambda i: out[i] - exact[i])[: width - sum(out)]:
        out[i] += 1
    return out


def row_lines(cells: tuple[str, ...], widths: tuple[int, ...], width: int) -> list[str]:
    """A table row on one line: the first cell left in its column, the others right in
    theirs, each at least one space from the one before. Cells that do not fit their
    columns (a narrower paper, a long value) are wrapped as text, none of them cut."""
    texts = [clean(c).replace("\n", " ") for c in cells]
    if not texts:
        return [""]
    shares = widths if len(widths) == len(texts) else (1,) * len(texts)
    line = ""
    for i, (text, w) in enumerate(zip(texts, column_widths(shares, width), strict=True)):
        used = columns(text)
        if used > (w if i == 0 else w - 1):
            return wrap("  ".join(t for t in texts if t), width)
        line += text + " " * (w - used) if i == 0 else " " * (w - used) + text
    return [line.rstrip(" ")]


def qr_module_size(data: str, wanted: int, dots: int) -> int:
    """The largest module size ≤ ``wanted`` whose symbol (with quiet zone) fits."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(data)
    version = code.best_fit()  # the symbol size only; masks are the printer's job
    modules = version * 4 + 17 + 2  # python-escpos' raster adds a 1-module border
    return max(1, min(wanted, 16, dots // modules))


_PROFILES: dict[int, dict] = {}


def _dummy(p: Paper):
    # Imported here: python-escpos creates a temp directory when imported.
    from escpos.printer import Dummy

    printer = Dummy()
    if p.mm not in _PROFILES:  # the profile dict is class-wide: copy, never mutate it
        data = copy.deepcopy(printer.profile.profile_data)
        data["media"] = {"dpi": 203, "width": {"mm": p.mm, "pixels": p.dots}}
        _PROFILES[p.mm] = data
    printer.profile.profile_data = _PROFILES[p.mm]
    return printer


def layout(receipt: Receipt, paper_mm: int = 80, *, native_qr: bool = True) -> bytes:
    """The whole job: init, every block, feed and partial cut.

    :raises ValueError: unsupported paper width.
    """
    from escpos.constants import QR_ECLEVEL_M

    p = paper(paper_mm)
    out = _dummy(p)
    out.hw("INIT")
    for block in receipt.blocks:
        if isinstance(block, Text):
            size = min(max(int(block.size), 1), 8)
            out.set(
                align=Align(block.align).value,
                bold=block.bold,
                custom_size=True,
                width=size,
                height=size,
            )
            for line in paragraph_lines(block.text, p.columns // size):
                out._raw(encode(line) + b"\n")
        elif isinstance(block, Pair | Rule):
            out.set(align="left", bold=False, custom_size=True, width=1, height=1)
            if isinstance(block, Pair):
                lines = pair_lines(block.label, block.value, p.columns)
            else:
                ch = clean(block.char)[:1] or "-"
                lines = [ch * (p.columns // char_columns(ch))]
            for line in lines:
                out._raw(encode(line) + b"\n")
        elif isinstance(block, Row):
            out.set(align="left", bold=block.bold, custom_size=True, width=1, height=1)
            for line in row_lines(block.cells, block.widths, p.columns):
                out._raw(encode(line) + b"\n")
        elif isinstance(block, Feed):
            out.print_and_feed(min(max(int(block.lines), 1), 255))
        elif isinstance(block, Qr):
            size = qr_module_size(block.data, int(block.module_size), p.dots)
            quiet = bytes((0x1B, 0x4A, min(255, QR_QUIET_MODULES * size)))  # ESC J: feed n dots
            out.set(align="center", bold=False, custom_size=True, width=1, height=1)
            out._raw(quiet)
            if native_qr:
                out.qr(block.data, ec=QR_ECLEVEL_M, size=size, native=True)
            else:
                out.qr(block.data, ec=QR_ECLEVEL_M, size=size, native=False, center=True)
            out._raw(quiet)
            for line in wrap(block.caption, p.columns) if block.caption else []:
                out._raw(encode(line) + b"\n")
    out.set(align="left", bold=False, custom_size=True, width=1, height=1)
    out.cut(mode="PART")  # ESC d 6 (clears the tear bar), then GS V 1
    return out.output
