"""ESC/POS interpreter and renderer: the bytes a printer received → a PNG of the slip.

What a 203-dpi thermal head would put on paper: 1-bit dots, a 12x24 font for
single-byte characters and 24x24 for double-byte (FS & … FS .) GB18030
characters, GS ! / ESC ! size multipliers, ESC E bold, ESC a alignment, native
QR (GS ( k, drawn with the ``qrcode`` package so it scans), GS v 0 raster
images, feeds, and a dashed line with scissors where GS V cuts. Unknown
commands are skipped by their framed length (tokens.py). It must never crash
or hang on garbage: sizes are clipped to the paper and the slip's length is
capped.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import qrcode
from PIL import Image, ImageChops, ImageDraw, ImageFont, features

from peripherals.printer.tokens import Token, tokenize

DOTS = {58: 384, 80: 576}
DEFAULT_LINE_SPACING = 30  # dots; ESC 2
MAX_HEIGHT = 20_000  # dots (≈2.5 m of paper): where a garbage job stops growing
TOP_MARGIN = 16
_QR_EC = {
    48: qrcode.constants.ERROR_CORRECT_L,
    49: qrcode.constants.ERROR_CORRECT_M,
    50: qrcode.constants.ERROR_CORRECT_Q,
    51: qrcode.constants.ERROR_CORRECT_H,
}
_RAQM = features.check("raqm")


@functools.cache
def _font(bold: bool, px: int) -> ImageFont.FreeTypeFont:
    from kiosk.fonts import sc_font

    engine = ImageFont.Layout.RAQM if _RAQM else ImageFont.Layout.BASIC
    return ImageFont.truetype(str(sc_font("Bold" if bold else "Regular")), px, layout_engine=engine)


@functools.lru_cache(maxsize=8192)
def glyph(ch: str, bold: bool, w: int, h: int, double: bool) -> Image.Image:
    """One character cell as 1-bit-looking "L" (0 ink, 255 paper).

    Cells are 12 (single-byte) or 24 (double-byte) dots wide times ``w``, 24
    dots high times ``h``, plus room below for descenders. Latin letters use
    the font's half-width forms (OpenType ``hwid``) so they fit 12 dots.
    """
    base_w = 24 if double else 12
    size = 24 * h
    tall = size + 6 * h
    font = _font(bold, size)
    feats = ["hwid"] if _RAQM and not double else None
    cell = base_w * h  # draw at height scale, then stretch to the width multiplier
    advance = max(1, int(round(font.getlength(ch, features=feats))))
    canvas = Image.new("L", (max(cell, advance), tall), 255)
    x = (cell - advance) // 2 if advance <= cell else 0
    ImageDraw.Draw(canvas).text((x, 21 * h), ch, font=font, fill=0, anchor="ls", features=feats)
    if advance > cell:
        canvas = canvas.resize((cell, tall), Image.Resampling.BILINEAR)
    if w != h:
        canvas = canvas.resize((base_w * w, tall), Image.Resampling.BILINEAR)
    return canvas.point(lambda v: 0 if v < 150 else 255)


@dataclass
class _Char:
    ch: str
    bold: bool
    w: int
    h: int
    double: bool

    @property
    def width(self) -> int:
        return (24 if self.double else 12) * self.w


@dataclass
class Renderer:
    """Feed it a job's bytes, then take :meth:`image`."""

    dots: int = 576
    chinese_default: bool = False  # printers sold in China often start in FS & mode
    bold: bool = False
    w: int = 1
    h: int = 1
    align: int = 0
    chinese: bool = False
    spacing: int = DEFAULT_LINE_SPACING
    qr_size: int = 3
    qr_ec: int = 48
    qr_data: bytes = b""
    line: list[_Char] = field(default_factory=list)
    line_align: int = 0
    strips: list[tuple[int, Image.Image | None]] = field(default_factory=list)
    height: int = 0
    truncated: bool = False

    def __post_init__(self) -> None:
        self.chinese = self.chinese_default

    # -- state ---------------------------------------------------------------
    def reset(self) -> None:  # ESC @: modes back to power-on, paper stays
        self.bold, self.w, self.h, self.align = False, 1, 1, 0
        self.chinese, self.spacing = self.chinese_default, DEFAULT_LINE_SPACING

    def feed(self, data: bytes) -> None:
        for token in tokenize(data):
            if self.truncated:
                return
            self._token(token)

    def _token(self, t: Token) -> None:
        a = t.args
        n = a[-1] if a else 0
        match t.name:
            case "text":
                self._text(t.raw)
            case "LF":
                self._flush()
            case "ctl" if t.raw == b"\t":
                self._text(b" " * (8 - (len(self.line) % 8)))
            case "ESC @":
                self.reset()
            case "ESC E" | "ESC G":
                self.bold = bool(n & 1)
            case "ESC a":
                self.align = n % 48 if n % 48 < 3 else 0
            case "ESC !":
                self.bold, self.h, self.w = (
                    bool(n & 0x08),
                    2 if n & 0x10 else 1,
                    2 if n & 0x20 else 1,
                )
            case "GS !":
                self.w, self.h = (n >> 4 & 7) + 1, (n & 7) + 1
            case "ESC d":
                if self.line:
                    self._flush()
                    n -= 1
                self._blank(max(0, n) * self.spacing)
            case "ESC J":
                self._flush(advance=n)
            case "ESC 2":
                self.spacing = DEFAULT_LINE_SPACING
            case "ESC 3":
                self.spacing = n
            case "FS &":
                self.chinese = True
            case "FS .":
                self.chinese = False
            case "GS V":
                self._flush(advance=0)
                if len(a) == 2:  # "feed n and cut" forms
                    self._blank(a[1])
                self._cut()
            case "GS ( k":
                self._qr(a[2:])
            case "GS v 0":
                self._raster(a)
            case _:
                pass  # DLE EOT, ESC t, unknown commands: nothing on paper

    # -- text ----------------------------------------------------------------
    def _text(self, raw: bytes) -> None:
        if self.chinese:
            chars = [(c, not c.isascii()) for c in raw.decode("gb18030", errors="replace")]
        else:
            chars = [(c, False) for c in raw.decode("cp437")]
        for c, double in chars:
            if c == "\x7f":
                continue
            char = _Char(c, self.bold, self.w, self.h, double)
            if sum(x.width for x in self.line) + char.width > self.dots:
                self._flush()  # the printer wraps at the paper edge
            if not self.line:
                self.line_align = self.align
            self.line.append(char)

    def _flush(self, advance: int | None = None) -> None:
        """Print the line buffer and feed (line spacing, or ``advance`` dots)."""
        if not self.line:
            self._blank(self.spacing if advance is None else advance)
            return
        char_h = 24 * max(c.h for c in self.line)
        width = sum(c.width for c in self.line)
        img = Image.new("L", (self.dots, char_h + 6 * max(c.h for c in self.line)), 255)
        x = (0, (self.dots - width) // 2, self.dots - width)[self.line_align]
        for c in self.line:
            g = glyph(c.ch, c.bold, c.w, c.h, c.double)
            img.paste(g.crop((0, 0, min(g.width, self.dots - x), g.height)), (x, char_h - 24 * c.h))
            x += c.width
        self.line = []
        self._strip(max(char_h, self.spacing) if advance is None else max(char_h, advance), img)

    # -- paper ---------------------------------------------------------------
    def _strip(self, advance: int, img: Image.Image | None) -> None:
        if self.height + advance > MAX_HEIGHT:
            self.truncated = True
            return
        self.strips.append((advance, img))
        self.height += advance

    def _blank(self, dots: int) -> None:
        if dots > 0:
            self._strip(dots, None)

    def _block(self, bits: np.ndarray) -> None:
        """A 2-D ink array (True = black) placed at the current alignment."""
        bits = bits[:, : self.dots]
        if bits.size == 0:
            return
        img = Image.new("L", (self.dots, bits.shape[0]), 255)
        x = (0, (self.dots - bits.shape[1]) // 2, self.dots - bits.shape[1])[self.align]
        img.paste(Image.fromarray(np.where(bits, 0, 255).astype(np.uint8), "L"), (x, 0))
        self._strip(bits.shape[0], img)

    def _cut(self) -> None:
        img = Image.new("L", (self.dots, 24), 255)
        d = ImageDraw.Draw(img)
        for x in range(32, self.dots, 14):
            d.line((x, 12, x + 7, 12), fill=0, width=2)
        # scissors: two finger loops and crossed blades pointing along the line
        d.ellipse((2, 2, 10, 10), outline=0, width=2)
        d.ellipse((2, 14, 10, 22), outline=0, width=2)
        d.line((9, 9, 26, 16), fill=0, width=2)
        d.line((9, 15, 26, 8), fill=0, width=2)
        self._strip(24, img)

    def _qr(self, payload: bytes) -> None:
        if len(payload) < 3 or payload[0] != 0x31:  # cn 49 = QR; others (PDF417…) skipped
            return
        fn, rest = payload[1], payload[2:]
        if fn == 0x43:
            self.qr_size = min(max(rest[0], 1), 16)
        elif fn == 0x45:
            self.qr_ec = rest[0] if rest[0] in _QR_EC else 48
        elif fn == 0x50:
            self.qr_data = rest[1:]
        elif fn == 0x51 and 0 < len(self.qr_data) <= 7089:  # 7089: QR's capacity
            if self.line:
                self._flush(advance=0)
            code = qrcode.QRCode(error_correction=_QR_EC[self.qr_ec], border=0)
            try:
                code.add_data(self.qr_data)
                code.make(fit=True)
            except (ValueError, qrcode.exceptions.DataOverflowError):
                return  # too much data for a QR symbol: a printer prints nothing
            m = np.array(code.get_matrix(), dtype=bool)
            self._block(np.kron(m, np.ones((self.qr_size, self.qr_size), dtype=bool)))

    def _raster(self, a: bytes) -> None:
        m, x, y = a[1], a[2] | a[3] << 8, a[4] | a[5] << 8
        if x == 0 or y == 0:
            return
        rows = min(y, max(0, MAX_HEIGHT - self.height))
        cols = min(x, (self.dots + 7) // 8)
        data = np.frombuffer(a[6 : 6 + x * rows], dtype=np.uint8).reshape(rows, x)[:, :cols]
        bits = np.unpackbits(data, axis=1).astype(bool)
        if m & 1:
            bits = np.repeat(bits, 2, axis=1)
        if m & 2:
            bits = np.repeat(bits, 2, axis=0)
        if self.line:
            self._flush(advance=0)
        self._block(bits)

    # -- output --------------------------------------------------------------
    def image(self) -> Image.Image:
        """The slip so far (a pending line is printed, as at a cut)."""
        if self.line:
            self._flush()
        total = (
            TOP_MARGIN
            + self.height
            + max(0, max((i.height - a for a, i in self.strips if i), default=0))
        )
        page = Image.new("L", (self.dots, max(total, TOP_MARGIN + 1)), 255)
        y = TOP_MARGIN
        for advance, img in self.strips:
            if img is not None:
                box = (0, y, self.dots, y + img.height)
                page.paste(ImageChops.darker(page.crop(box), img), box)
            y += advance
        return page


def render(data: bytes, paper_mm: int = 80, *, chinese_default: bool = False) -> Image.Image:
    """The slip the bytes would print, as a white paper-width grayscale image."""
    r = Renderer(dots=DOTS.get(paper_mm, 576), chinese_default=chinese_default)
    r.feed(data)
    return r.image()


def render_png(data: bytes, path: str | Path, paper_mm: int = 80, **kw: bool) -> Path:
    path = Path(path)
    render(data, paper_mm, **kw).save(path)
    return path
